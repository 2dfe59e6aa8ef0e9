/**
 * prj's Headless PM client and agent runner against the real Headless PM server: racing runners, comments kept,
 * branches that cannot be worked on as they are, QA in a second clone, resumes, server restarts, stops during a
 * long poll, and the settings the server refuses. The agent is the small test agent (tests/fixtures/agent.sh):
 * these tests are about prj's plumbing.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { AGENT, exists, git, prj, query, type Result, setConfig, spawnPrj, tempRepo, waitFor } from "./helpers.ts";
import { type HeadlessPm, HPM_ROLES, type HpmTask, hpmTest, startHeadlessPm } from "./support/headless_pm.ts";
import { HEADLESS_PM_ROLES, HeadlessPmClient, LockConflict, TaskNotFound } from "@prunejuice/cli/agents";

/** The config of a project whose tasks come from the server, with the test agent. */
function hpmConfig(url: string | null, extra = ""): string {
  return `agent:\n  command: ${AGENT}\ntask_source: headless-pm\nheadless_pm:\n${
    url ? `  url: ${url}\n` : ""
  }  long_poll: 1\n${extra}`;
}

/** The environment that gives prj the server's key (and no URL from the outside). */
function hpmEnv(hpm: HeadlessPm, extra: Record<string, string> = {}): Record<string, string> {
  return { HEADLESS_PM_API_KEY: hpm.apiKey, HEADLESS_PM_API_URL: "", ...extra };
}

interface Event {
  event: string;
  phase: string;
  task: string | null;
  detail?: string;
}

function events(r: Result): Event[] {
  return r.stdout.trim().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

/** `prj agent run` in the background, its JSON events collected as they come. */
function startRunner(repo: string, args: string[], env: Record<string, string>) {
  const child = spawnPrj(repo, ["agent", "run", ...args, "--json"], env);
  const seen: Event[] = [];
  let stderr = "";
  const decoder = new TextDecoder();
  const pump = (async () => {
    let buffer = "";
    for await (const chunk of child.stdout) {
      buffer += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith("{")) seen.push(JSON.parse(line));
      }
    }
  })();
  const errors = (async () => {
    for await (const chunk of child.stderr) stderr += decoder.decode(chunk, { stream: true });
  })();
  return {
    child,
    events: seen,
    until: (what: string, test: (e: Event) => boolean, ms = 30_000) => waitFor(() => seen.some(test), ms, what),
    async end(): Promise<{ code: number; stderr: string }> {
      const status = await child.status;
      await Promise.all([pump, errors]);
      return { code: status.code, stderr };
    },
  };
}

async function agentCommits(repo: string, range: string): Promise<string[]> {
  return (await git(repo, "log", "--format=%s", range)).split("\n").filter((l) => l.startsWith("agent:"));
}

async function changelog(hpm: HeadlessPm): Promise<{ task_id: number; new_status: string; changed_by: string }[]> {
  return (await hpm.request<{ task_id: number; new_status: string; changed_by: string }[]>(
    "GET",
    "/changelog?limit=1000",
  )).body;
}

/** How many processes run in a folder (their working directory is it). */
function processesIn(dir: string): number {
  let n = 0;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      if (Deno.readLinkSync(`/proc/${entry.name}/cwd`) === dir) n++;
    } catch { /* gone, or not ours to read */ }
  }
  return n;
}

async function phase(repo: string, agentId: string, like: string): Promise<boolean> {
  return (await query(repo, "SELECT 1 FROM agents WHERE agent_id = ? AND phase LIKE ?", agentId, like)).length > 0;
}

