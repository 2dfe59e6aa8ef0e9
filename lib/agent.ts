/** The coding agent's command line: program, arguments, model and prompt, from config. */
import * as path from "node:path";
import type { Project } from "./project.ts";

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

/** Quotes one word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_\/.,:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
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
