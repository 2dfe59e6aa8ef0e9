/**
 * The cost ledger with the real Claude Code CLI (pinned in tests/support/agent_clis.ts) against the local stand-in of
 * the Anthropic API, which bills 120 input and 20 output tokens, $0.00088, per call: what a headless run reported, an
 * interactive session's transcript, `prj cost`, the fleet's cost column, the MCP tool and the agent runner's budget.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { connectMcp } from "./support/mcp_client.ts";
import { agentLab } from "./support/agent_lab.ts";
import { prj, query, waitFor } from "./helpers.ts";
import type { CostReport } from "../lib/agents/cost.ts";
import { localDay } from "../lib/agents/usage.ts";

async function costJson(repo: string, env: Record<string, string>, ...args: string[]): Promise<CostReport> {
  const r = await prj(repo, ["cost", "--json", ...args], { env });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** A run's id, from `prj run --json`. */
function runId(run: { json: unknown }): string {
  return (run.json as { runId: string }).runId;
}

/** The line and total of a report, in a form that is easy to compare. */
function brief(report: CostReport): string[] {
  return [
    ...report.lines.map((l) => `${l.key}: ${l.launches} ${l.input_tokens}/${l.output_tokens} $${l.cost_usd}`),
    `total: ${report.total.launches} ${report.total.input_tokens}/${report.total.output_tokens} $${report.total.cost_usd}`,
  ];
}

Deno.test("a real headless run's reported cost is recorded: prj cost by run and day, the fleet's cost, the MCP tool", async () => {
  await using lab = await agentLab("claude");
  const first = await lab.run("feature-branch", "feature_name=paid", "headless=true");
  assert.equal(first.code, 0, first.stderr);
  const second = await lab.run("feature-branch", "feature_name=again", "headless=true");
  assert.equal(second.code, 0, second.stderr);
  const ids = [first, second].map(runId);
  // Two calls each (the Write, then the answer), as Claude Code reported them.
  assert.deepEqual(brief(await costJson(lab.repo, lab.env, "--by", "run")), [
    `${ids[0]}: 1 240/40 $0.00176`,
    `${ids[1]}: 1 240/40 $0.00176`,
    "total: 2 480/80 $0.00352",
  ]);
  const byDay = await costJson(lab.repo, lab.env);
  assert.equal(byDay.by, "day");
  assert.deepEqual(brief(byDay), [`${localDay(new Date())}: 2 480/80 $0.00352`, "total: 2 480/80 $0.00352"]);
  assert.deepEqual(byDay.lines[0]!.models, ["claude-opus-5-5"]);
  const rows = await query<{ source: string; session_id: string; cost_source: string; run_id: string }>(
    lab.repo,
    "SELECT source, session_id, cost_source, run_id FROM agent_usage ORDER BY id",
  );
  assert.deepEqual(rows.map((r) => [r.source, r.cost_source, r.run_id, r.session_id]), [
    ["result", "reported", ids[0], first.json.shared.agent?.sessionId],
    ["result", "reported", ids[1], second.json.shared.agent?.sessionId],
  ]);
  // Looking again (the fleet, the report) counts nothing twice.
  const fleet = await lab.fleet();
  assert.deepEqual(
    fleet.map((r) => [r.worktree, r.cost?.cost_usd, r.cost?.unknown]),
    [["paid", 0.00176, false], ["again", 0.00176, false]],
  );
  const table = await prj(lab.repo, ["cost", "--by", "run"], { env: lab.env });
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^RUN +LAUNCHES +INPUT +OUTPUT +CACHE READ +CACHE WRITE +COST +MODELS$/m);
  assert.match(table.stdout, /^total +2 +480 +80 +0 +0 +\$0\.0035$/m);
  const since = await costJson(lab.repo, lab.env, "--since", "1h");
  assert.equal(since.total.cost_usd, 0.00352);
  assert.deepEqual((await costJson(lab.repo, lab.env, "--since", "2999-01-01")).lines, []);
  const bad = await prj(lab.repo, ["cost", "--since", "yesterday"], { env: lab.env });
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /--since: expected a duration \(7d, 12h\), a day \(2026-11-01\) or today, found "yesterday"/,
  );

  // The MCP tool gives the same report.
  const client = await connectMcp(lab.repo, lab.env);
  try {
    const tool = (await client.listTools()).tools.find((t: { name: string }) => t.name === "costs")!;
    assert.deepEqual(tool.inputSchema.properties, {
      by: { type: "string", enum: ["day", "run", "agent", "task"], description: "How to group (default day)" },
      since: { type: "string", description: "Only since then: a duration such as 7d, or a date" },
    });
    const result = await client.callTool({ name: "costs", arguments: { by: "run" } }) as {
      isError?: boolean;
      content: { text: string }[];
    };
    assert.equal(result.isError, undefined);
    assert.deepEqual(
      brief(JSON.parse(result.content[0]!.text)),
      brief(await costJson(lab.repo, lab.env, "--by", "run")),
    );
    const wrong = await client.callTool({ name: "costs", arguments: { since: "soon" } }) as { isError?: boolean };
    assert.equal(wrong.isError, true);
  } finally {
    await client.close();
  }
});

