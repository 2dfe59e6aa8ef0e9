/** Recording agent launches for the fleet: each launch, and how a headless one ended. */
import type { Store } from "../../state/store.ts";
import { finishLaunch as finishLaunchRecord, insertLaunch, type NewLaunch } from "../../state/launches.ts";
import { thisProcess } from "../../util/liveness.ts";
import type { AgentResult } from "../kinds.ts";

/** A launch to record (the process of a headless one is this one). */
export type LaunchInfo = Omit<NewLaunch, "process">;

/** Records a launch (older launches in the same session or headless worktree are superseded). */
export function recordLaunch(store: Store, launch: LaunchInfo): number {
  return insertLaunch(store, {
    ...launch,
    process: launch.headless ? { pid: Deno.pid, pidStart: thisProcess().pidStart } : null,
  });
}

/** Records how a headless agent ended. */
export function finishLaunch(store: Store, id: number, exitCode: number, result: AgentResult | undefined): void {
  finishLaunchRecord(
    store,
    id,
    exitCode,
    result ? JSON.stringify(result) : null,
    `code ${exitCode}${result ? `, ${result.subtype}, ${result.num_turns ?? "?"} turns` : ""}`,
  );
}
