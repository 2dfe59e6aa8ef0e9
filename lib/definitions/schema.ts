/**
 * The types of command definitions and project config. Their zod schemas are in
 * _schemas.ts (loaded only when a file is validated), which checks at compile time that
 * each schema produces exactly the interface here: JSR needs public types written out, so
 * `z.infer` cannot be the public type, and the check keeps the two from drifting.
 */

/** A permission: `true` (all), `false` (none) or a list of paths, hosts, names or programs. */
export type PermissionValue = boolean | string[];

/** The Deno permissions a user step may be granted, as written in YAML. */
export interface Permissions {
  /** Files and folders the step may read. */
  read?: PermissionValue | undefined;
  /** Files and folders the step may write. */
  write?: PermissionValue | undefined;
  /** Hosts (with optional ports) the step may connect to. */
  net?: PermissionValue | undefined;
  /** Environment variables the step may read. */
  env?: PermissionValue | undefined;
  /** Programs the step may start. */
  run?: PermissionValue | undefined;
  /** System information the step may read (`hostname`, `osRelease`, ...). */
  sys?: PermissionValue | undefined;
  /** Native libraries the step may load. */
  ffi?: PermissionValue | undefined;
}

/** One declared argument of a command. */
export interface ArgumentDef {
  /** The argument's name, as in `name=value` and `{{ args.name }}`. */
  name: string;
  /** How the value is read; a `path` is resolved against the folder prj runs in. */
  type: "string" | "number" | "boolean" | "path";
  /** Whether a run must give it (a default counts). */
  required: boolean;
  /** The value when none is given. */
  default?: string | number | boolean | undefined;
  /** The only values accepted. */
  choices?: (string | number)[] | undefined;
  /** One line on what it is for. */
  description?: string | undefined;
}

/** One step in its object form (a bare string `name` means `{ uses: name }`). */
export interface StepDef {
  /** The step's name (default: derived from `uses` or `run`). */
  name?: string | undefined;
  /** A built-in step's name, or a module under `.prj/steps/`. */
  uses?: string | undefined;
  /** Values for the step (placeholders resolved before it starts). */
  with?: Record<string, unknown> | undefined;
  /** A program as an argv list, or a shell line with `shell: true`. */
  run?: string[] | string | undefined;
  /** Runs the `run` string with `sh -c`. */
  shell?: boolean | undefined;
  /** Seconds before it is stopped. */
  timeout?: number | undefined;
  /** The grant of a sandboxed step (replaces the default per kind it names). */
  permissions?: Permissions | undefined;
  /** Whether the run goes on when this step fails. */
  continue_on_error?: boolean | undefined;
  /** Environment variables for the step. */
  env?: Record<string, string> | undefined;
  /** Where it runs, relative to the project. */
  working_directory?: string | undefined;
  /** Runs the step only when this is true (placeholders resolved). */
  if?: string | boolean | undefined;
}

/** A command file as written, before `extends` is resolved: every field optional. */
export interface CommandFile {
  name?: string | undefined;
  description?: string | undefined;
  category?: string | undefined;
  extends?: string | undefined;
  arguments?: ArgumentDef[] | undefined;
  environment?: Record<string, string> | undefined;
  prompt_file?: string | undefined;
  working_directory?: string | undefined;
  timeout?: number | undefined;
  permissions?: Permissions | undefined;
  model?: string | undefined;
  pre_steps?: StepDef[] | undefined;
  steps?: StepDef[] | undefined;
  post_steps?: StepDef[] | undefined;
  cleanup_on_failure?: StepDef[] | undefined;
}

/** A command after `extends`, with defaults filled in. */
export interface CommandDefinition {
  /** The command's name (its file name when the file does not say). */
  name: string;
  /** One line on what it does. */
  description: string;
  /** A group for `prj list`. */
  category: string;
  /** The parent it extended, if any. */
  extends?: string;
  /** Declared arguments. */
  arguments: ArgumentDef[];
  /** Environment variables given to every step. */
  environment: Record<string, string>;
  /** The prompt rendered for the agent (relative to .prj, or a template prompt). */
  prompt_file?: string;
  /** Where steps run (relative to the project), unless a worktree was created. */
  working_directory?: string;
  /** Whole-command timeout in seconds. */
  timeout?: number;
  /** Default grant for this command's user steps. */
  permissions?: Permissions;
  /** The agent model for `launch-agent`. */
  model?: string;
  /** Steps before the main steps. */
  pre_steps: StepDef[];
  /** The main steps. */
  steps: StepDef[];
  /** Steps after the main steps. */
  post_steps: StepDef[];
  /** Steps run when the run fails or is cancelled. */
  cleanup_on_failure: StepDef[];
  /** Where the definition came from. */
  source: CommandSource;
}

/** Where a definition was found. */
export interface CommandSource {
  /** `project` (.prj/commands) or `template` (shipped with prj). */
  kind: "project" | "template";
  /** The file, relative to the project for project commands, `templates/...` for templates. */
  file: string;
  /** The chain of files merged through `extends`, child first. */
  chain: string[];
  /**
   * When the file is in the original PruneJuice's form (a `script:` step, `args:`...): what it was read
   * as, one line each; `prj migrate` writes it so.
   */
  legacy?: string[] | undefined;
}

