/** Built-in step `kill-session`: kills the run's tmux session. */
import type { BuiltinContext, StepResult } from "../lib/types.ts";

/** Kills the run's session (or `with.name`). */
export default async function killSessionStep(ctx: BuiltinContext): Promise<StepResult> {
  const name = typeof ctx.with.name === "string" ? ctx.with.name : ctx.resources.session;
  if (!name) throw new Error("kill-session: this run has no session (and no with.name)");
  const { killSession } = await import("../lib/sessions.ts");
  await killSession(ctx.project, name);
  ctx.store.removeResource(ctx.run.id, "session", name);
  return { output: `killed ${name}` };
}
