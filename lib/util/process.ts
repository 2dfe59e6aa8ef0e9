/** Starting programs: streamed (for `run:` steps and agents) and captured (for git and tmux). */
import { PrjError } from "./errors.ts";

/** How a streamed program ended. */
export interface ProgramExit {
  /** Exit code (128 + signal number when killed). */
  code: number;
  /** Set when the program was stopped by prj. */
  stopped?: "timeout" | "cancelled";
}

/** Options for {@link runStreaming}. */
export interface StreamOptions {
  cwd: string;
  env?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number | undefined;
  onLine: (line: string, stream: "stdout" | "stderr") => void;
  stdin?: string;
  /** Told the program's pid once it started (it leads its own process group). */
  onSpawn?: (pid: number) => void;
}

async function pumpLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      onLine(buffer.slice(0, nl).replace(/\r$/, ""));
      buffer = buffer.slice(nl + 1);
    }
  }
  buffer += decoder.decode();
  if (buffer.length > 0) onLine(buffer);
}

function killGroup(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    // The child leads its own process group (detached), so its children stop with it.
    Deno.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
  }
}

/**
 * Starts a program and streams its output line by line.
 *
 * @throws {PrjError} when the program cannot be found
 */
export async function runStreaming(argv: readonly string[], options: StreamOptions): Promise<ProgramExit> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      cwd: options.cwd,
      env: options.env ?? {},
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new PrjError(`Program "${argv[0]}" not found (working directory "${options.cwd}")`, {
        hint: "install it or fix the step's `run:`",
      });
    }
    throw error;
  }
  options.onSpawn?.(child.pid);
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    writer.write(new TextEncoder().encode(options.stdin)).then(() => writer.close()).catch(() => {});
  }
  let stopped: "timeout" | "cancelled" | undefined;
  const stop = (why: "timeout" | "cancelled") => {
    if (stopped) return;
    stopped = why;
    killGroup(child, "SIGTERM");
    setTimeout(() => killGroup(child, "SIGKILL"), 2000).unref?.();
  };
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => stop("timeout"), options.timeoutMs);
  const onAbort = () => stop("cancelled");
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const pumps = Promise.all([
    pumpLines(child.stdout, (l) => options.onLine(l, "stdout")),
    pumpLines(child.stderr, (l) => options.onLine(l, "stderr")),
  ]);
  const status = await child.status;
  clearTimeout(timer);
  options.signal?.removeEventListener("abort", onAbort);
  // Grandchildren may hold the pipes open; do not wait for them once the program exited.
  await Promise.race([pumps, new Promise((r) => setTimeout(r, stopped ? 200 : 2000))]);
  const code = status.code ?? (status.signal ? 128 + signalNumber(status.signal) : 1);
  return stopped ? { code, stopped } : { code };
}

function signalNumber(signal: Deno.Signal): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 0;
}

/** What a captured program printed. */
export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program to completion and captures its output.
 *
 * @param argv the program and its arguments
 * @param options working directory, environment additions, stdin
 * @throws {PrjError} when the program is not installed (`missingHint` says how to install it)
 */
export async function capture(
  argv: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; clearEnv?: boolean; stdin?: string; missingHint?: string } =
    {},
): Promise<Captured> {
  try {
    const command = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.clearEnv ? { clearEnv: true } : {}),
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    });
    if (options.stdin === undefined) {
      const out = await command.output();
      return {
        code: out.code,
        stdout: new TextDecoder().decode(out.stdout),
        stderr: new TextDecoder().decode(out.stderr),
      };
    }
    const child = command.spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
    const out = await child.output();
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new PrjError(`${argv[0]} is not installed (or not on PATH)`, {
        hint: options.missingHint ?? `install ${argv[0]} and try again`,
      });
    }
    throw error;
  }
}

/** Whether a program is on PATH (or, given with a slash, exists and is executable). */
export async function onPath(program: string): Promise<boolean> {
  const dirs = program.includes("/") ? [""] : (Deno.env.get("PATH") ?? "").split(":").filter(Boolean);
  for (const dir of dirs) {
    try {
      const info = await Deno.stat(dir ? `${dir}/${program}` : program);
      if (info.isFile && (info.mode === null || (info.mode & 0o111) !== 0)) return true;
    } catch { /* not here */ }
  }
  return false;
}
