/**
 * prj driving the real Claude Code CLI (pinned in tests/support/agent_clis.ts and the README), talking to a local
 * stand-in of the Anthropic API: what `prj fleet` reads on one call, what notify hears, when a headless run fails.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { agentLab } from "./support/agent_lab.ts";
import { prj, query, spawnPrj, waitFor } from "./helpers.ts";
import { exists } from "../lib/util/fs.ts";

Deno.test("a real permission question reads waiting for input on one fleet call, notifies once; then working, then idle", async () => {
  await using lab = await agentLab("claude", { agent: ["interactive_args: [--permission-mode, default]"] });
  const run = await lab.run("feature-branch", "feature_name=ask");
  assert.equal(run.code, 0, run.stderr);
  const appeared = await lab.shown("repo-ask", "Esc to cancel · Tab to amend");
  const [row] = await lab.fleet();
  assert.ok(Date.now() - appeared < 2000, `read in ${Date.now() - appeared} ms`);
  assert.deepEqual([row!.stateLabel, row!.stateSource, row!.detail], [
    "waiting for input",
    "hook",
    "permission: Write",
  ]);
  assert.equal(row!.agentSessionId, run.json.shared.agent?.sessionId, "the id prj gave the conversation");
  assert.deepEqual([row!.worktree, row!.branch, row!.session, row!.port], ["ask", "ask", "repo-ask", 3010]);
  assert.equal((await lab.fleet())[0]!.state, "waiting for input");
  assert.deepEqual(await lab.notified(), ["waiting for input"], "notify ran once for the change");
  // Yes; the stand-in holds its next answer back: working meanwhile.
  await lab.api.control({ delay_ms: 4000 });
  await lab.keys("repo-ask", "1");
  await waitFor(async () => (await lab.fleet())[0]!.state === "working", 5000, "working");
  // The screen shows work a moment before the approved write is done.
  const written = path.join(path.dirname(lab.repo), "repo.worktrees", "ask", "REAL_CLAUDE.md");
  await waitFor(() => exists(written), 5000, "the approved write");
  await waitFor(async () => (await lab.fleet())[0]!.state === "idle", 15000, "idle after the turn");
  const idle = (await lab.fleet())[0]!;
  assert.deepEqual([idle.stateSource, idle.detail], ["hook", "turn ended"]);
  assert.deepEqual(await lab.notified(), ["waiting for input"]);
  const events = await query<{ state: string; source: string }>(
    lab.repo,
    "SELECT state, source FROM agent_state_events WHERE launch_id = ? ORDER BY id",
    idle.id,
  );
  assert.deepEqual(events.map((e) => e.state), ["working", "waiting for input", "working", "idle"]);
  // After the answer the screen may show work a moment before the next hook says so: either source then.
  assert.deepEqual([events[1]!.source, events[3]!.source], ["hook", "hook"]);
  const hooks = await query<{ event: string }>(
    lab.repo,
    "SELECT event FROM agent_hook_events WHERE launch_id = ?",
    idle.id,
  );
  assert.ok(hooks.some((h) => h.event === "PermissionRequest") && hooks.some((h) => h.event === "Stop"));
});

Deno.test("a real agent given a prompt reads working from its launch to its turn's end, on every fleet call, never idle before it", async () => {
  await using lab = await agentLab("claude", { control: { delay_ms: 1500 } });
  let returned = 0;
  const launching = lab.run("feature-branch", "feature_name=opening").then((r) => {
    returned = Date.now();
    return r;
  });
  // Sampled from before the launch (while prj still starts the agent: its screen shows nothing of it yet)
  // to the turn's end.
  const samples: { at: number; state: string | undefined; source: string | undefined }[] = [];
  const ended = (s: (typeof samples)[number] | undefined) => s?.state === "idle" && s.source === "hook";
  for (let i = 0; i < 200 && !ended(samples.at(-1)); i++) {
    const [row] = await lab.fleet();
    samples.push({ at: Date.now(), state: row?.state, source: row?.stateSource });
  }
  const run = await launching;
  assert.equal(run.code, 0, run.stderr);
  // Before the launch is recorded its session is a row with no agent in it.
  const launched = samples.findIndex((s) => s.state !== undefined && s.state !== "no agent");
  assert.ok(launched >= 0, "the launch was seen");
  const states = samples.slice(launched);
  const beforeReturn = states.filter((s) => s.at < returned);
  assert.ok(beforeReturn.length >= 2, `${beforeReturn.length} fleet calls while prj run started the agent`);
  assert.ok(ended(states.at(-1)), "the turn ended");
  assert.deepEqual([...new Set(states.slice(0, -1).map((s) => `${s.state}`))], ["working"]);
  const [row] = await lab.fleet();
  const events = await query<{ state: string; detail: string }>(
    lab.repo,
    "SELECT state, detail FROM agent_state_events WHERE launch_id = ? ORDER BY id",
    row!.id,
  );
  assert.deepEqual(events.map((e) => [e.state, e.detail]), [["working", "launched"], ["idle", "turn ended"]]);
});

Deno.test("the real trust dialog (no hook fires before it) reads waiting for input from the pane and notifies once", async () => {
  await using lab = await agentLab("claude", { trust: false });
  const run = await lab.run("feature-branch", "feature_name=trust");
  assert.equal(run.code, 0, run.stderr);
  const appeared = await lab.shown("repo-trust", "Enter to confirm · Esc to cancel");
  const [row] = await lab.fleet();
  assert.ok(Date.now() - appeared < 2000, `read in ${Date.now() - appeared} ms`);
  assert.deepEqual([row!.stateLabel, row!.stateSource], ["waiting for input", "pane"]);
  await lab.fleet();
  assert.deepEqual(await lab.notified(), ["waiting for input"]);
  const table = await prj(lab.repo, ["fleet"], { env: lab.env });
  assert.match(table.stdout, /repo-trust\s+claude\s+waiting for input \(pane\)/);
  // Declined: Claude Code exits 0 without starting.
  await new Promise((resolve) => setTimeout(resolve, 500)); // a key sent the instant a dialog shows can be lost
  await lab.keys("repo-trust", "Escape");
  await waitFor(async () => (await lab.fleet())[0]!.state === "exited", 10000, "exited");
  assert.deepEqual(await lab.notified(), ["waiting for input", "exited (0)"]);
});

Deno.test("a real AskUserQuestion reads waiting for input; cancelled with Esc (no hook fires) it reads idle", async () => {
  await using lab = await agentLab("claude", { control: { tool: "AskUserQuestion" } });
  assert.equal((await lab.run("feature-branch", "feature_name=question")).code, 0);
  const appeared = await lab.shown("repo-question", "Enter to select");
  const [row] = await lab.fleet();
  assert.ok(Date.now() - appeared < 2000, `read in ${Date.now() - appeared} ms`);
  assert.deepEqual([row!.state, row!.stateSource, row!.detail], ["waiting for input", "hook", "question"]);
  await lab.fleet();
  assert.deepEqual(await lab.notified(), ["waiting for input"]);
  await new Promise((resolve) => setTimeout(resolve, 500));
  await lab.keys("repo-question", "Escape");
  await waitFor(async () => (await lab.fleet())[0]!.state === "idle", 10000, "idle after Esc");
  assert.equal((await lab.fleet())[0]!.stateSource, "pane");
});

Deno.test("a real agent that cannot start (a bad flag) fails the launch with its exit code and last lines", async () => {
  await using lab = await agentLab("claude", { agent: ["interactive_args: [--no-such-flag]"] });
  const run = await lab.run("feature-branch", "feature_name=bad");
  assert.equal(run.code, 1);
  assert.match(
    run.json.steps.at(-1)?.error ?? "",
    /^The agent exited at once with code 1 in tmux session "repo-bad": .*unknown option '--no-such-flag'/,
  );
});

Deno.test("a real headless run whose write was refused fails naming the denial; the default config writes and commits", async () => {
  await using lab = await agentLab("claude", { agent: ["headless_args: []"] });
  const refused = await lab.run("feature-branch", "feature_name=refused", "headless=true");
  assert.equal(refused.code, 1);
  assert.match(
    refused.json.steps.at(-1)?.error ?? "",
    /^agent was refused 1 tool call\(s\): Write: \/.*\/repo\.worktrees\/refused\/REAL_CLAUDE\.md; allow them in agent\.headless_args/,
  );
  // The config prj init writes: acceptEdits and the git commands a task ends with.
  const init = await prj(lab.repo, ["init", "--force"], { env: lab.env });
  assert.equal(init.code, 0, init.stderr);
  await lab.api.control({ tool: "Bash", file: "NOTE.md && git add NOTE.md && git commit -qm note" });
  const done = await lab.run("feature-branch", "feature_name=done", "headless=true");
  assert.equal(done.code, 0, done.json.steps.at(-1)?.error ?? done.stderr);
  assert.match(done.json.steps.at(-1)?.output ?? "", /^agent finished: success, \d+ turn\(s\)$/);
  const log = await new Deno.Command("git", {
    args: ["-C", path.join(lab.worktrees, "done"), "log", "--format=%s", "-1"],
    stdout: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(log.stdout).trim(), "note");
  const row = (await lab.fleet()).find((r) => r.worktree === "done")!;
  assert.equal(row.stateLabel, "exited (0)");
  assert.deepEqual([row.result?.subtype, row.result?.permission_denials, row.result?.session_id], [
    "success",
    [],
    done.json.shared.agent?.sessionId,
  ]);
});

Deno.test("a real agent whose tool calls were refused gives the task back at once, naming them; no second attempt", async () => {
  // `default` refuses a headless Write: every attempt would be refused the same way.
  await using lab = await agentLab("claude", { agent: ["headless_args: [--permission-mode, default]"] });
  const env = lab.env;
  const add = await prj(lab.repo, ["task", "add", "Write the file", "--role", "backend_dev", "--description", "x"], {
    env,
  });
  assert.equal(add.code, 0, add.stderr);
  const r = await prj(lab.repo, ["agent", "run", "--role", "backend_dev", "--agent-id", "dev_1", "--exit-when-empty"], {
    env,
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /attempt 1 of 3 started/);
  assert.doesNotMatch(r.stdout, /attempt 2 of/);
  assert.match(r.stdout, /agent was refused tool calls; giving the task back without retrying/);
  const conversations = (await lab.api.log()).filter((e) => e.kind === "plan" && String(e.plan).startsWith("tool_use"));
  assert.equal(conversations.length, 1, "the agent was started once");
  const task = JSON.parse((await prj(lab.repo, ["task", "show", "1", "--json"], { env })).stdout);
  assert.deepEqual([task.status, task.locked_by], ["created", null]);
  assert.ok(
    task.events.some((e: { kind: string; detail: string }) =>
      e.kind === "comment" &&
      /^prj agent dev_1 gave the task back: not retried, the same permissions would refuse it again: agent was refused 1 tool call\(s\): Write: \/.*\/task-1\/REAL_CLAUDE\.md; allow them in agent\.headless_args/
        .test(e.detail)
    ),
    JSON.stringify(task.events),
  );
});

Deno.test("kill -9 of prj agent run while a real headless agent works: fleet finds it working; the restarted runner waits and takes its result, one agent", async () => {
  await using lab = await agentLab("claude", { control: { delay_ms: 4000 } });
  const env = lab.env;
  const add = await prj(lab.repo, ["task", "add", "Write the file", "--role", "backend_dev", "--description", "x"], {
    env,
  });
  assert.equal(add.code, 0, add.stderr);
  const runner = ["agent", "run", "--role", "backend_dev", "--agent-id", "dev_1", "--single-task", "--exit-when-empty"];
  const child = spawnPrj(lab.repo, runner, env);
  const firstTurns = async () =>
    (await lab.api.log()).filter((e) => e.kind === "plan" && String(e.plan).startsWith("tool_use")).length;
  await waitFor(async () => (await firstTurns()) === 1, 20000, "the agent's first turn");
  child.kill("SIGKILL");
  await child.status;
  await child.stdout.cancel();
  await child.stderr.cancel();
  const [row] = await lab.fleet();
  assert.deepEqual([row!.worktree, row!.headless, row!.state, row!.stateSource], [
    "task-1",
    true,
    "working",
    "process",
  ]);
  const again = await prj(lab.repo, runner, { env });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /the agent a previous runner started is still working here \(pid \d+\); waiting for it/);
  assert.match(again.stdout, /the agent a previous runner started finished the task/);
  assert.doesNotMatch(again.stdout, /attempt 1 of/, "no second agent");
  assert.equal(await firstTurns(), 1, "one agent worked");
  const tasks = JSON.parse((await prj(lab.repo, ["task", "list", "--json"], { env })).stdout);
  assert.equal(tasks[0].status, "dev_done");
  const [done] = await lab.fleet();
  assert.deepEqual([done!.id, done!.stateLabel, done!.result?.subtype], [row!.id, "exited (0)", "success"]);
});

Deno.test("resume brings back a real conversation: the stand-in receives the earlier messages; one fleet row per worktree", async () => {
  await using lab = await agentLab("claude");
  const first = await lab.run("feature-branch", "feature_name=again", "headless=true");
  assert.equal(first.code, 0, first.stderr);
  const id = first.json.shared.agent?.sessionId;
  const r = await prj(lab.repo, ["agent", "resume", "again"], { env: lab.env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split("\n")[0], `resumed conversation ${id} in session repo-again`);
  await lab.shown("repo-again", "I will write REAL_CLAUDE.md.");
  await lab.api.control({ file: "SECOND.md" });
  await lab.type("repo-again", "now a second file");
  type Summary = { messages: { role: string; text: string }[] };
  const asked = async () =>
    (await lab.api.log()).map((e) => e.summary as Summary | undefined)
      .find((s) => s?.messages.some((m) => m.role === "user" && m.text.includes("now a second file")));
  await waitFor(async () => (await asked()) !== undefined, 20000, "the resumed turn's request");
  const main = (await asked())!;
  assert.ok(main.messages.some((m) => m.role === "assistant" && m.text.includes("I will write REAL_CLAUDE.md.")));
  const rows = await lab.fleet();
  assert.deepEqual(rows.map((x) => [x.worktree, x.headless, x.agentSessionId]), [["again", false, id]]);
});
