/** The project's worktree lock, so parallel prj processes take turns at `git worktree add` and `remove`. */
import * as path from "node:path";
import type { Project } from "../../project/project.ts";

/**
 * Runs `fn` holding the project's worktree lock (an flock on `.prj/worktrees.lock`, freed
 * by the OS if the process dies). git's own `worktree add` reads the other worktrees'
 * admin files and fails when another process is half-way through adding one, so prj
 * processes (parallel agents) take turns for the short git part.
 */
export async function withWorktreeLock<T>(project: Project, fn: () => Promise<T>): Promise<T> {
  const file = await Deno.open(path.join(project.prjDir, "worktrees.lock"), { create: true, write: true });
  try {
    await file.lock(true);
    return await fn();
  } finally {
    try {
      await file.unlock();
    } catch { /* closing releases it too */ }
    file.close();
  }
}
