/**
 * Starting the coding agent: its command line (program, arguments, model, prompt, hooks and
 * conversation id, as its kind wants them), and an interactive launch in a tmux session that
 * is checked to have started. Headless runs are in `headless.ts`.
 */
import * as path from "../util/path.ts";
import type { Project } from "../project/project.ts";
import type { Store } from "../state/store.ts";
import { insertLaunch } from "../state/launches.ts";
import { exists } from "../util/fs.ts";
import { PrjError } from "../util/errors.ts";
import { shellQuote } from "../util/shell.ts";
import { sendLine } from "../workspace/sessions.ts";
import { tmuxMaybe } from "../workspace/tmux.ts";
import { paneSays } from "./fleet/classify.ts";
import { eventsDir, hookCommand, readHookEvents } from "./hook_events.ts";
import { type AgentKind, agentKind, type LaunchSpec } from "./kinds.ts";
import { assertNoLiveAgent, launchFiles, readExitFile } from "./headless.ts";
import { workdirOf } from "./workdir.ts";

export { type HeadlessOutcome, runHeadlessAgent } from "./headless.ts";

/** How to start the agent. */
export interface AgentInvocation {
  /** The argv (the prompt included when `prompt_mode` is `argument` or `file`). */
  argv: string[];
  /** Text for the agent's stdin (`prompt_mode: stdin`). */
  stdin: string | undefined;
}

/**
 * The absolute path of a program: `./x` and `../x` relative to the project, a name looked up
 * on prj's own PATH (a tmux login shell may reset PATH, so sessions get the absolute path).
 *
 * @throws {PrjError} when it is not found
 */
export function resolveProgram(project: Project, program: string): string {
  if (program.includes("/")) {
    const file = path.resolve(project.root, program);
    if (isExecutable(file)) return file;
    throw new PrjError(`Agent program "${program}" is not an executable file (looked at "${file}")`, {
      hint: "set agent.command in .prj/config.yaml",
    });
  }
  for (const dir of (Deno.env.get("PATH") ?? "").split(":").filter(Boolean)) {
    const file = path.resolve(dir, program);
    if (isExecutable(file)) return file;
  }
  throw new PrjError(
    `agent command "${program}" not found; install it or set agent.command in .prj/config.yaml (prj looks it up on its own PATH)`,
  );
}

function isExecutable(file: string): boolean {
  try {
    const info = Deno.statSync(file);
    return info.isFile && (info.mode === null || (info.mode & 0o111) !== 0);
  } catch {
    return false;
  }
}

/** The agent program (absolute) and fixed arguments from config. */
export function agentBaseArgv(project: Project): string[] {
  const kind = agentKind(project.config.agent.kind);
  const command = project.config.agent.command ?? kind.program;
  const argv = Array.isArray(command) ? [...command] : command.trim().split(/\s+/);
  argv[0] = resolveProgram(project, argv[0]!);
  return [...argv, ...project.config.agent.args];
}

const versions = new Map<string, string | undefined>();

/**
 * The installed version of a kind's program (once per program and process): from its npm
 * package's package.json (the program's real path is inside the package), else, where it is
 * quick, from `<program> --version`. Only the kind's own program is asked; another one (a
 * wrapper script) might do work when run.
 */
function programVersion(kind: AgentKind, program: string): string | undefined {
  if (versions.has(program)) return versions.get(program);
  let version: string | undefined;
  try {
    let dir = path.dirname(Deno.realPathSync(program));
    for (let i = 0; i < 5 && version === undefined; i++, dir = path.dirname(dir)) {
      try {
        const pkg = JSON.parse(Deno.readTextFileSync(path.join(dir, "package.json")));
        if (pkg?.name === kind.npmPackage && typeof pkg.version === "string") version = pkg.version;
      } catch { /* not here */ }
    }
  } catch { /* not found */ }
  if (version === undefined && kind.asksVersion && path.basename(program) === kind.program) {
    try {
      const out = new Deno.Command(program, { args: ["--version"], stdin: "null", stdout: "piped", stderr: "null" })
        .outputSync();
      if (out.success) version = new TextDecoder().decode(out.stdout).trim();
    } catch { /* cannot run it */ }
  }
  versions.set(program, version);
  return version;
}

