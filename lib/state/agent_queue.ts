/**
 * The `agent_queue` table: launches that wait for a slot under `agent.max_agents`, oldest
 * first, each with the prj process that waits for it (an entry whose process is gone is
 * dropped). An entry is `queued`, then `starting` once it took a slot, until its launch ends.
 */
import { sql, transaction } from "./_db.ts";
import type { Store } from "./store.ts";
import { activeLaunches, type LaunchRecord } from "./launches.ts";
import { now } from "../util/time.ts";

/** An entry as stored. */
export interface QueueRecord {
  id: number;
  worktree: string | null;
  worktree_path: string;
  branch: string | null;
  session: string | null;
  kind: string;
  model: string | null;
  /** 1 for a headless launch. */
  headless: number;
  run_id: string | null;
  /** The prj process that waits (its start time tells a reused pid). */
  pid: number;
  pid_start: string | null;
  queued_at: string;
  /** `queued`, or `starting` once it holds a slot. */
  state: "queued" | "starting";
}

/** An entry to add. */
export interface NewQueueEntry {
  worktree: string | null;
  worktreePath: string;
  branch: string | null;
  session: string | null;
  kind: string;
  model: string | null;
  headless: boolean;
  runId: string | null;
  pid: number;
  pidStart: string | null;
}

/** Adds an entry at the end of the queue; returns its id. */
export function enqueueLaunch(store: Store, e: NewQueueEntry): number {
  const result = sql(store).prepare(
    `INSERT INTO agent_queue (worktree, worktree_path, branch, session, kind, model, headless, run_id, pid, pid_start,
       queued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    e.worktree,
    e.worktreePath,
    e.branch,
    e.session,
    e.kind,
    e.model,
    e.headless ? 1 : 0,
    e.runId,
    e.pid,
    e.pidStart,
    now(),
  );
  return Number(result.lastInsertRowid);
}

/** Removes an entry (its launch ended, or its prj stopped waiting). */
export function dequeueLaunch(store: Store, id: number): void {
  sql(store).prepare("DELETE FROM agent_queue WHERE id = ?").run(id);
}

/** What {@link takeSlot} answered. */
export type SlotAnswer =
  | { taken: true; live: number }
  | { taken: false; position: number; live: number };

/**
 * Takes a slot for an entry when one is free, in one write transaction (so two prj processes
 * never both take the last slot): the live agents are the launches `isLive` says run plus
 * the entries `starting` whose worktree has no live launch yet; the queued entries ahead of
 * this one take the free slots first. Entries whose process `ownerAlive` says is gone are
 * dropped on the way.
 *
 * @returns taken, or this entry's position among the waiting (1 = next)
 */
export function takeSlot(
  store: Store,
  id: number,
  max: number,
  isLive: (launch: LaunchRecord) => boolean,
  ownerAlive: (entry: QueueRecord) => boolean,
): SlotAnswer {
  return transaction(store, () => {
    const db = sql(store);
    const live = activeLaunches(store).filter((l) => l.exit_code === null && l.state !== "exited" && isLive(l));
    const livePaths = new Set(live.map((l) => l.worktree_path));
    const entries = liveEntries(store, ownerAlive);
    const starting = entries.filter((e) => e.state === "starting" && !livePaths.has(e.worktree_path));
    const busy = live.length + starting.length;
    const waiting = entries.filter((e) => e.state === "queued");
    const index = waiting.findIndex((e) => e.id === id);
    if (index < 0) {
      // Not queued (already starting, or dropped): it holds its slot.
      return { taken: true, live: busy };
    }
    if (busy + index < max) {
      db.prepare("UPDATE agent_queue SET state = 'starting' WHERE id = ?").run(id);
      return { taken: true, live: busy + 1 };
    }
    return { taken: false, position: index + 1, live: busy };
  });
}

/** The entries whose prj process runs, oldest first (the others are removed). */
export function liveEntries(store: Store, ownerAlive: (entry: QueueRecord) => boolean): QueueRecord[] {
  const db = sql(store);
  const all = db.prepare("SELECT * FROM agent_queue ORDER BY id").all() as unknown as QueueRecord[];
  const alive: QueueRecord[] = [];
  for (const e of all) {
    if (ownerAlive(e)) alive.push(e);
    else db.prepare("DELETE FROM agent_queue WHERE id = ?").run(e.id);
  }
  return alive;
}
