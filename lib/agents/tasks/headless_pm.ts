/**
 * A client for Headless PM's REST API, as a task source. What it knows about the server:
 * there is no single-task read (a task is found in `GET /tasks`), a status update that carries
 * notes replaces every comment (so it never sends any), a lock is check-then-write (so the
 * caller confirms it by reading the task), and the server may be restarted at any time (so
 * every call is retried with backoff, and a call that may have landed is checked first).
 */
import { PrjError } from "../../util/errors.ts";
import { Stopped } from "../../run/stop.ts";
import {
  type Level,
  LEVELS,
  LockConflict,
  type Task,
  TaskNotFound,
  type TaskSource,
  type TaskStatus,
} from "./source.ts";

/** Options for {@link HeadlessPmClient}. */
export interface HeadlessPmOptions {
  /** Base URL, e.g. `http://localhost:6969` (a trailing `/api/v1` is accepted). */
  url: string;
  /** The API key (sent as `X-API-KEY`). */
  apiKey: string;
  /** Whole seconds the server may hold `GET /tasks/next` open; the client waits longer than this. */
  longPoll: number;
  /** Where the key came from, for the hint of a 401 (e.g. `the environment variable HEADLESS_PM_API_KEY`). */
  apiKeyFrom?: string | undefined;
  /**
   * How long a call that fails on the network (or with 502, 503, 504) is retried, in ms (default 10 minutes),
   * once the client has reached the server. Until then (a mistyped URL, a server that is not running) a call
   * gives up after {@link FIRST_CONTACT_TRIES} tries over about 10 seconds.
   */
  retryForMs?: number | undefined;
  /** Where the URL came from, for the message when the server cannot be reached (e.g. `headless_pm.url in .prj/config.yaml`). */
  urlFrom?: string | undefined;
  /** Told before each retry, with what failed and when the next try is. */
  onRetry?: ((message: string) => void) | undefined;
  /** Stops long polls and the waits between retries (they end with {@link Stopped}; a poll returns null). */
  signal?: AbortSignal | undefined;
}

/** The server could not be reached for longer than the retry budget. */
class Unreachable extends Error {}

interface CallOptions {
  body?: unknown;
  timeoutMs?: number;
  /** The long poll: stopped by this signal (else the client's). */
  poll?: boolean;
  /** Stops this call (default: the client's signal). */
  signal?: AbortSignal | undefined;
  /** The task the path names, for a 404. */
  taskId?: string;
  /** The agent the path names, registered again after a 404 for an unknown agent. */
  agentId?: string;
  /** After a failed try of a call that may have landed: whether it did (then it is not sent again). */
  landed?: () => Promise<boolean>;
  /** One try, no retry. */
  once?: boolean;
}

const RETRY_STATUSES = [502, 503, 504];

/** Tries of a call before the client has ever reached the server: 2 s and 4 s apart, 3 s each at most. */
export const FIRST_CONTACT_TRIES = 3;
const FIRST_CONTACT_TIMEOUT_MS = 3_000;
const FIRST_CONTACT_DELAY_MS = 2_000;

function describeFailure(error: unknown): string {
  if (error instanceof DOMException && error.name === "TimeoutError") return "no answer in time";
  // fetch says "fetch failed"; what failed is in its cause.
  let message = error instanceof Error ? error.message : String(error);
  for (let e: unknown = error; e instanceof Error && e.cause !== undefined; e = e.cause) {
    message += ` ${e.cause instanceof Error ? e.cause.message : String(e.cause)}`;
  }
  if (/connection refused/i.test(message)) return "connection refused";
  if (/dns error|failed to lookup address/i.test(message)) return "no such host";
  if (/reset|broken pipe|closed/i.test(message)) return "connection lost";
  return message.split("\n")[0]!;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

function detailText(detail: unknown, text: string): string {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((d: { loc?: unknown[]; msg?: string }) =>
      `${(d.loc ?? []).filter((l) => l !== "body" && l !== "query").join(".")}: ${d.msg ?? "invalid"}`
    ).join("; ");
  }
  return detail ? JSON.stringify(detail) : text.slice(0, 200);
}

