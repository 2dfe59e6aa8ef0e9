import assert from "node:assert/strict";
import { callTool as call, connectMcp as connect } from "./support/mcp_client.ts";
import {
  customDenoEnv,
  git,
  GIT_ENV,
  makeRepo,
  prj,
  prjArgv,
  query,
  removeRepo,
  spawnPrj,
  tempRepo,
  waitFor,
  writeCommand,
  writeStep,
} from "./helpers.ts";

Deno.test("prj mcp serves commands, runs, logs, worktrees, sessions and context over stdio", async () => {
  const repo = await makeRepo();
  await writeStep(
    repo,
    "chatty",
    "export default (ctx) => { console.log('to the log, not stdout'); ctx.shared.set('said', true); return { output: 'chatted' }; };",
  );
  await writeCommand(
    repo,
    "mcp-demo",
    [
      "description: for the MCP test",
      "arguments:",
      "  - { name: who, required: true, description: who to greet }",
      "  - { name: times, type: number, default: 1 }",
      "steps:",
      "  - chatty",
      '  - { name: greet, run: [echo, "hi {{ args.who }}"] }',
      "  - { name: again, run: [echo, again] }",
    ].join("\n"),
  );
  const client = await connect(repo);
  try {
    const tools = (await client.listTools()).tools.map((t: { name: string }) => t.name).sort();
    assert.deepEqual(tools, [
      "agent_state",
      "conflicts",
      "costs",
      "fleet",
      "list_commands",
      "list_runs",
      "list_sessions",
      "list_tasks",
      "list_worktrees",
      "merge_worktree",
      "project_context",
      "run_command",
      "run_logs",
      "run_status",
      "send_message",
      "show_command",
      "start_agent",
    ]);

    const list = await call(client, "list_commands");
    const demo = (list.json as unknown as { name: string; arguments: Record<string, unknown> }[]).find((c) =>
      c.name === "mcp-demo"
    )!;
    assert.deepEqual(demo.arguments, {
      type: "object",
      properties: { who: { type: "string", description: "who to greet" }, times: { type: "number", default: 1 } },
      required: ["who"],
      additionalProperties: false,
    });

    const shown = await call(client, "show_command", { name: "feature-branch" });
    assert.equal(shown.json.name, "feature-branch");
    const unknown = await call(client, "show_command", { name: "feature-brnach" });
    assert.equal(unknown.isError, true);
    assert.match(unknown.text, /Unknown command "feature-brnach"; did you mean "feature-branch"\?/);

    // Bad calls are MCP errors naming the field, never a crash.
    const missing = await call(client, "run_command", { name: "mcp-demo", arguments: {} });
    assert.equal(missing.isError, true);
    assert.match(missing.text, /Missing required argument for "mcp-demo": who/);
    const badType = await call(client, "run_command", { name: "mcp-demo", arguments: { who: "x", times: "many" } });
    assert.match(badType.text, /argument "times" of "mcp-demo": expected a number, found "many"/);
    const badShape = await call(client, "run_command", { name: 42 });
    assert.equal(badShape.isError, true);
    assert.match(badShape.text, /name/);

    const dry = await call(client, "run_command", { name: "mcp-demo", arguments: { who: "ann" }, dry_run: true });
    assert.equal(dry.json.dryRun, true);
    assert.equal((dry.json.steps as unknown as unknown[]).length, 3);

    const progress: string[] = [];
    const run = await call(
      client,
      "run_command",
      { name: "mcp-demo", arguments: { who: "ann" } },
      (p) => progress.push(`${p.progress}/${p.total} ${p.message}`),
    );
    assert.equal(run.isError, false, run.text);
    assert.equal(run.json.status, "succeeded");
    assert.deepEqual((run.json.steps as unknown as { status: string }[]).map((s) => s.status), [
      "succeeded",
      "succeeded",
      "succeeded",
    ]);
    assert.deepEqual(progress, ["1/3 chatty succeeded", "2/3 greet succeeded", "3/3 again succeeded"]);
    const runId = String(run.json.runId);

    const status = await call(client, "run_status", { run_id: runId.slice(0, -1) });
    assert.equal(status.json.id, runId);
    assert.deepEqual(status.json.shared, { said: true });
    const log = await call(client, "run_logs", { run_id: runId, step: "greet" });
    assert.match(log.text, /hi ann/);
    const stepLog = await call(client, "run_logs", { run_id: runId, step: "chatty" });
    assert.match(stepLog.text, /to the log, not stdout/);
    const runs = await call(client, "list_runs", { limit: 5 });
    assert.equal((runs.json as unknown as { id: string }[])[0]!.id, runId);
    const worktrees = await call(client, "list_worktrees");
    assert.deepEqual(worktrees.json, []);
    assert.deepEqual((await call(client, "fleet")).json, []);
    assert.deepEqual((await call(client, "list_tasks")).json, []);
    const context = await call(client, "project_context");
    assert.equal(context.json.branch, "main");
    assert.equal(context.json.root, repo);

    const resources = (await client.listResources()).resources.map((r: { uri: string }) => r.uri);
    assert.ok(resources.includes("prj://commands/mcp-demo"));
    assert.ok(resources.includes(`prj://runs/${runId}/log`));
    const def = await client.readResource({ uri: "prj://commands/mcp-demo" });
    assert.equal(JSON.parse((def.contents[0] as { text: string }).text).description, "for the MCP test");
    const runLog = await client.readResource({ uri: `prj://runs/${runId}/log` });
    assert.match((runLog.contents[0] as { text: string }).text, /run .* of mcp-demo/);
  } finally {
    await client.close();
    await removeRepo(repo);
  }
});

