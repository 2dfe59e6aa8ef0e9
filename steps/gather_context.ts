/** Built-in step `gather-context`: branch, head, status and changed files into the run's artifacts. */
import type { BuiltinContext, StepResult } from "../lib/run/contract.ts";
import { git, gitContext } from "../lib/workspace/git.ts";
import { join } from "node:path";

/**
 * Writes `context.json` (branch, head, status, changed files, and with `with.diff: true`
 * the diff against `with.base`) into the run's artifact folder and shares it as `context`.
 */
export default async function gatherContext(ctx: BuiltinContext): Promise<StepResult> {
  // git runs on the checkout prj knows (the run's worktree, else the project), never one found in the folder.
  const where = { project: ctx.paths.project, worktree: ctx.paths.worktree, cwd: ctx.paths.cwd };
  const context: Record<string, unknown> = { ...(await gitContext(where)), cwd: ctx.paths.cwd };
  if (typeof ctx.with.base === "string" && ctx.with.base !== "") {
    const base = ctx.with.base;
    const range = `${base}...HEAD`;
    context.base = base;
    context.changedSinceBase = (await git(where, ["diff", "--name-only", range], `git diff ${range}`))
      .split("\n").filter(Boolean);
    if (ctx.with.diff === true) await ctx.artifact("diff.patch", await git(where, ["diff", "--no-ext-diff", range]));
  } else if (ctx.with.diff === true) {
    await ctx.artifact("diff.patch", await git(where, ["diff", "--no-ext-diff", "HEAD"]));
  }
  await Deno.writeTextFile(join(ctx.paths.artifacts, "context.json"), JSON.stringify(context, null, 2) + "\n");
  ctx.shared.set("context", context);
  const changed = (context.changedFiles as string[]).length;
  return {
    output: `${context.branch ?? "(detached)"} at ${
      String(context.head ?? "no commits").slice(0, 8)
    }, ${changed} changed file(s)`,
    data: { branch: context.branch, head: context.head, changed },
  };
}
