/** `prj worktree merge`: a worktree's branch into its base, as a merge, a squash or a rebase. */
import * as path from "../../util/path.ts";
import type { Project } from "../../project/project.ts";
import { openStore } from "../../state/store.ts";
import { PrjError } from "../../util/errors.ts";
import { changedPaths, currentBranch, git, gitCapture, gitMaybe, mergeConflicts } from "../git.ts";
import { statusPaths } from "../porcelain.ts";
import { worktreeAgents } from "./agent_states.ts";
import { getWorktree } from "./list.ts";
import { withFileLock } from "./lock.ts";
import { removeWorktree } from "./remove.ts";

/** How a branch is brought into its base. */
export type MergeMode = "merge" | "squash" | "rebase";

/**
 * Runs `fn` holding the project's merge lock (an flock on `.prj/cache/merge.lock`, which git
 * ignores, freed by the OS if the process dies), so two merges never move the base at once.
 */
export async function withMergeLock<T>(project: Project, fn: () => Promise<T>): Promise<T> {
  const dir = path.join(project.prjDir, "cache");
  await Deno.mkdir(dir, { recursive: true });
  return await withFileLock(path.join(dir, "merge.lock"), fn);
}

/**
 * Checks that the main checkout can take a merge into `base`: it is on that branch and has
 * no uncommitted changes to tracked files.
 *
 * @throws {PrjError} naming what is in the way
 */
export async function checkMainCheckout(project: Project, base: string): Promise<void> {
  const mainChanges = statusPaths(await git(project.root, ["status", "--porcelain", "--untracked-files=no"]));
  if (mainChanges.length > 0) {
    throw new PrjError(`The main worktree has uncommitted changes: ${mainChanges.slice(0, 5).join(", ")}`, {
      hint: "commit or stash them first",
    });
  }
  const current = await currentBranch(project.root);
  if (current !== base) {
    throw new PrjError(`The main worktree is on "${current ?? "a detached HEAD"}", not the base "${base}"`, {
      hint: `run \`git checkout ${base}\` in ${project.root} first`,
    });
  }
}

/**
 * Merges `branch` into the branch checked out in the main checkout (which
 * {@link checkMainCheckout} checked), with the project's hooks. When git fails part way, the
 * main checkout is put back as it was before, and the error names the step.
 *
 * @returns the new head of the base
 * @throws {PrjError} when git refuses (a hook, a file in the way)
 */
export async function mergeIntoMain(project: Project, branch: string, mode: MergeMode): Promise<string> {
  const before = (await git(project.root, ["rev-parse", "HEAD"])).trim();
  try {
    if (mode === "squash") {
      await git(project.root, ["merge", "--squash", branch], "git merge --squash", { hooks: true });
      const staged = (await git(project.root, ["diff", "--cached", "--name-only"])).trim();
      if (staged) {
        await git(project.root, ["commit", "-m", `Squashed merge of ${branch}`], "git commit", { hooks: true });
      }
    } else if (mode === "rebase") {
      await git(project.root, ["merge", "--ff-only", branch], "git merge --ff-only", { hooks: true });
    } else {
      await git(project.root, ["merge", "--no-ff", "-m", `Merge ${branch}`, branch], "git merge", { hooks: true });
    }
  } catch (error) {
    await restoreMain(project, before);
    throw error;
  }
  return (await git(project.root, ["rev-parse", "HEAD"])).trim();
}

/** Puts the main checkout back at `before` after a failed merge: no merge in progress, nothing staged from it. */
async function restoreMain(project: Project, before: string): Promise<void> {
  const inMerge = (await gitCapture(project.root, ["rev-parse", "-q", "--verify", "MERGE_HEAD"])).code === 0;
  if (inMerge) await gitCapture(project.root, ["merge", "--abort"]);
  const head = (await gitCapture(project.root, ["rev-parse", "HEAD"])).stdout.trim();
  // `reset --merge` undoes what the merge changed and keeps nothing else (the tree was clean).
  if (head !== before || !inMerge) await gitCapture(project.root, ["reset", "--merge", before]);
}

/**
 * Refuses when the worktree's agent is still working or waiting for input.
 *
 * @throws {PrjError} naming the agent's state
 */
