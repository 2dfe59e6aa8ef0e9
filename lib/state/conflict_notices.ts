/** The `conflict_notices` table: which shared files of which two worktrees were notified, so each is notified once. */
import { sql } from "./_db.ts";
import type { Store } from "./store.ts";
import { now } from "../util/time.ts";

/** A notified pair of worktrees (paths, sorted) and the path both change. */
export interface ConflictNoticeRecord {
  /** The first worktree's path. */
  a: string;
  /** The second worktree's path. */
  b: string;
  /** The path both change. */
  path: string;
  /** What was notified last: `overlap`, or `conflict` once merging the two conflicts there. */
  level: "overlap" | "conflict";
  /** When it was notified (ISO). */
  notified_at: string;
}

/**
 * Claims the notice of a shared path: true when this call is the first to see the pair touch
 * it, or the first to see an overlap become a conflict. Many prj processes may scan at once;
 * exactly one of them gets true.
 */
export function claimConflictNotice(
  store: Store,
  notice: { a: string; b: string; path: string; level: "overlap" | "conflict" },
): boolean {
  const at = now();
  const changed = sql(store).prepare(
    `INSERT INTO conflict_notices (a, b, path, level, notified_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (a, b, path) DO UPDATE SET level = excluded.level, notified_at = excluded.notified_at
     WHERE conflict_notices.level = 'overlap' AND excluded.level = 'conflict'`,
  ).run(notice.a, notice.b, notice.path, notice.level, at);
  return Number(changed.changes) > 0;
}

/** Every remembered notice. */
export function listConflictNotices(store: Store): ConflictNoticeRecord[] {
  return sql(store).prepare("SELECT a, b, path, level, notified_at FROM conflict_notices ORDER BY a, b, path")
    .all() as unknown as ConflictNoticeRecord[];
}

/** Forgets notices whose pair no longer shares the path (a later overlap notifies again). */
export function forgetConflictNotices(store: Store, notices: readonly { a: string; b: string; path: string }[]): void {
  const del = sql(store).prepare("DELETE FROM conflict_notices WHERE a = ? AND b = ? AND path = ?");
  for (const n of notices) del.run(n.a, n.b, n.path);
}
