/**
 * Worktrees and sessions: a git worktree per piece of work (with its branch, copied files,
 * setup commands and port), and a tmux session in it.
 *
 * @example
 * ```ts
 * import { initProject, openProject } from "@prunejuice/cli";
 * import { createWorktree, listWorktrees, removeWorktree } from "@prunejuice/cli/workspace";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const git = (...args: string[]) => new Deno.Command("git", { args: ["-c", "user.name=d", "-c", "user.email=d@d", ...args], cwd: `${dir}/repo` }).output();
 * await Deno.mkdir(`${dir}/repo`);
 * await git("init", "-q", "-b", "main");
 * await git("commit", "-q", "--allow-empty", "-m", "init");
 * await initProject(`${dir}/repo`);
 * const project = await openProject(`${dir}/repo`);
 * await createWorktree(project, "login");
 * assert.deepEqual((await listWorktrees(project)).map((w) => w.name), ["login"]);
 * await removeWorktree(project, "login");
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
export { type CreatedWorktree, createWorktree, type CreateWorktreeOptions } from "./worktrees/create.ts";
export { getWorktree, listWorktrees, type WorktreeInfo } from "./worktrees/list.ts";
export { removeWorktree } from "./worktrees/remove.ts";
export { type MergeMode, mergeWorktree } from "./worktrees/merge.ts";
export {
  type MergeQueueOptions,
  type MergeQueueResult,
  planMergeQueue,
  type QueueEntry,
  runMergeQueue,
} from "./worktrees/merge_queue.ts";
export { diffWorktree } from "./worktrees/diff.ts";
export {
  type BaseReport,
  type ConflictScan,
  type ConflictScanOptions,
  scanConflicts,
  type ScannedWorktree,
} from "./conflict_scan.ts";
export {
  type ConflictsView,
  conflictsView,
  fleetOverlaps,
  notifyOverlaps,
  type OverlapNotification,
} from "./conflict_watch.ts";
export {
  type ConflictFile,
  overlapLabel,
  overlapsByPath,
  type PairOverlap,
  type PairReport,
  type WorktreeChanges,
  type WorktreeOverlap,
} from "./conflicts.ts";
export { createSession, killSession, listSessions, type SessionInfo, sessionName } from "./sessions.ts";
