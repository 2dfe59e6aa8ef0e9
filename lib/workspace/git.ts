/** Small git helpers (real git, captured output). */
import { PrjError } from "../util/errors.ts";
import { capture } from "../util/process.ts";

const GIT_HINT = "install git (e.g. `apt-get install git`) and try again";
// No optional locks: prj's read-only queries (`git status` in every worktree) must never
// take index.lock from under an agent that is committing there.
const GIT_ENV = { GIT_TERMINAL_PROMPT: "0", GIT_OPTIONAL_LOCKS: "0" };

/** Runs git in `cwd` and returns stdout, or throws with git's own message. */
export async function git(cwd: string, args: readonly string[], what?: string): Promise<string> {
  const out = await capture(["git", ...args], { cwd, missingHint: GIT_HINT, env: GIT_ENV });
  if (out.code !== 0) {
    const message = out.stderr.trim().split("\n").filter((l) => l.trim() !== "").slice(-1)[0] ??
      `exit code ${out.code}`;
    throw new PrjError(`${what ?? `git ${args[0]}`} failed: ${message.replace(/^(fatal|error): /, "")}`);
  }
  return out.stdout;
}

/** Like {@link git} but returns undefined instead of throwing on a non-zero exit. */
export async function gitMaybe(cwd: string, args: readonly string[]): Promise<string | undefined> {
  const out = await capture(["git", ...args], { cwd, missingHint: GIT_HINT, env: GIT_ENV });
  return out.code === 0 ? out.stdout : undefined;
}

/** Whether `cwd` is inside a git work tree. */
export async function isGitRepo(cwd: string): Promise<boolean> {
  return (await gitMaybe(cwd, ["rev-parse", "--is-inside-work-tree"]))?.trim() === "true";
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
export async function gitContext(cwd: string): Promise<GitContext> {
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
