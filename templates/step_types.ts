/**
 * The step contract as a declaration file, which `prj init` writes to .prj/steps/types.d.ts so a
 * step gets its types offline: `import type { StepContext } from "./types.d.ts"` needs no network,
 * no package and no config, for an editor, `deno check` and `deno lint` alike. A test checks these
 * declarations against lib/run/contract.ts both ways.
 */

/** Source of .prj/steps/types.d.ts. */
export const stepTypes: string =
  `// The types of a prj step, written by \`prj init\` (\`prj init --force\` brings them up to date).
// In a step: import type { StepContext } from "./types.d.ts";

/** What a step may return. */
export interface StepResult {
  /** A short human-readable result, stored with the step and shown in history. */
  output?: string;
  /** Structured data, stored with the step and visible to later steps. */
  data?: Record<string, unknown>;
}

/** An earlier step of the same run, as later steps see it. */
export interface StepHistoryEntry {
  /** The step's name. */
  name: string;
  /** How it ended. */
  status: string;
  /** Its \`output\`, if any. */
  output?: string | undefined;
  /** Its \`data\`, if any. */
  data?: Record<string, unknown> | undefined;
}

/** JSON values shared between the steps of one run, persisted with the run. */
export interface SharedData {
  /** The value stored under \`key\`, or undefined. */
  get<T = unknown>(key: string): T | undefined;
  /** Stores a JSON value under \`key\`; later steps see it. */
  set(key: string, value: unknown): void;
  /** Every key and value. */
  all(): Record<string, unknown>;
}

/** The paths a step works with (all absolute). */
export interface StepPaths {
  /** The project root (main worktree). */
  project: string;
  /** The run's worktree, once a step has created one. */
  worktree: string | undefined;
  /** The step's working directory. */
  cwd: string;
  /** The run's artifact directory \`.prj/artifacts/<run-id>\`. */
  artifacts: string;
  /** \`<artifacts>/outputs\`. */
  outputs: string;
}

/** What a step receives. */
export interface StepContext {
  /** The run this step belongs to. */
  run: { id: string; command: string };
  /** This step: its name, its position in the run, its phase. */
  step: { name: string; index: number; phase: string };
  /** The command's validated arguments. */
  args: Record<string, unknown>;
  /** The step's \`with:\` values, placeholders resolved. */
  with: Record<string, unknown>;
  /** Project, worktree, working and artifact directories. */
  paths: StepPaths;
  /** The environment variables granted to this step (command \`environment\` plus step \`env\`). */
  env: Record<string, string>;
  /** Data shared with the other steps of the run. */
  shared: SharedData;
  /** The earlier steps of this run. */
  history: StepHistoryEntry[];
  /** Writes a line to the terminal and the step's log file. */
  log(...parts: unknown[]): void;
  /** Stores a file under the run's \`outputs/\`, returning its path. */
  artifact(name: string, content: string | Uint8Array): Promise<string>;
  /** Aborted when the step times out or the run is cancelled. */
  signal: AbortSignal;
}

/** A step module's default export. */
export type StepFunction = (ctx: StepContext) => void | StepResult | Promise<void | StepResult>;
`;
