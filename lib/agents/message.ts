/**
 * What a supervising agent asks of one agent in the fleet: its state and recent output (its
 * pane's last lines, or a headless agent's output file), and a message for it: typed into the
 * tmux session prj made for its worktree while it runs there, else given as the prompt of a
 * headless run that resumes its conversation.
 */
import type { Project } from "../project/project.ts";
import type { Store } from "../state/store.ts";
import { activeLaunches, type LaunchRecord } from "../state/launches.ts";
import { PrjError } from "../util/errors.ts";
import { exists } from "../util/fs.ts";
import { sendLine } from "../workspace/sessions.ts";
import { findWorktreeRecord } from "../state/worktrees.ts";
import { portFor } from "../workspace/ports.ts";
import { type FleetRow, sampleFleet, stateLabel } from "./fleet/sample.ts";
import { agentKind, type AgentResult } from "./kinds.ts";
import { agentEnv, paneTail, prepareAgent } from "./launcher.ts";
import { launchFiles, runHeadlessAgent } from "./headless.ts";
import { acquireAgentSlot, type QueuedAgent, queuedAgents } from "./slots.ts";

/** One agent's state and its recent output. */
export interface AgentView {
  /** Its fleet row (`prj fleet --json`), with `stateLabel`; null while it only waits for a slot. */
  agent: (FleetRow & { stateLabel: string }) | null;
  /** Its place in the queue under `agent.max_agents`, while it waits for a slot. */
  queued: QueuedAgent | null;
  /** Where the output was read: `pane` (its tmux session), `output` (a headless agent's output file), or none. */
  outputSource: "pane" | "output" | null;
  /** The last lines of its output, oldest first. */
  output: string[];
}

function matches(where: string, r: { worktree: string | null; worktreePath: string; session: string | null }) {
  return r.worktree === where || r.worktreePath === where || r.session === where;
}

/**
 * The agent of a worktree (by worktree name, path or session): its state, read now as
 * `prj fleet` reads it, and its last `lines` of output.
 *
 * @throws {PrjError} when no agent was launched there
 */
export async function agentView(project: Project, store: Store, where: string, lines = 40): Promise<AgentView> {
  const { rows } = await sampleFleet(project, store, {
    idleAfterMs: project.config.fleet.idle_after * 1000,
    withGit: false,
  });
  const row = rows.filter((r) => matches(where, r)).at(-1);
  const queued = queuedAgents(store).find((q) => matches(where, q)) ?? null;
  if (!row && !queued) {
    throw new PrjError(`No agent in the fleet for "${where}"`, { hint: "see the fleet tool (prj fleet) for names" });
  }
  if (!row) return { agent: null, queued, outputSource: null, output: [] };
  const agent = { ...row, stateLabel: stateLabel(row) };
  if (!row.headless && row.session && row.state !== "gone") {
    return { agent, queued, outputSource: "pane", output: await paneTail(row.session, lines) };
  }
  const launch = activeLaunches(store).find((l) => l.id === row.id);
  if (launch?.launch_dir) {
    return { agent, queued, outputSource: "output", output: tailFile(launchFiles(launch.launch_dir).output, lines) };
  }
  return { agent, queued, outputSource: null, output: [] };
}

function tailFile(file: string, lines: number): string[] {
  let text = "";
  try {
    text = Deno.readTextFileSync(file);
  } catch {
    return [];
  }
  return text.split("\n").filter((l) => l.trim() !== "").slice(-lines).map((l) =>
    l.length > 2000 ? `${l.slice(0, 2000)}…` : l
  );
}

/** How a message reached an agent. */
export type Delivery =
  | { delivered: "session"; session: string; worktree: string | null; state: string }
  | {
    delivered: "resumed";
    worktree: string | null;
    conversation: string;
    launchId: number;
    exitCode: number;
    result: AgentResult | null;
    failure: string | null;
  };

