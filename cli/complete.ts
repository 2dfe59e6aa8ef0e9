/**
 * Names for shell completion (`prj __complete`): commands, worktrees, sessions. Each answers
 * nothing rather than fail, so a completion never prints an error into the user's prompt.
 */
import * as path from "../lib/util/path.ts";
import { openProject, type Project } from "../lib/project/project.ts";
import { exists } from "../lib/util/fs.ts";
import { commandNames as projectCommandNames } from "../lib/definitions/loader.ts";
import { openStore } from "../lib/state/store.ts";
import { listWorktreeRecords } from "../lib/state/worktrees.ts";
import { listSessions } from "../lib/workspace/sessions.ts";

async function quietly(names: (project: Project) => string[] | Promise<string[]>, partial: string): Promise<string[]> {
  try {
    const all = await names(await openProject());
    return [...new Set(all)].filter((n) => n.startsWith(partial)).sort();
  } catch {
    return [];
  }
}

/** The project's commands (its own and the templates). */
export function commands(partial: string): Promise<string[]> {
  return quietly(projectCommandNames, partial);
}

/** The worktrees prj made (from its database: no git call per worktree). */
export function worktrees(partial: string): Promise<string[]> {
  return quietly((project) => {
    if (!exists(path.join(project.prjDir, "state.db"))) return []; // never create the database to complete a word
    const store = openStore(project.prjDir);
    try {
      return listWorktreeRecords(store).map((w) => w.name);
    } finally {
      store.close();
    }
  }, partial);
}

/** The project's tmux sessions. */
export function sessions(partial: string): Promise<string[]> {
  return quietly(async (project) => (await listSessions(project)).map((s) => s.name), partial);
}
