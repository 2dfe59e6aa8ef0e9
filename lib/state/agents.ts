/** The `agents` table: each agent runner (`prj agent run`) of this project, its process, phase and heartbeat. */
import { sql } from "./_db.ts";
import type { Store } from "./store.ts";
import { thisProcess } from "../util/liveness.ts";
import { now } from "../util/time.ts";

/** An agent runner as stored. */
export interface AgentRecord {
  agent_id: string;
  role: string;
  level: string;
  source: string;
  pid: number | null;
  pid_start: string | null;
  host: string | null;
  started_at: string;
  last_heartbeat: string | null;
  task_id: string | null;
  task_title: string | null;
  phase: string;
  phase_since: string;
  stopped_at: string | null;
}

/** The agent's row if it is not marked stopped (its process may still have died). */
export function activeAgentRecord(store: Store, agentId: string): AgentRecord | undefined {
  return sql(store).prepare("SELECT * FROM agents WHERE agent_id = ? AND stopped_at IS NULL").get(agentId) as
    | AgentRecord
    | undefined;
}

/** Records this process as the runner of `agentId`, in phase `starting`. */
export function startAgent(
  store: Store,
  agent: { agentId: string; role: string; level: string; source: string },
): void {
  const t = now();
  const me = thisProcess();
  sql(store).prepare(
    `INSERT INTO agents (agent_id, role, level, source, pid, pid_start, host, started_at, last_heartbeat, phase, phase_since)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'starting', ?)
     ON CONFLICT(agent_id) DO UPDATE SET role = excluded.role, level = excluded.level, source = excluded.source,
       pid = excluded.pid, pid_start = excluded.pid_start, host = excluded.host, started_at = excluded.started_at,
       last_heartbeat = excluded.last_heartbeat, phase = 'starting', phase_since = excluded.phase_since, stopped_at = NULL`,
  ).run(agent.agentId, agent.role, agent.level, agent.source, me.pid, me.pidStart, me.host, t, t, t);
}

/** Records the runner's phase and the task it is on. */
export function setAgentPhase(
  store: Store,
  agentId: string,
  phase: string,
  task: { id: string; title: string } | null,
): void {
  sql(store).prepare("UPDATE agents SET phase = ?, phase_since = ?, task_id = ?, task_title = ? WHERE agent_id = ?")
    .run(phase, now(), task?.id ?? null, task?.title ?? null, agentId);
}

/** Records a heartbeat. */
export function agentHeartbeat(store: Store, agentId: string): void {
  sql(store).prepare("UPDATE agents SET last_heartbeat = ? WHERE agent_id = ?").run(now(), agentId);
}

/** Marks the runner stopped. */
export function stopAgent(store: Store, agentId: string): void {
  const t = now();
  sql(store).prepare(
    "UPDATE agents SET phase = 'stopped', phase_since = ?, stopped_at = ?, task_id = NULL, task_title = NULL WHERE agent_id = ?",
  ).run(t, t, agentId);
}

/** Every runner that has run in this project, by id. */
export function listAgentRecords(store: Store): AgentRecord[] {
  return sql(store).prepare("SELECT * FROM agents ORDER BY agent_id").all() as unknown as AgentRecord[];
}
