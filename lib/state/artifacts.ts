/** The `artifacts` table: the files a run stored under its `outputs/`. */
import { sql } from "./_db.ts";
import type { Store } from "./store.ts";
import { now } from "../util/time.ts";

/** A file a run stored. */
export interface ArtifactRecord {
  /** The run. */
  run_id: string;
  /** The step that stored it. */
  step_idx: number | null;
  /** Its name under `outputs/`. */
  name: string;
  /** Its absolute path. */
  path: string;
  /** Its size in bytes. */
  size: number;
  /** ISO time it was stored. */
  created_at: string;
}

/** Records a stored artifact. */
export function addArtifact(
  store: Store,
  a: { runId: string; stepIdx: number | null; name: string; path: string; size: number },
): void {
  sql(store).prepare("INSERT INTO artifacts (run_id, step_idx, name, path, size, created_at) VALUES (?, ?, ?, ?, ?, ?)")
    .run(a.runId, a.stepIdx, a.name, a.path, a.size, now());
}

/**
 * A run's artifacts, in the order they were stored.
 *
 * @param store an open store
 * @param runId the run
 * @returns its artifacts
 */
export function listArtifacts(store: Store, runId: string): ArtifactRecord[] {
  return sql(store).prepare(
    "SELECT run_id, step_idx, name, path, size, created_at FROM artifacts WHERE run_id = ? ORDER BY id",
  ).all(runId) as unknown as ArtifactRecord[];
}