Deno.test("a real interactive session's transcript: an estimate while it runs, Claude Code's own cost once it exits", async () => {
  await using lab = await agentLab("claude");
  const run = await lab.run("feature-branch", "feature_name=chat");
  assert.equal(run.code, 0, run.stderr);
  await waitFor(async () => (await lab.fleet())[0]?.state === "idle", 30000, "the turn to end");
  const transcript = (await query<{ transcript_path: string }>(
    lab.repo,
    "SELECT transcript_path FROM agent_launches",
  ))[0]!.transcript_path;
  // Claude Code writes the turn's last message to its transcript a moment after its Stop hook ran.
  const entries = async () =>
    (await Deno.readTextFile(transcript)).split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  await waitFor(
    async () => (await entries()).some((e) => e.type === "assistant" && e.message?.stop_reason === "end_turn"),
    5000,
    "the turn's last message in the transcript",
  );
  // Two messages so far; the stand-in's model has no price: unknown, not 0.
  let report = await costJson(lab.repo, lab.env, "--by", "run");
  assert.deepEqual(brief(report), [`${runId(run)}: 1 240/40 $null`, "total: 1 240/40 $null"]);
  assert.equal(report.total.unknown_costs, 1);
  const table = await prj(lab.repo, ["cost"], { env: lab.env });
  assert.match(table.stdout, /^total +1 +240 +40 +0 +0 +\? *$/m);
  assert.match(table.stdout, /\?: cost not known .* add one under agent\.prices in \.prj\/config\.yaml/);
  assert.deepEqual((await lab.fleet()).map((r) => [r.cost?.cost_usd, r.cost?.unknown]), [[null, true]]);
  // A price in config: the estimate has a cost, marked as computed.
  const config = path.join(lab.repo, ".prj", "config.yaml");
  const yaml = await Deno.readTextFile(config);
  await Deno.writeTextFile(
    config,
    yaml.replace("agent:\n", "agent:\n  prices: { claude-opus-5-5: { input: 5, output: 25 } }\n"),
  );
  assert.match((await prj(lab.repo, ["cost"], { env: lab.env })).stdout, /^total +1 +240 +40 +0 +0 +~\$0\.0022$/m);
  assert.deepEqual((await lab.fleet()).map((r) => [r.cost?.cost_usd, r.cost?.priced]), [[0.0022, true]]);
  await Deno.writeTextFile(config, yaml);
  await lab.type("repo-chat", "/exit");
  await waitFor(async () => (await lab.fleet())[0]?.state === "exited", 20000, "the session to exit");
  // At exit Claude Code writes its totals (the session's title call included): they replace the estimate.
  const costState = (await entries()).filter((e) => e.type === "cost-state").at(-1);
  assert.ok(costState, "Claude Code wrote its totals");
  await waitFor(async () => (await costJson(lab.repo, lab.env)).total.unknown_costs === 0, 10000, "the totals");
  report = await costJson(lab.repo, lab.env, "--by", "run");
  const model = costState.modelUsage["claude-opus-5-5"];
  assert.deepEqual(brief(report), [
    `${runId(run)}: 1 ${model.inputTokens}/${model.outputTokens} $${costState.totalCostUSD}`,
    `total: 1 ${model.inputTokens}/${model.outputTokens} $${costState.totalCostUSD}`,
  ]);
  // Read again: the same.
  assert.deepEqual(brief(await costJson(lab.repo, lab.env, "--by", "run")), brief(report));
  const cursors = await query<{ path: string }>(lab.repo, "SELECT path FROM usage_cursors");
  assert.deepEqual(cursors.map((c) => c.path), [transcript]);
  assert.equal(path.basename(transcript), `${run.json.shared.agent?.sessionId}.jsonl`);
});

