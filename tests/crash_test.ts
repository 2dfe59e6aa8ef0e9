/**
 * prj killed at any moment (kill -9), stopped with Ctrl-C twice, or left a zombie: the next
 * ordinary command finishes or undoes what it left half-made and says so, and nothing is left
 * behind: no worktree git and prj disagree on, no stray branch or tmux session, no run left
 * `running`, no journal entry, no program still running.
 *
 * The kill moments are spread over the whole command (one random moment in each of N equal
 * slices of its measured duration), so every stage is hit whatever the machine's speed.
 */
import * as path from "node:path";
import assert from "node:assert/strict";
import {
  AGENT,
  git,
  prj,
  prjCommandLine,
  query,
  setConfig,
  spawnPrj,
  tempRepo,
  tempTmux,
  tmux,
  tmuxSessions,
  waitFor,
  writeCommand,
} from "./helpers.ts";
import { exists } from "../lib/util/fs.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One random moment in each of `n` equal slices of `[0, totalMs]`, shuffled. */
function killMoments(n: number, totalMs: number): number[] {
  const out = Array.from({ length: n }, (_, i) => Math.round(((i + Math.random()) / n) * totalMs));
  return out.sort(() => Math.random() - 0.5);
}

/** Runs prj, kills it (SIGKILL) after `ms`, and waits for it to be gone. */
async function killAfter(repo: string, args: string[], env: Record<string, string>, ms: number): Promise<void> {
  const child = spawnPrj(repo, args, env);
  await sleep(ms);
  try {
    child.kill("SIGKILL");
  } catch { /* it finished first */ }
  await child.output();
}

function environOf(pid: string): string[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/environ`).split("\0");
  } catch {
    return [];
  }
}

function parentOf(pid: string): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1];
  } catch {
    return undefined;
  }
}

function isZombie(pid: string): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return /^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return true;
  }
}

/**
 * Live processes prj started for this project that nothing holds any more: a setup command, a
 * step's program, an agent, a git (their environment names the project or a run), outside the
 * panes of a tmux session that still exists.
 */
async function strayProcesses(repo: string, socket: string): Promise<string[]> {
  const server = (await tmux(socket, "display-message", "-p", "#{pid}")).stdout.trim();
  const worktrees = `${path.dirname(repo)}/repo.worktrees/`;
  const stray: string[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name) || Number(entry.name) === Deno.pid || isZombie(entry.name)) continue;
    const env = environOf(entry.name);
    let cwd = "";
    try {
      cwd = Deno.readLinkSync(`/proc/${entry.name}/cwd`);
    } catch { /* gone */ }
    const ours = env.includes(`PRJ_PROJECT=${repo}`) || cwd.startsWith(worktrees);
    if (!ours) continue;
    let p: string | undefined = entry.name;
    let inSession = false;
    for (let i = 0; p && p !== "1" && i < 50; i++, p = parentOf(p)) if (p === server) inSession = true;
    if (inSession) continue;
    let cmd = "";
    try {
      cmd = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).replaceAll("\0", " ").trim();
    } catch { /* gone */ }
    stray.push(`${entry.name} ${cmd}`);
  }
  return stray;
}

/** What git, the database, tmux and the journal say, checked against each other. */
async function assertNothingOrphaned(repo: string, socket: string, what: string): Promise<void> {
  const wtDir = path.join(path.dirname(repo), "repo.worktrees");
  const journal = path.join(repo, ".prj", "journal");
  const left = exists(journal) ? [...Deno.readDirSync(journal)].map((e) => e.name) : [];
  assert.deepEqual(left, [], `${what}: journal entries left: ${left.join(", ")}`);

  const porcelain = await git(repo, "worktree", "list", "--porcelain");
  const fromGit = porcelain.split("\n").filter((l) => l.startsWith("worktree ")).map((l) => l.slice(9))
    .filter((p) => p !== repo).sort();
  const rows = await query<{ name: string; path: string; branch: string }>(
    repo,
    "SELECT name, path, branch FROM worktrees ORDER BY path",
  );
  assert.deepEqual(rows.map((r) => r.path), fromGit, `${what}: git's worktrees and prj's rows differ`);
  for (const r of rows) assert.ok(exists(path.join(r.path, ".git")), `${what}: ${r.path} has no checkout`);
  const folders = exists(wtDir) ? [...Deno.readDirSync(wtDir)].map((e) => path.join(wtDir, e.name)).sort() : [];
  assert.deepEqual(folders, fromGit, `${what}: folders in ${wtDir} that are not worktrees`);
  assert.equal(porcelain.includes("prunable"), false, `${what}: git has a prunable worktree record`);

  const branches = (await git(repo, "branch", "--format=%(refname:short)")).split("\n").filter(Boolean);
  const expected = ["main", ...rows.map((r) => r.branch)].sort();
  assert.deepEqual(branches.sort(), expected, `${what}: branches other than main and the worktrees'`);

  for (const s of await tmuxSessions(socket)) {
    const wt = (await tmux(socket, "display-message", "-p", "-t", `=${s}:`, "#{@prj_worktree_path}")).stdout.trim();
    assert.ok(wt !== "" && fromGit.includes(wt), `${what}: session ${s} has no worktree (${wt || "unmarked"})`);
  }
  const running = await query(repo, "SELECT id FROM runs WHERE status = 'running'");
  assert.deepEqual(running, [], `${what}: runs left running`);
  const open = await query(
    repo,
    `SELECT r.run_id, r.kind, r.name FROM resources r JOIN runs u ON u.id = r.run_id
     WHERE r.removed_at IS NULL AND u.status != 'succeeded' AND r.kind = 'session'`,
  );
  assert.deepEqual(open, [], `${what}: sessions of failed runs not marked removed`);
  await waitFor(async () => (await strayProcesses(repo, socket)).length === 0, 5000, `${what}: no stray process`)
    .catch(async () => assert.fail(`${what}: stray processes: ${(await strayProcesses(repo, socket)).join("; ")}`));
}

