/** Which worktrees have an agent still at work, for merging: a working or waiting agent's worktree is not finished. */
import type { Project } from "../../project/project.ts";
import type { Store } from "../../state/store.ts";
import { type AgentState, notifyChanges, sampleFleet, stateLabel } from "../../agents/fleet/sample.ts";

/** The agent last launched in a worktree, as the fleet reads it now. */
export interface WorktreeAgent {
  /** Its state. */
  state: AgentState;
  /** Its state's label (`exited (0)`). */
  label: string;
  /** Whether it is still at work (`working` or `waiting for input`). */
  busy: boolean;
}

/**
 * The state of the agent last launched in each worktree, by worktree path (a worktree with
 * no agent is absent). The fleet is sampled as `prj fleet` does, notifications included.
 */
export async function worktreeAgents(project: Project, store: Store): Promise<Map<string, WorktreeAgent>> {
  const { rows, changes } = await sampleFleet(project, store, {
    idleAfterMs: project.config.fleet.idle_after * 1000,
    withGit: false,
  });
  await notifyChanges(project, store, changes);
  const out = new Map<string, WorktreeAgent>();
  for (const r of [...rows].sort((a, b) => a.id - b.id)) {
    out.set(r.worktreePath, {
      state: r.state,
      label: stateLabel(r),
      busy: r.state === "working" || r.state === "waiting for input",
    });
  }
  return out;
}
