/**
 * Headless agents as processes of their own: started in their own process group with their
 * output going to files in the launch's folder (not to pipes held by prj), so an agent
 * outlives a prj process that is killed, is found again by its pid, and its result is read
 * from its output file whenever it ends. One agent per worktree: a launch is refused while
 * another agent works there.
 */
import * as path from "../util/path.ts";
import type { Store } from "../state/store.ts";
import {
  finishLaunch,
  getLaunch,
  hookEventsOf,
  insertLaunch,
  type LaunchRecord,
  openLaunchesIn,
  setAgentSessionId,
  setLaunchProcess,
} from "../state/launches.ts";
import { PrjError } from "../util/errors.ts";
import { processAlive, processStartTime } from "../util/liveness.ts";
import { agentKind, type AgentResult, headlessFailure } from "./kinds.ts";
import type { PreparedAgent } from "./launcher.ts";
import { ingestHookEvents } from "./hook_events.ts";
import { recordUsage } from "./cost.ts";

/** The files of a launch's folder. */
export function launchFiles(dir: string): { pid: string; exit: string; output: string; stderr: string } {
  return {
    pid: path.join(dir, "agent.pid"),
    exit: path.join(dir, "agent.exit"),
    output: path.join(dir, "output.jsonl"),
    stderr: path.join(dir, "stderr.log"),
  };
}

