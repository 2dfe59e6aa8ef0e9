/** Small git helpers (real git, captured output), run through {@link gitInvocation} so nothing in a checkout can make git run a program. */
import { PrjError } from "../util/errors.ts";
import { capture } from "../util/process.ts";
import { gitInvocation, type GitPlace } from "./safe_git.ts";

export type { GitPlace } from "./safe_git.ts";

const GIT_HINT = "install git (e.g. `apt-get install git`) and try again";

async function runGit(where: GitPlace, args: readonly string[], hooks: boolean) {
  // No optional locks (in the invocation): prj's read-only queries (`git status` in every
  // worktree) must never take index.lock from under an agent that is committing there.
  const invocation = gitInvocation(where, hooks);
  return await capture(["git", ...invocation.options, ...args], {
    cwd: invocation.cwd,
    missingHint: GIT_HINT,
    env: invocation.env,
  });
}

/**
 * Runs git at a checkout prj knows and returns stdout, or throws with git's own message.
 *
 * @param where the project root (main checkout), or `{ project, worktree, cwd }` for a linked worktree
 * @param options `hooks: true` for prj's own commits in the main checkout (hooks are off otherwise)
 * @throws {PrjError} when git fails, or the worktree's `.git` entry is not the one git made
 */
export async function git(
  where: GitPlace,
  args: readonly string[],
  what?: string,
  options: { hooks?: boolean } = {},
): Promise<string> {
  const out = await runGit(where, args, options.hooks ?? false);
  if (out.code !== 0) {
    const message = out.stderr.trim().split("\n").filter((l) => l.trim() !== "").slice(-1)[0] ??
      `exit code ${out.code}`;
    throw new PrjError(`${what ?? `git ${args[0]}`} failed: ${message.replace(/^(fatal|error): /, "")}`);
  }
  return out.stdout;
}

/** Like {@link git} but returns undefined instead of throwing on a non-zero exit or an untrusted checkout. */
export async function gitMaybe(where: GitPlace, args: readonly string[]): Promise<string | undefined> {
  let out;
  try {
    out = await runGit(where, args, false);
  } catch (error) {
    if (error instanceof PrjError && !/is not installed/.test(error.message)) return undefined;
    throw error;
  }
  return out.code === 0 ? out.stdout : undefined;
}

/** Whether `where` is a git checkout prj can run git in. */
export async function isGitRepo(where: GitPlace): Promise<boolean> {
  return (await gitMaybe(where, ["rev-parse", "--is-inside-work-tree"]))?.trim() === "true";
}

/** A summary of the state of a checkout. */
export interface GitContext {
  branch: string | null;
  head: string | null;
  headSubject: string | null;
  status: { path: string; state: string }[];
  changedFiles: string[];
  dirty: boolean;
}

/** Branch, head, status and changed files of a checkout. */
export async function gitContext(cwd: GitPlace): Promise<GitContext> {
  const branch = (await gitMaybe(cwd, ["symbolic-ref", "--quiet", "--short", "HEAD"]))?.trim() ?? null;
  const head = (await gitMaybe(cwd, ["rev-parse", "--verify", "--quiet", "HEAD"]))?.trim() || null;
  const headSubject = head ? (await gitMaybe(cwd, ["log", "-1", "--format=%s"]))?.trim() ?? null : null;
  const porcelain = await git(cwd, ["status", "--porcelain=v1", "-z", "--untracked-files=all"]);
  const status: { path: string; state: string }[] = [];
  const parts = porcelain.split("\0").filter((p) => p !== "");
  for (let i = 0; i < parts.length; i++) {
    const entry = parts[i]!;
    const state = entry.slice(0, 2);
    status.push({ path: entry.slice(3), state: state.trim() || state });
    if (state[0] === "R" || state[0] === "C") i++; // the original name follows
  }
  return { branch, head, headSubject, status, changedFiles: status.map((s) => s.path), dirty: status.length > 0 };
}