export async function refuseBusyAgent(project: Project, name: string, worktreePath: string): Promise<void> {
  const store = openStore(project.prjDir);
  try {
    const agent = (await worktreeAgents(project, store)).get(path.resolve(worktreePath));
    if (agent?.busy) {
      throw new PrjError(`The agent in worktree "${name}" is ${agent.label}; merge it when it has finished`, {
        hint: "see `prj fleet`; wait until it is idle or exited, stop it, or merge anyway with --force",
      });
    }
  } finally {
    store.close();
  }
}

/**
 * Brings a worktree's branch into its base in the main worktree: a merge commit (default),
 * `squash` (one commit), or `rebase` (rebases the branch, then fast-forwards the base).
 * A worktree whose agent is still working or waiting for input is refused unless `force`.
 *
 * @throws {PrjError} for a busy agent, a dirty tree or conflicts, naming the files; nothing is left half-merged
 *
 * @example
 * ```ts
 * import { initProject, openProject } from "@prunejuice/cli";
 * import { createWorktree, mergeWorktree } from "@prunejuice/cli/workspace";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const git = (...args: string[]) => new Deno.Command("git", { args: ["-c", "user.name=d", "-c", "user.email=d@d", ...args], cwd: `${dir}/repo` }).output();
 * await Deno.mkdir(`${dir}/repo`);
 * await git("init", "-q", "-b", "main");
 * await git("commit", "-q", "--allow-empty", "-m", "init");
 * await initProject(`${dir}/repo`);
 * const project = await openProject(`${dir}/repo`);
 * await git("add", ".gitignore");
 * await git("commit", "-q", "-m", "ignore prj state");
 * const { path } = await createWorktree(project, "feat");
 * await Deno.writeTextFile(`${path}/f.txt`, "f");
 * const commit = (...a: string[]) => new Deno.Command("git", { args: ["-c", "user.name=d", "-c", "user.email=d@d", ...a], cwd: path }).output();
 * await commit("add", "f.txt");
 * await commit("commit", "-q", "-m", "f");
 * Deno.env.set("GIT_AUTHOR_NAME", "d"); Deno.env.set("GIT_AUTHOR_EMAIL", "d@d");
 * Deno.env.set("GIT_COMMITTER_NAME", "d"); Deno.env.set("GIT_COMMITTER_EMAIL", "d@d");
 * const merged = await mergeWorktree(project, "feat", { mode: "squash", remove: true });
 * assert.equal(merged.removed, true);
 * assert.equal(await Deno.readTextFile(`${dir}/repo/f.txt`), "f");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function mergeWorktree(
  project: Project,
  name: string,
  options: { mode?: MergeMode | undefined; remove?: boolean | undefined; force?: boolean | undefined } = {},
): Promise<{ name: string; branch: string; base: string; mode: string; commit: string; removed: boolean }> {
  const wt = await getWorktree(project, name);
  if (!wt.branch || !wt.base) throw new PrjError(`Worktree "${name}" has no branch to merge`);
  const branch = wt.branch;
  const base = wt.base;
  const mode = options.mode ?? "merge";
  if (!options.force && wt.exists) await refuseBusyAgent(project, name, wt.path);
  return await withMergeLock(project, async () => {
    await checkMainCheckout(project, base);
    // Untracked files (a copied .env, build output) stay in the worktree and do not affect
    // the merge; uncommitted changes to tracked files would be left behind, so refuse those.
    const tracked = (await changedPaths({ project: project.root, worktree: wt.path }, { untracked: false })) ?? [];
    if (tracked.length > 0) {
      throw new PrjError(`Worktree "${name}" has uncommitted changes: ${tracked.slice(0, 5).join(", ")}`, {
        hint: "commit them first",
      });
    }
    const files = await mergeConflicts(project.root, base, branch);
    if (files.length > 0) {
      throw new PrjError(`Merging "${branch}" into "${base}" conflicts in: ${files.join(", ")}`, {
        hint: `resolve them in the worktree (e.g. \`git -C ${wt.path} merge ${base}\`), then merge again`,
      });
    }
    if (mode === "rebase") {
      const inWorktree = { project: project.root, worktree: wt.path };
      const rebase = await gitMaybe(inWorktree, ["rebase", base]);
      if (rebase === undefined) {
        await gitMaybe(inWorktree, ["rebase", "--abort"]);
        throw new PrjError(`Rebasing "${branch}" onto "${base}" failed; nothing was changed`);
      }
    }
    const commit = await mergeIntoMain(project, branch, mode);
    let removed = false;
    if (options.remove) {
      await removeWorktree(project, name, { force: mode === "squash" });
      removed = true;
    }
    return { name, branch, base, mode, commit, removed };
  });
}
