/** Runs a command: creates the run, then pre_steps -> steps -> post_steps, with cleanup, timeouts and cancellation. */
import * as path from "node:path";
import { PrjError, UsageError } from "../util/errors.ts";
import type { Project } from "../project/project.ts";
import type { CommandDefinition, StepDef } from "../definitions/schema.ts";
import { openStore, type Store } from "../state/store.ts";
import { createRun, finishRun, type RunStatus, updateRun } from "../state/runs.ts";
import { finishStep, skipStep, startStep, type StepStatus } from "../state/steps.ts";
import { addArtifact } from "../state/artifacts.ts";
import { addResource, markResourceRemoved } from "../state/resources.ts";
import { runStreaming } from "../util/process.ts";
import { runSandboxed, StepStopped } from "../sandbox/sandbox.ts";
import { killSession } from "../workspace/sessions.ts";
import { removeWorktree } from "../workspace/worktrees.ts";
import { TEMPLATE_FILES } from "../../templates/mod.ts";
import { mapStrings, type PlaceholderValues, render } from "../definitions/placeholders.ts";
import { describePermissions, type ResolvedPermissions, resolvePermissions } from "../sandbox/permissions.ts";
import { BUILTIN_STEPS } from "./builtins.ts";
import { userStepPath } from "../definitions/loader.ts";
import type { BuiltinContext, RunWorktree, StepHistoryEntry, StepResult } from "./contract.ts";

/** The phases of a run, in order; `cleanup` runs only after a failure. */
export type Phase = "pre" | "main" | "post" | "cleanup";

/** One step as planned: what it resolves to, where and how it runs. */
export interface PlannedStep {
  /** Position in the run (0-based, across phases). */
  index: number;
  /** Its phase. */
  phase: Phase;
  /** Its name. */
  name: string;
  /** `builtin` (in-process), `module` (sandboxed Worker) or `program` (outside the sandbox). */
  kind: "builtin" | "module" | "program";
  /** The built-in name, the module path, or the argv / shell line. */
  target: string;
  /** The grant of a sandboxed step, described. */
  permissions: string | undefined;
  /** Where it runs (placeholders resolved where already known). */
  cwd: string;
  /** Its own timeout in seconds, if any. */
  timeout: number | undefined;
  /** True when it starts a program, outside Deno's sandbox. */
  outsideSandbox: boolean;
  /** Whether the run goes on when it fails. */
  continueOnError: boolean;
  /** The definition it comes from. */
  def: StepDef;
}

/** The plan of a run (what `--dry-run` prints). */
export interface RunPlan {
  /** The command. */
  command: string;
  /** The validated arguments. */
  args: Record<string, unknown>;
  /** Whole-command timeout in seconds. */
  timeout: number | undefined;
  /** The model `launch-agent` would use. */
  model: string | undefined;
  /** The steps in run order, then the cleanup steps. */
  steps: PlannedStep[];
}

/** Something that happened during a run, for progress displays. */
export type RunEvent =
  | { type: "run-start"; runId: string; command: string; artifactDir: string; steps: number }
  | { type: "step-start"; index: number; name: string; phase: Phase; kind: PlannedStep["kind"] }
  | { type: "step-output"; index: number; name: string; line: string; stream: "stdout" | "stderr" | "log" }
  | {
    type: "step-end";
    /** Position in the run (0-based, across phases). */
    index: number;
    /** The step's name. */
    name: string;
    /** How it ended. */
    status: StepStatus;
    /** How long it took. */
    durationMs: number;
    /** Its `output`. */
    output?: string | undefined;
    /** Why it did not succeed. */
    error?: string | undefined;
  }
  | { type: "notice"; message: string }
  | { type: "run-end"; runId: string; status: RunStatus; durationMs: number; error?: string | undefined };

/** How one step ended. */
export interface StepOutcome {
  /** Position in the run (0-based, across phases). */
  index: number;
  /** The step's name. */
  name: string;
  /** Its phase. */
  phase: Phase;
  /** How it ended. */
  status: StepStatus;
  /** How long it took. */
  durationMs: number;
  /** Its `output`. */
  output?: string | undefined;
  /** Its `data`. */
  data?: Record<string, unknown> | undefined;
  /** Why it did not succeed. */
  error?: string | undefined;
  /** Its log file. */
  logPath: string;
}

