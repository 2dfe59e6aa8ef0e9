/** Built-in step `launch-agent`: renders the prompt and starts the coding agent (in the session, or headless). */
import type { BuiltinContext, StepResult } from "../lib/run/contract.ts";
import { join } from "../lib/util/path.ts";
import { agentEnv, launchInSession, prepareAgent } from "../lib/agents/launcher.ts";
import { runHeadlessAgent } from "../lib/agents/headless.ts";
import { worktreePort } from "../lib/workspace/ports.ts";
import { acquireAgentSlot } from "../lib/agents/slots.ts";

function flag(value: unknown, field: string): boolean {
  if (value === undefined || value === "" || value === false || value === "false") return false;
  if (value === true || value === "true") return true;
  throw new Error(`with.${field}: expected true or false, found ${JSON.stringify(value)}`);
}

/**
 * Renders the command's `prompt_file` (or `with.prompt`) into the run's outputs as
 * `prompt.md` (and, for the agent, into `.prj/launch/`), then starts the configured agent
 * with the run's model: in the run's tmux session so the user can attach and watch
 * (default; the step fails when the agent does not start or exits at once), or with
 * `with.headless: true` to completion in the working directory, streaming its output to the
 * step log and failing on a non-zero exit, an error or refused tool calls in its result, or
 * `with.timeout` (seconds).
 */
export default async function launchAgent(ctx: BuiltinContext): Promise<StepResult> {
  const template = typeof ctx.with.prompt === "string" ? ctx.with.prompt : ctx.prompt?.text;
  if (template === undefined) {
    throw new Error("launch-agent needs a prompt: set prompt_file on the command, or with.prompt on the step");
  }
  const prompt = ctx.render(template);
  await ctx.artifact("prompt.md", prompt); // the run's record
  const model = typeof ctx.with.model === "string" && ctx.with.model !== "" ? ctx.with.model : ctx.model;
  const headless = flag(ctx.with.headless, "headless");
  // What the agent reads and the session runs lives where no step can write (see launchDir).
  const launchId = `${ctx.run.id}-${ctx.step.index}`;
  const promptFile = join(ctx.project.prjDir, "launch", launchId, "prompt.md");
  const prepared = prepareAgent(ctx.project, { prompt, promptFile, model, headless, launchId });
  await Deno.writeTextFile(promptFile, prompt);
  const port = ctx.resources.worktree
    ? worktreePort(ctx.project, ctx.store, { name: ctx.resources.worktree.name })
    : null;
  const env: Record<string, string> = {
    ...ctx.env,
    ...agentEnv(ctx.project, { worktree: ctx.paths.worktree, port, model, promptFile }),
    PRJ_RUN_ID: ctx.run.id,
  };
  const agent = {
    argv: prepared.display,
    model: model ?? null,
    headless,
    cwd: ctx.paths.cwd,
    kind: prepared.kind,
    sessionId: prepared.sessionId,
  };
  ctx.shared.set("agent", agent);
  const worktree = ctx.resources.worktree
    ? { name: ctx.resources.worktree.name, branch: ctx.resources.worktree.branch }
    : null;
  // Under agent.max_agents the launch waits, in order, for a slot (prj fleet shows it queued).
  const session = ctx.resources.session;
  if (!headless && !session) {
    throw new Error("launch-agent needs a tmux session: put start-session before it, or set `headless: true`");
  }
  using _slot = await acquireAgentSlot(ctx.project, ctx.store, {
    worktree: worktree?.name ?? null,
    worktreePath: headless ? ctx.paths.cwd : ctx.resources.worktree?.path ?? ctx.paths.cwd,
    branch: worktree?.branch ?? null,
    session: headless ? null : session ?? null,
    kind: prepared.kind,
    model: model ?? null,
    headless,
    runId: ctx.run.id,
    signal: ctx.signal,
    onQueued: (position, max) => ctx.log(`queued: ${position} in line for one of ${max} agent slot(s) (max_agents)`),
  });
  if (headless) {
    const timeout = typeof ctx.with.timeout === "number" ? ctx.with.timeout : ctx.project.config.agent.timeout;
    ctx.log(`agent: ${agent.argv.join(" ")} (headless, in ${ctx.paths.cwd})`);
    const { exit, result, failure } = await runHeadlessAgent(ctx.store, prepared, {
      cwd: ctx.paths.cwd,
      env,
      model,
      runId: ctx.run.id,
      worktree,
      timeoutMs: timeout === undefined ? undefined : timeout * 1000,
      signal: ctx.signal,
      onLine: (line, stream) => ctx.output(line, stream),
    });
    if (result) ctx.shared.set("agent_result", result);
    if (exit.stopped === "timeout") throw new Error(`agent timed out after ${timeout}s`);
    if (exit.stopped === "cancelled") throw new Error("agent was cancelled");
    if (failure) throw new Error(failure);
    return {
      output: result
        ? `agent finished: ${result.subtype}${result.num_turns === null ? "" : `, ${result.num_turns} turn(s)`}`
        : "agent finished",
      data: { ...agent, exitCode: exit.code, result: result ?? null },
    };
  }
  await launchInSession(ctx.project, ctx.store, prepared, {
    session: session!,
    cwd: ctx.paths.cwd,
    env,
    model,
    runId: ctx.run.id,
    worktree: ctx.resources.worktree ? { ...worktree!, path: ctx.resources.worktree.path } : null,
    prompt,
  });
  ctx.log(`agent started in tmux session ${session}; watch it with: prj session attach ${session}`);
  return {
    output: `agent running in session ${session}`,
    data: { ...agent, session, script: join(prepared.launchDir, "agent.sh") },
  };
}
