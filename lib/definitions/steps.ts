/**
 * A step as the run pipeline sees it: the YAML step (`StepDef`, where `uses` and `run` are
 * both optional) normalised into one of three kinds, so code that runs a step never has to
 * ask which fields are set.
 */
import * as path from "../util/path.ts";
import type { Permissions, StepDef } from "./schema.ts";

/** The built-in steps, by the name a command uses (`steps/<name with _>.ts` holds each). */
export const BUILTIN_STEP_NAMES: readonly string[] = [
  "setup-environment",
  "validate-prerequisites",
  "gather-context",
  "store-artifacts",
  "cleanup",
  "create-worktree",
  "start-session",
  "launch-agent",
  "remove-worktree",
  "kill-session",
  "fan-out",
  "render-prompt",
];

/** What every kind of step has. */
export interface StepCommon {
  /** The step's name: `name:`, else derived from `uses` or `run`. */
  name: string;
  /** `with:` values, placeholders not yet resolved. */
  with: Record<string, unknown>;
  /** `env:` values, placeholders not yet resolved. */
  env: Record<string, string>;
  /** Seconds before it is stopped. */
  timeout: number | undefined;
  /** Whether the run goes on when it fails. */
  continueOnError: boolean;
  /** Where it runs, relative to the project (placeholders not yet resolved). */
  workingDirectory: string | undefined;
  /** Its condition, if any. */
  if: string | boolean | undefined;
}

/** A built-in step (steps/*.ts), run in-process because it is trusted. */
export interface BuiltinStepSpec extends StepCommon {
  /** Run in-process. */
  kind: "builtin";
  /** The built-in's name, e.g. `create-worktree`. */
  builtin: string;
}

/** A user's step module, run in the sandbox with only its grant. */
export interface ModuleStepSpec extends StepCommon {
  /** Run in the sandbox. */
  kind: "module";
  /** The module's absolute path. */
  file: string;
  /** The step's own `permissions:` layer. */
  permissions: Permissions | undefined;
}

/** A program, started outside the sandbox. */
export interface ProgramStepSpec extends StepCommon {
  /** Started outside the sandbox. */
  kind: "program";
  /** An argv list, or one line for `sh -c` (`shell: true`). */
  command: { argv: string[] } | { shell: string };
}

/** A step, by kind. */
export type StepSpec = BuiltinStepSpec | ModuleStepSpec | ProgramStepSpec;

/** The file a `uses:` that is not a built-in refers to: `.prj/steps/<name>.ts`, or a path under `.prj/`. */
export function userStepPath(prjDir: string, uses: string): string {
  if (uses.includes("/") || uses.endsWith(".ts") || uses.endsWith(".js")) return path.resolve(prjDir, uses);
  return path.join(prjDir, "steps", `${uses}.ts`);
}

/** The name a step is shown and logged under. */
export function stepName(step: StepDef): string {
  if (step.name) return step.name;
  if (step.uses) return path.basename(step.uses).replace(/\.(ts|js)$/, "");
  if (Array.isArray(step.run)) return path.basename(step.run[0]!);
  return String(step.run).split(/\s+/)[0] ?? "shell";
}

/**
 * Normalises a validated step (the loader has checked that exactly one of `uses` and
 * `run` is set, and that `run` is a string only with `shell: true`).
 *
 * @param prjDir the project's `.prj` folder, where user step modules live
 * @param step the step as written
 */
export function normalizeStep(prjDir: string, step: StepDef): StepSpec {
  const common: StepCommon = {
    name: stepName(step),
    with: step.with ?? {},
    env: step.env ?? {},
    timeout: step.timeout,
    continueOnError: step.continue_on_error ?? false,
    workingDirectory: step.working_directory,
    if: step.if,
  };
  if (step.run !== undefined) {
    return { ...common, kind: "program", command: Array.isArray(step.run) ? { argv: step.run } : { shell: step.run } };
  }
  const uses = step.uses ?? "";
  if (BUILTIN_STEP_NAMES.includes(uses)) return { ...common, kind: "builtin", builtin: uses };
  return { ...common, kind: "module", file: userStepPath(prjDir, uses), permissions: step.permissions };
}
