/**
 * `prj agent run`: keeps a coding agent working through a queue of tasks, each in its own
 * worktree, and survives crashes. The lock (task, agent, worktree, branch, time) is written
 * before any work starts and removed only after the final status is recorded, so a runner
 * that died resumes the same task and never picks a different one while it holds a lock.
 */
import * as path from "node:path";
import { PrjError } from "../util/errors.ts";
import type { Project } from "../project/project.ts";
import { openStore, type Store } from "../state/store.ts";
import {
  activeAgentRecord,
  agentHeartbeat,
  listAgentRecords,
  setAgentPhase,
  startAgent,
  stopAgent,
} from "../state/agents.ts";
import {
  type AgentLockRecord,
  deleteAgentLock,
  getAgentLock,
  insertAgentLock,
  setAgentLockAttempts,
} from "../state/agent_locks.ts";
import { processAlive } from "../util/liveness.ts";
import { render, replacePlaceholders } from "../definitions/placeholders.ts";
import { RunSession } from "../run/session.ts";
import { BRANCH_SLUG, slug } from "../util/slug.ts";
import { newRunId } from "../run/run_id.ts";
import { createWorktree } from "../workspace/worktrees/create.ts";
import { getWorktree } from "../workspace/worktrees/list.ts";
import { type HookKind, runHook } from "./hooks.ts";
import { agentEnv, prepareAgent, runHeadlessAgent } from "./launcher.ts";
import { type Level, LockConflict, type Task, type TaskSource } from "./tasks/source.ts";
import { TaskQueue } from "./tasks/queue.ts";
import { HeadlessPmClient } from "./tasks/headless_pm.ts";

/** One thing the runner did, for the terminal or `--json`. */
export interface AgentEvent {
  /** ISO time. */
  time: string;
  /** The agent id. */
  agent: string;
  /** The task id, if any. */
  task: string | null;
  /** The task's title. */
  title?: string | undefined;
  /** The phase: polling, lock, worktree, pre-task, agent, post-task, status, health-check, idle. */
  phase: string;
  /** What happened. */
  event: string;
  /** Milliseconds since work on the task started. */
  elapsedMs: number;
  /** More detail. */
  detail?: string | undefined;
}

/** What to do when a pre-task hook fails. */
export type HookDecision = "retry" | "skip" | "release" | "stop";

/** Options for {@link runAgent}. */
export interface AgentRunOptions {
  /** The role tasks are taken for. */
  role: string;
  /** This agent's id (stable across restarts, so a crash is resumed). */
  agentId: string;
  /** The agent's level (tasks up to this difficulty). */
  level: Level;
  /** Stop after one task (or when there is none). */
  singleTask: boolean;
  /** Stop when the source has no task for this agent (instead of polling). */
  exitWhenEmpty?: boolean | undefined;
  /** Folder with pre-task, post-task and health-check hooks. */
  hooksDir?: string | undefined;
  /** Milliseconds between polls of an empty queue. */
  pollMs: number;
  /** Stops the loop (the current agent is stopped; its lock is kept for a resume). */
  signal?: AbortSignal | undefined;
  /** Progress events. */
  onEvent: (event: AgentEvent) => void;
  /** Asks the operator what to do about a failing pre-task hook (on a TTY); else config decides. */
  ask?: ((question: string) => Promise<HookDecision>) | undefined;
  /** Use this task source instead of the configured one. */
  source?: TaskSource | undefined;
}

/** What a runner did. */
export interface AgentRunSummary {
  /** The tasks finished (status `dev_done` or `qa_done`). */
  done: string[];
  /** The tasks given back. */
  released: string[];
}

const DEFAULT_PROMPT = `# Task {{ task.id }}: {{ task.title }}

{{ task.description }}

You work in the git worktree {{ worktree }} on branch {{ branch }}, made for this task.
Implement it, run the tests, and commit your work on this branch with a clear message.
`;

