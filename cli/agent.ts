/** `prj agent run` and `prj agent status`. */
import * as path from "../lib/util/path.ts";
import type { PrjContext } from "../cli.ts";
import type { AgentEvent, HookDecision } from "../lib/agents/runner.ts";
import type { Level } from "../lib/agents/tasks/source.ts";
import { ago, table } from "./io.ts";
import { openProject } from "../lib/project/project.ts";
import { parseDuration } from "../lib/util/duration.ts";
import { agentStatuses, runAgent } from "../lib/agents/runner.ts";
import { UsageError } from "../lib/util/errors.ts";
import { isDirectory } from "../lib/util/fs.ts";
import { openStore } from "../lib/state/store.ts";
import { resumeAgent } from "../lib/agents/fleet/resume.ts";
import { setMaxAgents } from "../lib/agents/slots.ts";

function formatEvent(e: AgentEvent): string {
  const time = e.time.slice(11, 19);
  const task = e.task ? `task ${e.task}${e.title ? ` "${e.title}"` : ""}` : "-";
  const elapsed = e.task ? ` +${(e.elapsedMs / 1000).toFixed(1)}s` : "";
  return `${time} ${e.agent} ${task} [${e.phase}${elapsed}] ${e.event}${e.detail ? `: ${e.detail}` : ""}`;
}

/** `prj agent run --role r --agent-id id`. */
export async function run(
  this: PrjContext,
  flags: {
    role: string;
    agentId: string;
    level?: Level;
    singleTask?: boolean;
    exitWhenEmpty?: boolean;
    hooksDir?: string;
    poll?: string;
    json?: boolean;
    maxAgents?: number;
    budget?: number;
  },
): Promise<void> {
  const pollMs = parseDuration(flags.poll ?? "30s", "--poll");
  const project = await openProject();
  // --max-agents: the cap this runner's agents wait under.
  if (flags.maxAgents !== undefined) setMaxAgents(project, flags.maxAgents);
  if (flags.hooksDir) {
    if (!isDirectory(flags.hooksDir)) throw new UsageError(`--hooks-dir: "${flags.hooksDir}" is not a folder`);
  }
  const { io } = this;
  if (project.config.task_source !== "headless-pm" && Deno.env.get("HEADLESS_PM_API_URL")) {
    // The original runner took its tasks from the server HEADLESS_PM_API_URL names; here the project chooses.
    io.err(
      `${io.paint("yellow", "note:")} HEADLESS_PM_API_URL is set, but this project's tasks come from the built-in ` +
        "queue; set `task_source: headless-pm` in .prj/config.yaml to work on that server's tasks",
    );
  }
  const controller = new AbortController();
  const stop = () => {
    if (controller.signal.aborted) Deno.exit(130);
    io.err("stopping: the current agent is stopped and its task stays locked for a resume (Ctrl-C again to quit now)");
    controller.abort();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  const ask = io.interactive && !flags.json
    ? async (question: string): Promise<HookDecision> => {
      const { select } = await import("npm:@inquirer/prompts@8.8.0");
      return await select<HookDecision>({
        message: question,
        choices: [
          { name: "retry the hook", value: "retry" },
          { name: "skip the hook and go on", value: "skip" },
          { name: "release the task (give it back)", value: "release" },
          { name: "stop the runner (keep the task locked)", value: "stop" },
        ],
      });
    }
    : undefined;
  try {
    const summary = await runAgent(project, {
      role: flags.role,
      agentId: flags.agentId,
      level: flags.level ?? "senior",
      singleTask: flags.singleTask ?? false,
      exitWhenEmpty: flags.exitWhenEmpty ?? false,
      // Relative to where prj was started, not to the worktree a hook runs in.
      hooksDir: flags.hooksDir ? path.resolve(flags.hooksDir) : undefined,
      budgetUsd: flags.budget,
      pollMs,
      signal: controller.signal,
      ask,
      onEvent: (e) => (flags.json ? io.out(JSON.stringify(e)) : io.out(formatEvent(e))),
    });
    if (!flags.json) io.out(`done ${summary.done.length} task(s), gave back ${summary.released.length}`);
    // 3: stopped at the budget (a loop that starts the runner again should wait for tomorrow or a bigger one).
    this.exit.code = controller.signal.aborted
      ? 130
      : summary.budget
      ? 3
      : summary.released.length > 0 && summary.done.length === 0
      ? 1
      : 0;
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  }
}

/** `prj agent status`. */
export async function status(this: PrjContext, flags: { json?: boolean }): Promise<void> {
  const project = await openProject();
  const store = openStore(project.prjDir);
  try {
    const agents = agentStatuses(store);
    if (flags.json) return this.io.json(agents);
    const { io } = this;
    if (agents.length === 0) {
      return io.out("no agents have run here; start one with `prj agent run --role <r> --agent-id <id>`");
    }
    io.out(table([
      ["AGENT", "ROLE", "STATE", "TASK", "PHASE", "SINCE", "HEARTBEAT"].map((h) => io.paint("gray", h)),
      ...agents.map((a) => [
        io.paint("bold", a.agent_id),
        `${a.role}/${a.level}`,
        a.state === "running" ? io.paint("green", `running (pid ${a.pid})`) : io.paint("gray", "stopped"),
        a.task_id ? `${a.task_id}${a.task_title ? ` ${a.task_title}` : ""}` : "-",
        a.phase,
        ago(a.phase_since),
        ago(a.last_heartbeat),
      ]),
    ]));
  } finally {
    store.close();
  }
}

/** `prj agent resume <worktree>`. */
export async function resume(this: PrjContext, _flags: Record<string, never>, worktree: string): Promise<void> {
  const project = await openProject();
  const store = openStore(project.prjDir);
  try {
    const r = await resumeAgent(project, store, worktree);
    this.io.out(
      `resumed conversation ${r.agentSessionId} in session ${r.session}${r.created ? " (session created again)" : ""}`,
    );
    this.io.out(`attach: prj session attach ${r.session}`);
  } finally {
    store.close();
  }
}
