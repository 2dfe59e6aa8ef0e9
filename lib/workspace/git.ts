/** Small git helpers (real git, captured output), run through {@link gitInvocation} so nothing in a checkout can make git run a program. */
import { PrjError } from "../util/errors.ts";
import { capture } from "../util/process.ts";
import { gitInvocation, type GitPlace } from "./safe_git.ts";
import {
  type GitWorktreeEntry,
  parseAheadBehind,
  parseMergeTreeConflicts,
  parseStatusZ,
  parseWorktreeList,
  statusPaths,
} from "./porcelain.ts";

export type { GitPlace } from "./safe_git.ts";

const GIT_HINT = "install git (e.g. `apt-get install git`) and try again";

async function runGit(where: GitPlace, args: readonly string[], hooks: boolean, env?: Record<string, string>) {
  // No optional locks (in the invocation): prj's read-only queries (`git status` in every
  // worktree) must never take index.lock from under an agent that is committing there.
  const invocation = gitInvocation(where, hooks);
  return await capture(["git", ...invocation.options, ...args], {
    cwd: invocation.cwd,
    missingHint: GIT_HINT,
    env: env ? { ...env, ...invocation.env } : invocation.env,
  });
}

/**
 * Runs git at a checkout prj knows and returns its exit code and output, for commands whose
 * non-zero exit is an answer (`git merge-tree` exits 1 on conflicts).
 *
 * @param options `env`: more environment (`GIT_INDEX_FILE`, an identity); it never replaces
 *   where git runs (`GIT_DIR`, `GIT_WORK_TREE`)
 * @throws {PrjError} when git is not installed, or the worktree's `.git` entry is not the one git made
 */
export async function gitCapture(
  where: GitPlace,
  args: readonly string[],
  options: { env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return await runGit(where, args, false, options.env);
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
  const branch = (await currentBranch(cwd)) ?? null;
  const head = (await gitMaybe(cwd, ["rev-parse", "--verify", "--quiet", "HEAD"]))?.trim() || null;
  const headSubject = head ? (await gitMaybe(cwd, ["log", "-1", "--format=%s"]))?.trim() ?? null : null;
  const status = parseStatusZ(await git(cwd, ["status", "--porcelain=v1", "-z", "--untracked-files=all"]));
  return { branch, head, headSubject, status, changedFiles: status.map((s) => s.path), dirty: status.length > 0 };
}

/** The branch checked out at `where`, or undefined when HEAD is detached. */
export async function currentBranch(where: GitPlace): Promise<string | undefined> {
  return (await gitMaybe(where, ["symbolic-ref", "--quiet", "--short", "HEAD"]))?.trim() || undefined;
}

/**
 * The repository's default branch: origin's HEAD (the branch a clone checks out); without one, the
 * first local branch of `init.defaultBranch`, `main` and `master`, else the first local branch by
 * name; in a repository with no branch yet, `init.defaultBranch`, else `main`. Never merely the
 * branch checked out at the moment.
 */
export async function defaultBranchOf(root: string): Promise<string> {
  const origin = (await gitMaybe(root, ["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"]))?.trim();
  if (origin) return origin.replace(/^origin\//, "");
  const configured = (await gitMaybe(root, ["config", "init.defaultBranch"]))?.trim() || undefined;
  const branches =
    ((await gitMaybe(root, ["for-each-ref", "--sort=refname", "--format=%(refname:short)", "refs/heads"])) ??
      "").split("\n").filter(Boolean);
  for (const name of [configured, "main", "master"]) if (name && branches.includes(name)) return name;
  return branches[0] ?? configured ?? "main";
}

/**
 * The commit a new branch starts from for a base: the base itself when it names a commit here;
 * else origin's branch of that name (`origin/main` in a clone that has no local `main`); else
 * undefined.
 */
export async function startPointOf(root: string, base: string): Promise<string | undefined> {
  if (await commitExists(root, base)) return base;
  const remote = `origin/${base}`;
  if (await gitMaybe(root, ["show-ref", "--verify", "--quiet", `refs/remotes/${remote}`]) !== undefined) return remote;
  return undefined;
}

/** Whether the repository has a commit yet. */
export async function hasCommits(root: string): Promise<boolean> {
  return (await gitMaybe(root, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])) !== undefined ||
    ((await gitMaybe(root, ["for-each-ref", "--count=1", "--format=x", "refs/heads"])) ?? "").trim() !== "";
}

/** Whether a local branch exists. */
export async function branchExists(root: string, branch: string): Promise<boolean> {
  return (await gitMaybe(root, ["show-ref", "--verify", "--quiet", `refs/heads/${branch}`])) !== undefined;
}

/** Whether git accepts `branch` as a branch name. */
export async function isValidBranchName(root: string, branch: string): Promise<boolean> {
  return (await gitMaybe(root, ["check-ref-format", "--branch", branch])) !== undefined;
}

/** Whether `rev` names a commit. */
export async function commitExists(root: GitPlace, rev: string): Promise<boolean> {
  return (await gitMaybe(root, ["rev-parse", "--verify", "--quiet", `${rev}^{commit}`])) !== undefined;
}

/** Whether every commit of `branch` is in `base`. */
export async function isMerged(root: string, branch: string, base: string): Promise<boolean> {
  return (await gitMaybe(root, ["merge-base", "--is-ancestor", branch, base])) !== undefined;
}

/** Commits on `branch` not on `base` (ahead) and the reverse (behind), or undefined when git cannot tell. */
export async function aheadBehind(
  root: string,
  base: string,
  branch: string,
): Promise<{ ahead: number; behind: number } | undefined> {
  const out = await gitMaybe(root, ["rev-list", "--left-right", "--count", `${base}...${branch}`]);
  return out ? parseAheadBehind(out) : undefined;
}

/**
 * The paths with changes at `where` (`git status --porcelain`), or undefined when git
 * cannot read it.
 *
 * @param options `untracked: false` leaves untracked files out
 */
export async function changedPaths(
  where: GitPlace,
  options: { untracked?: boolean } = {},
): Promise<string[] | undefined> {
  const args = ["status", "--porcelain", ...(options.untracked === false ? ["--untracked-files=no"] : [])];
  const out = await gitMaybe(where, args);
  return out === undefined ? undefined : statusPaths(out);
}

/**
 * The worktrees git knows. Another prj process may be half-way through `git worktree add`,
 * which makes git fail to read that worktree's admin files for a moment: read again rather
 * than fail.
 */
export async function gitWorktrees(root: string): Promise<GitWorktreeEntry[]> {
  let out: string | undefined;
  for (let attempt = 0; out === undefined; attempt++) {
    out = await gitMaybe(root, ["worktree", "list", "--porcelain"]);
    if (out === undefined) {
      if (attempt >= 20) out = await git(root, ["worktree", "list", "--porcelain"], "git worktree list");
      else await new Promise((r) => setTimeout(r, 25));
    }
  }
  return parseWorktreeList(out);
}

/** The paths where merging `branch` into `base` would conflict (none: it merges cleanly). */
export async function mergeConflicts(root: string, base: string, branch: string): Promise<string[]> {
  const out = await runGit(root, ["merge-tree", "--write-tree", "--name-only", "--no-messages", base, branch], false);
  return out.code === 1 ? parseMergeTreeConflicts(out.stdout) : [];
}
