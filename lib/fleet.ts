/**
 * The fleet: every agent prj launched, and what it is doing now: `working`,
 * `waiting for input`, `idle`, `exited (code)` or `gone`. Interactive agents are read from
 * their tmux pane with the rules of their kind (lib/agent_kinds.ts) and an idle debounce;
 * headless agents from their exit code and stream-json result. Changes are recorded with
 * their times, and the configured `notify` command runs once per change.
 */
import { gitMaybe } from "./git.ts";
import type { Project } from "./project.ts";
import { processAlive, processStartTime, type Store } from "./store.ts";
import { agentKind, type AgentResult } from "./agent_kinds.ts";
import { serverArgs } from "./tmux.ts";
import { capture } from "./process.ts";

/** An agent's state. */
export type AgentState = "working" | "waiting for input" | "idle" | "exited" | "gone";

/** A launch to record. */
export interface LaunchInfo {
  runId: string | null;
  worktree: string | null;
  worktreePath: string;
  branch: string | null;
  session: string | null;
  kind: string;
  model: string | null;
  agentSessionId: string | null;
  headless: boolean;
  exitFile: string | null;
}

function now(): string {
  return new Date().toISOString();
}

/** Records a launch (older launches in the same session or headless worktree are superseded). */
export function recordLaunch(store: Store, launch: LaunchInfo): number {
  return store.transaction(() => {
    if (launch.session) {
      store.db.prepare("UPDATE agent_launches SET superseded = 1 WHERE session = ? AND superseded = 0").run(
        launch.session,
      );
    } else {
      store.db.prepare(
        "UPDATE agent_launches SET superseded = 1 WHERE worktree_path = ? AND session IS NULL AND superseded = 0",
      )
        .run(launch.worktreePath);
    }
    const t = now();
    const result = store.db.prepare(
      `INSERT INTO agent_launches (run_id, worktree, worktree_path, branch, session, kind, model, agent_session_id, headless,
         pid, pid_start, launched_at, exit_file, state, state_since, last_change_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'working', ?, ?)`,
    ).run(
      launch.runId,
      launch.worktree,
      launch.worktreePath,
      launch.branch,
      launch.session,
      launch.kind,
      launch.model,
      launch.agentSessionId,
      launch.headless ? 1 : 0,
      launch.headless ? Deno.pid : null,
      launch.headless ? processStartTime(Deno.pid) ?? null : null,
      t,
      launch.exitFile,
      t,
      t,
    );
    const id = Number(result.lastInsertRowid);
    store.db.prepare(
      "INSERT INTO agent_state_events (launch_id, at, state, detail) VALUES (?, ?, 'working', 'launched')",
    ).run(id, t);
    return id;
  });
}

/** Records how a headless agent ended. */
export function finishLaunch(store: Store, id: number, exitCode: number, result: AgentResult | undefined): void {
  store.transaction(() => {
    const t = now();
    store.db.prepare(
      "UPDATE agent_launches SET exit_code = ?, result = ?, state = 'exited', state_since = ? WHERE id = ?",
    )
      .run(exitCode, result ? JSON.stringify(result) : null, t, id);
    store.db.prepare("INSERT INTO agent_state_events (launch_id, at, state, detail) VALUES (?, ?, 'exited', ?)")
      .run(id, t, `code ${exitCode}${result ? `, ${result.subtype}, ${result.num_turns ?? "?"} turns` : ""}`);
  });
}

/** Marks the launches in a removed worktree as superseded (they leave the fleet). */
export function forgetWorktree(store: Store, worktreePath: string): void {
  store.db.prepare("UPDATE agent_launches SET superseded = 1 WHERE worktree_path = ?").run(worktreePath);
}

interface LaunchRow {
  id: number;
  run_id: string | null;
  worktree: string | null;
  worktree_path: string;
  branch: string | null;
  session: string | null;
  kind: string;
  model: string | null;
  agent_session_id: string | null;
  headless: number;
  pid: number | null;
  pid_start: string | null;
  launched_at: string;
  exit_file: string | null;
  exit_code: number | null;
  result: string | null;
  state: string;
  state_since: string;
  pane_hash: string | null;
  last_change_at: string | null;
  last_line: string | null;
  notified_state: string | null;
}

