/**
 * The `agent_launches`, `agent_state_events` and `agent_hook_events` tables: every agent prj
 * launched (in a session or headless), the hook events it reported, and its state over time
 * with where each state was read (hook, process or pane), for `prj fleet`.
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
  /** The conversation's id (the latest: Claude Code's `/clear` starts a new one). */
  agent_session_id: string | null;
  /** 1 for a headless launch. */
  headless: number;
  /**
   * The agent's process, once known: for a headless agent the leader of its process group (the
   * wrapper that records its exit code), for one in a tmux session the agent itself.
   */
  pid: number | null;
  pid_start: string | null;
  launched_at: string;
  /** Where the launcher writes the agent's exit code. */
  exit_file: string | null;
  exit_code: number | null;
  /** The headless result ({@link AgentResult}) as JSON. */
  result: string | null;
  state: string;
  state_since: string;
  /** Where the state was read: `hook`, `process` or `pane`. */
  state_source: string | null;
  pane_hash: string | null;
  last_change_at: string | null;
  last_line: string | null;
  /** `<state>@<since>` of the last change the notify command ran for. */
  notified_state: string | null;
  /** 1 once a newer launch in the same worktree replaced it in the fleet. */
  superseded: number;
  /** The launch's folder under `.prj/launch/` (pid, exit, output and hook event files). */
  launch_dir: string | null;
  /** The latest state the agent's hooks reported, its time and note. */
  hook_state: string | null;
  hook_at: string | null;
  hook_detail: string | null;
  /** 1 when that report said work goes on in the background. */
  hook_background: number;
  /** The agent's transcript of the conversation, when its hooks said. */
  transcript_path: string | null;
  /** 1 when prj installed the agent's hooks. */
  hooked: number;
  /** 1 when the agent was started with a prompt to work on. */
  prompted: number;
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
  /** The launch's folder (see {@link LaunchRecord.launch_dir}). */
  launchDir: string | null;
  exitFile: string | null;
  /** Whether prj installed the agent's hooks. */
  hooked?: boolean;
  /** Whether the agent was started with a prompt to work on. */
  prompted?: boolean;
}

/**
 * Records a launch in state `working`. One agent per worktree: older launches in the same
 * worktree (or session) leave the fleet, so a resumed agent replaces its old row.
 */
export function insertLaunch(store: Store, launch: NewLaunch): number {
  return transaction(store, () => {
    const db = sql(store);
    db.prepare("UPDATE agent_launches SET superseded = 1 WHERE (worktree_path = ? OR session = ?) AND superseded = 0")
      .run(launch.worktreePath, launch.session);
    const t = now();
    const result = db.prepare(
      `INSERT INTO agent_launches (run_id, worktree, worktree_path, branch, session, kind, model, agent_session_id, headless,
         launched_at, exit_file, launch_dir, hooked, prompted, state, state_since, state_source, last_change_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'working', ?, 'process', ?)`,
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
      t,
      launch.exitFile,
      launch.launchDir,
      launch.hooked ? 1 : 0,
      launch.prompted ? 1 : 0,
      t,
      t,
    );
    const id = Number(result.lastInsertRowid);
    addStateEvent(store, id, t, "working", "launched", "process");
    return id;
  });
}

/** One launch by id. */
export function getLaunch(store: Store, id: number): LaunchRecord | undefined {
  return sql(store).prepare("SELECT * FROM agent_launches WHERE id = ?").get(id) as LaunchRecord | undefined;
}

/** Records the agent's process once it started (its pid leads its process group). */
export function setLaunchProcess(store: Store, id: number, pid: number, pidStart: string | null): void {
  sql(store).prepare("UPDATE agent_launches SET pid = ?, pid_start = ? WHERE id = ?").run(pid, pidStart, id);
}

/** The launches in a worktree that are in the fleet and have not ended, newest first. */
export function openLaunchesIn(store: Store, worktreePath: string): LaunchRecord[] {
  return sql(store).prepare(
    `SELECT * FROM agent_launches WHERE worktree_path = ? AND superseded = 0 AND exit_code IS NULL AND state != 'exited'
     ORDER BY id DESC`,
  ).all(worktreePath) as unknown as LaunchRecord[];
}