Deno.test("prj mcp: conflicts between worktrees, and merge_worktree (dry run, one worktree, the queue)", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const worktree = async (name: string, file: string, text: string) => {
    const r = await prj(repo, ["worktree", "create", name, "--json"]);
    const dir = JSON.parse(r.stdout).path as string;
    await Deno.writeTextFile(`${dir}/${file}`, text);
    await git(dir, "add", "-A");
    await git(dir, "commit", "-q", "-m", `${name} writes ${file}`);
    return dir;
  };
  await worktree("a", "README.md", "# from a\n");
  await worktree("b", "README.md", "# from b\n");
  await worktree("c", "c.txt", "c\n");
  const client = await connect(repo);
  try {
    const view = await call(client, "conflicts");
    assert.equal(view.isError, false, view.text);
    assert.equal(view.json.conflicts, 1);
    assert.deepEqual(
      (view.json.pairs as unknown as { a: string; b: string; conflicts: { path: string }[] }[]).map((
        p,
      ) => [p.a, p.b, p.conflicts.map((c) => c.path)]),
      [["a", "b", ["README.md"]]],
    );
    const onlyC = await call(client, "conflicts", { worktree: "c" });
    assert.deepEqual([onlyC.json.pairs, onlyC.json.conflicts], [[], 0]);
    const unknown = await call(client, "conflicts", { worktree: "zz" });
    assert.equal(unknown.isError, true);
    assert.match(unknown.text, /No active worktree "zz"/);

    const dry = await call(client, "merge_worktree", { queue: true, names: ["a", "b", "c"], dry_run: true });
    assert.equal(dry.isError, false, dry.text);
    assert.deepEqual((dry.json.queue as unknown as { name: string }[]).map((e) => e.name), ["a", "b", "c"]);
    assert.deepEqual(dry.json.wouldConflict, { name: "b", files: ["README.md"] });
    assert.equal((await git(repo, "log", "-1", "--format=%s")).trim(), "prj init", "a dry run changes nothing");

    const one = await call(client, "merge_worktree", { name: "c" });
    assert.equal(one.isError, false, one.text);
    assert.equal(one.json.branch, "c");
    const queue = await call(client, "merge_worktree", { queue: true, names: ["a", "b"] });
    assert.equal(queue.isError, true, "the queue stopped");
    assert.deepEqual((queue.json.merged as unknown as { name: string }[]).map((m) => m.name), ["a"]);
    assert.equal((queue.json.stopped as { name: string; why: string }).name, "b");
    assert.equal((queue.json.stopped as { name: string; why: string }).why, "conflict");
    assert.equal((await git(repo, "status", "--porcelain", "--untracked-files=no")).trim(), "");
    const nameless = await call(client, "merge_worktree", {});
    assert.equal(nameless.isError, true);
    assert.match(nameless.text, /Name the worktree to merge, or set queue/);
  } finally {
    await client.close();
  }
});

/** Every `type` keyword in a JSON schema that is a list (some clients take one type per value). */
function typeArrays(schema: unknown, at = "$"): string[] {
  if (schema === null || typeof schema !== "object") return [];
  const found: string[] = [];
  for (const [key, value] of Object.entries(schema)) {
    if (key === "type" && Array.isArray(value)) found.push(`${at}.type = ${JSON.stringify(value)}`);
    else found.push(...typeArrays(value, `${at}.${key}`));
  }
  return found;
}

Deno.test("prj mcp's tool schemas give one type per value (anyOf, never a type list)", async () => {
  await using fixture = await tempRepo();
  const client = await connect(fixture.path);
  try {
    const tools = (await client.listTools()).tools as { name: string; inputSchema: Record<string, unknown> }[];
    const runCommand = tools.find((t) => t.name === "run_command")!;
    const values = (runCommand.inputSchema.properties as Record<string, { additionalProperties: unknown }>).arguments!
      .additionalProperties;
    assert.deepEqual((values as { anyOf: { type: string }[] }).anyOf.map((s) => s.type), [
      "string",
      "number",
      "boolean",
    ]);
    assert.deepEqual(tools.flatMap((t) => typeArrays(t.inputSchema, t.name)), []);
    // The client still sends a number or a boolean as such.
    await writeCommand(
      fixture.path,
      "typed",
      'arguments:\n  - { name: n, type: number }\nsteps:\n  - { name: say, run: [echo, "{{ args.n }}"] }\n',
    );
    const run = await call(client, "run_command", { name: "typed", arguments: { n: 42 } });
    assert.equal(run.json.status, "succeeded", run.text);
  } finally {
    await client.close();
  }
});