/** The agent's command line for one launch, with the arguments of its kind. */
export interface PreparedAgent {
  /** The `agent.kind` name. */
  kind: string;
  /** The conversation id: the one prj gave a new conversation, or the one resumed; null when unknown yet. */
  sessionId: string | null;
  /** How to start it. */
  invocation: AgentInvocation;
  /** The argv with the prompt shown as `<prompt>` and hook settings as `<hooks>`, for logs. */
  display: string[];
  /** The launch's folder under `.prj/launch/` (hook events, pid, exit code, headless output). */
  launchDir: string;
  /** Whether it runs headless. */
  headless: boolean;
  /** Whether prj installed its hooks (they report its state). */
  hooked: boolean;
  /** Where the prompt was written (`prompt_mode` `stdin` and `file` read it). */
  promptFile: string | undefined;
  /** Environment the kind needs for this launch (Gemini CLI's home with prj's hooks). */
  env: Record<string, string>;
  /**
   * Completes the command line and environment for the checkout the agent runs in (Codex's
   * writable git folders, Gemini CLI's git identity); the launch calls it with its working
   * directory (again with the same folder, it does nothing).
   */
  bindWorkdir(cwd: string): Promise<void>;
}

/**
 * The folder for what prj executes or reads back for one agent launch (the launcher script,
 * the prompt the agent reads, its pid and exit code, its hook events and headless output):
 * `.prj/launch/<id>/`. It is never in a step's grant (unlike the run's artifacts), so no step
 * can change what the session runs or forge what the agent reports.
 *
 * @param project the project
 * @param id unique per launch (the run id and step index, or one made up)
 */
export function launchDir(project: Project, id: string = newLaunchId()): string {
  const dir = path.join(project.prjDir, "launch", id);
  Deno.mkdirSync(eventsDir(dir), { recursive: true, mode: 0o700 });
  return dir;
}

