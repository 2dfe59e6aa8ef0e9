/**
 * `prj worktree prune`: worktrees whose folder is gone, and clean ones whose branch is merged.
 * It never touches a worktree whose session or agent is alive, that a prj process is creating
 * or removing, or that holds work not on its base; "merged" means the branch has commits of its
 * own and every one is in the base (a brand-new branch is not merged, it is empty). A worktree
 * it leaves alone that might look prunable is named with the reason.
 */
import type { Project } from "../../project/project.ts";
import { openStore, type Store } from "../../state/store.ts";
import { deleteWorktreeRecord } from "../../state/worktrees.ts";
import { liveHeadlessLaunchIn } from "../../state/launches.ts";
import { liveIntents } from "../../state/journal.ts";
import { processAlive } from "../../util/liveness.ts";
import { branchExists, gitMaybe, isMerged } from "../git.ts";
import { listSessions, sessionBusy, type SessionInfo } from "../sessions.ts";
import { listWorktrees, type WorktreeInfo } from "./list.ts";
import { baseBranch, removeEmptyWorktreeDir } from "./names.ts";
import { removeWorktree } from "./remove.ts";
import { describeWork, detachedCommits, worktreeWork } from "./work.ts";

/** One thing `prune` does or would do. */
export interface PruneAction {
  name: string;
  path: string;
  branch: string | null;
  reason: "folder gone" | "branch merged";
  /** Set once pruned, when its branch stays: why (its commits are not in the base). */
  keptBranch?: string | undefined;
}

/** A worktree `prune` leaves alone, and why. */
export interface PruneRefusal {
  name: string;
  path: string;
  /** Why it is kept, in words. */
  why: string;
}

/** What `prune` would do. */
export interface PrunePlan {
  /** The worktrees to prune. */
  prune: PruneAction[];
  /** The worktrees that are gone or merged-looking but kept, with why. */
  refused: PruneRefusal[];
}

/** What keeps a worktree alive: a prj process at work on it, its session, its agent. */
async function aliveReason(
  project: Project,
  store: Store,
  wt: WorktreeInfo,
  sessions: SessionInfo[],
): Promise<string | undefined> {
  const busy = liveIntents(project.prjDir, ["worktree-create", "worktree-remove"]).find((i) =>
    i.path === wt.path || i.name === wt.name
  );
  if (busy) {
    return `a prj process (pid ${busy.pid}) is ${busy.kind === "worktree-create" ? "creating" : "removing"} it`;
  }
  const launch = liveHeadlessLaunchIn(store, wt.path);
  if (launch && launch.pid !== null && processAlive(Number(launch.pid), launch.pid_start)) {
    return `its agent (${launch.kind}, pid ${launch.pid}) is running`;
  }
  for (const s of sessions.filter((s) => s.path === wt.path)) {
    const running = await sessionBusy(s.name);
    return running
      ? `its session ${s.name} is running ${running.command} (pid ${running.pid})`
      : `its session ${s.name} is open; \`prj session kill ${s.name}\` first`;
  }
  return undefined;
}

/**
 * Which worktrees prune removes, and which it leaves alone and why.
 *
 * @param project the project
 * @param only only this worktree (to check one again just before it is pruned)
 */
export async function planPrune(project: Project, only?: string, store?: Store): Promise<PrunePlan> {
  const s = store ?? openStore(project.prjDir);
  try {
    let sessions: SessionInfo[] = [];
    try {
      sessions = await listSessions(project);
    } catch { /* no tmux: no sessions */ }
    const plan: PrunePlan = { prune: [], refused: [] };
    for (const wt of await listWorktrees(project, s)) {
      if (only !== undefined && wt.name !== only) continue;
      const refuse = (why: string) => plan.refused.push({ name: wt.name, path: wt.path, why });
      if (!wt.exists) {
        const alive = await aliveReason(project, s, wt, sessions);
        const detached = await detachedCommits(project.root, wt.head, wt.branch);
        if (alive) refuse(alive);
        else if (detached !== 0) {
          refuse(`git still records ${detached ?? "maybe some"} commit(s) on its detached HEAD that no branch holds`);
        } else plan.prune.push({ name: wt.name, path: wt.path, branch: wt.branch, reason: "folder gone" });
        continue;
      }
      if (!wt.managed || !wt.branch || !wt.base) continue;
      // Only worktrees whose branch adds nothing to the base look prunable; the rest are plainly not.
      if (wt.ahead !== 0 && wt.ahead !== null) continue;
      const work = await worktreeWork(project, wt);
      if (work.commits === 0) {
        refuse("its branch has no commits of its own (a new worktree, not a merged one)");
        continue;
      }
      // Its commits are all in the base (ahead 0); what else it holds is uncommitted.
      const held = describeWork({
        changes: work.changes,
        commits: work.commits === undefined ? undefined : 0,
        detached: work.detached,
      });
      if (held) {
        refuse(held);
        continue;
      }
      if (!(await isMerged(project.root, wt.branch, wt.base))) continue;
      const alive = await aliveReason(project, s, wt, sessions);
      if (alive) refuse(alive);
      else plan.prune.push({ name: wt.name, path: wt.path, branch: wt.branch, reason: "branch merged" });
    }
    return plan;
  } finally {
    if (!store) s.close();
  }
}

/** Worktrees whose folder is gone, and clean managed worktrees whose branch is merged into its base. */
export async function pruneCandidates(project: Project): Promise<PruneAction[]> {
  return (await planPrune(project)).prune;
}

/**
 * Carries out a plan, checking each worktree again just before it goes (an agent may have
 * started meanwhile).
 *
 * @returns what was pruned, and what was kept after all, with why
 */
export async function pruneWorktrees(project: Project, actions: PruneAction[]): Promise<PrunePlan> {
  const store = openStore(project.prjDir);
  const done: PrunePlan = { prune: [], refused: [] };
  try {
    for (const a of actions) {
      const now = await planPrune(project, a.name, store);
      const still = now.prune.find((p) => p.name === a.name && p.path === a.path);
      if (!still) {
        done.refused.push(
          ...(now.refused.length > 0 ? now.refused : [{ name: a.name, path: a.path, why: "it changed meanwhile" }]),
        );
        continue;
      }
      if (still.reason === "folder gone") {
        await gitMaybe(project.root, ["worktree", "prune"]);
        if (still.branch && (await branchExists(project.root, still.branch))) {
          const base = await baseBranch(project);
          if (await isMerged(project.root, still.branch, base)) {
            await gitMaybe(project.root, ["branch", "-d", still.branch]);
          } else still.keptBranch = `it has commits that are not in ${base}`;
        }
        deleteWorktreeRecord(store, still.name, still.path);
        removeEmptyWorktreeDir(project);
      } else {
        await removeWorktree(project, still.name, { store });
      }
      done.prune.push(still);
    }
  } finally {
    store.close();
  }
  return done;
}
