/**
 * The run Session: the one recorder of a run. It owns the run's row, its artifact folder
 * (`run.log`, `run.json`, `logs/`, `outputs/`), its shared data and resources, and the
 * recording of each step (row, log file, events). `runCommand` and the agent runner both
 * record through it.
 */
import * as path from "../util/path.ts";
import { PrjError } from "../util/errors.ts";
import { now } from "../util/time.ts";
import { slug, STEP_LOG_SLUG } from "../util/slug.ts";
import type { Project } from "../project/project.ts";
import type { Store } from "../state/store.ts";
import { createRun, finishRun, type RunRecord, type RunStatus, updateRun } from "../state/runs.ts";
import { finishStep, skipStep, startStep, type StepEnd, type StepStatus } from "../state/steps.ts";
import { addArtifact } from "../state/artifacts.ts";
import { addResource, markResourceRemoved } from "../state/resources.ts";
import { isDiskFull, sqliteCode, stateError } from "../state/errors.ts";
import { Intent } from "../state/journal.ts";
import { osError } from "../util/os_errors.ts";
import type { RunWorktree } from "./contract.ts";
import { writeRunJsonFile } from "./run_json.ts";

/** The phases of a run, in order; `cleanup` runs only after a failure. */
export type Phase = "pre" | "main" | "post" | "cleanup";

/** The kinds of step. */
export type StepKind = "builtin" | "module" | "program";

/** Something that happened during a run, for progress displays. */
export type RunEvent =
  | { type: "run-start"; runId: string; command: string; artifactDir: string; steps: number }
  | { type: "step-start"; index: number; name: string; phase: Phase; kind: StepKind }
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

/** A step as the session records it. */
export interface RecordedStep {
  /** Position in the run. */
  index: number;
  /** Its phase. */
  phase: Phase;
  /** Its name. */
  name: string;
  /** Its kind. */
  kind: StepKind;
  /** What it runs, for the run log. */
  target: string;
}

/** What a new session records. */
export interface SessionInit {
  /** Use this run id (else a new one is made by the caller). */
  runId: string;
  /** The command's name. */
  command: string;
  /** The definition file, for run.json and the run log. */
  source?: string | undefined;
  /** The validated arguments. */
  args: Record<string, unknown>;
  /** Where prj was started. */
  cwd: string;
  /** The agent model. */
  model?: string | undefined;
  /** The run that started this one. */
  parentId?: string | undefined;
  /** Progress events. */
  onEvent?: ((event: RunEvent) => void) | undefined;
}

/**
 * An append-only log file, written synchronously so a crash loses at most the current line.
 * A log that cannot be written (a full disk) stops there and tells `onError` once; the run
 * goes on to record what it can.
 */
class LogFile {
  #file: Deno.FsFile | undefined;
  #onError: (error: unknown) => void;
  constructor(p: string, onError: (error: unknown) => void) {
    this.#onError = onError;
    try {
      this.#file = Deno.openSync(p, { append: true, create: true });
    } catch (error) {
      onError(error);
    }
  }
  write(line: string): void {
    if (!this.#file) return;
    try {
      this.#file.writeSync(new TextEncoder().encode(line.endsWith("\n") ? line : line + "\n"));
    } catch (error) {
      this.close();
      this.#onError(error);
    }
  }
  close(): void {
    try {
      this.#file?.close();
    } catch { /* closed */ }
    this.#file = undefined;
  }
}

/** run.json is rewritten at most this often while a run goes (and always when it starts and ends). */
const RUN_JSON_EVERY_MS = 2000;

/** One run being recorded. */
export class RunSession {
  /** The run id. */
  readonly id: string;
  /** `.prj/artifacts/<run-id>`. */
  readonly artifactDir: string;
  /** `<artifacts>/outputs`. */
  readonly outputsDir: string;
  /** The run's shared data (steps read and write it; stored with each finished step). */
  readonly shared: Record<string, unknown> = {};
  /** The steps that ended (or were skipped by their condition), in order. */
  readonly outcomes: StepOutcome[] = [];
  /** The worktree and session the run works in. */
  readonly resources: { worktree: RunWorktree | undefined; session: string | undefined } = {
    worktree: undefined,
    session: undefined,
  };
  /** Whether this run created them (and so removes them when it does not succeed). */
  readonly created: { worktree: boolean; session: boolean } = { worktree: false, session: false };
  /** The open store. */
  readonly store: Store;

