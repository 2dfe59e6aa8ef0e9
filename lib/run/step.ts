/**
 * Running one step: its condition, its context, its kind, its timeout and how it ended.
 * Every way a step can end becomes one recorded outcome; nothing a step throws escapes.
 */
import * as path from "../util/path.ts";
import type { Project } from "../project/project.ts";
import type { CommandDefinition } from "../definitions/schema.ts";
import { mapStrings, type PlaceholderValues, render } from "../definitions/placeholders.ts";
import { PrjError } from "../util/errors.ts";
import type { RunWorktree, StepResult } from "./contract.ts";
import { baseCwd, type PlannedStep } from "./plan.ts";
import type { RunSession, StepOutcome } from "./session.ts";
import type { StepRun } from "./step_run.ts";
import { failureMessage, stoppedStep, truthy } from "./status.ts";
import { StepStop, Stopped, type StopReason } from "./stop.ts";
import { runBuiltin } from "./kinds/builtin.ts";
import { runModule } from "./kinds/module.ts";
import { runProgram } from "./kinds/program.ts";

/** The run around the steps: what every step of it shares. */
export interface RunState {
  /** The project. */
  project: Project;
  /** The command. */
  def: CommandDefinition;
  /** The run's recorder. */
  session: RunSession;
  /** The placeholder values, updated as the run goes. */
  values: PlaceholderValues;
  /** The run's model. */
  model: string | undefined;
  /** The command's prompt. */
  prompt: { file: string; text: string } | undefined;
  /** Why the run was stopped, if it was (read when a step ends). */
  stopReason(): StopReason | undefined;
  /** The run's plan: every step in order, the cleanup steps last. */
  steps?: readonly PlannedStep[] | undefined;
}

function kindOf(planned: PlannedStep, run: StepRun): Promise<StepResult> {
  const step = planned.step;
  switch (step.kind) {
    case "builtin":
      return runBuiltin(step, run);
    case "module":
      return runModule(step, run);
    case "program":
      return runProgram(step, run);
  }
}

/**
 * Runs one step to its end and records it.
 *
 * @param state the run
 * @param planned the step
 * @param signal the run's signal (or, for cleanup steps, cleanup's own)
 */
export async function runStep(state: RunState, planned: PlannedStep, signal: AbortSignal): Promise<StepOutcome> {
  const { project, def, session, values } = state;
  const step = planned.step;
  if (step.if !== undefined && !truthy(typeof step.if === "boolean" ? step.if : render(step.if, values))) {
    return session.skipByCondition(planned, step.if);
  }
  const recording = session.beginStep(planned);
  const t0 = performance.now();
  // A sandboxed or `run:` step without its own timeout gets the project's default (built-ins are prj's own).
  const timeout = step.timeout ?? (step.kind === "builtin" ? undefined : project.config.step_timeout);
  const stop = new StepStop(signal, timeout);
  let result: StepResult = {};
  let status: "succeeded" | "failed" | "timed_out" | "cancelled" = "succeeded";
  let error: string | undefined;
  try {
    const r = (s: string, quote?: (value: string) => string) => render(s, values, quote);
    const worktree = session.resources.worktree;
    const cwd = step.workingDirectory
      ? path.resolve(project.root, r(step.workingDirectory))
      : worktree?.path ?? baseCwd(project, def, values);
    const run: StepRun = {
      project,
      def,
      session,
      planned,
      steps: state.steps,
      recording,
      signal: stop.signal,
      render: r,
      context: {
        run: { id: session.id, command: def.name },
        step: { name: planned.name, index: planned.index, phase: planned.phase },
        args: values.args,
        with: (mapStrings(step.with, r) ?? {}) as Record<string, unknown>,
        paths: {
          project: project.root,
          worktree: worktree?.path,
          cwd,
          artifacts: session.artifactDir,
          outputs: session.outputsDir,
        },
        env: {
          ...(mapStrings(def.environment, r) as Record<string, string>),
          ...(mapStrings(step.env, r) as Record<string, string>),
        },
        // Built when a step reads it (builtin and sandboxed steps do; `run:` programs never), so a
        // long run does not copy its whole history for every step.
        get history() {
          return session.outcomes.map((o) => ({ name: o.name, status: o.status, output: o.output, data: o.data }));
        },
      },
      artifact: (name, content) => session.artifact(planned.index, name, content),
      model: state.model,
      prompt: state.prompt,
      setWorktree: (wt: RunWorktree, created: boolean) => {
        session.setWorktree(wt, created);
        values.plain.worktree = wt.path;
        values.plain.branch = wt.branch;
      },
      setSession: (name: string, created: boolean) => {
        session.setSession(name, created);
        values.plain.session = name;
      },
    };
    result = await kindOf(planned, run);
    if (result.output) recording.write(`output: ${result.output}`);
  } catch (e) {
    if (e instanceof Stopped || stop.signal.aborted) {
      ({ status, error } = stoppedStep({ name: step.name, timeout }, stop.timedOut, state.stopReason(), def));
    } else {
      status = "failed";
      error = failureMessage(e);
      if (!(e instanceof PrjError) && e instanceof Error && e.stack) recording.write(e.stack);
    }
    recording.line(`error: ${error}`, "log");
  } finally {
    stop.dispose();
  }
  return recording.end({
    status,
    durationMs: performance.now() - t0,
    output: result.output,
    data: result.data,
    error,
  });
}
