/** The `resources` table: the worktrees and sessions a run created, for their lifecycle and history. */
import { sql } from "./_db.ts";
import type { Store } from "./store.ts";
import { now } from "../util/time.ts";

/** A worktree or session a run created. */
export interface ResourceRecord {
  /** The run that created it. */
  run_id: string;
  /** What it is. */
  kind: "worktree" | "session";
  /** The worktree or session name. */
  name: string;
  /** The worktree's path. */
  path: string | null;
  /** The worktree's branch. */
  branch: string | null;
  /** ISO time it was created. */
  created_at: string;
  /** ISO time it was removed, null while it exists. */
  removed_at: string | null;
}

/**
 * Records a worktree or session a run creates (before it is made, so a crash part way is torn
 * down too); recording the same one again changes nothing.
 */
export function addResource(
  store: Store,
  r: { runId: string; kind: "worktree" | "session"; name: string; path?: string; branch?: string },
): void {
  sql(store).prepare(
    `INSERT INTO resources (run_id, kind, name, path, branch, created_at)
     SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS
       (SELECT 1 FROM resources WHERE run_id = ? AND kind = ? AND name = ? AND removed_at IS NULL)`,
  ).run(r.runId, r.kind, r.name, r.path ?? null, r.branch ?? null, now(), r.runId, r.kind, r.name);
}

/** Marks a run's resource as removed. */
export function markResourceRemoved(store: Store, runId: string, kind: "worktree" | "session", name: string): void {
  sql(store).prepare(
    "UPDATE resources SET removed_at = ? WHERE run_id = ? AND kind = ? AND name = ? AND removed_at IS NULL",
  ).run(now(), runId, kind, name);
}

/** The resources a run created, oldest first. */
export function listResources(store: Store, runId: string): ResourceRecord[] {
  return sql(store).prepare("SELECT * FROM resources WHERE run_id = ? ORDER BY id").all(
    runId,
  ) as unknown as ResourceRecord[];
}
