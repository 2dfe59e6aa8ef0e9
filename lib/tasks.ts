/** Task sources for the agent runner: the built-in SQLite queue and a Headless PM client, behind one interface. */
import { PrjError, UsageError } from "./errors.ts";
import type { Store } from "./store.ts";

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
  id: string;
  title: string;
  description: string;
  role: string | null;
  difficulty: Level;
  complexity: "minor" | "major";
  status: string;
  branch: string | null;
  locked_by: string | null;
  locked_at: string | null;
}

/**
 * Another agent holds the task (Headless PM answers 409).
 *
 * @example
 * ```ts
 * import { LockConflict, PrjError } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * const conflict = new LockConflict("12", "dev_002");
 * assert.equal(conflict.message, "Task 12 is locked by dev_002");
 * assert.ok(conflict instanceof PrjError);
 * ```
 */
export class LockConflict extends PrjError {
  /** @param taskId the task that could not be locked */
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

const levelRank = (l: string) => LEVELS.indexOf(l as Level);

function now(): string {
  return new Date().toISOString();
}

/** A row of the `tasks` table: a task with a numeric id and its times. */
interface TaskRow extends Omit<Task, "id"> {
  id: number;
  created_at: string;
  updated_at: string;
}

function toTask(row: TaskRow): Task {
  const { id, created_at: _created, updated_at: _updated, ...rest } = row;
  return { ...rest, id: String(id) };
}

/** One entry of a task's history. */
export interface TaskEvent {
  at: string;
  agent_id: string | null;
  kind: string;
  detail: string | null;
}

/**
 * The built-in task queue in the project's SQLite database.
 *
 * @example
 * ```ts
 * import { initProject, openProject, openStore, TaskQueue } from "@prunejuice/cli";
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
  readonly kind = "builtin" as const;
  #store: Store;

  /** @param store the project's store */
  constructor(store: Store) {
    this.#store = store;
  }

  #event(taskId: string | number, agentId: string | null, kind: string, detail: string | null): void {
    this.#store.db.prepare("INSERT INTO task_events (task_id, at, agent_id, kind, detail) VALUES (?, ?, ?, ?, ?)")
      .run(Number(taskId), now(), agentId, kind, detail);
  }

  /** Adds a task. */
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
    return this.#store.transaction(() => {
      const t = now();
      const result = this.#store.db.prepare(
        `INSERT INTO tasks (title, description, role, difficulty, complexity, status, branch, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'created', ?, ?, ?)`,
      ).run(
        task.title,
        task.description ?? "",
        task.role ?? null,
        task.difficulty ?? "senior",
        task.complexity ?? "minor",
        task.branch ?? null,
        t,
        t,
      );
      const id = Number(result.lastInsertRowid);
      this.#event(id, null, "created", task.title);
      return this.get(String(id))!;
    });
  }

  /** One task, or undefined. */
  get(id: string): Task | undefined {
    const row = this.#store.db.prepare("SELECT * FROM tasks WHERE id = ?").get(Number(id)) as TaskRow | undefined;
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
    const rows =
      (status
        ? this.#store.db.prepare("SELECT * FROM tasks WHERE status = ? ORDER BY id").all(status)
        : this.#store.db.prepare("SELECT * FROM tasks ORDER BY id").all()) as unknown as TaskRow[];
    return rows.map(toTask);
  }

  /** A task's history (status changes, locks, comments). */
  events(id: string): TaskEvent[] {
    return this.#store.db.prepare("SELECT at, agent_id, kind, detail FROM task_events WHERE task_id = ? ORDER BY id")
      .all(Number(id)) as unknown as TaskEvent[];
  }

  register(): Promise<void> {
    return Promise.resolve();
  }

  next(role: string, level: Level): Promise<Task | null> {
    const rows = this.#store.db.prepare(
      "SELECT * FROM tasks WHERE status = 'created' AND locked_by IS NULL AND (role IS NULL OR role = ?) ORDER BY id",
    ).all(role) as unknown as TaskRow[];
    const row = rows.find((r) => levelRank(r.difficulty) <= levelRank(level));
    return Promise.resolve(row ? toTask(row) : null);
  }

  lock(taskId: string, agentId: string): Promise<Task> {
    return Promise.resolve(this.#store.transaction(() => {
      const result = this.#store.db.prepare(
        "UPDATE tasks SET locked_by = ?, locked_at = ?, updated_at = ? WHERE id = ? AND (locked_by IS NULL OR locked_by = ?)",
      ).run(agentId, now(), now(), Number(taskId), agentId);
      if (Number(result.changes) === 0) {
        const task = this.get(taskId);
        if (!task) throw new UsageError(`No task ${taskId}`);
        throw new LockConflict(taskId, task.locked_by);
      }
      this.#event(taskId, agentId, "locked", null);
      return this.get(taskId)!;
    }));
  }

  setStatus(taskId: string, agentId: string | null, status: TaskStatus, notes?: string): Promise<void> {
    this.#store.transaction(() => {
      const task = this.require(taskId);
      this.#store.db.prepare("UPDATE tasks SET status = ?, updated_at = ? WHERE id = ?").run(
        status,
        now(),
        Number(taskId),
      );
      this.#event(taskId, agentId, "status", `${task.status} -> ${status}${notes ? `: ${notes}` : ""}`);
    });
    return Promise.resolve();
  }

  comment(taskId: string, agentId: string | null, text: string): Promise<void> {
    this.require(taskId);
    this.#event(taskId, agentId, "comment", text);
    return Promise.resolve();
  }

  release(taskId: string, agentId: string | null, reason: string): Promise<void> {
    this.#store.transaction(() => {
      const task = this.require(taskId);
      this.#store.db.prepare(
        "UPDATE tasks SET status = 'created', locked_by = NULL, locked_at = NULL, updated_at = ? WHERE id = ?",
      )
        .run(now(), Number(taskId));
      this.#event(taskId, agentId, "released", `${task.status} -> created: ${reason}`);
    });
    return Promise.resolve();
  }

  /** Clears a lock after the final status (the task keeps its status). */
  unlock(taskId: string): void {
    this.#store.db.prepare("UPDATE tasks SET locked_by = NULL, locked_at = NULL WHERE id = ?").run(Number(taskId));
  }
}

