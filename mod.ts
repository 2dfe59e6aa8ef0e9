/**
 * PruneJuice (`prj`): parallel agentic coding. Each piece of work gets its own git
 * worktree and tmux session; workflows are YAML commands whose TypeScript steps run in
 * Deno's permission sandbox; every run, step, log and artifact is kept in SQLite.
 *
 * This module is the library's front door. Run as the main module, it starts the CLI.
 *
 * @example Load and run a command
 * ```ts ignore
 * import { loadCommand, openProject, parseArguments, runCommand } from "jsr:@prunejuice/cli";
 *
 * const project = await openProject();
 * const command = await loadCommand(project, "code-review");
 * const result = await runCommand(project, command, { args: parseArguments(command, [], project.cwd) });
 * console.log(result.status);
 * ```
 *
 * @module
 */
export { DefinitionError, PrjError, UsageError } from "./lib/errors.ts";
export { findProjectRoot, openProject, type Project } from "./lib/project.ts";
export { type CommandSummary, listCommands, loadCommand, loadCommands } from "./lib/loader.ts";
export { parseArguments } from "./lib/arguments.ts";
export {
  newRunId,
  type PlannedStep,
  planRun,
  runCommand,
  type RunEvent,
  type RunOptions,
  type RunPlan,
  type RunResult,
  type StepOutcome,
} from "./lib/executor.ts";
export {
  type ArtifactRecord,
  openStore,
  type RunRecord,
  type RunStatus,
  type StepRecord,
  type StepStatus,
  Store,
} from "./lib/store.ts";
export type {
  ArgumentDef,
  CommandDefinition,
  CommandSource,
  Permissions,
  ProjectConfig,
  StepDef,
} from "./lib/schema.ts";
export type { SharedData, StepContext, StepFunction, StepHistoryEntry, StepPaths, StepResult } from "./lib/types.ts";
export { initProject, type InitResult } from "./lib/init.ts";
export {
  type CreatedWorktree,
  createWorktree,
  getWorktree,
  listWorktrees,
  mergeWorktree,
  removeWorktree,
  type WorktreeInfo,
} from "./lib/worktrees.ts";
export { createSession, killSession, listSessions, type SessionInfo, sessionName } from "./lib/sessions.ts";
export {
  HeadlessPmClient,
  type Level,
  LockConflict,
  type Task,
  TaskQueue,
  type TaskSource,
  type TaskStatus,
} from "./lib/tasks.ts";
export { type AgentEvent, type AgentRunOptions, type AgentRunSummary, runAgent } from "./lib/agent_runner.ts";
export { type AgentState, type FleetRow, sampleFleet } from "./lib/fleet.ts";
export { VERSION } from "./lib/version.ts";

if (import.meta.main) {
  const { main } = await import("./cli.ts");
  Deno.exit(await main(Deno.args));
}