/** The stages the journal's entries had reached (what a kill interrupted). */
function journalStages(repo: string): string[] {
  const dir = path.join(repo, ".prj", "journal");
  if (!exists(dir)) return [];
  return [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".json")).map((e) => {
    try {
      return JSON.parse(Deno.readTextFileSync(path.join(dir, e.name))).stage as string;
    } catch {
      return "?";
    }
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

Deno.test("kill -9 at any point of `worktree create --session`: the next command undoes it, and the name can be made again", async () => {
  await using fixture = await tempRepo({ files: { "README.md": "# r\n", ".env": "SECRET=1\n" } });
  const repo = fixture.path;
  await using server = tempTmux();
  const env = server.env;
  await Deno.writeTextFile(path.join(repo, ".worktreeinclude"), ".env\n");
  await git(repo, "add", ".worktreeinclude");
  await git(repo, "commit", "-q", "-m", "include .env");
  await setConfig(
    repo,
    `agent:\n  command: ${AGENT}\nworktree:\n  setup:\n    - sleep 0.3\n    - echo ready > setup.txt\n`,
  );
  const create = ["worktree", "create", "w", "--session"];
  const remove = ["worktree", "remove", "w", "--force"];
  // How long a whole creation takes here (the kill moments are spread over it).
  const full = await timed(async () => assert.equal((await prj(repo, create, { env })).code, 0));
  assert.equal((await prj(repo, remove, { env })).code, 0);
  const repaired: string[] = [];
  const stages: string[] = [];
  let completed = 0;
  for (const [i, ms] of killMoments(12, full * 1.15).entries()) {
    await killAfter(repo, create, env, ms);
    stages.push(...journalStages(repo));
    const r = await prj(repo, ["worktree", "list", "--json"], { env });
    assert.equal(r.code, 0, r.stderr);
    for (const line of r.stderr.split("\n").filter((l) => l.startsWith("repaired:"))) repaired.push(line);
    assert.doesNotMatch(r.stderr, /not repaired|error/);
    await assertNothingOrphaned(repo, server.socket, `kill after ${ms}ms (#${i + 1})`);
    const list = JSON.parse(r.stdout) as { name: string; sessions?: string[] }[];
    if (list.some((w) => w.name === "w")) {
      // It was complete when killed: worktree, branch, session and row, all of them.
      completed++;
      assert.deepEqual(await tmuxSessions(server.socket), ["repo-w"]);
      assert.equal((await prj(repo, remove, { env })).code, 0);
    } else assert.deepEqual(await tmuxSessions(server.socket), []);
    const again = await prj(repo, create, { env });
    assert.equal(again.code, 0, `the name can be created again after a kill at ${ms}ms: ${again.stderr}`);
    assert.equal((await prj(repo, remove, { env })).code, 0);
  }
  // Each repair was one line naming what it found and did.
  for (const line of repaired) {
    assert.match(
      line,
      /^repaired: undid worktree w, which a prj process \(pid \d+\) died while creating it: (stopped its setup command|killed session repo-w|removed its folder|deleted branch w|forgot its database row and port slot|nothing of it was left)/,
    );
  }
  assert.ok(repaired.length + completed >= 1, "some kill landed before the end");
  console.log(
    `  ${repaired.length} half-made worktree(s) undone (killed at: ${stages.join(", ")}), ${completed} complete`,
  );
});

Deno.test("kill -9 at any point of `prj run` with worktree and session steps: the run is interrupted, its worktree and session removed (or kept with its work)", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const env = server.env;
  await setConfig(repo, `agent:\n  command: ${AGENT}\nworktree:\n  setup:\n    - sleep 0.2\n`);
  await writeCommand(
    repo,
    "crashy",
    [
      "arguments: [{ name: work, default: 'no' }]",
      "steps:",
      "  - { uses: create-worktree, with: { name: cr } }",
      "  - start-session",
      `  - { name: work, run: [sh, -c, "sleep 0.2; [ {{ args.work }} = no ] || echo x > work.txt"] }`,
      "  - { name: long, run: [sleep, '4'] }",
    ].join("\n"),
  );
  // The run's length up to its last step (the kill moments are spread over it).
  const child = spawnPrj(repo, ["run", "crashy"], env);
  const t0 = performance.now();
  await waitFor(
    async () => (await query(repo, "SELECT 1 FROM steps WHERE name = 'long' AND status = 'running'")).length > 0,
    20000,
    "the last step",
  );
  const upToLast = performance.now() - t0;
  child.kill("SIGKILL");
  await child.output();
  await prj(repo, ["history"], { env });
  await assertNothingOrphaned(repo, server.socket, "first run");
  let kept = 0;
  let removed = 0;
  const stages: string[] = [];
  for (const [i, ms] of killMoments(12, upToLast * 1.2).entries()) {
    const withWork = i % 2 === 0;
    await killAfter(repo, ["run", "crashy", `work=${withWork ? "yes" : "no"}`], env, ms);
    stages.push(...journalStages(repo));
    const r = await prj(repo, ["history", "--json", "--limit", "1"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /not repaired/);
    const what = `kill after ${ms}ms (#${i + 1})`;
    await assertNothingOrphaned(repo, server.socket, what);
    const [run] = JSON.parse(r.stdout) as { id: string; status: string; artifact_dir: string }[];
    const wt = path.join(path.dirname(repo), "repo.worktrees", "cr");
    if (run && run.artifact_dir && exists(path.join(run.artifact_dir, "run.json"))) {
      // The database and run.json agree.
      const json = JSON.parse(await Deno.readTextFile(path.join(run.artifact_dir, "run.json")));
      assert.equal(json.status, run.status, `${what}: run.json says ${json.status}, the database ${run.status}`);
      assert.equal(run.status, "interrupted", what);
      const steps = await query<{ status: string }>(repo, "SELECT status FROM steps WHERE run_id = ?", run.id);
      assert.ok(steps.every((s) => s.status !== "running"), `${what}: a step left running`);
    }
    if (exists(wt)) {
      // Kept because it holds work, and said so.
      kept++;
      assert.ok(exists(path.join(wt, "work.txt")), `${what}: a worktree without work was kept`);
      assert.match(r.stderr, /kept worktree cr \(.*\): it has uncommitted changes: work\.txt/);
      assert.equal((await prj(repo, ["worktree", "remove", "cr", "--force"], { env })).code, 0);
    } else if (/removed worktree cr/.test(r.stderr)) removed++;
    assert.deepEqual(await tmuxSessions(server.socket), [], `${what}: the run's session stays`);
  }
  console.log(`  journal stages at the kills: ${stages.join(", ")}`);
  console.log(`  worktrees removed after ${removed} kill(s), kept with their work after ${kept}`);
  assert.ok(removed > 0, "some kill landed after the worktree was made");
});

Deno.test("kill -9 at any point of `prj agent run`: the next runner resumes the task to the end; nothing is left", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const env = server.env;
  await setConfig(repo, `agent:\n  command: ${AGENT}\nagent_runner:\n  max_attempts: 2\n`);
  const run = (id: string) => ["agent", "run", "--role", "dev", "--agent-id", id, "--single-task", "--exit-when-empty"];
  // How long one task takes with a slow agent.
  await prj(repo, ["task", "add", "Measure", "--role", "dev"]);
  const full = await timed(async () => {
    const r = await prj(repo, run("m"), { env: { ...env, AGENT_SLEEP: "0.5" } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
  assert.equal((await prj(repo, ["worktree", "remove", "task-1", "--force"], { env })).code, 0);
  let resumed = 0;
  for (const [i, ms] of killMoments(10, full * 1.1).entries()) {
    const what = `kill after ${ms}ms (#${i + 1})`;
    const add = await prj(repo, ["task", "add", `Task ${i}`, "--role", "dev", "--json"]);
    const task = String(JSON.parse(add.stdout).id);
    await killAfter(repo, run(`a${i}`), { ...env, AGENT_SLEEP: "0.5" }, ms);
    // The ordinary command after the crash: the same agent again.
    const r = await prj(repo, run(`a${i}`), { env });
    assert.equal(r.code, 0, `${what}: ${r.stdout}${r.stderr}`);
    if (/resuming the task this agent held/.test(r.stdout)) resumed++;
    const [row] = await query<{ status: string }>(repo, "SELECT status FROM tasks WHERE id = ?", Number(task));
    assert.equal(row?.status, "dev_done", `${what}: ${r.stdout}`);
    assert.deepEqual(await query(repo, "SELECT agent_id FROM agent_locks"), [], `${what}: a lock is left`);
    const branch = (await git(repo, "branch", "--format=%(refname:short)")).split("\n").find((b) =>
      b.startsWith(`task-${task}`)
    );
    assert.ok(branch, `${what}: the task's branch`);
    assert.match(await git(repo, "log", "--format=%s", `main..${branch}`), /^agent: /m, `${what}: the agent's commit`);
    await assertNothingOrphaned(repo, server.socket, what);
    assert.equal((await prj(repo, ["worktree", "remove", `task-${task}`, "--force"], { env })).code, 0);
  }
  console.log(`  the next runner resumed a held task after ${resumed} of 10 kills (the others died before the lock)`);
  assert.ok(resumed > 0, "some kill landed while the task was held");
});

Deno.test("Ctrl-C twice in a terminal during a slow cleanup: cancelled, the cleanup's processes stopped, the worktree and session removed", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using terminal = tempTmux();
  await using sessions = tempTmux();
  const pidFile = path.join(path.dirname(repo), "cleanup.pid");
  await writeCommand(
    repo,
    "slowclean",
    [
      "steps:",
      "  - { uses: create-worktree, with: { name: sc } }",
      "  - start-session",
      "  - { name: long, run: [sleep, '60'] }",
      "cleanup_on_failure:",
      // A cleanup that ignores SIGTERM and has a child of its own: only its group's SIGKILL ends it.
      `  - { name: slow, run: [sh, -c, "trap '' TERM; echo $$ > ${pidFile}; sleep 60 & wait; sleep 60"] }`,
    ].join("\n"),
  );
  const line = `cd ${repo} && PRJ_TMUX_SOCKET=${sessions.socket} ${prjCommandLine("run", "slowclean")}; echo EXIT=$?`;
  await tmux(terminal.socket, "new-session", "-d", "-s", "t", "-x", "160", "-y", "40", "sh");
  await tmux(terminal.socket, "send-keys", "-t", "t", line, "Enter");
  await waitFor(
    async () => (await query(repo, "SELECT 1 FROM steps WHERE name = 'long' AND status = 'running'")).length > 0,
    20000,
    "the long step",
  );
  await tmux(terminal.socket, "send-keys", "-t", "t", "C-c");
  await waitFor(() => exists(pidFile), 15000, "the cleanup to start");
  const cleanupPid = (await Deno.readTextFile(pidFile)).trim();
  const children = () => {
    try {
      return Deno.readTextFileSync(`/proc/${cleanupPid}/task/${cleanupPid}/children`).trim();
    } catch {
      return "";
    }
  };
  await waitFor(() => children() !== "", 5000, "the cleanup's child");
  const child = children().split(/\s+/)[0]!;
  const t0 = performance.now();
  await tmux(terminal.socket, "send-keys", "-t", "t", "C-c");
  const screen = async () => (await tmux(terminal.socket, "capture-pane", "-p", "-t", "t")).stdout;
  await waitFor(async () => /EXIT=\d+/.test(await screen()), 20000, "prj to exit");
  const took = performance.now() - t0;
  const text = await screen();
  assert.match(text, /EXIT=130/);
  assert.match(text, /stopping cleanup; removing what the run made/);
  assert.ok(took < 10000, `the second Ctrl-C took ${Math.round(took)}ms`);
  // The cleanup program and its child are gone (their process group was stopped).
  for (const pid of [cleanupPid, child]) assert.ok(isZombie(pid), `process ${pid} of the cleanup still runs`);
  const [run] = await query<{ id: string; status: string; artifact_dir: string }>(
    repo,
    "SELECT id, status, artifact_dir FROM runs",
  );
  assert.equal(run!.status, "cancelled");
  assert.equal(JSON.parse(await Deno.readTextFile(path.join(run!.artifact_dir, "run.json"))).status, "cancelled");
  const steps = await query<{ name: string; status: string }>(
    repo,
    "SELECT name, status FROM steps WHERE run_id = ? ORDER BY idx",
    run!.id,
  );
  assert.deepEqual(steps.map((s) => `${s.name} ${s.status}`).slice(-2), ["long cancelled", "slow cancelled"]);
  assert.equal(exists(path.join(path.dirname(repo), "repo.worktrees", "sc")), false);
  assert.deepEqual(await tmuxSessions(sessions.socket), []);
  await assertNothingOrphaned(repo, sessions.socket, "after Ctrl-C twice");
});

Deno.test("a prj process that is a zombie (its parent never reaps it) is dead: its run is interrupted, its agent id is free", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  await writeCommand(
    repo,
    "zombie",
    ["steps:", "  - { uses: create-worktree, with: { name: zz } }", "  - { name: long, run: [sleep, '60'] }"].join(
      "\n",
    ),
  );
  // `sh -c 'prj ... & exec sleep'`: prj's parent becomes a sleep, which never waits for it.
  const pidFile = path.join(path.dirname(repo), "prj.pid");
  const start = (args: string[]) =>
    new Deno.Command("sh", {
      args: ["-c", `${prjCommandLine(...args)} >/dev/null 2>&1 & echo $! > ${pidFile}; exec sleep 120`],
      cwd: repo,
      env: { ...server.env, NO_COLOR: "1", SHELL: "/bin/sh" },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  const parent = start(["run", "zombie"]);
  try {
    await waitFor(
      async () => (await query(repo, "SELECT 1 FROM steps WHERE name = 'long' AND status = 'running'")).length > 0,
      20000,
      "the run",
    );
    const pid = (await Deno.readTextFile(pidFile)).trim();
    Deno.kill(Number(pid), "SIGKILL");
    await waitFor(() => isZombie(pid) && exists(`/proc/${pid}`), 5000, "the zombie");
    const r = await prj(repo, ["history", "--json"], { env: server.env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout)[0].status, "interrupted");
    assert.match(r.stderr, /repaired: run \S+ \(zombie\) was interrupted .*removed worktree zz and branch zz/);
    assert.ok(exists(`/proc/${pid}`), "still a zombie: it was judged dead, not reaped");
  } finally {
    parent.kill("SIGKILL");
    await parent.status;
  }

  await setConfig(repo, `agent:\n  command: ${AGENT}\n`);
  await prj(repo, ["task", "add", "Z", "--role", "dev"]);
  const runner = start(["agent", "run", "--role", "dev", "--agent-id", "zed", "--exit-when-empty"]);
  try {
    await waitFor(async () => (await query(repo, "SELECT 1 FROM agents WHERE agent_id = 'zed'")).length > 0, 20000);
    const pid = (await Deno.readTextFile(pidFile)).trim();
    Deno.kill(Number(pid), "SIGKILL");
    await waitFor(() => isZombie(pid) && exists(`/proc/${pid}`), 5000, "the zombie runner");
    const r = await prj(repo, ["agent", "run", "--role", "dev", "--agent-id", "zed", "--exit-when-empty"], {
      env: server.env,
    });
    assert.doesNotMatch(r.stderr, /already running/);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  } finally {
    runner.kill("SIGKILL");
    await runner.status;
  }
});

Deno.test("Ctrl-C while create-worktree's setup command runs: the setup stops, and nothing of the worktree is left", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const marker = path.join(path.dirname(repo), "setup.started");
  await setConfig(repo, `agent:\n  command: ${AGENT}\nworktree:\n  setup:\n    - touch ${marker}; sleep 60\n`);
  await writeCommand(
    repo,
    "slowsetup",
    ["steps:", "  - { uses: create-worktree, with: { name: ss } }", "  - start-session"].join("\n"),
  );
  const child = spawnPrj(repo, ["run", "slowsetup"], server.env);
  await waitFor(() => exists(marker), 20000, "the setup command");
  const t0 = performance.now();
  child.kill("SIGINT");
  const out = await child.output();
  assert.equal(out.code, 130, new TextDecoder().decode(out.stderr));
  assert.ok(performance.now() - t0 < 10000, "the setup command was stopped, not waited for");
  const [run] = await query<{ status: string }>(repo, "SELECT status FROM runs");
  assert.equal(run!.status, "cancelled");
  await assertNothingOrphaned(repo, server.socket, "after Ctrl-C in setup");
  assert.deepEqual(await query(repo, "SELECT name FROM worktrees"), []);
});

Deno.test("kill -9 at any point of `worktree remove`: the next command finishes the removal", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const env = server.env;
  // Enough files that removing the folder takes a moment.
  const files: Record<string, string> = {};
  for (let i = 0; i < 400; i++) files[`src/f${i}.ts`] = `export const x${i} = ${i};\n`;
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(path.dirname(path.join(repo, name)), { recursive: true });
    await Deno.writeTextFile(path.join(repo, name), text);
  }
  await git(repo, "add", "-A");
  await git(repo, "commit", "-q", "-m", "many files");
  const create = ["worktree", "create", "rm", "--session"];
  const remove = ["worktree", "remove", "rm"];
  assert.equal((await prj(repo, create, { env })).code, 0);
  const full = await timed(async () => assert.equal((await prj(repo, remove, { env })).code, 0));
  let finished = 0;
  for (const [i, ms] of killMoments(8, full * 1.1).entries()) {
    assert.equal((await prj(repo, create, { env })).code, 0);
    await killAfter(repo, remove, env, ms);
    const r = await prj(repo, ["worktree", "list", "--json"], { env });
    assert.equal(r.code, 0, r.stderr);
    if (/repaired: finished removing worktree rm and branch rm, which a prj process \(pid \d+\) died/.test(r.stderr)) {
      finished++;
    }
    await assertNothingOrphaned(repo, server.socket, `kill after ${ms}ms (#${i + 1})`);
    const left = (JSON.parse(r.stdout) as { name: string }[]).some((w) => w.name === "rm");
    // Killed before it began: the worktree is whole and can be removed; else it is gone entirely.
    if (left) assert.equal((await prj(repo, remove, { env })).code, 0);
  }
  console.log(`  ${finished} of 8 kills landed during the removal, which the next command finished`);
});
