/** `prj worktree remove`: the worktree, its sessions, its branch (unless kept) and its port slot. */
import type { Project } from "../../project/project.ts";
import { openStore, type Store } from "../../state/store.ts";
import { deleteWorktreeRecord, findWorktreeRecord } from "../../state/worktrees.ts";
import { supersedeLaunchesIn } from "../../state/launches.ts";
import { Intent } from "../../state/journal.ts";
import { PrjError } from "../../util/errors.ts";
import { changedPaths, git, gitMaybe, isMerged } from "../git.ts";
import { worktreeGitDir } from "../safe_git.ts";
import { killSessionsOfWorktree } from "../sessions.ts";
import { getWorktree } from "./list.ts";
import { detachedCommits } from "./work.ts";
import { withWorktreeLock } from "./lock.ts";
import { removeEmptyWorktreeDir } from "./names.ts";

/**
 * Removes a worktree, its sessions and (unless kept) its branch, and frees its port slot.
 *
 * @throws {PrjError} for a dirty worktree or an unmerged branch without `force`, naming which
 *
 * @example
 * ```ts
 * import { initProject, openProject } from "@prunejuice/cli";
 * import { createWorktree, removeWorktree } from "@prunejuice/cli/workspace";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const git = (...args: string[]) => new Deno.Command("git", { args: ["-c", "user.name=d", "-c", "user.email=d@d", ...args], cwd: `${dir}/repo` }).output();
 * await Deno.mkdir(`${dir}/repo`);
 * await git("init", "-q", "-b", "main");
 * await git("commit", "-q", "--allow-empty", "-m", "init");
 * await initProject(`${dir}/repo`);
 * const project = await openProject(`${dir}/repo`);
 * const { path } = await createWorktree(project, "tmp");
 * await Deno.writeTextFile(`${path}/wip.txt`, "wip");
 * await assert.rejects(() => removeWorktree(project, "tmp"), /uncommitted changes: wip\.txt/);
 * assert.equal((await removeWorktree(project, "tmp", { force: true })).deletedBranch, true);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function removeWorktree(
  project: Project,
  name: string,
  options: { force?: boolean; keepBranch?: boolean; store?: Store } = {},
): Promise<{ name: string; path: string; branch: string | null; deletedBranch: boolean; killedSessions: string[] }> {
  const store = options.store ?? openStore(project.prjDir);
  try {
    const found = await getWorktree(project, name, store);
    // Detached, git names no branch; the branch prj made for it is still its own (checked and deleted like any).
    const wt = found.branch === null && found.managed
      ? { ...found, branch: findWorktreeRecord(store, { path: found.path })?.branch ?? null }
      : found;
    if (!options.force) {
      if (wt.dirty) {
        const files = (await changedPaths({ project: project.root, worktree: wt.path })) ?? [];
        throw new PrjError(
          `Worktree "${name}" has uncommitted changes: ${files.slice(0, 5).join(", ")}${
            files.length > 5 ? ", ..." : ""
          }`,
          { hint: "commit or stash them, or pass --force to discard them", exitCode: 1 },
        );
      }
      const detached = await detachedCommits(project.root, found.exists ? found.head : null, found.branch);
      if (detached !== 0) {
        throw new PrjError(
          `Worktree "${name}" has ${
            detached ?? "maybe some"
          } commit(s) on a detached HEAD that no branch holds; removing it would lose them`,
          {
            hint: `give them a branch (git -C ${wt.path} switch -c <branch>), or pass --force to discard them`,
          },
        );
      }
      if (!options.keepBranch && wt.branch && wt.base && !(await isMerged(project.root, wt.branch, wt.base))) {
        throw new PrjError(
          `Branch "${wt.branch}" of worktree "${name}" has ${
            wt.ahead ?? "some"
          } commit(s) not merged into "${wt.base}"`,
          { hint: "merge it (`prj worktree merge`), pass --keep-branch to keep the branch, or --force to delete it" },
        );
      }
    }
    // In the journal before anything goes: a prj killed part way leaves the record, and the next
    // prj command finishes the removal (the checks above have passed, or it was forced).
    const intent = Intent.begin(project.prjDir, {
      kind: "worktree-remove",
      stage: "removing",
      name: wt.name,
      path: wt.path,
      branch: wt.branch ?? undefined,
      deleteBranch: !options.keepBranch && !!wt.branch && wt.managed,
    });
    try {
      const removed = await removeNow(project, store, wt, options);
      intent.done();
      return removed;
    } catch (error) {
      intent.done(); // refused (an untrusted .git entry): nothing was removed, nothing to finish
      throw error;
    }
  } finally {
    if (!options.store) store.close();
  }
}

async function removeNow(
  project: Project,
  store: Store,
  wt: Awaited<ReturnType<typeof getWorktree>>,
  options: { force?: boolean; keepBranch?: boolean },
): Promise<{ name: string; path: string; branch: string | null; deletedBranch: boolean; killedSessions: string[] }> {
  const killedSessions = await killSessionsOfWorktree(project, wt.path);
  let deletedBranch = false;
  await withWorktreeLock(project, async () => {
    // `git worktree remove` reads the worktree's .git entry: only when it is still git's own.
    let trusted = true;
    try {
      if (wt.exists) worktreeGitDir(project.root, wt.path);
    } catch (error) {
      if (!options.force) throw error;
      trusted = false;
    }
    if (wt.exists && trusted) {
      const force = options.force ? ["--force", "--force"] : [];
      await git(project.root, ["worktree", "remove", ...force, wt.path], "git worktree remove");
    } else if (wt.exists) {
      Deno.removeSync(wt.path, { recursive: true }); // then prune forgets it
    }
    await gitMaybe(project.root, ["worktree", "prune"]);
    try {
      Deno.removeSync(wt.path, { recursive: true });
    } catch { /* removed by git */ }
    removeEmptyWorktreeDir(project);
    if (!options.keepBranch && wt.branch && wt.managed) {
      deletedBranch = (await gitMaybe(project.root, ["branch", "-D", wt.branch])) !== undefined;
    }
  });
  deleteWorktreeRecord(store, wt.name);
  supersedeLaunchesIn(store, wt.path);
  return { name: wt.name, path: wt.path, branch: wt.branch, deletedBranch, killedSessions };
}
