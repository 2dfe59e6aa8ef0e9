/**
 * The fleet: every agent prj launched, and what it is doing now: `working`,
 * `waiting for input`, `idle`, `exited (code)` or `gone`. Each sample stores the hook events
 * the agents reported since the last one, looks at their processes and tmux panes (one tmux
 * call for all), and decides each state with the pure rules in classify.ts. A state change
 * is recorded once, with its time and where it was read (hook, process or pane); the
 * configured `notify` command runs once per change.
 */
import type { Project } from "../../project/project.ts";
import type { Store } from "../../state/store.ts";
import {
  activeLaunches,
  changeLaunchState,
  claimNotification,
  getLaunch,
  type LaunchRecord,
  setStateSource,
  updateLaunchSeen,
} from "../../state/launches.ts";
import { listWorktreeRecords } from "../../state/worktrees.ts";
import { exists } from "../../util/fs.ts";
import { capture } from "../../util/process.ts";
import { aheadBehind, changedPaths } from "../../workspace/git.ts";
import { serverArgs } from "../../workspace/tmux.ts";
import { portFor } from "../../workspace/ports.ts";
import { baseBranch } from "../../workspace/worktrees/names.ts";
import { ingestHookEvents } from "../hook_events.ts";
import { agentKind, type AgentResult, type ReportedState } from "../kinds.ts";
import { launchProcess, readExitFile, settle } from "../headless.ts";
import { type AgentState, classify, type Observation, type StateSource } from "./classify.ts";
import { type LaunchCost, launchCosts, projectPrices, syncTranscripts } from "../cost.ts";

