/** Whether a process recorded earlier (pid and kernel start time) is still the same running process. */

/**
 * The kernel's start time of a process (field 22 of `/proc/<pid>/stat`), so a reused pid
 * is not mistaken for the process that recorded it. Undefined when it is not running or
 * the system has no /proc.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Field 22, counted after the parenthesised command name (which may hold spaces).
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[19];
  } catch {
    return undefined;
  }
}

/** Whether the process that recorded (pid, start time) on this host is still running. */
export function processAlive(pid: number, start: string | null): boolean {
  if (Deno.build.os === "linux") {
    const current = processStartTime(pid);
    return current !== undefined && (start === null || current === start);
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
