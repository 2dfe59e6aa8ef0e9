/**
 * `prj fleet`'s plumbing with a small real program as the agent (kind `generic`: no hooks, no busy marker). How the
 * real agent CLIs are read (hooks, dialogs, headless results) is tested against them in agents_real_test.ts.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { FleetRow } from "@prunejuice/cli/agents";
import {
  AGENT,
  killTmux,
  prj,
  query,
  setConfig,
  spawnPrj,
  tempRepo,
  tempTmux,
  waitFor,
  writeCommand,
} from "./helpers.ts";

/** A row of `prj fleet --json`. */
type Row = FleetRow & { stateLabel: string };

async function fleet(repo: string, env: Record<string, string>): Promise<Row[]> {
  const r = await prj(repo, ["fleet", "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

Deno.test("a program without hooks reads working while its pane is busy, idle after idle_after of quiet, on single calls", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const env = { ...server.env, AGENT_SLEEP: "30" };
  await setConfig(repo, `agent:\n  command: ${AGENT}\n  kind: generic\nfleet:\n  idle_after: 3\n`);
  const run = await prj(repo, ["run", "feature-branch", "feature_name=quiet", "--json"], { env });
  assert.equal(run.code, 0, run.stderr);
  const first = (await fleet(repo, env))[0]!;
  assert.deepEqual([first.state, first.stateSource], ["working", "pane"]);
  assert.equal(first.agentSessionId, null, "a generic agent has no conversation id");
  assert.ok(first.pid !== null, "the launcher recorded the agent's pid");
  await waitFor(async () => (await fleet(repo, env))[0]!.state === "idle", 10000, "idle");
  const states = await query<{ state: string; source: string }>(
    repo,
    "SELECT state, source FROM agent_state_events ORDER BY id",
  );
  assert.deepEqual(states.map((s) => `${s.state}/${s.source}`), ["working/process", "idle/pane"]);
  const table = await prj(repo, ["ps"], { env });
  assert.match(table.stdout, /1\s+quiet\s+quiet\s+repo-quiet\s+generic\s+idle \(pane\)/);
});

Deno.test("an agent's exit code comes from its launcher, not its screen; notify runs once for it", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const env = { ...server.env, AGENT_SLEEP: "2", AGENT_EXIT: "3" };
  const log = path.join(path.dirname(repo), "notify.log");
  await setConfig(
    repo,
    `agent:\n  command: ${AGENT}\n  kind: generic\nnotify: 'echo "$PRJ_AGENT_STATE|$PRJ_SESSION" >> ${log}'\n`,
  );
  assert.equal((await prj(repo, ["run", "feature-branch", "feature_name=ends"], { env })).code, 0);
  await waitFor(async () => (await fleet(repo, env))[0]!.state === "exited", 10000, "exited");
  const [row] = await fleet(repo, env);
  assert.deepEqual([row!.stateLabel, row!.stateSource, row!.changedFiles], ["exited (3)", "process", 0]);
  assert.deepEqual((await Deno.readTextFile(log)).trim().split("\n"), ["exited (3)|repo-ends"]);
});

Deno.test("one agent per worktree: a second launch where an agent works is refused, naming it", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const env = { ...server.env, AGENT_SLEEP: "30" };
  await setConfig(repo, `agent:\n  command: ${AGENT}\n  kind: generic\n`);
  await writeCommand(
    repo,
    "again",
    [
      "name: again",
      "prompt_file: prompts/feature-branch.md",
      "arguments: [{ name: feature_name, required: true }, { name: headless, default: 'false' }]",
      "steps:",
      "  - { uses: create-worktree, with: { name: '{{ args.feature_name }}', reuse: true } }",
      "  - start-session",
      "  - { uses: launch-agent, with: { headless: '{{ args.headless }}' } }",
    ].join("\n"),
  );
  assert.equal((await prj(repo, ["run", "again", "feature_name=one"], { env })).code, 0);
  for (const headless of ["false", "true"]) {
    const r = await prj(repo, ["run", "again", "feature_name=one", `headless=${headless}`, "--json"], { env });
    assert.equal(r.code, 1);
    assert.match(
      JSON.parse(r.stdout).steps.at(-1).error,
      /^An agent is already working in ".*repo\.worktrees\/one" \(generic, in tmux session "repo-one", pid \d+, since /,
    );
  }
  const rows = await fleet(repo, env);
  assert.deepEqual(rows.map((r) => [r.worktree, r.state]), [["one", "working"]]);
});

Deno.test("a killed tmux server shows every agent as gone", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const env = { ...server.env, AGENT_SLEEP: "30" };
  await setConfig(repo, `agent:\n  command: ${AGENT}\n  kind: generic\nfleet:\n  idle_after: 600\n`);
  for (const name of ["a", "b"]) {
    assert.equal((await prj(repo, ["run", "feature-branch", `feature_name=${name}`], { env })).code, 0);
  }
  assert.deepEqual((await fleet(repo, env)).map((r) => r.state), ["working", "working"]);
  await killTmux(server.socket);
  assert.deepEqual((await fleet(repo, env)).map((r) => r.state), ["gone", "gone"]);
  const missing = await prj(repo, ["agent", "resume", "a"], { env });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No resumable agent recorded for worktree "a"/);
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
  assert.match(r.stderr, /No row "3" with a session in the fleet/);
});
