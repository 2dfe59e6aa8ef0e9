/**
 * Agents: the agent runner (`prj agent run`) that works through a task queue, the task
 * sources (the built-in queue and a Headless PM client), and the fleet (every agent prj
 * launched and its state).
 *
 * @example With nothing to do, the runner stops at once
 * ```ts
 * import { initProject, openProject } from "@prunejuice/cli";
 * import { runAgent } from "@prunejuice/cli/agents";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await initProject(dir);
 * const summary = await runAgent(await openProject(dir), {
 *   role: "backend_dev",
 *   agentId: "dev_001",
 *   level: "senior",
 *   singleTask: false,
 *   exitWhenEmpty: true,
 *   pollMs: 1000,
 *   onEvent: () => {},
 * });
 * assert.deepEqual(summary, { done: [], released: [] });
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
export {
  HEADLESS_PM_ROLES,
  type Level,
  LEVELS,
  LockConflict,
  type Task,
  TASK_STATUSES,
  TaskNotFound,
  type TaskSource,
  type TaskStatus,
} from "./tasks/source.ts";
export { TaskQueue } from "./tasks/queue.ts";
export type { TaskEvent } from "../state/tasks.ts";
export { HeadlessPmClient, type HeadlessPmOptions } from "./tasks/headless_pm.ts";
export { type AgentEvent, type AgentRunOptions, type AgentRunSummary, type HookDecision, runAgent } from "./runner.ts";
export {
  type AgentState,
  type FleetRow,
  sampleFleet,
  type StateChange,
  stateLabel,
  type StateSource,
} from "./fleet/sample.ts";
export type { AgentResult, TokenUsage } from "./kinds.ts";
export type { LaunchCost } from "./cost.ts";
export { resumeAgent, type Resumed } from "./fleet/resume.ts";