function newLaunchId(): string {
  return `agent-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * Prepares the agent's command line: the configured program (by absolute path) and model,
 * `agent.interactive_args` or `agent.headless_args` (else the kind's defaults), hooks that
 * report to the launch's folder, a conversation id of prj's own where the kind takes one (or
 * the one to resume), and the prompt as `agent.prompt_mode` says.
 *
 * @throws {PrjError} when the agent program is not found
 */
export function prepareAgent(
  project: Project,
  launch: {
    prompt?: string | undefined;
    promptFile?: string | undefined;
    model: string | undefined;
    headless: boolean;
    resumeId?: string | undefined;
    launchId?: string | undefined;
  },
): PreparedAgent {
  const config = project.config.agent;
  const kind = agentKind(config.kind);
  const [program, ...args] = agentBaseArgv(project);
  const dir = launchDir(project, launch.launchId);
  const extra = launch.headless
    ? config.headless_args ?? [...kind.defaultHeadlessArgs]
    : config.interactive_args ?? [...kind.defaultInteractiveArgs];
  // Hooks only for events the installed version knows (an unknown one can stop it at a dialog).
  const hookEvents = kind.npmPackage ? kind.hookEvents(programVersion(kind, program!)) : [];
  const command = hookEvents.length > 0 ? hookCommand(eventsDir(dir)) : undefined;
  const env = command && kind.hookEnv ? kind.hookEnv(dir, command, hookEvents) ?? {} : {};
  const ownId = kind.setsSessionId === true || (kind.setsSessionId === "headless" && launch.headless);
  const sessionId = launch.resumeId ?? (ownId ? crypto.randomUUID() : null);
  const mode = config.prompt_mode;
  const prompt = launch.prompt === undefined
    ? undefined
    : mode === "argument"
    ? launch.prompt
    : mode === "file"
    ? launch.promptFile
    : undefined;
  const spec: LaunchSpec = {
    program: program!,
    args,
    workdir: [],
    extra,
    model: launch.model && config.model_flag ? { flag: config.model_flag, name: launch.model } : undefined,
    headless: launch.headless,
    sessionId: launch.resumeId ? undefined : sessionId ?? undefined,
    resumeId: launch.resumeId,
    hookCommand: command,
    hookEvents,
    prompt,
  };
  const display = (argv: string[]) => {
    const settings = argv.indexOf("--settings");
    return argv.map((a, i) => (a === launch.prompt ? "<prompt>" : i === settings + 1 && settings >= 0 ? "<hooks>" : a));
  };
  const argv = kind.argv(spec);
  let bound: string | undefined;
  const prepared: PreparedAgent = {
    kind: kind.name,
    sessionId,
    invocation: { argv, stdin: mode === "stdin" && launch.prompt !== undefined ? launch.prompt : undefined },
    display: display(argv),
    launchDir: dir,
    headless: launch.headless,
    hooked: command !== undefined,
    promptFile: launch.promptFile,
    env,
    async bindWorkdir(cwd) {
      if (bound === cwd || (!kind.workdirArgs && !kind.workdirEnv)) return;
      bound = cwd;
      const workdir = await workdirOf(project.root, cwd);
      if (!workdir) return;
      const argv = kind.argv({ ...spec, workdir: kind.workdirArgs?.(workdir, launch.headless) ?? [] });
      prepared.invocation = { ...prepared.invocation, argv };
      prepared.display = display(argv);
      prepared.env = { ...env, ...kind.workdirEnv?.(workdir) };
    },
  };
  return prepared;
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

/**
 * Writes the script prj types into a tmux session to start the agent: it enters the
 * worktree, sets prj's PATH (a login shell may have reset it) and the environment, checks
 * the program, runs the agent (the prompt read from its file, so nothing is quoted through
 * tmux) recording its pid, and records its exit code; the session's shell stays after the
 * agent exits.
 */
export async function writeLauncher(
  file: string,
  launch: {
    cwd: string;
    env: Record<string, string>;
    invocation: AgentInvocation;
    prompt?: string | undefined;
    promptFile?: string | undefined;
    pidFile: string;
    exitFile: string;
  },
): Promise<void> {
  const { invocation, prompt, promptFile } = launch;
  const program = invocation.argv[0]!;
  const args = invocation.argv.map((a) =>
    prompt !== undefined && promptFile && a === prompt ? `"$(cat ${shellQuote(promptFile)})"` : shellQuote(a)
  ).join(" ");
  const input = invocation.stdin !== undefined && promptFile ? ` < ${shellQuote(promptFile)}` : "";
  const exit = shellQuote(launch.exitFile);
  const lines = [
    "#!/bin/sh",
    `cd ${shellQuote(launch.cwd)} || exit 1`,
    `export PATH=${shellQuote(Deno.env.get("PATH") ?? "/usr/bin:/bin")}`,
    // An interactive agent is for a person at this terminal, even when prj itself runs under CI: the markers a CI
    // sets (CI, CONTINUOUS_INTEGRATION, CI_*) make some agents (Gemini CLI) refuse to be interactive.
    "unset CI CONTINUOUS_INTEGRATION",
    `for v in $(env | sed -n 's/^\\(CI_[A-Za-z0-9_]*\\)=.*/\\1/p'); do unset "$v"; done`,
    ...Object.entries(launch.env).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    `rm -f ${exit} ${shellQuote(launch.pidFile)}`,
    `if [ ! -x ${shellQuote(program)} ]; then`,
    `  echo "prj: cannot start the agent: ${program.replace(/["\\$`]/g, "\\$&")} is not an executable file" >&2`,
    `  echo 127 > ${exit}; exit 127`,
    "fi",
    // The inner shell records its pid and becomes the agent (exec keeps the pid).
    `sh -c 'echo $$ > "$0"; exec "$@"' ${shellQuote(launch.pidFile)} ${args}${input}`,
    `echo $? > ${exit}`,
  ];
  await Deno.writeTextFile(file, lines.join("\n") + "\n", { mode: 0o700 });
}