  #init: SessionInit;
  #logsDir: string;
  #runLog: LogFile;
  #started = performance.now();
  #startedAt = now();
  #emit: (event: RunEvent) => void;
  #intent: Intent;
  #runJsonAt = 0;
  #finished = false;
  #storageError: string | undefined;
  /** The step being recorded when the record first failed (-1: outside any step). */
  #storageErrorStep = -1;
  #currentStep = -1;

  private constructor(project: Project, store: Store, init: SessionInit) {
    this.id = init.runId;
    this.store = store;
    this.#init = init;
    this.artifactDir = path.join(project.prjDir, "artifacts", init.runId);
    this.outputsDir = path.join(this.artifactDir, "outputs");
    this.#logsDir = path.join(this.artifactDir, "logs");
    this.#emit = init.onEvent ?? (() => {});
    // The run is in the journal before it makes anything (its row, its folder, later its worktree
    // and session), and leaves it only when it is recorded as ended with its teardown done: what a
    // killed prj left is found there by the next command.
    this.#intent = Intent.begin(project.prjDir, { kind: "run", stage: "open", runId: init.runId });
    try {
      // The row before the folder: a locked or full database leaves no artifacts folder behind.
      createRun(store, {
        id: init.runId,
        command: init.command,
        args: init.args,
        cwd: init.cwd,
        artifactDir: this.artifactDir,
        model: init.model,
        parentId: init.parentId,
      });
    } catch (error) {
      this.#intent.done();
      throw error;
    }
    try {
      Deno.mkdirSync(this.outputsDir, { recursive: true });
      Deno.mkdirSync(this.#logsDir, { recursive: true });
    } catch (error) {
      const message = `could not make the run's folder ${this.artifactDir}: ${(error as Error).message}`;
      try {
        finishRun(store, init.runId, "failed", message, 0);
        this.#intent.done();
      } catch {
        this.#intent.abandon(); // the next command records it
      }
      throw osError(error) ?? error;
    }
    this.#runLog = new LogFile(path.join(this.artifactDir, "run.log"), (e) => this.#storageFailed(e, "run.log"));
    this.#writeRunJson("running");
    this.log(
      `run ${init.runId} of ${init.command}${init.source ? ` (${init.source})` : ""} started; args ${
        JSON.stringify(init.args)
      }`,
    );
  }

  /**
   * Records a new run: its row (status `running`, owned by this process), its artifact
   * folders, `run.log` and `run.json`.
   */
  static open(project: Project, store: Store, init: SessionInit): RunSession {
    return new RunSession(project, store, init);
  }

  /** Reports progress to the caller. */
  emit(event: RunEvent): void {
    this.#emit(event);
  }

  /**
   * Why the run's record cannot be written (a full disk, a read-only or damaged database), once
   * it happened: the executor then fails the run with this line, and what could not be written
   * is finished by the next prj command.
   */
  get storageError(): string | undefined {
    return this.#storageError;
  }

  /** @internal A write of the run's record failed: remembered once and told; rethrown when it is not the disk's state. */
  #storageFailed(error: unknown, what: string): void {
    const known = isDiskFull(error) || sqliteCode(error) !== undefined || osError(error) !== undefined;
    if (!known) throw error;
    if (this.#storageError !== undefined) return;
    const explained = stateError(error) ?? osError(error);
    this.#storageError = `could not write ${what}: ${explained?.message ?? (error as Error).message}`;
    this.#storageErrorStep = this.#currentStep;
    this.emit({ type: "notice", message: this.#storageError });
  }

  /** Runs a write of the run's record; a failure of the disk or database is remembered, not thrown. */
  #record(what: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#storageFailed(error, what);
    }
  }

  /** Appends a timestamped line to `run.log`. */
  log(line: string): void {
    this.#runLog.write(`${now()} ${line}`);
  }

  /** Tells the caller something (a continued failure, a failed cleanup step). */
  notice(message: string): void {
    this.emit({ type: "notice", message });
  }

  /** Updates the run's row (worktree path, branch, session, model). */
  update(fields: Partial<Pick<RunRecord, "worktree" | "branch" | "session" | "model">>): void {
    updateRun(this.store, this.id, fields);
  }

  /** Records the worktree the run works in (and, when it made it, that it must remove it on failure). */
  setWorktree(worktree: RunWorktree, created: boolean): void {
    this.resources.worktree = worktree;
    this.created.worktree = created;
    this.update({ worktree: worktree.path, branch: worktree.branch });
    if (created) {
      addResource(this.store, {
        runId: this.id,
        kind: "worktree",
        name: worktree.name,
        path: worktree.path,
        branch: worktree.branch,
      });
    }
  }

  /** Records the tmux session the run works in. */
  setSession(name: string, created: boolean): void {
    this.resources.session = name;
    this.created.session = created;
    this.update({ session: name });
    if (created) addResource(this.store, { runId: this.id, kind: "session", name });
  }

  /** Records that a worktree or session of the run was removed. */
  resourceRemoved(kind: "worktree" | "session", name: string): void {
    this.#record("the state database", () => markResourceRemoved(this.store, this.id, kind, name));
  }

  /**
   * Stores a file under the run's `outputs/` for a step, and records it.
   *
   * @throws {PrjError} for a name outside `outputs/`
   */
  async artifact(stepIndex: number, name: string, content: string | Uint8Array): Promise<string> {
    const safe = path.normalize(name);
    if (safe.startsWith("..") || path.isAbsolute(safe)) {
      throw new PrjError(`Artifact name "${name}" must be a relative path inside outputs/`);
    }
    const file = path.join(this.outputsDir, safe);
    await Deno.mkdir(path.dirname(file), { recursive: true });
    if (typeof content === "string") await Deno.writeTextFile(file, content);
    else await Deno.writeFile(file, content);
    const size = (await Deno.stat(file)).size;
    addArtifact(this.store, { runId: this.id, stepIdx: stepIndex, name: safe, path: file, size });
    return file;
  }

  /** Starts recording a step: its row, its log file, the `step-start` event. */
  beginStep(step: RecordedStep): StepRecording {
    this.#currentStep = step.index;
    const recording = new StepRecording(this, step, this.#logPath(step));
    this.#record("the state database", () =>
      startStep(this.store, {
        runId: this.id,
        idx: step.index,
        phase: step.phase,
        name: step.name,
        kind: step.kind,
        logPath: recording.logPath,
      }));
    this.emit({ type: "step-start", index: step.index, name: step.name, phase: step.phase, kind: step.kind });
    this.log(`step ${step.index + 1} ${step.name} (${step.kind}: ${step.target}) started`);
    return recording;
  }

  /** Records a step whose `if:` was false: skipped, and shown as such. */
  skipByCondition(step: RecordedStep, condition: string | boolean): StepOutcome {
    this.#skipRow(step);
    this.log(`step ${step.index + 1} ${step.name} skipped (if: ${JSON.stringify(condition)} is false)`);
    return this.recordOutcome({
      index: step.index,
      name: step.name,
      phase: step.phase,
      status: "skipped",
      durationMs: 0,
      output: "condition is false",
      logPath: this.#logPath(step),
    });
  }

  /** Records a step the run never reached (it stopped before). */
  skipNotReached(step: RecordedStep): void {
    this.#skipRow(step);
  }

  /** Runs `fn` as a recorded step: succeeded when it returns, failed (and rethrown) when it throws. */
  async recordStep<T>(step: RecordedStep, fn: (recording: StepRecording) => Promise<T>): Promise<T> {
    const recording = this.beginStep(step);
    const t0 = performance.now();
    try {
      const value = await fn(recording);
      recording.end({ status: "succeeded", durationMs: performance.now() - t0 });
      return value;
    } catch (error) {
      recording.end({ status: "failed", durationMs: performance.now() - t0, error: (error as Error).message });
      throw error;
    }
  }

  /** Keeps a step's outcome for later steps and run.json, and reports it. */
  recordOutcome(outcome: StepOutcome): StepOutcome {
    this.outcomes.push(outcome);
    this.emit({
      type: "step-end",
      index: outcome.index,
      name: outcome.name,
      status: outcome.status,
      durationMs: outcome.durationMs,
      output: outcome.output,
      error: outcome.error,
    });
    return outcome;
  }

  /**
   * Records how the run ended: its row, `run.json`, the run log, the `run-end` event; then the
   * run leaves the journal (its teardown is done by then). When the end cannot be written (a
   * full disk), the run stays in the journal and the next prj command records it.
   */
  finish(status: RunStatus, error: string | undefined): number {
    const durationMs = performance.now() - this.#started;
    if (this.#finished) return durationMs;
    this.#finished = true;
    let recorded = false;
    this.#record("the state database", () => {
      finishRun(this.store, this.id, status, error ?? null, durationMs);
      recorded = true;
    });
    const written = this.#writeRunJson(status, error, true);
    this.log(`run ${status} in ${Math.round(durationMs)}ms${error ? `: ${error}` : ""}`);
    this.#runLog.close();
    this.emit({ type: "run-end", runId: this.id, status, durationMs, error });
    // An end the database or run.json did not take (a full disk) is recorded by the next command.
    if (recorded && written) this.#intent.done();
    else this.#intent.abandon();
    return durationMs;
  }