/** Options for {@link HeadlessPmClient}. */
export interface HeadlessPmOptions {
  /** Base URL, e.g. `http://localhost:6969`. */
  url: string;
  /** The API key (sent as `X-API-KEY`). */
  apiKey: string;
  /** Seconds the server may hold `next` open; the client waits longer than this. */
  longPoll: number;
}

/**
 * A client for Headless PM's REST API (`/api/v1`).
 *
 * @example An empty queue is `null`, not an error
 * ```ts
 * import { HeadlessPmClient } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => Response.json(null));
 * const client = new HeadlessPmClient({ url: `http://127.0.0.1:${server.addr.port}`, apiKey: "k", longPoll: 1 });
 * assert.equal(await client.next("backend_dev", "senior"), null);
 * await server.shutdown();
 * ```
 */
export class HeadlessPmClient implements TaskSource {
  readonly kind = "headless-pm" as const;
  #options: HeadlessPmOptions;

  /** @param options server URL, API key and long-poll seconds */
  constructor(options: HeadlessPmOptions) {
    this.#options = { ...options, url: options.url.replace(/\/+$/, "") };
  }

  async #request(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = 30_000,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const url = `${this.#options.url}/api/v1${path}`;
    const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])];
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          "X-API-KEY": this.#options.apiKey,
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.any(signals),
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new PrjError(
        `Headless PM at ${this.#options.url} did not answer ${method} ${path}: ${(error as Error).message}`,
      );
    }
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text === "" ? null : JSON.parse(text);
    } catch { /* not JSON */ }
    if (response.ok) return json;
    const detail = (json as { detail?: unknown } | null)?.detail;
    const message = typeof detail === "string" ? detail : detail ? JSON.stringify(detail) : text.slice(0, 200);
    switch (response.status) {
      case 401:
        throw new PrjError(`Headless PM refused the API key (401) for ${method} ${path}`, {
          hint: "check the key in the environment variable named by headless_pm.api_key_env",
        });
      case 404:
        throw new PrjError(`Headless PM: not found (404) for ${method} ${path}: ${message}`);
      case 409:
        throw new LockConflict(path.split("/")[2] ?? "?", null);
      case 422:
        throw new PrjError(`Headless PM rejected ${method} ${path} (422): ${message}`);
      default:
        throw new PrjError(`Headless PM answered ${response.status} for ${method} ${path}: ${message}`);
    }
  }

  #task(raw: unknown): Task {
    const r = raw as Record<string, unknown>;
    return {
      id: String(r.id),
      title: String(r.title ?? ""),
      description: String(r.description ?? ""),
      role: (r.target_role as string | undefined) ?? null,
      difficulty: (r.difficulty as Level | undefined) ?? "senior",
      complexity: (r.complexity as "minor" | "major" | undefined) ?? "minor",
      status: String(r.status ?? "created"),
      branch: (r.branch as string | undefined) ?? null,
      locked_by: (r.locked_by as string | undefined) ?? null,
      locked_at: (r.locked_at as string | undefined) ?? null,
    };
  }

  async register(agentId: string, role: string, level: Level): Promise<void> {
    await this.#request("POST", "/register", { agent_id: agentId, role, level, connection_type: "client" });
  }

  async next(role: string, level: Level, signal?: AbortSignal): Promise<Task | null> {
    const q = new URLSearchParams({ role, level, timeout: String(this.#options.longPoll) });
    // Wait longer than the server's long poll, so an empty queue is a `null`, not a timeout.
    const raw = await this.#request("GET", `/tasks/next?${q}`, undefined, (this.#options.longPoll + 30) * 1000, signal);
    return raw === null ? null : this.#task(raw);
  }

  async lock(taskId: string, agentId: string): Promise<Task> {
    try {
      return this.#task(await this.#request("POST", `/tasks/${taskId}/lock?agent_id=${encodeURIComponent(agentId)}`));
    } catch (error) {
      if (error instanceof LockConflict) throw new LockConflict(taskId, null);
      throw error;
    }
  }

  async setStatus(taskId: string, agentId: string, status: TaskStatus, notes?: string): Promise<void> {
    await this.#request("PUT", `/tasks/${taskId}/status?agent_id=${encodeURIComponent(agentId)}`, {
      status,
      ...(notes ? { notes } : {}),
    });
  }

  async comment(taskId: string, agentId: string, text: string): Promise<void> {
    await this.#request("POST", `/tasks/${taskId}/comment?agent_id=${encodeURIComponent(agentId)}`, { comment: text });
  }

  async release(taskId: string, agentId: string, reason: string): Promise<void> {
    await this.comment(taskId, agentId, `given back: ${reason}`);
    await this.setStatus(taskId, agentId, "created", reason);
  }
}
