/** What a step kind gets to run one step: the run around it, the step's resolved values, and its recording. */
import type { Project } from "../project/project.ts";
import type { CommandDefinition } from "../definitions/schema.ts";
import type { PlannedStep } from "./plan.ts";
import type { RunSession, StepRecording } from "./session.ts";
import type { RunWorktree, StepContext } from "./contract.ts";

/** The serialisable part of the step context, the same for every kind. */
export type StepContextData = Pick<StepContext, "run" | "step" | "args" | "with" | "paths" | "env" | "history">;

/** One step being run. */
export interface StepRun {
  /** The project. */
  project: Project;
  /** The command. */
  def: CommandDefinition;
  /** The run's recorder. */
  session: RunSession;
  /** The step as planned. */
  planned: PlannedStep;
  /** The run's plan, when there is one: every step in order (`planned.index` is its place), the cleanup steps last. */
  steps?: readonly PlannedStep[] | undefined;
  /** Its log and outcome. */
  recording: StepRecording;
  /** Aborted when the step must stop (its timeout, the command's, Ctrl-C). */
  signal: AbortSignal;
  /** Resolves placeholders with the run's values as they are now (`quote` applied to each value). */
  render(text: string, quote?: (value: string) => string): string;
  /** The step context's data. */
  context: StepContextData;
  /** Stores an artifact for this step. */
  artifact(name: string, content: string | Uint8Array): Promise<string>;
  /** The model chosen for the run. */
  model: string | undefined;
  /** The command's prompt, loaded before the run. */
  prompt: { file: string; text: string } | undefined;
  /** Records the run's worktree (later steps run there; placeholders see it). */
  setWorktree(worktree: RunWorktree, created: boolean): void;
  /** Records the run's tmux session. */
  setSession(name: string, created: boolean): void;
}
