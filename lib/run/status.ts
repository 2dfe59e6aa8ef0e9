/**
 * How steps and runs end: the pure rules that turn "a step threw", "a step was stopped",
 * and "why the run was stopped" into statuses and one-line errors.
 */
import { PrjError } from "../util/errors.ts";
import type { RunStatus } from "../state/runs.ts";
import type { StepStatus } from "../state/steps.ts";
import type { StopReason } from "./stop.ts";

/**
 * The status and error of a step that was stopped before it finished.
 *
 * @param step the step's name and its own timeout
 * @param timedOut whether the step's own timeout fired
 * @param runStop why the run was stopped, if it was
 * @param command the command's name and whole-command timeout
 */
export function stoppedStep(
  step: { name: string; timeout: number | undefined },
  timedOut: boolean,
  runStop: StopReason | undefined,
  command: { name: string; timeout?: number | undefined },
): { status: "timed_out" | "cancelled"; error: string } {
  if (timedOut) return { status: "timed_out", error: `step "${step.name}" timed out after ${step.timeout}s` };
  if (runStop === "timeout") {
    return { status: "timed_out", error: `command "${command.name}" timed out after ${command.timeout}s` };
  }
  return { status: "cancelled", error: `step "${step.name}" was cancelled` };
}

/**
 * The one-line error of a step that threw: a user-facing error's message as it is, a
 * plain `Error`'s message, another error with its name (`TypeError: ...`).
 */
export function failureMessage(error: unknown): string {
  if (error instanceof PrjError || (error instanceof Error && error.name === "Error")) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** What the run does after a step ended. */
export type AfterStep =
  | { next: "continue"; notice?: string }
  | { next: "stop"; status: RunStatus };

/**
 * What a step's ending means for the run: succeeded and skipped steps go on, so does a
 * failed step with `continue_on_error`; otherwise the run stops, `timed_out` only when the
 * whole command's timeout stopped it (a step's own timeout fails the run).
 */
export function afterStep(
  step: { name: string; status: StepStatus; continueOnError: boolean },
  runStop: StopReason | undefined,
): AfterStep {
  if (step.status === "succeeded" || step.status === "skipped") return { next: "continue" };
  if (step.status === "failed" && step.continueOnError) {
    return { next: "continue", notice: `step "${step.name}" failed; continuing (continue_on_error)` };
  }
  if (step.status === "timed_out") return { next: "stop", status: runStop === "timeout" ? "timed_out" : "failed" };
  if (step.status === "cancelled") return { next: "stop", status: "cancelled" };
  return { next: "stop", status: "failed" };
}

/** The status of a run stopped between steps. */
export function stoppedRun(runStop: StopReason): RunStatus {
  return runStop === "timeout" ? "timed_out" : "cancelled";
}

/** The run's error when no step gave one (it was stopped between steps). */
export function stoppedRunError(status: RunStatus, command: { name: string; timeout?: number | undefined }): string {
  return status === "cancelled" ? "cancelled" : `command "${command.name}" timed out after ${command.timeout}s`;
}

/** How `if:` reads a rendered value: empty, `false`, `0`, `no`, `off` and `null` are false. */
export function truthy(value: string | boolean): boolean {
  if (typeof value === "boolean") return value;
  return !["", "false", "0", "no", "off", "null"].includes(value.trim().toLowerCase());
}
