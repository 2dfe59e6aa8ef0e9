/** The `runs` table: one row per run of a command (or an agent's task), with its status and resources. */
import type { SQLInputValue } from "node:sqlite";
import { likePrefix, parseJson, type Row, sql, transaction } from "./_db.ts";
import type { Store } from "./store.ts";
import { isDiskFull, sqliteCode } from "./errors.ts";
import { processAlive, thisProcess } from "../util/liveness.ts";
import { now } from "../util/time.ts";

/** Run states. `interrupted`: its process died without finishing. */
export type RunStatus = "running" | "succeeded" | "failed" | "cancelled" | "timed_out" | "interrupted";

/** A run as stored. */
export interface RunRecord {
  /** The run id (`20261120-215600-x7k2`). */
  id: string;
  /** The command's name (`agent-task` for the agent runner's tasks). */
  command: string;
  /** How it stands or ended. */
  status: RunStatus;
  /** The validated arguments. */
  args: Record<string, unknown>;
  /** The run's shared data as the last step left it. */
  shared: Record<string, unknown>;
  /** ISO start time. */
  started_at: string;
  /** ISO end time, null while running. */
  finished_at: string | null;
  /** Duration in milliseconds, null while running. */
  duration_ms: number | null;
  /** Why it did not succeed. */
  error: string | null;
  /** The prj process running it. */
  pid: number | null;
  /** Where prj was started. */
  cwd: string | null;
  /** `.prj/artifacts/<run-id>`. */
  artifact_dir: string | null;
  /** The worktree path it works in, if any. */
  worktree: string | null;
  /** Its branch, if any. */
  branch: string | null;
  /** Its tmux session, if any. */
  session: string | null;
  /** The agent model. */
  model: string | null;
  /** The run that started it (fan-out). */
  parent_id: string | null;
}

/** Filters for {@link listRuns}. */
export interface RunQuery {
  /** At most this many runs. */
  limit?: number;
  /** Only runs with this status. */
  status?: string;
  /** Only runs of this command. */
  command?: string;
  /** Only runs started before this ISO time. */
  olderThan?: string;
}

/** A new run, as {@link createRun} records it. */
export interface NewRun {
  id: string;
  command: string;
  args: Record<string, unknown>;
  cwd: string;
  artifactDir: string;
  model?: string | undefined;
  parentId?: string | undefined;
}

function toRun(row: Row): RunRecord {
  return { ...(row as unknown as RunRecord), args: parseJson(row.args, {}), shared: parseJson(row.shared, {}) };
}

