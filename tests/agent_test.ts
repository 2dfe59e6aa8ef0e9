import assert from "node:assert/strict";
import * as path from "node:path";
import {
  AGENT,
  exists,
  git,
  prj,
  prjCommandLine,
  query,
  setConfig,
  spawnPrj,
  tempRepo,
  tempTmux,
  tmux,
  waitFor,
} from "./helpers.ts";
import { startStandInHeadlessPm } from "./fixtures/headless_pm_server.ts";

async function tasks(repo: string) {
  return JSON.parse((await prj(repo, ["task", "list", "--json"])).stdout) as {
    id: string;
    status: string;
    locked_by: string | null;
    title: string;
  }[];
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

async function agentCommits(repo: string, branch: string): Promise<string[]> {
  return (await git(repo, "log", "--format=%s", `main..${branch}`)).split("\n").filter((l) => l.startsWith("agent:"));
}

Deno.test("task commands: add, list, show, set-status, release, with clear errors", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await Deno.writeTextFile(path.join(repo, "spec.md"), "Build it well.\n");
  let r = await prj(repo, [
    "task",
    "add",
    "Write docs",
    "--file",
    "spec.md",
    "--role",
    "writer",
    "--difficulty",
    "junior",
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).description, "Build it well.\n");
  r = await prj(repo, ["task", "add", "x", "--difficulty", "guru"]);
  assert.equal(r.code, 2);
  r = await prj(repo, ["task", "add", "x", "--description", "d", "--file", "spec.md"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Give --description or --file, not both/);
  r = await prj(repo, ["task", "add", "x", "--file", "missing.md"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--file: cannot read "missing\.md"/);
  r = await prj(repo, ["task", "set-status", "1", "qa_dnoe"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Unknown status "qa_dnoe"; did you mean "qa_done"\?/);
  r = await prj(repo, ["task", "set-status", "1", "qa_done"]);
  assert.equal(r.code, 0);
  r = await prj(repo, ["task", "show", "9"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /No task 9/);
  r = await prj(repo, ["task", "list", "--status", "qa_done"]);
  assert.match(r.stdout, /1\s+qa_done\s+writer\s+junior\s+-\s+Write docs/);
  r = await prj(repo, ["task", "list", "--status", "done"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Unknown --status "done"/);
  r = await prj(repo, ["task", "comment", "1", "Use the style guide", "--as", "pm_001"]);
  assert.equal(r.code, 0, r.stderr);
  r = await prj(repo, ["task", "release", "1"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /task 1 released \(status created, no lock\)/);
  const shown = JSON.parse((await prj(repo, ["task", "show", "1", "--json"])).stdout);
  assert.equal(shown.status, "created");
  assert.deepEqual(shown.events.map((e: { kind: string }) => e.kind), [
    "created",
    "status",
    "comment",
    "comment",
    "released",
  ]);
  // The notes are the comments, as Headless PM keeps them; no status change erases one.
  assert.equal(shown.notes, "pm_001: Use the style guide\n\nprj: released by hand");
});

Deno.test("a full loop on the built-in queue: three tasks done in order, each on its own branch with the agent's commit", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await setConfig(repo, `agent:\n  command: ${AGENT}\n  model: everyday\n  strongest_model: strongest\n`);
  for (
    const [title, difficulty] of [["Add login", "junior"], ["Add search", "principal"], ["Add profile", "senior"]]
  ) {
    // A description with template-like text is the task's own words, not placeholders.
    const add = [
      "task",
      "add",
      title!,
      "--role",
      "dev",
      "--difficulty",
      difficulty!,
      "--description",
      "use {{ user.name }}",
    ];
    assert.equal((await prj(repo, add)).code, 0);
  }
  await prj(repo, ["task", "add", "Not mine", "--role", "qa"]);
  assert.equal((await prj(repo, ["task", "comment", "1", "PM: keep the form short", "--as", "pm_001"])).code, 0);
  const r = await prj(repo, [
    "agent",
    "run",
    "--role",
    "dev",
    "--agent-id",
    "dev_001",
    "--level",
    "principal",
    "--exit-when-empty",
  ]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^\d\d:\d\d:\d\d dev_001 task 1 "Add login" \[lock \+\d+\.\ds\] locked$/m);
  assert.match(r.stdout, /dev_001 task 1 "Add login" \[worktree \+\d+\.\ds\] ready: .*task-1 on task-1-add-login$/m);
  assert.match(r.stdout, /done 3 task\(s\), gave back 0/);
  const list = await tasks(repo);
  assert.deepEqual(list.map((t) => [t.id, t.status, t.locked_by]), [
    ["1", "dev_done", null],
    ["2", "dev_done", null],
    ["3", "dev_done", null],
    ["4", "created", null],
  ]);
  for (const [id, branch] of [["1", "task-1-add-login"], ["2", "task-2-add-search"], ["3", "task-3-add-profile"]]) {
    assert.deepEqual(await agentCommits(repo, branch!), [`agent: work on task-${id}`]);
  }
  // In order: task 1, then 2, then 3.
  const runs = await query<{ args: string; status: string; model: string }>(
    repo,
    "SELECT args, status, model FROM runs WHERE command = 'agent-task' ORDER BY started_at, rowid",
  );
  assert.deepEqual(runs.map((x) => [JSON.parse(x.args).task, x.status, x.model]), [["1", "succeeded", "everyday"], [
    "2",
    "succeeded",
    "strongest",
  ], ["3", "succeeded", "everyday"]]);
  const shown = JSON.parse((await prj(repo, ["task", "show", "2", "--json"])).stdout);
  assert.deepEqual(shown.events.map((e: { kind: string; detail: string }) => `${e.kind} ${e.detail ?? ""}`.trim()), [
    "created Add search",
    "locked",
    "status created -> under_work",
    "comment prj agent dev_001: done on branch task-2-add-search",
    "status under_work -> dev_done",
  ]);
  assert.deepEqual(await query(repo, "SELECT * FROM agent_locks"), []);
  const prompts = await query<{ artifact_dir: string }>(
    repo,
    "SELECT artifact_dir FROM runs WHERE command = 'agent-task' ORDER BY started_at, rowid",
  );
  const prompt = (i: number) => Deno.readTextFile(path.join(prompts[i]!.artifact_dir, "outputs", "prompt.md"));
  assert.match(await prompt(0), /use \{\{ user\.name \}\}/);
  // The task's notes (the PM's comment) reach the agent's prompt.
  assert.match(await prompt(0), /## Notes and comments on the task\n\npm_001: PM: keep the form short\n/);
  assert.doesNotMatch(await prompt(1), /Notes and comments/);
  // The runner's agents are in the fleet, headless, with how they ended.
  const fleet = JSON.parse((await prj(repo, ["fleet", "--json"])).stdout);
  assert.deepEqual(fleet.map((r: { worktree: string; stateLabel: string }) => [r.worktree, r.stateLabel]), [
    ["task-1", "exited (0)"],
    ["task-2", "exited (0)"],
    ["task-3", "exited (0)"],
  ]);
  const status = JSON.parse((await prj(repo, ["agent", "status", "--json"])).stdout);
  assert.equal(status[0].agent_id, "dev_001");
  assert.equal(status[0].state, "stopped");
});

Deno.test("crash recovery: kill -9 mid-task, restart, the same task is resumed and finished; none lost, doubled or switched", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await prj(repo, ["task", "add", "First", "--role", "dev"]);
  await prj(repo, ["task", "add", "Second", "--role", "dev"]);
  const child = spawnPrj(repo, [
    "agent",
    "run",
    "--role",
    "dev",
    "--agent-id",
    "crashy",
    "--exit-when-empty",
    "--json",
  ], { AGENT_SLEEP: "3" });
  await waitFor(
    async () =>
      (await query(repo, "SELECT 1 FROM agents WHERE agent_id = 'crashy' AND phase LIKE 'agent-attempt%'")).length >
        0,
    15000,
    "the agent to start",
  );
  const status = JSON.parse((await prj(repo, ["agent", "status", "--json"])).stdout)[0];
  assert.equal(status.state, "running");
  assert.equal(status.task_id, "1");
  assert.match(status.phase, /^agent-attempt-1$/);
  child.kill("SIGKILL");
  await child.status;
  const worktree = path.join(path.dirname(repo), "repo.worktrees", "task-1");
  assert.ok(processesIn(worktree) > 0, "the agent the dead runner started is still running");
  const locks = await query<{ task_id: string; attempts: number }>(
    repo,
    "SELECT task_id, attempts FROM agent_locks WHERE agent_id = 'crashy'",
  );
  // The lock survives the crash, and a killed runner is not an attempt of the agent's.
  assert.deepEqual(locks.map((l) => [l.task_id, l.attempts]), [["1", 0]]);
  const stopped = JSON.parse((await prj(repo, ["agent", "status", "--json"])).stdout)[0];
  assert.equal(stopped.state, "stopped");
  assert.equal(stopped.phase, "stopped holding a lock (will resume)");

  // Restarted while the orphaned agent still works: the runner waits for it instead of starting a second one.
  const r = await prj(repo, ["agent", "run", "--role", "dev", "--agent-id", "crashy", "--exit-when-empty", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l)) as { event: string; task: string | null }[];
  const names = events.map((e) => e.event);
  assert.equal(names[0], "resuming the task this agent held");
  assert.equal(events[0]!.task, "1");
  const waited = names.findIndex((e) => /^the agent a previous runner started is still working here/.test(e));
  const adopted = names.indexOf("the agent a previous runner started finished the task");
  assert.ok(waited >= 0 && waited < adopted, names.join("\n"));
  // Its result (read from its output file) is the task's: no second agent on it.
  assert.ok(!events.some((e) => e.task === "1" && /^attempt \d+ of/.test(e.event)), names.join("\n"));
  assert.deepEqual([...new Set(events.map((e) => e.task).filter(Boolean))], ["1", "2"]);
  const list = await tasks(repo);
  assert.deepEqual(list.map((t) => [t.id, t.status]), [["1", "dev_done"], ["2", "dev_done"]]);
  assert.deepEqual(await agentCommits(repo, "task-1-first"), ["agent: work on task-1"], "one commit: not done twice");
  const done = await query<{ n: number }>(
    repo,
    "SELECT COUNT(*) AS n FROM task_events WHERE task_id = 1 AND detail LIKE '% -> dev_done%'",
  );
  assert.equal(done[0]!.n, 1);
  const runs = await query<{ status: string }>(
    repo,
    "SELECT status FROM runs WHERE command = 'agent-task' ORDER BY started_at, rowid",
  );
  assert.deepEqual(runs.map((x) => x.status), ["interrupted", "succeeded", "succeeded"]);
});

Deno.test("Ctrl-C while the agent works stops it, keeps the lock, and is not counted as an attempt", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await setConfig(repo, `agent:\n  command: ${AGENT}\nagent_runner:\n  max_attempts: 1\n`);
  await prj(repo, ["task", "add", "Interrupted", "--role", "dev"]);
  const args = ["agent", "run", "--role", "dev", "--agent-id", "ctrl", "--exit-when-empty"];
  const child = spawnPrj(repo, args, { AGENT_SLEEP: "30" });
  await waitFor(
    async () =>
      (await query(repo, "SELECT 1 FROM agents WHERE agent_id = 'ctrl' AND phase = 'agent-attempt-1'")).length > 0,
    15000,
    "the agent to start",
  );
  child.kill("SIGINT");
  const out = await child.output();
  assert.equal(out.code, 130, new TextDecoder().decode(out.stderr));
  const worktree = path.join(path.dirname(repo), "repo.worktrees", "task-1");
  await waitFor(() => processesIn(worktree) === 0, 5000, "the agent to be stopped with the runner");
  const locks = await query<{ task_id: string; attempts: number }>(repo, "SELECT task_id, attempts FROM agent_locks");
  assert.deepEqual(locks.map((l) => [l.task_id, l.attempts]), [["1", 0]]);
  // With max_attempts 1, a counted stop would have given the task back on the restart.
  const r = await prj(repo, args);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /resuming the task this agent held/);
  assert.match(r.stdout, /attempt 1 of 1 started/);
  assert.equal((await tasks(repo))[0]!.status, "dev_done");
});

Deno.test("a crashing agent is retried on the same task, then the task is given back with a comment", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await setConfig(repo, `agent:\n  command: ${AGENT}\nagent_runner:\n  max_attempts: 2\n`);
  await prj(repo, ["task", "add", "Doomed", "--role", "dev"]);
  const r = await prj(repo, ["agent", "run", "--role", "dev", "--agent-id", "a1", "--exit-when-empty"], {
    env: { AGENT_EXIT: "3" },
  });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /agent crashed; retrying on the same task: agent exited with code 3/);
  assert.match(
    r.stdout,
    /giving the task back \(status created\): the agent failed 2 time\(s\) on this task; last: agent exited with code 3/,
  );
  const shown = JSON.parse((await prj(repo, ["task", "show", "1", "--json"])).stdout);
  assert.equal(shown.status, "created");
  assert.equal(shown.locked_by, null);
  assert.ok(
    shown.events.some((e: { kind: string; detail: string }) =>
      e.kind === "comment" && /^prj agent a1 gave the task back: the agent failed 2 time/.test(e.detail)
    ),
  );
  const steps = await query<{ name: string; status: string }>(
    repo,
    "SELECT s.name, s.status FROM steps s JOIN runs r ON r.id = s.run_id WHERE r.command = 'agent-task' ORDER BY s.idx",
  );
  assert.deepEqual(steps.filter((s) => s.name.startsWith("agent")).map((s) => s.name), [
    "agent-attempt-1",
    "agent-attempt-2",
  ]);
});

Deno.test("hooks: a failing pre-task hook without a TTY follows the policy; a hanging hook is stopped at its timeout", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const hooks = path.join(path.dirname(repo), "hooks");
  await Deno.mkdir(hooks);
  await Deno.writeTextFile(
    path.join(hooks, "pre-task"),
    '#!/bin/sh\nread task\necho "checking $PRJ_TASK_ID"\nexit 4\n',
    { mode: 0o755 },
  );
  await Deno.writeTextFile(
    path.join(hooks, "post-task.ts"),
    "export default async (payload) => { await Deno.writeTextFile(payload.worktree + '/POST_HOOK.txt', payload.task.title); };",
  );
  await prj(repo, ["task", "add", "Hooked", "--role", "dev"]);
  // policy release (the default): the task is given back and not taken again by this runner.
  let r = await prj(repo, [
    "agent",
    "run",
    "--role",
    "dev",
    "--agent-id",
    "h1",
    "--hooks-dir",
    hooks,
    "--exit-when-empty",
  ]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /pre-task hook failed: release: pre-task hook exited with code 4/);
  assert.equal((await tasks(repo))[0]!.status, "created");
  // A relative --hooks-dir is relative to where prj was started, not to the worktree the hook runs in.
  r = await prj(repo, [
    "agent",
    "run",
    "--role",
    "dev",
    "--agent-id",
    "h0",
    "--hooks-dir",
    "../hooks",
    "--exit-when-empty",
  ]);
  assert.match(r.stdout, /pre-task hook failed: release: pre-task hook exited with code 4/);
  assert.equal((await tasks(repo))[0]!.status, "created");
  // policy skip: the hook failure is skipped and the work goes on; the post-task hook runs.
  await setConfig(repo, `agent:\n  command: ${AGENT}\nagent_runner:\n  on_hook_failure: skip\n`);
  r = await prj(repo, [
    "agent",
    "run",
    "--role",
    "dev",
    "--agent-id",
    "h2",
    "--hooks-dir",
    hooks,
    "--exit-when-empty",
  ]);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /pre-task hook failed: skip/);
  assert.equal((await tasks(repo))[0]!.status, "dev_done");
  assert.equal(
    await Deno.readTextFile(path.join(path.dirname(repo), "repo.worktrees", "task-1", "POST_HOOK.txt")),
    "Hooked",
  );
  // A hanging hook is stopped at hook_timeout.
  await Deno.writeTextFile(path.join(hooks, "pre-task"), "#!/bin/sh\nsleep 30\n", { mode: 0o755 });
  await setConfig(repo, `agent:\n  command: ${AGENT}\nagent_runner:\n  hook_timeout: 1\n`);
  await prj(repo, ["task", "add", "Hangs", "--role", "dev"]);
  const t0 = Date.now();
  r = await prj(repo, [
    "agent",
    "run",
    "--role",
    "dev",
    "--agent-id",
    "h3",
    "--hooks-dir",
    hooks,
    "--exit-when-empty",
  ]);
  assert.ok(Date.now() - t0 < 15000);
  assert.match(r.stdout, /pre-task hook failed: release: pre-task hook timed out after 1s/);
  await Deno.remove(path.join(hooks, "pre-task"));
  await Deno.writeTextFile(path.join(hooks, "pre-task.ts"), "export default () => new Promise(() => {});");
  r = await prj(repo, [
    "agent",
    "run",
    "--role",
    "dev",
    "--agent-id",
    "h4",
    "--hooks-dir",
    hooks,
    "--exit-when-empty",
  ]);
  assert.match(r.stdout, /pre-task hook failed: release: pre-task hook timed out after 1s/);
  r = await prj(repo, ["agent", "run", "--role", "dev", "--agent-id", "h5", "--hooks-dir", path.join(hooks, "nope")]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--hooks-dir: ".*nope" is not a folder/);
});

