/** Built-in step `create-worktree`: a branch and worktree for this run; later steps run there. */
import type { BuiltinContext, StepResult } from "../lib/run/contract.ts";
import { createWorktree } from "../lib/workspace/worktrees/create.ts";
import { getWorktree } from "../lib/workspace/worktrees/list.ts";

/**
 * Creates (or with `with.reuse: true`, adopts an existing) worktree named `with.name`,
 * from `with.from`, on `with.branch`. Records it on the run; if the run fails, the
 * worktree and branch it created are removed.
 */
export default async function createWorktreeStep(ctx: BuiltinContext): Promise<StepResult> {
  const name = ctx.with.name;
  if (typeof name !== "string" || name === "") {
    throw new Error('with.name: expected the worktree name, e.g. `with: { name: "{{ args.feature_name }}" }`');
  }
  if (ctx.with.reuse === true) {
    try {
      const existing = await getWorktree(ctx.project, name, ctx.store);
      if (existing.exists && existing.branch) {
        ctx.setWorktree({ name, path: existing.path, branch: existing.branch }, false);
        ctx.log(`reusing worktree ${name} at ${existing.path}`);
        return {
          output: `reused ${existing.path}`,
          data: { name, path: existing.path, branch: existing.branch, port: existing.port },
        };
      }
    } catch { /* not there yet: create it */ }
  }
  const created = await createWorktree(ctx.project, name, {
    from: typeof ctx.with.from === "string" && ctx.with.from !== "" ? ctx.with.from : undefined,
    branch: typeof ctx.with.branch === "string" && ctx.with.branch !== "" ? ctx.with.branch : undefined,
    noCopy: ctx.with.copy === false,
    onProgress: (line) => ctx.log(line),
    runId: ctx.run.id,
    ownedByRun: true, // recorded as this run's before it is made, so a crash part way is torn down too
    signal: ctx.signal, // Ctrl-C stops a setup command, and the half-made worktree is undone
    store: ctx.store,
  });
  ctx.setWorktree({ name, path: created.path, branch: created.branch }, true);
  ctx.shared.set("worktree", { name, path: created.path, branch: created.branch, port: created.port });
  return {
    output: `${created.path} on ${created.branch} (PRJ_PORT=${created.port})`,
    data: { name, path: created.path, branch: created.branch, base: created.base, port: created.port },
  };
}
