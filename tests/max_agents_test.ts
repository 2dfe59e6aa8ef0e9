/**
 * A cap on live agents (`agent.max_agents`, `--max-agents`) with the real Claude Code CLI and its API stand-in: launches
 * beyond the cap wait in order, show in `prj fleet` as queued with their positions, and start as slots free; a prj that
 * stops waiting leaves no queued entry.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { openStore } from "../lib/state/store.ts";
import { dequeueLaunch, enqueueLaunch, liveEntries, type QueueRecord, takeSlot } from "../lib/state/agent_queue.ts";
import { processAlive } from "../lib/util/liveness.ts";
import { agentLab, type Row } from "./support/agent_lab.ts";
import { AGENT, prj, query, setConfig, spawnPrj, tempRepo, waitFor } from "./helpers.ts";

type Queued = Omit<Row, "state"> & { state: string; position?: number };

Deno.test("--max-agents 1 with three fan-out tasks: one working, two queued in order; each starts as the previous exits", async () => {
  await using lab = await agentLab("claude", { control: { delay_ms: 2500 } });
  const child = spawnPrj(lab.repo, ["run", "parallel", "tasks=a,b,c", "headless=true", "--max-agents", "1", "--json"], {
    ...lab.env,
  });
  let rows: Queued[] = [];
  await waitFor(
    async () => {
      rows = await lab.fleet();
      return rows.some((r) => r.state === "working") && rows.filter((r) => r.state === "queued").length === 2;
    },
    60000,
    "one working agent and two queued",
  );
  assert.equal(rows.filter((r) => r.state === "working").length, 1);
  const queued = rows.filter((r) => r.state === "queued");
  assert.deepEqual(queued.map((r) => [r.position, r.stateLabel]), [[1, "queued (1)"], [2, "queued (2)"]]);
  const table = await prj(lab.repo, ["fleet"], { env: lab.env });
  assert.match(table.stdout, /queued \(1\)/);
  assert.match(table.stdout, /queued \(2\)/);
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.equal(JSON.parse(text).status, "succeeded");
  // Each agent started only once the one before it had exited.
  const launches = await query<{ id: number; worktree: string; launched_at: string; ended: string }>(
    lab.repo,
    `SELECT l.id, l.worktree, l.launched_at,
       (SELECT MIN(at) FROM agent_state_events e WHERE e.launch_id = l.id AND e.state LIKE 'exited%') AS ended
     FROM agent_launches l ORDER BY l.launched_at`,
  );
  assert.equal(launches.length, 3);
  assert.deepEqual(new Set(launches.map((l) => l.worktree)), new Set(["a", "b", "c"]));
  for (let i = 1; i < launches.length; i++) {
    assert.ok(
      launches[i]!.launched_at >= launches[i - 1]!.ended,
      `${launches[i]!.worktree} started at ${launches[i]!.launched_at}, before ${launches[i - 1]!.worktree} ended`,
    );
  }
  const after = await lab.fleet();
  assert.deepEqual(after.map((r) => r.stateLabel).sort(), ["exited (0)", "exited (0)", "exited (0)"]);
  assert.deepEqual(await query(lab.repo, "SELECT * FROM agent_queue"), []);
});

Deno.test("max_agents: 1 in config: an idle interactive agent holds the slot; a stopped prj removes its queued entry", async () => {
  await using lab = await agentLab("claude", {
    agent: ["max_agents: 1", "interactive_args: [--permission-mode, acceptEdits]"],
  });
  const first = await lab.run("feature-branch", "feature_name=one");
  assert.equal(first.code, 0, first.stderr);
  await waitFor(async () => (await lab.fleet())[0]?.state === "idle", 30000, "the first agent idle");
  const waiting = spawnPrj(lab.repo, ["run", "feature-branch", "feature_name=two"], lab.env);
  let rows: Queued[] = [];
  await waitFor(
    async () => {
      rows = await lab.fleet();
      return rows.some((r) => r.state === "queued");
    },
    30000,
    "the second launch queued",
  );
  assert.deepEqual(rows.map((r) => [r.worktree, r.stateLabel]), [["one", "idle"], ["two", "queued (1)"]]);
  // Stopping that prj (SIGTERM, as Ctrl-C) removes its entry; the idle agent keeps its slot.
  waiting.kill("SIGTERM");
  const out = await waiting.output();
  assert.equal(out.code, 130, new TextDecoder().decode(out.stderr));
  assert.deepEqual(await query(lab.repo, "SELECT * FROM agent_queue"), []);
  assert.deepEqual((await lab.fleet()).map((r) => [r.worktree, r.stateLabel]), [["one", "idle"]]);
  // A prj killed outright leaves an entry that no fleet shows (its process is gone) and the next one drops.
  const killed = spawnPrj(lab.repo, ["run", "feature-branch", "feature_name=three"], lab.env);
  await waitFor(async () => (await query(lab.repo, "SELECT id FROM agent_queue")).length === 1, 30000, "queued");
  killed.kill("SIGKILL");
  await killed.output();
  assert.deepEqual((await lab.fleet()).map((r) => [r.worktree, r.stateLabel]), [["one", "idle"]]);
  assert.deepEqual(await query(lab.repo, "SELECT * FROM agent_queue"), []);
});

Deno.test("takeSlot: the first in line take the free slots in order, the rest learn their position; a dead waiter is dropped", async () => {
  const dir = await Deno.makeTempDir({ prefix: "prj-slots-" });
  await Deno.mkdir(path.join(dir, ".prj"));
  const store = openStore(path.join(dir, ".prj"));
  try {
    const me = { pid: Deno.pid, pidStart: null };
    const entry = (name: string, pid = me) =>
      enqueueLaunch(store, {
        worktree: name,
        worktreePath: `/w/${name}`,
        branch: name,
        session: null,
        kind: "claude",
        model: null,
        headless: true,
        runId: null,
        pid: pid.pid,
        pidStart: pid.pidStart,
      });
    const dead = entry("dead", { pid: 2 ** 22 + 1, pidStart: null });
    const [a, b, c] = [entry("a"), entry("b"), entry("c")];
    const alive = (e: QueueRecord) => processAlive(e.pid, e.pid_start);
    const none = () => true;
    // Two slots, nobody live: c (third in line) waits until a or b has taken its slot.
    assert.deepEqual(takeSlot(store, c, 2, none, alive), { taken: false, position: 3, live: 0 });
    assert.deepEqual(takeSlot(store, b, 2, none, alive), { taken: true, live: 1 });
    assert.deepEqual(takeSlot(store, c, 2, none, alive), { taken: false, position: 2, live: 1 });
    assert.deepEqual(takeSlot(store, a, 2, none, alive), { taken: true, live: 2 });
    assert.deepEqual(takeSlot(store, c, 2, none, alive), { taken: false, position: 1, live: 2 });
    assert.deepEqual(liveEntries(store, alive).map((e) => e.worktree), ["a", "b", "c"], "the dead waiter is gone");
    assert.ok(!liveEntries(store, () => true).some((e) => e.id === dead));
    dequeueLaunch(store, a);
    assert.deepEqual(takeSlot(store, c, 2, none, alive), { taken: true, live: 2 });
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("two agent runners under --max-agents 1 never have two agents at once; both tasks are done", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await setConfig(repo, `agent:\n  command: ${AGENT}\n  kind: generic\n`);
  for (const title of ["First", "Second"]) {
    assert.equal((await prj(repo, ["task", "add", title, "--role", "dev"])).code, 0);
  }
  const runner = (id: string) =>
    spawnPrj(repo, ["agent", "run", "--role", "dev", "--agent-id", id, "--max-agents", "1", "--exit-when-empty"], {
      AGENT_SLEEP: "2",
    }).output();
  const outs = await Promise.all([runner("r1"), runner("r2")]);
  for (const out of outs) assert.equal(out.code, 0, new TextDecoder().decode(out.stdout));
  const launches = await query<{ launched_at: string; ended: string | null }>(
    repo,
    `SELECT l.launched_at,
       (SELECT MIN(at) FROM agent_state_events e WHERE e.launch_id = l.id AND e.state LIKE 'exited%') AS ended
     FROM agent_launches l ORDER BY l.launched_at`,
  );
  assert.equal(launches.length, 2);
  assert.ok(launches[0]!.ended !== null && launches[1]!.launched_at >= launches[0]!.ended, JSON.stringify(launches));
  const tasks = await query<{ status: string }>(repo, "SELECT status FROM tasks ORDER BY id");
  assert.deepEqual(tasks.map((t) => t.status), ["dev_done", "dev_done"]);
  assert.deepEqual(await query(repo, "SELECT * FROM agent_queue"), []);
});