hpmTest("four runners racing over twelve tasks: every task is worked by one agent, once", async () => {
  await using hpm = await startHeadlessPm();
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await setConfig(repo, hpmConfig(hpm.url));
  const tasks: HpmTask[] = [];
  const all: Event[] = [];
  // Rounds of four runners started together on four fresh tasks: each round's first locks race for one task.
  for (let round = 0; round < 3; round++) {
    for (let i = 1; i <= 4; i++) {
      tasks.push(await hpm.createTask(`Race ${round * 4 + i}`, { branch: `task/race-${round * 4 + i}` }));
    }
    const results = await Promise.all(
      [1, 2, 3, 4].map((n) =>
        prj(repo, ["agent", "run", "--role", "backend_dev", "--agent-id", `be_${n}`, "--exit-when-empty", "--json"], {
          env: hpmEnv(hpm),
        })
      ),
    );
    for (const r of results) {
      assert.equal(r.code, 0, r.stderr);
      all.push(...events(r));
    }
  }
  const done = all.filter((e) => e.event === "done: dev_done").map((e) => e.task);
  assert.deepEqual(done.toSorted(), tasks.map((t) => String(t.id)).toSorted(), "each task done once");
  const log = await changelog(hpm);
  for (const task of tasks) {
    assert.equal((await hpm.getTask(task.id)).status, "dev_done");
    // Two agents on one task would be two agent commits on its branch (same worktree, same branch).
    assert.deepEqual(await agentCommits(repo, `main..${task.branch}`), [`agent: work on task-${task.id}`]);
    assert.equal(log.filter((c) => c.task_id === task.id && c.new_status === "dev_done").length, 1);
  }
  assert.deepEqual(await query(repo, "SELECT * FROM agent_locks"), []);
  const backedOff = all.filter((e) => /^another agent has this task/.test(e.event)).length;
  const conflicts = all.filter((e) => /^lock conflict/.test(e.event)).length;
  assert.ok(backedOff + conflicts > 0, "the runners did race for tasks");
});