const IN_SESSION = new Set(["working", "waiting for input", "idle"]);

/**
 * Sends a message to the agent of a worktree: typed into its tmux session (only the session
 * prj made for that worktree) when it runs there; otherwise (a headless agent, or one that
 * ended) a headless run in its worktree resumes its conversation with the message as the
 * prompt, under `agent.max_agents`, and this waits for it to end.
 *
 * @throws {PrjError} when there is no agent there, it cannot be resumed, or its session is not prj's
 */
export async function messageAgent(
  project: Project,
  store: Store,
  where: string,
  message: string,
  options: { signal?: AbortSignal | undefined; onLine?: ((line: string) => void) | undefined } = {},
): Promise<Delivery> {
  if (message.trim() === "") throw new PrjError("The message is empty");
  const { rows } = await sampleFleet(project, store, {
    idleAfterMs: project.config.fleet.idle_after * 1000,
    withGit: false,
  });
  const row = rows.filter((r) => matches(where, r)).at(-1);
  if (!row) throw new PrjError(`No agent in the fleet for "${where}"`, { hint: "see the fleet tool (prj fleet)" });
  if (!row.headless && row.session && IN_SESSION.has(row.state)) {
    // One line: a newline would submit early.
    const line = message.replace(/\s*\n\s*/g, " ").trim();
    await sendLine(row.session, line, { project: project.root, worktreePath: row.worktreePath }, { settleMs: 500 });
    return { delivered: "session", session: row.session, worktree: row.worktree, state: row.state };
  }
  if (row.state === "working" || row.state === "waiting for input") {
    throw new PrjError(
      `The agent in "${row.worktree ?? row.worktreePath}" is ${row.state} headless; wait for it to end`,
    );
  }
  const launch = activeLaunches(store).find((l) => l.id === row.id)!;
  return await resumeHeadless(project, store, launch, message, options);
}

async function resumeHeadless(
  project: Project,
  store: Store,
  l: LaunchRecord,
  message: string,
  options: { signal?: AbortSignal | undefined; onLine?: ((line: string) => void) | undefined },
): Promise<Delivery> {
  const kind = agentKind(l.kind);
  if (!kind.resumes) throw new PrjError(`Agent kind "${l.kind}" cannot resume a conversation`);
  if (!l.agent_session_id) throw new PrjError("No conversation id was recorded for that agent; it cannot be resumed");
  if (!exists(l.worktree_path)) throw new PrjError(`The worktree of that agent is gone: "${l.worktree_path}"`);
  const model = l.model ?? undefined;
  const prepared = prepareAgent(project, { prompt: message, model, headless: true, resumeId: l.agent_session_id });
  const slotRecord = findWorktreeRecord(store, { path: l.worktree_path });
  const port = slotRecord ? portFor(project, slotRecord.port_slot) : undefined;
  using _slot = await acquireAgentSlot(project, store, {
    worktree: l.worktree,
    worktreePath: l.worktree_path,
    branch: l.branch,
    session: null,
    kind: l.kind,
    model: l.model,
    headless: true,
    runId: l.run_id,
    signal: options.signal,
  });
  const timeout = project.config.agent.timeout;
  const outcome = await runHeadlessAgent(store, prepared, {
    cwd: l.worktree_path,
    env: agentEnv(project, { worktree: l.worktree_path, port, model }),
    model,
    runId: l.run_id,
    worktree: l.worktree && l.branch ? { name: l.worktree, branch: l.branch } : null,
    timeoutMs: timeout === undefined ? undefined : timeout * 1000,
    signal: options.signal,
    onLine: (line) => options.onLine?.(line),
  });
  return {
    delivered: "resumed",
    worktree: l.worktree,
    conversation: l.agent_session_id,
    launchId: outcome.launchId,
    exitCode: outcome.exit.code,
    result: outcome.result ?? null,
    failure: outcome.failure ?? null,
  };
}