Deno.test("prj agent run with a budget the first task spends stops taking tasks, saying so (exit 3)", async () => {
  await using lab = await agentLab("claude");
  for (const title of ["First", "Second"]) {
    const add = await prj(lab.repo, ["task", "add", title, "--role", "backend_dev", "--description", "x"], {
      env: lab.env,
    });
    assert.equal(add.code, 0, add.stderr);
  }
  const args = [
    "agent",
    "run",
    "--role",
    "backend_dev",
    "--agent-id",
    "dev_1",
    "--exit-when-empty",
    "--budget",
    "0.001",
  ];
  const r = await prj(lab.repo, args, { env: lab.env });
  assert.equal(r.code, 3, r.stdout + r.stderr);
  const stops = r.stdout.split("\n").filter((l) => l.includes("budget"));
  assert.equal(stops.length, 1, r.stdout);
  assert.match(stops[0]!, /budget reached: \$0\.0018 spent today of \$0\.0010; not taking more tasks$/);
  const tasks = JSON.parse((await prj(lab.repo, ["task", "list", "--json"], { env: lab.env })).stdout) as {
    title: string;
    status: string;
  }[];
  assert.deepEqual(tasks.map((t) => [t.title, t.status]), [["First", "dev_done"], ["Second", "created"]]);
  assert.deepEqual(brief(await costJson(lab.repo, lab.env, "--by", "task")), [
    "1: 1 240/40 $0.00176",
    "total: 1 240/40 $0.00176",
  ]);
  assert.deepEqual(brief(await costJson(lab.repo, lab.env, "--by", "agent")), [
    "dev_1: 1 240/40 $0.00176",
    "total: 1 240/40 $0.00176",
  ]);
  // Started again the same day, it takes nothing.
  const again = await prj(lab.repo, args, { env: lab.env });
  assert.equal(again.code, 3);
  assert.doesNotMatch(again.stdout, /locked/);
  // The budget in config stops it the same way; the flag wins over it.
  const config = path.join(lab.repo, ".prj", "config.yaml");
  await Deno.writeTextFile(config, (await Deno.readTextFile(config)) + "agent_runner:\n  budget_usd: 0.001\n");
  const configured = await prj(lab.repo, args.slice(0, -2), { env: lab.env });
  assert.equal(configured.code, 3, configured.stdout + configured.stderr);
  const more = await prj(lab.repo, [...args.slice(0, -2), "--budget", "1"], { env: lab.env });
  assert.equal(more.code, 0, more.stdout + more.stderr);
  assert.deepEqual(
    JSON.parse((await prj(lab.repo, ["task", "list", "--json"], { env: lab.env })).stdout).map((
      t: { status: string },
    ) => t.status),
    ["dev_done", "dev_done"],
  );
});

