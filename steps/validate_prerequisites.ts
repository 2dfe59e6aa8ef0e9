/** Built-in step `validate-prerequisites`: checks the git repo, required tools and required env vars. */
import type { BuiltinContext, StepResult } from "../lib/run/contract.ts";
import { onPath } from "../lib/util/process.ts";
import { gitContext, isGitRepo } from "../lib/workspace/git.ts";

function list(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new Error(`with.${field}: expected a list of names`);
  }
  return value as string[];
}

/**
 * Checks, and fails listing everything that is missing at once:
 * `with.git` (default true): the working directory is a git repo;
 * `with.clean`: the checkout has no uncommitted changes;
 * `with.tools`: programs that must be on PATH;
 * `with.env`: environment variables that must be set (in the step's env or prj's).
 */
export default async function validatePrerequisites(ctx: BuiltinContext): Promise<StepResult> {
  const missing: string[] = [];
  const wantGit = ctx.with.git ?? true;
  const where = { project: ctx.paths.project, worktree: ctx.paths.worktree, cwd: ctx.paths.cwd };
  if (wantGit && !(await isGitRepo(where))) missing.push(`git repository at "${ctx.paths.cwd}"`);
  else if (wantGit && ctx.with.clean === true) {
    const context = await gitContext(where);
    if (context.dirty) missing.push(`clean checkout (uncommitted: ${context.changedFiles.slice(0, 5).join(", ")})`);
  }
  const tools = list(ctx.with.tools, "tools");
  for (const tool of tools) if (!(await onPath(tool))) missing.push(`tool "${tool}" on PATH`);
  const envs = list(ctx.with.env, "env");
  for (const name of envs) {
    if (ctx.env[name] !== undefined) continue;
    const state = await Deno.permissions.query({ name: "env", variable: name });
    if (state.state !== "granted" || Deno.env.get(name) === undefined) missing.push(`environment variable ${name}`);
  }
  if (missing.length > 0) throw new Error(`missing prerequisites: ${missing.join("; ")}`);
  const checked = [wantGit ? "git repo" : null, ...tools, ...envs].filter(Boolean);
  return { output: `ok: ${checked.join(", ") || "nothing to check"}`, data: { tools, env: envs } };
}
