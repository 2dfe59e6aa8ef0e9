/**
 * The `agent_locks` table: the task an agent runner holds, written as soon as the source grants
 * the lock and removed only after its final status is recorded (or the lock turns out to be
 * another agent's), so a runner that died resumes it.
 */
import { sql } from "./_db.ts";
import type { Store } from "./store.ts";
import { now } from "../util/time.ts";

/** How far the work on a held task got. */
export type LockStage =
  /** Locked; the agent has not finished yet. */
  | "working"
  /** The agent finished; what is left is pushing the branch and recording the final status. */
  | "finishing";

/** A held task. */
export interface AgentLockRecord {
  agent_id: string;
  /** `builtin` or `headless-pm`. */
  source: string;
  task_id: string;
  /** The task as it was when locked. */
  task: unknown;
  /** The task's status when it was locked: where it goes back to when it is given back. */
  from_status: string;
  /** How far the work got. */
  stage: LockStage;
  /** The worktree name for the task. */
  worktree: string;
  branch: string;
  locked_at: string;
  /** Agent runs that failed on their own (exit code, timeout); a runner stopped or killed does not count. */
  attempts: number;
}

interface Row {
  agent_id: string;
  source: string;
  task_id: string;
  task: string;
  worktree: string;
  branch: string;
  locked_at: string;
  attempts: number | bigint;
}

// The task column holds `{ task, from_status, stage }` (a bare task in databases written before the stage was kept).
function fromRow(row: Row): AgentLockRecord {
  const stored = JSON.parse(row.task) as Record<string, unknown>;
  const wrapped = typeof stored.task === "object" && stored.task !== null && "stage" in stored;
  const task = wrapped ? stored.task as Record<string, unknown> : stored;
  return {
    agent_id: row.agent_id,
    source: row.source,
    task_id: row.task_id,
    task,
    from_status: String((wrapped ? stored.from_status : task.status) ?? "created"),
    stage: wrapped && stored.stage === "finishing" ? "finishing" : "working",
    worktree: row.worktree,
    branch: row.branch,
    locked_at: row.locked_at,
    attempts: Number(row.attempts),
  };
}

/** The lock an agent holds, if any. */
export function getAgentLock(store: Store, agentId: string): AgentLockRecord | undefined {
  const row = sql(store).prepare("SELECT * FROM agent_locks WHERE agent_id = ?").get(agentId) as Row | undefined;
  return row ? fromRow(row) : undefined;
}

/** The locks on a task (by any local agent) of a source. */
export function locksOnTask(store: Store, taskId: string, source: string): AgentLockRecord[] {
  return (sql(store).prepare("SELECT * FROM agent_locks WHERE task_id = ? AND source = ? ORDER BY agent_id")
    .all(taskId, source) as unknown as Row[]).map(fromRow);
}

/** Records a lock (as soon as the source grants it, before any work on the task starts). */
export function insertAgentLock(
  store: Store,
  lock: {
    agentId: string;
    source: string;
    taskId: string;
    task: { status: string };
    worktree: string;
    branch: string;
  },
): void {
  const stored = { task: lock.task, from_status: lock.task.status, stage: "working" };
  sql(store).prepare(
    "INSERT INTO agent_locks (agent_id, source, task_id, task, worktree, branch, locked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  ).run(lock.agentId, lock.source, lock.taskId, JSON.stringify(stored), lock.worktree, lock.branch, now());
}

/** Records the branch the task is worked on (chosen after the lock). */
export function setAgentLockBranch(store: Store, agentId: string, branch: string): void {
  sql(store).prepare("UPDATE agent_locks SET branch = ? WHERE agent_id = ?").run(branch, agentId);
}

/** Records how far the work on the held task got. */
export function setAgentLockStage(store: Store, agentId: string, stage: LockStage): void {
  const lock = getAgentLock(store, agentId);
  if (!lock) return;
  const stored = { task: lock.task, from_status: lock.from_status, stage };
  sql(store).prepare("UPDATE agent_locks SET task = ? WHERE agent_id = ?").run(JSON.stringify(stored), agentId);
}

/** Records how many agent runs failed on their own on the held task. */
export function setAgentLockAttempts(store: Store, agentId: string, attempts: number): void {
  sql(store).prepare("UPDATE agent_locks SET attempts = ? WHERE agent_id = ?").run(attempts, agentId);
}

/** Removes an agent's lock. */
export function deleteAgentLock(store: Store, agentId: string): void {
  sql(store).prepare("DELETE FROM agent_locks WHERE agent_id = ?").run(agentId);
}

/** Removes every lock on a task of a source (a task released by hand). */
export function deleteTaskLocks(store: Store, taskId: string, source: string): void {
  sql(store).prepare("DELETE FROM agent_locks WHERE task_id = ? AND source = ?").run(taskId, source);
}
