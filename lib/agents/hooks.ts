/** Agent runner hooks: `pre-task`, `post-task`, `health-check`, as TypeScript modules or executables, each with a timeout. */
import * as path from "../util/path.ts";
import { PrjError } from "../util/errors.ts";
import { isFile } from "../util/fs.ts";
import { runStreaming } from "../util/process.ts";
import { runSandboxed, StepStopped } from "../sandbox/sandbox.ts";

/** The hook kinds. */
export type HookKind = "pre-task" | "post-task" | "health-check";

/** How a hook ended. */
export interface HookResult {
  /** False when the hooks dir has no such hook. */
  ran: boolean;
  /** The hook file. */
  file?: string;
  /** Whether it succeeded. */
  ok: boolean;
  /** Why it failed. */
  error?: string;
}

/** The hook file for a kind: `<dir>/<kind>.ts`, `.js`, or an executable `<dir>/<kind>` (or `.sh`). */
export function findHook(dir: string, kind: HookKind): string | undefined {
  for (const name of [`${kind}.ts`, `${kind}.js`, kind, `${kind}.sh`]) {
    const file = path.join(dir, name);
    if (isFile(file)) return file;
  }
  return undefined;
}

/**
 * Runs one hook with the task as JSON. A TypeScript hook's default export is called with
 * the payload in a sandbox process of its own with prj's permissions (stopped at the timeout); an executable gets the payload on
 * stdin and in `PRJ_TASK_JSON`, and is killed at the timeout.
 */
export async function runHook(
  dir: string | undefined,
  kind: HookKind,
  payload: Record<string, unknown>,
  options: {
    timeoutMs: number;
    /** The project root (the sandbox protects its `.git`, `.prj`... and scans nothing else). */
    project: string;
    cwd: string;
    env: Record<string, string>;
    onLine: (line: string) => void;
    signal?: AbortSignal;
  },
): Promise<HookResult> {
  if (!dir) return { ran: false, ok: true };
  const file = findHook(dir, kind);
  if (!file) return { ran: false, ok: true };
  const signal = options.signal ?? new AbortController().signal;
  if (/\.(ts|js)$/.test(file)) {
    try {
      // Hooks are the operator's own code, like `run:` steps: they run with prj's permissions.
      await runSandboxed({
        moduleFile: file,
        display: file,
        commandFile: file,
        permissions: { read: true, write: true, net: true, env: true, run: true, sys: true, ffi: false },
        ctx: {
          run: { id: "", command: "agent" },
          step: { name: kind, index: 0, phase: "hook" },
          payload,
          paths: { project: options.project, cwd: options.cwd },
          env: options.env,
          shared: {},
          history: [],
        },
        timeoutMs: options.timeoutMs,
        signal,
        onLog: options.onLine,
        onShared: () => {},
        onArtifact: () => Promise.reject(new Error("hooks have no artifacts")),
        mode: "hook",
      });
      return { ran: true, file, ok: true };
    } catch (error) {
      if (error instanceof StepStopped && error.reason === "timeout") {
        return { ran: true, file, ok: false, error: `${kind} hook timed out after ${options.timeoutMs / 1000}s` };
      }
      if (error instanceof PrjError || error instanceof StepStopped) {
        return { ran: true, file, ok: false, error: error.message };
      }
      throw error;
    }
  }
  const json = JSON.stringify(payload);
  try {
    const exit = await runStreaming([file], {
      cwd: options.cwd,
      env: { ...Deno.env.toObject(), ...options.env, PRJ_HOOK: kind, PRJ_TASK_JSON: json },
      stdin: json,
      timeoutMs: options.timeoutMs,
      signal,
      onLine: options.onLine,
    });
    if (exit.stopped === "timeout") {
      return { ran: true, file, ok: false, error: `${kind} hook timed out after ${options.timeoutMs / 1000}s` };
    }
    if (exit.code !== 0) return { ran: true, file, ok: false, error: `${kind} hook exited with code ${exit.code}` };
    return { ran: true, file, ok: true };
  } catch (error) {
    if (error instanceof PrjError) return { ran: true, file, ok: false, error: error.message };
    throw error;
  }
}
