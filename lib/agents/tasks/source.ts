/** What the agent runner takes tasks from: the task shape, statuses, levels and the source interface. */
import { PrjError } from "../../util/errors.ts";

/** Task statuses, as Headless PM names them (`pending`: not approved yet, never offered). */
export const TASK_STATUSES = [
  "pending",
  "created",
  "under_work",
  "dev_done",
  "qa_done",
  "documentation_done",
  "committed",
] as const;
/** A task status. */
export type TaskStatus = typeof TASK_STATUSES[number];
/** Skill levels, lowest first. */
export const LEVELS = ["junior", "senior", "principal"] as const;
/** A skill level (an agent's, or a task's difficulty). */
export type Level = typeof LEVELS[number];
/** The roles a Headless PM server accepts (anything else is refused); the built-in queue takes any role. */
export const HEADLESS_PM_ROLES = ["frontend_dev", "backend_dev", "qa", "architect", "pm"] as const;

/** A task, whichever source it comes from. */
export interface Task {
  /** Its id (a number, as text, for the built-in queue). */
  id: string;
  /** One line on what to do. */
  title: string;
  /** The details. */
  description: string;
  /** The role that should take it (null: any). */
  role: string | null;
  /** The skill level it needs. */
  difficulty: Level;
  /** `minor` or `major`. */
  complexity: "minor" | "major";
  /** Its status (see {@link TASK_STATUSES}). */
  status: string;
  /** The branch the task names (a hint: prj uses a branch of its own when this one is the base or in use). */
  branch: string | null;
  /** The agent holding it. */
  locked_by: string | null;
  /** When it was locked. */
  locked_at: string | null;
  /** Its notes: the last status reason and the comments since, `<agent>: <text>` separated by blank lines. */
  notes: string | null;
}

/**
 * Another agent holds the task (Headless PM answers 409, or a read after the lock shows another holder).
 *
 * @example
 * ```ts
 * import { PrjError } from "@prunejuice/cli";
 * import { LockConflict } from "@prunejuice/cli/agents";
 * import assert from "node:assert/strict";
 *
 * const conflict = new LockConflict("12", "dev_002");
 * assert.equal(conflict.message, "Task 12 is locked by dev_002");
 * assert.ok(conflict instanceof PrjError);
 * ```
 */
export class LockConflict extends PrjError {
  /**
   * Names the task and, when known, the agent that holds it.
   *
   * @param taskId the task that could not be locked
   * @param holder the agent that holds it, if known
   */
  constructor(taskId: string, holder: string | null) {
    super(`Task ${taskId} is locked by ${holder ?? "another agent"}`);
    this.name = "LockConflict";
  }
}

/**
 * The task source does not have the task (a wrong id, or a task deleted meanwhile).
 *
 * @example
 * ```ts
 * import { TaskNotFound } from "@prunejuice/cli/agents";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new TaskNotFound("9", "the built-in queue").message, "No task 9 in the built-in queue");
 * ```
 */
export class TaskNotFound extends PrjError {
  /**
   * Names the task and the source.
   *
   * @param taskId the missing task
   * @param source the source, as {@link TaskSource.describe} says it
   */
  constructor(taskId: string, source: string) {
    super(`No task ${taskId} in ${source}`, { exitCode: 2, hint: "see `prj task list`" });
    this.name = "TaskNotFound";
  }
}

/**
 * Where tasks come from. Both sources keep the same guarantees: a lock is taken by one agent
 * (confirm it with {@link TaskSource.get}), a status update never erases notes or comments,
 * and a task given back is offered again.
 */
export interface TaskSource {
  /** `builtin` or `headless-pm`. */
  readonly kind: "builtin" | "headless-pm";
  /** The source for messages: `the built-in queue`, `Headless PM at <url>`. */
  describe(): string;
  /** Registers the agent (also a heartbeat). */
  register(agentId: string, role: string, level: Level): Promise<void>;
  /**
   * The next task for a role and level, or null when there is none (or when `signal` stopped the
   * wait). Tasks in `skip` (ones this agent gave back) are passed over for the next one.
   */
  next(role: string, level: Level, signal?: AbortSignal, skip?: ReadonlySet<string>): Promise<Task | null>;
  /** Locks a task for an agent; throws {@link LockConflict} when another agent has it. */
  lock(taskId: string, agentId: string): Promise<Task>;
  /** The task as the source has it now, or undefined when there is no such task. */
  get(taskId: string): Promise<Task | undefined>;
  /** Tasks, optionally of one status. */
  list(status?: string): Promise<Task[]>;
  /** Sets a task's status; the notes and comments stay (write reasons with {@link TaskSource.comment}). */
  setStatus(taskId: string, agentId: string, status: TaskStatus): Promise<void>;
  /** Adds a comment (appended to the task's notes). */
  comment(taskId: string, agentId: string, text: string): Promise<void>;
  /** Gives a task back with a comment saying why: status `back` (default `created`), lock cleared. */
  release(taskId: string, agentId: string, reason: string, back?: TaskStatus): Promise<void>;
}
