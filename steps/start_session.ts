/** Built-in step `start-session`: a detached tmux session in the run's worktree. */
import type { BuiltinContext, StepResult } from "../lib/run/contract.ts";
import { createSession } from "../lib/workspace/sessions.ts";
import { getWorktree } from "../lib/workspace/worktrees/list.ts";

/** Starts (or reports the existing) session `<project>-<worktree>-<with.task>` in the run's worktree. */
export default async function startSession(ctx: BuiltinContext): Promise<StepResult> {
  const wt = ctx.resources.worktree;
  if (!wt) throw new Error("start-session needs a worktree: put create-worktree before it");
  const info = await getWorktree(ctx.project, wt.name, ctx.store);
  const task = typeof ctx.with.task === "string" ? ctx.with.task : undefined;
  const session = await createSession(
    ctx.project,
    { name: wt.name, path: wt.path, port: info.port ?? undefined },
    task,
    undefined,
    // Recorded as this run's before it is made, so a crash part way is torn down too.
    { beforeCreate: (name) => ctx.setSession(name, true) },
  );
  ctx.setSession(session.name, session.created);
  ctx.log(session.created ? `started tmux session ${session.name}` : `tmux session ${session.name} already exists`);
  return { output: session.name, data: { session: session.name, created: session.created } };
}