  /** Notes how far the run got in the journal (`teardown` while it removes what it made). */
  stage(stage: string): void {
    this.#record("the journal", () => this.#intent.update({ stage }));
  }

  /** @internal A line of a step's output in the run log. */
  runLogLine(line: string): void {
    this.#runLog.write(line);
  }

  /** @internal Called by a step recording when it ends. */
  stepEnded(step: RecordedStep, end: StepEnd, logPath: string): StepOutcome {
    if (this.#storageErrorStep === step.index && end.status === "succeeded") {
      // The step's own work may be done, but the run could not record it: the step fails here.
      end = { ...end, status: "failed", error: this.#storageError };
    }
    this.#currentStep = -1;
    this.#record("the state database", () => finishStep(this.store, this.id, step.index, end, this.shared));
    this.log(
      `step ${step.index + 1} ${step.name} ${end.status} in ${Math.round(end.durationMs)}ms${
        end.error ? `: ${end.error}` : ""
      }`,
    );
    const outcome = this.recordOutcome({
      index: step.index,
      name: step.name,
      phase: step.phase,
      status: end.status,
      durationMs: end.durationMs,
      output: end.output,
      data: end.data,
      error: end.error,
      logPath,
    });
    this.#writeRunJson("running");
    return outcome;
  }

  /** @internal A step's log could not be written. */
  logFailed(error: unknown, file: string): void {
    this.#storageFailed(error, path.relative(this.artifactDir, file));
  }

  #skipRow(step: RecordedStep): void {
    this.#record(
      "the state database",
      () =>
        skipStep(this.store, { runId: this.id, idx: step.index, phase: step.phase, name: step.name, kind: step.kind }),
    );
  }

