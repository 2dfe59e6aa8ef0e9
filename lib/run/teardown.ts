/**
 * Teardown: what a run that did not succeed leaves behind is removed in reverse order of
 * creation: its session, then its worktree and branch, and only what this run created.
 */
import type { Project } from "../project/project.ts";
import { importLazy } from "../util/lazy.ts";
import type { RunSession } from "./session.ts";

/**
 * Removes the session and worktree the run created; a failure to remove one is reported,
 * never thrown.
 *
 * @param notice told what was removed, or what could not be
 */
export async function teardown(
  project: Project,
  session: RunSession,
  notice: (message: string) => void,
): Promise<void> {
  const { resources, created } = session;
  // The workspace modules are loaded only when there is something to remove.
  if (resources.session && created.session) {
    try {
      const { killSession } = await importLazy<typeof import("../workspace/sessions.ts")>(
        "../workspace/sessions.ts",
        import.meta.url,
      );
      await killSession(project, resources.session);
      session.resourceRemoved("session", resources.session);
      notice(`removed session ${resources.session} (the run did not succeed)`);
    } catch (e) {
      notice(`could not remove session ${resources.session}: ${(e as Error).message}`);
    }
  }
  if (resources.worktree && created.worktree) {
    try {
      const { removeWorktree } = await importLazy<typeof import("../workspace/worktrees/remove.ts")>(
        "../workspace/worktrees/remove.ts",
        import.meta.url,
      );
      await removeWorktree(project, resources.worktree.name, { force: true, keepBranch: false, store: session.store });
      session.resourceRemoved("worktree", resources.worktree.name);
      notice(
        `removed worktree ${resources.worktree.name} and branch ${resources.worktree.branch} (the run did not succeed)`,
      );
    } catch (e) {
      notice(`could not remove worktree ${resources.worktree.name}: ${(e as Error).message}`);
    }
  }
}
