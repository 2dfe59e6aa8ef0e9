/** The MCP server: the project's commands, runs, worktrees and sessions as tools and resources over stdio. */
import * as path from "../util/path.ts";
import { stdin, stdout } from "node:process";
import { McpServer, ResourceTemplate } from "npm:@modelcontextprotocol/sdk@1.32.2/server/mcp.js";
import { StdioServerTransport } from "npm:@modelcontextprotocol/sdk@1.32.2/server/stdio.js";
import { type Extra, progress, text } from "./_tools.ts";
import { repairsFor } from "./_repair.ts";
import { z } from "npm:zod@4.6.7";
import { PrjError, UsageError } from "../util/errors.ts";
import { listCommands, loadCommand } from "../definitions/loader.ts";
import { parseArguments } from "../definitions/arguments.ts";
import { runCommand } from "../run/executor.ts";
import { planJson, planRun } from "../run/plan.ts";
import { findRun, findStep, runLogText } from "../run/history.ts";
import { openStore } from "../state/store.ts";
import { listRuns } from "../state/runs.ts";
import { listSteps } from "../state/steps.ts";
import { listArtifacts } from "../state/artifacts.ts";
import { listWorktrees } from "../workspace/worktrees/list.ts";
import { listSessions } from "../workspace/sessions.ts";
import { gitContext } from "../workspace/git.ts";
import { conflictsView } from "../workspace/conflict_watch.ts";
import { mergeWorktree } from "../workspace/worktrees/merge.ts";
import { runMergeQueue } from "../workspace/worktrees/merge_queue.ts";
import { notifyChanges, sampleFleet, stateLabel } from "../agents/fleet/sample.ts";
import { taskSource } from "../agents/tasks/configured.ts";
import { queuedAgents } from "../agents/slots.ts";
import { registerAgentTools } from "./agents.ts";
import type { Project } from "../project/project.ts";
import type { ArgumentDef, CommandDefinition } from "../definitions/schema.ts";
import { VERSION } from "../util/version.ts";

/** JSON schema of a command's arguments, for MCP clients. */
export function argumentsJsonSchema(def: CommandDefinition): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  const toSchema = (a: ArgumentDef) => {
    const type = a.type === "path" ? "string" : a.type;
    const s: Record<string, unknown> = { type };
    if (a.description) s.description = a.description;
    if (a.default !== undefined) s.default = a.default;
    if (a.choices) s.enum = a.choices;
    return s;
  };
  for (const a of def.arguments) properties[a.name] = toSchema(a);
  return {
    type: "object",
    properties,
    required: def.arguments.filter((a) => a.required && a.default === undefined).map((a) => a.name),
    additionalProperties: false,
  };
}

/** The runs each server has going, so a server that stops waits for them to record how they ended. */
const inflight = new WeakMap<McpServer, Set<Promise<unknown>>>();

function runsOf(server: McpServer): Set<Promise<unknown>> {
  let runs = inflight.get(server);
  if (!runs) inflight.set(server, runs = new Set());
  return runs;
}

/**
 * Builds the MCP server for a project (not yet connected).
 *
 * @param project the project whose commands and runs it serves
 */
