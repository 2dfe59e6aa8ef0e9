/**
 * A cap on live agents (`agent.max_agents`, `--max-agents`): a launch first takes a slot; while
 * the cap's worth of agents are live (working, waiting for input or idle: their processes run)
 * it waits in the queue, in order, across prj processes, and shows in `prj fleet` as `queued`
 * with its position. A prj that stops waiting (Ctrl-C, a crash) leaves no entry behind.
 */
import type { Project } from "../project/project.ts";
import type { Store } from "../state/store.ts";
import { dequeueLaunch, enqueueLaunch, liveEntries, type QueueRecord, takeSlot } from "../state/agent_queue.ts";
import { processAlive, thisProcess } from "../util/liveness.ts";
import { sleep } from "../util/time.ts";
import { PrjError } from "../util/errors.ts";
import { launchProcess } from "./headless.ts";

/** How often a waiting launch looks for a free slot. */
const POLL_MS = 500;

/** A slot held for one launch: release it once the launch ended, or was never made. */
export interface AgentSlot extends Disposable {
  /** Gives the slot back (idempotent). */
  release(): void;
}

/** The launch that wants a slot. */
export interface SlotRequest {
  worktree: string | null;
  worktreePath: string;
  branch: string | null;
  session: string | null;
  kind: string;
  model: string | null;
  headless: boolean;
  runId: string | null;
  /** Stops waiting (the entry is removed). */
  signal?: AbortSignal | undefined;
  /** Called when the launch has to wait, and again each time its position changes. */
  onQueued?: ((position: number, max: number) => void) | undefined;
}

/** The cap in force: `agent.max_agents` (a `--max-agents` flag sets it for its process), or none. */
export function maxAgents(project: Project): number | undefined {
  const max = project.config.agent.max_agents;
  return max === undefined || max <= 0 ? undefined : max;
}

/** Sets the cap for this process's launches (`--max-agents n`), over `agent.max_agents`. */
export function setMaxAgents(project: Project, max: number): void {
  project.config.agent.max_agents = max;
}

const NO_SLOT: AgentSlot = { release() {}, [Symbol.dispose]() {} };

/**
 * Waits for a slot under the project's cap (at once when there is no cap or a slot is free).
 *
 * @throws {PrjError} when the signal stops the wait (the entry is removed)
 */
export async function acquireAgentSlot(project: Project, store: Store, request: SlotRequest): Promise<AgentSlot> {
  const max = maxAgents(project);
  if (max === undefined) return NO_SLOT;
  const me = thisProcess();
  const id = enqueueLaunch(store, { ...request, pid: me.pid, pidStart: me.pidStart });
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    dequeueLaunch(store, id);
  };
  const slot: AgentSlot = { release, [Symbol.dispose]: release };
  let shown = 0;
  try {
    for (;;) {
      if (request.signal?.aborted) throw new PrjError("stopped while waiting for an agent slot");
      const answer = takeSlot(store, id, max, (l) => launchProcess(store, l) !== "ended", ownerAlive);
      if (answer.taken) return slot;
      if (answer.position !== shown) {
        shown = answer.position;
        request.onQueued?.(answer.position, max);
      }
      await sleep(POLL_MS, request.signal).catch(() => {});
    }
  } catch (error) {
    release();
    throw error;
  }
}

function ownerAlive(e: QueueRecord): boolean {
  return processAlive(e.pid, e.pid_start);
}

/** A launch waiting for a slot, as `prj fleet` shows it. */
export interface QueuedAgent {
  /** The queue entry's id. */
  queueId: number;
  /** 1 for the next to start. */
  position: number;
  worktree: string | null;
  worktreePath: string;
  branch: string | null;
  session: string | null;
  /** The agent kind. */
  agent: string;
  model: string | null;
  headless: boolean;
  /** Always `queued`. */
  state: "queued";
  /** When it started waiting (ISO). */
  since: string;
  /** The run that waits to launch it. */
  runId: string | null;
  /** The prj process that waits. */
  waitingPid: number;
}

/** The launches waiting for a slot, in order (entries of prj processes that are gone are dropped). */
export function queuedAgents(store: Store): QueuedAgent[] {
  return liveEntries(store, ownerAlive).filter((e) => e.state === "queued").map((e, i) => ({
    queueId: e.id,
    position: i + 1,
    worktree: e.worktree,
    worktreePath: e.worktree_path,
    branch: e.branch,
    session: e.session,
    agent: e.kind,
    model: e.model,
    headless: e.headless === 1,
    state: "queued",
    since: e.queued_at,
    runId: e.run_id,
    waitingPid: e.pid,
  }));
}
