/**
 * Taking apart a worktree that was half made, or finishing one that was half removed: the
 * worktree folder, git's record of it, its branch, its sessions, its database row. Used when
 * `createWorktree` fails part way, and by the reconciler for the work a dead prj process left
 * in the journal. Every step copes with its part being done already, so it can be run again.
 */
import * as path from "../../util/path.ts";
import type { Project } from "../../project/project.ts";
import type { Store } from "../../state/store.ts";
import type { IntentRecord } from "../../state/journal.ts";
import { deleteWorktreeRecord, findWorktreeRecord } from "../../state/worktrees.ts";
import { markResourceRemoved } from "../../state/resources.ts";
import { killProcessGroup, processesMentioning, waitOrKill } from "../../util/liveness.ts";
import { exists } from "../../util/fs.ts";
import { branchExists, gitMaybe } from "../git.ts";
import { killSessionExact, killSessionsOfWorktree } from "../sessions.ts";
import { withWorktreeLock } from "./lock.ts";
import { removeEmptyWorktreeDir } from "./names.ts";
import { ownCommits } from "./work.ts";

/** The main repository's git folder (`.git`, or where a `.git` file points). */
function commonDir(root: string): string {
  const dotGit = path.join(root, ".git");
  try {
    if (Deno.lstatSync(dotGit).isFile) {
      const m = /^gitdir: (.+)$/m.exec(Deno.readTextFileSync(dotGit));
      if (m) return path.resolve(root, m[1]!.trim());
    }
  } catch { /* no .git */ }
  return dotGit;
}

/**
 * git's folder for the linked worktree at `wtPath` (`<common>/worktrees/<id>`), from the main
 * repository's records. Called holding the worktree lock, so no live `git worktree add` is
 * half-way through one.
 */
function adminDirOf(project: Project, wtPath: string): string | undefined {
  const common = commonDir(project.root);
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(path.join(common, "worktrees"))];
  } catch {
    return undefined;
  }
  const want = path.join(wtPath, ".git");
  for (const entry of entries) {
    const dir = path.join(common, "worktrees", entry.name);
    try {
      if (path.resolve(dir, Deno.readTextFileSync(path.join(dir, "gitdir")).trim()) === want) return dir;
    } catch { /* half written: checked below by name */ }
  }
  // `git worktree add` writes the gitdir file early; a folder named after the worktree with no
  // gitdir yet is the one it was making.
  const byName = path.join(common, "worktrees", path.basename(wtPath));
  try {
    Deno.readTextFileSync(path.join(byName, "gitdir"));
    return undefined; // it belongs to another worktree of the same name
  } catch { /* no gitdir */ }
  try {
    return Deno.statSync(byName).isDirectory ? byName : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes the worktree folder at `wtPath` and git's record of it, whatever state they are in
 * (a checkout cut short, git's "initializing" lock, a folder git no longer knows). A git that
 * a killed prj started there is given a moment to finish, then stopped.
 *
 * @returns whether there was anything to remove
 */
export async function removeWorktreeFolder(project: Project, wtPath: string): Promise<boolean> {
  await waitOrKill(processesMentioning("git", wtPath), 10_000);
  return await withWorktreeLock(project, async () => {
    const there = adminDirOf(project, wtPath) !== undefined || exists(wtPath);
    if (adminDirOf(project, wtPath) !== undefined) {
      await gitMaybe(project.root, ["worktree", "remove", "--force", "--force", wtPath]);
    }
    try {
      Deno.removeSync(wtPath, { recursive: true });
    } catch { /* gone */ }
    // A worktree locked while it was being made is never pruned by git: remove its record here.
    const admin = adminDirOf(project, wtPath);
    if (admin !== undefined) {
      try {
        Deno.removeSync(admin, { recursive: true });
      } catch { /* gone */ }
    }
    await gitMaybe(project.root, ["worktree", "prune"]);
    removeEmptyWorktreeDir(project);
    return there;
  });
}

/** What undoing a half-made worktree did. */
export interface UndoneCreate {
  /** Whether the worktree was kept (its branch has commits of its own), and why. */
  kept?: string | undefined;
  /** Whether its branch was deleted. */
  deletedBranch: boolean;
  /** Whether a session was killed. */
  killedSession: boolean;
  /** Whether its folder (or git's record of it) was there to remove. */
  removedFolder: boolean;
  /** Whether its database row was there to remove. */
  removedRow: boolean;
  /** Whether its setup command was still running and was stopped. */
  stoppedSetup: boolean;
}

/**
 * Undoes a worktree creation that did not finish: stops its setup command, kills the session
 * it was making, removes the folder and git's record of it, deletes the branch if the creation
 * made it (and it has no commits of its own), and forgets the row and port slot. A worktree
 * whose branch has commits of its own is work, not a leftover: it is kept, and finished.
 *
 * @param rec the journal record of the creation
 */
export async function undoCreate(project: Project, store: Store, rec: IntentRecord): Promise<UndoneCreate> {
  const wtPath = rec.path!;
  const done: UndoneCreate = {
    deletedBranch: false,
    killedSession: false,
    removedFolder: false,
    removedRow: false,
    stoppedSetup: false,
  };
  if (rec.child) done.stoppedSetup = await killProcessGroup(rec.child.pid, rec.child.start);
  if (rec.session) {
    try {
      done.killedSession = await killSessionExact(project, rec.session);
    } catch { /* no tmux: no session was made */ }
  }
  const commits = rec.branch && rec.newBranch && (await branchExists(project.root, rec.branch))
    ? await ownCommits(project.root, rec.branch)
    : 0;
  if (commits !== undefined && commits > 0 && adminDirOf(project, wtPath) !== undefined) {
    done.kept = `its branch ${rec.branch} has ${commits} commit(s) of its own`;
    return done;
  }
  done.removedFolder = await removeWorktreeFolder(project, wtPath);
  if (rec.branch && rec.newBranch && (await branchExists(project.root, rec.branch)) && commits === 0) {
    done.deletedBranch = (await gitMaybe(project.root, ["branch", "-D", rec.branch])) !== undefined;
  }
  const row = rec.name ? findWorktreeRecord(store, { name: rec.name }) : undefined;
  if (row && path.resolve(row.path) === path.resolve(wtPath)) {
    deleteWorktreeRecord(store, row.name, row.path);
    done.removedRow = true;
  }
  if (rec.runId && rec.name) markResourceRemoved(store, rec.runId, "worktree", rec.name);
  return done;
}

/**
 * Finishes a removal that a dead prj process started (the checks had passed, or it was
 * forced): the sessions, the folder and git's record, the branch (when it was to go), the row.
 */
export async function finishRemove(
  project: Project,
  store: Store,
  rec: IntentRecord,
): Promise<{ deletedBranch: boolean }> {
  const wtPath = rec.path!;
  try {
    await killSessionsOfWorktree(project, wtPath);
  } catch { /* no tmux */ }
  await removeWorktreeFolder(project, wtPath);
  let deletedBranch = false;
  if (rec.deleteBranch && rec.branch && (await branchExists(project.root, rec.branch))) {
    deletedBranch = (await gitMaybe(project.root, ["branch", "-D", rec.branch])) !== undefined;
  }
  if (rec.name) deleteWorktreeRecord(store, rec.name, wtPath);
  return { deletedBranch };
}
