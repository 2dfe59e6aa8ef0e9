/**
 * Watching the worktrees for conflicts: what `prj conflicts` and the fleet's overlap column
 * show, and the notifications. When two worktrees start changing the same file (and again if
 * merging them starts to conflict there), the configured `notify` command runs once,
 * whichever prj process scanned first.
 */
import * as path from "../util/path.ts";
import type { Project } from "../project/project.ts";
import { claimConflictNotice, forgetConflictNotices, listConflictNotices } from "../state/conflict_notices.ts";
import type { Store } from "../state/store.ts";
import { UsageError } from "../util/errors.ts";
import { capture } from "../util/process.ts";
import { didYouMean } from "../util/suggest.ts";
import { type ConflictScan, scanConflicts, type ScannedWorktree } from "./conflict_scan.ts";
import { noticesOf, overlapsByPath, staleNotices, type WorktreeOverlap } from "./conflicts.ts";

/** One notification sent (or, without a `notify` command, recorded). */
export interface OverlapNotification {
  /** The two worktrees' names. */
  worktrees: [string, string];
  /** The shared paths newly seen (or newly conflicting). */
  files: string[];
  /** The ones among them where merging the two conflicts. */
  conflicts: string[];
  /** What was said. */
  message: string;
}

/**
 * Records what a scan found and runs `notify` for what is new: one message per pair of
 * worktrees, naming the files they newly share and where merging them conflicts. Pairs that
 * no longer share a file are forgotten, so a later overlap notifies again.
 *
 * @returns the notifications this call made
 */
export async function notifyOverlaps(
  project: Project,
  store: Store,
  scan: ConflictScan,
): Promise<OverlapNotification[]> {
  const notices = noticesOf(scan.pairs.filter((p) => p.error === null));
  const scanned = new Set(scan.worktrees.filter((w) => w.error === null).map((w) => w.path));
  forgetConflictNotices(store, staleNotices(listConflictNotices(store), notices, scanned));
  const names = new Map(scan.worktrees.map((w) => [w.path, w.name]));
  const fresh = new Map<string, { a: string; b: string; files: string[]; conflicts: string[] }>();
  for (const n of notices) {
    if (!claimConflictNotice(store, n)) continue;
    const key = `${n.a}\0${n.b}`;
    let group = fresh.get(key);
    if (!group) fresh.set(key, group = { a: n.a, b: n.b, files: [], conflicts: [] });
    group.files.push(n.path);
    if (n.level === "conflict") group.conflicts.push(n.path);
  }
  const notify = project.config.notify;
  const out: OverlapNotification[] = [];
  for (const g of fresh.values()) {
    const worktrees: [string, string] = [names.get(g.a) ?? path.basename(g.a), names.get(g.b) ?? path.basename(g.b)];
    const message = `prj: ${worktrees[0]} and ${worktrees[1]} both change ${g.files.join(", ")}` +
      (g.conflicts.length > 0 ? `; merging them conflicts in ${g.conflicts.join(", ")}` : "");
    out.push({ worktrees, files: g.files, conflicts: g.conflicts, message });
    if (!notify) continue;
    const argv = Array.isArray(notify) ? [...notify, message] : ["sh", "-c", notify];
    await capture(argv, {
      cwd: project.root,
      env: {
        PRJ_MESSAGE: message,
        PRJ_OVERLAP: g.conflicts.length > 0 ? "conflict" : "overlap",
        PRJ_WORKTREES: worktrees.join(" "),
        PRJ_WORKTREE: g.a,
        PRJ_FILES: g.files.join("\n"),
      },
    }).catch(() => {});
  }
  return out;
}

/**
 * What `prj fleet` shows of each worktree's git state: scans the worktrees (against each other,
 * not the base), notifies what is new, and returns by worktree path its overlaps, and its
 * changed files and ahead/behind (so the fleet need not ask git again).
 *
 * @example
 * ```ts
 * import { initProject, openProject, openStore } from "@prunejuice/cli";
 * import { fleetOverlaps } from "@prunejuice/cli/workspace";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await new Deno.Command("git", { args: ["init", "-q", "-b", "main"], cwd: dir }).output();
 * await new Deno.Command("git", { args: ["-c", "user.name=d", "-c", "user.email=d@d", "commit", "-q", "--allow-empty", "-m", "i"], cwd: dir }).output();
 * await initProject(dir);
 * const project = await openProject(dir);
 * const store = openStore(project.prjDir);
 * const { byPath, worktrees, notified } = await fleetOverlaps(project, store);
 * assert.deepEqual([byPath.size, worktrees.size, notified], [0, 0, []]);
 * store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function fleetOverlaps(
  project: Project,
  store: Store,
): Promise<{
  byPath: Map<string, WorktreeOverlap[]>;
  worktrees: Map<string, ScannedWorktree>;
  notified: OverlapNotification[];
}> {
  const scan = await scanConflicts(project, store, { base: false });
  const notified = await notifyOverlaps(project, store, scan);
  const worktrees = new Map(scan.worktrees.filter((w) => w.error === null).map((w) => [w.path, w]));
  return { byPath: overlapsByPath(scan.pairs), worktrees, notified };
}

/** What `prj conflicts` (and the MCP `conflicts` tool) reports. */
export interface ConflictsView {
  /** The worktrees looked at (one, when asked about one). */
  worktrees: ConflictScan["worktrees"];
  /** The pairs that share files (those with the worktree asked about). */
  pairs: ConflictScan["pairs"];
  /** The worktrees whose changes meet changes on their base. */
  base: ConflictScan["base"];
  /** How many pairs and base views really conflict. */
  conflicts: number;
}

/**
 * Scans, notifies what is new, and keeps what concerns `worktree` (all when absent).
 *
 * @throws {UsageError} when `worktree` is no active worktree
 */
export async function conflictsView(project: Project, store: Store, worktree?: string): Promise<ConflictsView> {
  const scan = await scanConflicts(project, store);
  await notifyOverlaps(project, store, scan);
  if (worktree !== undefined && !scan.worktrees.some((w) => w.name === worktree)) {
    throw new UsageError(`No active worktree "${worktree}"${didYouMean(worktree, scan.worktrees.map((w) => w.name))}`, {
      hint: "see `prj worktree list`",
    });
  }
  const mine = (name: string) => worktree === undefined || name === worktree;
  const pairs = scan.pairs.filter((p) => mine(p.a) || mine(p.b));
  const base = scan.base.filter((b) => mine(b.worktree));
  const conflicts = pairs.filter((p) => p.conflicts.length > 0).length +
    base.filter((b) => b.conflicts.length > 0).length;
  return { worktrees: scan.worktrees.filter((w) => mine(w.name)), pairs, base, conflicts };
}
