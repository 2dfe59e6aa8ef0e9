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
 */
export function agentInvocation(
  project: Project,
  prompt: string,
  promptFile: string,
  model: string | undefined,
): AgentInvocation {
  const argv = agentBaseArgv(project);
  if (model && project.config.agent.model_flag) argv.push(project.config.agent.model_flag, model);
  const mode = project.config.agent.prompt_mode;
  if (mode === "argument") argv.push(prompt);
  else if (mode === "file") argv.push(promptFile);
  return { argv, stdin: mode === "stdin" ? prompt : undefined };
}

/** Quotes one word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_\/.,:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