const HPM_CONFIG = (url: string) =>
  `agent:\n  command: ${AGENT}\ntask_source: headless-pm\nheadless_pm:\n  url: ${url}\n  long_poll: 1\n`;

Deno.test("a lost lock race (a 200, then a read shows another holder) is backed off without touching the task", async () => {
  // The real server's lock is check-then-write: two agents can both get 200 and only one holds the task. The
  // stand-in loses that race every time, which the real server cannot be made to do.
  await using server = startStandInHeadlessPm("k");
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await setConfig(repo, HPM_CONFIG(server.url));
  server.addTask({ title: "Contested" });
  server.raceLocks = "dev_other";
  const r = await prj(repo, ["agent", "run", "--role", "backend_dev", "--agent-id", "be_1", "--exit-when-empty"], {
    env: { HEADLESS_PM_API_KEY: "k", HEADLESS_PM_API_URL: "" },
  });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /another agent has this task \(read after locking\): backing off without touching it/);
  assert.match(r.stdout, /no task available/);
  assert.deepEqual(server.history, [], "no status update by the loser");
  assert.deepEqual([server.tasks[0]!.status, server.tasks[0]!.locked_by], ["created", "dev_other"]);
  assert.ok(!exists(path.join(path.dirname(repo), "repo.worktrees", "task-1")), "no worktree made");
  assert.deepEqual(await query(repo, "SELECT * FROM agent_locks"), []);
});

