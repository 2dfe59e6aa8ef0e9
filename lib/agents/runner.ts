/**
 * `prj agent run`: keeps a coding agent working through a queue of tasks, each in its own
 * worktree, and survives crashes. The lock (task, agent, worktree, branch, time) is written as
 * soon as the source grants it and removed only after the final status is recorded, so a runner
 * that died resumes the same task and never picks a different one while it holds a lock; a
 * resume asks the source first, and drops a lock whose task is finished or someone else's.
 */
import * as path from "../util/path.ts";
import { PrjError, UsageError } from "../util/errors.ts";
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
  setAgentLockBranch,
  setAgentLockStage,
} from "../state/agent_locks.ts";
import { processAlive } from "../util/liveness.ts";
import { now, sleep } from "../util/time.ts";
import { didYouMean } from "../util/suggest.ts";
import { render, replacePlaceholders } from "../definitions/placeholders.ts";
import { RunSession } from "../run/session.ts";
import { Stopped } from "../run/stop.ts";
import { newRunId } from "../run/run_id.ts";
import { createWorktree } from "../workspace/worktrees/create.ts";
import { getWorktree } from "../workspace/worktrees/list.ts";
import { worktreeDir } from "../workspace/worktrees/names.ts";
import { type HookKind, runHook } from "./hooks.ts";
import { agentEnv, prepareAgent, runHeadlessAgent } from "./launcher.ts";
import { findLiveAgent, waitForAgent } from "./headless.ts";
import { formatUsd, spentOn } from "./cost.ts";
import { acquireAgentSlot } from "./slots.ts";
import {
  HEADLESS_PM_ROLES,
  type Level,
  LockConflict,
  type Task,
  type TaskSource,
  type TaskStatus,
} from "./tasks/source.ts";
import { taskSource } from "./tasks/configured.ts";
import { chooseTaskBranch, pushTaskBranch, shareRemote } from "./tasks/branch.ts";

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
  /** The phase: polling, lock, network, worktree, pre-task, agent, post-task, push, status, health-check. */
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
  /**
   * USD: take no new task once the project's recorded agent spend today (local time) reaches
   * it (default `agent_runner.budget_usd`; none: no limit). The task at hand is finished.
   */
  budgetUsd?: number | undefined;
}

/** What a runner did. */
export interface AgentRunSummary {
  /** The tasks finished (status `dev_done` or `qa_done`). */
  done: string[];
  /** The tasks given back. */
  released: string[];
  /** Set when the runner stopped at its budget: what was spent today, and the budget (USD). */
  budget?: { spent_usd: number; budget_usd: number } | undefined;
}

const DEFAULT_PROMPT = `# Task {{ task.id }}: {{ task.title }}

{{ task.description }}

You work in the git worktree {{ worktree }} on branch {{ branch }}, made for this task.
Implement it, run the tests, and commit your work on this branch with a clear message.
`;

// Added to the default prompt when the task has notes: the PM's instructions, QA's reasons for a rework.
const NOTES_SECTION = `
## Notes and comments on the task

{{ task.notes }}
`;

/** The model for a task's difficulty: junior and senior use the default model, principal the strongest. */
export function modelFor(project: Project, difficulty: Level): string | undefined {
  const a = project.config.agent;
  if (difficulty === "principal") return a.models.principal ?? a.strongest_model ?? a.model;
  return a.models[difficulty] ?? a.model;
}

/** Where a given-back task goes: back to the queue it was taken from. */
function backTo(lock: AgentLockRecord, role: string): TaskStatus {
  if (lock.from_status === "created" || lock.from_status === "dev_done") return lock.from_status;
  return role === "qa" ? "dev_done" : "created";
}

