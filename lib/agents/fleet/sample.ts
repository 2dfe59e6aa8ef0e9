/**
 * The fleet: every agent prj launched, and what it is doing now: `working`,
 * `waiting for input`, `idle`, `exited (code)` or `gone`. Interactive agents are read from
 * their tmux pane with the rules of their kind (lib/agent_kinds.ts) and an idle debounce;
 * headless agents from their exit code and stream-json result. Changes are recorded with
 * their times, and the configured `notify` command runs once per change.
 */
import type { Project } from "../../project/project.ts";
import type { Store } from "../../state/store.ts";
import { activeLaunches, addStateEvent, claimNotification, updateLaunchState } from "../../state/launches.ts";
import { listWorktreeRecords } from "../../state/worktrees.ts";
import { exists } from "../../util/fs.ts";
import { processAlive } from "../../util/liveness.ts";
import { capture } from "../../util/process.ts";
import { aheadBehind, changedPaths } from "../../workspace/git.ts";
import { serverArgs } from "../../workspace/tmux.ts";
import { portFor } from "../../workspace/ports.ts";
import { baseBranch } from "../../workspace/worktrees/names.ts";
import { agentKind, type AgentResult } from "../kinds.ts";
import { type AgentState, classify, type Observation } from "./classify.ts";

export type { AgentState } from "./classify.ts";

/** One row of `prj fleet`. */
export interface FleetRow {
  /** The launch's id. */
  id: number;
  /** The worktree's name, when prj made it. */
  worktree: string | null;
  /** Where the agent works. */
  worktreePath: string;
  /** The worktree's branch. */
  branch: string | null;
  /** The tmux session (null for a headless agent). */
  session: string | null;
  /** The agent kind. */
  agent: string;
  /** The model. */
  model: string | null;
  /** Whether prj runs it to completion without a session. */
  headless: boolean;
  /** What it is doing. */
  state: AgentState;
  /** Its exit code, once `exited`. */
  exitCode: number | null;
  /** ISO time the state began. */
  since: string;
  /** The last line on its screen. */
  lastLine: string | null;
  /** Files changed in its worktree. */
  changedFiles: number | null;
  /** Commits on its branch not on the base. */
  ahead: number | null;
  /** Commits on the base not on its branch. */
  behind: number | null;
  /** Its worktree's port. */
  port: number | null;
  /** The conversation id (for resume). */
  agentSessionId: string | null;
  /** A headless agent's stream-json result. */
  result: AgentResult | null;
  /** The run that launched it. */
  runId: string | null;
}

/** A state change seen while sampling. */
export interface StateChange {
  /** The agent, as sampled now. */
  row: FleetRow;
  /** The state before. */
  from: string;
  /** The state now (its label). */
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
 * import { initProject, openProject, openStore } from "@prunejuice/cli";
 * import { sampleFleet } from "@prunejuice/cli/agents";
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
  const launches = activeLaunches(store);
  const sessions = await liveSessions();
  const panes = await capturePanes(
    launches.filter((l) => l.session && sessions?.has(l.session)).map((l) => l.session!),
  );
  const ports = new Map(listWorktreeRecords(store).map((r) => [r.path, portFor(project, r.port_slot)]));
  const base = await baseBranch(project);
  const t = Date.now();
  const changes: StateChange[] = [];
  const rows = await Promise.all(launches.map(async (l): Promise<FleetRow> => {
    let lastLine = l.last_line;
    let paneHash = l.pane_hash;
    let lastChange = l.last_change_at ? Date.parse(l.last_change_at) : t;
    const worktreeExists = exists(l.worktree_path);
    let seen: Observation;
    if (l.headless) {
      seen = {
        headless: true,
        exitCode: l.exit_code,
        runnerAlive: l.pid !== null && processAlive(Number(l.pid), l.pid_start),
      };
    } else {
      const present = !!l.session && !!sessions?.has(l.session) && worktreeExists;
      const screen = present ? panes.get(l.session!) ?? "" : "";
      if (present) {
        lastLine = lastLineOf(screen);
        const h = await hash(screen);
        if (h !== paneHash) {
          paneHash = h;
          lastChange = t;
        }
      }
      seen = {
        headless: false,
        present,
        screen,
        exitText: present && l.exit_file && exists(l.exit_file) ? Deno.readTextFileSync(l.exit_file).trim() : undefined,
        quietMs: t - lastChange,
      };
    }
    const { state, exitCode: exited } = classify(seen, agentKind(l.kind), idleAfterMs);
    const exitCode = exited ?? l.exit_code;
    const previous = l.state === "exited" ? "exited" : l.state;
    const changed = previous !== state;
    const since = changed ? new Date(t).toISOString() : l.state_since;
    updateLaunchState(store, l.id, {
      state,
      since,
      exitCode,
      paneHash,
      lastChangeAt: new Date(lastChange).toISOString(),
      lastLine,
    });
    let changedFiles: number | null = null;
    let ahead: number | null = null;
    let behind: number | null = null;
    if (options.withGit !== false && worktreeExists) {
      const [changed, counts] = await Promise.all([
        changedPaths({ project: project.root, worktree: l.worktree_path }),
        l.branch ? aheadBehind(project.root, base, l.branch) : undefined,
      ]);
      if (changed !== undefined) changedFiles = changed.length;
      if (counts) ({ ahead, behind } = counts);
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
      addStateEvent(store, l.id, since, stateLabel(row), lastLine);
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
    if (!claimNotification(store, change.row.id, key)) continue;
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
