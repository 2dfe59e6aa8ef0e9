/** The `tasks` and `task_events` tables: the built-in task queue and each task's history. */
import { sql, transaction } from "./_db.ts";
import type { Store } from "./store.ts";
import { now } from "../util/time.ts";

/** A row of the `tasks` table. */
export interface TaskRecord {
  id: number;
  title: string;
  description: string;
  role: string | null;
  difficulty: "junior" | "senior" | "principal";
  complexity: "minor" | "major";
  status: string;
  branch: string | null;
  locked_by: string | null;
  locked_at: string | null;
  /** The task's comments, oldest first, as `<agent>: <text>` separated by blank lines (null: none). */
  notes: string | null;
  created_at: string;
  updated_at: string;
}

/** One entry of a task's history. */
export interface TaskEvent {
  /** ISO time. */
  at: string;
  /** The agent, when an agent did it. */
  agent_id: string | null;
  /** `created`, `locked`, `status`, `comment` or `released`. */
  kind: string;
  /** What changed. */
  detail: string | null;
}

// A task's notes are its comments, as Headless PM keeps them: nothing a status change does can erase one.
const SELECT_TASK = `SELECT t.*, (
  SELECT group_concat(coalesce(c.agent_id, 'prj') || ': ' || coalesce(c.detail, ''), char(10) || char(10))
  FROM (SELECT agent_id, detail FROM task_events WHERE task_id = t.id AND kind = 'comment' ORDER BY id) AS c
) AS notes FROM tasks t`;

/** Adds an entry to a task's history. */
export function addTaskEvent(
  store: Store,
  taskId: string | number,
  agentId: string | null,
  kind: string,
  detail: string | null,
): void {
  sql(store).prepare("INSERT INTO task_events (task_id, at, agent_id, kind, detail) VALUES (?, ?, ?, ?, ?)")
    .run(Number(taskId), now(), agentId, kind, detail);
}

/** Adds a task in status `created` (with its history entry) and returns its row. */
export function insertTask(
  store: Store,
  task: Pick<TaskRecord, "title" | "description" | "role" | "difficulty" | "complexity" | "branch">,
): TaskRecord {
  return transaction(store, () => {
    const t = now();
    const result = sql(store).prepare(
      `INSERT INTO tasks (title, description, role, difficulty, complexity, status, branch, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 'created', ?, ?, ?)`,
    ).run(task.title, task.description, task.role, task.difficulty, task.complexity, task.branch, t, t);
    const id = Number(result.lastInsertRowid);
    addTaskEvent(store, id, null, "created", task.title);
    return getTaskRecord(store, id)!;
  });
}

/** One task's row, or undefined. */
export function getTaskRecord(store: Store, id: string | number): TaskRecord | undefined {
  return sql(store).prepare(`${SELECT_TASK} WHERE t.id = ?`).get(Number(id)) as TaskRecord | undefined;
}

/** Tasks (optionally of one status), oldest first. */
export function listTaskRecords(store: Store, status?: string): TaskRecord[] {
  const db = sql(store);
  return (status
    ? db.prepare(`${SELECT_TASK} WHERE t.status = ? ORDER BY t.id`).all(status)
    : db.prepare(`${SELECT_TASK} ORDER BY t.id`).all()) as unknown as TaskRecord[];
}

/** Unlocked `created` tasks for a role (or any role), oldest first. */
export function openTaskRecords(store: Store, role: string): TaskRecord[] {
  return sql(store).prepare(
    `${SELECT_TASK} WHERE t.status = 'created' AND t.locked_by IS NULL AND (t.role IS NULL OR t.role = ?) ORDER BY t.id`,
  ).all(role) as unknown as TaskRecord[];
}

/**
 * Locks a task for an agent (a lock it already holds counts), with its history entry.
 *
 * @returns the task after locking, or `{ locked: false }` with the task (undefined when there is none)
 */
export function lockTask(
  store: Store,
  taskId: string,
  agentId: string,
): { locked: true; task: TaskRecord } | { locked: false; task: TaskRecord | undefined } {
  return transaction(store, () => {
    const t = now();
    const result = sql(store).prepare(
      "UPDATE tasks SET locked_by = ?, locked_at = ?, updated_at = ? WHERE id = ? AND (locked_by IS NULL OR locked_by = ?)",
    ).run(agentId, t, t, Number(taskId), agentId);
    if (Number(result.changes) === 0) return { locked: false as const, task: getTaskRecord(store, taskId) };
    addTaskEvent(store, taskId, agentId, "locked", null);
    return { locked: true as const, task: getTaskRecord(store, taskId)! };
  });
}

/**
 * Sets a task's status, with a history entry `<old> -> <new>`. Leaving `under_work` clears the
 * lock (as Headless PM does), so a finished task is free for the next role.
 */
export function setTaskStatus(store: Store, taskId: string, agentId: string | null, status: string): void {
  transaction(store, () => {
    const before = getTaskRecord(store, taskId)?.status ?? "?";
    const unlock = before === "under_work" && status !== "under_work";
    sql(store).prepare(
      `UPDATE tasks SET status = ?, updated_at = ?${unlock ? ", locked_by = NULL, locked_at = NULL" : ""} WHERE id = ?`,
    ).run(status, now(), Number(taskId));
    addTaskEvent(store, taskId, agentId, "status", `${before} -> ${status}`);
  });
}

/** Gives a task back: status `back` (`created` unless given), lock cleared, with a history entry. */
export function releaseTask(store: Store, taskId: string, agentId: string | null, back = "created"): void {
  transaction(store, () => {
    const before = getTaskRecord(store, taskId)?.status ?? "?";
    sql(store).prepare(
      "UPDATE tasks SET status = ?, locked_by = NULL, locked_at = NULL, updated_at = ? WHERE id = ?",
    ).run(back, now(), Number(taskId));
    addTaskEvent(store, taskId, agentId, "released", `${before} -> ${back}`);
  });
}

/** A task's history, oldest first. */
export function listTaskEvents(store: Store, taskId: string): TaskEvent[] {
  return sql(store).prepare("SELECT at, agent_id, kind, detail FROM task_events WHERE task_id = ? ORDER BY id")
    .all(Number(taskId)) as unknown as TaskEvent[];
}