/** The model for a task's difficulty: junior and senior use the default model, principal the strongest. */
export function modelFor(project: Project, difficulty: Level): string | undefined {
  const a = project.config.agent;
  if (difficulty === "principal") return a.models.principal ?? a.strongest_model ?? a.model;
  return a.models[difficulty] ?? a.model;
}

/** The configured task source. */
export function taskSource(project: Project, store: Store): TaskSource {
  if (project.config.task_source === "headless-pm") {
    const hp = project.config.headless_pm;
    if (!hp) {
      throw new PrjError("task_source is headless-pm but .prj/config.yaml has no headless_pm: section", {
        hint: "add headless_pm: { url: http://localhost:6969, api_key_env: HEADLESS_PM_API_KEY }",
      });
    }
    const apiKey = Deno.env.get(hp.api_key_env);
    if (!apiKey) {
      throw new PrjError(`The Headless PM API key is not set: environment variable ${hp.api_key_env} is empty`, {
        hint: `export ${hp.api_key_env}=<your key>`,
      });
    }
    return new HeadlessPmClient({ url: hp.url, apiKey, longPoll: hp.long_poll });
  }
  return new TaskQueue(store);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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

/**
 * Runs the agent loop until stopped (or after one task with `singleTask`).
 *
 * @throws {PrjError} for a bad configuration, or when a pre-task hook fails under policy `stop`
 *
 * @example With nothing to do, it stops at once
 * ```ts
 * import { initProject, openProject } from "@prunejuice/cli";
 * import { runAgent } from "@prunejuice/cli/agents";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await initProject(dir);
 * const events: string[] = [];
 * const summary = await runAgent(await openProject(dir), {
 *   role: "backend_dev",
 *   agentId: "dev_001",
 *   level: "senior",
 *   singleTask: false,
 *   exitWhenEmpty: true,
 *   pollMs: 1000,
 *   onEvent: (e) => events.push(e.event),
 * });
 * assert.deepEqual(summary, { done: [], released: [] });
 * assert.deepEqual(events, ["no task available"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function runAgent(project: Project, options: AgentRunOptions): Promise<AgentRunSummary> {
  const store = openStore(project.prjDir);
  const source = options.source ?? taskSource(project, store);
  const summary: AgentRunSummary = { done: [], released: [] };
  const config = project.config.agent_runner;
  const agentId = options.agentId;
  let current: { task: Task | null; started: number } = { task: null, started: performance.now() };
  const emit = (phase: string, event: string, detail?: string) =>
    options.onEvent({
      time: new Date().toISOString(),
      agent: agentId,
      task: current.task?.id ?? null,
      title: current.task?.title,
      phase,
      event,
      elapsedMs: Math.round(performance.now() - current.started),
      ...(detail === undefined ? {} : { detail }),
    });
  const setPhase = (phase: string) => {
    setAgentPhase(store, agentId, phase, current.task);
  };
  const heartbeat = async () => {
    agentHeartbeat(store, agentId);
    // Headless PM drops the locks of agents it has not seen for 30 minutes: registering is the heartbeat.
    try {
      await source.register(agentId, options.role, options.level);
    } catch (error) {
      emit("heartbeat", "heartbeat failed", (error as Error).message);
    }
  };

  const running = activeAgentRecord(store, agentId);
  if (
    running && running.host === Deno.hostname() && running.pid !== null && running.pid !== Deno.pid &&
    processAlive(Number(running.pid), running.pid_start)
  ) {
    store.close();
    throw new PrjError(`Agent "${agentId}" is already running (pid ${running.pid})`, {
      hint: "give this runner another --agent-id, or stop the other one first",
    });
  }
  startAgent(store, { agentId, role: options.role, level: options.level, source: source.kind });
  await heartbeat();
  const heartbeatTimer = setInterval(() => void heartbeat(), 5 * 60_000);
  const healthTimer = setInterval(async () => {
    const r = await hook("health-check", { agent_id: agentId, role: options.role, task: current.task });
    if (r.ran) emit("health-check", r.ok ? "health check passed" : "health check failed", r.error);
  }, config.health_check_minutes * 60_000);

  async function hook(kind: HookKind, payload: Record<string, unknown>, cwd = project.root, log?: (l: string) => void) {
    return await runHook(options.hooksDir, kind, payload, {
      timeoutMs: config.hook_timeout * 1000,
      cwd,
      env: { PRJ_AGENT_ID: agentId, PRJ_TASK_ID: String((payload.task as Task | null)?.id ?? "") },
      onLine: log ?? ((line) => emit(kind, "output", line)),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  const conflicts = new Set<string>();
  const givenBack = new Set<string>();
  try {
    while (!options.signal?.aborted) {
      const lock = getAgentLock(store, agentId);
      let task: Task;
      if (lock) {
        task = JSON.parse(lock.task) as Task;
        current = { task, started: performance.now() };
        emit("lock", "resuming the task this agent held", `worktree ${lock.worktree}, branch ${lock.branch}`);
      } else {
        current = { task: null, started: performance.now() };
        setPhase("polling");
        const next = await source.next(options.role, options.level, options.signal);
        if (options.signal?.aborted) break;
        if (next && givenBack.has(next.id)) {
          // This runner gave the task back in this session; leave it for another agent.
          emit("polling", `task ${next.id} was given back by this agent; not taking it again`);
          if (options.singleTask || options.exitWhenEmpty) break;
          await sleep(options.pollMs, options.signal);
          continue;
        }
        if (!next) {
          if (options.singleTask || options.exitWhenEmpty) {
            emit("polling", "no task available");
            break;
          }
          emit("polling", `no task; polling again in ${Math.round(options.pollMs / 1000)}s`);
          await sleep(options.pollMs, options.signal);
          continue;
        }
        if (conflicts.has(next.id)) {
          // The source keeps offering a task someone else holds: nothing is free for us now.
          if (options.singleTask || options.exitWhenEmpty) {
            emit("polling", "no task available (the only one offered is locked by another agent)");
            break;
          }
          await sleep(options.pollMs, options.signal);
          conflicts.clear();
          continue;
        }
        current = { task: next, started: performance.now() };
        try {
          task = await source.lock(next.id, agentId);
          task = { ...next, ...task };
        } catch (error) {
          if (error instanceof LockConflict) {
            conflicts.add(next.id);
            emit("lock", "lock conflict: another agent has this task", error.message);
            continue;
          }
          throw error;
        }
        const branch = task.branch ??
          `${project.config.worktree.branch_prefix}task-${task.id}-${slug(task.title, BRANCH_SLUG)}`;
        // Persist the lock before any work starts.
        insertAgentLock(store, {
          agentId,
          source: source.kind,
          taskId: task.id,
          task,
          worktree: `task-${task.id}`,
          branch,
        });
        emit("lock", "locked", `branch ${branch}`);
      }
      const row = getAgentLock(store, agentId)!;
      const outcome = await work(task, row);
      if (outcome === "done") summary.done.push(task.id);
      if (outcome === "released") {
        summary.released.push(task.id);
        givenBack.add(task.id);
      }
      if (outcome === "stopped" || options.singleTask) break;
    }
  } finally {
    clearInterval(heartbeatTimer);
    clearInterval(healthTimer);
    current = { task: null, started: performance.now() };
    stopAgent(store, agentId);
    store.close();
  }
  return summary;

  async function work(task: Task, lock: AgentLockRecord): Promise<"done" | "released" | "stopped"> {
    const model = modelFor(project, task.difficulty);
    // The task's work is a run of its own (command `agent-task`), with a step per phase.
    const session = RunSession.open(project, store, {
      runId: newRunId(),
      command: "agent-task",
      args: { task: task.id, title: task.title, agent: agentId, role: options.role, difficulty: task.difficulty },
      cwd: project.root,
      model,
    });
    const runId = session.id;
    session.update({ branch: lock.branch });
    let stepIndex = 0;
    const step = <T>(name: string, fn: (log: (line: string) => void) => Promise<T>): Promise<T> => {
      const index = stepIndex++;
      return session.recordStep({ index, phase: "main", name, kind: "builtin", target: name }, (recording) => {
        setPhase(name);
        return fn((line) => recording.write(line));
      });
    };
    const finish = (status: "succeeded" | "failed" | "cancelled", error: string | null) =>
      session.finish(status, error ?? undefined);
    const dropLock = () => {
      deleteAgentLock(store, agentId);
      if (source instanceof TaskQueue) source.unlock(task.id);
    };
    const giveBack = async (reason: string) => {
      emit("status", "giving the task back", reason);
      await source.comment(task.id, agentId, reason);
      await source.release(task.id, agentId, reason);
      dropLock();
      finish("failed", reason);
    };

    try {
      // Worktree: reuse this task's worktree when resuming, else create it on the task's branch.
      const worktree = await step("worktree", async (log) => {
        try {
          const existing = await getWorktree(project, lock.worktree, store);
          if (existing.exists) {
            log(`reusing ${existing.path}`);
            return { path: existing.path, port: existing.port };
          }
        } catch { /* create it */ }
        const created = await createWorktree(project, lock.worktree, {
          branch: lock.branch,
          runId,
          store,
          onProgress: log,
        });
        log(`created ${created.path} on ${created.branch}`);
        return { path: created.path, port: created.port };
      });
      session.update({ worktree: worktree.path });
      emit("worktree", "ready", worktree.path);
      await source.setStatus(task.id, agentId, "under_work", `agent ${agentId} in ${worktree.path}`);
      const payload = { task, agent_id: agentId, role: options.role, worktree: worktree.path, branch: lock.branch };

      // pre-task hooks, with the operator (TTY) or the policy deciding on failure.
      for (;;) {
        const pre = await step("pre-task", (log) => hook("pre-task", payload, worktree.path, log).then((r) => r));
        if (!pre.ran || pre.ok) break;
        const decision: HookDecision = options.ask
          ? await options.ask(`pre-task hook failed for task ${task.id} (${pre.error}): what now?`)
          : config.on_hook_failure;
        emit("pre-task", `pre-task hook failed: ${decision}`, pre.error);
        if (decision === "retry") continue;
        if (decision === "skip") break;
        if (decision === "stop") {
          finish("cancelled", `pre-task hook failed: ${pre.error}; runner stopped`);
          return "stopped";
        }
        await giveBack(`pre-task hook failed: ${pre.error}`);
        return "released";
      }

      // The agent, retried on a crash up to max_attempts (attempts survive runner restarts).
      const values = {
        args: {},
        env: {},
        shared: {},
        plain: {
          worktree: worktree.path,
          branch: lock.branch,
          project: project.root,
          project_name: project.name,
          model,
        },
      };
      // One pass over the template: a task's own text is inserted as it is, never read as placeholders.
      const rendered = replacePlaceholders(
        config.prompt ?? DEFAULT_PROMPT,
        (expr) =>
          expr.startsWith("task.")
            ? String((task as unknown as Record<string, unknown>)[expr.slice(5)] ?? "")
            : render(`{{ ${expr} }}`, values),
      );
      const promptFile = path.join(session.outputsDir, "prompt.md");
      await Deno.writeTextFile(promptFile, rendered);
      let lastError = "";
      let success = false;
      let attempts = Number(lock.attempts);
      while (attempts < config.max_attempts && !options.signal?.aborted) {
        attempts++;
        setAgentLockAttempts(store, agentId, attempts);
        emit("agent", `attempt ${attempts} of ${config.max_attempts} started`, model ? `model ${model}` : undefined);
        const prepared = prepareAgent(project, { prompt: rendered, promptFile, model, headless: true });
        const exit = await step(`agent-attempt-${attempts}`, async (log) => {
          log(`$ ${prepared.display.join(" ")}`);
          const { exit } = await runHeadlessAgent(store, prepared, {
            cwd: worktree.path,
            env: {
              ...agentEnv(project, { worktree: worktree.path, port: worktree.port, model, promptFile }),
              PRJ_AGENT_ID: agentId,
              PRJ_TASK_ID: task.id,
              PRJ_TASK_JSON: JSON.stringify(task),
            },
            model,
            runId,
            worktree: { name: lock.worktree, branch: lock.branch },
            timeoutMs: config.timeout === undefined ? undefined : config.timeout * 1000,
            signal: options.signal,
            onLine: (line) => log(line),
          });
          if (exit.stopped === "cancelled") throw new PrjError("the runner was stopped");
          return exit;
        }).catch((error) => ({ code: -1, stopped: undefined, error: (error as Error).message }));
        if ("error" in exit) {
          lastError = exit.error;
          break;
        }
        if (exit.stopped === "timeout") {
          lastError = `agent timed out after ${config.timeout}s`;
          emit("agent", "agent timed out", lastError);
          continue;
        }
        if (exit.code !== 0) {
          lastError = `agent exited with code ${exit.code}`;
          emit("agent", "agent crashed; retrying on the same task", lastError);
          continue;
        }
        success = true;
        break;
      }
      if (options.signal?.aborted) {
        finish("cancelled", "the runner was stopped; the task stays locked for a resume");
        emit("agent", "stopped; the lock is kept so a restart resumes this task");
        return "stopped";
      }
      if (!success) {
        await giveBack(`agent failed ${attempts} time(s) on this task; last: ${lastError}`);
        return "released";
      }
      emit("agent", "agent finished");

      const post = await step("post-task", (log) => hook("post-task", payload, worktree.path, log));
      if (post.ran && !post.ok) emit("post-task", "post-task hook failed (the work stays done)", post.error);

      const final = options.role === "qa" ? "qa_done" : "dev_done";
      await step("status", async (log) => {
        await source.setStatus(task.id, agentId, final, `done on branch ${lock.branch} in ${attempts} attempt(s)`);
        await source.comment(
          task.id,
          agentId,
          `prj agent ${agentId}: done on branch ${lock.branch} (${attempts} attempt(s))`,
        );
        log(`status ${final}`);
      });
      dropLock();
      finish("succeeded", null);
      emit("status", `done: ${final}`);
      return "done";
    } catch (error) {
      finish("failed", (error as Error).message);
      throw error;
    }
  }
}