/**
 * Runs the agent loop until stopped (or after one task with `singleTask`).
 *
 * @throws {UsageError} for a role the Headless PM server does not have
 * @throws {PrjError} for a bad configuration, when a pre-task hook fails under policy `stop`, or
 *   when the task source stays unreachable (the lock is kept for a resume)
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
  const summary: AgentRunSummary = { done: [], released: [] };
  const config = project.config.agent_runner;
  const agentId = options.agentId;
  const stopped = () => options.signal?.aborted ?? false;
  let current: { task: Task | null; started: number } = { task: null, started: performance.now() };
  const emit = (phase: string, event: string, detail?: string) =>
    options.onEvent({
      time: now(),
      agent: agentId,
      task: current.task?.id ?? null,
      title: current.task?.title,
      phase,
      event,
      elapsedMs: Math.round(performance.now() - current.started),
      ...(detail === undefined ? {} : { detail }),
    });

  const store = openStore(project.prjDir);
  let source: TaskSource;
  try {
    source = options.source ?? taskSource(project, store, {
      onRetry: (message) => emit("network", message),
      signal: options.signal,
    });
    if (source.kind === "headless-pm" && !(HEADLESS_PM_ROLES as readonly string[]).includes(options.role)) {
      throw new UsageError(
        `--role: Headless PM has no role "${options.role}"${didYouMean(options.role, HEADLESS_PM_ROLES)}`,
        { hint: `one of: ${HEADLESS_PM_ROLES.join(", ")}` },
      );
    }
    const running = activeAgentRecord(store, agentId);
    if (
      running && running.host === Deno.hostname() && running.pid !== null && running.pid !== Deno.pid &&
      processAlive(Number(running.pid), running.pid_start)
    ) {
      throw new PrjError(`Agent "${agentId}" is already running (pid ${running.pid})`, {
        hint: "give this runner another --agent-id, or stop the other one first",
      });
    }
  } catch (error) {
    store.close();
    throw error;
  }
  // Branches are shared through the remote when tasks are (Headless PM serves several clones).
  const share = source.kind === "headless-pm" && project.config.headless_pm?.push !== false;
  const setPhase = (phase: string) => {
    setAgentPhase(store, agentId, phase, current.task);
  };
  const heartbeat = async () => {
    agentHeartbeat(store, agentId);
    // Headless PM drops the locks of agents it has not seen for 30 minutes: registering is the heartbeat.
    try {
      await source.register(agentId, options.role, options.level);
    } catch (error) {
      if (!(error instanceof Stopped)) emit("heartbeat", "heartbeat failed", (error as Error).message);
    }
  };

  startAgent(store, { agentId, role: options.role, level: options.level, source: source.kind });
  const heartbeatTimer = setInterval(() => void heartbeat(), 5 * 60_000);
  const healthTimer = setInterval(async () => {
    const r = await hook("health-check", { agent_id: agentId, role: options.role, task: current.task });
    if (r.ran) emit("health-check", r.ok ? "health check passed" : "health check failed", r.error);
  }, config.health_check_minutes * 60_000);

  async function hook(kind: HookKind, payload: Record<string, unknown>, cwd = project.root, log?: (l: string) => void) {
    return await runHook(options.hooksDir, kind, payload, {
      timeoutMs: config.hook_timeout * 1000,
      project: project.root,
      cwd,
      env: { PRJ_AGENT_ID: agentId, PRJ_TASK_ID: String((payload.task as Task | null)?.id ?? "") },
      onLine: log ?? ((line) => emit(kind, "output", line)),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** Reads the task back: the server's lock is not atomic, so a 200 alone does not make it ours. */
  async function confirm(taskId: string, when: string): Promise<Task | undefined> {
    const seen = await source.get(taskId);
    if (seen?.locked_by === agentId) return seen;
    deleteAgentLock(store, agentId);
    emit(
      "lock",
      `another agent has this task (read ${when}): backing off without touching it`,
      seen ? `status ${seen.status}, locked by ${seen.locked_by ?? "nobody"}` : "the task is gone",
    );
    return undefined;
  }

  /** Takes the held task to `under_work` and confirms it is still ours. */
  async function start(task: Task): Promise<Task | undefined> {
    try {
      if (task.status !== "under_work") await source.setStatus(task.id, agentId, "under_work");
    } catch (error) {
      // A retried update found the task locked by another agent: it is theirs.
      if (!(error instanceof LockConflict)) throw error;
    }
    return await confirm(task.id, "after under_work");
  }

  const budget = options.budgetUsd ?? config.budget_usd;
  let unknownCosts = 0;
  /** Whether today's recorded spend reached the budget (then said in one line). */
  const overBudget = (): boolean => {
    if (budget === undefined) return false;
    const spent = spentOn(project, store);
    if (spent.unknown > unknownCosts) {
      unknownCosts = spent.unknown;
      emit(
        "budget",
        `${spent.unknown} agent run(s) today have no known cost (a model without a price in agent.prices); the budget does not count them`,
      );
    }
    if (spent.cost_usd < budget) return false;
    summary.budget = { spent_usd: spent.cost_usd, budget_usd: budget };
    emit(
      "budget",
      `budget reached: ${formatUsd(spent.cost_usd)} spent today of ${formatUsd(budget)}; not taking more tasks`,
    );
    return true;
  };

  const conflicts = new Map<string, number>();
  const givenBack = new Set<string>();
  try {
    // The first registration is not a heartbeat: a server that cannot be reached at all (a mistyped URL, a server
    // not started) ends the runner at once, saying so; once reached, a server restart is waited for.
    agentHeartbeat(store, agentId);
    await source.register(agentId, options.role, options.level);
    while (!stopped()) {
      const held = getAgentLock(store, agentId);
      let task: Task | undefined;
      if (held) {
        // A resume: the source says whether the task is still ours, not the local record.
        current = { task: held.task as Task, started: performance.now() };
        setPhase("resuming");
        const now = await source.get(held.task_id);
        if (!now) {
          emit("lock", `task ${held.task_id} is no longer in ${source.describe()}: dropping the local lock`);
          deleteAgentLock(store, agentId);
          continue;
        }
        current = { task: now, started: performance.now() };
        if (now.locked_by === null && (now.status === "under_work" || now.status === held.from_status)) {
          // Our lock lapsed (Headless PM clears the locks of agents unseen for 30 minutes) and nobody took it.
          emit("lock", "the lock lapsed while this agent was away; locking the task again");
          try {
            await source.lock(now.id, agentId);
          } catch (error) {
            if (!(error instanceof LockConflict)) throw error;
          }
          if (!(await confirm(now.id, "after locking again"))) continue;
        } else if (now.locked_by !== agentId) {
          emit(
            "lock",
            `not resuming: the task is ${now.status}, ${
              now.locked_by ? `locked by ${now.locked_by}` : "not locked"
            }; dropping the local lock (the task is not touched)`,
          );
          deleteAgentLock(store, agentId);
          continue;
        }
        emit("lock", "resuming the task this agent held", `worktree ${held.worktree}, branch ${held.branch}`);
        task = held.stage === "finishing" ? now : await start(now);
        if (!task) continue;
      } else {
        current = { task: null, started: performance.now() };
        if (overBudget()) break;
        setPhase("polling");
        const next = await source.next(options.role, options.level, options.signal, givenBack);
        if (stopped()) break;
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
        const lost = conflicts.get(next.id) ?? 0;
        if (lost > 0) {
          // Offered again a task another agent took from us: give it a moment before trying again.
          if (lost >= 3 && (options.singleTask || options.exitWhenEmpty)) {
            emit("polling", "no task available (the one offered is locked by another agent)");
            break;
          }
          await sleep(Math.min(options.pollMs, 2000), options.signal);
        }
        current = { task: next, started: performance.now() };
        let locked: Task;
        try {
          locked = { ...next, ...await source.lock(next.id, agentId) };
        } catch (error) {
          if (error instanceof LockConflict) {
            conflicts.set(next.id, lost + 1);
            emit("lock", "lock conflict: another agent has this task", error.message);
            continue;
          }
          throw error;
        }
        // Persist the lock before anything else, so a crash from here on is resumed.
        insertAgentLock(store, {
          agentId,
          source: source.kind,
          taskId: locked.id,
          task: next,
          worktree: `task-${locked.id}`,
          branch: "",
        });
        emit("lock", "locked");
        task = await confirm(locked.id, "after locking");
        if (task) task = await start(task);
        if (!task) {
          conflicts.set(next.id, lost + 1);
          continue;
        }
        conflicts.delete(next.id);
      }
      current = { task, started: current.started };
      const outcome = await work(task, getAgentLock(store, agentId)!);
      if (outcome === "done") summary.done.push(task.id);
      if (outcome === "released") {
        summary.released.push(task.id);
        givenBack.add(task.id);
      }
      if (outcome === "stopped" || options.singleTask) break;
    }
  } catch (error) {
    // A stop while waiting to retry the source: the lock (if any) stays for a resume.
    if (!(error instanceof Stopped && stopped())) throw error;
    emit("stop", "stopped while waiting for the task source; a held task stays locked for a resume");
  } finally {
    clearInterval(heartbeatTimer);
    clearInterval(healthTimer);
    current = { task: null, started: performance.now() };
    stopAgent(store, agentId);
    store.close();
  }
  return summary;

  /**
   * An agent a runner that died left working in the worktree: wait for it rather than start a
   * second one, and take its result (read from its output file) when it did the task.
   */
  async function waitForOrphan(worktreePath: string): Promise<boolean> {
    let orphan = findLiveAgent(store, worktreePath);
    // Launched, no pid yet: the prj that launched it died around the start; its wrapper writes the pid
    // at once, so it is either about to show one or never started.
    while (orphan && orphan.headless === 1 && orphan.pid === null && !stopped()) {
      await new Promise((r) => setTimeout(r, 100));
      orphan = findLiveAgent(store, worktreePath);
    }
    if (!orphan || orphan.headless !== 1 || orphan.pid === null || Number(orphan.pid) === Deno.pid) return false;
    emit("agent", `the agent a previous runner started is still working here (pid ${orphan.pid}); waiting for it`);
    const outcome = await waitForAgent(store, orphan, { signal: options.signal, onLine: () => {} });
    if (stopped()) return false;
    if (outcome.exit.code === 0 && !outcome.failure) {
      emit("agent", "the agent a previous runner started finished the task");
      return true;
    }
    emit("agent", "the previous agent has ended; it does not count as an attempt", outcome.failure);
    return false;
  }

  async function work(task: Task, lock: AgentLockRecord): Promise<"done" | "released" | "stopped" | "lost"> {
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
    let branch = lock.branch;
    const giveBack = async (reason: string) => {
      const back = backTo(lock, options.role);
      emit("status", `giving the task back (status ${back})`, reason);
      await source.release(task.id, agentId, `prj agent ${agentId} gave the task back: ${reason}`, back);
      deleteAgentLock(store, agentId);
      finish("failed", reason);
    };

    try {
      // Worktree: reuse this task's worktree when resuming, else make it on the task's branch.
      const worktreePath = path.join(worktreeDir(project), lock.worktree);
      let worktree: { path: string; port: number | null };
      try {
        worktree = await step("worktree", async (log) => {
          try {
            const existing = await getWorktree(project, lock.worktree, store);
            if (existing.exists) {
              if (existing.branch) branch = existing.branch;
              setAgentLockBranch(store, agentId, branch);
              log(`reusing ${existing.path} on ${branch}`);
              return { path: existing.path, port: existing.port };
            }
          } catch { /* make it */ }
          const choice = await chooseTaskBranch(project, task, worktreePath, { fetch: share });
          for (const line of choice.log) {
            log(line);
            emit("worktree", line);
          }
          branch = choice.branch;
          setAgentLockBranch(store, agentId, branch);
          const created = await createWorktree(project, lock.worktree, {
            branch,
            from: choice.from,
            runId,
            store,
            onProgress: log,
          });
          log(`created ${created.path} on ${created.branch}`);
          return { path: created.path, port: created.port };
        });
      } catch (error) {
        if (!(error instanceof PrjError)) throw error;
        await giveBack(`could not make a worktree for it: ${error.message}`);
        return "released";
      }
      session.update({ worktree: worktree.path, branch });
      emit("worktree", "ready", `${worktree.path} on ${branch}`);
      const payload = { task, agent_id: agentId, role: options.role, worktree: worktree.path, branch };

      let failures = lock.attempts;
      if (lock.stage !== "finishing") {
        // pre-task hooks, with the operator (TTY) or the policy deciding on failure.
        for (;;) {
          const pre = await step("pre-task", (log) => hook("pre-task", payload, worktree.path, log));
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

        const values = {
          args: {},
          env: {},
          shared: {},
          plain: { worktree: worktree.path, branch, project: project.root, project_name: project.name, model },
        };
        // One pass over the template: a task's own text is inserted as it is, never read as placeholders.
        const template = config.prompt ?? (DEFAULT_PROMPT + (task.notes ? NOTES_SECTION : ""));
        const rendered = replacePlaceholders(
          template,
          (expr) =>
            expr.startsWith("task.")
              ? String((task as unknown as Record<string, unknown>)[expr.slice(5)] ?? "")
              : render(`{{ ${expr} }}`, values),
        );
        const promptFile = path.join(session.outputsDir, "prompt.md");
        await Deno.writeTextFile(promptFile, rendered);

        // The agent, started again after its own crash or timeout up to max_attempts (the count survives
        // restarts). A runner that is stopped or killed does not count as an attempt of the agent's.
        let success = await waitForOrphan(worktree.path);
        let lastError = "";
        while (!success && failures < config.max_attempts && !stopped()) {
          const attempt = failures + 1;
          emit("agent", `attempt ${attempt} of ${config.max_attempts} started`, model ? `model ${model}` : undefined);
          const prepared = prepareAgent(project, { prompt: rendered, promptFile, model, headless: true });
          const exit = await step(`agent-attempt-${attempt}`, async (log) => {
            log(`$ ${prepared.display.join(" ")}`);
            // Under agent.max_agents the agent waits, in order, for a slot (prj fleet shows it queued).
            using _slot = await acquireAgentSlot(project, store, {
              worktree: lock.worktree,
              worktreePath: worktree.path,
              branch,
              session: null,
              kind: prepared.kind,
              model: model ?? null,
              headless: true,
              runId,
              signal: options.signal,
              onQueued: (position, max) => {
                log(`queued: ${position} in line for one of ${max} agent slot(s)`);
                emit("agent", `queued: ${position} in line for one of ${max} agent slot(s) (max_agents)`);
              },
            });
            const { exit, failure, refusedOnly } = await runHeadlessAgent(store, prepared, {
              cwd: worktree.path,
              env: {
                ...agentEnv(project, { worktree: worktree.path, port: worktree.port, model, promptFile }),
                PRJ_AGENT_ID: agentId,
                PRJ_TASK_ID: task.id,
                PRJ_TASK_JSON: JSON.stringify(task),
              },
              model,
              runId,
              worktree: { name: lock.worktree, branch },
              timeoutMs: config.timeout === undefined ? undefined : config.timeout * 1000,
              signal: options.signal,
              onLine: (line) => log(line),
            });
            if (exit.stopped === "cancelled") throw new PrjError("the runner was stopped");
            // Exit 0 is not enough: an error the agent reported or refused tool calls mean no work done.
            return { ...exit, failure, refusedOnly };
          }).catch((error) => ({ code: -1, stopped: undefined, error: (error as Error).message }));
          if (stopped()) break;
          if ("error" in exit) {
            lastError = exit.error;
            break;
          }
          if (exit.stopped === "timeout") {
            failures++;
            setAgentLockAttempts(store, agentId, failures);
            lastError = `agent timed out after ${config.timeout}s`;
            emit("agent", "agent timed out", lastError);
            continue;
          }
          if (exit.refusedOnly && exit.failure) {
            // Its permissions would refuse the same calls on every attempt: the task goes back now.
            failures++;
            setAgentLockAttempts(store, agentId, failures);
            emit("agent", "agent was refused tool calls; giving the task back without retrying", exit.failure);
            await giveBack(`not retried, the same permissions would refuse it again: ${exit.failure}`);
            return "released";
          }
          if (exit.code !== 0 || exit.failure) {
            failures++;
            setAgentLockAttempts(store, agentId, failures);
            lastError = exit.failure ?? `agent exited with code ${exit.code}`;
            emit("agent", exit.code !== 0 ? "agent crashed; retrying on the same task" : "agent failed", lastError);
            continue;
          }
          success = true;
          break;
        }
        if (stopped()) {
          finish("cancelled", "the runner was stopped; the task stays locked for a resume");
          emit("agent", "stopped; the lock is kept so a restart resumes this task");
          return "stopped";
        }
        if (!success) {
          await giveBack(`the agent failed ${failures} time(s) on this task; last: ${lastError}`);
          return "released";
        }
        emit("agent", "agent finished");

        const post = await step("post-task", (log) => hook("post-task", payload, worktree.path, log));
        if (post.ran && !post.ok) emit("post-task", "post-task hook failed (the work stays done)", post.error);
        // From here on a restart records the result; it never starts the agent on this task again.
        setAgentLockStage(store, agentId, "finishing");
      }

      if (share) {
        const remote = await shareRemote(project.root);
        if (remote) {
          await step("push", async (log) => {
            await pushTaskBranch(project.root, remote, branch);
            log(`pushed ${branch} to ${remote}`);
          });
          emit("push", `pushed ${branch} to ${remote}`);
        }
      }

      const final = options.role === "qa" ? "qa_done" : "dev_done";
      const outcome = await step("status", async (log) => {
        // The comment first, then a status update without notes: nothing already in the notes is erased.
        const note = `prj agent ${agentId}: done on branch ${branch}${
          failures > 0 ? ` after ${failures} failed attempt(s)` : ""
        }`;
        const seen = await source.get(task.id);
        if (seen && seen.locked_by !== agentId) {
          log(`the task is ${seen.status}, locked by ${seen.locked_by ?? "nobody"}: not touched`);
          return "lost" as const;
        }
        if (!(seen?.notes ?? "").endsWith(`${agentId}: ${note}`)) await source.comment(task.id, agentId, note);
        await source.setStatus(task.id, agentId, final);
        log(`status ${final}`);
        return "done" as const;
      }).catch((error) => {
        if (error instanceof LockConflict) return "lost" as const;
        throw error;
      });
      deleteAgentLock(store, agentId);
      if (outcome === "lost") {
        finish("failed", "another agent holds the task now; its status was not touched");
        emit("status", "another agent holds the task now: the work stays on the branch, the status is not touched");
        return "lost";
      }
      finish("succeeded", null);
      emit("status", `done: ${final}`);
      return "done";
    } catch (error) {
      if (error instanceof Stopped && stopped()) {
        finish("cancelled", "the runner was stopped; the task stays locked for a resume");
      } else finish("failed", (error as Error).message);
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
      processAlive(r.pid, r.pid_start);
    const held = getAgentLock(store, r.agent_id);
    const lock = held
      ? {
        task_id: held.task_id,
        worktree: held.worktree,
        branch: held.branch,
        locked_at: held.locked_at,
        attempts: held.attempts,
      }
      : null;
    return {
      agent_id: r.agent_id,
      role: r.role,
      level: r.level,
      source: r.source,
      pid: r.pid,
      state: alive ? "running" : "stopped",
      phase: alive ? r.phase : lock ? "stopped holding a lock (will resume)" : "stopped",
      phase_since: r.phase_since,
      task_id: alive ? r.task_id : lock?.task_id ?? null,
      task_title: alive ? r.task_title : null,
      last_heartbeat: r.last_heartbeat,
      lock,
    };
  });
}