Deno.test("a Headless PM server that cannot be reached at start (a closed port) ends the runner in seconds with one line saying how to fix it", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // nothing listens there now
  const url = `http://127.0.0.1:${port}`;
  await setConfig(repo, HPM_CONFIG(url));
  const run = ["agent", "run", "--role", "backend_dev", "--agent-id", "be_1", "--exit-when-empty"];
  const started = Date.now();
  const r = await prj(repo, run, { env: { HEADLESS_PM_API_KEY: "k", HEADLESS_PM_API_URL: "" } });
  const seconds = (Date.now() - started) / 1000;
  assert.equal(r.code, 1, r.stdout);
  assert.ok(seconds < 20, `gave up after ${seconds}s`);
  assert.match(
    r.stderr,
    new RegExp(
      `^error: Headless PM at ${url} cannot be reached \\(connection refused; 3 tries in \\d+s\\): start the server, or correct headless_pm\\.url in \\.prj/config\\.yaml\\n$`,
    ),
  );
  assert.equal(
    r.stdout.match(/\[network\] .* did not answer POST \/register \(connection refused\); retrying/g)?.length,
    2,
  );
  // The URL from the environment is named as such.
  const env = await prj(repo, run, { env: { HEADLESS_PM_API_KEY: "k", HEADLESS_PM_API_URL: `${url}/` } });
  assert.equal(env.code, 1);
  assert.match(env.stderr, /: start the server, or correct the environment variable HEADLESS_PM_API_URL\n$/);
});