  #logPath(step: RecordedStep): string {
    return path.join(this.#logsDir, `${String(step.index + 1).padStart(2, "0")}-${slug(step.name, STEP_LOG_SLUG)}.log`);
  }

  /**
   * Writes run.json: when the run starts and ends, and in between at most every couple of
   * seconds (rewriting it after every step made long runs quadratic). After a crash the next
   * prj command writes it again from the database.
   */
  #writeRunJson(status: RunStatus, error?: string, force = false): boolean {
    const t = performance.now();
    if (!force && status === "running" && this.#runJsonAt !== 0 && t - this.#runJsonAt < RUN_JSON_EVERY_MS) return true;
    this.#runJsonAt = t;
    let written = false;
    this.#record("run.json", () => {
      writeRunJsonFile(this.artifactDir, {
        id: this.id,
        command: this.#init.command,
        source: this.#init.source ?? null,
        args: this.#init.args,
        status,
        started_at: this.#startedAt,
        duration_ms: Math.round(t - this.#started),
        error: error ?? null,
        model: this.#init.model ?? null,
        worktree: this.resources.worktree ?? null,
        session: this.resources.session ?? null,
        shared: this.shared,
        steps: this.outcomes.map(({ logPath, ...o }) => ({ ...o, log: path.relative(this.artifactDir, logPath) })),
      });
      written = true;
    });
    return written;
  }
}

/** One step being recorded: its log file and how it ends. */
export class StepRecording {
  /** The step's log file. */
  readonly logPath: string;
  #session: RunSession;
  #step: RecordedStep;
  #log: LogFile;

  /** @internal Made by {@link RunSession.beginStep}. */
  constructor(session: RunSession, step: RecordedStep, logPath: string) {
    this.#session = session;
    this.#step = step;
    this.logPath = logPath;
    this.#log = new LogFile(logPath, (e) => session.logFailed(e, logPath));
  }

  /** A line of the step's output: to its log, the run log and the caller. */
  line(text: string, stream: "stdout" | "stderr" | "log"): void {
    this.#log.write(stream === "stderr" ? `[stderr] ${text}` : text);
    this.#session.runLogLine(`  [${this.#step.name}] ${text}`);
    this.#session.emit({ type: "step-output", index: this.#step.index, name: this.#step.name, line: text, stream });
  }

  /** A line for the step's log file only. */
  write(text: string): void {
    this.#log.write(text);
  }

  /** Records how the step ended (row, log, outcome, run.json). */
  end(end: StepEnd): StepOutcome {
    this.#log.close();
    return this.#session.stepEnded(this.#step, end, this.logPath);
  }
}
