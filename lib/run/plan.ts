/**
 * Planning a run: every step resolved (its kind, what it runs, where, its grant, whether it
 * starts a program outside the sandbox) before anything happens. `--dry-run` prints this;
 * the executor runs it.
 */
import * as path from "../util/path.ts";
import type { Project } from "../project/project.ts";
import type { CommandDefinition, StepDef } from "../definitions/schema.ts";
import { normalizeStep, type StepSpec } from "../definitions/steps.ts";
import type { PlaceholderValues } from "../definitions/placeholders.ts";
import { tryRender } from "../definitions/placeholders.ts";
import { shellQuote } from "../util/shell.ts";
import { describeGrant, grantedWorktree } from "./kinds/module.ts";
import type { Phase, StepKind } from "./session.ts";

/** One step as planned: what it resolves to, where and how it runs. */
export interface PlannedStep {
  /** Position in the run (0-based, across phases). */
  index: number;
  /** Its phase. */
  phase: Phase;
  /** Its name. */
  name: string;
  /** `builtin` (in-process), `module` (a sandboxed process of its own) or `program` (outside the sandbox). */
  kind: StepKind;
  /** The built-in name, the module path, or the argv / shell line. */
  target: string;
  /** The grant of a sandboxed step, described. */
  permissions: string | undefined;
  /** Where it runs (placeholders resolved where already known). */
  cwd: string;
  /** Its timeout in seconds: its own, else the project's `step_timeout` (a built-in has none of its own). */
  timeout: number | undefined;
  /** True when it starts a program, outside Deno's sandbox. */
  outsideSandbox: boolean;
  /** Whether the run goes on when it fails. */
  continueOnError: boolean;
  /** The definition it comes from. */
  def: StepDef;
  /** The step, normalised by kind. */
  step: StepSpec;
}

/** The plan of a run (what `--dry-run` prints). */
export interface RunPlan {
  /** The command. */
  command: string;
  /** The validated arguments. */
  args: Record<string, unknown>;
  /** Whole-command timeout in seconds. */
  timeout: number | undefined;
  /** The model `launch-agent` would use. */
  model: string | undefined;
  /** The steps in run order, then the cleanup steps. */
  steps: PlannedStep[];
}

/** Built-in steps that start programs (git's `worktree add` runs hooks; the agent is a program). */
const LAUNCHING_BUILTINS = ["launch-agent", "create-worktree"];

/** The placeholder values a run starts with (`worktree`, `branch` and `session` come later). */
export function initialValues(
  project: Project,
  def: CommandDefinition,
  args: Record<string, unknown>,
  run: { id: string; artifacts: string; model: string | undefined },
  shared: Record<string, unknown> = {},
): PlaceholderValues {
  return {
    args,
    env: def.environment,
    shared,
    plain: {
      "run.id": run.id,
      "run.command": def.name,
      project: project.root,
      project_name: project.name,
      cwd: project.currentWorktree ?? project.root,
      artifacts: run.artifacts,
      model: run.model,
      worktree: undefined,
      branch: undefined,
      session: undefined,
    },
  };
}

/** The default working directory: the linked worktree prj was started in, else the project root. */
export function baseCwd(project: Project, def: CommandDefinition, values: PlaceholderValues): string {
  const root = project.currentWorktree ?? project.root;
  return def.working_directory ? path.resolve(root, tryRender(def.working_directory, values)) : root;
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
 * @example
 * ```ts
 * import { initProject, loadCommand, openProject, parseArguments, planRun } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await initProject(dir);
 * const project = await openProject(dir);
 * const command = await loadCommand(project, "example");
 * const plan = planRun(project, command, parseArguments(command, [], dir));
 * assert.deepEqual(plan.steps.map((s) => [s.name, s.kind, s.outsideSandbox]), [
 *   ["example", "module", false],
 *   ["show", "program", true],
 * ]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function planRun(
  project: Project,
  def: CommandDefinition,
  args: Record<string, unknown>,
  model?: string,
): RunPlan {
  const values = initialValues(project, def, args, {
    id: "<run-id>",
    artifacts: path.join(project.prjDir, "artifacts", "<run-id>"),
    model: model ?? def.model ?? project.config.agent.model,
  });
  const phases: [Phase, StepDef[]][] = [
    ["pre", def.pre_steps],
    ["main", def.steps],
    ["post", def.post_steps],
    ["cleanup", def.cleanup_on_failure],
  ];
  const render = (s: string) => tryRender(s, values);
  const steps: PlannedStep[] = [];
  let worktreeAhead = false;
  for (const [phase, list] of phases) {
    for (const def_ of list) {
      const step = normalizeStep(project.prjDir, def_);
      const cwd = step.workingDirectory
        ? path.resolve(project.root, render(step.workingDirectory))
        : worktreeAhead
        ? "<worktree>"
        : baseCwd(project, def, values);
      let target: string;
      let permissions: string | undefined;
      switch (step.kind) {
        case "program":
          target = "argv" in step.command
            ? step.command.argv.map(render).join(" ")
            : `sh -c ${JSON.stringify(tryRender(step.command.shell, values, shellQuote))}`;
          break;
        case "builtin":
          target = step.builtin;
          if (step.builtin === "create-worktree") worktreeAhead = true;
          break;
        case "module":
          target = path.relative(project.root, step.file);
          permissions = describeGrant(project, def, step, {
            worktree: worktreeAhead ? "<worktree>" : grantedWorktree(project, undefined),
            artifacts: values.plain.artifacts!,
            render,
          });
          break;
      }
      steps.push({
        index: steps.length,
        phase,
        name: step.name,
        kind: step.kind,
        target,
        permissions,
        cwd,
        timeout: step.timeout ?? (step.kind === "builtin" ? undefined : project.config.step_timeout),
        outsideSandbox: step.kind === "program" ||
          (step.kind === "builtin" && LAUNCHING_BUILTINS.includes(step.builtin)),
        continueOnError: step.continueOnError,
        def: def_,
        step,
      });
    }
  }
  return { command: def.name, args, timeout: def.timeout, model: values.plain.model, steps };
}

/** The plan as `--dry-run --json` and MCP's `dry_run` print it (without the definitions). */
export function planJson(plan: RunPlan): Record<string, unknown> {
  return { ...plan, steps: plan.steps.map(({ def: _def, step: _step, ...s }) => s) };
}
