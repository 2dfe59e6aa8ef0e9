/**
 * Reconciling after a crash: the work a dead prj process left in the journal (see
 * lib/state/journal.ts) is finished or undone, each with one line saying what was found and
 * done. A half-made worktree is taken apart (so its name can be created again) unless its
 * branch already has commits; a half-done removal is finished; a run whose prj died is recorded
 * as `interrupted`, its session and worktree are removed as a failed run's are (a worktree with
 * work is kept, and said so), and its run.json is written again from the database.
 *
 * The CLI runs this before every command that touches worktrees or runs, and `prj doctor`
 * runs it on demand.
 */
import * as path from "../util/path.ts";
import type { Project } from "../project/project.ts";
import type { Store } from "../state/store.ts";
import { type Intent, type IntentKind, type IntentRecord, orphanIntents } from "../state/journal.ts";
import { getRun, interruptRun } from "../state/runs.ts";
import { activeLaunches } from "../state/launches.ts";
import { killProcessGroup, processAlive, processesWithEnv, stopProcesses } from "../util/liveness.ts";
import { teardownRun } from "../run/teardown.ts";
import { rewriteRunJson } from "../run/run_json.ts";
import { finishRemove, undoCreate } from "./worktrees/undo.ts";

/** One thing the reconciler found and what it did. */
export interface Repair {
  /** What the dead process was doing. */
  kind: IntentKind;
  /** The worktree or run it was about. */
  subject: string;
  /** `undone`, `finished`, `kept` (work was found), or `failed` (left for the next command). */
  outcome: "undone" | "finished" | "kept" | "failed";
  /** One line for the user. */
  message: string;
}

/** The agent runner's runs (one per task). */
const AGENT_TASK = "agent-task";

function who(rec: IntentRecord): string {
  return `a prj process (pid ${rec.pid}) died while`;
}

/**
 * Finishes or undoes what dead prj processes left half-made. Work whose process still runs is
 * not touched; two prj processes reconciling at once each take different work.
 *
 * @param project the project
 * @param store an open store
 * @param onRepair told each repair as it is made
 * @returns what was found and done
 */
export async function reconcile(
  project: Project,
  store: Store,
  onRepair: (repair: Repair) => void = () => {},
): Promise<Repair[]> {
  const repairs: Repair[] = [];
  // Worktrees first: a run's teardown then finds each of its worktrees whole or gone.
  const orphans = orphanIntents(project.prjDir);
  const order = (i: Intent) => (i.record.kind === "run" ? 1 : 0);
  for (const intent of orphans.sort((a, b) => order(a) - order(b))) {
    let repair: Repair;
    try {
      repair = await handle(project, store, intent);
      intent.done();
    } catch (error) {
      intent.abandon();
      repair = {
        kind: intent.record.kind,
        subject: intent.record.name ?? intent.record.runId ?? intent.record.id,
        outcome: "failed",
        message: `could not repair what ${who(intent.record)} ${describe(intent.record)}: ${
          (error as Error).message
        } (the next prj command tries again)`,
      };
    }
    repairs.push(repair);
    onRepair(repair);
  }
  return repairs;
}

/** `a, b and c`. */
function listed(parts: string[]): string {
  return parts.length <= 1 ? parts.join("") : `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;
}

function describe(rec: IntentRecord): string {
  switch (rec.kind) {
    case "worktree-create":
      return `creating worktree ${rec.name}`;
    case "worktree-remove":
      return `removing worktree ${rec.name}`;
    case "run":
      return `running run ${rec.runId}`;
  }
}

async function handle(project: Project, store: Store, intent: Intent): Promise<Repair> {
  const rec = intent.record;
  switch (rec.kind) {
    case "worktree-create": {
      const done = await undoCreate(project, store, rec);
      if (done.kept) {
        return {
          kind: rec.kind,
          subject: rec.name!,
          outcome: "kept",
          message: `kept worktree ${rec.name} that ${who(rec)} creating it: ${done.kept}`,
        };
      }
      const parts = [
        done.stoppedSetup ? "stopped its setup command" : undefined,
        done.killedSession ? `killed session ${rec.session}` : undefined,
        done.removedFolder ? "removed its folder" : undefined,
        done.deletedBranch ? `deleted branch ${rec.branch}` : undefined,
        done.removedRow ? "forgot its database row and port slot" : undefined,
      ].filter((p): p is string => p !== undefined);
      return {
        kind: rec.kind,
        subject: rec.name!,
        outcome: "undone",
        message: `undid worktree ${rec.name}, which ${who(rec)} creating it: ${
          parts.length > 0 ? listed(parts) : "nothing of it was left"
        }`,
      };
    }
    case "worktree-remove": {
      const done = await finishRemove(project, store, rec);
      return {
        kind: rec.kind,
        subject: rec.name!,
        outcome: "finished",
        message: `finished removing worktree ${rec.name}${
          done.deletedBranch ? ` and branch ${rec.branch}` : ""
        }, which ${who(rec)} removing it`,
      };
    }
    case "run":
      return await reconcileRun(project, store, rec);
  }
}

async function reconcileRun(project: Project, store: Store, rec: IntentRecord): Promise<Repair> {
  const runId = rec.runId!;
  const run = getRun(store, runId);
  if (!run || run.id !== runId) {
    // It died before its row was written: only a folder can be left.
    const dir = path.join(project.prjDir, "artifacts", runId);
    let removed = false;
    try {
      Deno.removeSync(dir, { recursive: true });
      removed = true;
    } catch { /* none */ }
    return {
      kind: "run",
      subject: runId,
      outcome: "undone",
      message: `run ${runId} was never recorded (${who(rec)} starting it)${
        removed ? `: removed its folder ${dir}` : ""
      }`,
    };
  }
  // Still `running`: interrupted now (opening the store may have marked it so already).
  interruptRun(store, runId);
  const status = getRun(store, runId)?.status ?? run.status;
  const notes: string[] = [];
  // The agent runner's task runs are its own to resume (their lock, worktree and agent stay for
  // it); any other run's programs (its `run:` steps, a headless agent it launched) stop with it.
  if (run.command !== AGENT_TASK && status !== "succeeded") {
    const programs = processesWithEnv("PRJ_RUN_ID", runId);
    await stopProcesses(programs);
    let agents = 0;
    for (const l of activeLaunches(store)) {
      if (l.run_id !== runId || l.pid === null || !processAlive(Number(l.pid), l.pid_start)) continue;
      if (await killProcessGroup(Number(l.pid), l.pid_start)) agents++;
    }
    if (programs.length + agents > 0) {
      notes.push(`stopped ${
        [programs.length ? `${programs.length} program(s)` : "", agents ? `${agents} agent(s)` : ""]
          .filter(Boolean).join(" and ")
      } it had started`);
    }
  }
  // A run that succeeded keeps what it made (that is where the work lives).
  const result = status === "succeeded" || run.command === AGENT_TASK
    ? { sessions: [], removed: [], kept: [] }
    : await teardownRun(project, store, runId, (m) => notes.push(m), "");
  let json = "";
  try {
    rewriteRunJson(store, runId);
  } catch (error) {
    json = `; could not write its run.json: ${(error as Error).message}`;
  }
  const what = status === "interrupted"
    ? `was interrupted (${who(rec)} running it)`
    : `${status}; its record was finished (its prj process, pid ${rec.pid}, left it incomplete)`;
  return {
    kind: "run",
    subject: runId,
    outcome: result.kept.length > 0 ? "kept" : "finished",
    message: `run ${runId} (${run.command}) ${what}${notes.length > 0 ? `: ${notes.join("; ")}` : ""}${json}`,
  };
}