/** How a run ended. */
export interface RunResult {
  /** The run id. */
  runId: string;
  /** The command's name. */
  command: string;
  /** How the run ended. */
  status: RunStatus;
  /** How long it took. */
  durationMs: number;
  /** Why it did not succeed. */
  error?: string | undefined;
  /** Every step that ran (or was skipped by its condition), in order. */
  steps: StepOutcome[];
  /** `.prj/artifacts/<run-id>`. */
  artifactDir: string;
  /** The run's shared data at the end. */
  shared: Record<string, unknown>;
  /** The worktree the run created or adopted. */
  worktree?: RunWorktree | undefined;
  /** The tmux session the run created or adopted. */
  session?: string | undefined;
}

/** Options for {@link runCommand}. */
export interface RunOptions {
  /** Validated arguments (see parseArguments). */
  args: Record<string, unknown>;
  /** The model for `launch-agent` (overrides the command's and config's). */
  model?: string | undefined;
  /** Cancels the run (Ctrl-C): the current step stops, cleanup runs, the run is `cancelled`. */
  signal?: AbortSignal | undefined;
  /** Progress events. */
  onEvent?: ((event: RunEvent) => void) | undefined;
  /** Use this run id instead of a new one. */
  runId?: string | undefined;
  /** The run that started this one (fan-out). */
  parentId?: string | undefined;
  /** An open store to use (else the project's is opened and closed). */
  store?: Store | undefined;
}

/** A new sortable run id: `20261120-215600-x7k2`.
 *
 * @example
 * ```ts
 * import { newRunId } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * assert.match(newRunId(new Date("2026-11-20T21:56:00Z")), /^20261120-215600-[a-z2-9]{4}$/);
 * ```
 */
export function newRunId(date: Date = new Date()): string {
  const iso = date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const rand = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => "abcdefghijkmnpqrstuvwxyz23456789"[b % 32])
    .join("");
  return `${iso.slice(0, 8)}-${iso.slice(8)}-${rand}`;
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60) || "step";
}

function stepName(step: StepDef): string {
  if (step.name) return step.name;
  if (step.uses) return path.basename(step.uses).replace(/\.(ts|js)$/, "");
  if (Array.isArray(step.run)) return path.basename(step.run[0]!);
  return String(step.run).split(/\s+/)[0] ?? "shell";
}

/** The default working directory: the linked worktree prj was started in, else the project root. */
function baseCwd(project: Project, def: CommandDefinition, values: PlaceholderValues): string {
  const root = project.currentWorktree ?? project.root;
  return def.working_directory ? path.resolve(root, tryRender(def.working_directory, values)) : root;
}

function tryRender(text: string, values: PlaceholderValues): string {
  try {
    return render(text, values);
  } catch {
    return text;
  }
}

