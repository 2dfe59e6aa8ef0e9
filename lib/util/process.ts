/** Starting programs: streamed (for `run:` steps and agents) and captured (for git and tmux). */
import { waitAtMost, whenElapsed } from "./time.ts";
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
  const notFound = () =>
    new PrjError(`Program "${argv[0]}" not found (working directory "${options.cwd}")`, {
      hint: "install it or fix the step's `run:`",
    });
  // The program leads a process group of its own (so stopping it stops what it started). Deno's
  // `detached` forks the whole prj process to get there, which costs a few ms per program in a
  // large process; `setsid` (util-linux) gets the same with a cheap spawn and one exec.
  const setsid = setsidProgram();
  let program = argv[0]!;
  if (setsid) {
    const found = findProgram(program, options.cwd, options.env?.PATH);
    if (found === undefined) throw notFound();
    program = found;
  }
  try {
    child = new Deno.Command(setsid ?? program, {
      args: setsid ? [program, ...argv.slice(1)] : argv.slice(1),
      cwd: options.cwd,
      env: options.env ?? {},
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      detached: setsid === undefined,
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw notFound();
    throw error;
  }
  options.onSpawn?.(child.pid);
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    writer.write(new TextEncoder().encode(options.stdin)).then(() => writer.close()).catch(() => {});
  }
  let stopped: "timeout" | "cancelled" | undefined;
  let cancelKill: (() => void) | undefined;
  const stop = (why: "timeout" | "cancelled") => {
    if (stopped) return;
    stopped = why;
    killGroup(child, "SIGTERM");
    cancelKill = whenElapsed(2000, () => killGroup(child, "SIGKILL"));
  };
  const cancelTimer = options.timeoutMs === undefined
    ? undefined
    : whenElapsed(options.timeoutMs, () => stop("timeout"));
  const onAbort = () => stop("cancelled");
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const pumps = Promise.all([
    pumpLines(child.stdout, (l) => options.onLine(l, "stdout")),
    pumpLines(child.stderr, (l) => options.onLine(l, "stderr")),
  ]);
  const status = await child.status;
  cancelTimer?.();
  cancelKill?.();
  options.signal?.removeEventListener("abort", onAbort);
  // Grandchildren may hold the pipes open; do not wait for them once the program exited.
  await waitAtMost(pumps, stopped ? 200 : 2000);
  const code = status.code ?? (status.signal ? 128 + signalNumber(status.signal) : 1);
  return stopped ? { code, stopped } : { code };
}

let setsidPath: string | null | undefined;

/** The `setsid` program (Linux), or undefined where there is none. */
function setsidProgram(): string | undefined {
  if (setsidPath === undefined) {
    setsidPath = null;
    if (Deno.build.os === "linux") {
      for (const candidate of ["/usr/bin/setsid", "/bin/setsid"]) {
        if (isExecutableFile(candidate)) {
          setsidPath = candidate;
          break;
        }
      }
    }
  }
  return setsidPath ?? undefined;
}

function isExecutableFile(file: string): boolean {
  try {
    const info = Deno.statSync(file);
    return info.isFile && (info.mode === null || (info.mode & 0o111) !== 0);
  } catch {
    return false;
  }
}

/**
 * Where a program is, as the program's own environment would find it: a name with a slash
 * relative to `cwd`, otherwise the first executable file of that name on `pathEnv`.
 */
function findProgram(program: string, cwd: string, pathEnv: string | undefined): string | undefined {
  const key = `${program}\0${pathEnv ?? ""}\0${program.includes("/") ? cwd : ""}`;
  const known = found.get(key);
  if (known !== undefined && isExecutableFile(known)) return known;
  const file = searchProgram(program, cwd, pathEnv);
  if (file !== undefined) found.set(key, file);
  return file;
}

/** Programs found before, by name, PATH and (for relative names) folder: a run's steps look up the same few. */
const found = new Map<string, string>();

function searchProgram(program: string, cwd: string, pathEnv: string | undefined): string | undefined {
  if (program.includes("/")) {
    const file = program.startsWith("/") ? program : `${cwd}/${program}`;
    return isExecutableFile(file) ? file : undefined;
  }
  for (const dir of (pathEnv ?? "").split(":")) {
    const file = `${dir === "" ? "." : dir}/${program}`;
    if (isExecutableFile(dir === "" ? `${cwd}/${program}` : file)) return dir === "" ? `${cwd}/${program}` : file;
  }
  return undefined;
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