/** The latest headless launch in a worktree that has not recorded an end (its agent may still run). */
export function liveHeadlessLaunchIn(store: Store, worktreePath: string): LaunchRecord | undefined {
  return openLaunchesIn(store, worktreePath).find((l) => l.headless === 1);
}

/**
 * Records how an agent ended (state `exited`), once: a second call (the fleet and the
 * runner both noticing) changes nothing and returns false.
 */
export function finishLaunch(
  store: Store,
  id: number,
  exitCode: number | null,
  resultJson: string | null,
  detail: string,
): boolean {
  return transaction(store, () => {
    const t = now();
    const changed = sql(store).prepare(
      `UPDATE agent_launches SET exit_code = ?, result = COALESCE(?, result), state = 'exited', state_since = ?,
         state_source = 'process'
       WHERE id = ? AND state != 'exited'`,
    ).run(exitCode, resultJson, t, id);
    if (Number(changed.changes) === 0) return false;
    addStateEvent(store, id, t, exitCode === null ? "exited (?)" : `exited (${exitCode})`, detail, "process");
    return true;
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

/** The launches of these runs that still have a folder under `.prj/launch/`. */
export function launchFoldersOfRuns(store: Store, runIds: readonly string[]): LaunchRecord[] {
  const of = sql(store).prepare("SELECT * FROM agent_launches WHERE run_id = ? AND launch_dir IS NOT NULL ORDER BY id");
  return runIds.flatMap((id) => of.all(id) as unknown as LaunchRecord[]);
}

/** Launches of no run (a resumed agent, a message to one) made before `cutoff` that still have a folder. */
export function runlessLaunchesBefore(store: Store, cutoff: string): LaunchRecord[] {
  return sql(store).prepare(
    "SELECT * FROM agent_launches WHERE run_id IS NULL AND launched_at < ? AND launch_dir IS NOT NULL ORDER BY id",
  ).all(cutoff) as unknown as LaunchRecord[];
}

/** Records that launches' folders were deleted (their rows, states and usage stay). */
export function forgetLaunchFolders(store: Store, ids: readonly number[]): void {
  transaction(store, () => {
    const forget = sql(store).prepare("UPDATE agent_launches SET launch_dir = NULL WHERE id = ?");
    for (const id of ids) forget.run(id);
  });
}

/** What a fleet sample saw of a launch besides its state. */
export function updateLaunchSeen(
  store: Store,
  id: number,
  s: { paneHash: string | null; lastChangeAt: string; lastLine: string | null },
): void {
  sql(store).prepare("UPDATE agent_launches SET pane_hash = ?, last_change_at = ?, last_line = ? WHERE id = ?")
    .run(s.paneHash, s.lastChangeAt, s.lastLine, id);
}

/**
 * Moves a launch from state `from` to a new state, and records the change with its time
 * and source. Only one of several prj processes sampling at once wins a change (true); the
 * others see the state already moved (false), so a change is recorded and notified once.
 */
export function changeLaunchState(
  store: Store,
  id: number,
  from: string,
  to: { state: string; label: string; since: string; source: string; exitCode: number | null; detail: string | null },
): boolean {
  return transaction(store, () => {
    const changed = sql(store).prepare(
      `UPDATE agent_launches SET state = ?, state_since = ?, state_source = ?, exit_code = COALESCE(?, exit_code)
       WHERE id = ? AND state = ?`,
    ).run(to.state, to.since, to.source, to.exitCode, id, from);
    if (Number(changed.changes) === 0) return false;
    addStateEvent(store, id, to.since, to.label, to.detail, to.source);
    return true;
  });
}

/** Notes a new source for an unchanged state (a pane-read `waiting` that its hook confirmed). */
export function setStateSource(store: Store, id: number, source: string): void {
  sql(store).prepare("UPDATE agent_launches SET state_source = ? WHERE id = ?").run(source, id);
}

/** Adds an entry to a launch's state history. */
export function addStateEvent(
  store: Store,
  launchId: number,
  at: string,
  state: string,
  detail: string | null,
  source: string | null = null,
): void {
  sql(store).prepare("INSERT INTO agent_state_events (launch_id, at, state, detail, source) VALUES (?, ?, ?, ?, ?)")
    .run(launchId, at, state, detail, source);
}

/** A hook event to store. */
export interface NewHookEvent {
  /** Unique per launch (the event file's name). */
  key: string;
  /** ISO time the hook ran. */
  at: string;
  event: string;
  /** The state it means, if any. */
  state: string | null;
  sessionId: string | null;
  transcriptPath: string | null;
  detail: string | null;
  background: boolean;
}

/**
 * Stores a launch's hook events (an event stored before, by this or another prj process, is
 * skipped) and keeps the latest reported state, conversation id and transcript on the launch.
 *
 * @returns how many events were new
 */
export function addHookEvents(store: Store, launchId: number, events: readonly NewHookEvent[]): number {
  if (events.length === 0) return 0;
  return transaction(store, () => {
    const db = sql(store);
    const insert = db.prepare(
      `INSERT OR IGNORE INTO agent_hook_events (launch_id, key, at, event, state, session_id, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    let added = 0;
    for (const e of events) {
      if (Number(insert.run(launchId, e.key, e.at, e.event, e.state, e.sessionId, e.detail).changes) === 0) continue;
      added++;
      if (e.state !== null) {
        db.prepare(
          `UPDATE agent_launches SET hook_state = ?, hook_at = ?, hook_detail = ?, hook_background = ?
           WHERE id = ? AND (hook_at IS NULL OR hook_at <= ?)`,
        ).run(e.state, e.at, e.detail, e.background ? 1 : 0, launchId, e.at);
      }
      if (e.sessionId !== null) {
        db.prepare("UPDATE agent_launches SET agent_session_id = ? WHERE id = ?").run(e.sessionId, launchId);
      }
      if (e.transcriptPath !== null) {
        db.prepare("UPDATE agent_launches SET transcript_path = ? WHERE id = ?").run(e.transcriptPath, launchId);
      }
    }
    return added;
  });
}

/** A launch's stored hook events, oldest first. */
export function hookEventsOf(
  store: Store,
  launchId: number,
): { at: string; event: string; state: string | null; session_id: string | null; detail: string | null }[] {
  return sql(store).prepare(
    "SELECT at, event, state, session_id, detail FROM agent_hook_events WHERE launch_id = ? ORDER BY at, id",
  ).all(launchId) as unknown as {
    at: string;
    event: string;
    state: string | null;
    session_id: string | null;
    detail: string | null;
  }[];
}

/** Sets the conversation id a headless agent reported. */
export function setAgentSessionId(store: Store, id: number, sessionId: string): void {
  sql(store).prepare("UPDATE agent_launches SET agent_session_id = ? WHERE id = ?").run(sessionId, id);
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

/**
 * The interactive launches of a kind that have a conversation id, whose transcripts the cost
 * ledger reads: those in the fleet, and those launched since `since`, oldest first.
 */
export function transcriptLaunches(store: Store, since: string, kind = "claude"): LaunchRecord[] {
  return sql(store).prepare(
    `SELECT * FROM agent_launches WHERE kind = ? AND headless = 0 AND agent_session_id IS NOT NULL
       AND (superseded = 0 OR launched_at >= ?) ORDER BY id`,
  ).all(kind, since) as unknown as LaunchRecord[];
}

/** The launches of one conversation (by its id), oldest first. */
export function launchesOfSession(store: Store, sessionId: string): LaunchRecord[] {
  return sql(store).prepare("SELECT * FROM agent_launches WHERE agent_session_id = ? ORDER BY id")
    .all(sessionId) as unknown as LaunchRecord[];
}

/**
 * The state a launch was last seen in before it went `gone` (its latest recorded state other
 * than `gone`), or its state now when it never went gone.
 */
export function lastSeenState(store: Store, id: number): string | undefined {
  const row = sql(store).prepare(
    "SELECT state FROM agent_state_events WHERE launch_id = ? AND state != 'gone' ORDER BY id DESC LIMIT 1",
  ).get(id) as { state: string } | undefined;
  return row?.state;
}
