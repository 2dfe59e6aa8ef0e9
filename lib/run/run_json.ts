/**
 * `run.json`, the run's summary beside its logs: written by the Session as the run goes, and
 * written again from the database by whoever finishes the record of a run whose prj died, so
 * the file and the database agree.
 */
import * as path from "../util/path.ts";
import type { Store } from "../state/store.ts";
import { getRun } from "../state/runs.ts";
import { listSteps } from "../state/steps.ts";
import { listResources } from "../state/resources.ts";

/** What run.json holds. */
export interface RunJson {
  id: string;
  command: string;
  source: string | null;
  args: Record<string, unknown>;
  status: string;
  started_at: string;
  duration_ms: number | null;
  error: string | null;
  model: string | null;
  worktree: { name: string; path: string; branch: string } | null;
  session: string | null;
  shared: Record<string, unknown>;
  steps: Record<string, unknown>[];
}

/**
 * Writes `<dir>/run.json` atomically (a crash leaves the old file or the new one, never half).
 *
 * @throws when it cannot be written (the caller decides whether that matters)
 */
export function writeRunJsonFile(dir: string, json: RunJson): void {
  const file = path.join(dir, "run.json");
  const tmp = `${file}.${Deno.pid}.tmp`;
  try {
    Deno.writeTextFileSync(tmp, JSON.stringify(json, null, 2) + "\n");
    Deno.renameSync(tmp, file);
  } catch (error) {
    try {
      Deno.removeSync(tmp);
    } catch { /* not made */ }
    throw error;
  }
}

/**
 * Writes a run's run.json from its rows in the database (status, error, steps, shared data),
 * keeping what only the file knew (the definition's file).
 *
 * @returns false when the run has no row or no artifacts folder
 */
export function rewriteRunJson(store: Store, runId: string): boolean {
  const run = getRun(store, runId);
  if (!run || !run.artifact_dir) return false;
  let old: Partial<RunJson> = {};
  try {
    old = JSON.parse(Deno.readTextFileSync(path.join(run.artifact_dir, "run.json"))) as Partial<RunJson>;
  } catch { /* missing or cut short: rebuilt from the rows */ }
  const created = listResources(store, runId).find((r) => r.kind === "worktree");
  const worktree = run.worktree
    ? {
      name: created?.name ?? old.worktree?.name ?? path.basename(run.worktree),
      path: run.worktree,
      branch: run.branch ?? created?.branch ?? "",
    }
    : null;
  Deno.mkdirSync(run.artifact_dir, { recursive: true });
  writeRunJsonFile(run.artifact_dir, {
    id: run.id,
    command: run.command,
    source: old.source ?? null,
    args: run.args,
    status: run.status,
    started_at: run.started_at,
    duration_ms: run.duration_ms ?? (run.finished_at ? Date.parse(run.finished_at) - Date.parse(run.started_at) : null),
    error: run.error,
    model: run.model,
    worktree,
    session: run.session,
    shared: run.shared,
    steps: listSteps(store, runId).map((s) => ({
      index: s.idx,
      name: s.name,
      phase: s.phase,
      status: s.status,
      durationMs: s.duration_ms ?? 0,
      ...(s.output === null ? {} : { output: s.output }),
      ...(s.data === null ? {} : { data: s.data }),
      ...(s.error === null ? {} : { error: s.error }),
      log: s.log_path ? path.relative(run.artifact_dir!, s.log_path) : null,
    })),
  });
  return true;
}
