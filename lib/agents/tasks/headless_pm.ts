/** A client for Headless PM's REST API, as a task source. */
import { PrjError } from "../../util/errors.ts";
import { type Level, LockConflict, type Task, type TaskSource, type TaskStatus } from "./source.ts";

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

  /**
   * A client for one server.
   *
   * @param options server URL, API key and long-poll seconds
   */
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
