/**
 * Whether a process recorded earlier (pid and kernel start time) is still the same running
 * process. A zombie (it exited and its parent has not reaped it yet, as under a container
 * init that never reaps) is dead: it runs nothing and will never finish its work.
 */

/** What `/proc/<pid>/stat` says of a process: its state letter and kernel start time. */
function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the parenthesised command name (which may hold spaces and parentheses):
    // field 3 is the state, field 22 the start time.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const state = rest[0];
    const start = rest[19];
    return state === undefined || start === undefined ? undefined : { state, start };
  } catch {
    return undefined;
  }
}

/**
 * The kernel's start time of a process (field 22 of `/proc/<pid>/stat`), so a reused pid
 * is not mistaken for the process that recorded it. Undefined when it is not running (or is
 * a zombie) or the system has no /proc.
 */
export function processStartTime(pid: number): string | undefined {
  const stat = procStat(pid);
  return stat === undefined || isDeadState(stat.state) ? undefined : stat.start;
}

/** `Z` (zombie) and `X`/`x` (dead): the process has exited, whatever its parent does. */
function isDeadState(state: string): boolean {
  return state === "Z" || state === "X" || state === "x";
}

/** Whether the process that recorded (pid, start time) on this host is still running (a zombie is not). */
export function processAlive(pid: number, start: string | null): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (Deno.build.os === "linux") {
    const stat = procStat(pid);
    if (stat === undefined || isDeadState(stat.state)) return false;
    return start === null || stat.start === start;
  }
  try {
    const out = new Deno.Command("kill", { args: ["-0", String(pid)], stdout: "null", stderr: "null" }).outputSync();
    return out.success;
  } catch {
    return true;
  }
}

/** This process's pid, start time and host, as recorded with runs, agents and headless launches. */
export function thisProcess(): { pid: number; pidStart: string | null; host: string } {
  return { pid: Deno.pid, pidStart: processStartTime(Deno.pid) ?? null, host: Deno.hostname() };
}

/**
 * Stops a process group prj started (a step's program, a setup command) and every process in
 * it: SIGTERM, then SIGKILL after `graceMs` if any is left. Only when its leader is still the
 * recorded process (pid and start time), so a reused pid is never signalled.
 *
 * @returns whether the group was still there to stop
 */
export async function killProcessGroup(pid: number, start: string | null, graceMs = 2000): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  // A leader with another start time is a new process that reused the pid: not ours. A group
  // whose leader exited keeps its id while any member runs, so the members are still ours.
  const leader = processStartTime(pid);
  if (start !== null && leader !== undefined && leader !== start) return false;
  if (!groupAlive(pid)) return false;
  signalGroup(pid, "SIGTERM");
  const until = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  if (groupAlive(pid)) signalGroup(pid, "SIGKILL");
  return true;
}

function signalGroup(pgid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(-pgid, signal);
  } catch { /* the group is gone */ }
}

/** Whether any live (not zombie) process is in process group `pgid`. */
export function groupAlive(pgid: number): boolean {
  if (Deno.build.os !== "linux") {
    try {
      Deno.kill(-pgid, "SIGCONT");
      return true;
    } catch {
      return false;
    }
  }
  let entries: Iterable<Deno.DirEntry>;
  try {
    entries = Deno.readDirSync("/proc");
  } catch {
    return false;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // Field 5 is the process group.
      if (Number(rest[2]) === pgid && !isDeadState(rest[0] ?? "")) return true;
    } catch { /* it ended while we looked */ }
  }
  return false;
}

/**
 * The live processes named `command` (e.g. `git`) whose command line mentions `needle` (a
 * worktree's path): a git that a killed prj started may still be at work there.
 */
export function processesMentioning(command: string, needle: string): number[] {
  if (Deno.build.os !== "linux") return [];
  let entries: Iterable<Deno.DirEntry>;
  try {
    entries = Deno.readDirSync("/proc");
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry.name) || Number(entry.name) === Deno.pid) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${entry.name}/comm`).trim() !== command) continue;
      const argv = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0");
      const stat = procStat(Number(entry.name));
      if (stat === undefined || isDeadState(stat.state)) continue;
      if (argv.some((a) => a === needle || a.startsWith(needle + "/"))) out.push(Number(entry.name));
    } catch { /* it ended while we looked */ }
  }
  return out;
}

/** Waits up to `ms` for those processes to end, then kills the ones left (SIGKILL). */
export async function waitOrKill(pids: readonly number[], ms: number): Promise<void> {
  // One look at each process: it can end between two.
  const alive = () =>
    pids.filter((p) => {
      const stat = procStat(p);
      return stat !== undefined && !isDeadState(stat.state);
    });
  const until = Date.now() + ms;
  while (alive().length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  for (const pid of alive()) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone */ }
  }
}

/**
 * The live processes whose environment has `name=value` (e.g. `PRJ_RUN_ID=<run>`: the programs
 * a run's steps started, and what they started in turn). Only processes this user may read.
 */
export function processesWithEnv(name: string, value: string): number[] {
  if (Deno.build.os !== "linux") return [];
  let entries: Iterable<Deno.DirEntry>;
  try {
    entries = Deno.readDirSync("/proc");
  } catch {
    return [];
  }
  const want = `${name}=${value}`;
  const out: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry.name) || Number(entry.name) === Deno.pid) continue;
    try {
      const environ = Deno.readTextFileSync(`/proc/${entry.name}/environ`);
      if (!environ.split("\0").includes(want)) continue;
      const stat = procStat(Number(entry.name));
      if (stat !== undefined && !isDeadState(stat.state)) out.push(Number(entry.name));
    } catch { /* not ours to read, or it ended */ }
  }
  return out;
}

/** Stops processes: SIGTERM, then SIGKILL for any still there after `graceMs`. */
export async function stopProcesses(pids: readonly number[], graceMs = 2000): Promise<void> {
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGTERM");
    } catch { /* gone */ }
  }
  await waitOrKill(pids, graceMs);
}
