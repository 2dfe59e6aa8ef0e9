/**
 * Runs one step with `runSandboxed` in a process of its own, for tests that need prj's
 * environment changed (registry variables, say): a test must not change its own process's
 * environment, which the test files running beside it share.
 *
 * Usage: deno run -A tests/support/run_sandboxed.ts '<json>' where the JSON has `moduleFile`,
 * `project`, `name` and `env` (set in this process after its own modules have loaded, so only
 * the step's process sees them). Prints `{ "output": ... }` or `{ "error": ... }`.
 */
import * as path from "node:path";
import { runSandboxed } from "../../lib/sandbox/sandbox.ts";
import { resolvePermissions } from "../../lib/sandbox/permissions.ts";

const spec = JSON.parse(Deno.args[0]!) as {
  moduleFile: string;
  project: string;
  name: string;
  env: Record<string, string>;
};
for (const [k, v] of Object.entries(spec.env)) Deno.env.set(k, v);
try {
  const result = await runSandboxed({
    moduleFile: spec.moduleFile,
    display: path.relative(spec.project, spec.moduleFile),
    commandFile: `.prj/commands/${spec.name}.yaml`,
    permissions: resolvePermissions([], {
      project: spec.project,
      worktree: undefined,
      artifacts: path.join(spec.project, ".prj"),
    }),
    ctx: { step: { name: spec.name }, paths: { project: spec.project, cwd: spec.project } },
    timeoutMs: 30000,
    signal: new AbortController().signal,
    onLog: () => {},
    onShared: () => {},
    onArtifact: () => Promise.resolve(""),
  });
  console.log(JSON.stringify({ output: result.output }));
} catch (error) {
  console.log(JSON.stringify({ error: String((error as Error).message ?? error) }));
}
Deno.exit(0);
