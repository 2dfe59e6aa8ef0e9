/** Worktree names and places: what a name may be, where worktrees go, which branch they start from. */
import * as path from "../../util/path.ts";
import type { Project } from "../../project/project.ts";
import { UsageError } from "../../util/errors.ts";
import { defaultBranchOf } from "../git.ts";

/**
 * Checks a worktree name: no path separators, no `..`, usable as a git ref component.
 *
 * @throws {UsageError} naming what is wrong
 */
export function checkWorktreeName(name: string): void {
  if (name === "") throw new UsageError("Worktree name is empty");
  if (name.includes("/") || name.includes("\\")) {
    throw new UsageError(`Worktree name "${name}" contains a path separator; use a plain name like "login-form"`);
  }
  if (name.includes("..")) throw new UsageError(`Worktree name "${name}" contains ".."; use a plain name`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name.endsWith(".lock") || name.endsWith(".")) {
    throw new UsageError(
      `Worktree name "${name}" is not valid; use letters, digits, ".", "_" and "-", starting with a letter or digit`,
    );
  }
}

/** The folder worktrees go in: config `worktree.dir`, else the sibling `<repo>.worktrees`. */
export function worktreeDir(project: Project): string {
  const configured = project.config.worktree.dir;
  if (configured) return path.resolve(project.root, configured);
  return path.join(path.dirname(project.root), `${path.basename(project.root)}.worktrees`);
}

/**
 * Removes the default worktrees folder (`<repo>.worktrees`, which prj makes) once its last
 * worktree is gone; a folder the config names (`worktree.dir`) is the user's and stays. Only an
 * empty folder is removed; a `git worktree add` at the same moment makes it again.
 */
export function removeEmptyWorktreeDir(project: Project): void {
  if (project.config.worktree.dir) return;
  try {
    Deno.removeSync(worktreeDir(project));
  } catch { /* not empty, or gone */ }
}

/** The base branch of new worktrees: config `worktree.base`, else the repository's default branch. */
export async function baseBranch(project: Project): Promise<string> {
  return project.config.worktree.base ?? await defaultBranchOf(project.root);
}
