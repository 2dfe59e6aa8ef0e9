/** What the agent runner takes tasks from: the task shape, statuses, levels and the source interface. */
import { PrjError } from "../../util/errors.ts";

/** Task statuses, as Headless PM names them (plus `pending`: not ready to be picked up). */
export const TASK_STATUSES = [
  "created",
  "under_work",
  "dev_done",
  "qa_done",
  "documentation_done",
  "committed",
  "pending",
] as const;
/** A task status. */
export type TaskStatus = typeof TASK_STATUSES[number];
/** Skill levels, lowest first. */
export const LEVELS = ["junior", "senior", "principal"] as const;
/** A skill level (an agent's, or a task's difficulty). */
export type Level = typeof LEVELS[number];

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
  /** The branch to work on (null: `task-<id>-<title>`). */
  branch: string | null;
  /** The agent holding it. */
  locked_by: string | null;
  /** When it was locked. */
  locked_at: string | null;
}

/**
 * Another agent holds the task (Headless PM answers 409).
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

/** Where tasks come from. */
export interface TaskSource {
  /** `builtin` or `headless-pm`. */
  readonly kind: "builtin" | "headless-pm";
  /** Registers the agent (also a heartbeat). */
  register(agentId: string, role: string, level: Level): Promise<void>;
  /** The next task for a role and level, or null when there is none. */
  next(role: string, level: Level, signal?: AbortSignal): Promise<Task | null>;
  /** Locks a task for an agent; throws {@link LockConflict} when another agent has it. */
  lock(taskId: string, agentId: string): Promise<Task>;
  /** Sets a task's status (with a note). */
  setStatus(taskId: string, agentId: string, status: TaskStatus, notes?: string): Promise<void>;
  /** Adds a comment. */
  comment(taskId: string, agentId: string, text: string): Promise<void>;
  /** Gives a task back: status `created`, lock cleared. */
  release(taskId: string, agentId: string, reason: string): Promise<void>;
}