Deno.test("a server answering 503 (a proxy in front of it) is retried with backoff, then the work goes on", async () => {
  await using server = startStandInHeadlessPm("k");
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await setConfig(repo, HPM_CONFIG(server.url));
  server.addTask({ title: "Behind a proxy" });
  server.unavailable = 2;
  const r = await prj(repo, ["agent", "run", "--role", "backend_dev", "--agent-id", "be_1", "--exit-when-empty"], {
    env: { HEADLESS_PM_API_KEY: "k", HEADLESS_PM_API_URL: "" },
  });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(
    r.stdout.match(/\[network\] Headless PM at http:\S+ did not answer POST \/register \(it answered 503\); retrying/g)
      ?.length,
    2,
    r.stdout,
  );
  assert.equal(server.tasks[0]!.status, "dev_done");
});

Deno.test("health-check hooks run every health_check_minutes while the agent works", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const hooks = path.join(path.dirname(repo), "hooks");
  await Deno.mkdir(hooks);
  const beats = path.join(path.dirname(repo), "beats.log");
  await Deno.writeTextFile(path.join(hooks, "health-check"), `#!/bin/sh\necho beat >> ${beats}\n`, { mode: 0o755 });
  await setConfig(repo, `agent:\n  command: ${AGENT}\nagent_runner:\n  health_check_minutes: 0.01\n`);
  await prj(repo, ["task", "add", "Slow", "--role", "dev"]);
  const r = await prj(repo, [
    "agent",
    "run",
    "--role",
    "dev",
    "--agent-id",
    "hc",
    "--hooks-dir",
    hooks,
    "--exit-when-empty",
  ], { env: { AGENT_SLEEP: "2" } });
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /\[health-check[^\]]*\] health check passed/);
  assert.ok((await Deno.readTextFile(beats)).split("\n").filter(Boolean).length >= 2);
});

