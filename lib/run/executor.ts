/**
 * Runs a command: plan it, open a Session, run pre_steps -> steps -> post_steps one at a
 * time; when the run does not succeed, run cleanup_on_failure and tear down what it made.
 */
import type { Project } from "../project/project.ts";
import type { CommandDefinition } from "../definitions/schema.ts";
import { loadPrompt } from "../definitions/prompt.ts";
import { openStore, type Store } from "../state/store.ts";
import type { RunStatus } from "../state/runs.ts";
import type { RunWorktree } from "./contract.ts";
import { initialValues, planRun } from "./plan.ts";
import { newRunId } from "./run_id.ts";
import { type RunEvent, RunSession, type StepOutcome } from "./session.ts";
import { afterStep, stoppedRun, stoppedRunError } from "./status.ts";
import { type RunState, runStep } from "./step.ts";
import { RunStop } from "./stop.ts";
import { teardownRun } from "./teardown.ts";
import { releaseSandbox } from "./kinds/module.ts";

/** How a run ended. */
export interface RunResult {
  /** The run id. */
  runId: string;
  /** The command's name. */
  command: string;
  /** How the run ended. */
  status: RunStatus;
  /** How long it took. */
  durationMs: number;
  /** Why it did not succeed. */
  error?: string | undefined;
  /** Every step that ran (or was skipped by its condition), in order. */
  steps: StepOutcome[];
  /** `.prj/artifacts/<run-id>`. */
  artifactDir: string;
  /** The run's shared data at the end. */
  shared: Record<string, unknown>;
  /** The worktree the run created or adopted. */
  worktree?: RunWorktree | undefined;
  /** The tmux session the run created or adopted. */
  session?: string | undefined;
}

/** Options for {@link runCommand}. */
export interface RunOptions {
  /** Validated arguments (see parseArguments). */
  args: Record<string, unknown>;
  /** The model for `launch-agent` (overrides the command's and config's). */
  model?: string | undefined;
  /** Cancels the run (Ctrl-C): the current step stops, cleanup runs, the run is `cancelled`. */
  signal?: AbortSignal | undefined;
  /**
   * Stops the cleanup too (a second Ctrl-C): the cleanup step running is stopped with its whole
   * process group, the rest are skipped; the run's session and worktree are still removed and
   * the run is recorded as `cancelled`.
   */
  force?: AbortSignal | undefined;
  /** Progress events. */
  onEvent?: ((event: RunEvent) => void) | undefined;
  /** Use this run id instead of a new one. */
  runId?: string | undefined;
  /** The run that started this one (fan-out). */
  parentId?: string | undefined;
  /** An open store to use (else the project's is opened and closed). */
  store?: Store | undefined;
}

/**
 * Runs a command to the end and records everything in the project's store and artifacts.
 *
 * @param project the project
 * @param def the command definition (see loadCommand)
 * @param options arguments, model, cancellation and progress callbacks
 * @returns how the run ended; a failed step does not throw, it sets `status`
 * @example
 * ```ts
 * import { initProject, loadCommand, openProject, runCommand } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await initProject(dir);
 * await Deno.writeTextFile(`${dir}/.prj/commands/hello.yaml`, "steps:\n  - name: hi\n    run: [echo, hi]\n");
 * const project = await openProject(dir);
 * const ended: string[] = [];
 * const result = await runCommand(project, await loadCommand(project, "hello"), {
 *   args: {},
 *   onEvent: (e) => e.type === "step-end" && ended.push(`${e.name} ${e.status}`),
 * });
 * assert.equal(result.status, "succeeded");
 * assert.deepEqual(ended, ["hi succeeded"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function runCommand(project: Project, def: CommandDefinition, options: RunOptions): Promise<RunResult> {
  const prompt = await loadPrompt(project, def);
  const model = options.model ?? def.model ?? project.config.agent.model;
  const plan = planRun(project, def, options.args, model);
  const store = options.store ?? openStore(project.prjDir);
  const session = RunSession.open(project, store, {
    runId: options.runId ?? newRunId(),
    command: def.name,
    source: def.source.file,
    args: options.args,
    cwd: project.cwd,
    model,
    parentId: options.parentId,
    onEvent: options.onEvent,
  });
  const mainSteps = plan.steps.filter((s) => s.phase !== "cleanup");
  session.emit({
    type: "run-start",
    runId: session.id,
    command: def.name,
    artifactDir: session.artifactDir,
    steps: mainSteps.length,
  });
  const stop = new RunStop(
    options.signal,
    def.timeout,
    () => session.log(`command timeout of ${def.timeout}s reached`),
  );
  const state: RunState = {
    project,
    def,
    session,
    values: initialValues(
      project,
      def,
      options.args,
      { id: session.id, artifacts: session.artifactDir, model },
      session.shared,
    ),
    model,
    prompt,
    stopReason: () => stop.reason,
    steps: plan.steps,
  };

  let status: RunStatus = "succeeded";
  let error: string | undefined;
  for (const [i, planned] of mainSteps.entries()) {
    if (stop.signal.aborted) break;
    const outcome = await runStep(state, planned, stop.signal);
    const next = session.storageError !== undefined
      ? { next: "stop" as const, status: "failed" as const }
      : afterStep({ ...outcome, continueOnError: planned.continueOnError }, stop.reason);
    if (next.next === "continue") {
      if (next.notice) session.notice(next.notice);
      continue;
    }
    status = next.status;
    error = session.storageError ?? outcome.error;
    for (const rest of mainSteps.slice(i + 1)) session.skipNotReached(rest);
    break;
  }
  if (stop.signal.aborted && status === "succeeded") status = stoppedRun(stop.reason ?? "cancelled");
  stop.dispose();

  if (status !== "succeeded") {
    error ??= stoppedRunError(status, def);
    session.stage("teardown");
    // Cleanup runs even after Ctrl-C, under a signal of its own that a second Ctrl-C (`force`)
    // aborts; a failing cleanup is reported, not fatal.
    const cleanup = new AbortController();
    const forceStop = () => cleanup.abort("cancelled");
    if (options.force?.aborted) forceStop();
    options.force?.addEventListener("abort", forceStop, { once: true });
    for (const planned of plan.steps.filter((s) => s.phase === "cleanup")) {
      if (cleanup.signal.aborted) {
        session.skipNotReached(planned);
        continue;
      }
      const outcome = await runStep(state, planned, cleanup.signal);
      if (outcome.status !== "succeeded") {
        session.notice(`cleanup step "${planned.name}" ${outcome.status}: ${outcome.error ?? ""}`);
      }
    }
    options.force?.removeEventListener("abort", forceStop);
    await teardownRun(project, store, session.id, (message) => {
      session.log(message);
      session.notice(message);
    });
  }
  await releaseSandbox(); // the processes started for steps that did not run
  const durationMs = session.finish(status, error);
  if (!options.store) store.close();
  return {
    runId: session.id,
    command: def.name,
    status,
    durationMs,
    error,
    steps: session.outcomes,
    artifactDir: session.artifactDir,
    shared: session.shared,
    worktree: session.resources.worktree,
    session: session.resources.session,
  };
}
