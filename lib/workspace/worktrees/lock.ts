/** The project's worktree lock, so parallel prj processes take turns at `git worktree add` and `remove`. */
import * as path from "../../util/path.ts";
import type { Project } from "../../project/project.ts";

/** Runs `fn` holding an flock on `file` (created if missing, freed by the OS if the process dies). */
export async function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const handle = await Deno.open(file, { create: true, write: true });
  try {
    await handle.lock(true);
    return await fn();
  } finally {
    try {
      await handle.unlock();
    } catch { /* closing releases it too */ }
    handle.close();
  }
}

/**
 * Runs `fn` holding the project's worktree lock (an flock on `.prj/worktrees.lock`). git's own
 * `worktree add` reads the other worktrees' admin files and fails when another process is half-way
 * through adding one, so prj processes (parallel agents) take turns for the short git part.
 */
export function withWorktreeLock<T>(project: Project, fn: () => Promise<T>): Promise<T> {
  return withFileLock(path.join(project.prjDir, "worktrees.lock"), fn);
}
