/**
 * Which git branch a task is worked on, and where that branch starts. A task's `branch` is a
 * hint: Headless PM stores any text there (often the base branch for minor tasks, or one branch
 * shared by several tasks), and git checks a branch out in one worktree only.
 */
import type { Project } from "../../project/project.ts";
import { PrjError } from "../../util/errors.ts";
import { BRANCH_SLUG, slug } from "../../util/slug.ts";
import { branchExists, commitExists, git, gitMaybe, gitWorktrees, isValidBranchName } from "../../workspace/git.ts";
import { baseBranch } from "../../workspace/worktrees/names.ts";
import type { Task } from "./source.ts";

/** Where a task's work goes. */
export interface TaskBranch {
  /** The branch the task's worktree is on. */
  branch: string;
  /** Where the branch starts when it does not exist locally yet (a branch, `<remote>/<branch>` or the base). */
  from: string | undefined;
  /** The remote the branch is shared through (none: the repository has no remote). */
  remote: string | undefined;
  /** What was decided and why, one line each. */
  log: string[];
}

/** The branch prj makes for a task of its own: `<branch_prefix>task-<id>-<title>`. */
export function ownTaskBranch(project: Project, task: Task): string {
  return `${project.config.worktree.branch_prefix}task-${task.id}-${slug(task.title, BRANCH_SLUG)}`;
}

/** The branch prj's last "done on branch X" comment names in the task's notes, if any. */
export function branchInNotes(notes: string | null): string | undefined {
  const found = [...(notes ?? "").matchAll(/done on branch (\S+?)[\s,;)]/g)];
  return found.at(-1)?.[1];
}

/** The remote branches are shared through: `origin`, else the only remote, else none. */
export async function shareRemote(root: string): Promise<string | undefined> {
  const remotes = ((await gitMaybe(root, ["remote"])) ?? "").split("\n").map((r) => r.trim()).filter(Boolean);
  return remotes.includes("origin") ? "origin" : remotes.length === 1 ? remotes[0] : undefined;
}

/**
 * Chooses the branch for a task: the branch prj's last comment names (work already done on the
 * task, e.g. a developer's branch for QA), else the task's own branch when it can have a worktree
 * of its own, else `task-<id>-<title>`. The base branch, an empty branch and a branch checked out
 * in another worktree are never used; a branch that exists only on the remote starts from the
 * remote's commits (fetched first), and a local one behind the remote is fast-forwarded.
 *
 * @param project the project
 * @param task the task
 * @param worktreePath where the task's worktree is (or will be): a branch checked out there is the task's own
 * @param options `fetch`: fetch from the remote first (when branches are shared through it)
 * @throws {PrjError} when even the task's own branch is checked out elsewhere
 */
export async function chooseTaskBranch(
  project: Project,
  task: Task,
  worktreePath: string,
  options: { fetch?: boolean } = {},
): Promise<TaskBranch> {
  const root = project.root;
  const log: string[] = [];
  const base = await baseBranch(project);
  const remote = await shareRemote(root);
  if (remote && options.fetch) {
    const fetched = await gitMaybe(root, ["fetch", "--quiet", remote]);
    if (fetched === undefined) log.push(`could not fetch from ${remote}; using the branches known here`);
  }
  const checkedOut = new Map((await gitWorktrees(root)).filter((w) => w.branch).map((w) => [w.branch!, w.path]));
  const onRemote = async (b: string) => remote !== undefined && await commitExists(root, `refs/remotes/${remote}/${b}`);
  const known = async (b: string) => (await branchExists(root, b)) || await onRemote(b);
  const problem = async (b: string): Promise<string | undefined> => {
    if (b === base) return `is the base branch`;
    if (!(await isValidBranchName(root, b))) return `is not a valid branch name`;
    const at = checkedOut.get(b);
    if (at !== undefined && at !== worktreePath) return `is checked out at ${at}`;
    return undefined;
  };

  const own = ownTaskBranch(project, task);
  let branch: string | undefined;
  const noted = branchInNotes(task.notes);
  if (noted && noted !== own && !(await problem(noted)) && await known(noted)) {
    branch = noted;
    log.push(`working on ${noted}, the branch the task's notes say its work is on`);
  }
  if (!branch && task.branch && task.branch !== own) {
    const why = await problem(task.branch);
    if (why) log.push(`the task's branch ${task.branch} ${why}: working on ${own}`);
    else branch = task.branch;
  }
  if (!branch) {
    const at = checkedOut.get(own);
    if (at !== undefined && at !== worktreePath) {
      throw new PrjError(`Branch ${own} for task ${task.id} is checked out at ${at}`, {
        hint: "another worktree works on this task; remove it, or let that agent finish",
      });
    }
    branch = own;
  }

  let from: string | undefined;
  if (await branchExists(root, branch)) {
    if (await onRemote(branch)) await fastForward(root, branch, `${remote}/${branch}`, checkedOut, log);
  } else if (await onRemote(branch)) {
    from = `${remote}/${branch}`;
    log.push(`${branch} exists only on ${remote}: starting from its commits`);
  } else if (task.branch && task.branch !== branch && task.branch !== base && await branchExists(root, task.branch)) {
    from = task.branch;
  } else if (task.branch && task.branch !== branch && task.branch !== base && await onRemote(task.branch)) {
    from = `${remote}/${task.branch}`;
  } else {
    from = base;
  }
  return { branch, from, remote, log };
}

async function fastForward(
  root: string,
  branch: string,
  upstream: string,
  checkedOut: Map<string, string>,
  log: string[],
): Promise<void> {
  const local = (await gitMaybe(root, ["rev-parse", branch]))?.trim();
  const remote = (await gitMaybe(root, ["rev-parse", upstream]))?.trim();
  if (!local || !remote || local === remote) return;
  if ((await gitMaybe(root, ["merge-base", "--is-ancestor", local, remote])) === undefined) {
    log.push(`${branch} has commits that ${upstream} does not: working on the local branch`);
    return;
  }
  if (checkedOut.has(branch)) {
    log.push(`${branch} is behind ${upstream} but checked out: not moved`);
    return;
  }
  await git(root, ["branch", "--force", branch, upstream], `fast-forwarding ${branch}`);
  log.push(`${branch} fast-forwarded to ${upstream}`);
}

/**
 * Pushes a task's branch to the remote, so the next role (QA in another clone) sees the work.
 *
 * @throws {PrjError} when git refuses the push (with git's reason)
 */
export async function pushTaskBranch(root: string, remote: string, branch: string): Promise<void> {
  await git(
    root,
    ["push", "--quiet", "--set-upstream", remote, `${branch}:refs/heads/${branch}`],
    `git push ${remote}`,
    { hooks: true }, // the user's own pre-push hooks (git-lfs uploads its objects there)
  );
}
