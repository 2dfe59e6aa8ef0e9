/**
 * `prj fleet restore`: after a reboot or a killed tmux server, every agent that was live
 * (working, waiting for input or idle when last seen) is started again in its worktree and
 * its own session with its conversation resumed, one by one through {@link resumeLaunch};
 * what cannot come back is named with the reason.
 */
import type { Project } from "../../project/project.ts";
import type { Store } from "../../state/store.ts";
import { getLaunch, lastSeenState } from "../../state/launches.ts";
import { exists } from "../../util/fs.ts";
import { agentKind } from "../kinds.ts";
import { resumeLaunch } from "./resume.ts";
import { type FleetRow, sampleFleet } from "./sample.ts";

/** An agent restore looked at. */
export interface RestoreItem {
  /** The launch it restores (the new launch replaces it in the fleet). */
  launchId: number;
  worktree: string | null;
  worktreePath: string;
  branch: string | null;
  /** Its tmux session (the same name is created again). */
  session: string | null;
  /** The agent kind. */
  agent: string;
  model: string | null;
  headless: boolean;
  /** The conversation it continues. */
  agentSessionId: string | null;
  /** What it was doing when last seen: `working`, `waiting for input` or `idle`. */
  lastState: string;
}

/** What `prj fleet restore` did (or, with `dryRun`, would do). */
export interface RestoreReport {
  /** Whether nothing was started. */
  dryRun: boolean;
  /** Agents brought back (or that would be): each with its session and new launch. */
  restored: (RestoreItem & { newSession: string | null; created: boolean; newLaunchId: number | null })[];
  /** Agents that could not come back, each with why. */
  failed: (RestoreItem & { reason: string })[];
  /** Agents that are live now and were left alone. */
  live: RestoreItem[];
}

const LIVE = new Set(["working", "waiting for input", "idle"]);

function itemOf(row: FleetRow, lastState: string): RestoreItem {
  return {
    launchId: row.id,
    worktree: row.worktree,
    worktreePath: row.worktreePath,
    branch: row.branch,
    session: row.session,
    agent: row.agent,
    model: row.model,
    headless: row.headless,
    agentSessionId: row.agentSessionId,
    lastState,
  };
}

/** Why an agent cannot be resumed, or undefined when it can. */
function cannot(item: RestoreItem): string | undefined {
  if (!agentKind(item.agent).resumes) return `agent kind "${item.agent}" cannot resume a conversation`;
  if (!item.agentSessionId) return "no conversation id was recorded for it";
  if (!exists(item.worktreePath)) return `its worktree is gone (${item.worktreePath})`;
  return undefined;
}

/**
 * Restores every agent of the fleet that was live when last seen and is gone now (its
 * session, tmux server or process vanished): each in its worktree, in a session of its own
 * (its old session's name, created again), with its conversation resumed (Claude Code
 * `--resume <id>`, Codex `resume <id>`, Gemini CLI `--resume <id>`). Agents still live are
 * left alone; an agent that cannot be resumed (its kind has no resume, no conversation id
 * was recorded, its worktree is gone, the launch failed) is reported with the reason.
 *
 * @param options `dryRun`: only say what would be done
 */
export async function restoreFleet(
  project: Project,
  store: Store,
  options: { dryRun?: boolean | undefined } = {},
): Promise<RestoreReport> {
  const dryRun = options.dryRun === true;
  // One sample first, so an agent whose session died reads gone (and a live one live).
  const { rows } = await sampleFleet(project, store, { withGit: false });
  const report: RestoreReport = { dryRun, restored: [], failed: [], live: [] };
  for (const row of rows) {
    if (LIVE.has(row.state)) {
      report.live.push(itemOf(row, row.state));
      continue;
    }
    if (row.state !== "gone") continue;
    const last = lastSeenState(store, row.id);
    if (last === undefined || !LIVE.has(last)) continue;
    const item = itemOf(row, last);
    const why = cannot(item);
    if (why) {
      report.failed.push({ ...item, reason: why });
      continue;
    }
    if (dryRun) {
      report.restored.push({ ...item, newSession: item.session, created: true, newLaunchId: null });
      continue;
    }
    try {
      const r = await resumeLaunch(project, store, getLaunch(store, row.id)!);
      report.restored.push({ ...item, newSession: r.session, created: r.created, newLaunchId: r.launchId });
    } catch (error) {
      report.failed.push({ ...item, reason: (error as Error).message });
    }
  }
  return report;
}
