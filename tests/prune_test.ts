/**
 * `prj worktree prune` and `prj session cleanup` never touch a worktree whose agent or session
 * is alive, or that holds work not on its base; "merged" means the branch has commits and all
 * of them are in the base. Each worktree left alone is named with the reason.
 */
import * as path from "node:path";
import assert from "node:assert/strict";
import { AGENT, git, prj, query, setConfig, tempRepo, tempTmux, tmux, tmuxSessions, waitFor } from "./helpers.ts";
import { exists } from "../lib/util/fs.ts";

async function commitIn(dir: string, file: string): Promise<void> {
  await Deno.writeTextFile(path.join(dir, file), `${file}\n`);
  await git(dir, "add", file);
  await git(dir, "commit", "-q", "-m", `add ${file}`);
}

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
}

/** The pid of the program running below a session's shell. */
async function programIn(socket: string, session: string): Promise<number | undefined> {
  const pane = Number((await tmux(socket, "display-message", "-p", "-t", `=${session}:`, "#{pane_pid}")).stdout.trim());
  try {
    const children = Deno.readTextFileSync(`/proc/${pane}/task/${pane}/children`).trim();
    return children ? Number(children.split(/\s+/)[0]) : undefined;
  } catch {
    return undefined;
  }
}

Deno.test("prune next to a live agent: a brand-new agent worktree and a session running a program are refused and named", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const env = server.env;
  // An agent at work in its worktree and session, waiting before it commits anything.
  let r = await prj(repo, ["run", "feature-branch", "feature_name=fresh"], { env: { ...env, AGENT_SLEEP: "120" } });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  await waitFor(async () => (await programIn(server.socket, "repo-fresh")) !== undefined, 15000, "the agent");
  const agent = (await programIn(server.socket, "repo-fresh"))!;

  // A finished worktree whose work is merged, with a program still running in its session.
  r = await prj(repo, ["worktree", "create", "served", "--session", "--json"], { env });
  const served = JSON.parse(r.stdout).path as string;
  await commitIn(served, "served.txt");
  await git(repo, "merge", "-q", "--ff-only", "served");
  await tmux(server.socket, "send-keys", "-t", "=repo-served:", "sleep 120", "Enter");
  await waitFor(async () => (await programIn(server.socket, "repo-served")) !== undefined, 10000, "the server");

  // A merged worktree that holds uncommitted work; one whose folder is gone but whose session is open;
  // and two that may go: merged and idle, folder gone and nothing open.
  r = await prj(repo, ["worktree", "create", "dirty", "--json"], { env });
  const dirty = JSON.parse(r.stdout).path as string;
  await commitIn(dirty, "dirty.txt");
  await git(repo, "merge", "-q", "--ff-only", "dirty");
  await Deno.writeTextFile(path.join(dirty, "notes.txt"), "not committed\n");
  r = await prj(repo, ["worktree", "create", "ghost", "--session", "--json"], { env });
  await Deno.remove(JSON.parse(r.stdout).path, { recursive: true });
  r = await prj(repo, ["worktree", "create", "merged", "--json"], { env });
  const merged = JSON.parse(r.stdout).path as string;
  await commitIn(merged, "merged.txt");
  await git(repo, "merge", "-q", "--ff-only", "merged");
  r = await prj(repo, ["worktree", "create", "gone", "--json"], { env });
  await Deno.remove(JSON.parse(r.stdout).path, { recursive: true });

  r = await prj(repo, ["worktree", "prune", "--dry-run"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^keep fresh: its branch has no commits of its own \(a new worktree, not a merged one\)$/m);
  assert.match(r.stdout, /^keep served: its session repo-served is running sleep \(pid \d+\)$/m);
  assert.match(r.stdout, /^keep dirty: it has uncommitted changes: notes\.txt$/m);
  assert.match(r.stdout, /^keep ghost: its session repo-ghost is open; `prj session kill repo-ghost` first$/m);
  assert.match(r.stdout, /^would prune merged \(branch merged\)/m);
  assert.match(r.stdout, /^would prune gone \(folder gone\)/m);

  r = await prj(repo, ["worktree", "prune", "--yes", "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout) as { pruned: { name: string }[]; refused: { name: string; why: string }[] };
  assert.deepEqual(json.pruned.map((p) => p.name).sort(), ["gone", "merged"]);
  assert.deepEqual(json.refused.map((p) => p.name).sort(), ["dirty", "fresh", "ghost", "served"]);
  assert.ok(json.refused.every((p) => p.why.length > 0));

  // Everything refused is untouched: the agent and the server still run, in their sessions.
  assert.ok(alive(agent), "the agent was not killed");
  assert.ok(exists(path.join(path.dirname(repo), "repo.worktrees", "fresh")));
  assert.ok(exists(served) && exists(path.join(dirty, "notes.txt")));
  assert.deepEqual((await tmuxSessions(server.socket)).sort(), ["repo-fresh", "repo-ghost", "repo-served"]);
  assert.equal(exists(merged), false);
  const branches = (await git(repo, "branch", "--format=%(refname:short)")).split("\n").filter(Boolean).sort();
  assert.deepEqual(branches, ["dirty", "fresh", "ghost", "main", "served"]);
  const rows = await query<{ name: string }>(repo, "SELECT name FROM worktrees ORDER BY name");
  assert.deepEqual(rows.map((w) => w.name), ["dirty", "fresh", "ghost", "served"]);
});

Deno.test("session cleanup kills idle orphaned sessions and names the ones where a program still runs", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const env = server.env;
  await setConfig(repo, `agent:\n  command: ${AGENT}\n`);
  for (const name of ["idle", "busy"]) {
    const r = await prj(repo, ["worktree", "create", name, "--session", "--json"], { env });
    assert.equal(r.code, 0, r.stderr);
  }
  await tmux(server.socket, "send-keys", "-t", "=repo-busy:", "sleep 120", "Enter");
  await waitFor(async () => (await programIn(server.socket, "repo-busy")) !== undefined, 10000, "the program");
  const program = (await programIn(server.socket, "repo-busy"))!;
  for (const name of ["idle", "busy"]) {
    await Deno.remove(path.join(path.dirname(repo), "repo.worktrees", name), { recursive: true });
  }
  const r = await prj(repo, ["session", "cleanup", "--yes", "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout) as { killed: string[]; refused: { name: string; why: string }[] };
  assert.deepEqual(json.killed, ["repo-idle"]);
  assert.equal(json.refused.length, 1);
  assert.match(
    json.refused[0]!.why,
    /^sleep \(pid \d+\) still runs in it; `prj session kill repo-busy` if it should go$/,
  );
  assert.deepEqual(await tmuxSessions(server.socket), ["repo-busy"]);
  assert.ok(alive(program));
});

Deno.test("cleanup of old runs keeps a run whose session or agent is alive, and says why", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const env = server.env;
  await Deno.writeTextFile(
    path.join(repo, ".prj", "commands", "hello.yaml"),
    "steps:\n  - { name: hi, run: [echo, hi] }\n",
  );
  let r = await prj(repo, ["run", "hello", "--json"], { env });
  const done = JSON.parse(r.stdout).runId as string;
  r = await prj(repo, ["run", "feature-branch", "feature_name=busy", "--json"], {
    env: { ...env, AGENT_SLEEP: "120" },
  });
  assert.equal(r.code, 0, r.stderr);
  const live = JSON.parse(r.stdout).runId as string;
  await new Promise((r) => setTimeout(r, 1100));
  r = await prj(repo, ["cleanup", "--older-than", "1s", "--yes"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^keep ${live} \\(feature-branch\\): its session repo-busy is open$`, "m"));
  assert.match(r.stdout, /deleted 1 run\(s\)/);
  const runs = await query<{ id: string }>(repo, "SELECT id FROM runs");
  assert.deepEqual(runs.map((x) => x.id), [live]);
  assert.equal(exists(path.join(repo, ".prj", "artifacts", done)), false);
  assert.ok(exists(path.join(repo, ".prj", "artifacts", live)));
});

Deno.test("cleanup deletes an old run's agent launch folder with it (links removed, never followed); the launch's record stays", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const env = server.env;
  let r = await prj(repo, ["run", "feature-branch", "feature_name=old", "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  const old = JSON.parse(r.stdout).runId as string;
  r = await prj(repo, ["run", "feature-branch", "feature_name=new", "--json"], { env });
  const recent = JSON.parse(r.stdout).runId as string;
  const launches = await query<{ id: number; run_id: string; launch_dir: string }>(
    repo,
    "SELECT id, run_id, launch_dir FROM agent_launches ORDER BY id",
  );
  assert.deepEqual(launches.map((l) => l.run_id), [old, recent]);
  for (const l of launches) assert.ok(exists(path.join(l.launch_dir, "agent.sh")), l.launch_dir);
  // A launch folder may link to the user's own files (Gemini CLI's home does): they stay.
  const own = path.join(path.dirname(repo), "own");
  await Deno.mkdir(own);
  await Deno.writeTextFile(path.join(own, "chat.json"), "{}");
  await Deno.symlink(own, path.join(launches[0]!.launch_dir, "chats"));
  await waitFor(async () => (await prj(repo, ["fleet", "--json"], { env })).stdout.includes('"exited"'), 10000, "exit");
  r = await prj(repo, ["session", "kill", "repo-old"], { env });
  assert.equal(r.code, 0, r.stderr);
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(path.join(repo, ".prj", "state.db"));
  db.prepare("UPDATE runs SET started_at = ? WHERE id = ?").run("2020-01-01T00:00:00.000Z", old);
  db.close();
  r = await prj(repo, ["cleanup", "--dry-run"], { env });
  assert.match(
    r.stdout,
    /^1 run\(s\) older than 30d would be deleted with their artifacts and agent launch folders:$/m,
  );
  assert.ok(exists(launches[0]!.launch_dir));
  r = await prj(repo, ["cleanup", "--yes"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^deleted 1 run\(s\)$/m);
  assert.equal(exists(launches[0]!.launch_dir), false);
  assert.deepEqual([...Deno.readDirSync(own)].map((e) => e.name), ["chat.json"]);
  assert.ok(exists(path.join(launches[1]!.launch_dir, "agent.sh")), "the recent run's launch folder stays");
  // The launch's row stays (the fleet's history, its usage), without its folder.
  const rows = await query<{ id: number; launch_dir: string | null }>(
    repo,
    "SELECT id, launch_dir FROM agent_launches ORDER BY id",
  );
  assert.deepEqual(rows.map((l) => [l.id, l.launch_dir]), [
    [launches[0]!.id, null],
    [launches[1]!.id, launches[1]!.launch_dir],
  ]);
  const fleet = await prj(repo, ["fleet", "--json"], { env });
  assert.equal(fleet.code, 0, fleet.stderr);
});

Deno.test("cleanup deletes the folder of an old launch of no run once its agent ended and its session closed", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const env = server.env;
  let r = await prj(repo, ["run", "feature-branch", "feature_name=solo", "--json"], {
    env: { ...env, AGENT_SLEEP: "120" },
  });
  assert.equal(r.code, 0, r.stderr);
  const runId = JSON.parse(r.stdout).runId as string;
  // As prj records an agent resumed or messaged outside a run: a launch with no run.
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(path.join(repo, ".prj", "state.db"));
  db.prepare("UPDATE agent_launches SET run_id = NULL, launched_at = ?").run("2020-01-01T00:00:00.000Z");
  db.close();
  const [launch] = await query<{ launch_dir: string }>(repo, "SELECT launch_dir FROM agent_launches");
  r = await prj(repo, ["cleanup", "--yes"], { env });
  assert.match(r.stdout, /^no finished runs older than 30d$/m, "its agent runs: kept");
  assert.ok(exists(launch!.launch_dir));
  r = await prj(repo, ["session", "kill", "repo-solo", "--yes"], { env });
  assert.equal(r.code, 0, r.stderr);
  r = await prj(repo, ["cleanup", "--yes"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^deleted 0 run\(s\) and 1 launch folder\(s\)$/m);
  assert.equal(exists(launch!.launch_dir), false);
  assert.ok(exists(path.join(repo, ".prj", "artifacts", runId)), "the run is recent: kept");
});
