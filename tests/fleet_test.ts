import assert from "node:assert/strict";
import * as path from "node:path";
import type { FleetRow } from "@prunejuice/cli/agents";
import { AGENT, killTmux, prj, query, setConfig, spawnPrj, tempRepo, tempTmux, tmux, waitFor } from "./helpers.ts";

const FAKE_CLAUDE = path.resolve(import.meta.dirname!, "fixtures", "fake_claude.sh");

/** A row of `prj fleet --json`. */
type Row = FleetRow & { stateLabel: string };

async function fleet(repo: string, env: Record<string, string>): Promise<Row[]> {
  const r = await prj(repo, ["fleet", "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

Deno.test("an interactive agent is seen waiting for input, then working, then exited; notify runs once per change", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const socket = server.socket;
  const env = { PRJ_TMUX_SOCKET: socket };
  const log = path.join(path.dirname(repo), "notify.log");
  await setConfig(
    repo,
    [
      "agent:",
      `  command: ${FAKE_CLAUDE}`,
      "  model: sonnet",
      "fleet:",
      "  idle_after: 1",
      `notify: 'echo "$PRJ_AGENT_STATE|$PRJ_SESSION" >> ${log}'`,
    ].join("\n"),
  );
  const run = await prj(repo, ["run", "feature-branch", "feature_name=ui", "--json"], { env });
  assert.equal(run.code, 0, run.stderr);
  const launched = JSON.parse(run.stdout);
  assert.match(launched.shared.agent.sessionId, /^[0-9a-f-]{36}$/);
  const seen: string[] = [];
  const observe = async () => {
    const [row] = await fleet(repo, env);
    if (seen.at(-1) !== row!.stateLabel) seen.push(row!.stateLabel);
    return row!;
  };
  await waitFor(async () => (await observe()).state === "waiting for input", 10000, "waiting for input");
  const waiting = await observe();
  assert.equal(waiting.worktree, "ui");
  assert.equal(waiting.branch, "ui");
  assert.equal(waiting.session, "repo-ui");
  assert.equal(waiting.agent, "claude");
  assert.equal(waiting.model, "sonnet");
  assert.equal(waiting.port, 3010);
  assert.equal(waiting.agentSessionId, launched.shared.agent.sessionId);
  assert.match(waiting.lastLine!, /2\. No/);
  await observe(); // sampled again: still one notification
  await tmux(socket, "send-keys", "-t", "repo-ui", "1", "Enter");
  await waitFor(async () => (await observe()).state === "exited", 15000, "the agent to exit");
  const done = await observe();
  assert.equal(done.stateLabel, "exited (0)");
  assert.equal(done.changedFiles, 1, "CLAUDE_WORK.md");
  assert.deepEqual(seen, ["waiting for input", "working", "exited (0)"]);
  assert.deepEqual((await Deno.readTextFile(log)).trim().split("\n"), [
    "waiting for input|repo-ui",
    "exited (0)|repo-ui",
  ]);
  const events = await query<{ state: string }>(
    repo,
    "SELECT state FROM agent_state_events WHERE launch_id = ? ORDER BY id",
    done.id,
  );
  assert.deepEqual(events.map((e) => e.state), ["working", "waiting for input", "working", "exited (0)"]);
  // The table on a pipe, and the ps alias.
  const table = await prj(repo, ["ps"], { env });
  assert.match(table.stdout, /1\s+ui\s+ui\s+repo-ui\s+claude\/sonnet\s+exited \(0\)/);
});

Deno.test("a pause in output reads as working until the idle debounce, then idle", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const socket = server.socket;
  const env = { PRJ_TMUX_SOCKET: socket, AGENT_SLEEP: "30" };
  await setConfig(repo, `agent:\n  command: ${AGENT}\n  kind: generic\nfleet:\n  idle_after: 2\n`);
  const run = await prj(repo, ["run", "feature-branch", "feature_name=quiet", "--json"], { env });
  assert.equal(run.code, 0, run.stderr);
  const session = JSON.parse(run.stdout).session;
  // The launcher has been typed into the session.
  await waitFor(
    async () => (await tmux(socket, "capture-pane", "-p", "-J", "-t", `=${session}:`)).stdout.includes("agent.sh"),
    10000,
    "the agent to start in its session",
  );
  const first = (await fleet(repo, env))[0]!;
  assert.equal(first.state, "working");
  assert.equal(first.agentSessionId, null, "a generic agent has no session id");
  await waitFor(async () => (await fleet(repo, env))[0]!.state === "idle", 10000, "idle");
  const states = await query<{ state: string }>(repo, "SELECT state FROM agent_state_events ORDER BY id");
  assert.deepEqual(states.map((s) => s.state), ["working", "idle"]);
});

Deno.test("a headless agent's stream-json result is recorded: success, turns, cost, session id", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const socket = server.socket;
  const env = { PRJ_TMUX_SOCKET: socket };
  await setConfig(repo, `agent:\n  command: ${FAKE_CLAUDE}\n`);
  const r = await prj(repo, ["run", "feature-branch", "feature_name=batch", "headless=true", "--json"], { env });
  assert.equal(r.code, 0, r.stdout);
  const json = JSON.parse(r.stdout);
  assert.equal(json.steps.at(-1).output, "agent finished: success, 3 turn(s)");
  const [row] = await fleet(repo, env);
  assert.equal(row!.stateLabel, "exited (0)");
  assert.deepEqual(row!.result, {
    subtype: "success",
    is_error: false,
    num_turns: 3,
    total_cost_usd: 0.0123,
    session_id: json.shared.agent.sessionId,
  });
  const failed = await prj(repo, ["run", "feature-branch", "feature_name=bad", "headless=true", "--json"], {
    env: { ...env, FAKE_RESULT: "error_max_turns", FAKE_IS_ERROR: "true" },
  });
  assert.equal(failed.code, 1);
  assert.equal(JSON.parse(failed.stdout).steps.at(-1).error, "agent reported an error: error_max_turns");
});

