/** Built-in step `kill-session`: kills the run's tmux session. */
import type { BuiltinContext, StepResult } from "../lib/run/contract.ts";
import { killSession } from "../lib/workspace/sessions.ts";

/** Kills the run's session (or `with.name`). */
export default async function killSessionStep(ctx: BuiltinContext): Promise<StepResult> {
  const name = typeof ctx.with.name === "string" ? ctx.with.name : ctx.resources.session;
  if (!name) throw new Error("kill-session: this run has no session (and no with.name)");
  await killSession(ctx.project, name);
  ctx.resourceRemoved("session", name);
  return { output: `killed ${name}` };
}