/**
 * A client for Headless PM's REST API (`/api/v1`).
 *
 * @example An empty queue is `null`, not an error
 * ```ts
 * import { HeadlessPmClient } from "@prunejuice/cli/agents";
 * import assert from "node:assert/strict";
 *
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => Response.json(null));
 * const client = new HeadlessPmClient({ url: `http://127.0.0.1:${server.addr.port}`, apiKey: "k", longPoll: 1 });
 * assert.equal(await client.next("backend_dev", "senior"), null);
 * await server.shutdown();
 * ```
 */
export class HeadlessPmClient implements TaskSource {
  /** The source kind. */
  readonly kind = "headless-pm" as const;
  #options: HeadlessPmOptions;
  #url: string;
  #registered = new Map<string, { role: string; level: Level }>();
  /** Whether the server has answered this client once: until then a failure to reach it is reported quickly. */
  #reached = false;

  /**
   * A client for one server.
   *
   * @param options server URL, API key, long-poll seconds, retry budget
   */
  constructor(options: HeadlessPmOptions) {
    this.#options = options;
    this.#url = options.url.replace(/\/+$/, "").replace(/\/api\/v1$/, "");
  }

  /** `Headless PM at <url>`. */
  describe(): string {
    return `Headless PM at ${this.#url}`;
  }