/** One row of `prj fleet`. */
export interface FleetRow {
  id: number;
  worktree: string | null;
  worktreePath: string;
  branch: string | null;
  session: string | null;
  agent: string;
  model: string | null;
  headless: boolean;
  state: AgentState;
  exitCode: number | null;
  since: string;
  lastLine: string | null;
  changedFiles: number | null;
  ahead: number | null;
  behind: number | null;
  port: number | null;
  agentSessionId: string | null;
  result: AgentResult | null;
  runId: string | null;
}

/** A state change seen while sampling. */
export interface StateChange {
  row: FleetRow;
  from: string;
  to: string;
}

/** The label of a state: `exited (0)` for exits. */
export function stateLabel(row: Pick<FleetRow, "state" | "exitCode">): string {
  return row.state === "exited" ? `exited (${row.exitCode ?? "?"})` : row.state;
}

const SEPARATOR = "\u241e-prj-pane-\u241e";

/** The visible text of several panes, with one tmux call (missing sessions are left out). */
async function capturePanes(sessions: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (sessions.length === 0) return out;
  const args: string[] = [...serverArgs()];
  for (const s of sessions) {
    args.push("capture-pane", "-p", "-J", "-t", `=${s}:`, ";", "display-message", "-p", SEPARATOR, ";");
  }
  const result = await capture(["tmux", ...args]);
  if (result.code === 0) {
    const parts = result.stdout.split(`${SEPARATOR}\n`);
    sessions.forEach((s, i) => out.set(s, parts[i] ?? ""));
    return out;
  }
  // A session vanished between listing and capturing: capture one by one.
  await Promise.all(sessions.map(async (s) => {
    const one = await capture(["tmux", ...serverArgs(), "capture-pane", "-p", "-J", "-t", `=${s}:`]);
    if (one.code === 0) out.set(s, one.stdout);
  }));
  return out;
}

async function liveSessions(): Promise<Set<string> | undefined> {
  try {
    const r = await capture(["tmux", ...serverArgs(), "list-sessions", "-F", "#{session_name}"]);
    return new Set(r.code === 0 ? r.stdout.split("\n").filter(Boolean) : []);
  } catch {
    return undefined; // tmux not installed
  }
}

