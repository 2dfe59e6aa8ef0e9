/** `prj worktree prune`: worktrees whose folder is gone, and clean ones whose branch is merged. */
import type { Project } from "../../project/project.ts";
import { openStore } from "../../state/store.ts";
import { deleteWorktreeRecord } from "../../state/worktrees.ts";
import { gitMaybe, isMerged } from "../git.ts";
import { listWorktrees } from "./list.ts";
import { baseBranch } from "./names.ts";
import { removeWorktree } from "./remove.ts";

/** One thing `prune` does or would do. */
export interface PruneAction {
  name: string;
  path: string;
  branch: string | null;
  reason: "folder gone" | "branch merged";
}

/** Worktrees whose folder is gone, and clean managed worktrees whose branch is merged into its base. */
export async function pruneCandidates(project: Project): Promise<PruneAction[]> {
  const out: PruneAction[] = [];
  for (const wt of await listWorktrees(project)) {
    if (!wt.exists) out.push({ name: wt.name, path: wt.path, branch: wt.branch, reason: "folder gone" });
    else if (
      wt.managed && wt.dirty === false && wt.branch && wt.base && wt.ahead === 0 &&
      await isMerged(project.root, wt.branch, wt.base)
    ) {
      out.push({ name: wt.name, path: wt.path, branch: wt.branch, reason: "branch merged" });
    }
  }
  return out;
}

/** Carries out {@link pruneCandidates}. */
export async function pruneWorktrees(project: Project, actions: PruneAction[]): Promise<void> {
  const store = openStore(project.prjDir);
  try {
    for (const a of actions) {
      if (a.reason === "folder gone") {
        await gitMaybe(project.root, ["worktree", "prune"]);
        if (a.branch && (await isMerged(project.root, a.branch, await baseBranch(project)))) {
          await gitMaybe(project.root, ["branch", "-d", a.branch]);
        }
        deleteWorktreeRecord(store, a.name);
      } else {
        await removeWorktree(project, a.name, { store });
      }
    }
  } finally {
    store.close();
  }
}