/** The `agent:` section of config. */
export interface AgentConfig {
  /** The agent program (a string is split on spaces; default: the kind's program, e.g. `claude`). */
  command?: string | string[] | undefined;
  /** Fixed arguments, for every launch. */
  args: string[];
  /** Arguments for launches in a tmux session (default: the kind's, none for Claude Code). */
  interactive_args?: string[] | undefined;
  /** Arguments for headless runs (default: the kind's permission mode, e.g. Claude Code's `acceptEdits`). */
  headless_args?: string[] | undefined;
  /** How the model is passed (`--model`). */
  model_flag: string;
  /** How the prompt is given: as the last argument, on stdin, or as a file path. */
  prompt_mode: "argument" | "stdin" | "file";
  /** The default model. */
  model?: string | undefined;
  /** The model for principal-level tasks. */
  strongest_model?: string | undefined;
  /** Models per task difficulty. */
  models: { junior?: string | undefined; senior?: string | undefined; principal?: string | undefined };
  /** Seconds a headless agent may run. */
  timeout?: number | undefined;
  /** The agent kind: its command line, hooks, headless output, conversation ids and screen rules. */
  kind: "claude" | "codex" | "gemini" | "generic";
  /**
   * USD per million tokens, by model, for the costs an agent does not report (they add to prj's own
   * table and win over it); a cache price left out makes a run that used the cache cost unknown.
   */
  prices?: Record<string, ModelPrices> | undefined;
  /** At most this many agents live at once (working, waiting or idle); further launches wait in order. */
  max_agents?: number | undefined;
}

/** The price of a model in USD per million tokens (`agent.prices`). */
export interface ModelPrices {
  /** Input tokens not read from a cache. */
  input: number;
  /** Output tokens, thinking included. */
  output: number;
  /** Input tokens read from a cache. */
  cache_read?: number | undefined;
  /** Input tokens written to a cache. */
  cache_write?: number | undefined;
}

/** The `worktree:` section of config. */
export interface WorktreeConfig {
  /** Where worktrees go (default: the sibling folder `<repo>.worktrees`). */
  dir?: string | undefined;
  /** The base branch (default: the repository's default branch). */
  base?: string | undefined;
  /** Put before a worktree's name to make its branch name. */
  branch_prefix: string;
  /** Untracked files to copy into a new worktree (gitignore patterns). */
  copy: string[];
  /** Commands run in a new worktree (a string runs with `sh -c`). */
  setup: (string | string[])[];
  /** `PRJ_PORT` = port_base + slot * port_stride. */
  port_base: number;
  /** The distance between the ports of two worktrees. */
  port_stride: number;
  /** What `prj worktree merge --queue` runs on each worktree rebased onto the base before merging it (a string runs with `sh -c`). */
  merge_check?: string | string[] | undefined;
}

/** The `headless_pm:` section of config. */
export interface HeadlessPmConfig {
  /** Base URL of the Headless PM server (`HEADLESS_PM_API_URL` wins; default `http://localhost:6969`). */
  url?: string | undefined;
  /** The environment variable that holds the API key. */
  api_key_env: string;
  /** Whole seconds the server may hold `GET /tasks/next` open (its long poll). */
  long_poll: number;
  /** Push a finished task's branch to the remote, so the next role (in another clone) sees the work. */
  push: boolean;
}

/** The `agent_runner:` section of config (`prj agent run`). */
export interface AgentRunnerConfig {
  /** How many times a crashing agent is started on one task before the task is given back. */
  max_attempts: number;
  /** Seconds an agent may work on one task (none: no limit). */
  timeout?: number | undefined;
  /** Seconds each hook may run. */
  hook_timeout: number;
  /** Without a TTY, what a failing pre-task hook does: give the task back, skip the hook, or stop the runner. */
  on_hook_failure: "release" | "skip" | "stop";
  /** Minutes between health-check hooks. */
  health_check_minutes: number;
  /** The prompt for a task; `{{ task.title }}`, `{{ task.description }}`, `{{ task.id }}`, `{{ branch }}`, `{{ worktree }}`. */
  prompt?: string | undefined;
  /** USD: the runner takes no new task once the project's recorded agent spend today (local time) reaches it. */
  budget_usd?: number | undefined;
}

/** `.prj/config.yaml`, with defaults filled in. */
export interface ProjectConfig {
  /** The project's name (default: its folder's name). */
  name?: string | undefined;
  /** The project's default grant for sandboxed steps. */
  permissions?: Permissions | undefined;
  /** The coding agent. */
  agent: AgentConfig;
  /** Worktrees. */
  worktree: WorktreeConfig;
  /** Run when an agent starts waiting for input or exits. */
  notify?: string | string[] | undefined;
  /** Where `prj agent run` takes tasks from. */
  task_source: "builtin" | "headless-pm";
  /** The Headless PM server, for `task_source: headless-pm`. */
  headless_pm?: HeadlessPmConfig | undefined;
  /** `prj agent run` settings. */
  agent_runner: AgentRunnerConfig;
  /** `prj fleet` settings. */
  fleet: { idle_after: number };
  /** Seconds a sandboxed or `run:` step may take when it sets no `timeout` (default 600). */
  step_timeout: number;
  /** MB of JavaScript heap a sandboxed step may use before it is stopped (default 1024). */
  step_memory: number;
}