Deno.test("prj mcp works with the user's DENO_DIR and a HOME of its own, reaching no network", async () => {
  await using fixture = await tempRepo();
  await using custom = await customDenoEnv();
  await writeStep(fixture.path, "hello", "export default () => ({ output: 'sandboxed hello' });");
  await writeCommand(fixture.path, "hello", "steps:\n  - hello\n");
  const client = await connect(fixture.path, custom.env);
  try {
    const run = await call(client, "run_command", { name: "hello" });
    assert.equal(run.json.status, "succeeded", run.text);
    assert.equal((run.json.steps as unknown as { output: string }[])[0]!.output, "sandboxed hello");
  } finally {
    await client.close();
  }
});

Deno.test("prj mcp exits 0 when the client closes stdin, and a run it was doing ends as cancelled", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await writeCommand(repo, "slow", "steps:\n  - { name: wait, run: [sleep, '30'] }\n");
  const [command, ...args] = prjArgv();
  const child = new Deno.Command(command!, {
    args: [...args, "mcp"],
    cwd: repo,
    env: { ...GIT_ENV, NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  const writer = child.stdin.getWriter();
  const send = (message: unknown) => writer.write(new TextEncoder().encode(JSON.stringify(message) + "\n"));
  await send({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "test", version: "1" } },
  });
  await send({ jsonrpc: "2.0", method: "notifications/initialized" });
  await send({
    jsonrpc: "2.0",
    id: 2,
    method: "tools/call",
    params: { name: "run_command", arguments: { name: "slow" } },
  });
  await waitFor(
    async () => (await query(repo, "SELECT run_id FROM steps WHERE name = 'wait' AND status = 'running'")).length === 1,
    30_000,
    "the step to start",
  );
  const started = Date.now();
  await writer.close();
  const out = await output;
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.doesNotMatch(stderr, /Top-level await|error/i);
  assert.ok(Date.now() - started < 20_000, "it did not wait for the 30 s step");
  const runs = await query<{ status: string }>(repo, "SELECT status FROM runs WHERE command = 'slow'");
  assert.deepEqual(runs.map((r) => r.status), ["cancelled"]);

  // Without any request, too.
  const idle = await new Deno.Command(command!, {
    args: [...args, "mcp"],
    cwd: repo,
    env: { ...GIT_ENV, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(idle.code, 0, new TextDecoder().decode(idle.stderr));
  assert.equal(new TextDecoder().decode(idle.stderr), "");
});

Deno.test("prj mcp repairs what a killed prj left before a tool answers: its run is interrupted, its program stopped", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await writeCommand(repo, "stuck", "steps:\n  - { name: wait, run: [sleep, '37.5'] }\n");
  // A prj killed with SIGKILL in the middle of a step leaves its run `running`, a journal entry and its program.
  const dead = spawnPrj(repo, ["run", "stuck"]);
  let runId = "";
  await waitFor(
    async () => {
      runId = (await query<{ id: string }>(repo, "SELECT id FROM runs"))[0]?.id ?? "";
      return runId !== "" && programsOf(runId).length === 1;
    },
    30_000,
    "the step's program to start",
  );
  dead.kill("SIGKILL");
  await dead.output();
  const [left] = await query<{ id: string; status: string }>(repo, "SELECT id, status FROM runs");
  assert.deepEqual({ ...left }, { id: runId, status: "running" });
  const sleeping = () => programsOf(runId);
  assert.equal(sleeping().length, 1, "the step's program outlived prj");

  const client = await connect(repo);
  try {
    const runs = await call(client, "list_runs");
    assert.equal(runs.isError, false, runs.text);
    assert.deepEqual(
      (runs.json as unknown as { id: string; status: string }[]).map((r) => [r.id, r.status]),
      [[runId, "interrupted"]],
    );
  } finally {
    await client.close();
  }
  assert.deepEqual([...Deno.readDirSync(`${repo}/.prj/journal`)].map((e) => e.name), []);
  await waitFor(() => sleeping().length === 0, 5000, "the dead run's program to be stopped");
  // And a tool that starts work finds nothing in its way.
  const again = await connect(repo);
  try {
    await writeCommand(repo, "quick", "steps:\n  - { name: hi, run: [echo, hi] }\n");
    const ran = await call(again, "run_command", { name: "quick" });
    assert.equal((ran.json as unknown as { status: string }).status, "succeeded", ran.text);
  } finally {
    await again.close();
  }
});

/** Live processes a run's steps started (their environment names the run). */
function programsOf(runId: string): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name) || Number(entry.name) === Deno.pid) continue;
    try {
      const env = Deno.readTextFileSync(`/proc/${entry.name}/environ`).split("\0");
      const state = Deno.readTextFileSync(`/proc/${entry.name}/stat`).split(") ")[1]?.[0];
      if (env.includes(`PRJ_RUN_ID=${runId}`) && state !== "Z") out.push(entry.name);
    } catch { /* gone */ }
  }
  return out;
}
