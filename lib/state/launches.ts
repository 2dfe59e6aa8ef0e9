/**
 * The `agent_launches` and `agent_state_events` tables: every agent prj launched (in a
 * session or headless) and its state over time, for `prj fleet`.
 */
import { sql, transaction } from "./_db.ts";
import type { Store } from "./store.ts";
import { now } from "../util/time.ts";

/** A launch as stored. */
export interface LaunchRecord {
  id: number;
  run_id: string | null;
  worktree: string | null;
  worktree_path: string;
  branch: string | null;
  session: string | null;
  kind: string;
  model: string | null;
  agent_session_id: string | null;
  /** 1 for a headless launch. */
  headless: number;
  /** The prj process running a headless agent. */
  pid: number | null;
  pid_start: string | null;
  launched_at: string;
  /** Where the launcher writes the agent's exit code. */
  exit_file: string | null;
  exit_code: number | null;
  /** The stream-json result as JSON. */
  result: string | null;
  state: string;
  state_since: string;
  pane_hash: string | null;
  last_change_at: string | null;
  last_line: string | null;
  /** `<state>@<since>` of the last change the notify command ran for. */
  notified_state: string | null;
}

/** A launch to record. */
export interface NewLaunch {
  runId: string | null;
  worktree: string | null;
  worktreePath: string;
  branch: string | null;
  session: string | null;
  kind: string;
  model: string | null;
  agentSessionId: string | null;
  headless: boolean;
  /** The process running a headless agent (this one), else null. */
  process: { pid: number; pidStart: string | null } | null;
  exitFile: string | null;
}

/** Records a launch in state `working`; older launches in the same session (or headless worktree) are superseded. */
export function insertLaunch(store: Store, launch: NewLaunch): number {
  return transaction(store, () => {
    const db = sql(store);
    if (launch.session) {
      db.prepare("UPDATE agent_launches SET superseded = 1 WHERE session = ? AND superseded = 0").run(launch.session);
    } else {
      db.prepare(
        "UPDATE agent_launches SET superseded = 1 WHERE worktree_path = ? AND session IS NULL AND superseded = 0",
      ).run(launch.worktreePath);
    }
    const t = now();
    const result = db.prepare(
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
      launch.process?.pid ?? null,
      launch.process?.pidStart ?? null,
      t,
      launch.exitFile,
      t,
      t,
    );
    const id = Number(result.lastInsertRowid);
    addStateEvent(store, id, t, "working", "launched");
    return id;
  });
}

/** Records the process of a headless agent once it started (its pid leads its process group). */
export function setLaunchProcess(store: Store, id: number, pid: number, pidStart: string | null): void {
  sql(store).prepare("UPDATE agent_launches SET pid = ?, pid_start = ? WHERE id = ?").run(pid, pidStart, id);
}

/** The latest headless launch in a worktree that has not recorded an end (its agent may still run). */
export function liveHeadlessLaunchIn(store: Store, worktreePath: string): LaunchRecord | undefined {
  return sql(store).prepare(
    `SELECT * FROM agent_launches WHERE worktree_path = ? AND headless = 1 AND exit_code IS NULL AND state != 'exited'
     ORDER BY id DESC LIMIT 1`,
  ).get(worktreePath) as LaunchRecord | undefined;
}

/** Records how a headless agent ended (state `exited`). */
export function finishLaunch(
  store: Store,
  id: number,
  exitCode: number,
  resultJson: string | null,
  detail: string,
): void {
  transaction(store, () => {
    const t = now();
    sql(store).prepare(
      "UPDATE agent_launches SET exit_code = ?, result = ?, state = 'exited', state_since = ? WHERE id = ?",
    ).run(exitCode, resultJson, t, id);
    addStateEvent(store, id, t, "exited", detail);
  });
}

/** Marks the launches in a worktree as superseded (they leave the fleet). */
export function supersedeLaunchesIn(store: Store, worktreePath: string): void {
  sql(store).prepare("UPDATE agent_launches SET superseded = 1 WHERE worktree_path = ?").run(worktreePath);
}

/** The launches in the fleet (not superseded), oldest first. */
export function activeLaunches(store: Store): LaunchRecord[] {
  return sql(store).prepare("SELECT * FROM agent_launches WHERE superseded = 0 ORDER BY id")
    .all() as unknown as LaunchRecord[];
}

/** Stores what a fleet sample read for one launch. */
export function updateLaunchState(
  store: Store,
  id: number,
  s: {
    state: string;
    since: string;
    exitCode: number | null;
    paneHash: string | null;
    lastChangeAt: string;
    lastLine: string | null;
  },
): void {
  sql(store).prepare(
    `UPDATE agent_launches SET state = ?, state_since = ?, exit_code = ?, pane_hash = ?, last_change_at = ?, last_line = ?
     WHERE id = ?`,
  ).run(s.state, s.since, s.exitCode, s.paneHash, s.lastChangeAt, s.lastLine, id);
}

/** Adds an entry to a launch's state history. */
export function addStateEvent(store: Store, launchId: number, at: string, state: string, detail: string | null): void {
  sql(store).prepare("INSERT INTO agent_state_events (launch_id, at, state, detail) VALUES (?, ?, ?, ?)")
    .run(launchId, at, state, detail);
}

/**
 * Claims the notification of a state change: true for the first prj process that claims
 * `key` for this launch, false for every later one.
 */
export function claimNotification(store: Store, id: number, key: string): boolean {
  const claimed = sql(store).prepare(
    "UPDATE agent_launches SET notified_state = ? WHERE id = ? AND notified_state IS NOT ?",
  ).run(key, id, key);
  return Number(claimed.changes) > 0;
}

/** The latest launch in a worktree (by name or path) that has a conversation id to resume. */
export function latestResumableLaunch(store: Store, worktree: string): LaunchRecord | undefined {
  return sql(store).prepare(
    "SELECT * FROM agent_launches WHERE (worktree = ? OR worktree_path = ?) AND agent_session_id IS NOT NULL ORDER BY id DESC LIMIT 1",
  ).get(worktree, worktree) as LaunchRecord | undefined;
}
