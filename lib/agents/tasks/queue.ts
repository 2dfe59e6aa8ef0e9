/**
 * The built-in task queue: tasks in the project's SQLite database, with Headless PM's statuses
 * and its guarantees (an atomic lock, comments that no status change erases, a lock cleared
 * when a task leaves `under_work`), so a project can switch sources without surprises.
 */
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
} from "../../state/tasks.ts";
import { UsageError } from "../../util/errors.ts";
import {
  type Level,
  LEVELS,
  LockConflict,
  type Task,
  TaskNotFound,
  type TaskSource,
  type TaskStatus,
} from "./source.ts";

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

  /** `the built-in queue`. */
  describe(): string {
    return "the built-in queue";
  }

  /** One task, or undefined. */
  get(id: string): Promise<Task | undefined> {
    if (!/^\d+$/.test(id)) return Promise.resolve(undefined);
    const row = getTaskRecord(this.#store, id);
    return Promise.resolve(row ? toTask(row) : undefined);
  }

  /**
   * One task, or a usage error naming the id.
   *
   * @throws {UsageError} for an id that is not a number
   * @throws {TaskNotFound} when there is no such task
   */
  require(id: string): Task {
    if (!/^\d+$/.test(id)) throw new UsageError(`Task id must be a number, found "${id}"`);
    const row = getTaskRecord(this.#store, id);
    if (!row) throw new TaskNotFound(id, this.describe());
    return toTask(row);
  }

  /** Tasks, oldest first. */
  list(status?: string): Promise<Task[]> {
    return Promise.resolve(listTaskRecords(this.#store, status).map(toTask));
  }

  /** A task's history (status changes, locks, comments). */
  events(id: string): TaskEvent[] {
    return listTaskEvents(this.#store, id);
  }

  /** Nothing to register with: the queue is local. */
  register(): Promise<void> {
    return Promise.resolve();
  }

  /** The oldest unlocked `created` task for the role, up to the level, passing over those in `skip`. */
  next(role: string, level: Level, _signal?: AbortSignal, skip?: ReadonlySet<string>): Promise<Task | null> {
    const row = openTaskRecords(this.#store, role).find((r) =>
      levelRank(r.difficulty) <= levelRank(level) && !skip?.has(String(r.id))
    );
    return Promise.resolve(row ? toTask(row) : null);
  }

  /**
   * Locks a task for an agent.
   *
   * @throws {LockConflict} when another agent holds it
   * @throws {TaskNotFound} when there is no such task
   */
  lock(taskId: string, agentId: string): Promise<Task> {
    const result = lockTask(this.#store, taskId, agentId);
    if (result.locked) return Promise.resolve(toTask(result.task));
    if (!result.task) throw new TaskNotFound(taskId, this.describe());
    throw new LockConflict(taskId, result.task.locked_by);
  }

  /**
   * Sets a task's status, with an entry in its history; leaving `under_work` clears the lock.
   *
   * @throws {TaskNotFound} when there is no such task
   */
  setStatus(taskId: string, agentId: string | null, status: TaskStatus): Promise<void> {
    this.require(taskId);
    setTaskStatus(this.#store, taskId, agentId, status);
    return Promise.resolve();
  }

  /**
   * Adds a comment to a task's history (and so to its notes).
   *
   * @throws {TaskNotFound} when there is no such task
   */
  comment(taskId: string, agentId: string | null, text: string): Promise<void> {
    this.require(taskId);
    addTaskEvent(this.#store, taskId, agentId, "comment", text);
    return Promise.resolve();
  }

  /**
   * Gives a task back: the reason as a comment, status `back` (default `created`), lock cleared.
   *
   * @throws {TaskNotFound} when there is no such task
   */
  release(taskId: string, agentId: string | null, reason: string, back: TaskStatus = "created"): Promise<void> {
    this.require(taskId);
    addTaskEvent(this.#store, taskId, agentId, "comment", reason);
    releaseTask(this.#store, taskId, agentId, back);
    return Promise.resolve();
  }
}
