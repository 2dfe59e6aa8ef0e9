/** The `builtin` step kind: a step of steps/, run in-process with the trusted context. */
import type { BuiltinStepSpec } from "../../definitions/steps.ts";
import type { BuiltinContext, SharedData, StepResult } from "../contract.ts";
import { loadBuiltin } from "../builtins.ts";
import type { StepRun } from "../step_run.ts";
import { raceAbort } from "../stop.ts";

/** The shared data as a step sees it: JSON values, copied on the way in. */
export function sharedAccess(shared: Record<string, unknown>): SharedData {
  return {
    get: <T = unknown>(key: string) => shared[key] as T | undefined,
    set: (key: string, value: unknown) => {
      shared[key] = value === undefined ? null : JSON.parse(JSON.stringify(value));
    },
    all: () => ({ ...shared }),
  };
}

/**
 * Runs a built-in step.
 *
 * @throws {Stopped} when the step was stopped (the step itself may go on in the background)
 */
export async function runBuiltin(step: BuiltinStepSpec, run: StepRun): Promise<StepResult> {
  const fn = await loadBuiltin(step.builtin);
  const line = (text: string, stream: "stdout" | "stderr" | "log") => run.recording.line(text, stream);
  const ctx: BuiltinContext = {
    ...run.context,
    shared: sharedAccess(run.session.shared),
    log: (...parts) => line(parts.map((p) => typeof p === "string" ? p : JSON.stringify(p)).join(" "), "log"),
    artifact: run.artifact,
    signal: run.signal,
    project: run.project,
    store: run.session.store,
    model: run.model,
    output: line,
    setWorktree: run.setWorktree,
    setSession: run.setSession,
    resourceRemoved: (kind, name) => run.session.resourceRemoved(kind, name),
    resources: run.session.resources,
    render: run.render,
    prompt: run.prompt,
  };
  return (await raceAbort(Promise.resolve(fn(ctx)), run.signal)) ?? {};
}