hpmTest(
  "comments survive prj's status updates and give-backs, and the notes reach the agent's prompt",
  async () => {
    await using hpm = await startHeadlessPm();
    await using fixture = await tempRepo();
    const repo = fixture.path;
    // No URL in the config: HEADLESS_PM_API_URL names the server, and API_KEY holds the key.
    await setConfig(repo, hpmConfig(null, "agent_runner:\n  max_attempts: 1\n"));
    const env = { HEADLESS_PM_API_URL: hpm.url, API_KEY: hpm.apiKey, HEADLESS_PM_API_KEY: "", API_KEY_HEADLESS_PM: "" };
    const task = await hpm.createTask("Add login", { branch: "feature/login" });
    await hpm.comment(task.id, hpm.pmAgentId, "PM: use bcrypt");
    const args = ["agent", "run", "--role", "backend_dev", "--agent-id", "dev_001", "--exit-when-empty"];

    let r = await prj(repo, args, { env: { ...env, AGENT_EXIT: "3" } });
    assert.equal(r.code, 1, r.stderr + r.stdout);
    let now = await hpm.getTask(task.id);
    assert.deepEqual([now.status, now.locked_by], ["created", null], "given back and free");
    assert.match(now.notes!, /^pm_001: PM: use bcrypt\n\ndev_001: prj agent dev_001 gave the task back: the agent/);

    r = await prj(repo, args, { env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    now = await hpm.getTask(task.id);
    assert.equal(now.status, "dev_done");
    const comments = now.notes!.split("\n\n");
    assert.equal(comments.length, 3, now.notes!);
    assert.equal(comments[0], "pm_001: PM: use bcrypt");
    assert.match(comments[1]!, /^dev_001: prj agent dev_001 gave the task back: the agent failed 1 time\(s\)/);
    assert.equal(comments[2], "dev_001: prj agent dev_001: done on branch feature/login");
    // No status update of prj's carried notes (they would have replaced every comment).
    const updates = await hpm.request<{ changed_by: string; notes: string | null }[]>("GET", "/changelog?limit=100");
    assert.deepEqual(updates.body.filter((c) => c.changed_by === "dev_001").map((c) => c.notes), [
      null,
      null,
      null,
      null,
    ]);
    // The agent was told: the PM's instruction and why the last try was given back.
    const runs = await query<{ artifact_dir: string }>(
      repo,
      "SELECT artifact_dir FROM runs WHERE command = 'agent-task' ORDER BY started_at, rowid",
    );
    const prompt = await Deno.readTextFile(path.join(runs.at(-1)!.artifact_dir, "outputs", "prompt.md"));
    assert.match(
      prompt,
      /## Notes and comments on the task\n\npm_001: PM: use bcrypt\n\ndev_001: prj agent dev_001 gave/,
    );
  },
);

hpmTest(
  "a task on main or on a branch in use gets a branch of its own; one that cannot is given back, and the next is taken",
  async () => {
    await using hpm = await startHeadlessPm();
    await using fixture = await tempRepo();
    const repo = fixture.path;
    await setConfig(repo, hpmConfig(hpm.url));
    const onMain = await hpm.createTask("On main", { branch: "main", complexity: "minor" });
    const shared1 = await hpm.createTask("Shared one", { branch: "feature/shared" });
    const shared2 = await hpm.createTask("Shared two", { branch: "feature/shared" });
    const blocked = await hpm.createTask("Blocked", { branch: "main", complexity: "minor" });
    const after = await hpm.createTask("After", { branch: "task/after" });
    // The branch prj would give the blocked task is checked out in a worktree of the user's.
    const elsewhere = path.join(path.dirname(repo), "elsewhere");
    await git(repo, "worktree", "add", "-q", "-b", `task-${blocked.id}-blocked`, elsewhere, "main");

    const r = await prj(repo, ["agent", "run", "--role", "backend_dev", "--agent-id", "dev_001", "--exit-when-empty"], {
      env: hpmEnv(hpm),
    });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /done 4 task\(s\), gave back 1/);
    assert.match(r.stdout, /the task's branch main is the base branch: working on task-1-on-main/);
    assert.match(
      r.stdout,
      /the task's branch feature\/shared is checked out at .*task-2: working on task-3-shared-two/,
    );
    assert.deepEqual(await agentCommits(repo, "main"), [], "nothing committed on main");
    assert.deepEqual(await agentCommits(repo, `main..task-${onMain.id}-on-main`), [`agent: work on task-${onMain.id}`]);
    assert.deepEqual(await agentCommits(repo, "main..feature/shared"), [`agent: work on task-${shared1.id}`]);
    // The second task on the shared branch starts from it, so it builds on the first one's work.
    assert.deepEqual(await agentCommits(repo, `main..task-${shared2.id}-shared-two`), [
      `agent: work on task-${shared2.id}`,
      `agent: work on task-${shared1.id}`,
    ]);
    for (const t of [onMain, shared1, shared2, after]) assert.equal((await hpm.getTask(t.id)).status, "dev_done");
    const back = await hpm.getTask(blocked.id);
    assert.deepEqual([back.status, back.locked_by], ["created", null]);
    assert.match(
      back.notes!,
      new RegExp(
        `gave the task back: could not make a worktree for it: Branch task-${blocked.id}-blocked for task ${blocked.id} is checked out at ${elsewhere}`,
      ),
    );
    assert.ok(!exists(path.join(path.dirname(repo), "repo.worktrees", `task-${blocked.id}`)));
  },
);

hpmTest("QA in a second clone works from the developer's commits, fetched from the remote", async () => {
  await using hpm = await startHeadlessPm();
  await using fixture = await tempRepo();
  const dev = fixture.path;
  const parent = path.dirname(dev);
  const origin = path.join(parent, "origin.git");
  await git(parent, "init", "-q", "--bare", "-b", "main", origin);
  await git(dev, "remote", "add", "origin", origin);
  await git(dev, "push", "-q", "origin", "main");
  const qa = path.join(parent, "qa");
  await git(parent, "clone", "-q", origin, qa);
  await setConfig(dev, hpmConfig(hpm.url));
  await setConfig(qa, hpmConfig(hpm.url));
  const login = await hpm.createTask("Add login", { branch: "feature/login" });
  const typo = await hpm.createTask("Fix typo", { branch: "main", complexity: "minor" });

  let r = await prj(dev, ["agent", "run", "--role", "backend_dev", "--agent-id", "dev_001", "--exit-when-empty"], {
    env: hpmEnv(hpm),
  });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /pushed feature\/login to origin/);
  r = await prj(qa, ["agent", "run", "--role", "qa", "--agent-id", "qa_001", "--exit-when-empty"], {
    env: hpmEnv(hpm),
  });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /done 2 task\(s\)/);
  for (const [task, branch] of [[login, "feature/login"], [typo, `task-${typo.id}-fix-typo`]] as const) {
    const now = await hpm.getTask(task.id);
    assert.equal(now.status, "qa_done");
    assert.match(now.notes!, new RegExp(`qa_001: prj agent qa_001: done on branch ${branch}$`));
    // QA's worktree had the developer's commit, and QA's own came on top of it, in the QA clone and on the remote.
    const both = [`agent: work on task-${task.id}`, `agent: work on task-${task.id}`];
    assert.deepEqual(await agentCommits(qa, `main..${branch}`), both, branch);
    assert.deepEqual(await agentCommits(origin, `main..${branch}`), both, branch);
  }
});

