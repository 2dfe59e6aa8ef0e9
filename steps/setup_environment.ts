/** Built-in step `setup-environment`: records the run's environment and prepares its artifact folders. */
import type { BuiltinContext, StepResult } from "../lib/run/contract.ts";
import { join, relative, resolve } from "../lib/util/path.ts";

/**
 * Writes `environment.json` (prj, Deno and OS versions, paths, the granted env names) into
 * the run's outputs and shares it as `environment`. With `with.dirs`, creates those
 * folders under the working directory.
 */
export default async function setupEnvironment(ctx: BuiltinContext): Promise<StepResult> {
  const dirs = ctx.with.dirs;
  if (dirs !== undefined && (!Array.isArray(dirs) || dirs.some((d) => typeof d !== "string"))) {
    throw new Error("with.dirs: expected a list of folder names");
  }
  for (const dir of (dirs ?? []) as string[]) {
    const full = resolve(ctx.paths.cwd, dir);
    if (relative(ctx.paths.cwd, full).startsWith("..")) {
      throw new Error(`with.dirs: "${dir}" is outside the working directory`);
    }
    await Deno.mkdir(full, { recursive: true });
    ctx.log(`created ${dir}`);
  }
  await Deno.mkdir(join(ctx.paths.artifacts, "outputs"), { recursive: true });
  const environment = {
    deno: Deno.version.deno,
    os: Deno.build.os,
    arch: Deno.build.arch,
    project: ctx.paths.project,
    cwd: ctx.paths.cwd,
    worktree: ctx.paths.worktree ?? null,
    env: Object.keys(ctx.env).sort(),
    model: ctx.model ?? null,
  };
  await ctx.artifact("environment.json", JSON.stringify(environment, null, 2) + "\n");
  ctx.shared.set("environment", environment);
  return { output: `deno ${environment.deno} on ${environment.os}/${environment.arch}`, data: environment };
}