Deno.test("on a TTY a failing pre-task hook asks the operator, who can skip it", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const hooks = path.join(path.dirname(repo), "hooks");
  await using server = tempTmux();
  const socket = server.socket;
  await Deno.mkdir(hooks);
  await Deno.writeTextFile(path.join(hooks, "pre-task"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
  await prj(repo, ["task", "add", "Asked", "--role", "dev"]);
  const cmd = prjCommandLine(
    "agent",
    "run",
    "--role",
    "dev",
    "--agent-id",
    "tty",
    "--hooks-dir",
    hooks,
    "--exit-when-empty",
  );
  await tmux(
    socket,
    "new-session",
    "-d",
    "-s",
    "op",
    "-x",
    "150",
    "-y",
    "30",
    "-c",
    repo,
    `${cmd}; echo EXIT=$?; sleep 30`,
  );
  const screen = async () => (await tmux(socket, "capture-pane", "-p", "-t", "op")).stdout;
  await waitFor(async () => (await screen()).includes("pre-task hook failed for task 1"), 15000, "the question");
  assert.match(await screen(), /retry the hook/);
  await tmux(socket, "send-keys", "-t", "op", "Down");
  await tmux(socket, "send-keys", "-t", "op", "Enter");
  await waitFor(async () => (await screen()).includes("EXIT="), 15000, "the runner to finish");
  const text = await screen();
  assert.match(text, /pre-task hook failed: skip/);
  assert.match(text, /EXIT=0/);
  assert.equal((await tasks(repo))[0]!.status, "dev_done");
});