Deno.test("a killed tmux server shows every agent as gone; resume brings one back in its worktree with its conversation", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const socket = server.socket;
  const env = { PRJ_TMUX_SOCKET: socket };
  await setConfig(repo, `agent:\n  command: ${FAKE_CLAUDE}\n`);
  for (const name of ["a", "b"]) {
    assert.equal((await prj(repo, ["run", "feature-branch", `feature_name=${name}`], { env })).code, 0);
  }
  await waitFor(
    async () => (await fleet(repo, env)).every((r) => r.state === "waiting for input"),
    10000,
    "both waiting",
  );
  const before = await fleet(repo, env);
  await killTmux(socket);
  const after = await fleet(repo, env);
  assert.deepEqual(after.map((r) => r.state), ["gone", "gone"]);
  const r = await prj(repo, ["agent", "resume", "a"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /resumed conversation [0-9a-f-]{36} in session repo-a \(session created again\)/);
  const worktree = path.join(path.dirname(repo), "repo.worktrees", "a");
  await waitFor(
    async () => {
      try {
        return (await Deno.readTextFile(path.join(worktree, "RESUMED.txt"))).trim() === before[0]!.agentSessionId;
      } catch {
        return false;
      }
    },
    10000,
    "the resumed conversation",
  );
  const pane = await tmux(socket, "display-message", "-p", "-t", "repo-a:", "#{pane_current_path}");
  assert.equal(pane.stdout.trim(), worktree);
  const rows = await fleet(repo, env);
  assert.deepEqual(rows.map((x) => [x.worktree, x.state === "gone" ? "gone" : "alive"]), [["b", "gone"], [
    "a",
    "alive",
  ]]);
  const missing = await prj(repo, ["agent", "resume", "nowhere"], { env });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No resumable agent recorded for worktree "nowhere"/);
});

Deno.test("prj fleet --watch prints repeated snapshots when piped", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const child = spawnPrj(repo, ["fleet", "--watch", "--interval", "0.3s"]);
  const snapshots = (text: string) => (text.match(/^-- \d\d:\d\d:\d\d$/gm) ?? []).length;
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  await waitFor(
    async () => {
      out += (await reader.read()).value ?? "";
      return snapshots(out) >= 2;
    },
    10000,
    "two snapshots",
  );
  child.kill("SIGINT");
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) out += chunk.value;
  await child.stderr.cancel();
  assert.equal((await child.status).code, 0);
  assert.ok(snapshots(out) >= 2, out);
  assert.match(out, /no agents; start one with/);
  const r = await prj(repo, ["fleet", "--attach", "3"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /No agent "3" with a session in the fleet/);
});
