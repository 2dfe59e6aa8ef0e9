/**
 * Teardown: what a run that did not succeed (failed, cancelled, timed out, or interrupted: its
 * prj process died) made is removed in reverse order of creation: its session, then its
 * worktree and branch, and only what this run created, as recorded in its `resources` rows
 * before it was made. A worktree that holds work (commits of its own, uncommitted changes) is
 * kept, and the notice says so: a failed run never destroys what an agent did.
 */
import type { Project } from "../project/project.ts";
import type { Store } from "../state/store.ts";
import { listResources, markResourceRemoved } from "../state/resources.ts";
import { findWorktreeRecord } from "../state/worktrees.ts";
import { importLazy } from "../util/lazy.ts";

type Sessions = typeof import("../workspace/sessions.ts");
type Remove = typeof import("../workspace/worktrees/remove.ts");
type List = typeof import("../workspace/worktrees/list.ts");
type Work = typeof import("../workspace/worktrees/work.ts");

/** What teardown did. */
export interface TeardownResult {
  /** Sessions it killed (or found gone). */
  sessions: string[];
  /** Worktrees it removed (or found gone). */
  removed: string[];
  /** Worktrees it kept, with why. */
  kept: { name: string; why: string }[];
}

/**
 * Removes the sessions and worktrees a run created that are still there; a failure to remove
 * one is reported, never thrown.
 *
 * @param project the project
 * @param store an open store
 * @param runId the run
 * @param notice told what was removed, kept, or could not be removed
 * @param why how the run ended, for the notices (`the run did not succeed`); empty for none
 */
export async function teardownRun(
  project: Project,
  store: Store,
  runId: string,
  notice: (message: string) => void,
  why = "the run did not succeed",
): Promise<TeardownResult> {
  const result: TeardownResult = { sessions: [], removed: [], kept: [] };
  const left = listResources(store, runId).filter((r) => r.removed_at === null);
  if (left.length === 0) return result;
  // The workspace modules are loaded only when there is something to remove.
  const url = import.meta.url;
  for (const s of left.filter((r) => r.kind === "session")) {
    try {
      const { killSessionExact } = await importLazy<Sessions>("../workspace/sessions.ts", url);
      const killed = await killSessionExact(project, s.name);
      markResourceRemoved(store, runId, "session", s.name);
      result.sessions.push(s.name);
      if (killed) notice(`removed session ${s.name}${why ? ` (${why})` : ""}`);
    } catch (e) {
      notice(`could not remove session ${s.name}: ${(e as Error).message}`);
    }
  }
  for (const w of left.filter((r) => r.kind === "worktree")) {
    try {
      const { getWorktree } = await importLazy<List>("../workspace/worktrees/list.ts", url);
      const row = findWorktreeRecord(store, { name: w.name });
      if (!row || (w.path !== null && row.path !== w.path)) {
        // Already removed (by a later step, or by hand), or the name is someone else's worktree now.
        markResourceRemoved(store, runId, "worktree", w.name);
        result.removed.push(w.name);
        continue;
      }
      const wt = await getWorktree(project, w.name, store);
      const { describeWork, worktreeWork } = await importLazy<Work>("../workspace/worktrees/work.ts", url);
      const held = describeWork(await worktreeWork(project, wt));
      if (held !== undefined) {
        result.kept.push({ name: w.name, why: held });
        notice(
          `kept worktree ${w.name} (${wt.path}): ${held}; remove it with \`prj worktree remove ${w.name}\` ` +
            "when you no longer need it",
        );
        continue;
      }
      const { removeWorktree } = await importLazy<Remove>("../workspace/worktrees/remove.ts", url);
      const removed = await removeWorktree(project, w.name, { force: true, keepBranch: false, store });
      markResourceRemoved(store, runId, "worktree", w.name);
      result.removed.push(w.name);
      notice(
        `removed worktree ${w.name}${removed.deletedBranch ? ` and branch ${removed.branch}` : ""}${
          why ? ` (${why})` : ""
        }`,
      );
    } catch (e) {
      notice(`could not remove worktree ${w.name}: ${(e as Error).message}`);
    }
  }
  return result;
}
