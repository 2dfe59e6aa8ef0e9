/** The step contract: what a step receives and may return. */
import type { Project } from "../project/project.ts";
import type { Store } from "../state/store.ts";

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
  /** Its `output`, if any. */
  output?: string | undefined;
  /** Its `data`, if any. */
  data?: Record<string, unknown> | undefined;
}

/** JSON values shared between the steps of one run, persisted with the run. */
export interface SharedData {
  /** The value stored under `key`, or undefined. */
  get<T = unknown>(key: string): T | undefined;
  /** Stores a JSON value under `key`; later steps see it. */
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
  /** The run's artifact directory `.prj/artifacts/<run-id>`. */
  artifacts: string;
  /** `<artifacts>/outputs`. */
  outputs: string;
}

/** What every step (built-in or user module) receives. */
export interface StepContext {
  /** The run this step belongs to. */
  run: { id: string; command: string };
  /** This step: its name, its position in the run, its phase. */
  step: { name: string; index: number; phase: string };
  /** The command's validated arguments. */
  args: Record<string, unknown>;
  /** The step's `with:` values, placeholders resolved. */
  with: Record<string, unknown>;
  /** Project, worktree, working and artifact directories. */
  paths: StepPaths;
  /** The environment variables granted to this step (command `environment` plus step `env`). */
  env: Record<string, string>;
  /** Data shared with the other steps of the run. */
  shared: SharedData;
  /** The earlier steps of this run. */
  history: StepHistoryEntry[];
  /** Writes a line to the terminal and the step's log file. */
  log(...parts: unknown[]): void;
  /** Stores a file under the run's `outputs/`, returning its path. */
  artifact(name: string, content: string | Uint8Array): Promise<string>;
  /** Aborted when the step times out or the run is cancelled. */
  signal: AbortSignal;
}

/** A step module's default export. */
export type StepFunction = (ctx: StepContext) => void | StepResult | Promise<void | StepResult>;

/** A worktree a run created or adopted. */
export interface RunWorktree {
  /** Worktree name. */
  name: string;
  /** Absolute path. */
  path: string;
  /** Its branch. */
  branch: string;
}

/** What built-in steps get beyond the public contract (they are trusted and run in-process). */
export interface BuiltinContext extends StepContext {
  /** The project. */
  project: Project;
  /** The state store. */
  store: Store;
  /** The model chosen for this run (from `--model`, the command, or config). */
  model: string | undefined;
  /** Streams a line of a program's output to the terminal and the step log. */
  output(line: string, stream: "stdout" | "stderr"): void;
  /** Records the worktree this run works in; later steps run there. */
  setWorktree(worktree: RunWorktree, created: boolean): void;
  /** Records the tmux session this run works in. */
  setSession(name: string, created: boolean): void;
  /** Records that a worktree or session of this run was removed. */
  resourceRemoved(kind: "worktree" | "session", name: string): void;
  /** The run's worktree and session so far. */
  resources: { worktree: RunWorktree | undefined; session: string | undefined };
  /** Resolves `{{ }}` placeholders with the run's current values. */
  render(text: string): string;
  /** The command's prompt (`prompt_file`), loaded before the run started. */
  prompt: { file: string; text: string } | undefined;
}

/** A built-in step's default export. */
export type BuiltinStep = (ctx: BuiltinContext) => void | StepResult | Promise<void | StepResult>;
