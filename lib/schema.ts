/** The zod schemas of command definitions and project config: one declaration is both check and type. */
import { z } from "zod";

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

const PermissionValueSchema = z.union([z.boolean(), z.array(z.string())]);

/** Schema of {@link Permissions}. */
export const Permissions: z.ZodType<Permissions> = z.strictObject({
  read: PermissionValueSchema.optional(),
  write: PermissionValueSchema.optional(),
  net: PermissionValueSchema.optional(),
  env: PermissionValueSchema.optional(),
  run: PermissionValueSchema.optional(),
  sys: PermissionValueSchema.optional(),
  ffi: PermissionValueSchema.optional(),
});

/** One declared argument of a command. */
export interface ArgumentDef {
  name: string;
  type: "string" | "number" | "boolean" | "path";
  required: boolean;
  default?: string | number | boolean | undefined;
  choices?: (string | number)[] | undefined;
  description?: string | undefined;
}

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

/** Schema of {@link ArgumentDef}. */
export const ArgumentDef: z.ZodType<ArgumentDef, unknown> = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, "a name of letters, digits, _ and -"),
  type: z.enum(["string", "number", "boolean", "path"]).default("string"),
  required: z.boolean().default(false),
  default: Scalar.optional(),
  choices: z.array(z.union([z.string(), z.number()])).min(1).optional(),
  description: z.string().optional(),
});

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

/** Schema of {@link StepDef}. */
export const StepDef: z.ZodType<StepDef> = z.strictObject({
  name: z.string().min(1).optional(),
  uses: z.string().min(1).optional(),
  with: z.record(z.string(), z.unknown()).optional(),
  run: z.union([z.array(z.string()).min(1), z.string().min(1)]).optional(),
  shell: z.boolean().optional(),
  timeout: z.number().positive().optional(),
  permissions: Permissions.optional(),
  continue_on_error: z.boolean().optional(),
  env: z.record(z.string(), z.string()).optional(),
  working_directory: z.string().optional(),
  if: z.union([z.string(), z.boolean()]).optional(),
});

const StepEntry = z.preprocess(
  (value) => (typeof value === "string" ? { uses: value } : value),
  StepDef,
);
const StepList = z.array(StepEntry);

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

/** Schema of {@link CommandFile}. */
export const CommandFile: z.ZodType<CommandFile, unknown> = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "a lowercase name of letters, digits, _ and -").optional(),
  description: z.string().optional(),
  category: z.string().optional(),
  extends: z.string().min(1).optional(),
  arguments: z.array(ArgumentDef).optional(),
  environment: z.record(z.string(), z.string()).optional(),
  prompt_file: z.string().optional(),
  working_directory: z.string().optional(),
  timeout: z.number().positive().optional(),
  permissions: Permissions.optional(),
  model: z.string().optional(),
  pre_steps: StepList.optional(),
  steps: StepList.optional(),
  post_steps: StepList.optional(),
  cleanup_on_failure: StepList.optional(),
});

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

const AgentConfigSchema = z.strictObject({
  command: z.union([z.string().min(1), z.array(z.string()).min(1)]).default("claude"),
  args: z.array(z.string()).default([]),
  model_flag: z.string().default("--model"),
  prompt_mode: z.enum(["argument", "stdin", "file"]).default("argument"),
  model: z.string().optional(),
  strongest_model: z.string().optional(),
  models: z.strictObject({
    junior: z.string().optional(),
    senior: z.string().optional(),
    principal: z.string().optional(),
  }).default({}),
  timeout: z.number().positive().optional(),
  kind: z.string().default("claude"),
});

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

const WorktreeConfigSchema = z.strictObject({
  dir: z.string().optional(),
  base: z.string().optional(),
  branch_prefix: z.string().default(""),
  copy: z.array(z.string()).default([]),
  setup: z.array(z.union([z.string(), z.array(z.string()).min(1)])).default([]),
  port_base: z.number().int().positive().default(3000),
  port_stride: z.number().int().positive().default(10),
});

/** `.prj/config.yaml`, with defaults filled in. */
export interface ProjectConfig {
  name?: string | undefined;
  permissions?: Permissions | undefined;
  agent: AgentConfig;
  worktree: WorktreeConfig;
  notify?: string | string[] | undefined;
}

/** Schema of {@link ProjectConfig}. */
export const ProjectConfig: z.ZodType<ProjectConfig, unknown> = z.strictObject({
  name: z.string().optional(),
  permissions: Permissions.optional(),
  agent: AgentConfigSchema.default(AgentConfigSchema.parse({})),
  worktree: WorktreeConfigSchema.default(WorktreeConfigSchema.parse({})),
  notify: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
});
