/** The `builtin` step kind: a step of steps/, run in-process with the trusted context. */
import type { BuiltinStepSpec } from "../../definitions/steps.ts";
import type { BuiltinContext, SharedData, StepResult } from "../contract.ts";
import { loadBuiltin } from "../builtins.ts";
import type { StepRun } from "../step_run.ts";
import { raceAbort, Stopped } from "../stop.ts";

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

/** How long a stopped built-in step may take to wind down before the run goes on without it. */
const SETTLE_MS = 15_000;

/**
 * Runs a built-in step.
 *
 * @throws {Stopped} when the step was stopped; by then the step has wound down (it was given
 *   the signal), so what runs next (cleanup, teardown) never races it, unless it took longer
 *   than 15 s
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
  const work = Promise.resolve().then(() => fn(ctx));
  try {
    return (await raceAbort(work, run.signal)) ?? {};
  } catch (error) {
    if (error instanceof Stopped) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        work.then(() => {}, () => {}),
        new Promise<void>((r) => (timer = setTimeout(r, SETTLE_MS))),
      ]);
      clearTimeout(timer);
    }
    throw error;
  }
}
