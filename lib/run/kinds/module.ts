/**
 * The `module` step kind: a user's step module, run in the sandbox with only its grant.
 * This is the run pipeline's one door to lib/sandbox/: the grant, its description for
 * plans and logs, and the run itself.
 */
import * as path from "../../util/path.ts";
import type { Project } from "../../project/project.ts";
import type { CommandDefinition } from "../../definitions/schema.ts";
import type { ModuleStepSpec } from "../../definitions/steps.ts";
import { describePermissions, resolvePermissions } from "../../sandbox/permissions.ts";
import { importLazy } from "../../util/lazy.ts";
import type { StepResult } from "../contract.ts";
import type { StepRun } from "../step_run.ts";
import { Stopped } from "../stop.ts";

let loaded: Promise<typeof import("../../sandbox/sandbox.ts")> | undefined;

/**
 * The sandbox's runner, loaded when the first sandboxed step runs: it is the largest part of
 * the engine, and plans, `--help` and runs without user steps never need it.
 */
function sandbox(): Promise<typeof import("../../sandbox/sandbox.ts")> {
  return loaded ??= importLazy<typeof import("../../sandbox/sandbox.ts")>("../../sandbox/sandbox.ts", import.meta.url);
}

/** Ends the step processes started ahead that no step took (see releaseSpares); a run calls it when it ends. */
export async function releaseSandbox(): Promise<void> {
  if (loaded) (await loaded).releaseSpares();
}

/**
 * The worktree a step's default grant names: the one the run created or adopted, else the linked
 * worktree prj was started in (a step there may read and write the folder it runs in).
 */
export function grantedWorktree(project: Project, runWorktree: string | undefined): string | undefined {
  return runWorktree ?? project.currentWorktree;
}

function grantOf(
  project: Project,
  def: CommandDefinition,
  step: ModuleStepSpec,
  where: { worktree: string | undefined; artifacts: string; render: (s: string) => string },
) {
  return resolvePermissions(
    [project.config.permissions, def.permissions, step.permissions],
    { project: project.root, worktree: where.worktree, artifacts: where.artifacts },
    where.render,
  );
}

/** The step's grant as `--dry-run` shows it, with paths relative to the project. */
export function describeGrant(
  project: Project,
  def: CommandDefinition,
  step: ModuleStepSpec,
  where: { worktree: string | undefined; artifacts: string; render: (s: string) => string },
): string {
  return describePermissions(grantOf(project, def, step, where), (p) => {
    const rel = path.relative(project.root, p);
    return rel === "" ? "<project>" : rel.startsWith("..") || p.startsWith("<") ? p : rel;
  });
}

/** How many sandboxed steps ahead get their process started early (each start overlaps the steps before it). */
const SPARES_AHEAD = 2;

/**
 * How many processes to start ahead for this step's grant: the sandboxed steps that follow it in
 * the plan (in its part of the run) with the same grant and folder, up to {@link SPARES_AHEAD}.
 * None for the last one, so no process is started for nothing. Without a plan, the sandbox's default.
 */
function sparesFor(run: StepRun): number | undefined {
  const { planned, steps } = run;
  if (steps === undefined) return undefined;
  let alike = 0;
  for (let i = planned.index + 1; i < steps.length && alike < SPARES_AHEAD; i++) {
    const next = steps[i]!;
    if ((next.phase === "cleanup") !== (planned.phase === "cleanup")) break;
    if (next.kind === "module" && next.permissions === planned.permissions && next.cwd === planned.cwd) alike++;
  }
  return alike;
}

/**
 * Runs the module in the sandbox.
 *
 * @throws {PrjError} when the step fails, is denied, or does not load
 * @throws {Stopped} when the step was stopped
 */
export async function runModule(step: ModuleStepSpec, run: StepRun): Promise<StepResult> {
  const worktree = grantedWorktree(run.project, run.session.resources.worktree?.path);
  const grant = grantOf(run.project, run.def, step, {
    worktree,
    artifacts: run.session.artifactDir,
    render: run.render,
  });
  run.recording.line(`sandbox: ${describePermissions(grant)}`, "log");
  const shared = run.session.shared;
  const { runSandboxed, StepStopped } = await sandbox();
  try {
    return await runSandboxed({
      moduleFile: step.file,
      display: path.relative(run.project.root, step.file),
      commandFile: run.def.source.file,
      permissions: grant,
      ctx: { ...run.context, shared: { ...shared } },
      timeoutMs: undefined, // the step's timeout (or the default) stops it through the signal
      signal: run.signal,
      heapMb: run.project.config.step_memory,
      spares: sparesFor(run),
      worktree,
      places: {
        "{{ worktree }}": run.session.resources.worktree?.path,
        "{{ cwd }}": run.project.currentWorktree ?? run.project.root,
        "{{ project }}": run.project.root,
        "{{ artifacts }}": run.session.artifactDir,
      },
      onLog: (text) => run.recording.line(text, "log"),
      onShared: (key, value) => {
        shared[key] = value;
      },
      onArtifact: run.artifact,
    });
  } catch (error) {
    if (error instanceof StepStopped) throw new Stopped();
    throw error;
  }
}
