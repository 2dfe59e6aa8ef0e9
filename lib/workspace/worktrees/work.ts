/**
 * Whether a worktree holds work that is not on its base: uncommitted changes, or commits its
 * branch made since it was created. Removing such a worktree without being told to would
 * destroy that work, so teardown and prune ask this first.
 */
import type { Project } from "../../project/project.ts";
import { changedPaths, gitMaybe } from "../git.ts";

/** What a worktree holds that is not on its base. */
export interface WorktreeWork {
  /** Uncommitted changes (tracked and untracked, not ignored); undefined when git cannot read the folder. */
  changes: string[] | undefined;
  /** Commits the branch made since it was created; undefined when git cannot tell (no reflog, no branch). */
  commits: number | undefined;
  /**
   * Commits at a detached HEAD that no branch, tag or remote branch holds (lost once the worktree
   * goes); 0 on a branch, undefined when git cannot tell.
   */
  detached: number | undefined;
}

/**
 * The commit a branch was created at: the oldest entry of its reflog (`branch: Created from
 * main`), or undefined when the branch has no reflog.
 */
export async function branchStart(root: string, branch: string): Promise<string | undefined> {
  const out = await gitMaybe(root, ["reflog", "show", "--format=%H", `refs/heads/${branch}`, "--"]);
  const lines = out?.trim().split("\n").filter((l) => /^[0-9a-f]{40,64}$/.test(l));
  return lines && lines.length > 0 ? lines.at(-1) : undefined;
}

/** How many commits `branch` made since it was created, or undefined when git cannot tell. */
export async function ownCommits(root: string, branch: string): Promise<number | undefined> {
  const start = await branchStart(root, branch);
  if (start === undefined) return undefined;
  const out = await gitMaybe(root, ["rev-list", "--count", `${start}..refs/heads/${branch}`, "--"]);
  return out === undefined ? undefined : Number(out.trim());
}

/**
 * How many commits a worktree's detached HEAD holds that no branch, tag or remote branch does:
 * an agent that committed after `git checkout --detach` has its work only there. 0 on a branch.
 *
 * @param head the worktree's commit (from `git worktree list`), null when unknown
 * @param branch its branch, null when detached
 */
export async function detachedCommits(
  root: string,
  head: string | null,
  branch: string | null,
): Promise<number | undefined> {
  if (branch !== null || head === null) return 0;
  if (!/^[0-9a-f]{40,64}$/.test(head)) return undefined;
  const out = await gitMaybe(root, ["rev-list", "--count", head, "--not", "--branches", "--tags", "--remotes", "--"]);
  return out === undefined ? undefined : Number(out.trim());
}

/**
 * What a worktree holds beyond its base.
 *
 * @param wt its folder (undefined or missing: no uncommitted changes to lose) and branch
 */
export async function worktreeWork(
  project: Project,
  wt: { path: string | undefined; exists: boolean; branch: string | null; head?: string | null },
): Promise<WorktreeWork> {
  const changes = wt.exists && wt.path ? await changedPaths({ project: project.root, worktree: wt.path }) : [];
  const commits = wt.branch ? await ownCommits(project.root, wt.branch) : 0;
  const detached = await detachedCommits(project.root, wt.head ?? null, wt.branch);
  return { changes, commits, detached };
}

/**
 * Why a worktree must be kept, in words (`it has 2 commit(s) of its own and uncommitted
 * changes: a.txt`), or undefined when it holds nothing that is not on its base.
 */
export function describeWork(work: WorktreeWork): string | undefined {
  const has: string[] = [];
  const unknown: string[] = [];
  if (work.commits === undefined) unknown.push("git cannot tell whether its branch has commits of its own");
  else if (work.commits > 0) has.push(`${work.commits} commit(s) of its own`);
  if (work.detached === undefined) {
    unknown.push("git cannot tell whether its detached HEAD holds commits no branch has");
  } else if (work.detached > 0) has.push(`${work.detached} commit(s) on a detached HEAD that no branch holds`);
  if (work.changes === undefined) unknown.push("git cannot read its folder");
  else if (work.changes.length > 0) {
    has.push(`uncommitted changes: ${work.changes.slice(0, 5).join(", ")}${work.changes.length > 5 ? ", ..." : ""}`);
  }
  const parts = [...(has.length > 0 ? [`it has ${has.join(" and ")}`] : []), ...unknown];
  return parts.length === 0 ? undefined : parts.join("; ");
}
