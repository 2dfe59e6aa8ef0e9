/**
 * The `agent_locks` table: the task an agent runner holds, written before any work on it
 * starts and removed only after its final status is recorded, so a runner that died resumes it.
 */
import { sql } from "./_db.ts";
import type { Store } from "./store.ts";
import { now } from "../util/time.ts";

/** A held task. */
export interface AgentLockRecord {
  agent_id: string;
  /** `builtin` or `headless-pm`. */
  source: string;
  task_id: string;
  /** The task as JSON, as it was when locked. */
  task: string;
  /** The worktree name for the task. */
  worktree: string;
  branch: string;
  locked_at: string;
  /** Agent starts so far (survives restarts). */
  attempts: number;
}

/** The lock an agent holds, if any. */
export function getAgentLock(store: Store, agentId: string): AgentLockRecord | undefined {
  const row = sql(store).prepare("SELECT * FROM agent_locks WHERE agent_id = ?").get(agentId) as
    | AgentLockRecord
    | undefined;
  return row ? { ...row, attempts: Number(row.attempts) } : undefined;
}

/** Records a lock (before any work on the task starts). */
export function insertAgentLock(
  store: Store,
  lock: { agentId: string; source: string; taskId: string; task: unknown; worktree: string; branch: string },
): void {
  sql(store).prepare(
    "INSERT INTO agent_locks (agent_id, source, task_id, task, worktree, branch, locked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  ).run(lock.agentId, lock.source, lock.taskId, JSON.stringify(lock.task), lock.worktree, lock.branch, now());
}

/** Records how many times the agent has been started on its task. */
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
