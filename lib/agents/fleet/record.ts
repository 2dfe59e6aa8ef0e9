/** Recording agent launches for the fleet: each launch, and how a headless one ended. */
import type { Store } from "../../state/store.ts";
import { finishLaunch as finishLaunchRecord, insertLaunch } from "../../state/launches.ts";
import { thisProcess } from "../../util/liveness.ts";
import type { AgentResult } from "../kinds.ts";

/** A launch to record. */
export interface LaunchInfo {
  runId: string | null;
  worktree: string | null;
  worktreePath: string;
  branch: string | null;
  session: string | null;
  kind: string;
  model: string | null;
  agentSessionId: string | null;
  headless: boolean;
  exitFile: string | null;
}

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
