/** What `prj fleet` shows around its agents: bare sessions, row numbers, no tmux, exited agents, narrow terminals. */
import assert from "node:assert/strict";
import * as path from "node:path";
import { AGENT, prj, prjCommandLine, query, setConfig, tempDir, tempRepo, tempTmux, tmux, waitFor } from "./helpers.ts";

interface JsonRow {
  row: number;
  kind?: string;
  worktree: string;
  session: string | null;
  stateLabel: string;
  lastLine?: string | null;
}

async function fleet(repo: string, env: Record<string, string>): Promise<JsonRow[]> {
  const r = await prj(repo, ["fleet", "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

Deno.test("a session prj made with no agent in it is a fleet row; --json rows carry the numbers --attach takes", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const env = { ...server.env, AGENT_SLEEP: "30" };
  // A quiet screen must not turn idle while the test runs, however slow the machine.
  await setConfig(repo, `agent:\n  command: ${AGENT}\n  kind: generic\nfleet:\n  idle_after: 600\n`);
  assert.equal((await prj(repo, ["run", "feature-branch", "feature_name=busy"], { env })).code, 0);
  assert.equal((await prj(repo, ["worktree", "create", "red", "--session"], { env })).code, 0);

  const table = await prj(repo, ["fleet"], { env });
  assert.match(table.stdout, /^1\s+busy\s+busy\s+repo-busy\s+generic\s+working/m);
  assert.match(table.stdout, /^2\s+red\s+red\s+repo-red\s+-\s+no agent\s/m);
  const rows = await fleet(repo, env);
  assert.deepEqual(rows.map((r) => [r.row, r.worktree, r.session, r.stateLabel]), [
    [1, "busy", "repo-busy", "working"],
    [2, "red", "repo-red", "no agent"],
  ]);
  // --attach 2 goes to row 2's session (here there is no terminal, so it says so, naming it).
  const attach = await prj(repo, ["fleet", "--attach", "2"], { env });
  assert.equal(attach.code, 1);
  assert.match(attach.stderr, /^error: Cannot attach to session "repo-red" here: this is not a terminal$/m);
  assert.match((await prj(repo, ["fleet", "--attach", "red"], { env })).stderr, /session "repo-red"/);
  const none = await prj(repo, ["fleet", "--attach", "3"], { env });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^error: No row "3" with a session in the fleet$/m);
});

Deno.test("without tmux on PATH agents in sessions read unknown (tmux not found), never gone", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const env = { ...server.env, AGENT_SLEEP: "30" };
  // A quiet screen must not turn idle while the test runs, however slow the machine.
  await setConfig(repo, `agent:\n  command: ${AGENT}\n  kind: generic\nfleet:\n  idle_after: 600\n`);
  assert.equal((await prj(repo, ["run", "feature-branch", "feature_name=busy"], { env })).code, 0);
  assert.equal((await fleet(repo, env))[0]!.stateLabel, "working");

  // A PATH with git and deno but no tmux.
  await using bin = await tempDir({ prefix: "prj-notmux-" });
  for (const tool of ["git", "sh"]) {
    const found = new TextDecoder().decode(
      (await new Deno.Command("sh", { args: ["-c", `command -v ${tool}`], stdout: "piped" }).output()).stdout,
    ).trim();
    await Deno.symlink(found, path.join(bin.path, tool));
  }
  const noTmux = { ...env, PATH: bin.path };
  const r = await prj(repo, ["fleet"], { env: noTmux });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^1\s+busy\s+busy\s+repo-busy\s+generic\s+unknown \(tmux not found\)/m);
  assert.match(
    r.stderr,
    /^note: tmux is not installed \(or not on PATH\): agents in sessions cannot be seen; install tmux/m,
  );
  assert.equal((await fleet(repo, noTmux))[0]!.stateLabel, "unknown (tmux not found)");
  const states = await query<{ state: string }>(repo, "SELECT state FROM agent_state_events ORDER BY id");
  assert.deepEqual(states.map((s) => s.state), ["working"], "nothing recorded as gone");
  assert.equal((await fleet(repo, env))[0]!.stateLabel, "working");
});

Deno.test("after an agent exits its last output is its own last line, not the shell prompt", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const env = { ...server.env, AGENT_SLEEP: "1" };
  await setConfig(repo, `agent:\n  command: ${AGENT}\n  kind: generic\n`);
  assert.equal((await prj(repo, ["run", "feature-branch", "feature_name=done"], { env })).code, 0);
  await waitFor(async () => (await fleet(repo, env))[0]!.stateLabel === "exited (0)", 30_000, "the agent to exit");
  for (let i = 0; i < 2; i++) {
    assert.equal((await fleet(repo, env))[0]!.lastLine, "agent: committed on done");
  }
  assert.match((await prj(repo, ["fleet"], { env })).stdout, /exited \(0\).*agent: committed on done$/m);
});

Deno.test("prj fleet --watch fits an 80-column terminal: no row wraps", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const env = { ...server.env, AGENT_SLEEP: "30" };
  await setConfig(repo, `agent:\n  command: ${AGENT}\n  kind: generic\n`);
  assert.equal(
    (await prj(repo, ["run", "feature-branch", "feature_name=a-rather-long-feature-name"], { env })).code,
    0,
  );
  const watcher = tempTmux();
  await using _watcher = watcher;
  await tmux(watcher.socket, "new-session", "-d", "-s", "w", "-x", "80", "-y", "20", "-c", repo);
  await tmux(
    watcher.socket,
    "send-keys",
    "-t",
    "w",
    `PRJ_TMUX_SOCKET=${server.socket} NO_COLOR=1 ${prjCommandLine("fleet", "--watch", "--interval", "1s")}`,
    "Enter",
  );
  const screen = async () => (await tmux(watcher.socket, "capture-pane", "-p", "-t", "w")).stdout;
  await waitFor(async () => /prj fleet \d\d:\d\d:\d\d/.test(await screen()), 30_000, "the watch screen");
  await waitFor(async () => /^1 /m.test(await screen()), 30_000, "the agent's row");
  const lines = (await screen()).split("\n").filter((l) => l.trim() !== "");
  const header = lines.findIndex((l) => l.startsWith("#"));
  assert.ok(header > 0, await screen());
  // The header, then one line per row: a wrapped row would continue on a line that starts with neither.
  assert.match(lines[header + 1]!, /^1\s+a-rather-long-feature-name\s/);
  assert.ok(lines.every((l) => l.length <= 80));
  assert.ok(lines[header + 1]!.endsWith("…") || lines[header + 1]!.length <= 80);
  assert.equal(lines.length, header + 2, `only the title, the header and one row:\n${lines.join("\n")}`);
  await tmux(watcher.socket, "send-keys", "-t", "w", "q");
});
