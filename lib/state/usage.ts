/**
 * The `agent_usage` and `usage_cursors` tables: what each agent launch used and cost, one row
 * per model (and per day, for an interactive session read from its transcript), keyed to the
 * launch, its run, task and runner agent; and where reading each launch's transcript got to.
 * Rows outlive the runs they belong to (`prj cleanup` keeps the ledger).
 */
import { sql, transaction } from "./_db.ts";
import type { Store } from "./store.ts";

/** A usage row as stored. */
export interface UsageRow {
  id: number;
  /** Unique: the launch, the source and the model (and day), so recording again replaces. */
  key: string;
  launch_id: number | null;
  run_id: string | null;
  /** The task, for a run of the agent runner. */
  task_id: string | null;
  /** The runner's `--agent-id`, for a run of the agent runner. */
  agent_id: string | null;
  worktree: string | null;
  /** The `agent.kind`. */
  kind: string;
  model: string | null;
  session_id: string | null;
  /** `result` (a headless run's output) or `transcript` (an interactive Claude Code session). */
  source: string;
  /** ISO time of the usage (a headless run's end; a transcript's last message that day). */
  at: string;
  /** Local day, `YYYY-MM-DD`. */
  day: string;
  input_tokens: number;
  output_tokens: number;
  cache_read: number;
  cache_write: number;
  /** USD, or null when unknown. */
  cost_usd: number | null;
  /** `reported`, `price table`, or null. */
  cost_source: string | null;
  /** JSON: the conversation's running totals the agent reported at the end of the run, if any. */
  session_totals: string | null;
}

/** A usage row to record (its id aside). */
export type NewUsage = Omit<UsageRow, "id">;

const COLUMNS = [
  "key",
  "launch_id",
  "run_id",
  "task_id",
  "agent_id",
  "worktree",
  "kind",
  "model",
  "session_id",
  "source",
  "at",
  "day",
  "input_tokens",
  "output_tokens",
  "cache_read",
  "cache_write",
  "cost_usd",
  "cost_source",
  "session_totals",
] as const;

function insert(store: Store, rows: readonly NewUsage[]): void {
  const statement = sql(store).prepare(
    `INSERT INTO agent_usage (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map(() => "?").join(", ")})
     ON CONFLICT(key) DO UPDATE SET ${
      COLUMNS.filter((c) => c !== "key").map((c) => `${c} = excluded.${c}`).join(", ")
    }`,
  );
  for (const row of rows) statement.run(...COLUMNS.map((c) => row[c]));
}

/** Records usage rows; a row whose key is recorded already is replaced (recording twice counts once). */
export function putUsage(store: Store, rows: readonly NewUsage[]): void {
  if (rows.length === 0) return;
  transaction(store, () => insert(store, rows));
}

/** Replaces every row of a launch from one source (a transcript read again) with `rows`, at once. */
export function replaceLaunchUsage(store: Store, launchId: number, source: string, rows: readonly NewUsage[]): void {
  transaction(store, () => {
    sql(store).prepare("DELETE FROM agent_usage WHERE launch_id = ? AND source = ?").run(launchId, source);
    insert(store, rows);
  });
}

/**
 * The running totals the conversation's last run recorded before a launch (of an earlier
 * launch) ended with, as JSON, or null: the baseline for agents that report only running
 * totals. Launch ids grow, so recording a launch again finds the same baseline.
 */
export function previousSessionTotals(
  store: Store,
  kind: string,
  sessionId: string,
  launchId: number,
): string | null {
  const row = sql(store).prepare(
    `SELECT session_totals FROM agent_usage
     WHERE kind = ? AND session_id = ? AND session_totals IS NOT NULL AND launch_id < ?
     ORDER BY launch_id DESC, id DESC LIMIT 1`,
  ).get(kind, sessionId, launchId) as { session_totals: string } | undefined;
  return row?.session_totals ?? null;
}

/** Whether a launch has recorded usage from a source. */
export function hasLaunchUsage(store: Store, launchId: number, source: string): boolean {
  return sql(store).prepare("SELECT 1 FROM agent_usage WHERE launch_id = ? AND source = ? LIMIT 1")
    .get(launchId, source) !== undefined;
}

/** Usage rows, oldest first: all, or those at or after an ISO time, or on or after a local day. */
export function listUsage(store: Store, since: { at?: string | undefined; day?: string | undefined } = {}): UsageRow[] {
  const where: string[] = [];
  const params: string[] = [];
  if (since.at) {
    where.push("at >= ?");
    params.push(since.at);
  }
  if (since.day) {
    where.push("day >= ?");
    params.push(since.day);
  }
  return sql(store).prepare(
    `SELECT * FROM agent_usage ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY at, id`,
  ).all(...params) as unknown as UsageRow[];
}

/** The usage rows of some launches. */
export function usageOfLaunches(store: Store, launchIds: readonly number[]): UsageRow[] {
  if (launchIds.length === 0) return [];
  return sql(store).prepare(
    `SELECT * FROM agent_usage WHERE launch_id IN (${launchIds.map(() => "?").join(", ")}) ORDER BY at, id`,
  ).all(...launchIds) as unknown as UsageRow[];
}

/** What was spent on a local day: the known costs' sum, and how many rows have no known cost. */
export function spentOnDay(store: Store, day: string): { cost_usd: number; unknown: number } {
  const row = sql(store).prepare(
    `SELECT COALESCE(SUM(cost_usd), 0) AS cost, SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END) AS unknown
     FROM agent_usage WHERE day = ?`,
  ).get(day) as { cost: number; unknown: number | null };
  return { cost_usd: Number(row.cost), unknown: Number(row.unknown ?? 0) };
}

/** The transcript cursors of a launch (JSON state per transcript file). */
export function cursorsOf(store: Store, launchId: number): { path: string; state: string }[] {
  return sql(store).prepare("SELECT path, state FROM usage_cursors WHERE launch_id = ?").all(launchId) as unknown as {
    path: string;
    state: string;
  }[];
}

/** Saves where reading a launch's transcript got to. */
export function saveCursor(store: Store, launchId: number, path: string, state: string, at: string): void {
  sql(store).prepare(
    `INSERT INTO usage_cursors (launch_id, path, state, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT(launch_id, path) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
  ).run(launchId, path, state, at);
}