export function createMcpServer(project: Project): McpServer {
  const server = new McpServer({ name: "prj", version: VERSION });
  // Every tool and resource first repairs what a dead prj process left (a run left `running`, half a worktree).
  const repairs = repairsFor(project);
  const { guarded, repair } = repairs;

  server.registerTool("list_commands", {
    title: "List commands",
    description: "The project's commands (project and shipped templates) with their arguments as JSON schema",
    inputSchema: {},
  }, () =>
    guarded(async () => {
      const out = [];
      for (const summary of await listCommands(project)) {
        if (summary.error) {
          out.push({ ...summary, arguments: null });
          continue;
        }
        out.push({ ...summary, arguments: argumentsJsonSchema(await loadCommand(project, summary.name)) });
      }
      return text(out);
    }));

  server.registerTool("show_command", {
    title: "Show a command",
    description: "One command's definition after extends",
    inputSchema: { name: z.string().describe("The command's name") },
  }, ({ name }: { name: string }) =>
    guarded(async () => {
      const def = await loadCommand(project, name);
      return text({ ...def, argumentsSchema: argumentsJsonSchema(def) });
    }));

  server.registerTool("run_command", {
    title: "Run a command",
    description: "Runs a command with its arguments (or plans it with dry_run) and returns the run id, status, " +
      "step results and artifact paths. Sends progress notifications per step when asked.",
    inputSchema: {
      name: z.string().describe("The command's name"),
      // Each member carries a description so the JSON schema is `anyOf` of single types: a `type` array is not
      // portable to clients that take one type per value.
      arguments: z.record(
        z.string(),
        z.union([
          z.string().describe("a text value"),
          z.number().describe("a number"),
          z.boolean().describe("true or false"),
        ]),
      ).optional().describe("The command's arguments by name"),
      dry_run: z.boolean().optional().describe("Only plan: create no run and no artifacts"),
      model: z.string().optional().describe("The agent model for launch-agent"),
    },
  }, (
    { name, arguments: args, dry_run, model }: {
      name: string;
      arguments?: Record<string, string | number | boolean> | undefined;
      dry_run?: boolean | undefined;
      model?: string | undefined;
    },
    extra: Extra,
  ) =>
    guarded(async () => {
      const def = await loadCommand(project, name);
      // The same checks as the CLI: k=v pairs through parseArguments.
      const pairs = Object.entries(args ?? {}).map(([k, v]) => `${k}=${v}`);
      const values = parseArguments(def, pairs, project.cwd);
      if (dry_run) {
        const plan = planRun(project, def, values, model ?? def.model ?? project.config.agent.model);
        return text({ dryRun: true, ...planJson(plan) });
      }
      const plan = planRun(project, def, values);
      const total = plan.steps.filter((s) => s.phase !== "cleanup").length;
      let done = 0;
      const running = runCommand(project, def, {
        args: values,
        model,
        signal: extra.signal,
        onEvent: (event) => {
          if (event.type !== "step-end") return;
          done++;
          progress(extra, Math.min(done, total), total, `${event.name} ${event.status}`);
        },
      });
      runsOf(server).add(running);
      const result = await running.finally(() => runsOf(server).delete(running));
      const payload = {
        runId: result.runId,
        status: result.status,
        error: result.error ?? null,
        durationMs: Math.round(result.durationMs),
        artifactDir: result.artifactDir,
        worktree: result.worktree ?? null,
        session: result.session ?? null,
        steps: result.steps.map((s) => ({
          name: s.name,
          phase: s.phase,
          status: s.status,
          output: s.output ?? null,
          error: s.error ?? null,
          log: s.logPath,
        })),
        artifacts: [path.join(result.artifactDir, "run.json"), path.join(result.artifactDir, "run.log")],
      };
      return result.status === "succeeded" ? text(payload) : { ...text(payload), isError: true };
    }));

  server.registerTool("run_status", {
    title: "Run status",
    description: "A run's status, steps and artifacts",
    inputSchema: { run_id: z.string().describe("Run id or unique prefix") },
  }, ({ run_id }: { run_id: string }) =>
    guarded(() => {
      const store = openStore(project.prjDir);
      try {
        const run = findRun(store, run_id);
        return text({ ...run, steps: listSteps(store, run.id), artifacts: listArtifacts(store, run.id) });
      } finally {
        store.close();
      }
    }));

  server.registerTool(
    "run_logs",
    {
      title: "Run logs",
      description: "A run's log, or one step's log",
      inputSchema: {
        run_id: z.string().describe("Run id or unique prefix"),
        step: z.string().optional().describe("Step name or number"),
      },
    },
    ({ run_id, step }: { run_id: string; step?: string | undefined }) =>
      guarded(async () => text(await readRunLog(project, run_id, step))),
  );

  server.registerTool("list_runs", {
    title: "List runs",
    description: "Past runs, newest first",
    inputSchema: {
      limit: z.number().int().positive().optional(),
      status: z.enum(["running", "succeeded", "failed", "cancelled", "timed_out", "interrupted"]).optional(),
      command: z.string().optional(),
    },
  }, (
    { limit, status, command }: {
      limit?: number | undefined;
      status?: string | undefined;
      command?: string | undefined;
    },
  ) =>
    guarded(() => {
      const store = openStore(project.prjDir);
      try {
        return text(
          listRuns(store, { limit: limit ?? 20, ...(status ? { status } : {}), ...(command ? { command } : {}) }),
        );
      } finally {
        store.close();
      }
    }));

  server.registerTool("list_worktrees", {
    title: "List worktrees",
    description: "The project's worktrees: branch, path, head, dirty, ahead/behind, port",
    inputSchema: {},
  }, () => guarded(async () => text(await listWorktrees(project))));

  server.registerTool("list_sessions", {
    title: "List sessions",
    description: "The project's tmux sessions",
    inputSchema: {},
  }, () => guarded(async () => text(await listSessions(project))));

  server.registerTool("fleet", {
    title: "Fleet",
    description:
      "Every agent prj launched and its state: working, waiting for input, idle, exited (code), gone; and the launches queued for a slot (agent.max_agents)",
    inputSchema: {},
  }, () =>
    guarded(async () => {
      const store = openStore(project.prjDir);
      try {
        const { rows, changes } = await sampleFleet(project, store, {
          idleAfterMs: project.config.fleet.idle_after * 1000,
        });
        await notifyChanges(project, store, changes);
        return text([
          ...rows.map((r) => ({ ...r, stateLabel: stateLabel(r) })),
          // Launches waiting for a slot under agent.max_agents, in order.
          ...queuedAgents(store).map((q) => ({ ...q, stateLabel: `queued (${q.position})` })),
        ]);
      } finally {
        store.close();
      }
    }));

  server.registerTool("conflicts", {
    title: "Conflicts",
    description: "Which active worktrees change the same files (committed or not), and where merging them with " +
      "each other or into their base would really conflict (git merge-tree); `conflicts` counts those",
    inputSchema: { worktree: z.string().optional().describe("Only this worktree's overlaps") },
  }, ({ worktree }: { worktree?: string | undefined }) =>
    guarded(async () => {
      const store = openStore(project.prjDir);
      try {
        return text(await conflictsView(project, store, worktree));
      } finally {
        store.close();
      }
    }));

  server.registerTool("merge_worktree", {
    title: "Merge a worktree",
    description: "Merges a worktree's branch into its base in the main checkout (refused while its agent is " +
      "working or waiting, on conflicts or uncommitted changes). With queue: every finished worktree (agent exited " +
      "or idle, clean, with commits), or those named, one by one: each rebased onto the base, checked with " +
      "worktree.merge_check, merged; it stops at the first conflict or failing check with nothing half-done. " +
      "dry_run shows the order and where it would first conflict, changing nothing.",
    inputSchema: {
      name: z.string().optional().describe("The worktree to merge (with queue: omit for every finished one)"),
      queue: z.boolean().optional().describe("Merge the finished worktrees one by one"),
      names: z.array(z.string()).optional().describe("With queue: only these worktrees, in this order"),
      mode: z.enum(["merge", "squash", "rebase"]).optional().describe("Merge commit (default), squash, or rebase"),
      remove: z.boolean().optional().describe("Remove each worktree once merged"),
      dry_run: z.boolean().optional().describe("Only show what would be merged, in which order"),
    },
  }, (
    { name, queue, names, mode, remove, dry_run }: {
      name?: string | undefined;
      queue?: boolean | undefined;
      names?: string[] | undefined;
      mode?: "merge" | "squash" | "rebase" | undefined;
      remove?: boolean | undefined;
      dry_run?: boolean | undefined;
    },
  ) =>
    guarded(async () => {
      if (!queue && !dry_run) {
        if (name === undefined) throw new UsageError("Name the worktree to merge, or set queue");
        return text(await mergeWorktree(project, name, { mode, remove }));
      }
      const picked = names ?? (name === undefined ? undefined : [name]);
      const result = await runMergeQueue(project, { names: picked, mode, remove, dryRun: dry_run });
      return result.stopped ? { ...text(result), isError: true } : text(result);
    }));

  // start_agent, agent_state, send_message, costs.
  registerAgentTools(server, project, (work) => {
    runsOf(server).add(work);
    return work.finally(() => runsOf(server).delete(work));
  }, repairs);

  server.registerTool("list_tasks", {
    title: "List tasks",
    description: "Tasks of the configured source: the built-in queue or Headless PM (prj task list)",
    inputSchema: { status: z.string().optional() },
  }, ({ status }: { status?: string | undefined }) =>
    guarded(async () => {
      const store = openStore(project.prjDir);
      try {
        return text(await taskSource(project, store).list(status));
      } finally {
        store.close();
      }
    }));

  server.registerTool("project_context", {
    title: "Project context",
    description: "The project's branch, head and dirty files",
    inputSchema: {},
  }, () =>
    guarded(async () => {
      return text({ root: project.root, name: project.name, ...(await gitContext(project.root)) });
    }));

  server.registerResource(
    "command",
    new ResourceTemplate("prj://commands/{name}", {
      list: async () => {
        return {
          resources: (await listCommands(project)).map((c) => ({
            uri: `prj://commands/${c.name}`,
            name: c.name,
            description: c.description,
            mimeType: "application/json",
          })),
        };
      },
    }),
    { title: "Command definition", description: "A command's definition after extends", mimeType: "application/json" },
    async (uri: URL, { name }: Record<string, string | string[]>) => {
      const def = await loadCommand(project, String(name));
      return { contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(def, null, 2) }] };
    },
  );

  server.registerResource(
    "run-log",
    new ResourceTemplate("prj://runs/{id}/log", {
      list: async () => {
        await repair();
        const store = openStore(project.prjDir);
        try {
          return {
            resources: listRuns(store, { limit: 50 }).map((r) => ({
              uri: `prj://runs/${r.id}/log`,
              name: `${r.command} ${r.id}`,
              description: `${r.status}, started ${r.started_at}`,
              mimeType: "text/plain",
            })),
          };
        } finally {
          store.close();
        }
      },
    }),
    { title: "Run log", description: "A run's log", mimeType: "text/plain" },
    async (uri: URL, { id }: Record<string, string | string[]>) => {
      await repair();
      return { contents: [{ uri: uri.href, mimeType: "text/plain", text: await readRunLog(project, String(id)) }] };
    },
  );
  return server;
}

async function readRunLog(project: Project, runId: string, step?: string): Promise<string> {
  const store = openStore(project.prjDir);
  try {
    const run = findRun(store, runId);
    if (step === undefined) return await runLogText(store, project.prjDir, run);
    const hit = findStep(store, run, step);
    if (!hit.log_path) throw new PrjError(`Step "${hit.name}" of run ${run.id} did not run, so it has no log`);
    return await Deno.readTextFile(hit.log_path);
  } finally {
    store.close();
  }
}

/**
 * Serves the project over MCP on stdin/stdout until the client disconnects: closing stdin (the
 * usual way a client stops a server) ends the serve, and with it any run still going.
 */
export async function serveMcp(project: Project): Promise<void> {
  const server = createMcpServer(project);
  const transport = new StdioServerTransport(stdin, stdout);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    // The SDK's transport does not watch for the end of its input; without this the process
    // would wait on nothing once the client hangs up.
    stdin.once("end", () => resolve());
    stdin.once("close", () => resolve());
  });
  await server.connect(transport);
  await closed;
  // Closing aborts the runs still going (Ctrl-C for each); they record themselves as cancelled.
  await server.close();
  await Promise.allSettled(runsOf(server));
}
