/** `prj worktree merge`: a worktree's branch into its base, as a merge, a squash or a rebase. */
import type { Project } from "../../project/project.ts";
import { PrjError } from "../../util/errors.ts";
import { changedPaths, currentBranch, git, gitMaybe, mergeConflicts } from "../git.ts";
import { statusPaths } from "../porcelain.ts";
import { getWorktree } from "./list.ts";
import { removeWorktree } from "./remove.ts";

/**
 * Brings a worktree's branch into its base in the main worktree: a merge commit (default),
 * `squash` (one commit), or `rebase` (rebases the branch, then fast-forwards the base).
 *
 * @throws {PrjError} for a dirty tree or conflicts, naming the files; nothing is left half-merged
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
  options: { mode?: "merge" | "squash" | "rebase"; remove?: boolean } = {},
): Promise<{ name: string; branch: string; base: string; mode: string; commit: string; removed: boolean }> {
  const wt = await getWorktree(project, name);
  if (!wt.branch || !wt.base) throw new PrjError(`Worktree "${name}" has no branch to merge`);
  const mode = options.mode ?? "merge";
  const mainChanges = statusPaths(await git(project.root, ["status", "--porcelain", "--untracked-files=no"]));
  if (mainChanges.length > 0) {
    throw new PrjError(
      `The main worktree has uncommitted changes: ${mainChanges.slice(0, 5).join(", ")}`,
      {
        hint: "commit or stash them first",
      },
    );
  }
  // Untracked files (a copied .env, build output) stay in the worktree and do not affect
  // the merge; uncommitted changes to tracked files would be left behind, so refuse those.
  const tracked = (await changedPaths({ project: project.root, worktree: wt.path }, { untracked: false })) ?? [];
  if (tracked.length > 0) {
    throw new PrjError(`Worktree "${name}" has uncommitted changes: ${tracked.slice(0, 5).join(", ")}`, {
      hint: "commit them first",
    });
  }

  const current = await currentBranch(project.root);
  if (current !== wt.base) {
    throw new PrjError(`The main worktree is on "${current ?? "a detached HEAD"}", not the base "${wt.base}"`, {
      hint: `run \`git checkout ${wt.base}\` in ${project.root} first`,
    });
  }
  const files = await mergeConflicts(project.root, wt.base, wt.branch);
  if (files.length > 0) {
    throw new PrjError(`Merging "${wt.branch}" into "${wt.base}" conflicts in: ${files.join(", ")}`, {
      hint: `resolve them in the worktree (e.g. \`git -C ${wt.path} merge ${wt.base}\`), then merge again`,
    });
  }
  if (mode === "squash") {
    await git(project.root, ["merge", "--squash", wt.branch], "git merge --squash", { hooks: true });
    const staged = (await git(project.root, ["diff", "--cached", "--name-only"])).trim();
    if (staged) {
      await git(project.root, ["commit", "-m", `Squashed merge of ${wt.branch}`], "git commit", { hooks: true });
    }
  } else if (mode === "rebase") {
    const inWorktree = { project: project.root, worktree: wt.path };
    const rebase = await gitMaybe(inWorktree, ["rebase", wt.base]);
    if (rebase === undefined) {
      await gitMaybe(inWorktree, ["rebase", "--abort"]);
      throw new PrjError(`Rebasing "${wt.branch}" onto "${wt.base}" failed; nothing was changed`);
    }
    await git(project.root, ["merge", "--ff-only", wt.branch], "git merge --ff-only", { hooks: true });
  } else {
    await git(project.root, ["merge", "--no-ff", "-m", `Merge ${wt.branch}`, wt.branch], "git merge", { hooks: true });
  }
  const commit = (await git(project.root, ["rev-parse", "HEAD"])).trim();
  let removed = false;
  if (options.remove) {
    await removeWorktree(project, name, { force: mode === "squash" });
    removed = true;
  }
  return { name, branch: wt.branch, base: wt.base, mode, commit, removed };
}
