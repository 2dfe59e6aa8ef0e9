/**
 * `prj cleanup`: which old runs may go with their artifacts and their agents' launch folders,
 * and which old launches of no run (a resumed agent, a message to one) may lose their folder. A
 * run or launch whose agent still works, or whose tmux session is still open, is kept (its
 * prompt, logs and record are in use), and the reason is given.
 */
import type { Project } from "../project/project.ts";
import type { Store } from "../state/store.ts";
import type { RunRecord } from "../state/runs.ts";
import { activeLaunches, type LaunchRecord, runlessLaunchesBefore } from "../state/launches.ts";
import { processAlive } from "../util/liveness.ts";
import { listSessions } from "../workspace/sessions.ts";
import { runsOlderThan } from "./history.ts";

/** What `prj cleanup` deletes, and the old runs it keeps. */
export interface RunCleanupPlan {
  /** The runs to delete (finished, started before the cutoff). */
  runs: RunRecord[];
  /** Old runs kept, with why. */
  kept: { id: string; command: string; why: string }[];
  /** Launches of no run, made before the cutoff, whose folder is deleted (their agent ended, their session closed). */
  launches: LaunchRecord[];
}

/**
 * The finished runs started before `cutoff` that may be deleted, and those kept because their
 * agent or session is alive.
 */
export async function planRunCleanup(project: Project, store: Store, cutoff: Date): Promise<RunCleanupPlan> {
  const old = runsOlderThan(store, cutoff);
  const runless = runlessLaunchesBefore(store, cutoff.toISOString());
  if (old.length === 0 && runless.length === 0) return { runs: [], kept: [], launches: [] };
  const agents = new Map<string, { pid: number; kind: string }>();
  for (const l of activeLaunches(store)) {
    if (l.run_id && l.pid !== null && processAlive(Number(l.pid), l.pid_start)) {
      agents.set(l.run_id, { pid: Number(l.pid), kind: l.kind });
    }
  }
  let sessions = new Set<string>();
  try {
    sessions = new Set((await listSessions(project)).map((s) => s.name));
  } catch { /* no tmux: no sessions */ }
  const plan: RunCleanupPlan = { runs: [], kept: [], launches: [] };
  for (const run of old) {
    const agent = agents.get(run.id);
    if (agent) {
      plan.kept.push({
        id: run.id,
        command: run.command,
        why: `its agent (${agent.kind}, pid ${agent.pid}) is running`,
      });
    } else if (run.session && sessions.has(run.session)) {
      plan.kept.push({ id: run.id, command: run.command, why: `its session ${run.session} is open` });
    } else plan.runs.push(run);
  }
  for (const l of runless) {
    const alive = l.pid !== null && processAlive(Number(l.pid), l.pid_start);
    if (!alive && !(l.session && sessions.has(l.session))) plan.launches.push(l);
  }
  return plan;
}