/** A local agent as `prj agent status` shows it. */
export interface AgentStatus {
  agent_id: string;
  role: string;
  level: string;
  source: string;
  pid: number | null;
  state: "running" | "stopped";
  phase: string;
  phase_since: string;
  task_id: string | null;
  task_title: string | null;
  last_heartbeat: string | null;
  lock: { task_id: string; worktree: string; branch: string; locked_at: string; attempts: number } | null;
}

/** The agents that have run in this project, with their locks. */
export function agentStatuses(store: Store): AgentStatus[] {
  return listAgentRecords(store).map((r) => {
    const alive = r.stopped_at === null && r.host === Deno.hostname() && r.pid !== null &&
      processAlive(Number(r.pid), r.pid_start);
    const held = getAgentLock(store, r.agent_id);
    const lock = held
      ? {
        task_id: held.task_id,
        worktree: held.worktree,
        branch: held.branch,
        locked_at: held.locked_at,
        attempts: held.attempts,
      }
      : undefined;
    return {
      agent_id: String(r.agent_id),
      role: String(r.role),
      level: String(r.level),
      source: String(r.source),
      pid: r.pid === null ? null : Number(r.pid),
      state: alive ? "running" : "stopped",
      phase: alive ? String(r.phase) : lock ? "stopped holding a lock (will resume)" : "stopped",
      phase_since: String(r.phase_since),
      task_id: alive ? (r.task_id as string | null) : lock?.task_id ?? null,
      task_title: alive ? (r.task_title as string | null) : null,
      last_heartbeat: r.last_heartbeat as string | null,
      lock: lock ? { ...lock, attempts: Number(lock.attempts) } : null,
    };
  });
}
