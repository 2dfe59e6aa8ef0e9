/** The coding agent's command line: program, arguments, model and prompt, from config. */
import * as path from "node:path";
import type { Project } from "../project/project.ts";
import type { Store } from "../state/store.ts";
import { type ProgramExit, runStreaming } from "../util/process.ts";
import { shellQuote } from "../util/shell.ts";
import { agentKind, type AgentResult, parseStreamResult } from "./kinds.ts";
import { finishLaunch, recordLaunch } from "./fleet/record.ts";
import { setLaunchProcess } from "../state/launches.ts";
import { processStartTime } from "../util/liveness.ts";

/** How to start the agent. */
export interface AgentInvocation {
  /** The argv (the prompt included when `prompt_mode` is `argument` or `file`). */
  argv: string[];
  /** Text for the agent's stdin (`prompt_mode: stdin`). */
  stdin: string | undefined;
}

/** The agent program and fixed arguments from config (a string is split on spaces; `./x` is relative to the project). */
export function agentBaseArgv(project: Project): string[] {
  const command = project.config.agent.command;
  const argv = Array.isArray(command) ? [...command] : command.trim().split(/\s+/);
  if (argv[0]!.startsWith("./") || argv[0]!.startsWith("../")) argv[0] = path.resolve(project.root, argv[0]!);
  return [...argv, ...project.config.agent.args];
}

/**
 * Builds the agent's command line for a prompt.
 *
 * @param project the project (its `agent:` config)
 * @param prompt the rendered prompt text
 * @param promptFile where the prompt was written
 * @param model the model, if any (passed with `agent.model_flag`)
 * @param extra arguments of the agent's kind (session id, headless output), before the prompt
 */
export function agentInvocation(
  project: Project,
  prompt: string,
  promptFile: string,
  model: string | undefined,
  extra: readonly string[] = [],
): AgentInvocation {
  const argv = agentBaseArgv(project);
  if (model && project.config.agent.model_flag) argv.push(project.config.agent.model_flag, model);
  argv.push(...extra);
  const mode = project.config.agent.prompt_mode;
  if (mode === "argument") argv.push(prompt);
  else if (mode === "file") argv.push(promptFile);
  return { argv, stdin: mode === "stdin" ? prompt : undefined };
}

export { shellQuote };

/**
 * The folder for what prj executes or reads back for one agent launch (the launcher script,
 * the prompt the agent reads, its exit code): `.prj/launch/<id>/`. It is never in a step's
 * grant (unlike the run's artifacts), so no step can change what the session runs.
 *
 * @param project the project
 * @param id unique per launch (the run id and step index, or the resumed launch)
 */
