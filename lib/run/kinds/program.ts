/** The `program` step kind: a `run:` argv (or `sh -c` line), started outside the sandbox in the working directory. */
import type { ProgramStepSpec } from "../../definitions/steps.ts";
import { PrjError } from "../../util/errors.ts";
import { runStreaming } from "../../util/process.ts";
import { shellQuote } from "../../util/shell.ts";
import type { StepResult } from "../contract.ts";
import type { StepRun } from "../step_run.ts";
import { Stopped } from "../stop.ts";

/**
 * Runs the program, streaming its output into the step's log.
 *
 * @throws {PrjError} when it exits with a non-zero code
 * @throws {Stopped} when the step was stopped
 */
export async function runProgram(step: ProgramStepSpec, run: StepRun): Promise<StepResult> {
  const argv = "argv" in step.command
    ? step.command.argv.map((a) => run.render(a))
    : ["sh", "-c", run.render(step.command.shell, shellQuote)]; // each value one word, never shell syntax
  run.recording.line(`$ ${argv.join(" ")}`, "log");
  const paths = run.context.paths;
  const exit = await runStreaming(argv, {
    cwd: paths.cwd,
    env: {
      ...Deno.env.toObject(),
      ...run.context.env,
      PRJ_RUN_ID: run.session.id,
      PRJ_PROJECT: paths.project,
      PRJ_ARTIFACTS: paths.artifacts,
      ...(paths.worktree ? { PRJ_WORKTREE: paths.worktree } : {}),
    },
    signal: run.signal,
    onLine: (text, stream) => run.recording.line(text, stream),
  });
  if (exit.stopped) throw new Stopped();
  if (exit.code !== 0) throw new PrjError(`${argv[0]} exited with code ${exit.code}`);
  return {};
}
