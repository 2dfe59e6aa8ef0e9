/**
 * The MCP tools a supervising agent runs a team with, driven by the official MCP SDK client over stdio against the
 * real Claude Code CLI and its API stand-in: start an agent on a task, read its state and output, send it a message
 * (typed into its session; a headless one resumed), see costs, and a merge dry run.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { callTool as call, connectMcp as connect, type Json } from "./support/mcp_client.ts";
import { agentLab } from "./support/agent_lab.ts";
import { git, waitFor } from "./helpers.ts";

type Summary = { messages: { role: string; text: string }[] };

Deno.test("MCP: start an agent on a task, read its state and output, message it, see costs, merge dry run (real Claude Code)", async () => {
  await using lab = await agentLab("claude", { agent: ["interactive_args: [--permission-mode, acceptEdits]"] });
  const client = await connect(lab.repo, lab.env);
  const requests = async (text: string) =>
    (await lab.api.log()).map((e) => e.summary as Summary | undefined)
      .filter((s) => s?.messages.some((m) => m.role === "user" && m.text.includes(text)));
  try {
    const tools = (await client.listTools()).tools as { name: string; inputSchema: Json }[];
    for (const name of ["start_agent", "agent_state", "send_message", "costs", "conflicts", "merge_worktree"]) {
      const tool = tools.find((t) => t.name === name);
      assert.ok(tool, `${name} is listed`);
      for (const [key, schema] of Object.entries(tool.inputSchema.properties ?? {}) as [string, Json][]) {
        assert.equal(typeof schema.type, "string", `${name}.${key} has one type`);
      }
    }

    // Start: a worktree, a session and the agent in it, with the task as its prompt; progress per step.
    const steps: string[] = [];
    const started = await call(client, "start_agent", {
      name: "notes",
      prompt: "Write the notes for branch {{ branch }}.",
    }, (p) => steps.push(p.message ?? ""));
    assert.equal(started.isError, false, started.text);
    assert.deepEqual([started.json.status, started.json.session], ["succeeded", "repo-notes"]);
    assert.ok(steps.includes("agent succeeded"), steps.join(", "));
    await waitFor(async () => (await requests("Write the notes for branch notes.")).length > 0, 30000, "the task");

    let state = await call(client, "agent_state", { worktree: "notes" });
    await waitFor(
      async () => {
        state = await call(client, "agent_state", { worktree: "notes" });
        return state.json.agent?.state === "idle";
      },
      30000,
      "idle after its turn",
    );
    assert.equal(state.json.outputSource, "pane");
    assert.ok(state.json.output.some((l: string) => l.includes("I will write REAL_CLAUDE.md.")), state.text);

    // A message typed into its session reaches the agent.
    const sent = await call(client, "send_message", { worktree: "notes", message: "now a second file" });
    assert.equal(sent.isError, false, sent.text);
    assert.deepEqual([sent.json.delivered, sent.json.session], ["session", "repo-notes"]);
    await waitFor(async () => (await requests("now a second file")).length > 0, 30000, "the message at the API");
    const missing = await call(client, "send_message", { worktree: "nowhere", message: "hi" });
    assert.equal(missing.isError, true);
    assert.match(missing.text, /No agent in the fleet for "nowhere"/);

    // Merge dry run of the finished worktree: the order, nothing merged.
    await waitFor(async () => (await call(client, "agent_state", { worktree: "notes" })).json.agent?.state === "idle");
    const dir = path.join(lab.worktrees, "notes");
    await git(dir, "add", "-A");
    await git(dir, "commit", "-q", "-m", "notes");
    await git(lab.repo, "commit", "-q", "-am", "the lab's agent config");
    const head = (await git(lab.repo, "rev-parse", "HEAD")).trim();
    const dry = await call(client, "merge_worktree", { queue: true, names: ["notes"], dry_run: true });
    assert.equal(dry.isError, false, dry.text);
    assert.deepEqual(dry.json.queue.map((e: { name: string }) => e.name), ["notes"]);
    assert.equal((await git(lab.repo, "rev-parse", "HEAD")).trim(), head, "a dry run merges nothing");

    // A headless agent: started to completion, then a message resumes its conversation headless.
    const headless = await call(client, "start_agent", { name: "bg", prompt: "Write the file.", headless: true });
    assert.equal(headless.isError, false, headless.text);
    const conversation = headless.json.agent.sessionId;
    assert.ok(conversation);
    const lines: string[] = [];
    const resumed = await call(
      client,
      "send_message",
      { worktree: "bg", message: "and a third file" },
      (p) => lines.push(p.message ?? ""),
    );
    assert.equal(resumed.isError, false, resumed.text);
    assert.deepEqual([resumed.json.delivered, resumed.json.conversation, resumed.json.exitCode], [
      "resumed",
      conversation,
      0,
    ]);
    assert.ok(lines.length > 0, "progress per output line");
    const [turn] = await requests("and a third file");
    // The earlier turns came along: the conversation was resumed.
    assert.ok(turn!.messages.some((m) => m.role === "assistant" && m.text.includes("I will write REAL_CLAUDE.md.")));
    const bg = await call(client, "agent_state", { worktree: "bg" });
    assert.deepEqual([bg.json.agent.stateLabel, bg.json.agent.id, bg.json.outputSource], [
      "exited (0)",
      resumed.json.launchId,
      "output",
    ]);
    assert.ok(bg.json.output.some((l: string) => l.includes('"type":"result"')), bg.text);

    const costs = await call(client, "costs", { by: "run" });
    assert.equal(costs.isError, false, costs.text);
    assert.equal(costs.json.by, "run");
    assert.ok(costs.json.total.launches >= 1, costs.text);
  } finally {
    await client.close();
  }
});