/** Waits up to `ms` for an exit file to appear (the launcher writes it right after the agent ends). */
async function exitFileSoon(file: string | null, ms: number): Promise<void> {
  if (!file) return;
  const deadline = Date.now() + ms;
  while (readExitFile(file) === undefined && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export type { AgentState, StateSource } from "./classify.ts";

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
  /** Where the state was read: the agent's `hook`s, its `process`, or its screen (`pane`, a fallback). */
  stateSource: StateSource;
  /** What its hooks said last (the tool it asks about, the error it stopped with), when they did. */
  detail: string | null;
  /** Its exit code, once `exited` (null when unknown). */
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
  /** The agent's process id, once known. */
  pid: number | null;
  /** A headless agent's result. */
  result: AgentResult | null;
  /** The run that launched it. */
  runId: string | null;
  /** What it used and cost so far, as recorded (null before anything is recorded; see `prj cost`). */
  cost: LaunchCost | null;
  /** Why its state could not be read this time (`tmux not found`): `state` is the last one recorded. */
  unseen?: string | undefined;
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
export function stateLabel(row: Pick<FleetRow, "state" | "exitCode"> & { unseen?: string | undefined }): string {
  if (row.unseen) return `unknown (${row.unseen})`;
  return row.state === "exited" ? `exited (${row.exitCode ?? "?"})` : row.state;
}

const SEPARATOR = "\u241e-prj-pane-\u241e";
const META = "#{pane_dead}\t#{pane_dead_status}\t#{window_activity}";

/** What tmux says of one session's pane. */
interface PaneInfo {
  screen: string;
  dead: boolean;
  deadStatus: number | null;
  /** When the pane last printed (ms since the epoch). */
  activity: number | null;
}

/** The visible text and state of several panes, with one tmux call (missing sessions are left out). */
async function readPanes(sessions: string[]): Promise<Map<string, PaneInfo>> {
  const out = new Map<string, PaneInfo>();
  if (sessions.length === 0) return out;
  const parse = (text: string): PaneInfo => {
    const lines = text.replace(/\n$/, "").split("\n");
    const [dead, status, activity] = (lines.pop() ?? "").split("\t");
    return {
      screen: lines.join("\n"),
      dead: dead === "1",
      deadStatus: status && /^\d+$/.test(status) ? Number(status) : null,
      activity: activity && /^\d+$/.test(activity) ? Number(activity) * 1000 : null,
    };
  };
  const one = (
    s: string,
  ) => ["capture-pane", "-p", "-J", "-t", `=${s}:`, ";", "display-message", "-p", "-t", `=${s}:`, META];
  const args: string[] = [...serverArgs()];
  for (const s of sessions) args.push(...one(s), ";", "display-message", "-p", SEPARATOR, ";");
  const result = await capture(["tmux", ...args]);
  if (result.code === 0) {
    const parts = result.stdout.split(`${SEPARATOR}\n`);
    sessions.forEach((s, i) => out.set(s, parse(parts[i] ?? "")));
    return out;
  }
  // A session vanished between listing and capturing: one by one.
  await Promise.all(sessions.map(async (s) => {
    const r = await capture(["tmux", ...serverArgs(), ...one(s)]);
    if (r.code === 0) out.set(s, parse(r.stdout));
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

/** The last non-empty line of a screen, or with `skip`, the one that many lines above it. */
function lastLineOf(text: string, skip = 0): string | null {
  const lines = text.split("\n").map((l) => l.trimEnd()).filter((l) => l.trim() !== "");
  return lines.at(-1 - skip)?.slice(0, 200) ?? null;
}

/**
 * Reads the state of every agent in the fleet, records changes (with their times and
 * sources), and returns the rows and the changes this call recorded.
 *
 * @param options `idleAfterMs`: for agents without a busy marker (kind `generic`), a pane
 *   quiet this long reads as idle; `withGit: false` skips the changed-files and ahead/behind columns
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
  const sessions = launches.some((l) => l.session) ? await liveSessions() : undefined;
  const panes = await readPanes(
    launches.filter((l) => l.session && sessions?.has(l.session)).map((l) => l.session!),
  );
  const ports = new Map(listWorktreeRecords(store).map((r) => [r.path, portFor(project, r.port_slot)]));
  const base = launches.length > 0 && options.withGit !== false ? await baseBranch(project) : undefined;
  const t = Date.now();
  const changes: StateChange[] = [];
  const rows = await Promise.all(launches.map(async (stored): Promise<FleetRow> => {
    const kind = agentKind(stored.kind);
    let l = ingestHookEvents(store, stored, kind);
    let lastLine = l.last_line;
    const worktreeExists = exists(l.worktree_path);
    let seen: Observation;
    if (l.headless) {
      const process = launchProcess(store, l);
      let exitCode = l.exit_code;
      if (process === "ended" && l.state !== "exited") {
        // Its prj process may be gone: the exit file and output tell how it ended.
        const code = readExitFile(l.exit_file);
        if (code !== undefined) {
          settle(store, l, code);
          l = getLaunch(store, l.id) ?? l;
          exitCode = code;
        }
      }
      seen = { headless: true, exitCode: l.state === "exited" ? exitCode : null, alive: process !== "ended" };
    } else {
      const present = !!l.session && !!sessions?.has(l.session) && worktreeExists;
      const pane = present ? panes.get(l.session!) : undefined;
      const screen = pane?.screen ?? "";
      // Once the agent has exited, the pane ends with the shell's prompt: its output is the line above.
      const ended = readExitFile(l.exit_file) !== undefined || pane?.dead === true;
      if (pane) lastLine = ended ? (l.state === "exited" ? l.last_line : lastLineOf(screen, 1)) : lastLineOf(screen);
      const process = present ? launchProcess(store, l) : "ended";
      // The launcher writes the exit file just after the agent's process ends: an agent seen gone in
      // between gets a moment for it, so its code is known rather than "?".
      if (process === "ended" && !pane?.dead && l.state !== "exited") await exitFileSoon(l.exit_file, 1500);
      const exitCode = readExitFile(l.exit_file) ?? l.exit_code ?? (pane?.dead ? pane.deadStatus : null);
      seen = {
        headless: false,
        present: present && pane !== undefined,
        process: pane?.dead ? "ended" : process,
        exitCode,
        screen,
        quietMs: pane?.activity ? Math.max(0, t - pane.activity) : 0,
        opening: openingSince(l),
        hook: l.hook_state && l.hook_at
          ? {
            state: l.hook_state as ReportedState,
            at: Date.parse(l.hook_at),
            background: l.hook_background === 1,
            detail: l.hook_detail,
          }
          : undefined,
        now: t,
      };
    }
    // Without tmux nothing can be seen of an agent in a session: it keeps its last state, marked unknown.
    const unseen = !l.headless && !!l.session && sessions === undefined ? "tmux not found" : undefined;
    const read = unseen
      ? {
        state: l.state as FleetRow["state"],
        source: l.state_source as FleetRow["stateSource"],
        exitCode: l.exit_code,
      }
      : classify(seen, kind.pane, idleAfterMs);
    const exitCode = read.state === "exited" ? read.exitCode ?? l.exit_code : null;
    let since = l.state_since;
    let changed = false;
    if (read.state !== l.state) {
      const at = new Date(read.at ?? t).toISOString();
      const label = stateLabel({ state: read.state, exitCode });
      // Only one of several prj processes sampling at once records (and notifies) a change.
      changed = changeLaunchState(store, l.id, l.state, {
        state: read.state,
        label,
        since: at,
        source: read.source,
        exitCode,
        detail: read.source === "hook" ? l.hook_detail : lastLine,
      });
      since = changed ? at : getLaunch(store, l.id)?.state_since ?? at;
    } else if (read.source !== l.state_source) {
      setStateSource(store, l.id, read.source);
    }
    updateLaunchSeen(store, l.id, { paneHash: null, lastChangeAt: new Date(t).toISOString(), lastLine });
    let changedFiles: number | null = null;
    let ahead: number | null = null;
    let behind: number | null = null;
    if (base !== undefined && worktreeExists) {
      const [paths, counts] = await Promise.all([
        changedPaths({ project: project.root, worktree: l.worktree_path }),
        l.branch ? aheadBehind(project.root, base, l.branch) : undefined,
      ]);
      if (paths !== undefined) changedFiles = paths.length;
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
      state: read.state,
      stateSource: read.source,
      detail: read.source === "hook" ? l.hook_detail : null,
      exitCode,
      since,
      lastLine,
      changedFiles,
      ahead,
      behind,
      port: ports.get(l.worktree_path) ?? null,
      agentSessionId: l.agent_session_id,
      pid: l.pid,
      result: l.result ? JSON.parse(l.result) : null,
      runId: l.run_id,
      cost: null,
      ...(unseen ? { unseen } : {}),
    };
    if (changed) changes.push({ row, from: l.state, to: stateLabel(row) });
    return row;
  }));
  // What each agent cost so far: interactive transcripts read up to now, then the ledger summed.
  syncTranscripts(store);
  const costs = launchCosts(store, rows.map((r) => r.id), projectPrices(project));
  for (const row of rows) row.cost = costs.get(row.id) ?? null;
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
    const message = `prj: ${where} is ${label}${change.row.detail ? ` (${change.row.detail})` : ""}`;
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
 * While an agent with prj's hooks opens (see {@link Observation}): since its launch until a
 * hook reports, or for one given a prompt, since its session-start hook until the prompt's turn
 * begins. Undefined once it reported more, or for an agent without prj's hooks.
 */
function openingSince(l: LaunchRecord): number | undefined {
  if (!l.hooked) return undefined;
  if (!l.hook_state || !l.hook_at) return Date.parse(l.launched_at);
  const started = l.hook_state === "idle" && /^session (startup|resume)$/.test(l.hook_detail ?? "");
  return l.prompted && started ? Date.parse(l.hook_at) : undefined;
}
