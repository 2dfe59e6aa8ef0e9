/** Built-in step `launch-agent`: renders the prompt and starts the coding agent (in the session, or headless). */
import type { BuiltinContext, StepResult } from "../lib/types.ts";

function flag(value: unknown, field: string): boolean {
  if (value === undefined || value === "" || value === false || value === "false") return false;
  if (value === true || value === "true") return true;
  throw new Error(`with.${field}: expected true or false, found ${JSON.stringify(value)}`);
}

/**
 * Renders the command's `prompt_file` (or `with.prompt`) into the run's outputs as
 * `prompt.md`, then starts the configured agent with the run's model:
 * in the run's tmux session so the user can attach and watch (default), or with
 * `with.headless: true` to completion in the working directory, streaming its output
 * to the step log and failing on a non-zero exit or `with.timeout` (seconds).
 */
export default async function launchAgent(ctx: BuiltinContext): Promise<StepResult> {
  const { join } = await import("node:path");
  const { agentInvocation, shellQuote } = await import("../lib/agent.ts");
  const template = typeof ctx.with.prompt === "string" ? ctx.with.prompt : ctx.prompt?.text;
  if (template === undefined) {
    throw new Error("launch-agent needs a prompt: set prompt_file on the command, or with.prompt on the step");
  }
  const prompt = ctx.render(template);
  const promptFile = await ctx.artifact("prompt.md", prompt);
  const model = typeof ctx.with.model === "string" && ctx.with.model !== "" ? ctx.with.model : ctx.model;
  const headless = flag(ctx.with.headless, "headless");
  const invocation = agentInvocation(ctx.project, prompt, promptFile, model);
  const port = ctx.resources.worktree
    ? (await import("../lib/worktrees.ts")).worktreePort(ctx.project, ctx.store, ctx.resources.worktree.name)
    : null;
  const env: Record<string, string> = {
    ...ctx.env,
    PRJ_RUN_ID: ctx.run.id,
    PRJ_PROJECT: ctx.paths.project,
    PRJ_PROMPT_FILE: promptFile,
    ...(ctx.paths.worktree ? { PRJ_WORKTREE: ctx.paths.worktree } : {}),
    ...(port !== null ? { PRJ_PORT: String(port) } : {}),
    ...(model ? { PRJ_MODEL: model } : {}),
  };
  const agent = {
    argv: invocation.argv.map((a) => (a === prompt ? "<prompt>" : a)),
    model: model ?? null,
    headless,
    cwd: ctx.paths.cwd,
  };
  ctx.shared.set("agent", agent);
  if (headless) {
    const { runStreaming } = await import("../lib/process.ts");
    const timeout = typeof ctx.with.timeout === "number" ? ctx.with.timeout : ctx.project.config.agent.timeout;
    ctx.log(`agent: ${agent.argv.join(" ")} (headless, in ${ctx.paths.cwd})`);
    const exit = await runStreaming(invocation.argv, {
      cwd: ctx.paths.cwd,
      env: { ...Deno.env.toObject(), ...env },
      signal: ctx.signal,
      timeoutMs: timeout === undefined ? undefined : timeout * 1000,
      onLine: (line, stream) => ctx.output(line, stream),
      ...(invocation.stdin !== undefined ? { stdin: invocation.stdin } : {}),
    });
    if (exit.stopped === "timeout") throw new Error(`agent timed out after ${timeout}s`);
    if (exit.stopped === "cancelled") throw new Error("agent was cancelled");
    if (exit.code !== 0) throw new Error(`agent exited with code ${exit.code}`);
    return { output: "agent finished", data: { ...agent, exitCode: exit.code } };
  }
  const session = ctx.resources.session;
  if (!session) {
    throw new Error("launch-agent needs a tmux session: put start-session before it, or set `headless: true`");
  }
  // Fail now, not silently inside the session, when the agent program is missing.
  if (!(await (await import("../lib/process.ts")).onPath(invocation.argv[0]!))) {
    throw new Error(
      `agent command "${invocation.argv[0]}" not found; install it or set agent.command in .prj/config.yaml`,
    );
  }
  // A launcher script avoids quoting the prompt through tmux; the shell stays after the agent exits.
  const script = join(ctx.paths.artifacts, "agent.sh");
  const lines = [
    "#!/bin/sh",
    `cd ${shellQuote(ctx.paths.cwd)} || exit 1`,
    ...Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    invocation.stdin !== undefined
      ? `${invocation.argv.map(shellQuote).join(" ")} < ${shellQuote(promptFile)}`
      : invocation.argv.map((a) => (a === prompt ? `"$(cat ${shellQuote(promptFile)})"` : shellQuote(a))).join(" "),
    `echo $? > ${shellQuote(join(ctx.paths.artifacts, "agent.exit"))}`,
  ];
  await Deno.writeTextFile(script, lines.join("\n") + "\n", { mode: 0o755 });
  const { sendLine } = await import("../lib/sessions.ts");
  await sendLine(session, `sh ${shellQuote(script)}`);
  ctx.log(`agent started in tmux session ${session}; watch it with: prj session attach ${session}`);
  return { output: `agent running in session ${session}`, data: { ...agent, session, script } };
}
