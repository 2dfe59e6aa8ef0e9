/** Reading and pruning run history: run lookup by prefix, old-run cleanup with artifacts. */
import * as path from "../util/path.ts";
import { PrjError, UsageError } from "../util/errors.ts";
import { didYouMean } from "../util/suggest.ts";
import type { Store } from "../state/store.ts";
import { countRunsWithPrefix, deleteRunRows, getRun, listRuns, type RunRecord } from "../state/runs.ts";
import { listSteps, type StepRecord } from "../state/steps.ts";
import { forgetLaunchFolders, launchFoldersOfRuns, type LaunchRecord } from "../state/launches.ts";

/**
 * Finds a run by id or unique prefix.
 *
 * @throws {UsageError} when none or several runs match
 */
export function findRun(store: Store, idOrPrefix: string): RunRecord {
  const run = getRun(store, idOrPrefix);
  if (run) return run;
  const n = countRunsWithPrefix(store, idOrPrefix);
  if (n > 1) {
    throw new UsageError(`Run id prefix "${idOrPrefix}" matches ${n} runs; give more characters`, {
      hint: "see `prj history` for run ids",
    });
  }
  throw new UsageError(`No run "${idOrPrefix}"`, { hint: "see `prj history` for run ids" });
}

/**
 * Finds a step of a run by number (1-based), name, or a prefix of one name (`agent` for
 * `agent-attempt-1` when it is the only attempt).
 *
 * @throws {UsageError} when none or several steps match
 */
export function findStep(store: Store, run: RunRecord, nameOrNumber: string): StepRecord {
  const steps = listSteps(store, run.id);
  const hint = { hint: `its steps: ${steps.map((s) => `${s.idx + 1}. ${s.name}`).join(", ")}` };
  if (/^\d+$/.test(nameOrNumber)) {
    const hit = steps.find((s) => s.idx === Number(nameOrNumber) - 1);
    if (hit) return hit;
    throw new UsageError(`Run ${run.id} has no step ${nameOrNumber} (it has ${steps.length})`, hint);
  }
  const exact = steps.filter((s) => s.name === nameOrNumber);
  const hits = exact.length > 0 ? exact : steps.filter((s) => s.name.startsWith(nameOrNumber));
  if (hits.length === 1) return hits[0]!;
  if (hits.length > 1) {
    throw new UsageError(
      `Step "${nameOrNumber}" of run ${run.id} matches ${hits.length} steps: ${hits.map((s) => s.name).join(", ")}`,
      { hint: "give the step's full name or its number" },
    );
  }
  throw new UsageError(
    `Run ${run.id} has no step "${nameOrNumber}"${didYouMean(nameOrNumber, steps.map((s) => s.name))}`,
    hint,
  );
}

/** A run's artifact folder. */
export function runDir(prjDir: string, run: RunRecord): string {
  return run.artifact_dir ?? path.join(prjDir, "artifacts", run.id);
}

/**
 * A run's log: its `run.log`, or, for a run recorded without one (an agent task run of an
 * older prj), each step's log under a heading.
 *
 * @throws {PrjError} when the run has no log at all (its artifacts were deleted)
 */
export async function runLogText(store: Store, prjDir: string, run: RunRecord): Promise<string> {
  const dir = runDir(prjDir, run);
  try {
    return await Deno.readTextFile(path.join(dir, "run.log"));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const parts: string[] = [];
  for (const step of listSteps(store, run.id)) {
    let text = "";
    try {
      if (step.log_path) text = await Deno.readTextFile(step.log_path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    const ended = step.error ? `${step.status}: ${step.error}` : step.status;
    parts.push(
      `== step ${step.idx + 1} ${step.name} (${ended})\n${text}${text === "" || text.endsWith("\n") ? "" : "\n"}`,
    );
  }
  if (parts.length === 0) {
    throw new PrjError(`Run ${run.id} has no log: neither ${path.join(dir, "run.log")} nor a step log exists`, {
      hint: "its artifacts may have been deleted; `prj history --json` still shows what it recorded",
    });
  }
  return parts.join("");
}

/** The finished runs started before `cutoff` (never running ones). */
export function runsOlderThan(store: Store, cutoff: Date): RunRecord[] {
  return listRuns(store, { olderThan: cutoff.toISOString() }).filter((r) => r.status !== "running");
}

/**
 * Deletes runs (their rows, their artifact folders and their agents' launch folders) and the
 * folders of other launches. Only ever inside `.prj/artifacts` and `.prj/launch`; a launch
 * folder's links are removed, never followed (a Gemini CLI home links to the user's own).
 */
export async function deleteRuns(
  store: Store,
  prjDir: string,
  runs: readonly RunRecord[],
  launches: readonly LaunchRecord[] = [],
): Promise<void> {
  const removeInside = async (root: string, dir: string) => {
    const rel = path.relative(root, dir);
    if (rel === "" || rel.startsWith("..") || path.isAbsolute(rel)) return;
    try {
      await Deno.remove(dir, { recursive: true });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  };
  for (const run of runs) await removeInside(path.join(prjDir, "artifacts"), runDir(prjDir, run));
  const folders = [...launchFoldersOfRuns(store, runs.map((r) => r.id)), ...launches];
  for (const l of folders) if (l.launch_dir) await removeInside(path.join(prjDir, "launch"), l.launch_dir);
  forgetLaunchFolders(store, folders.map((l) => l.id));
  deleteRunRows(store, runs.map((r) => r.id));
}