hpmTest(
  "a restarted runner asks the server first: a task finished or taken meanwhile is left alone and its lock dropped",
  async () => {
    await using hpm = await startHeadlessPm();
    await using fixture = await tempRepo();
    const repo = fixture.path;
    await setConfig(repo, hpmConfig(hpm.url));
    await hpm.register("dev_002", "backend_dev", "senior");
    const args = ["--role", "backend_dev", "--agent-id", "dev_001", "--exit-when-empty"];

    for (const ending of ["finished", "taken"] as const) {
      const task = await hpm.createTask(`Task ${ending}`);
      const runner = startRunner(repo, args, hpmEnv(hpm, { AGENT_SLEEP: "2" }));
      await waitFor(() => phase(repo, "dev_001", "agent-attempt%"), 30_000, "the agent to start");
      runner.child.kill("SIGKILL");
      await runner.end();
      // Meanwhile another agent finishes the task, or takes it over.
      if (ending === "finished") await hpm.setStatus(task.id, "dev_002", "dev_done");
      else {
        await hpm.setStatus(task.id, "dev_002", "created");
        assert.equal((await hpm.lock(task.id, "dev_002")).status, 200);
      }
      const before = await hpm.getTask(task.id);
      const changes = (await changelog(hpm)).length;

      const r = await prj(repo, ["agent", "run", ...args, "--json"], { env: hpmEnv(hpm) });
      assert.equal(r.code, 0, r.stderr);
      const expected = ending === "finished"
        ? "not resuming: the task is dev_done, not locked; dropping the local lock (the task is not touched)"
        : "not resuming: the task is created, locked by dev_002; dropping the local lock (the task is not touched)";
      assert.equal(events(r)[0]!.event, expected);
      assert.deepEqual(await hpm.getTask(task.id), before, "the task is untouched");
      assert.equal((await changelog(hpm)).length, changes, "no status change");
      assert.deepEqual(await query(repo, "SELECT * FROM agent_locks"), []);
      const worktree = path.join(path.dirname(repo), "repo.worktrees", `task-${task.id}`);
      await waitFor(() => processesIn(worktree) === 0, 15_000, "the orphaned agent to end");
    }
  },
);

hpmTest("a server restart mid-poll and mid-task: the runner retries, and the task is finished once", async () => {
  await using hpm = await startHeadlessPm();
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await setConfig(repo, hpmConfig(hpm.url).replace("long_poll: 1", "long_poll: 3"));
  const runner = startRunner(
    repo,
    ["--role", "backend_dev", "--agent-id", "dev_001", "--poll", "1s"],
    hpmEnv(hpm, { AGENT_SLEEP: "2" }),
  );
  await waitFor(() => phase(repo, "dev_001", "polling"), 30_000, "the runner to poll");
  await new Promise((r) => setTimeout(r, 500));
  await hpm.restart({ kill: true });
  const task = await hpm.createTask("After the restart");
  await runner.until("the agent", (e) => e.event === "attempt 1 of 3 started");
  await hpm.stop({ kill: true });
  // The agent finishes while the server is down: recording the result waits for it.
  await runner.until("a retry of the final status", (e) => e.phase === "network" && /GET \/tasks /.test(e.event));
  await hpm.restart();
  await runner.until("the task to be done", (e) => e.event === "done: dev_done", 60_000);
  runner.child.kill("SIGINT");
  const { code, stderr } = await runner.end();
  assert.equal(code, 130, stderr);
  assert.ok(
    runner.events.some((e) => e.phase === "network" && /did not answer GET \/tasks\/next/.test(e.event)),
    "the poll was retried",
  );
  assert.equal((await hpm.getTask(task.id)).status, "dev_done");
  assert.deepEqual(await agentCommits(repo, `main..${task.branch}`), [`agent: work on task-${task.id}`]);
  assert.equal(runner.events.filter((e) => /^attempt \d/.test(e.event)).length, 1, "the agent ran once");
  const done = (await changelog(hpm)).filter((c) => c.task_id === task.id && c.new_status === "dev_done");
  assert.equal(done.length, 1);
});

