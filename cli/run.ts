/** `prj run`: plans or runs a command with a live line per step on a TTY, plain lines when piped. */
import type { PrjContext } from "../cli.ts";
import type { RunEvent } from "../lib/run/session.ts";
import { planJson, planRun, type RunPlan } from "../lib/run/plan.ts";
import { duration, type Io, statusStyle, table } from "./io.ts";
import { openProject } from "../lib/project/project.ts";
import { loadCommand } from "../lib/definitions/loader.ts";
import { parseArguments } from "../lib/definitions/arguments.ts";
import { runCommand } from "../lib/run/executor.ts";

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** Renders run events: a live line per step on a TTY, plain lines otherwise. */
export class RunRenderer {
  #io: Io;
  #total = 0;
  #cleanupTotal: number;
  #cleanupSeen = 0;
  /** The label of each step started, by index: `3/5`, or `cleanup 1/2` for a cleanup step. */
  #labels = new Map<number, string>();
  #current: { name: string; index: number; started: number } | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #frame = 0;

  /**
   * @param io where to print
   * @param cleanupSteps how many `cleanup_on_failure` steps the command has (they are numbered apart)
   */
  constructor(io: Io, cleanupSteps = 0) {
    this.#io = io;
    this.#cleanupTotal = cleanupSteps;
  }

