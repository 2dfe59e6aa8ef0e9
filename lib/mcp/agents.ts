/**
 * The MCP tools a supervising agent runs a team with: start an agent on a task, read an
 * agent's state and recent output, send it a message, and see what the agents cost. (Its
 * conflicts and the merge of a finished worktree are the `conflicts` and `merge_worktree`
 * tools.)
 */
import * as path from "../util/path.ts";
import type { McpServer } from "npm:@modelcontextprotocol/sdk@1.32.2/server/mcp.js";
import { type Extra, progress, text } from "./_tools.ts";
import type { Repairs } from "./_repair.ts";
import { z } from "npm:zod@4.6.7";
import type { Project } from "../project/project.ts";
import { PrjError } from "../util/errors.ts";
import { loadCommand } from "../definitions/loader.ts";
import { parseArguments } from "../definitions/arguments.ts";
import { runCommand } from "../run/executor.ts";
import { newRunId } from "../run/run_id.ts";
import { openStore } from "../state/store.ts";
import { agentView, messageAgent } from "../agents/message.ts";
import { type CostBy, projectCostReport } from "../agents/cost.ts";

/**
 * Adds the agent tools to a server.
 *
 * @param track keeps a long call (a run, a resumed agent) known to the server, so it waits for it when it stops
 * @param repairs the server's repairs, made before each tool acts
 */
export function registerAgentTools(
  server: McpServer,
  project: Project,
  track: <T>(work: Promise<T>) => Promise<T>,
  { guarded }: Repairs,
): void {
  server.registerTool("start_agent", {
    title: "Start an agent on a task",
    description: "Starts a coding agent on a task in a worktree of its own: runs the feature-branch command (or " +
      "`command`) with the task as the agent's prompt: a worktree and branch named `name`, a tmux session, and " +
      "the agent in it (returns once it started; watch it with agent_state), or with headless the agent run to " +
      "completion (returns its result). Under agent.max_agents the launch waits for a slot. The prompt is a " +
      "template like a prompt file: {{ worktree }}, {{ branch }} and {{ args.feature_name }} are filled in. " +
      "Progress notifications per step when asked.",
    inputSchema: {
      name: z.string().describe("The worktree and branch name for the task (letters, digits, - and _)"),
      prompt: z.string().describe("The task: what the agent is asked to do"),
      base: z.string().optional().describe("Branch to start from (default: the repository's default branch)"),
      headless: z.boolean().optional().describe("Run the agent to completion instead of in a tmux session"),
      model: z.string().optional().describe("The agent's model"),
      command: z.string().optional().describe("The command to run (default feature-branch; it takes feature_name)"),
    },
  }, (
    { name, prompt, base, headless, model, command }: {
      name: string;
      prompt: string;
      base?: string | undefined;
      headless?: boolean | undefined;
      model?: string | undefined;
      command?: string | undefined;
    },
    extra: Extra,
  ) =>
    guarded(async () => {
      if (prompt.trim() === "") throw new PrjError("The prompt is empty");
      const def = await loadCommand(project, command ?? "feature-branch");
      const runId = newRunId();
      // The task as the command's prompt file, kept where no step can write.
      const dir = path.join(project.prjDir, "launch", `${runId}-task`);
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      const promptFile = path.join(dir, "task.md");
      await Deno.writeTextFile(promptFile, prompt);
      const pairs = [`feature_name=${name}`];
      if (base) pairs.push(`base=${base}`);
      if (headless !== undefined) pairs.push(`headless=${headless}`);
      const args = parseArguments(def, pairs, project.cwd);
      const total = def.steps.length + def.pre_steps.length + def.post_steps.length;
      let done = 0;
      const result = await track(runCommand(project, { ...def, prompt_file: promptFile }, {
        args,
        model,
        runId,
        signal: extra.signal,
        onEvent: (event) => {
          if (event.type === "step-end") {
            progress(extra, Math.min(++done, total), total, `${event.name} ${event.status}`);
          }
        },
      }));
      const agent = result.steps.find((s) => s.name === "agent" || s.data?.kind !== undefined);
      const payload = {
        runId: result.runId,
        status: result.status,
        error: result.error ?? null,
        worktree: result.worktree ?? null,
        session: result.session ?? null,
        agent: agent?.data ?? null,
        steps: result.steps.map((s) => ({
          name: s.name,
          status: s.status,
          output: s.output ?? null,
          error: s.error ?? null,
        })),
      };
      return result.status === "succeeded" ? text(payload) : { ...text(payload), isError: true };
    }));

  server.registerTool("agent_state", {
    title: "An agent's state and output",
    description: "One agent, read now as the fleet reads it (working, waiting for input, idle, exited (code), gone, " +
      "or queued for a slot), with its recent output: the last lines of its tmux pane, or of a headless agent's " +
      "output (stream-json lines)",
    inputSchema: {
      worktree: z.string().describe("The agent's worktree name (or path, or session)"),
      lines: z.number().int().positive().optional().describe("How many lines of output (default 40)"),
    },
  }, ({ worktree, lines }: { worktree: string; lines?: number | undefined }) =>
    guarded(async () => {
      const store = openStore(project.prjDir);
      try {
        return text(await agentView(project, store, worktree, lines ?? 40));
      } finally {
        store.close();
      }
    }));

  server.registerTool("send_message", {
    title: "Send an agent a message",
    description: "Sends a message to the agent of a worktree: typed into its tmux session (only the session prj " +
      "made for that worktree) while it runs there; otherwise, for a headless agent or one that ended, a headless " +
      "run resumes its conversation with the message as the prompt (under agent.max_agents), and the call " +
      "returns its result, with progress notifications per output line when asked",
    inputSchema: {
      worktree: z.string().describe("The agent's worktree name (or path, or session)"),
      message: z.string().describe("What to tell it (one line in a session: newlines become spaces)"),
    },
  }, ({ worktree, message }: { worktree: string; message: string }, extra: Extra) =>
    guarded(async () => {
      const store = openStore(project.prjDir);
      try {
        let n = 0;
        const delivery = await track(messageAgent(project, store, worktree, message, {
          signal: extra.signal,
          onLine: (line) => progress(extra, ++n, undefined, line.slice(0, 200)),
        }));
        const failed = delivery.delivered === "resumed" && (delivery.exitCode !== 0 || delivery.failure !== null);
        return failed ? { ...text(delivery), isError: true } : text(delivery);
      } finally {
        store.close();
      }
    }));

  server.registerTool("costs", {
    title: "Costs",
    description: "What the agents used and cost (tokens and USD), per day, run, agent or task, as `prj cost --json`",
    inputSchema: {
      by: z.enum(["day", "run", "agent", "task"]).optional().describe("How to group (default day)"),
      since: z.string().optional().describe("Only since then: a duration such as 7d, or a date"),
    },
  }, ({ by, since }: { by?: CostBy | undefined; since?: string | undefined }) =>
    guarded(() => {
      const store = openStore(project.prjDir);
      try {
        return text(projectCostReport(project, store, { by: by ?? "day", since }));
      } finally {
        store.close();
      }
    }));
}
