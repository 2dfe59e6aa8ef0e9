/** Built-in step `remove-worktree`: removes the run's worktree (and its branch unless kept). */
import type { BuiltinContext, StepResult } from "../lib/run/contract.ts";
import { removeWorktree } from "../lib/workspace/worktrees/remove.ts";

/** Removes the run's worktree (or `with.name`); `with.force`, `with.keep_branch` as in `prj worktree remove`. */
export default async function removeWorktreeStep(ctx: BuiltinContext): Promise<StepResult> {
  const name = typeof ctx.with.name === "string" ? ctx.with.name : ctx.resources.worktree?.name;
  if (!name) throw new Error("remove-worktree: this run has no worktree (and no with.name)");
  const removed = await removeWorktree(ctx.project, name, {
    force: ctx.with.force === true,
    keepBranch: ctx.with.keep_branch === true,
    store: ctx.store,
  });
  ctx.resourceRemoved("worktree", name);
  return { output: `removed ${removed.path}${removed.deletedBranch ? ` and branch ${removed.branch}` : ""}` };
}
