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
// Run as the main module (`deno run -A jsr:@prunejuice/cli`), this file starts the CLI before the
// library is loaded: its static imports are the CLI's entry (which loads each command's code only
// when it runs), the error classes and the version; the types below are erased, and the library
// itself is loaded by the top-level await further down, which a CLI run never reaches.
import { main } from "./cli.ts";
import type * as Library from "./lib/library.ts";
import type { Project } from "./lib/project/project.ts";
import type { InitResult } from "./lib/project/init.ts";
import type { CommandSummary } from "./lib/definitions/loader.ts";
import type { CommandDefinition } from "./lib/definitions/schema.ts";
import type { RunOptions, RunResult } from "./lib/run/executor.ts";
import type { RunPlan } from "./lib/run/plan.ts";
import type { RunQuery, RunRecord } from "./lib/state/runs.ts";
import type { StepRecord } from "./lib/state/steps.ts";
import type { ArtifactRecord } from "./lib/state/artifacts.ts";
import type { Store } from "./lib/state/store.ts";

export { DefinitionError, PrjError, UsageError } from "./lib/util/errors.ts";
export { VERSION } from "./lib/util/version.ts";
export type { Project } from "./lib/project/project.ts";
export type { InitResult } from "./lib/project/init.ts";
export type { CommandSummary } from "./lib/definitions/loader.ts";
export type {
  AgentConfig,
  AgentRunnerConfig,
  ArgumentDef,
  CommandDefinition,
  CommandSource,
  HeadlessPmConfig,
  ModelPrices,
  Permissions,
  PermissionValue,
  ProjectConfig,
  StepDef,
  WorktreeConfig,
} from "./lib/definitions/schema.ts";
export type { RunOptions, RunResult } from "./lib/run/executor.ts";
export type { PlannedStep, RunPlan } from "./lib/run/plan.ts";
export type { Phase, RunEvent, StepKind, StepOutcome } from "./lib/run/session.ts";
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
export type { RunQuery, RunRecord, RunStatus } from "./lib/state/runs.ts";
export type { StepRecord, StepStatus } from "./lib/state/steps.ts";
export type { ArtifactRecord } from "./lib/state/artifacts.ts";
// The store is opened with openStore (the class is a type here: constructing it needs the database code).
export type { Store } from "./lib/state/store.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));

// Imported as a library: load it before any importer's code runs, so every function below can
// stay synchronous where the implementation is.
const lib: typeof Library = await import("./lib/library.ts");

/**
 * Finds the project root from a directory: the nearest folder with `.prj/`, or, inside a
 * linked git worktree, the main worktree's.
 *
 * @param cwd where to start
 * @returns the root and, when started inside a linked worktree, that worktree
 */
export function findProjectRoot(cwd: string): { root: string; currentWorktree: string | undefined } | undefined {
  return lib.findProjectRoot(cwd);
}

/**
 * Opens the project containing `cwd` and validates its config.
 *
 * @param cwd where to look (default: the current directory)
 * @returns the project
 * @throws {UsageError} when there is no project here, or the config is invalid
 */
export function openProject(cwd?: string): Promise<Project> {
  return lib.openProject(cwd);
}

/**
 * Initialises a project folder.
 *
 * @param dir the folder (created if missing)
 * @param options `force` overwrites existing template files
 * @returns what was created
 * @throws {UsageError} when `dir` exists and is not a folder, or is a subfolder (or linked worktree) of a git
 *   repository (the project belongs at its main worktree's root)
 */
export function initProject(dir: string, options?: { force?: boolean }): Promise<InitResult> {
  return lib.initProject(dir, options);
}

/**
 * Lists every command of a project (project commands shadow templates of the same name).
 * A command whose definition is invalid is listed with its error instead of failing the list.
 *
 * @param project the project
 * @returns the commands
 */
export function listCommands(project: Project): Promise<CommandSummary[]> {
  return lib.listCommands(project);
}

/**
 * Loads one command: finds it, resolves `extends`, validates every field and step.
 *
 * @param project the project
 * @param name the command's name
 * @returns the resolved definition
 * @throws {UsageError} for an unknown command (with a suggestion)
 * @throws {DefinitionError} for any problem in its files, with file:line:column
 */
export function loadCommand(project: Project, name: string): Promise<CommandDefinition> {
  return lib.loadCommand(project, name);
}

/**
 * Loads every command of a project.
 *
 * @param project the project
 * @returns the resolved definitions
 * @throws {DefinitionError} for the first invalid definition
 */
export function loadCommands(project: Project): Promise<CommandDefinition[]> {
  return lib.loadCommands(project);
}

/**
 * Parses `key=value` pairs against a command's arguments.
 *
 * @param command the command definition
 * @param pairs the `key=value` strings as typed
 * @param cwd the directory `path` arguments are relative to
 * @returns every declared argument that has a value (given or default)
 * @throws {UsageError} for a malformed pair, an unknown key, a bad value, or missing required arguments (all listed)
 */
export function parseArguments(
  command: CommandDefinition,
  pairs: readonly string[],
  cwd: string,
): Record<string, unknown> {
  return lib.parseArguments(command, pairs, cwd);
}

/**
 * Plans a run without changing anything: resolves every step, its permissions, working
 * directory, timeout, and whether it runs a program outside the sandbox.
 *
 * @param project the project
 * @param def the command
 * @param args the validated arguments
 * @param model the model `launch-agent` would use
 * @returns the plan: the steps in run order, then the cleanup steps
 */
export function planRun(
  project: Project,
  def: CommandDefinition,
  args: Record<string, unknown>,
  model?: string,
): RunPlan {
  return lib.planRun(project, def, args, model);
}

/**
 * Runs a command to the end and records everything in the project's store and artifacts.
 *
 * @param project the project
 * @param def the command definition (see {@link loadCommand})
 * @param options arguments, model, cancellation and progress callbacks
 * @returns how the run ended; a failed step does not throw, it sets `status`
 */
export function runCommand(project: Project, def: CommandDefinition, options: RunOptions): Promise<RunResult> {
  return lib.runCommand(project, def, options);
}

/**
 * A new sortable run id: `20261120-215600-x7k2`.
 *
 * @param date the run's start (default: now)
 * @returns the id: date, time (UTC) and four random letters or digits
 */
export function newRunId(date?: Date): string {
  return lib.newRunId(date);
}

/**
 * Opens the project's store at `<prjDir>/state.db`.
 *
 * @param prjDir the project's `.prj` folder
 * @returns the open store; close it when done
 */
export function openStore(prjDir: string): Store {
  return lib.openStore(prjDir);
}

/**
 * One run by id or unique id prefix.
 *
 * @param store an open store
 * @param idOrPrefix the run id, or a prefix that only one run has
 * @returns the run, or undefined when none or several match
 */
export function getRun(store: Store, idOrPrefix: string): RunRecord | undefined {
  return lib.getRun(store, idOrPrefix);
}

/**
 * Runs, newest first.
 *
 * @param store an open store
 * @param query filters and a limit
 * @returns the matching runs
 */
export function listRuns(store: Store, query?: RunQuery): RunRecord[] {
  return lib.listRuns(store, query);
}

/**
 * A run's steps in order.
 *
 * @param store an open store
 * @param runId the run
 * @returns its steps, by position
 */
export function listSteps(store: Store, runId: string): StepRecord[] {
  return lib.listSteps(store, runId);
}

/**
 * A run's artifacts, in the order they were stored.
 *
 * @param store an open store
 * @param runId the run
 * @returns its artifacts
 */
export function listArtifacts(store: Store, runId: string): ArtifactRecord[] {
  return lib.listArtifacts(store, runId);
}
