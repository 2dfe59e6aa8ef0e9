/** The types of command definitions and project config (their zod schemas are in _schemas.ts, loaded on use). */

// Public types are written out as interfaces (JSR forbids inferred "slow" types in a
// package's API); each schema is annotated with its interface, so the compiler still
// checks that the schema and the type agree.

/** A permission: `true` (all), `false` (none) or a list of paths, hosts, names or programs. */
export type PermissionValue = boolean | string[];

/** The Deno permissions a user step may be granted, as written in YAML. */
export interface Permissions {
  read?: PermissionValue | undefined;
  write?: PermissionValue | undefined;
  net?: PermissionValue | undefined;
  env?: PermissionValue | undefined;
  run?: PermissionValue | undefined;
  sys?: PermissionValue | undefined;
  ffi?: PermissionValue | undefined;
}

/** One declared argument of a command. */
export interface ArgumentDef {
  name: string;
  type: "string" | "number" | "boolean" | "path";
  required: boolean;
  default?: string | number | boolean | undefined;
  choices?: (string | number)[] | undefined;
  description?: string | undefined;
}

/** One step in its object form (a bare string `name` means `{ uses: name }`). */
export interface StepDef {
  name?: string | undefined;
  uses?: string | undefined;
  with?: Record<string, unknown> | undefined;
  run?: string[] | string | undefined;
  shell?: boolean | undefined;
  timeout?: number | undefined;
  permissions?: Permissions | undefined;
  continue_on_error?: boolean | undefined;
  env?: Record<string, string> | undefined;
  working_directory?: string | undefined;
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
}

/** The `agent:` section of config. */
export interface AgentConfig {
  command: string | string[];
  args: string[];
  model_flag: string;
  prompt_mode: "argument" | "stdin" | "file";
  model?: string | undefined;
  strongest_model?: string | undefined;
  models: { junior?: string | undefined; senior?: string | undefined; principal?: string | undefined };
  timeout?: number | undefined;
  kind: string;
}

/** The `worktree:` section of config. */
export interface WorktreeConfig {
  dir?: string | undefined;
  base?: string | undefined;
  branch_prefix: string;
  copy: string[];
  setup: (string | string[])[];
  port_base: number;
  port_stride: number;
}

/** The `headless_pm:` section of config. */
export interface HeadlessPmConfig {
  /** Base URL of the Headless PM server, e.g. `http://localhost:6969`. */
  url: string;
  /** The environment variable that holds the API key. */
  api_key_env: string;
  /** Seconds the server may hold `GET /tasks/next` open (its long poll). */
  long_poll: number;
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
}

/** `.prj/config.yaml`, with defaults filled in. */
export interface ProjectConfig {
  name?: string | undefined;
  permissions?: Permissions | undefined;
  agent: AgentConfig;
  worktree: WorktreeConfig;
  notify?: string | string[] | undefined;
  task_source: "builtin" | "headless-pm";
  headless_pm?: HeadlessPmConfig | undefined;
  agent_runner: AgentRunnerConfig;
  /** `prj fleet` settings. */
  fleet: { idle_after: number };
}
