/** Reading and pruning run history: run lookup by prefix, old-run cleanup with artifacts. */
import * as path from "node:path";
import { UsageError } from "../util/errors.ts";
import type { Store } from "../state/store.ts";
import { countRunsWithPrefix, deleteRunRows, getRun, listRuns, type RunRecord } from "../state/runs.ts";

/**
 * Finds a run by id or unique prefix.
 *
 * @throws {UsageError} when none or several runs match
 */
export function findRun(store: Store, idOrPrefix: string): RunRecord {
  const run = getRun(store, idOrPrefix);
  if (run) return run;
  const n = countRunsWithPrefix(store, idOrPrefix);
  if (n > 1) throw new UsageError(`Run id prefix "${idOrPrefix}" matches ${n} runs; give more characters`);
  throw new UsageError(`No run "${idOrPrefix}"`, { hint: "see `prj history` for run ids" });
}

/** The finished runs started before `cutoff` (never running ones). */
export function runsOlderThan(store: Store, cutoff: Date): RunRecord[] {
  return listRuns(store, { olderThan: cutoff.toISOString() }).filter((r) => r.status !== "running");
}

/** Deletes runs, their rows and their artifact folders. */
export async function deleteRuns(store: Store, prjDir: string, runs: readonly RunRecord[]): Promise<void> {
  for (const run of runs) {
    const dir = run.artifact_dir ?? path.join(prjDir, "artifacts", run.id);
    // Only ever delete inside .prj/artifacts.
    if (path.relative(path.join(prjDir, "artifacts"), dir).startsWith("..")) continue;
    try {
      await Deno.remove(dir, { recursive: true });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  deleteRunRows(store, runs.map((r) => r.id));
}