/**
 * Plans a run without changing anything: resolves every step, its permissions, working
 * directory, timeout, and whether it runs a program outside the sandbox.
 *
 * @example
 * ```ts
 * import { initProject, loadCommand, openProject, parseArguments, planRun } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await initProject(dir);
 * const project = await openProject(dir);
 * const command = await loadCommand(project, "example");
 * const plan = planRun(project, command, parseArguments(command, [], dir));
 * assert.deepEqual(plan.steps.map((s) => [s.name, s.kind, s.outsideSandbox]), [
 *   ["example", "module", false],
 *   ["show", "program", true],
 * ]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function planRun(
  project: Project,
  def: CommandDefinition,
  args: Record<string, unknown>,
  model?: string,
): RunPlan {
  const values: PlaceholderValues = {
    args,
    env: def.environment,
    shared: {},
    plain: {
      "run.id": "<run-id>",
      "run.command": def.name,
      project: project.root,
      project_name: project.name,
      cwd: project.currentWorktree ?? project.root,
      artifacts: path.join(project.prjDir, "artifacts", "<run-id>"),
      model: model ?? def.model ?? project.config.agent.model,
    },
  };
  const phases: [Phase, StepDef[]][] = [["pre", def.pre_steps], ["main", def.steps], ["post", def.post_steps], [
    "cleanup",
    def.cleanup_on_failure,
  ]];
  const steps: PlannedStep[] = [];
  let worktreeAhead = false;
  for (const [phase, list] of phases) {
    for (const step of list) {
      const name = stepName(step);
      const cwd = step.working_directory
        ? path.resolve(project.root, tryRender(step.working_directory, values))
        : worktreeAhead
        ? "<worktree>"
        : baseCwd(project, def, values);
      let kind: PlannedStep["kind"];
      let target: string;
      let permissions: string | undefined;
      if (step.run !== undefined) {
        kind = "program";
        target = Array.isArray(step.run)
          ? step.run.map((a) => tryRender(a, values)).join(" ")
          : `sh -c ${JSON.stringify(tryRender(step.run, values))}`;
      } else if (step.uses! in BUILTIN_STEPS) {
        kind = "builtin";
        target = step.uses!;
        if (step.uses === "create-worktree") worktreeAhead = true;
      } else {
        kind = "module";
        target = path.relative(project.root, userStepPath(project, step.uses!));
        const grant = resolvePermissions(
          [project.config.permissions, def.permissions, step.permissions],
          {
            project: project.root,
            worktree: worktreeAhead ? "<worktree>" : undefined,
            artifacts: values.plain.artifacts!,
          },
          (s) => tryRender(s, values),
        );
        permissions = describePermissions(grant, (p) => {
          const rel = path.relative(project.root, p);
          return rel === "" ? "<project>" : rel.startsWith("..") || p.startsWith("<") ? p : rel;
        });
      }
      const launchesProgram = kind === "program" ||
        (kind === "builtin" && ["launch-agent", "create-worktree"].includes(step.uses!));
      steps.push({
        index: steps.length,
        phase,
        name,
        kind,
        target,
        permissions,
        cwd,
        timeout: step.timeout,
        outsideSandbox: launchesProgram,
        continueOnError: step.continue_on_error ?? false,
        def: step,
      });
    }
  }
  return { command: def.name, args, timeout: def.timeout, model: values.plain.model, steps };
}

/** Loads the command's prompt file (from .prj/, else the templates), so a missing prompt fails before the run. */
async function loadPrompt(
  project: Project,
  def: CommandDefinition,
): Promise<{ file: string; text: string } | undefined> {
  if (!def.prompt_file) return undefined;
  const file = path.resolve(project.prjDir, def.prompt_file);
  try {
    return { file, text: await Deno.readTextFile(file) };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const text = TEMPLATE_FILES[def.prompt_file.replace(/^\.\//, "")];
  if (text !== undefined) return { file: `templates/${def.prompt_file}`, text };
  throw new UsageError(
    `${def.source.file}: prompt_file: "${def.prompt_file}" not found in .prj/ or the shipped templates`,
  );
}

class LogFile {
  #file: Deno.FsFile;
  constructor(p: string) {
    this.#file = Deno.openSync(p, { append: true, create: true });
  }
  write(line: string): void {
    this.#file.writeSync(new TextEncoder().encode(line.endsWith("\n") ? line : line + "\n"));
  }
  close(): void {
    try {
      this.#file.close();
    } catch { /* closed */ }
  }
}

/**
 * Runs a command to the end and records everything in the project's store and artifacts.
 *
 * @param project the project
 * @param def the command definition (see loadCommand)
 * @param options arguments, model, cancellation and progress callbacks
 * @returns how the run ended; a failed step does not throw, it sets `status`
 * @example
 * ```ts
 * import { initProject, loadCommand, openProject, runCommand } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await initProject(dir);
 * await Deno.writeTextFile(`${dir}/.prj/commands/hello.yaml`, "steps:\n  - name: hi\n    run: [echo, hi]\n");
 * const project = await openProject(dir);
 * const ended: string[] = [];
 * const result = await runCommand(project, await loadCommand(project, "hello"), {
 *   args: {},
 *   onEvent: (e) => e.type === "step-end" && ended.push(`${e.name} ${e.status}`),
 * });
 * assert.equal(result.status, "succeeded");
 * assert.deepEqual(ended, ["hi succeeded"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function runCommand(project: Project, def: CommandDefinition, options: RunOptions): Promise<RunResult> {
  const prompt = await loadPrompt(project, def);
  const model = options.model ?? def.model ?? project.config.agent.model;
  const plan = planRun(project, def, options.args, model);
  const store = options.store ?? openStore(project.prjDir);
  const runId = options.runId ?? newRunId();
  const artifactDir = path.join(project.prjDir, "artifacts", runId);
  const outputsDir = path.join(artifactDir, "outputs");
  const logsDir = path.join(artifactDir, "logs");
  await Deno.mkdir(outputsDir, { recursive: true });
  await Deno.mkdir(logsDir, { recursive: true });
  const started = performance.now();
  const startedAt = new Date().toISOString();
  createRun(store, {
    id: runId,
    command: def.name,
    args: options.args,
    cwd: project.cwd,
    artifactDir,
    model,
    parentId: options.parentId,
  });
  const emit = options.onEvent ?? (() => {});
  const runLog = new LogFile(path.join(artifactDir, "run.log"));
  const shared: Record<string, unknown> = {};
  const outcomes: StepOutcome[] = [];
  const resources: { worktree: RunWorktree | undefined; session: string | undefined } = {
    worktree: undefined,
    session: undefined,
  };
  const created: { worktree: boolean; session: boolean } = { worktree: false, session: false };
  const values: PlaceholderValues = {
    args: options.args,
    env: def.environment,
    shared,
    plain: {
      "run.id": runId,
      "run.command": def.name,
      project: project.root,
      project_name: project.name,
      cwd: project.currentWorktree ?? project.root,
      artifacts: artifactDir,
      model,
      worktree: undefined,
      branch: undefined,
      session: undefined,
    },
  };
  const writeRunJson = (status: RunStatus, error?: string) => {
    const json = {
      id: runId,
      command: def.name,
      source: def.source.file,
      args: options.args,
      status,
      started_at: startedAt,
      duration_ms: Math.round(performance.now() - started),
      error: error ?? null,
      model: model ?? null,
      worktree: resources.worktree ?? null,
      session: resources.session ?? null,
      shared,
      steps: outcomes.map(({ logPath, ...o }) => ({ ...o, log: path.relative(artifactDir, logPath) })),
    };
    Deno.writeTextFileSync(path.join(artifactDir, "run.json"), JSON.stringify(json, null, 2) + "\n");
  };
  writeRunJson("running");
  const log = (line: string) => runLog.write(`${new Date().toISOString()} ${line}`);
  log(`run ${runId} of ${def.name} (${def.source.file}) started; args ${JSON.stringify(options.args)}`);
  emit({
    type: "run-start",
    runId,
    command: def.name,
    artifactDir,
    steps: plan.steps.filter((s) => s.phase !== "cleanup").length,
  });

  // Cancellation and the whole-command timeout share one controller; `stopReason` tells them apart.
  const runController = new AbortController();
  let stopReason: "cancelled" | "timeout" | undefined;
  const onCancel = () => {
    stopReason ??= "cancelled";
    runController.abort("cancelled");
  };
  if (options.signal?.aborted) onCancel();
  options.signal?.addEventListener("abort", onCancel, { once: true });
  const commandTimer = def.timeout === undefined ? undefined : setTimeout(() => {
    stopReason ??= "timeout";
    log(`command timeout of ${def.timeout}s reached`);
    runController.abort("timeout");
  }, def.timeout * 1000);

  /** Keeps a step's outcome for later steps and run.json, and reports it. */
  const recordOutcome = (outcome: StepOutcome): StepOutcome => {
    outcomes.push(outcome);
    emit({
      type: "step-end",
      index: outcome.index,
      name: outcome.name,
      status: outcome.status,
      durationMs: outcome.durationMs,
      output: outcome.output,
      error: outcome.error,
    });
    return outcome;
  };

  const runStep = async (planned: PlannedStep, signal: AbortSignal): Promise<StepOutcome> => {
    const step = planned.def;
    const logPath = path.join(logsDir, `${String(planned.index + 1).padStart(2, "0")}-${slug(planned.name)}.log`);
    if (step.if !== undefined && !truthy(typeof step.if === "boolean" ? step.if : render(step.if, values))) {
      skipStep(store, { runId, idx: planned.index, phase: planned.phase, name: planned.name, kind: planned.kind });
      log(`step ${planned.index + 1} ${planned.name} skipped (if: ${JSON.stringify(step.if)} is false)`);
      return recordOutcome({
        index: planned.index,
        name: planned.name,
        phase: planned.phase,
        status: "skipped",
        durationMs: 0,
        output: "condition is false",
        logPath,
      });
    }
    const stepLog = new LogFile(logPath);
    startStep(store, {
      runId,
      idx: planned.index,
      phase: planned.phase,
      name: planned.name,
      kind: planned.kind,
      logPath,
    });
    emit({ type: "step-start", index: planned.index, name: planned.name, phase: planned.phase, kind: planned.kind });
    log(`step ${planned.index + 1} ${planned.name} (${planned.kind}: ${planned.target}) started`);
    const t0 = performance.now();
    const line = (text: string, stream: "stdout" | "stderr" | "log") => {
      stepLog.write(stream === "stderr" ? `[stderr] ${text}` : text);
      runLog.write(`  [${planned.name}] ${text}`);
      emit({ type: "step-output", index: planned.index, name: planned.name, line: text, stream });
    };
    let status: StepStatus = "succeeded";
    let result: StepResult = {};
    let error: string | undefined;
    const stepController = new AbortController();
    const onRunAbort = () => stepController.abort(signal.reason);
    if (signal.aborted) onRunAbort();
    signal.addEventListener("abort", onRunAbort, { once: true });
    const timeoutMs = step.timeout === undefined ? undefined : step.timeout * 1000;
    let stepTimer: ReturnType<typeof setTimeout> | undefined;
    let stepTimedOut = false;
    if (timeoutMs !== undefined) {
      stepTimer = setTimeout(() => {
        stepTimedOut = true;
        stepController.abort("timeout");
      }, timeoutMs);
    }
    try {
      const r = (s: string) => render(s, values);
      const cwd = step.working_directory
        ? path.resolve(project.root, r(step.working_directory))
        : resources.worktree?.path ?? baseCwd(project, def, values);
      const env: Record<string, string> = {
        ...(mapStrings(def.environment, r) as Record<string, string>),
        ...(mapStrings(step.env ?? {}, r) as Record<string, string>),
      };
      const withValues = (mapStrings(step.with ?? {}, r) ?? {}) as Record<string, unknown>;
      const history: StepHistoryEntry[] = outcomes.map((o) => ({
        name: o.name,
        status: o.status,
        output: o.output,
        data: o.data,
      }));
      const paths = {
        project: project.root,
        worktree: resources.worktree?.path,
        cwd,
        artifacts: artifactDir,
        outputs: outputsDir,
      };
      const artifact = async (name: string, content: string | Uint8Array) => {
        const safe = path.normalize(name);
        if (safe.startsWith("..") || path.isAbsolute(safe)) {
          throw new PrjError(`Artifact name "${name}" must be a relative path inside outputs/`);
        }
        const file = path.join(outputsDir, safe);
        await Deno.mkdir(path.dirname(file), { recursive: true });
        if (typeof content === "string") await Deno.writeTextFile(file, content);
        else await Deno.writeFile(file, content);
        const size = (await Deno.stat(file)).size;
        addArtifact(store, { runId, stepIdx: planned.index, name: safe, path: file, size });
        return file;
      };
      if (planned.kind === "program") {
        const argv = Array.isArray(step.run) ? step.run.map(r) : ["sh", "-c", r(step.run as string)];
        line(`$ ${argv.join(" ")}`, "log");
        const baseEnv = Deno.env.toObject();
        const exit = await runStreaming(argv, {
          cwd,
          env: {
            ...baseEnv,
            ...env,
            PRJ_RUN_ID: runId,
            PRJ_PROJECT: project.root,
            PRJ_ARTIFACTS: artifactDir,
            ...(resources.worktree ? { PRJ_WORKTREE: resources.worktree.path } : {}),
          },
          signal: stepController.signal,
          onLine: (text, stream) => line(text, stream),
        });
        if (exit.stopped) throw new StoppedSignal();
        if (exit.code !== 0) throw new PrjError(`${argv[0]} exited with code ${exit.code}`);
        result = {};
      } else if (planned.kind === "builtin") {
        const mod = await BUILTIN_STEPS[step.uses!]!();
        const sharedApi = sharedAccess(shared);
        const ctx: BuiltinContext = {
          run: { id: runId, command: def.name },
          step: { name: planned.name, index: planned.index, phase: planned.phase },
          args: options.args,
          with: withValues,
          paths,
          env,
          shared: sharedApi,
          history,
          log: (...parts) => line(parts.map((p) => typeof p === "string" ? p : JSON.stringify(p)).join(" "), "log"),
          artifact,
          signal: stepController.signal,
          project,
          store,
          model,
          output: (text, stream) => line(text, stream),
          setWorktree: (worktree, wasCreated) => {
            resources.worktree = worktree;
            created.worktree = wasCreated;
            values.plain.worktree = worktree.path;
            values.plain.branch = worktree.branch;
            updateRun(store, runId, { worktree: worktree.path, branch: worktree.branch });
            if (wasCreated) {
              addResource(store, {
                runId,
                kind: "worktree",
                name: worktree.name,
                path: worktree.path,
                branch: worktree.branch,
              });
            }
          },
          setSession: (name, wasCreated) => {
            resources.session = name;
            created.session = wasCreated;
            values.plain.session = name;
            updateRun(store, runId, { session: name });
            if (wasCreated) addResource(store, { runId, kind: "session", name });
          },
          resources,
          render: r,
          prompt,
        };
        const out = await raceAbort(Promise.resolve(mod.default(ctx)), stepController.signal);
        result = out ?? {};
      } else {
        const moduleFile = userStepPath(project, step.uses!);
        const grant: ResolvedPermissions = resolvePermissions(
          [project.config.permissions, def.permissions, step.permissions],
          { project: project.root, worktree: resources.worktree?.path, artifacts: artifactDir },
          r,
        );
        line(`sandbox: ${describePermissions(grant)}`, "log");
        try {
          result = await runSandboxed({
            moduleFile,
            display: path.relative(project.root, moduleFile),
            commandFile: def.source.file,
            permissions: grant,
            ctx: {
              run: { id: runId, command: def.name },
              step: { name: planned.name, index: planned.index, phase: planned.phase },
              args: options.args,
              with: withValues,
              paths,
              env,
              shared: { ...shared },
              history,
            },
            timeoutMs: undefined,
            signal: stepController.signal,
            onLog: (text) => line(text, "log"),
            onShared: (key, value) => {
              shared[key] = value;
            },
            onArtifact: artifact,
          });
        } catch (e) {
          if (e instanceof StepStopped) throw new StoppedSignal();
          throw e;
        }
      }
      if (result.output) stepLog.write(`output: ${result.output}`);
    } catch (e) {
      if (e instanceof StoppedSignal || stepController.signal.aborted) {
        status = stepTimedOut ? "timed_out" : stopReason === "timeout" ? "timed_out" : "cancelled";
        error = stepTimedOut
          ? `step "${planned.name}" timed out after ${step.timeout}s`
          : stopReason === "timeout"
          ? `command "${def.name}" timed out after ${def.timeout}s`
          : `step "${planned.name}" was cancelled`;
      } else {
        status = "failed";
        error = e instanceof PrjError || (e instanceof Error && e.name === "Error")
          ? (e as Error).message
          : e instanceof Error
          ? `${e.name}: ${e.message}`
          : String(e);
        if (!(e instanceof PrjError) && e instanceof Error && e.stack) stepLog.write(e.stack);
      }
      line(`error: ${error}`, "log");
    } finally {
      clearTimeout(stepTimer);
      signal.removeEventListener("abort", onRunAbort);
    }
    const durationMs = performance.now() - t0;
    finishStep(
      store,
      runId,
      planned.index,
      { status, durationMs, output: result.output, data: result.data, error },
      shared,
    );
    stepLog.close();
    log(
      `step ${planned.index + 1} ${planned.name} ${status} in ${Math.round(durationMs)}ms${error ? `: ${error}` : ""}`,
    );
    const outcome = recordOutcome({
      index: planned.index,
      name: planned.name,
      phase: planned.phase,
      status,
      durationMs,
      output: result.output,
      data: result.data,
      error,
      logPath,
    });
    writeRunJson("running");
    return outcome;
  };

  let runStatus: RunStatus = "succeeded";
  let runError: string | undefined;
  const mainSteps = plan.steps.filter((s) => s.phase !== "cleanup");
  for (let i = 0; i < mainSteps.length; i++) {
    const planned = mainSteps[i]!;
    if (runController.signal.aborted) {
      runStatus = stopReason === "timeout" ? "timed_out" : "cancelled";
      break;
    }
    const outcome = await runStep(planned, runController.signal);
    if (outcome.status === "succeeded" || outcome.status === "skipped") continue;
    if (outcome.status === "failed" && planned.continueOnError) {
      emit({ type: "notice", message: `step "${planned.name}" failed; continuing (continue_on_error)` });
      continue;
    }
    runStatus = outcome.status === "timed_out"
      ? (stopReason === "timeout" ? "timed_out" : "failed")
      : outcome.status === "cancelled"
      ? "cancelled"
      : "failed";
    runError = outcome.error;
    for (const rest of mainSteps.slice(i + 1)) {
      skipStep(store, { runId, idx: rest.index, phase: rest.phase, name: rest.name, kind: rest.kind });
    }
    break;
  }
  if (runController.signal.aborted && runStatus === "succeeded") {
    runStatus = stopReason === "timeout" ? "timed_out" : "cancelled";
  }
  clearTimeout(commandTimer);
  options.signal?.removeEventListener("abort", onCancel);
  if (runStatus !== "succeeded") {
    runError ??= runStatus === "cancelled" ? "cancelled" : `command "${def.name}" timed out after ${def.timeout}s`;
    // Cleanup runs even after Ctrl-C, under a fresh signal; a failing cleanup is logged, not fatal.
    const cleanupSignal = new AbortController();
    const forceStop = () => cleanupSignal.abort("cancelled");
    options.signal?.addEventListener("abort", forceStop, { once: true });
    for (const planned of plan.steps.filter((s) => s.phase === "cleanup")) {
      const outcome = await runStep(planned, cleanupSignal.signal);
      if (outcome.status !== "succeeded") {
        emit({ type: "notice", message: `cleanup step "${planned.name}" ${outcome.status}: ${outcome.error ?? ""}` });
      }
    }
    await teardown(project, store, runId, resources, created, (m) => {
      log(m);
      emit({ type: "notice", message: m });
    });
    options.signal?.removeEventListener("abort", forceStop);
  }
  const durationMs = performance.now() - started;
  finishRun(store, runId, runStatus, runError ?? null, durationMs);
  writeRunJson(runStatus, runError);
  log(`run ${runStatus} in ${Math.round(durationMs)}ms${runError ? `: ${runError}` : ""}`);
  runLog.close();
  emit({ type: "run-end", runId, status: runStatus, durationMs, error: runError });
  if (!options.store) store.close();
  return {
    runId,
    command: def.name,
    status: runStatus,
    durationMs,
    error: runError,
    steps: outcomes,
    artifactDir,
    shared,
    worktree: resources.worktree,
    session: resources.session,
  };
}

class StoppedSignal extends Error {}

/** How `if:` reads a rendered value. */
function truthy(value: string | boolean): boolean {
  if (typeof value === "boolean") return value;
  return !["", "false", "0", "no", "off", "null"].includes(value.trim().toLowerCase());
}

function sharedAccess(shared: Record<string, unknown>) {
  return {
    get: <T = unknown>(key: string) => shared[key] as T | undefined,
    set: (key: string, value: unknown) => {
      shared[key] = value === undefined ? null : JSON.parse(JSON.stringify(value));
    },
    all: () => ({ ...shared }),
  };
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new StoppedSignal());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new StoppedSignal());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** Removes what a failed run created: its session, then its worktree and branch. */
async function teardown(
  project: Project,
  store: Store,
  runId: string,
  resources: { worktree: RunWorktree | undefined; session: string | undefined },
  created: { worktree: boolean; session: boolean },
  notice: (m: string) => void,
): Promise<void> {
  if (resources.session && created.session) {
    try {
      await killSession(project, resources.session);
      markResourceRemoved(store, runId, "session", resources.session);
      notice(`removed session ${resources.session} (the run did not succeed)`);
    } catch (e) {
      notice(`could not remove session ${resources.session}: ${(e as Error).message}`);
    }
  }
  if (resources.worktree && created.worktree) {
    try {
      await removeWorktree(project, resources.worktree.name, { force: true, keepBranch: false, store });
      markResourceRemoved(store, runId, "worktree", resources.worktree.name);
      notice(
        `removed worktree ${resources.worktree.name} and branch ${resources.worktree.branch} (the run did not succeed)`,
      );
    } catch (e) {
      notice(`could not remove worktree ${resources.worktree.name}: ${(e as Error).message}`);
    }
  }
}
