/** Built-in step `cleanup`: removes temporary files the run made under its working directory. */
import type { BuiltinContext, StepResult } from "../lib/run/contract.ts";
import { relative, resolve } from "../lib/util/path.ts";

/**
 * Removes `with.paths` (relative to the working directory; never outside it, never the
 * folder itself). Missing paths are fine: cleanup must be safe to run after any failure.
 */
export default async function cleanup(ctx: BuiltinContext): Promise<StepResult> {
  const paths = ctx.with.paths ?? [];
  if (!Array.isArray(paths) || paths.some((p) => typeof p !== "string")) {
    throw new Error("with.paths: expected a list of files or folders to remove");
  }
  const removed: string[] = [];
  for (const p of paths as string[]) {
    const full = resolve(ctx.paths.cwd, p);
    const rel = relative(ctx.paths.cwd, full);
    if (rel === "" || rel.startsWith("..")) throw new Error(`with.paths: "${p}" is not inside the working directory`);
    try {
      await Deno.remove(full, { recursive: true });
      removed.push(rel);
      ctx.log(`removed ${rel}`);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return { output: `removed ${removed.length} path(s)`, data: { removed } };
}