/** The last non-empty lines of a session's pane. */
export async function paneTail(session: string, n = 6): Promise<string[]> {
  const text = await tmuxMaybe(["capture-pane", "-p", "-J", "-t", `=${session}:`]);
  return (text ?? "").split("\n").map((l) => l.trimEnd()).filter((l) => l.trim() !== "").slice(-n);
}

/** How long the session's shell may take to run the launcher. */
const START_TIMEOUT_MS = 15_000;
/** An agent that exits this soon after it started failed to start (bad flag, missing program, id in use). */
const EARLY_EXIT_MS = 1_500;

/**
 * Starts a prepared agent in a tmux session: types the launcher into the session, records
 * the launch for the fleet, and checks that the agent started in the session's own
 * environment (it ran and did not exit at once).
 *
 * @returns the launch's id
 * @throws {PrjError} when another agent works in the worktree, when the session did not run
 *   the launcher, or when the agent exited at once (with its exit code and last lines)
 */
export async function launchInSession(
  project: Project,
  store: Store,
  agent: PreparedAgent,
  launch: {
    session: string;
    cwd: string;
    env: Record<string, string>;
    model: string | undefined;
    runId: string | null;
    worktree: { name: string; branch: string | null; path: string } | null;
    prompt?: string | undefined;
  },
): Promise<number> {
  const worktreePath = launch.worktree?.path ?? launch.cwd;
  assertNoLiveAgent(store, worktreePath);
  const files = launchFiles(agent.launchDir);
  const script = path.join(agent.launchDir, "agent.sh");
  await agent.bindWorkdir(launch.cwd);
  await writeLauncher(script, {
    cwd: launch.cwd,
    env: { ...launch.env, ...agent.env },
    invocation: agent.invocation,
    prompt: launch.prompt,
    promptFile: agent.promptFile,
    pidFile: files.pid,
    exitFile: files.exit,
  });
  const id = insertLaunch(store, {
    runId: launch.runId,
    worktree: launch.worktree?.name ?? null,
    worktreePath,
    branch: launch.worktree?.branch ?? null,
    session: launch.session,
    kind: agent.kind,
    model: launch.model ?? null,
    agentSessionId: agent.sessionId,
    headless: false,
    launchDir: agent.launchDir,
    exitFile: files.exit,
    hooked: agent.hooked,
    prompted: launch.prompt !== undefined,
  });
  await sendLine(launch.session, `sh ${shellQuote(script)}`, { project: project.root, worktreePath });
  await checkStarted(agent, launch.session, files);
  return id;
}

async function checkStarted(agent: PreparedAgent, session: string, files: { pid: string; exit: string }) {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const kind: AgentKind = agentKind(agent.kind);
  const started = Date.now();
  while (!exists(files.pid) && readExitFile(files.exit) === undefined) {
    if (Date.now() - started > START_TIMEOUT_MS) {
      throw new PrjError(
        `The agent did not start in tmux session "${session}" within ${START_TIMEOUT_MS / 1000}s; its pane shows: ${
          (await paneTail(session)).join(" | ")
        }`,
      );
    }
    await sleep(50);
  }
  const running = Date.now();
  while (Date.now() - running < EARLY_EXIT_MS) {
    const code = readExitFile(files.exit);
    // A quick exit 0 is an agent that did its work (a script); another code is one that could not start.
    if (code === 0) return;
    if (code !== undefined) {
      throw new PrjError(
        `The agent exited at once with code ${code} in tmux session "${session}": ${
          (await paneTail(session)).join(" | ")
        }`,
        {
          hint: `check agent.command and its arguments in .prj/config.yaml; the command line is in ${agent.launchDir}`,
        },
      );
    }
    // Up and talking (a hook reported) or waiting at a dialog: it started.
    if (readHookEvents(eventsDir(agent.launchDir)).length > 0) return;
    if (paneSays((await paneTail(session, kind.pane.tail)).join("\n"), kind.pane) === "waiting") return;
    await sleep(100);
  }
}
