/** Runs a user step module inside a Worker whose Deno permissions are only its grant. */
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { PrjError } from "./errors.ts";
import { explainDenial, type ResolvedPermissions } from "./permissions.ts";
import type { StepResult } from "./types.ts";

/** Why a sandboxed step stopped early. */
export class StepStopped extends Error {
  /** `timeout` or `cancelled`. */
  readonly reason: "timeout" | "cancelled";
  /** @param reason why it stopped */
  constructor(reason: "timeout" | "cancelled", message: string) {
    super(message);
    this.name = "StepStopped";
    this.reason = reason;
  }
}

/** Whether this process may give Workers their own permissions (`--unstable-worker-options`). */
export function workerPermissionsAvailable(): boolean {
  try {
    const worker = new Worker("data:text/javascript,", {
      type: "module",
      deno: { permissions: "none" },
    });
    worker.terminate();
    return true;
  } catch {
    return false;
  }
}

/** How to run one sandboxed step. */
export interface SandboxOptions {
  /** Absolute path of the step module. */
  moduleFile: string;
  /** How the module is named in messages (relative to the project). */
  display: string;
  /** The YAML file that grants its permissions, for denial messages. */
  commandFile: string;
  /** The grant. */
  permissions: ResolvedPermissions;
  /** The serialisable part of the step context. */
  ctx: Record<string, unknown>;
  /** Milliseconds before the Worker is terminated. */
  timeoutMs: number | undefined;
  /** Cancels the step (terminates the Worker). */
  signal: AbortSignal;
  /** A line the step logged. */
  onLog: (line: string) => void;
  /** A shared value the step set. */
  onShared: (key: string, value: unknown) => void;
  /** Stores an artifact for the step, returning its path. */
  onArtifact: (name: string, content: string | Uint8Array) => Promise<string>;
}

/**
 * Runs a step module in a Worker with only its granted permissions.
 *
 * @returns the step's result
 * @throws {PrjError} when the step fails (permission denial explained), has no default function, or does not load
 * @throws {StepStopped} on timeout or cancellation
 */
export function runSandboxed(options: SandboxOptions): Promise<StepResult> {
  const stepName = String((options.ctx.step as { name: string }).name);
  const grant = options.permissions;
  // The module itself (and its siblings) must be readable for the Worker to import it.
  const read = grant.read === true ? true : [...(grant.read as string[]), path.dirname(options.moduleFile)];
  let worker: Worker;
  try {
    worker = new Worker(new URL("./_worker.ts", import.meta.url), {
      type: "module",
      name: `prj-step-${stepName}`,
      deno: {
        permissions: {
          read,
          write: grant.write,
          net: grant.net,
          env: grant.env,
          run: grant.run,
          sys: grant.sys as Exclude<Deno.PermissionOptionsObject["sys"], undefined>,
          ffi: grant.ffi,
          import: false,
        },
      },
    });
  } catch (error) {
    throw new PrjError(
      `Cannot sandbox step "${stepName}": this Deno process was started without --unstable-worker-options`,
      { hint: "run prj through `deno task`, the installed `prj`, or add --unstable-worker-options", cause: error },
    );
  }
  return new Promise<StepResult>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener("abort", onAbort);
      worker.terminate();
      fn();
    };
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
      finish(() =>
        reject(new StepStopped("timeout", `step "${stepName}" timed out after ${options.timeoutMs! / 1000}s`))
      );
    }, options.timeoutMs);
    const onAbort = () => finish(() => reject(new StepStopped("cancelled", `step "${stepName}" was cancelled`)));
    if (options.signal.aborted) return onAbort();
    options.signal.addEventListener("abort", onAbort, { once: true });
    const fail = (error: { name: string; message: string; stack?: string }, phase: string) => {
      const denial = explainDenial(error.message, stepName, options.commandFile);
      let message: string;
      if (denial && phase !== "import") message = denial;
      else if (phase === "import") {
        message = `step module ${options.display} failed to load: ${error.message.split("\n")[0]}`;
      } else if (phase === "shape") {
        message = `step module ${options.display} has no default function (${error.message}); ` +
          "export one: `export default function (ctx) { ... }`";
      } else message = `step "${stepName}" failed: ${error.name === "Error" ? "" : error.name + ": "}${error.message}`;
      finish(() => reject(new PrjError(message)));
    };
    worker.onmessage = (event: MessageEvent) => {
      const message = event.data;
      switch (message?.type) {
        case "log":
          options.onLog(String(message.line));
          break;
        case "shared":
          options.onShared(message.key, message.value);
          break;
        case "artifact":
          options.onArtifact(message.name, message.content).then(
            (p) => worker.postMessage({ type: "artifact-done", id: message.id, path: p }),
            (e) => worker.postMessage({ type: "artifact-done", id: message.id, error: String(e?.message ?? e) }),
          );
          break;
        case "done": {
          const result = message.result;
          if (result !== null && (typeof result !== "object" || Array.isArray(result))) {
            fail(
              { name: "TypeError", message: `returned ${typeof result}; return nothing or { output, data }` },
              "run",
            );
            break;
          }
          const out: StepResult = {};
          if (result?.output !== undefined) out.output = String(result.output);
          if (result?.data !== undefined) out.data = result.data;
          finish(() => resolve(out));
          break;
        }
        case "error":
          fail(message.error, message.phase);
          break;
      }
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      fail({ name: "Error", message: event.message ?? "uncaught error" }, "run");
    };
    worker.postMessage({
      type: "start",
      moduleUrl: pathToFileURL(options.moduleFile).href,
      display: options.display,
      ctx: options.ctx,
    });
  });
}