  async #call(method: string, path: string, options: CallOptions = {}): Promise<unknown> {
    const retryFor = this.#options.retryForMs ?? 10 * 60_000;
    const started = Date.now();
    const deadline = started + retryFor;
    const signal = options.signal ?? this.#options.signal;
    let delay = 500;
    let reregistered = false;
    for (let tries = 1;; tries++) {
      if (signal?.aborted) throw new Stopped();
      // Until the server has answered once, a call that cannot reach it is a mistake to report now.
      const first = !this.#reached;
      if (first && tries === 1) delay = FIRST_CONTACT_DELAY_MS;
      let problem: string;
      try {
        const timeoutMs = first && !options.poll
          ? Math.min(options.timeoutMs ?? FIRST_CONTACT_TIMEOUT_MS, FIRST_CONTACT_TIMEOUT_MS)
          : options.timeoutMs;
        return await this.#once(method, path, { ...options, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
      } catch (error) {
        if (error instanceof Unreachable) problem = error.message;
        else if (
          error instanceof AgentUnknown && options.agentId && !reregistered &&
          this.#registered.has(options.agentId)
        ) {
          // The server lost the agent (a new database, or the PM removed it): register it again, once.
          reregistered = true;
          const { role, level } = this.#registered.get(options.agentId)!;
          await this.register(options.agentId, role, level);
          continue;
        } else throw error;
      }
      if (signal?.aborted) throw new Stopped();
      if (first && !this.#reached && tries >= FIRST_CONTACT_TRIES) {
        const seconds = Math.max(1, Math.round((Date.now() - started) / 1000));
        throw new PrjError(
          `${this.describe()} cannot be reached (${problem}; ${tries} tries in ${seconds}s): start the server, or correct ${
            this.#options.urlFrom ?? "headless_pm.url in .prj/config.yaml"
          }`,
        );
      }
      if (options.once || Date.now() + delay > deadline) {
        throw new PrjError(
          `${this.describe()} did not answer ${method} ${path.split("?")[0]} for ${
            Math.round(retryFor / 1000)
          }s: ${problem}`,
          { hint: "is the server running? check headless_pm.url (or HEADLESS_PM_API_URL)" },
        );
      }
      this.#options.onRetry?.(
        `${this.describe()} did not answer ${method} ${path.split("?")[0]} (${problem}); retrying in ${
          (delay / 1000).toFixed(1)
        }s`,
      );
      await sleep(delay, signal);
      if (signal?.aborted) throw new Stopped();
      delay = Math.min(delay * 2, 30_000);
      if (options.landed) {
        try {
          if (await options.landed()) return undefined;
        } catch (error) {
          // Still unreachable: try again after the next wait; anything else is an answer.
          if (!(error instanceof PrjError && /did not answer/.test(error.message))) throw error;
        }
      }
    }
  }

  async #once(method: string, path: string, options: CallOptions): Promise<unknown> {
    const url = `${this.#url}/api/v1${path}`;
    const stop = options.signal ?? this.#options.signal;
    const signals = [AbortSignal.timeout(options.timeoutMs ?? 30_000)];
    if (options.poll && stop) signals.push(stop);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          "X-API-KEY": this.#options.apiKey,
          ...(options.body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        signal: AbortSignal.any(signals),
      });
    } catch (error) {
      if (stop?.aborted && options.poll) throw new Stopped();
      throw new Unreachable(describeFailure(error));
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw new Unreachable(describeFailure(error));
    }
    let json: unknown = null;
    try {
      json = text === "" ? null : JSON.parse(text);
    } catch { /* not JSON */ }
    // An answer from the server (not from a proxy in front of it): from now on it is worth waiting for.
    if (!RETRY_STATUSES.includes(response.status)) this.#reached = true;
    if (response.ok) return json;
    const message = detailText((json as { detail?: unknown } | null)?.detail, text);
    const route = `${method} ${path.split("?")[0]}`;
    if (RETRY_STATUSES.includes(response.status)) throw new Unreachable(`it answered ${response.status}`);
    switch (response.status) {
      case 401:
        throw new PrjError(`${this.describe()} refused the API key (401) for ${route}`, {
          hint: `check the key in ${
            this.#options.apiKeyFrom ?? "the environment variable named by headless_pm.api_key_env"
          }`,
        });
      case 404:
        if (/^Agent '.*' not found/.test(message)) throw new AgentUnknown(`${this.describe()}: ${message}`);
        if (options.taskId !== undefined && /^Task/.test(message)) {
          throw new TaskNotFound(options.taskId, this.describe());
        }
        throw new PrjError(`${this.describe()}: not found (404) for ${route}: ${message}`);
      case 409:
        throw new LockConflict(options.taskId ?? "?", null);
      case 422:
        throw new PrjError(`${this.describe()} rejected ${route} (422): ${message}`);
      default:
        throw new PrjError(`${this.describe()} answered ${response.status} for ${route}: ${message}`);
    }
  }

  #task(raw: unknown): Task {
    const r = raw as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : null);
    return {
      id: String(r.id),
      title: String(r.title ?? ""),
      description: String(r.description ?? ""),
      role: text(r.target_role),
      difficulty: LEVELS.includes(r.difficulty as Level) ? r.difficulty as Level : "senior",
      complexity: r.complexity === "minor" ? "minor" : "major",
      status: String(r.status ?? "created"),
      branch: text(r.branch),
      locked_by: text(r.locked_by),
      locked_at: text(r.locked_at),
      notes: text(r.notes),
    };
  }

  #agent(agentId: string): string {
    return `agent_id=${encodeURIComponent(agentId)}`;
  }

  /** Registers the agent; registering again is the heartbeat (the server keeps the first role and level). */
  async register(agentId: string, role: string, level: Level): Promise<void> {
    await this.#call("POST", "/register", { body: { agent_id: agentId, role, level, connection_type: "client" } });
    this.#registered.set(agentId, { role, level });
  }

  /**
   * The oldest task the server offers the role and level (none: null after its long poll, or when
   * stopped). The server offers the same oldest task every time, so when that one is in `skip`,
   * the next one is found in its task list by the server's own rules (QA: `dev_done` tasks of any
   * role; others: `created` tasks of the role up to the level; unlocked).
   */
  async next(role: string, level: Level, signal?: AbortSignal, skip?: ReadonlySet<string>): Promise<Task | null> {
    const q = new URLSearchParams({ role, level, timeout: String(Math.round(this.#options.longPoll)) });
    let offered: Task | null;
    try {
      // Wait longer than the server's long poll, so an empty queue is a `null`, not a timeout.
      const raw = await this.#call("GET", `/tasks/next?${q}`, {
        poll: true,
        signal: signal ?? this.#options.signal,
        timeoutMs: (this.#options.longPoll + 30) * 1000,
      });
      offered = raw === null || raw === undefined || signal?.aborted ? null : this.#task(raw);
    } catch (error) {
      if (error instanceof Stopped || signal?.aborted) return null;
      throw error;
    }
    if (!offered || !skip?.has(offered.id)) return offered;
    const rank = (l: string) => LEVELS.indexOf(l as Level);
    const open = role === "qa" ? await this.list("dev_done") : await this.list("created");
    return open
      .filter((t) =>
        t.locked_by === null && !skip.has(t.id) &&
        (role === "qa" || (t.role === role && rank(t.difficulty) <= rank(level)))
      )
      .sort((a, b) => Number(a.id) - Number(b.id))[0] ?? null;
  }

  /** The task as the server has it now (read from `GET /tasks`: the server has no single-task read). */
  async get(taskId: string): Promise<Task | undefined> {
    return (await this.list()).find((t) => t.id === String(taskId));
  }

  /** Tasks, optionally of one status. */
  async list(status?: string): Promise<Task[]> {
    const raw = await this.#call("GET", status ? `/tasks?${new URLSearchParams({ status })}` : "/tasks");
    return (Array.isArray(raw) ? raw : []).map((t) => this.#task(t));
  }

  /**
   * Locks a task. A 409 for a lock this agent already holds (a retried lock that had landed, or a
   * resume) counts as locked; the server's lock is not atomic, so read the task to confirm it.
   *
   * @throws {LockConflict} when another agent holds it
   * @throws {TaskNotFound} when there is no such task
   */
  async lock(taskId: string, agentId: string): Promise<Task> {
    const mine = async () => (await this.#getOnce(taskId))?.locked_by === agentId;
    try {
      const raw = await this.#call("POST", `/tasks/${taskId}/lock?${this.#agent(agentId)}`, {
        taskId,
        agentId,
        landed: mine,
      });
      if (raw) return this.#task(raw);
    } catch (error) {
      if (!(error instanceof LockConflict)) throw error;
    }
    const task = await this.get(taskId);
    if (!task) throw new TaskNotFound(taskId, this.describe());
    if (task.locked_by !== agentId) throw new LockConflict(taskId, task.locked_by);
    return task;
  }

  /**
   * Sets a task's status without notes (notes on a status update would replace every comment).
   * A retried update is not sent again when it had landed; it fails with {@link LockConflict}
   * when the task has meanwhile been locked by another agent.
   */
  async setStatus(taskId: string, agentId: string, status: TaskStatus): Promise<void> {
    await this.#call("PUT", `/tasks/${taskId}/status?${this.#agent(agentId)}`, {
      body: { status },
      taskId,
      agentId,
      landed: async () => {
        const task = await this.#getOnce(taskId);
        if (!task) throw new TaskNotFound(taskId, this.describe());
        if (task.status === status) return true;
        if (task.locked_by !== null && task.locked_by !== agentId) throw new LockConflict(taskId, task.locked_by);
        return false;
      },
    });
  }

  async #getOnce(taskId: string): Promise<Task | undefined> {
    const raw = await this.#call("GET", "/tasks", { once: true });
    return (Array.isArray(raw) ? raw : []).map((t) => this.#task(t)).find((t) => t.id === String(taskId));
  }

  /** Adds a comment (the server appends `<agent>: <text>` to the task's notes). */
  async comment(taskId: string, agentId: string, text: string): Promise<void> {
    await this.#call("POST", `/tasks/${taskId}/comment?${this.#agent(agentId)}`, {
      body: { comment: text },
      taskId,
      landed: async () => ((await this.#getOnce(taskId))?.notes ?? "").endsWith(`${agentId}: ${text}`),
    });
  }

  /**
   * Gives a task back: the reason as a comment, then status `back` (default `created`). The
   * server clears a lock only when a task leaves `under_work`, so a task that is not there yet
   * passes through it first.
   */
  async release(taskId: string, agentId: string, reason: string, back: TaskStatus = "created"): Promise<void> {
    await this.comment(taskId, agentId, reason);
    const task = await this.get(taskId);
    if (!task) throw new TaskNotFound(taskId, this.describe());
    if (task.status !== "under_work") await this.setStatus(taskId, agentId, "under_work");
    await this.setStatus(taskId, agentId, back);
  }
}

/** A 404 for an agent the server does not know. */
class AgentUnknown extends PrjError {}