Deno.test("a real interactive Codex session's rollout: each response counted once, per launch; a resumed thread counts its own part", async () => {
  await using lab = await agentLab("codex");
  const run = await lab.run("feature-branch", "feature_name=chat");
  assert.equal(run.code, 0, run.json.steps.at(-1)?.error ?? run.stderr);
  await waitFor(async () => (await lab.fleet())[0]?.state === "idle", 30000, "the turn to end");
  const [launch] = await query<{ transcript_path: string }>(lab.repo, "SELECT transcript_path FROM agent_launches");
  const turns = async () =>
    (await Deno.readTextFile(launch!.transcript_path)).split("\n").filter((l) => l.includes('"task_complete"')).length;
  await waitFor(async () => (await turns()) === 1, 10000, "the turn in the rollout");
  // Two responses (the shell call, the answer), each 100 input tokens of which 10 cached, and 20 output.
  const report = await costJson(lab.repo, lab.env, "--by", "run");
  assert.deepEqual(brief(report), [`${runId(run)}: 1 180/40 $null`, "total: 1 180/40 $null"]);
  assert.deepEqual([report.total.cache_read, report.total.unknown_costs, report.lines[0]!.models], [20, 1, [
    "gpt-fake",
  ]]);
  assert.deepEqual(brief(await costJson(lab.repo, lab.env, "--by", "run")), brief(report), "read again: the same");
  const config = path.join(lab.repo, ".prj", "config.yaml");
  await Deno.writeTextFile(
    config,
    (await Deno.readTextFile(config)).replace(
      "agent:\n",
      "agent:\n  prices: { gpt-fake: { input: 1, output: 10, cache_read: 0.1 } }\n",
    ),
  );
  assert.match((await prj(lab.repo, ["cost"], { env: lab.env })).stdout, /^total +1 +180 +40 +20 +0 +~\$0\.0006$/m);
  // Quit, resume the thread (the same rollout file), one more answer: the resumed launch counts only it.
  await lab.keys("repo-chat", "C-c");
  await lab.keys("repo-chat", "C-c");
  await waitFor(async () => (await lab.fleet())[0]?.state === "exited", 20000, "the session to exit");
  await lab.api.control({ tool: "none" });
  const resumed = await prj(lab.repo, ["agent", "resume", "chat"], { env: lab.env });
  assert.equal(resumed.code, 0, resumed.stderr);
  await lab.shown("repo-chat", "Done:");
  await lab.type("repo-chat", "say hi");
  await waitFor(async () => (await turns()) === 2, 20000, "the resumed turn in the rollout");
  const byAgent = await costJson(lab.repo, lab.env, "--by", "agent");

  assert.deepEqual(brief(byAgent), ["codex@chat: 2 270/60 $0.000873", "total: 2 270/60 $0.000873"]);
  const rows = await query<{ launch_id: number; input_tokens: number; output_tokens: number; source: string }>(
    lab.repo,
    "SELECT launch_id, input_tokens, output_tokens, source FROM agent_usage ORDER BY launch_id",
  );
  assert.deepEqual(rows.map((r) => [r.launch_id, r.input_tokens, r.output_tokens, r.source]), [
    [1, 180, 40, "rollout"],
    [2, 90, 20, "rollout"],
  ]);
});

Deno.test("a real interactive Gemini CLI session's chat: each reply counted once (a tool call's reply is written twice)", async () => {
  await using lab = await agentLab("gemini", { control: { tool: "run_shell_command", command: "git status" } });
  const run = await lab.run("feature-branch", "feature_name=chat");
  assert.equal(run.code, 0, run.json.steps.at(-1)?.error ?? run.stderr);
  await waitFor(async () => (await lab.fleet())[0]?.state === "idle", 30000, "the turn to end");
  const [launch] = await query<{ transcript_path: string }>(lab.repo, "SELECT transcript_path FROM agent_launches");
  const replies = async () =>
    (await Deno.readTextFile(launch!.transcript_path)).split("\n").filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l)).filter((e) => e.type === "gemini");
  await waitFor(async () => (await replies()).some((e) => /^Done:/.test(e.content)), 10000, "the answer in the chat");
  const written = await replies();
  assert.ok(written.length > new Set(written.map((e) => e.id)).size, "the tool call's reply is in the chat twice");
  // The call (1 content: 110 input tokens of which 10 cached) and the answer (3 contents: 130), 20 output and 5
  // thoughts each.
  const report = await costJson(lab.repo, lab.env, "--by", "run");
  assert.deepEqual(brief(report), [`${runId(run)}: 1 220/50 $null`, "total: 1 220/50 $null"]);
  assert.deepEqual([report.total.cache_read, report.lines[0]!.models], [20, [written[0].model]]);
  assert.deepEqual(brief(await costJson(lab.repo, lab.env, "--by", "run")), brief(report), "read again: the same");
});