/** The exit code in an exit file, or undefined while there is none. */
export function readExitFile(file: string | null): number | undefined {
  if (!file) return undefined;
  try {
    const text = Deno.readTextFileSync(file).trim();
    return /^\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/** A launch whose agent has not recorded a pid for this long did not start. */
const START_GRACE_MS = 30_000;

/**
 * The same for a headless launch, whose wrapper writes its pid as its first act: a prj killed
 * between recording the launch and starting it leaves a launch that never started.
 */
const HEADLESS_START_GRACE_MS = 5_000;

/**
 * Whether a launch's agent process runs: `running`, `ended`, or `starting` (launched moments
 * ago, no pid yet). The pid an interactive launcher wrote is recorded on the way.
 */
export function launchProcess(store: Store, l: LaunchRecord): "running" | "ended" | "starting" {
  if (l.exit_code !== null || readExitFile(l.exit_file) !== undefined) return "ended";
  if (l.pid === null && l.launch_dir) {
    const text = readText(launchFiles(l.launch_dir).pid)?.trim();
    if (text && /^\d+$/.test(text)) {
      const pid = Number(text);
      const start = processStartTime(pid) ?? null;
      setLaunchProcess(store, l.id, pid, start);
      l.pid = pid;
      l.pid_start = start;
      if (start === null) return "ended";
    }
  }
  if (l.pid !== null) return processAlive(Number(l.pid), l.pid_start) ? "running" : "ended";
  const grace = l.headless === 1 ? HEADLESS_START_GRACE_MS : START_GRACE_MS;
  return Date.now() - Date.parse(l.launched_at) < grace ? "starting" : "ended";
}

/**
 * The agent working in a worktree now, if any: a launch there whose process runs (or is
 * starting). A runner restarted after a crash uses it to wait for the agent its previous
 * process started ({@link waitForAgent}) instead of starting a second one.
 *
 * @param worktreePath the worktree's folder
 */
export function findLiveAgent(store: Store, worktreePath: string): LaunchRecord | undefined {
  return openLaunchesIn(store, worktreePath).find((l) => launchProcess(store, l) !== "ended");
}

/**
 * Refuses a second agent in a worktree.
 *
 * @throws {PrjError} naming the agent that works there
 */
export function assertNoLiveAgent(store: Store, worktreePath: string): void {
  const live = findLiveAgent(store, worktreePath);
  if (!live) return;
  const where = live.session ? `in tmux session "${live.session}"` : "headless";
  throw new PrjError(
    `An agent is already working in "${worktreePath}" (${live.kind}, ${where}, pid ${
      live.pid ?? "?"
    }, since ${live.launched_at}${live.run_id ? `, run ${live.run_id}` : ""}); one agent per worktree`,
    { hint: "wait for it or stop it (see `prj fleet`)" },
  );
}

/** How a headless agent ended. */
export interface HeadlessOutcome {
  /** Its exit code (null when it was killed and its wrapper with it), and whether prj stopped it. */
  exit: { code: number; stopped?: "timeout" | "cancelled" };
  /** What it reported at the end, when it printed a result. */
  result: AgentResult | undefined;
  /** Why the run is not a success (exit code, reported error, refused tool calls), or undefined. */
  failure: string | undefined;
  /**
   * Whether refused tool calls are all that failed it (it exited 0 and reported no error): the
   * same permissions would refuse them again, so starting it again is pointless.
   */
  refusedOnly: boolean;
  /** The launch's id in the fleet. */
  launchId: number;
}

/** Options of a headless run. */
export interface HeadlessRun {
  cwd: string;
  env: Record<string, string>;
  model: string | undefined;
  runId: string | null;
  worktree: { name: string; branch: string } | null;
  timeoutMs: number | undefined;
  signal?: AbortSignal | undefined;
  onLine: (line: string, stream: "stdout" | "stderr") => void;
}

// The wrapper: the agent's output to files, its exit code to a file once it ends (also when
// the prj that started it is gone). It leads the process group prj stops on a timeout.
// Its first act is to write its pid (the group's id), so a runner that takes over after the prj that
// started it was killed finds it even when that prj died before it recorded the pid.
const WRAPPER = 'in=$1 out=$2 err=$3 ex=$4 pf=$5; shift 5; echo "$$" > "$pf.part" && mv -f "$pf.part" "$pf"; ' +
  '"$@" < "$in" > "$out" 2> "$err"; c=$?; ' +
  'echo "$c" > "$ex.part" && mv -f "$ex.part" "$ex"; exit "$c"';

/**
 * Runs a prepared agent to completion in `cwd`, recording the launch in the fleet (so
 * `prj fleet` shows it working, then exited) with its result. Its output is streamed to
 * `onLine` as it is written to its file.
 *
 * @throws {PrjError} when another agent works in the worktree
 */
export async function runHeadlessAgent(store: Store, agent: PreparedAgent, run: HeadlessRun): Promise<HeadlessOutcome> {
  assertNoLiveAgent(store, run.cwd);
  await agent.bindWorkdir(run.cwd);
  const files = launchFiles(agent.launchDir);
  for (const f of [files.exit, files.pid]) await Deno.remove(f).catch(() => {});
  let stdinFile = "/dev/null";
  if (agent.invocation.stdin !== undefined) {
    stdinFile = path.join(agent.launchDir, "stdin.txt");
    await Deno.writeTextFile(stdinFile, agent.invocation.stdin);
  }
  const launchId = insertLaunch(store, {
    runId: run.runId,
    worktree: run.worktree?.name ?? null,
    worktreePath: run.cwd,
    branch: run.worktree?.branch ?? null,
    session: null,
    kind: agent.kind,
    model: run.model ?? null,
    agentSessionId: agent.sessionId,
    headless: true,
    launchDir: agent.launchDir,
    exitFile: files.exit,
    hooked: agent.hooked,
    prompted: true,
  });
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("/bin/sh", {
      args: [
        "-c",
        WRAPPER,
        "prj-agent",
        stdinFile,
        files.output,
        files.stderr,
        files.exit,
        files.pid,
        ...agent.invocation.argv,
      ],
      cwd: run.cwd,
      env: { ...Deno.env.toObject(), ...run.env, ...agent.env },
      stdin: "null",
      stdout: "null",
      stderr: "null",
      detached: true,
    }).spawn();
  } catch (error) {
    finishLaunch(store, launchId, 127, null, `could not start: ${(error as Error).message}`);
    throw error;
  }
  setLaunchProcess(store, launchId, child.pid, processStartTime(child.pid) ?? null);
  let exitStatus: Deno.CommandStatus | undefined;
  child.status.then((s) => (exitStatus = s));
  return await follow(store, getLaunch(store, launchId)!, {
    ...run,
    ended: () => exitStatus !== undefined,
    statusCode: () => exitStatus?.code ?? (exitStatus?.signal ? 128 + signalNumber(exitStatus.signal) : undefined),
  });
}

/**
 * Waits for a headless agent that a prj process which has died started (found with
 * {@link findLiveAgent}): streams its output from the start, and returns how it ended, as
 * {@link runHeadlessAgent} would have. Aborting the signal stops the agent.
 */
export async function waitForAgent(
  store: Store,
  launch: LaunchRecord,
  options: { timeoutMs?: number | undefined; signal?: AbortSignal | undefined; onLine: HeadlessRun["onLine"] },
): Promise<HeadlessOutcome> {
  return await follow(store, launch, {
    ...options,
    timeoutMs: options.timeoutMs,
    ended: () => launchProcess(store, launch) === "ended",
    statusCode: () => undefined,
  });
}

async function follow(
  store: Store,
  launch: LaunchRecord,
  o: {
    timeoutMs: number | undefined;
    signal?: AbortSignal | undefined;
    onLine: HeadlessRun["onLine"];
    ended: () => boolean;
    statusCode: () => number | undefined;
  },
): Promise<HeadlessOutcome> {
  const files = launchFiles(launch.launch_dir!);
  const out = tail(files.output, (line) => o.onLine(line, "stdout"));
  const err = tail(files.stderr, (line) => o.onLine(line, "stderr"));
  let stopped: "timeout" | "cancelled" | undefined;
  const pgid = Number(launch.pid);
  const stop = (why: "timeout" | "cancelled") => {
    if (stopped) return;
    stopped = why;
    killGroup(pgid, "SIGTERM");
    setTimeout(() => killGroup(pgid, "SIGKILL"), 2000);
  };
  const timer = o.timeoutMs === undefined ? undefined : setTimeout(() => stop("timeout"), o.timeoutMs);
  const onAbort = () => stop("cancelled");
  if (o.signal?.aborted) onAbort();
  o.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    while (!o.ended()) {
      out.read();
      err.read();
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener("abort", onAbort);
  }
  // The wrapper writes the exit file just before it ends.
  let code = readExitFile(files.exit) ?? o.statusCode();
  for (let i = 0; code === undefined && i < 10; i++) {
    await new Promise((r) => setTimeout(r, 50));
    code = readExitFile(files.exit);
  }
  out.read(true);
  err.read(true);
  const outcome = settle(store, launch, code ?? null);
  const exit = { code: code ?? 137, ...(stopped ? { stopped } : {}) };
  return { ...outcome, exit };
}

/**
 * Records how a headless agent ended, from its files: its exit code and the result in its
 * output (the fleet calls this for an agent whose prj process died).
 */
export function settle(
  store: Store,
  launch: LaunchRecord,
  code: number | null,
): { result: AgentResult | undefined; failure: string | undefined; refusedOnly: boolean; launchId: number } {
  const files = launchFiles(launch.launch_dir!);
  const kind = agentKind(launch.kind);
  const result = kind.parseHeadless(readLines(files.output));
  const stderrTail = readLines(files.stderr).filter((l) => l.trim() !== "").slice(-3);
  // Tool calls its hooks saw refused (Codex's sandbox refusals show nowhere else).
  ingestHookEvents(store, launch, kind);
  const refused = [
    ...new Set(
      hookEventsOf(store, launch.id).flatMap((e) => (e.detail?.startsWith("refused: ") ? [e.detail.slice(9)] : [])),
    ),
  ];
  const failure = code === null ? "agent was killed" : headlessFailure(code, result, stderrTail, refused);
  const reportedError = result !== undefined && (result.is_error || result.subtype !== "success");
  const refusedOnly = code === 0 && !reportedError && (result?.permission_denials.length ?? 0) + refused.length > 0;
  if (result?.session_id) setAgentSessionId(store, launch.id, result.session_id);
  finishLaunch(
    store,
    launch.id,
    code,
    result ? JSON.stringify(result) : null,
    `code ${code ?? "?"}${result ? `, ${result.subtype}, ${result.num_turns ?? "?"} turns` : ""}${
      failure ? `: ${failure}` : ""
    }`,
  );
  // What it used and cost, as it reported (recorded again, it counts once).
  recordUsage(store, getLaunch(store, launch.id) ?? launch, readText(files.output) ?? "");
  return { result, failure, refusedOnly, launchId: launch.id };
}

function tail(file: string, onLine: (line: string) => void): { read(final?: boolean): void } {
  let offset = 0;
  let buffer = "";
  const decoder = new TextDecoder();
  return {
    read(final = false) {
      let f: Deno.FsFile;
      try {
        f = Deno.openSync(file, { read: true });
      } catch {
        return;
      }
      try {
        f.seekSync(offset, Deno.SeekMode.Start);
        const chunk = new Uint8Array(64 * 1024);
        for (;;) {
          const n = f.readSync(chunk);
          if (n === null || n === 0) break;
          offset += n;
          buffer += decoder.decode(chunk.subarray(0, n), { stream: true });
        }
      } finally {
        f.close();
      }
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        onLine(buffer.slice(0, nl).replace(/\r$/, ""));
        buffer = buffer.slice(nl + 1);
      }
      if (final && buffer.length > 0) {
        onLine(buffer);
        buffer = "";
      }
    },
  };
}

function readText(file: string): string | undefined {
  try {
    return Deno.readTextFileSync(file);
  } catch {
    return undefined;
  }
}

function readLines(file: string): string[] {
  return (readText(file) ?? "").split("\n");
}

function killGroup(pgid: number, signal: Deno.Signal): void {
  if (!Number.isInteger(pgid) || pgid <= 1) return;
  try {
    Deno.kill(-pgid, signal);
  } catch { /* already gone */ }
}

function signalNumber(signal: Deno.Signal): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 0;
}
