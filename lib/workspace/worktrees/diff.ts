/** `prj worktree diff`: what a worktree changed against its base. */
import type { Project } from "../../project/project.ts";
import { PrjError } from "../../util/errors.ts";
import { git } from "../git.ts";
import { getWorktree } from "./list.ts";
import { baseBranch } from "./names.ts";

/** What a worktree changed against its base (committed and uncommitted), as a patch. */
export async function diffWorktree(project: Project, name: string, stat = false): Promise<string> {
  const wt = await getWorktree(project, name);
  if (!wt.exists) throw new PrjError(`Worktree "${name}" has no folder at "${wt.path}"`);
  const base = wt.base ?? await baseBranch(project);
  const where = { project: project.root, worktree: wt.path };
  const mergeBase = (await git(where, ["merge-base", base, "HEAD"], "git merge-base")).trim();
  return await git(where, ["diff", "--no-ext-diff", ...(stat ? ["--stat"] : []), mergeBase], "git diff");
}
