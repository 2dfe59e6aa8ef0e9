/** The built-in steps: each module (steps/<name>.ts) is imported only when a run uses it. */
import type { BuiltinStep } from "./contract.ts";
import { importLazy } from "../util/lazy.ts";

/**
 * Loads a built-in step by its name (`create-worktree` is steps/create_worktree.ts). The
 * specifier is computed, so `prj --help` and the library never load the steps; `deno
 * compile` includes steps/ instead.
 *
 * @param name a name from BUILTIN_STEP_NAMES (lib/definitions/steps.ts)
 */
export async function loadBuiltin(name: string): Promise<BuiltinStep> {
  const mod = await importLazy<{ default: BuiltinStep }>(
    `../../steps/${name.replaceAll("-", "_")}.ts`,
    import.meta.url,
  );
  return mod.default;
}