async function hash(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function exists(p: string): boolean {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
}

function lastLineOf(text: string): string | null {
  const lines = text.split("\n").map((l) => l.trimEnd()).filter((l) => l.trim() !== "");
  return lines.at(-1)?.slice(0, 200) ?? null;
}

/**
 * Reads the state of every agent in the fleet, records changes (with their times), and
 * returns the rows and the changes seen now.
 *
 * @param options `idleAfterMs`: output unchanged this long (and no working or waiting
 *   pattern on screen) reads as idle
 *
 * @example
 * ```ts
 * import { initProject, openProject, openStore, sampleFleet } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await initProject(dir);
 * const project = await openProject(dir);
 * const store = openStore(project.prjDir);
 * const { rows, changes } = await sampleFleet(project, store);
 * assert.deepEqual([rows, changes], [[], []]);
 * store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function sampleFleet(
  project: Project,
  store: Store,
  options: { idleAfterMs?: number; withGit?: boolean } = {},
): Promise<{ rows: FleetRow[]; changes: StateChange[] }> {
  const idleAfterMs = options.idleAfterMs ?? 5000;
  const launches = store.db.prepare("SELECT * FROM agent_launches WHERE superseded = 0 ORDER BY id")
    .all() as unknown as LaunchRow[];
  const sessions = await liveSessions();
  const panes = await capturePanes(
    launches.filter((l) => l.session && sessions?.has(l.session)).map((l) => l.session!),
  );
  const ports = new Map(
    (store.db.prepare("SELECT path, port_slot FROM worktrees").all() as { path: string; port_slot: number }[])
      .map((
        r,
      ) => [r.path, project.config.worktree.port_base + Number(r.port_slot) * project.config.worktree.port_stride]),
  );
  const { defaultBranch } = await import("./worktrees.ts");
  const base = await defaultBranch(project);
  const t = Date.now();
  const changes: StateChange[] = [];
  const rows = await Promise.all(launches.map(async (l): Promise<FleetRow> => {
    let state: AgentState;
    let exitCode = l.exit_code;
    let lastLine = l.last_line;
    let paneHash = l.pane_hash;
    let lastChange = l.last_change_at ? Date.parse(l.last_change_at) : t;
    const worktreeExists = exists(l.worktree_path);
    if (l.headless) {
      if (l.exit_code !== null) state = "exited";
      else if (l.pid !== null && processAlive(Number(l.pid), l.pid_start)) state = "working";
      else state = "gone";
    } else if (!l.session || !sessions?.has(l.session) || !worktreeExists) {
      state = "gone";
    } else {
      const text = panes.get(l.session) ?? "";
      lastLine = lastLineOf(text);
      const h = await hash(text);
      if (h !== paneHash) {
        paneHash = h;
        lastChange = t;
      }
      const exitText = l.exit_file && exists(l.exit_file) ? Deno.readTextFileSync(l.exit_file).trim() : undefined;
      // The latest line on screen that matches a rule wins: a permission prompt scrolled
      // above newer "esc to interrupt" lines has been answered.
      const tail = text.split("\n").filter((x) => x.trim() !== "").slice(-15);
      const kind = agentKind(l.kind);
      const lastMatch = (rules: RegExp[]) => tail.findLastIndex((line) => rules.some((re) => re.test(line)));
      const waitingAt = lastMatch(kind.waiting);
      const workingAt = lastMatch(kind.working);
      if (exitText !== undefined && /^\d+$/.test(exitText)) {
        state = "exited";
        exitCode = Number(exitText);
      } else if (waitingAt >= 0 && waitingAt > workingAt) state = "waiting for input";
      else if (workingAt >= 0) state = "working";
      else state = t - lastChange >= idleAfterMs ? "idle" : "working";
    }
    const previous = l.state === "exited" ? "exited" : l.state;
    const changed = previous !== state;
    const since = changed ? new Date(t).toISOString() : l.state_since;
    store.db.prepare(
      `UPDATE agent_launches SET state = ?, state_since = ?, exit_code = ?, pane_hash = ?, last_change_at = ?, last_line = ?
       WHERE id = ?`,
    ).run(state, since, exitCode, paneHash, new Date(lastChange).toISOString(), lastLine, l.id);
    let changedFiles: number | null = null;
    let ahead: number | null = null;
    let behind: number | null = null;
    if (options.withGit !== false && worktreeExists) {
      const [status, counts] = await Promise.all([
        gitMaybe(l.worktree_path, ["status", "--porcelain"]),
        l.branch ? gitMaybe(project.root, ["rev-list", "--left-right", "--count", `${base}...${l.branch}`]) : undefined,
      ]);
      if (status !== undefined) changedFiles = status.split("\n").filter(Boolean).length;
      if (counts) [behind, ahead] = counts.trim().split(/\s+/).map(Number) as [number, number];
    }
    const row: FleetRow = {
      id: l.id,
      worktree: l.worktree,
      worktreePath: l.worktree_path,
      branch: l.branch,
      session: l.session,
      agent: l.kind,
      model: l.model,
      headless: l.headless === 1,
      state,
      exitCode: state === "exited" ? exitCode : null,
      since,
      lastLine,
      changedFiles,
      ahead,
      behind,
      port: ports.get(l.worktree_path) ?? null,
      agentSessionId: l.agent_session_id,
      result: l.result ? JSON.parse(l.result) : null,
      runId: l.run_id,
    };
    if (changed) {
      store.db.prepare("INSERT INTO agent_state_events (launch_id, at, state, detail) VALUES (?, ?, ?, ?)")
        .run(l.id, since, stateLabel(row), lastLine);
      changes.push({ row, from: previous, to: stateLabel(row) });
    }
    return row;
  }));
  return { rows, changes };
}

/**
 * Runs the configured `notify` command for agents that started waiting for input or
 * exited, once per change (a change already notified by another prj process is skipped).
 *
 * @returns the rows that were notified
 */
export async function notifyChanges(project: Project, store: Store, changes: StateChange[]): Promise<FleetRow[]> {
  const notify = project.config.notify;
  const notified: FleetRow[] = [];
  for (const change of changes) {
    const label = stateLabel(change.row);
    if (change.row.state !== "waiting for input" && change.row.state !== "exited") continue;
    const key = `${label}@${change.row.since}`;
    const claimed = store.db.prepare(
      "UPDATE agent_launches SET notified_state = ? WHERE id = ? AND notified_state IS NOT ?",
    )
      .run(key, change.row.id, key);
    if (Number(claimed.changes) === 0) continue;
    notified.push(change.row);
    if (!notify) continue;
    const where = change.row.session ?? change.row.worktree ?? change.row.worktreePath;
    const message = `prj: ${where} is ${label}`;
    const argv = Array.isArray(notify) ? [...notify, message] : ["sh", "-c", notify];
    await capture(argv, {
      env: {
        PRJ_MESSAGE: message,
        PRJ_AGENT_STATE: label,
        PRJ_SESSION: change.row.session ?? "",
        PRJ_WORKTREE: change.row.worktreePath,
      },
    }).catch(() => {});
  }
  return notified;
}

/**
 * Restarts an agent in its tmux session with its conversation (`--resume <session id>` for
 * Claude Code): after a reboot or a killed tmux server the session is created again, in the
 * agent's worktree.
 *
 * @param worktree the worktree name (or path) the agent worked in
 * @throws {PrjError} when no resumable launch is recorded there, or its worktree is gone
 */
export async function resumeAgent(
  project: Project,
  store: Store,
  worktree: string,
): Promise<{ session: string; agentSessionId: string; created: boolean }> {
  const { PrjError } = await import("./errors.ts");
  const l = store.db.prepare(
    "SELECT * FROM agent_launches WHERE (worktree = ? OR worktree_path = ?) AND agent_session_id IS NOT NULL ORDER BY id DESC LIMIT 1",
  ).get(worktree, worktree) as LaunchRow | undefined;
  if (!l) {
    throw new PrjError(`No resumable agent recorded for worktree "${worktree}"`, {
      hint: "only agents started by prj with a session id (agent.kind claude) can be resumed; see `prj fleet`",
    });
  }
  const kind = agentKind(l.kind);
  if (!kind.resumeArgs) throw new PrjError(`Agent kind "${l.kind}" cannot resume a conversation`);
  if (!exists(l.worktree_path)) throw new PrjError(`The worktree of that agent is gone: "${l.worktree_path}"`);
  const { createSession, sendLine } = await import("./sessions.ts");
  const { agentBaseArgv, agentEnv, writeLauncher } = await import("./agent.ts");
  const path = await import("node:path");
  const port = store.db.prepare("SELECT port_slot FROM worktrees WHERE path = ?").get(l.worktree_path) as {
    port_slot: number;
  } | undefined;
  const portValue = port
    ? project.config.worktree.port_base + Number(port.port_slot) * project.config.worktree.port_stride
    : undefined;
  const session = await createSession(
    project,
    { name: l.worktree ?? path.basename(l.worktree_path), path: l.worktree_path, port: portValue },
    undefined,
    l.session ?? undefined,
  );
  const argv = agentBaseArgv(project);
  if (l.model && project.config.agent.model_flag) argv.push(project.config.agent.model_flag, l.model);
  argv.push(...kind.resumeArgs(l.agent_session_id!));
  const dir = path.join(project.prjDir, "artifacts", `resume-${l.id}-${Date.now()}`);
  await Deno.mkdir(dir, { recursive: true });
  const exitFile = path.join(dir, "agent.exit");
  const script = path.join(dir, "agent.sh");
  await writeLauncher(script, {
    cwd: l.worktree_path,
    env: agentEnv(project, { worktree: l.worktree_path, port: portValue, model: l.model ?? undefined }),
    invocation: { argv, stdin: undefined },
    exitFile,
  });
  recordLaunch(store, {
    runId: l.run_id,
    worktree: l.worktree,
    worktreePath: l.worktree_path,
    branch: l.branch,
    session: session.name,
    kind: l.kind,
    model: l.model,
    agentSessionId: l.agent_session_id,
    headless: false,
    exitFile,
  });
  const { shellQuote } = await import("./agent.ts");
  await sendLine(session.name, `sh ${shellQuote(script)}`);
  return { session: session.name, agentSessionId: l.agent_session_id!, created: session.created };
}
