/** The built-in task queue: tasks in the project's SQLite database, with Headless PM's statuses. */
import type { Store } from "../../state/store.ts";
import {
  addTaskEvent,
  getTaskRecord,
  insertTask,
  listTaskEvents,
  listTaskRecords,
  lockTask,
  openTaskRecords,
  releaseTask,
  setTaskStatus,
  type TaskEvent,
  type TaskRecord,
  unlockTask,
} from "../../state/tasks.ts";
import { UsageError } from "../../util/errors.ts";
import { type Level, LEVELS, LockConflict, type Task, type TaskSource, type TaskStatus } from "./source.ts";

export type { TaskEvent };

const levelRank = (l: string) => LEVELS.indexOf(l as Level);

function toTask(row: TaskRecord): Task {
  const { id, created_at: _created, updated_at: _updated, ...rest } = row;
  return { ...rest, id: String(id) };
}

/**
 * The built-in task queue in the project's SQLite database.
 *
 * @example
 * ```ts
 * import { initProject, openProject, openStore } from "@prunejuice/cli";
 * import { TaskQueue } from "@prunejuice/cli/agents";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await initProject(dir);
 * const store = openStore((await openProject(dir)).prjDir);
 * const queue = new TaskQueue(store);
 * const task = queue.add({ title: "Add login", role: "backend_dev" });
 * assert.equal((await queue.next("backend_dev", "senior"))?.id, task.id);
 * await queue.lock(task.id, "dev_001");
 * assert.equal(await queue.next("backend_dev", "senior"), null);
 * store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class TaskQueue implements TaskSource {
  /** The source kind. */
  readonly kind = "builtin" as const;
  #store: Store;

  /**
   * A queue on the project's database.
   *
   * @param store the project's store
   */
  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * Adds a task in status `created`.
   *
   * @throws {UsageError} for an empty title
   */
  add(
    task: {
      title: string;
      description?: string;
      role?: string;
      difficulty?: Level;
      complexity?: "minor" | "major";
      branch?: string;
    },
  ): Task {
    if (task.title.trim() === "") throw new UsageError("Task title is empty");
    return toTask(insertTask(this.#store, {
      title: task.title,
      description: task.description ?? "",
      role: task.role ?? null,
      difficulty: task.difficulty ?? "senior",
      complexity: task.complexity ?? "minor",
      branch: task.branch ?? null,
    }));
  }

  /** One task, or undefined. */
  get(id: string): Task | undefined {
    const row = getTaskRecord(this.#store, id);
    return row ? toTask(row) : undefined;
  }

  /**
   * One task, or a usage error naming the id.
   *
   * @throws {UsageError} when there is no such task
   */
  require(id: string): Task {
    if (!/^\d+$/.test(id)) throw new UsageError(`Task id must be a number, found "${id}"`);
    const task = this.get(id);
    if (!task) throw new UsageError(`No task ${id}`, { hint: "see `prj task list`" });
    return task;
  }

  /** Tasks, oldest first. */
  list(status?: string): Task[] {
    return listTaskRecords(this.#store, status).map(toTask);
  }

  /** A task's history (status changes, locks, comments). */
  events(id: string): TaskEvent[] {
    return listTaskEvents(this.#store, id);
  }

  /** Nothing to register with: the queue is local. */
  register(): Promise<void> {
    return Promise.resolve();
  }

  /** The oldest unlocked `created` task for the role, up to the level. */
  next(role: string, level: Level): Promise<Task | null> {
    const row = openTaskRecords(this.#store, role).find((r) => levelRank(r.difficulty) <= levelRank(level));
    return Promise.resolve(row ? toTask(row) : null);
  }

  /**
   * Locks a task for an agent.
   *
   * @throws {LockConflict} when another agent holds it
   * @throws {UsageError} when there is no such task
   */
  lock(taskId: string, agentId: string): Promise<Task> {
    const result = lockTask(this.#store, taskId, agentId);
    if (result.locked) return Promise.resolve(toTask(result.task));
    if (!result.task) throw new UsageError(`No task ${taskId}`);
    throw new LockConflict(taskId, result.task.locked_by);
  }

  /**
   * Sets a task's status, with a note in its history.
   *
   * @throws {UsageError} when there is no such task
   */
  setStatus(taskId: string, agentId: string | null, status: TaskStatus, notes?: string): Promise<void> {
    this.require(taskId);
    setTaskStatus(this.#store, taskId, agentId, status, notes);
    return Promise.resolve();
  }

  /**
   * Adds a comment to a task's history.
   *
   * @throws {UsageError} when there is no such task
   */
  comment(taskId: string, agentId: string | null, text: string): Promise<void> {
    this.require(taskId);
    addTaskEvent(this.#store, taskId, agentId, "comment", text);
    return Promise.resolve();
  }

  /**
   * Gives a task back: status `created`, lock cleared.
   *
   * @throws {UsageError} when there is no such task
   */
  release(taskId: string, agentId: string | null, reason: string): Promise<void> {
    this.require(taskId);
    releaseTask(this.#store, taskId, agentId, reason);
    return Promise.resolve();
  }

  /** Clears a lock after the final status (the task keeps its status). */
  unlock(taskId: string): void {
    unlockTask(this.#store, taskId);
  }
}
