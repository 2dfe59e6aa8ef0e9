/**
 * PruneJuice (`prj`): parallel agentic coding. Each piece of work gets its own git
 * worktree and tmux session; workflows are YAML commands whose TypeScript steps run in
 * Deno's permission sandbox; every run, step, log and artifact is kept in SQLite.
 *
 * This module is the library's front door: projects, command definitions, the run API,
 * the step contract, run history and errors. Worktrees and sessions are in
 * `@prunejuice/cli/workspace`; the agent runner, task sources and fleet in
 * `@prunejuice/cli/agents`. Run as the main module, it starts the CLI.
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
export { DefinitionError, PrjError, UsageError } from "./lib/util/errors.ts";
export { VERSION } from "./lib/util/version.ts";
export { findProjectRoot, openProject, type Project } from "./lib/project/project.ts";
export { initProject, type InitResult } from "./lib/project/init.ts";
export { type CommandSummary, listCommands, loadCommand, loadCommands } from "./lib/definitions/loader.ts";
export { parseArguments } from "./lib/definitions/arguments.ts";
export type {
  AgentConfig,
  AgentRunnerConfig,
  ArgumentDef,
  CommandDefinition,
  CommandSource,
  HeadlessPmConfig,
  Permissions,
  PermissionValue,
  ProjectConfig,
  StepDef,
  WorktreeConfig,
} from "./lib/definitions/schema.ts";
export { runCommand, type RunOptions, type RunResult } from "./lib/run/executor.ts";
export { type PlannedStep, planRun, type RunPlan } from "./lib/run/plan.ts";
export { type Phase, type RunEvent, type StepKind, type StepOutcome } from "./lib/run/session.ts";
export { newRunId } from "./lib/run/run_id.ts";
export type {
  BuiltinStepSpec,
  ModuleStepSpec,
  ProgramStepSpec,
  StepCommon,
  StepSpec,
} from "./lib/definitions/steps.ts";
export type {
  RunWorktree,
  SharedData,
  StepContext,
  StepFunction,
  StepHistoryEntry,
  StepPaths,
  StepResult,
} from "./lib/run/contract.ts";
export { openStore, Store } from "./lib/state/store.ts";
export { getRun, listRuns, type RunQuery, type RunRecord, type RunStatus } from "./lib/state/runs.ts";
export { listSteps, type StepRecord, type StepStatus } from "./lib/state/steps.ts";
export { type ArtifactRecord, listArtifacts } from "./lib/state/artifacts.ts";

if (import.meta.main) {
  const { main } = await import("./cli.ts");
  Deno.exit(await main(Deno.args));
}
