/**
 * The library's implementation, as mod.ts loads it when it is imported (and never when it runs
 * as the CLI's entry, so `prj --help` does not load the engine first).
 *
 * @module
 */
export { findProjectRoot, openProject } from "./project/project.ts";
export { initProject } from "./project/init.ts";
export { listCommands, loadCommand, loadCommands } from "./definitions/loader.ts";
export { parseArguments } from "./definitions/arguments.ts";
export { runCommand } from "./run/executor.ts";
export { planRun } from "./run/plan.ts";
export { newRunId } from "./run/run_id.ts";
export { openStore } from "./state/store.ts";
export { getRun, listRuns } from "./state/runs.ts";
export { listSteps } from "./state/steps.ts";
export { listArtifacts } from "./state/artifacts.ts";