hpmTest(
  "a runner killed while it waits to record the result resumes at the result: the agent is not run again",
  async () => {
    await using hpm = await startHeadlessPm();
    await using fixture = await tempRepo();
    const repo = fixture.path;
    await setConfig(repo, hpmConfig(hpm.url));
    const task = await hpm.createTask("Almost done");
    const args = ["--role", "backend_dev", "--agent-id", "dev_001", "--exit-when-empty"];
    const runner = startRunner(repo, args, hpmEnv(hpm, { AGENT_SLEEP: "1" }));
    await runner.until("the agent", (e) => e.event === "attempt 1 of 3 started");
    await hpm.stop({ kill: true });
    await runner.until("a retry while recording", (e) => e.phase === "network" && /GET \/tasks /.test(e.event));
    runner.child.kill("SIGKILL");
    await runner.end();
    await hpm.restart();

    const r = await prj(repo, ["agent", "run", ...args, "--json"], { env: hpmEnv(hpm) });
    assert.equal(r.code, 0, r.stderr);
    const names = events(r).map((e) => e.event);
    assert.equal(names[0], "resuming the task this agent held");
    assert.ok(!names.some((e) => /^attempt /.test(e)), names.join("\n"));
    assert.ok(names.includes("done: dev_done"), names.join("\n"));
    assert.equal((await hpm.getTask(task.id)).status, "dev_done");
    assert.deepEqual(await agentCommits(repo, `main..${task.branch}`), [`agent: work on task-${task.id}`]);
  },
);

hpmTest("Ctrl-C or SIGTERM during a long poll is a clean stop: exit 130, no stack", async () => {
  await using hpm = await startHeadlessPm();
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await setConfig(repo, hpmConfig(hpm.url).replace("long_poll: 1", "long_poll: 20"));
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const child = spawnPrj(repo, ["agent", "run", "--role", "backend_dev", "--agent-id", "dev_001"], hpmEnv(hpm));
    await waitFor(() => phase(repo, "dev_001", "polling"), 30_000, "the runner to poll");
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    child.kill(signal);
    const out = await child.output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 130, `${signal}: ${stderr}`);
    assert.ok(Date.now() - t0 < 5000, `${signal}: stopped at once`);
    assert.doesNotMatch(stderr, /AbortError|Error:|^\s+at /m, signal);
    assert.match(stdout, /done 0 task\(s\), gave back 0\n$/, signal);
  }
  // The polls the runner abandoned would hold the server's stop for their whole timeout.
  await hpm.stop({ kill: true });
});

