/** Runs a user step module inside a Worker whose Deno permissions are only its grant. */
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PrjError } from "../util/errors.ts";
import { explainDenial, type ResolvedPermissions } from "./permissions.ts";
import type { StepResult } from "../run/contract.ts";

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

function commandLine(): string[] | undefined {
  try {
    return Deno.readTextFileSync("/proc/self/cmdline").split("\0").filter((a) => a !== "");
  } catch {
    return undefined;
  }
}

function configEnables(file: string): boolean | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch {
    return undefined;
  }
  try {
    // Strip // and /* */ comments for deno.jsonc (good enough for a config file).
    const json = JSON.parse(text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, ""));
    return Array.isArray(json.unstable) && json.unstable.includes("worker-options");
  } catch {
    return false;
  }
}

function discoverConfig(start: string): boolean | undefined {
  let dir = start;
  for (;;) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      const found = configEnables(path.join(dir, name));
      if (found !== undefined) return found;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Whether this process may give Workers their own permissions (`--unstable-worker-options`,
 * on the command line or in the deno.json Deno found). Deno exits the process when the
 * API is used without it, so this must be known before a Worker is made.
 */
export function workerPermissionsAvailable(): boolean {
  if ((Deno.build as { standalone?: boolean }).standalone) return true; // compiled with the flag baked in
  const argv = commandLine();
  if (argv === undefined) return true; // cannot tell (not Linux): trust the launcher
  if (argv.some((a) => a === "--unstable-worker-options" || a === "--unstable")) return true;
  if (argv.includes("--no-config")) return false;
  const i = argv.findIndex((a) => a === "--config" || a === "-c" || a.startsWith("--config="));
  if (i >= 0) {
    const file = argv[i]!.startsWith("--config=") ? argv[i]!.slice(9) : argv[i + 1];
    return file !== undefined && configEnables(path.resolve(file)) === true;
  }
  const main = Deno.mainModule.startsWith("file:") ? path.dirname(fileURLToPath(Deno.mainModule)) : undefined;
  return (main && discoverConfig(main)) || discoverConfig(Deno.cwd()) || false;
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
  /** `hook`: call the default export with `ctx.payload` first (agent runner hooks). */
  mode?: "step" | "hook";
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
  if (!workerPermissionsAvailable()) {
    throw new PrjError(
      `Cannot sandbox step "${stepName}": this Deno process was started without --unstable-worker-options`,
      { hint: "run prj through `deno task`, the installed `prj`, or add --unstable-worker-options" },
    );
  }
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
      mode: options.mode ?? "step",
      ctx: options.ctx,
    });
  });
}
