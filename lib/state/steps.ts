/** The `steps` table: one row per step of a run, written as the step starts and ends. */
import { parseJson, type Row, sql, transaction } from "./_db.ts";
import { setRunShared } from "./runs.ts";
import type { Store } from "./store.ts";
import { now } from "../util/time.ts";

/** Step states. */
export type StepStatus = "running" | "succeeded" | "failed" | "timed_out" | "cancelled" | "skipped" | "interrupted";

/** A step as stored. */
export interface StepRecord {
  /** The run it belongs to. */
  run_id: string;
  /** Its position in the run (0-based, across phases). */
  idx: number;
  /** `pre`, `main`, `post` or `cleanup`. */
  phase: string;
  /** Its name. */
  name: string;
  /** `builtin`, `module` or `program`. */
  kind: string;
  /** How it stands or ended. */
  status: StepStatus;
  /** ISO start time (null when it never started). */
  started_at: string | null;
  /** ISO end time. */
  finished_at: string | null;
  /** Duration in milliseconds. */
  duration_ms: number | null;
  /** The step's `output`. */
  output: string | null;
  /** The step's `data`. */
  data: Record<string, unknown> | null;
  /** Why it failed. */
  error: string | null;
  /** Its log file. */
  log_path: string | null;
}

/** Which step of which run, as the writers take it. */
export interface StepKey {
  runId: string;
  idx: number;
  phase: string;
  name: string;
  kind: string;
}

/** How a step ended, as {@link finishStep} records it. */
export interface StepEnd {
  status: StepStatus;
  durationMs: number;
  output?: string | undefined;
  data?: Record<string, unknown> | undefined;
  error?: string | undefined;
}

/** Records a step starting. */
export function startStep(store: Store, step: StepKey & { logPath: string }): void {
  sql(store).prepare(
    `INSERT INTO steps (run_id, idx, phase, name, kind, status, started_at, log_path)
     VALUES (?, ?, ?, ?, ?, 'running', ?, ?)`,
  ).run(step.runId, step.idx, step.phase, step.name, step.kind, now(), step.logPath);
}

/** Records a step that was not run (its condition was false, or the run stopped before it). */
export function skipStep(store: Store, step: StepKey): void {
  sql(store).prepare("INSERT INTO steps (run_id, idx, phase, name, kind, status) VALUES (?, ?, ?, ?, ?, 'skipped')")
    .run(step.runId, step.idx, step.phase, step.name, step.kind);
}

/** Records how a step ended, with the run's shared data as it stands, in one transaction. */
export function finishStep(
  store: Store,
  runId: string,
  idx: number,
  end: StepEnd,
  shared: Record<string, unknown>,
): void {
  transaction(store, () => {
    sql(store).prepare(
      `UPDATE steps SET status = ?, finished_at = ?, duration_ms = ?, output = ?, data = ?, error = ?
       WHERE run_id = ? AND idx = ?`,
    ).run(
      end.status,
      now(),
      Math.round(end.durationMs),
      end.output ?? null,
      end.data === undefined ? null : JSON.stringify(end.data),
      end.error ?? null,
      runId,
      idx,
    );
    setRunShared(store, runId, shared);
  });
}

/**
 * A run's steps in order.
 *
 * @param store an open store
 * @param runId the run
 * @returns its steps, by position
 */
export function listSteps(store: Store, runId: string): StepRecord[] {
  return (sql(store).prepare("SELECT * FROM steps WHERE run_id = ? ORDER BY idx").all(runId) as Row[]).map((r) => ({
    ...(r as unknown as StepRecord),
    data: parseJson(r.data, null),
  }));
}