hpmTest("prj task list, show, comment, set-status and release act on the server", async () => {
  await using hpm = await startHeadlessPm();
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await setConfig(repo, hpmConfig(hpm.url));
  const env = hpmEnv(hpm);
  const stuck = await hpm.createTask("Stuck", { branch: "main" });
  const other = await hpm.createTask("Other");
  // Locked but never moved to under_work: the server clears a lock only when a task leaves under_work.
  await hpm.register("dev_001", "backend_dev", "senior");
  assert.equal((await hpm.lock(stuck.id, "dev_001")).status, 200);

  let r = await prj(repo, ["task", "list", "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    JSON.parse(r.stdout).map((t: { id: string; status: string; locked_by: string | null }) => [t.id, t.locked_by]),
    [[String(stuck.id), "dev_001"], [String(other.id), null]],
  );
  r = await prj(repo, ["task", "comment", String(stuck.id), "PM: look at it again", "--as", "pm_001"], { env });
  assert.equal(r.code, 0, r.stderr);
  r = await prj(repo, ["task", "release", String(stuck.id)], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`task ${stuck.id} released \\(status created, no lock\\)`));
  const released = await hpm.getTask(stuck.id);
  assert.deepEqual([released.status, released.locked_by], ["created", null]);
  assert.equal(released.notes, "pm_001: PM: look at it again\n\ndev_001: released by hand");
  r = await prj(repo, ["task", "show", String(stuck.id)], { env });
  assert.match(r.stdout, /status created .* branch main/);
  assert.match(r.stdout, /notes\npm_001: PM: look at it again\n\ndev_001: released by hand/);
  r = await prj(repo, ["task", "set-status", String(other.id), "pending"], { env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /is not locked: say which registered agent makes the change with --as <agent-id>/);
  r = await prj(repo, ["task", "set-status", String(other.id), "pending", "--as", "pm_001"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await hpm.getTask(other.id)).status, "pending");
  r = await prj(repo, ["task", "show", "99"], { env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /No task 99 in Headless PM at http:\/\/127\.0\.0\.1:\d+/);
});

hpmTest("the client against the real server: 401, missing task, 409, 422, a lost agent row, release", async () => {
  await using hpm = await startHeadlessPm();
  const bad = new HeadlessPmClient({ url: hpm.url, apiKey: "wrong", longPoll: 1 });
  await assert.rejects(() => bad.register("a", "backend_dev", "senior"), /refused the API key \(401\)/);
  const client = new HeadlessPmClient({ url: `${hpm.url}/api/v1`, apiKey: hpm.apiKey, longPoll: 1 });
  await client.register("dev_001", "backend_dev", "senior");
  assert.equal(await client.next("backend_dev", "senior"), null);
  await assert.rejects(() => client.lock("99", "dev_001"), (e) => e instanceof TaskNotFound);
  await assert.rejects(
    () => client.setStatus("1", "dev_001", "testing" as "created"),
    /rejected PUT \/tasks\/1\/status/,
  );
  const task = await hpm.createTask("Add login");
  await hpm.comment(task.id, hpm.pmAgentId, "PM: keep it small");
  // The PM removes the agent: the client registers it again and the lock goes through.
  assert.equal((await hpm.request("DELETE", `/agents/dev_001?requester_agent_id=${hpm.pmAgentId}`)).status, 200);
  const locked = await client.lock(String(task.id), "dev_001");
  assert.equal(locked.locked_by, "dev_001");
  // The server answers 409 to the holder too; for the client a lock it holds is a lock.
  assert.equal((await client.lock(String(task.id), "dev_001")).locked_by, "dev_001");
  await hpm.register("dev_002", "backend_dev", "senior");
  await assert.rejects(() => client.lock(String(task.id), "dev_002"), (e) => e instanceof LockConflict);
  // Given back before it reached under_work: the lock is cleared (the server clears it only leaving under_work).
  await client.release(String(task.id), "dev_001", "not today");
  const back = (await client.get(String(task.id)))!;
  assert.deepEqual([back.status, back.locked_by, back.notes], [
    "created",
    null,
    "pm_001: PM: keep it small\n\ndev_001: not today",
  ]);
});

Deno.test("roles prj accepts for Headless PM are the server's", () => {
  assert.deepEqual([...HEADLESS_PM_ROLES], [...HPM_ROLES]);
});

Deno.test("a role or long poll the Headless PM server would refuse is refused before anything starts", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await setConfig(repo, hpmConfig("http://127.0.0.1:9").replace("long_poll: 1", "long_poll: 0.5"));
  const env = { HEADLESS_PM_API_KEY: "k", HEADLESS_PM_API_URL: "" };
  let r = await prj(repo, ["agent", "run", "--role", "backend_dev", "--agent-id", "dev_001"], { env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /\.prj\/config\.yaml:6:14: headless_pm\.long_poll: expected whole seconds/);
  await setConfig(repo, hpmConfig("http://127.0.0.1:9"));
  r = await prj(repo, ["agent", "run", "--role", "backend-dev", "--agent-id", "dev_001"], { env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--role: Headless PM has no role "backend-dev"; did you mean "backend_dev"\?/);
  assert.match(r.stderr, /one of: frontend_dev, backend_dev, qa, architect, pm/);
  r = await prj(repo, ["task", "add", "Anything"], { env });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /prj task add adds to the built-in queue, but this project takes its tasks from Headless PM at http:\/\/127\.0\.0\.1:9/,
  );
});
