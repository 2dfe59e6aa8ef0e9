/** Built-in step `gather-context`: branch, head, status and changed files into the run's artifacts. */
import type { BuiltinContext, StepResult } from "../lib/run/contract.ts";
import { commitExists, git, gitContext } from "../lib/workspace/git.ts";
import { PrjError } from "../lib/util/errors.ts";
import { join } from "../lib/util/path.ts";

/**
 * Writes `context.json` (branch, head, status, changed files, and with `with.diff: true`
 * the diff against `with.base`) into the run's artifact folder and shares it as `context`.
 */
export default async function gatherContext(ctx: BuiltinContext): Promise<StepResult> {
  // git runs on the checkout prj knows (the run's worktree, else the project), never one found in the folder.
  const where = { project: ctx.paths.project, worktree: ctx.paths.worktree, cwd: ctx.paths.cwd };
  const context: Record<string, unknown> = { ...(await gitContext(where)), cwd: ctx.paths.cwd };
  const wantsBase = typeof ctx.with.base === "string" && ctx.with.base !== "";
  if ((wantsBase || ctx.with.diff === true) && context.head === null) {
    throw new PrjError("This repository has no commits yet, so there is nothing to diff against", {
      hint: 'make a first commit (git commit -m "initial"), then run it again',
    });
  }
  if (wantsBase) {
    const base = ctx.with.base as string;
    if (!(await commitExists(where, base))) {
      throw new PrjError(`Base "${base}" is not a branch or commit of this repository`, {
        hint: "pass base=<branch or commit> (git branch -a lists the branches)",
      });
    }
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
