/**
 * The zod schemas of command definitions and project config, imported only when a file is
 * validated. The public types are the interfaces in schema.ts (JSR needs them written out);
 * the checks at the end of this file fail to compile when a schema and its interface differ
 * in any field, optionality or type, so the two cannot drift apart.
 */
import { z } from "npm:zod@4.6.7";
import type {
  AgentConfig,
  AgentRunnerConfig,
  ArgumentDef,
  CommandFile,
  HeadlessPmConfig,
  Permissions,
  ProjectConfig,
  StepDef,
  WorktreeConfig,
} from "./schema.ts";

const PermissionValueSchema = z.union([z.boolean(), z.array(z.string())]);

/** Schema of {@link Permissions}. */
export const PermissionsSchema = z.strictObject({
  read: PermissionValueSchema.optional(),
  write: PermissionValueSchema.optional(),
  net: PermissionValueSchema.optional(),
  env: PermissionValueSchema.optional(),
  run: PermissionValueSchema.optional(),
  sys: PermissionValueSchema.optional(),
  ffi: PermissionValueSchema.optional(),
});

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

/** Schema of {@link ArgumentDef}. */
export const ArgumentDefSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, "a name of letters, digits, _ and -"),
  type: z.enum(["string", "number", "boolean", "path"]).default("string"),
  required: z.boolean().default(false),
  default: Scalar.optional(),
  choices: z.array(z.union([z.string(), z.number()])).min(1).optional(),
  description: z.string().optional(),
});

/** The longest wait a timer can do is 2^31 - 1 ms; a longer timeout would fire at once. */
export const MAX_TIMEOUT_SECONDS = 2147483;
const Seconds = z.number().positive().max(
  MAX_TIMEOUT_SECONDS,
  `expected at most ${MAX_TIMEOUT_SECONDS} seconds (about 24 days, the longest a timer can wait)`,
);

/** Schema of {@link StepDef}. */
export const StepDefSchema = z.strictObject({
  name: z.string().min(1).optional(),
  uses: z.string().min(1).optional(),
  with: z.record(z.string(), z.unknown()).optional(),
  run: z.union([z.array(z.string()).min(1), z.string().min(1)]).optional(),
  shell: z.boolean().optional(),
  timeout: Seconds.optional(),
  permissions: PermissionsSchema.optional(),
  continue_on_error: z.boolean().optional(),
  env: z.record(z.string(), z.string()).optional(),
  working_directory: z.string().optional(),
  if: z.union([z.string(), z.boolean()]).optional(),
});

const StepEntry = z.preprocess(
  (value) => (typeof value === "string" ? { uses: value } : value),
  StepDefSchema,
);
const StepList = z.array(StepEntry);

/** Schema of {@link CommandFile}. */
export const CommandFileSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "a lowercase name of letters, digits, _ and -").optional(),
  description: z.string().optional(),
  category: z.string().optional(),
  extends: z.string().min(1).optional(),
  arguments: z.array(ArgumentDefSchema).optional(),
  environment: z.record(z.string(), z.string()).optional(),
  prompt_file: z.string().optional(),
  working_directory: z.string().optional(),
  timeout: Seconds.optional(),
  permissions: PermissionsSchema.optional(),
  model: z.string().optional(),
  pre_steps: StepList.optional(),
  steps: StepList.optional(),
  post_steps: StepList.optional(),
  cleanup_on_failure: StepList.optional(),
});

const AgentConfigSchema = z.strictObject({
  command: z.union([z.string().min(1), z.array(z.string()).min(1)]).optional(),
  args: z.array(z.string()).default([]),
  interactive_args: z.array(z.string()).optional(),
  headless_args: z.array(z.string()).optional(),
  model_flag: z.string().default("--model"),
  prompt_mode: z.enum(["argument", "stdin", "file"]).default("argument"),
  model: z.string().optional(),
  strongest_model: z.string().optional(),
  models: z.strictObject({
    junior: z.string().optional(),
    senior: z.string().optional(),
    principal: z.string().optional(),
  }).default({}),
  timeout: Seconds.optional(),
  kind: z.enum(["claude", "codex", "gemini", "generic"]).default("claude"),
  prices: z.record(
    z.string(),
    z.strictObject({
      input: z.number().nonnegative(),
      output: z.number().nonnegative(),
      cache_read: z.number().nonnegative().optional(),
      cache_write: z.number().nonnegative().optional(),
    }),
  ).optional(),
  max_agents: z.number().int().positive().optional(),
});

const WorktreeConfigSchema = z.strictObject({
  dir: z.string().optional(),
  base: z.string().optional(),
  branch_prefix: z.string().default(""),
  copy: z.array(z.string()).default([]),
  setup: z.array(z.union([z.string(), z.array(z.string()).min(1)])).default([]),
  port_base: z.number().int().positive().default(3000),
  port_stride: z.number().int().positive().default(10),
  merge_check: z.union([z.string().min(1), z.array(z.string()).min(1)]).optional(),
});

const HeadlessPmSchema = z.strictObject({
  url: z.url().optional(),
  api_key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name").default(
    "HEADLESS_PM_API_KEY",
  ),
  // The server takes whole seconds only (it refuses every poll with `timeout=0.5`).
  long_poll: Seconds.refine(Number.isInteger, "expected whole seconds (the server refuses fractions)").default(180),
  push: z.boolean().default(true),
});

const AgentRunnerSchema = z.strictObject({
  max_attempts: z.number().int().positive().default(3),
  timeout: Seconds.optional(),
  hook_timeout: Seconds.default(300),
  on_hook_failure: z.enum(["release", "skip", "stop"]).default("release"),
  health_check_minutes: z.number().positive().default(5),
  prompt: z.string().optional(),
  budget_usd: z.number().positive().optional(),
});

/** Schema of {@link ProjectConfig}. */
export const ProjectConfigSchema = z.strictObject({
  name: z.string().optional(),
  permissions: PermissionsSchema.optional(),
  agent: AgentConfigSchema.default(AgentConfigSchema.parse({})),
  worktree: WorktreeConfigSchema.default(WorktreeConfigSchema.parse({})),
  notify: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
  task_source: z.enum(["builtin", "headless-pm"]).default("builtin"),
  headless_pm: HeadlessPmSchema.optional(),
  agent_runner: AgentRunnerSchema.default(AgentRunnerSchema.parse({})),
  fleet: z.strictObject({ idle_after: z.number().positive().default(5) }).default({ idle_after: 5 }),
  step_timeout: Seconds.default(600),
  step_memory: z.number().int().min(16).default(1024),
});

/** True when A and B are exactly the same type (not merely assignable either way). */
type Exactly<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;

// Each line fails to compile when a schema and its interface disagree.
const _permissions: Exactly<z.output<typeof PermissionsSchema>, Permissions> = true;
const _argument: Exactly<z.output<typeof ArgumentDefSchema>, ArgumentDef> = true;
const _step: Exactly<z.output<typeof StepDefSchema>, StepDef> = true;
const _commandFile: Exactly<z.output<typeof CommandFileSchema>, CommandFile> = true;
const _agent: Exactly<z.output<typeof AgentConfigSchema>, AgentConfig> = true;
const _worktree: Exactly<z.output<typeof WorktreeConfigSchema>, WorktreeConfig> = true;
const _headlessPm: Exactly<z.output<typeof HeadlessPmSchema>, HeadlessPmConfig> = true;
const _agentRunner: Exactly<z.output<typeof AgentRunnerSchema>, AgentRunnerConfig> = true;
const _config: Exactly<z.output<typeof ProjectConfigSchema>, ProjectConfig> = true;
