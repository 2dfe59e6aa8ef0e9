/**
 * Stopping steps and runs: Ctrl-C and the whole-command timeout stop the run; a step's own
 * timeout stops only that step. Each is an AbortSignal, and `Stopped` is what a step kind
 * throws when its signal fired.
 */
import { whenElapsed } from "../util/time.ts";

/** Why a run was stopped: the user cancelled it, or the command's timeout fired. */
export type StopReason = "cancelled" | "timeout";

/** Thrown by a step kind when the step's signal stopped it (the executor decides what that means). */
export class Stopped extends Error {
  /** A step that was stopped. */
  constructor() {
    super("stopped");
    this.name = "Stopped";
  }
}

/** Resolves like `promise`, but rejects with {@link Stopped} as soon as `signal` aborts. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Stopped());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Stopped());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** The run's stop: the caller's signal (Ctrl-C) and the command's timeout, one controller. */
export class RunStop {
  #controller = new AbortController();
  #reason: StopReason | undefined;
  #cancelTimer: (() => void) | undefined;
  #outer: AbortSignal | undefined;
  #onCancel = () => this.stop("cancelled");

  /**
   * @param outer the caller's cancellation (Ctrl-C), if any
   * @param timeoutSeconds the whole command's timeout, if any
   * @param onTimeout called once when the timeout fires
   */
  constructor(outer: AbortSignal | undefined, timeoutSeconds: number | undefined, onTimeout: () => void) {
    this.#outer = outer;
    if (outer?.aborted) this.stop("cancelled");
    outer?.addEventListener("abort", this.#onCancel, { once: true });
    if (timeoutSeconds !== undefined) {
      this.#cancelTimer = whenElapsed(timeoutSeconds * 1000, () => {
        this.#reason ??= "timeout";
        onTimeout();
        this.stop("timeout");
      });
    }
  }

  /** Aborted once the run is stopped. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Why the run was stopped (the first reason wins), or undefined. */
  get reason(): StopReason | undefined {
    return this.#reason;
  }

  /** Stops the run. */
  stop(reason: StopReason): void {
    this.#reason ??= reason;
    this.#controller.abort(reason);
  }

  /** Stops listening (the timer and the caller's signal). */
  dispose(): void {
    this.#cancelTimer?.();
    this.#outer?.removeEventListener("abort", this.#onCancel);
  }
}

/** One step's stop: the run's signal, and the step's own timeout. */
export class StepStop {
  #controller = new AbortController();
  #cancelTimer: (() => void) | undefined;
  #runSignal: AbortSignal;
  #onRunAbort = () => this.#controller.abort(this.#runSignal.reason);
  /** Whether the step's own timeout fired. */
  timedOut = false;

  /**
   * @param runSignal the run's (or cleanup's) signal
   * @param timeoutSeconds the step's timeout, if any
   */
  constructor(runSignal: AbortSignal, timeoutSeconds: number | undefined) {
    this.#runSignal = runSignal;
    if (runSignal.aborted) this.#onRunAbort();
    runSignal.addEventListener("abort", this.#onRunAbort, { once: true });
    if (timeoutSeconds !== undefined) {
      this.#cancelTimer = whenElapsed(timeoutSeconds * 1000, () => {
        this.timedOut = true;
        this.#controller.abort("timeout");
      });
    }
  }

  /** Aborted when the step must stop. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Stops listening. */
  dispose(): void {
    this.#cancelTimer?.();
    this.#runSignal.removeEventListener("abort", this.#onRunAbort);
  }
}
