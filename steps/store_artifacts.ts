/** Built-in step `store-artifacts`: copies files from the working directory into the run's outputs/. */
import type { BuiltinContext, StepResult } from "../lib/run/contract.ts";
import { join, relative, resolve } from "../lib/util/path.ts";

/**
 * Copies `with.paths` (files or folders, relative to the working directory) into the run's
 * `outputs/`, recording each file. A missing path fails the step unless `with.optional: true`.
 */
export default async function storeArtifacts(ctx: BuiltinContext): Promise<StepResult> {
  const paths = ctx.with.paths;
  if (!Array.isArray(paths) || paths.length === 0 || paths.some((p) => typeof p !== "string")) {
    throw new Error('with.paths: expected a list of files or folders, e.g. `with: { paths: ["report.md"] }`');
  }
  const stored: string[] = [];
  const copy = async (full: string, rel: string): Promise<void> => {
    const info = await Deno.stat(full);
    if (info.isDirectory) {
      for await (const entry of Deno.readDir(full)) await copy(join(full, entry.name), join(rel, entry.name));
    } else if (info.isFile) {
      await ctx.artifact(rel, await Deno.readFile(full));
      stored.push(rel);
    }
  };
  for (const p of paths as string[]) {
    const full = resolve(ctx.paths.cwd, p);
    const rel = relative(ctx.paths.cwd, full);
    if (rel.startsWith("..")) throw new Error(`with.paths: "${p}" is outside the working directory`);
    try {
      await copy(full, rel);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound && ctx.with.optional === true) continue;
      if (error instanceof Deno.errors.NotFound) throw new Error(`with.paths: "${p}" not found in ${ctx.paths.cwd}`);
      throw error;
    }
  }
  for (const s of stored) ctx.log(`stored ${s}`);
  return { output: `stored ${stored.length} file(s)`, data: { files: stored } };
}