export async function launchDir(project: Project, id: string): Promise<string> {
  const dir = path.join(project.prjDir, "launch", id);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * Writes the script prj types into a tmux session to start the agent: it enters the
 * worktree, exports the environment, runs the agent (the prompt read from its file, so
 * nothing is quoted through tmux), and records the agent's exit code in `exitFile`; the
 * session's shell stays after the agent exits.
 */
export async function writeLauncher(
  file: string,
  launch: {
    cwd: string;
    env: Record<string, string>;
    invocation: AgentInvocation;
    prompt?: string;
    promptFile?: string;
    exitFile: string;
  },
): Promise<void> {
  const { invocation, prompt, promptFile } = launch;
  const run = invocation.stdin !== undefined && promptFile
    ? `${invocation.argv.map(shellQuote).join(" ")} < ${shellQuote(promptFile)}`
    : invocation.argv.map((
      a,
    ) => (prompt !== undefined && promptFile && a === prompt ? `"$(cat ${shellQuote(promptFile)})"` : shellQuote(a)))
      .join(" ");
  const lines = [
    "#!/bin/sh",
    `cd ${shellQuote(launch.cwd)} || exit 1`,
    ...Object.entries(launch.env).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    `rm -f ${shellQuote(launch.exitFile)}`,
    run,
    `echo $? > ${shellQuote(launch.exitFile)}`,
  ];
  await Deno.writeTextFile(file, lines.join("\n") + "\n", { mode: 0o755 });
}

/** The agent's command line for this run, with the arguments of its kind. */
export interface PreparedAgent {
  /** The `agent.kind` name. */
  kind: string;
  /** The conversation id prj gave it (kinds that take one), for `prj agent resume`. */
  sessionId: string | null;
  /** How to start it. */
  invocation: AgentInvocation;
  /** The argv with the prompt shown as `<prompt>`, for logs. */
  display: string[];
}

/**
 * Prepares the agent's command line: the configured program and model, a session id of
 * prj's own where the kind takes one, and the kind's headless arguments (stream-json).
 */
export function prepareAgent(
  project: Project,
  launch: { prompt: string; promptFile: string; model: string | undefined; headless: boolean },
): PreparedAgent {
  const kind = agentKind(project.config.agent.kind);
  const sessionId = kind.sessionIdArgs ? crypto.randomUUID() : null;
  const extra = [...(sessionId ? kind.sessionIdArgs!(sessionId) : []), ...(launch.headless ? kind.headlessArgs : [])];
  const invocation = agentInvocation(project, launch.prompt, launch.promptFile, launch.model, extra);
  return {
    kind: project.config.agent.kind,
    sessionId,
    invocation,
    display: invocation.argv.map((a) => (a === launch.prompt ? "<prompt>" : a)),
  };
}

/** The environment every agent gets (besides the caller's own `PRJ_*` values). */
export function agentEnv(
  project: Project,
  where: {
    worktree?: string | undefined;
    port?: number | null | undefined;
    model?: string | undefined;
    promptFile?: string | undefined;
  },
): Record<string, string> {
  return {
    PRJ_PROJECT: project.root,
    ...(where.worktree ? { PRJ_WORKTREE: where.worktree } : {}),
    ...(where.port !== undefined && where.port !== null ? { PRJ_PORT: String(where.port) } : {}),
    ...(where.model ? { PRJ_MODEL: where.model } : {}),
    ...(where.promptFile ? { PRJ_PROMPT_FILE: where.promptFile } : {}),
  };
}

/** How a headless agent ended. */
export interface HeadlessOutcome {
  /** Its exit (and whether prj stopped it). */
  exit: ProgramExit;
  /** Its stream-json `result`, when it printed one. */
  result: AgentResult | undefined;
}

/**
 * Runs a prepared agent to completion in `cwd`, recording the launch in the fleet (so
 * `prj fleet` shows it working, then exited) with its stream-json result.
 */
export async function runHeadlessAgent(
  store: Store,
  agent: PreparedAgent,
  run: {
    cwd: string;
    env: Record<string, string>;
    model: string | undefined;
    runId: string | null;
    worktree: { name: string; branch: string } | null;
    timeoutMs: number | undefined;
    signal?: AbortSignal | undefined;
    onLine: (line: string, stream: "stdout" | "stderr") => void;
  },
): Promise<HeadlessOutcome> {
  const launchId = recordLaunch(store, {
    runId: run.runId,
    worktree: run.worktree?.name ?? null,
    worktreePath: run.cwd,
    branch: run.worktree?.branch ?? null,
    session: null,
    kind: agent.kind,
    model: run.model ?? null,
    agentSessionId: agent.sessionId,
    headless: true,
    exitFile: null,
  });
  const stdout: string[] = [];
  const exit = await runStreaming(agent.invocation.argv, {
    cwd: run.cwd,
    env: { ...Deno.env.toObject(), ...run.env },
    timeoutMs: run.timeoutMs,
    onLine: (line, stream) => {
      if (stream === "stdout") stdout.push(line);
      run.onLine(line, stream);
    },
    ...(run.signal ? { signal: run.signal } : {}),
    ...(agent.invocation.stdin !== undefined ? { stdin: agent.invocation.stdin } : {}),
    // The agent's own pid (it leads its process group), so a runner restarted after a crash finds it alive.
    onSpawn: (pid) => setLaunchProcess(store, launchId, pid, processStartTime(pid) ?? null),
  });
  // The final stream-json `result` says how it went: success or error, turns, cost, session id.
  const result = parseStreamResult(stdout);
  finishLaunch(store, launchId, exit.code, result);
  return { exit, result };
}
