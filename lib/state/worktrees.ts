/** The `worktrees` table: the worktrees prj created, each with its port slot. */
import { sql, transaction } from "./_db.ts";
import type { Store } from "./store.ts";
import { UsageError } from "../util/errors.ts";
import { now } from "../util/time.ts";

/** A worktree prj created. */
export interface WorktreeRecord {
  /** Its name (the folder name under the worktree dir). */
  name: string;
  /** Its absolute path. */
  path: string;
  /** Its branch. */
  branch: string;
  /** The base branch it was created from. */
  base: string | null;
  /** Its port slot (1, 2, ...; `PRJ_PORT` = base + slot * stride). */
  port_slot: number;
}

/**
 * Records a new worktree with the lowest free port slot, in one transaction (with
 * `alsoRecord`'s writes, e.g. the run's resource row).
 *
 * @returns the slot
 * @throws {UsageError} when a worktree of that name is already recorded
 */
export function insertWorktree(
  store: Store,
  row: { name: string; path: string; branch: string; base: string; runId?: string | undefined },
  alsoRecord?: () => void,
): number {
  return transaction(store, () => {
    const db = sql(store);
    const used = new Set(
      (db.prepare("SELECT port_slot FROM worktrees").all() as { port_slot: number }[]).map((r) => Number(r.port_slot)),
    );
    let slot = 1;
    while (used.has(slot)) slot++;
    if (db.prepare("SELECT name FROM worktrees WHERE name = ?").get(row.name)) {
      throw new UsageError(`Worktree "${row.name}" already exists`, { hint: "see `prj worktree list`" });
    }
    db.prepare(
      "INSERT INTO worktrees (name, path, branch, base, port_slot, created_at, run_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ).run(row.name, row.path, row.branch, row.base, slot, now(), row.runId ?? null);
    alsoRecord?.();
    return slot;
  });
}

/** Every recorded worktree, by name. */
export function listWorktreeRecords(store: Store): WorktreeRecord[] {
  return (sql(store).prepare("SELECT name, path, branch, base, port_slot FROM worktrees ORDER BY name")
    .all() as unknown as WorktreeRecord[]).map((r) => ({ ...r, port_slot: Number(r.port_slot) }));
}

/** The recorded worktree with this name or path, if any. */
export function findWorktreeRecord(store: Store, by: { name: string } | { path: string }): WorktreeRecord | undefined {
  const row = "name" in by
    ? sql(store).prepare("SELECT name, path, branch, base, port_slot FROM worktrees WHERE name = ?").get(by.name)
    : sql(store).prepare("SELECT name, path, branch, base, port_slot FROM worktrees WHERE path = ?").get(by.path);
  return row ? { ...(row as unknown as WorktreeRecord), port_slot: Number(row.port_slot) } : undefined;
}

/** Forgets a worktree (its port slot is free again); with `path`, only when the row is still that worktree's. */
export function deleteWorktreeRecord(store: Store, name: string, path?: string): void {
  if (path === undefined) sql(store).prepare("DELETE FROM worktrees WHERE name = ?").run(name);
  else sql(store).prepare("DELETE FROM worktrees WHERE name = ? AND path = ?").run(name, path);
}