/** Records a new run in state `running`, owned by this process. */
export function createRun(store: Store, run: NewRun): void {
  const me = thisProcess();
  sql(store).prepare(
    `INSERT INTO runs (id, command, status, args, started_at, pid, pid_start, host, cwd, artifact_dir, model, parent_id)
     VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    run.id,
    run.command,
    JSON.stringify(run.args),
    now(),
    me.pid,
    me.pidStart,
    me.host,
    run.cwd,
    run.artifactDir,
    run.model ?? null,
    run.parentId ?? null,
  );
}

/** Updates the fields of a run that change while it runs. */
export function updateRun(
  store: Store,
  id: string,
  fields: Partial<Pick<RunRecord, "worktree" | "branch" | "session" | "model">>,
): void {
  const sets: string[] = [];
  const values: SQLInputValue[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (!["worktree", "branch", "session", "model"].includes(key)) continue;
    sets.push(`${key} = ?`);
    values.push(value as string | null);
  }
  if (sets.length === 0) return;
  sql(store).prepare(`UPDATE runs SET ${sets.join(", ")} WHERE id = ?`).run(...values, id);
}

/** Stores the run's shared data (called with each finished step). */
export function setRunShared(store: Store, id: string, shared: Record<string, unknown>): void {
  sql(store).prepare("UPDATE runs SET shared = ? WHERE id = ?").run(JSON.stringify(shared), id);
}

/** Records how a run ended. */
export function finishRun(store: Store, id: string, status: RunStatus, error: string | null, durationMs: number): void {
  sql(store).prepare("UPDATE runs SET status = ?, error = ?, finished_at = ?, duration_ms = ? WHERE id = ?")
    .run(status, error, now(), Math.round(durationMs), id);
}

/**
 * One run by id or unique id prefix.
 *
 * @param store an open store
 * @param idOrPrefix the run id, or a prefix that only one run has
 * @returns the run, or undefined when none or several match
 */
export function getRun(store: Store, idOrPrefix: string): RunRecord | undefined {
  const db = sql(store);
  const exact = db.prepare("SELECT * FROM runs WHERE id = ?").get(idOrPrefix) as Row | undefined;
  if (exact) return toRun(exact);
  const rows = db.prepare("SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY id LIMIT 2")
    .all(likePrefix(idOrPrefix)) as Row[];
  return rows.length === 1 ? toRun(rows[0]!) : undefined;
}

/** How many runs start with this prefix (to tell "ambiguous" from "unknown"). */
export function countRunsWithPrefix(store: Store, prefix: string): number {
  const row = sql(store).prepare("SELECT COUNT(*) AS n FROM runs WHERE id LIKE ? ESCAPE '\\'")
    .get(likePrefix(prefix)) as { n: number };
  return Number(row.n);
}

/**
 * Runs, newest first.
 *
 * @param store an open store
 * @param query filters and a limit
 * @returns the matching runs
 */
export function listRuns(store: Store, query: RunQuery = {}): RunRecord[] {
  const where: string[] = [];
  const values: SQLInputValue[] = [];
  if (query.status) {
    where.push("status = ?");
    values.push(query.status);
  }
  if (query.command) {
    where.push("command = ?");
    values.push(query.command);
  }
  if (query.olderThan) {
    where.push("started_at < ?");
    values.push(query.olderThan);
  }
  const text = `SELECT * FROM runs ${where.length ? "WHERE " + where.join(" AND ") : ""}
                ORDER BY started_at DESC, id DESC ${query.limit ? "LIMIT ?" : ""}`;
  if (query.limit) values.push(query.limit);
  return (sql(store).prepare(text).all(...values) as Row[]).map(toRun);
}

/** Deletes runs' rows (their steps, artifacts and resources go with them). */
export function deleteRunRows(store: Store, ids: readonly string[]): void {
  transaction(store, () => {
    const del = sql(store).prepare("DELETE FROM runs WHERE id = ?");
    for (const id of ids) del.run(id);
  });
}

/** Why a run is `interrupted`. */
export const INTERRUPTED = "the prj process running it exited without finishing (killed or crashed)";

/**
 * Marks `running` runs (and their running steps) whose process is gone (or a zombie) as
 * `interrupted`. On a full disk or a read-only database nothing is marked now; a later
 * command does it.
 */
export function reapInterrupted(store: Store): number {
  const db = sql(store);
  const host = Deno.hostname();
  const rows = db.prepare("SELECT id, pid, pid_start, host FROM runs WHERE status = 'running'").all() as Row[];
  let reaped = 0;
  for (const row of rows) {
    if (row.host !== host || row.pid === null) continue;
    if (processAlive(Number(row.pid), row.pid_start as string | null)) continue;
    try {
      if (interruptRun(store, row.id as string)) reaped++;
    } catch (error) {
      // A full disk or a read-only database: reading still works, a later command marks it.
      if (isDiskFull(error) || sqliteCode(error) === 8) break;
      throw error;
    }
  }
  return reaped;
}

/**
 * Records a run whose prj process died: `interrupted` when it was still `running`, and any
 * step still `running` as `interrupted` too (also for a run whose end was recorded but not
 * every step's).
 *
 * @returns whether the run's status changed
 */
export function interruptRun(store: Store, id: string, error: string = INTERRUPTED): boolean {
  const db = sql(store);
  return transaction(store, () => {
    const t = now();
    const changed = db.prepare(
      "UPDATE runs SET status = 'interrupted', finished_at = ?, error = ? WHERE id = ? AND status = 'running'",
    ).run(t, error, id);
    db.prepare("UPDATE steps SET status = 'interrupted', finished_at = ? WHERE run_id = ? AND status = 'running'")
      .run(t, id);
    return Number(changed.changes) > 0;
  });
}