  #label(index: number): string {
    return this.#labels.get(index) ?? `${index + 1}/${this.#total}`;
  }

  #live(): string {
    const c = this.#current!;
    const spin = SPINNER[this.#frame++ % SPINNER.length]!;
    return `  ${this.#io.paint("cyan", spin)} ${c.name}  ${
      this.#io.paint("gray", `running ${duration(performance.now() - c.started)}`)
    }`;
  }

  #redraw(): void {
    if (this.#current && this.#io.tty) this.#io.raw(`\r\x1b[2K${this.#live()}`);
  }

  #clear(): void {
    if (this.#current && this.#io.tty) this.#io.raw("\r\x1b[2K");
  }

  /** Handles one event. */
  handle(event: RunEvent): void {
    const io = this.#io;
    switch (event.type) {
      case "run-start":
        this.#total = event.steps;
        io.out(`${io.paint("bold", event.command)} run ${event.runId}`);
        break;
      case "step-start":
        this.#labels.set(
          event.index,
          event.phase === "cleanup"
            ? `cleanup ${++this.#cleanupSeen}/${Math.max(this.#cleanupTotal, this.#cleanupSeen)}`
            : `${event.index + 1}/${this.#total}`,
        );
        this.#current = { name: event.name, index: event.index, started: performance.now() };
        if (io.tty) {
          this.#redraw();
          this.#timer = setInterval(() => this.#redraw(), 100);
        } else io.out(`[${this.#label(event.index)}] ${event.name} started`);
        break;
      case "step-output":
        this.#clear();
        io.out(`    ${io.paint("gray", "│")} ${event.line}`);
        this.#redraw();
        break;
      case "step-end": {
        clearInterval(this.#timer);
        this.#clear();
        this.#current = undefined;
        const mark = event.status === "succeeded" ? "✔" : event.status === "skipped" ? "-" : "✖";
        const detail = event.error ?? event.output ?? "";
        if (io.tty) {
          io.out(
            `  ${io.paint(statusStyle(event.status), mark)} ${event.name}  ${
              io.paint("gray", `${event.status} ${duration(event.durationMs)}`)
            }${detail ? `  ${event.error ? io.paint("red", detail) : detail}` : ""}`,
          );
        } else {
          io.out(
            `[${this.#label(event.index)}] ${event.name} ${event.status} (${duration(event.durationMs)})${
              detail ? `: ${detail}` : ""
            }`,
          );
        }
        break;
      }
      case "notice":
        this.#clear();
        io.out(`  ${io.paint("yellow", "!")} ${event.message}`);
        this.#redraw();
        break;
      case "run-end":
        clearInterval(this.#timer);
        io.out(
          `${io.paint(statusStyle(event.status), event.status)} in ${duration(event.durationMs)}${
            event.error ? `: ${event.error}` : ""
          }`,
        );
        break;
    }
  }

  /** Stops the live line. */
  stop(): void {
    clearInterval(this.#timer);
  }
}

function printPlan(io: Io, plan: RunPlan, source: string): void {
  io.out(`${io.paint("bold", `Plan for ${plan.command}`)} (${source}); dry run: nothing is created or changed`);
  const args = Object.entries(plan.args).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ");
  io.out(`arguments: ${args || "(none)"}`);
  io.out(
    `timeout: ${plan.timeout === undefined ? "none" : `${plan.timeout}s`}${
      plan.model ? `   model: ${plan.model}` : ""
    }`,
  );
  const rows = plan.steps.map((s) => [
    `${s.phase === "cleanup" ? "on failure" : s.phase === "main" ? "" : s.phase}`,
    `${s.index + 1}. ${s.name}`,
    s.kind === "builtin"
      ? `built-in ${s.target}`
      : s.kind === "module"
      ? `sandboxed ${s.target}`
      : `program: ${s.target}`,
    `cwd ${s.cwd}`,
    `timeout ${s.timeout === undefined ? "-" : `${s.timeout}s`}`,
    [
      s.permissions ? `grant: ${s.permissions}` : "",
      s.outsideSandbox ? io.paint("yellow", "runs a program outside the sandbox") : "",
      s.def.if !== undefined ? `if: ${JSON.stringify(s.def.if)}` : "",
      s.continueOnError ? "continue_on_error" : "",
    ].filter(Boolean).join("; "),
  ]);
  io.out(table(rows));
}

/** `prj run <command> key=value... [--dry-run] [--json] [--model m] [--max-agents n]`. */
export async function runCli(
  this: PrjContext,
  flags: { dryRun?: boolean; json?: boolean; model?: string; maxAgents?: number },
  name: string,
  ...pairs: string[]
): Promise<void> {
  const { io } = this;
  const project = await openProject();
  // --max-agents: the cap for the launches of this run (its fan-out's too).
  if (flags.maxAgents !== undefined) project.config.agent.max_agents = flags.maxAgents;
  const def = await loadCommand(project, name);
  const args = parseArguments(def, pairs, project.cwd);
  const plan = planRun(project, def, args, flags.model ?? def.model ?? project.config.agent.model);
  if (flags.dryRun) {
    if (flags.json) {
      return io.json({ ...planJson(plan), dryRun: true });
    }
    return printPlan(io, plan, def.source.file);
  }
  const controller = new AbortController();
  const force = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      io.err(
        io.paint("yellow", "\ncancelling: stopping the current step and running cleanup (Ctrl-C again to skip it)"),
      );
      controller.abort("cancelled");
    } else if (interrupts === 2) {
      // The cleanup stops with its whole process group; the session and worktree still go and
      // the run is recorded as cancelled.
      io.err(io.paint("yellow", "stopping cleanup; removing what the run made (Ctrl-C again to quit at once)"));
      force.abort("cancelled");
    } else Deno.exit(130); // the next prj command finishes the record and the teardown
  };
  Deno.addSignalListener("SIGINT", onSigint);
  Deno.addSignalListener("SIGTERM", onSigint);
  const renderer = flags.json ? undefined : new RunRenderer(io, def.cleanup_on_failure.length);
  try {
    const result = await runCommand(project, def, {
      args,
      model: flags.model,
      signal: controller.signal,
      force: force.signal,
      onEvent: renderer ? (e) => renderer.handle(e) : undefined,
    });
    if (flags.json) {
      io.json({
        ...result,
        steps: result.steps.map((s) => ({ ...s, durationMs: Math.round(s.durationMs) })),
        durationMs: Math.round(result.durationMs),
      });
    } else {
      io.out(io.paint("gray", `artifacts: ${result.artifactDir}`));
      if (result.session && result.status === "succeeded") io.out(`attach: prj session attach ${result.session}`);
    }
    this.exit.code = result.status === "succeeded" ? 0 : result.status === "cancelled" ? 130 : 1;
  } finally {
    renderer?.stop();
    Deno.removeSignalListener("SIGINT", onSigint);
    Deno.removeSignalListener("SIGTERM", onSigint);
  }
}
