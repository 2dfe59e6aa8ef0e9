/** `prj worktree merge --queue`: finished worktrees merged one by one, rebased and checked; a clean stop. */
import assert from "node:assert/strict";
import * as path from "node:path";
import { AGENT, exists, git, prj, setConfig, tempRepo, tempTmux, waitFor } from "./helpers.ts";

async function worktree(repo: string, name: string): Promise<string> {
  const r = await prj(repo, ["worktree", "create", name, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).path;
}

/** Writes files in a checkout and commits them at a given time (the queue merges oldest first). */
async function commit(dir: string, files: Record<string, string>, at: string): Promise<void> {
  for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(path.join(dir, name), text);
  await git(dir, "add", "-A");
  const out = await new Deno.Command("git", {
    args: ["-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-q", "-m", `work in ${dir}`],
    cwd: dir,
    env: { GIT_COMMITTER_DATE: at, GIT_AUTHOR_DATE: at },
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

/** The repository is clean: nothing uncommitted, no merge or rebase in progress, anywhere. */
async function assertClean(repo: string, worktrees: string[]): Promise<void> {
  assert.equal((await git(repo, "status", "--porcelain", "--untracked-files=no")).trim(), "", "main checkout");
  const gitDir = path.join(repo, ".git");
  assert.equal(exists(path.join(gitDir, "MERGE_HEAD")), false, "no merge in progress");
  for (const w of worktrees) {
    const admin = path.join(gitDir, "worktrees", path.basename(w));
    assert.equal(exists(path.join(admin, "rebase-merge")), false, `no rebase in progress in ${w}`);
    assert.equal(exists(path.join(admin, "rebase-apply")), false, `no rebase in progress in ${w}`);
    assert.equal((await git(w, "status", "--porcelain")).trim(), "", `${w} is clean`);
    assert.match((await git(w, "symbolic-ref", "HEAD")).trim(), /^refs\/heads\//, `${w} is on its branch`);
  }
}

/** Sets .prj/config.yaml and commits it (a merge needs a clean main checkout). */
async function configure(repo: string, yaml: string): Promise<void> {
  await setConfig(repo, yaml);
  await git(repo, "commit", "-q", "-m", "configure prj", "--", ".prj/config.yaml");
}

const T = (minute: number) => `2026-01-01T10:${String(minute).padStart(2, "0")}:00Z`;

Deno.test("merge --queue merges finished worktrees oldest first, rebasing each onto the new base and checking it there; the rest are rebased", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const log = path.join(path.dirname(repo), "check.log");
  // The check records which branch it saw and every file there: what the base will hold.
  await configure(
    repo,
    `agent:\n  command: ${AGENT}\nworktree:\n  merge_check: 'echo "$PRJ_BRANCH:$PRJ_BASE:$(ls *.txt | tr "\\n" " ")" >> ${log}'\n`,
  );
  const q1 = await worktree(repo, "q1");
  const q2 = await worktree(repo, "q2");
  const q3 = await worktree(repo, "q3");
  const idle = await worktree(repo, "idle"); // no commits: not merged, but rebased afterwards
  const wip = await worktree(repo, "wip"); // uncommitted work: left alone
  await commit(q2, { "two.txt": "2\n" }, T(1));
  await commit(q3, { "three.txt": "3\n" }, T(2));
  await commit(q1, { "one.txt": "1\n" }, T(3));
  await Deno.writeTextFile(path.join(wip, "wip.txt"), "not yet\n");

  const dry = await prj(repo, ["worktree", "merge", "--queue", "--dry-run"]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /would merge into main \(merge\), in this order:\n1\.\s+q2.*\n2\.\s+q3.*\n3\.\s+q1/);
  assert.match(dry.stdout, /waiting: wip: it has uncommitted changes/);
  assert.match(dry.stdout, /waiting: idle: it has no commits to merge/);
  assert.equal(exists(log), false, "a dry run runs no check");
  const before = (await git(repo, "rev-parse", "HEAD")).trim();

  const r = await prj(repo, ["worktree", "merge", "--queue"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /merged q2 into main, check passed at [0-9a-f]{12}/);
  assert.match(r.stdout, /merged q3 into main \(rebased first\), check passed/);
  assert.match(r.stdout, /merged q1 into main \(rebased first\), check passed/);
  assert.match(r.stdout, /rebased idle onto main/);
  // Each check ran on the worktree rebased onto the base as it was by then.
  assert.deepEqual((await Deno.readTextFile(log)).trim().split("\n").map((l) => l.trimEnd()), [
    "q2:main:two.txt",
    "q3:main:three.txt two.txt",
    "q1:main:one.txt three.txt two.txt",
  ]);
  assert.deepEqual((await git(repo, "log", "--first-parent", "--format=%s", `${before}..HEAD`)).trim().split("\n"), [
    "Merge q1",
    "Merge q3",
    "Merge q2",
  ]);
  for (const f of ["one.txt", "two.txt", "three.txt"]) assert.ok(exists(path.join(repo, f)), f);
  const main = (await git(repo, "rev-parse", "main")).trim();
  assert.equal((await git(idle, "rev-parse", "HEAD")).trim(), main, "the idle worktree is on the new base");
  assert.notEqual((await git(wip, "rev-parse", "HEAD")).trim(), main, "the worktree with uncommitted work is not");
  assert.equal(await Deno.readTextFile(path.join(wip, "wip.txt")), "not yet\n");
  await assertClean(repo, [q1, q2, q3, idle]);

  // Nothing is left to merge.
  const again = await prj(repo, ["worktree", "merge", "--queue", "--json"]);
  assert.equal(again.code, 0, again.stderr);
  const json = JSON.parse(again.stdout);
  assert.deepEqual([json.merged, json.queue, json.stopped], [[], [], null]);
});

Deno.test("merge --queue stops with one line at the first conflict, naming the worktree, with the repository clean", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const q1 = await worktree(repo, "q1");
  const q2 = await worktree(repo, "q2");
  const q3 = await worktree(repo, "q3");
  await commit(q1, { "README.md": "# from q1\n" }, T(1));
  await commit(q2, { "README.md": "# from q2\n" }, T(2)); // the same line as q1
  await commit(q3, { "three.txt": "3\n" }, T(3));
  const q2Head = (await git(q2, "rev-parse", "HEAD")).trim();

  const dry = await prj(repo, ["worktree", "merge", "--queue", "--dry-run"]);
  assert.match(dry.stdout, /2\.\s+q2\s.*would conflict in README\.md: stops here/);

  const r = await prj(repo, ["worktree", "merge", "--queue"]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /merged q1 into main/);
  assert.doesNotMatch(r.stdout, /merged q[23]/);
  const lines = r.stderr.trim().split("\n").filter((l) => l.startsWith("stopped"));
  assert.deepEqual(lines, [
    "stopped at q2: q2 conflicts with main in README.md (1 merged before it; no merge or rebase is left half-done)",
  ]);
  assert.equal(await Deno.readTextFile(path.join(repo, "README.md")), "# from q1\n");
  assert.equal(exists(path.join(repo, "three.txt")), false, "nothing after the stop is merged");
  assert.equal((await git(q2, "rev-parse", "HEAD")).trim(), q2Head, "the stopping worktree keeps its commits");
  await assertClean(repo, [q2, q3]);

  const json = JSON.parse((await prj(repo, ["worktree", "merge", "--queue", "--json"])).stdout);
  assert.equal(json.stopped.name, "q2");
  assert.equal(json.stopped.why, "conflict");
  assert.deepEqual(json.stopped.files, ["README.md"]);
});

Deno.test("merge --queue stops at a failing check before the base moves; the named order is kept", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await configure(
    repo,
    `agent:\n  command: ${AGENT}\nworktree:\n  merge_check: [sh, -c, 'echo checking; test ! -f bad.txt']\n`,
  );
  const good = await worktree(repo, "good");
  const bad = await worktree(repo, "bad");
  const later = await worktree(repo, "later");
  await commit(good, { "good.txt": "ok\n" }, T(3));
  await commit(bad, { "bad.txt": "breaks the check\n" }, T(1));
  await commit(later, { "later.txt": "later\n" }, T(2));
  const before = (await git(repo, "rev-parse", "HEAD")).trim();

  const r = await prj(repo, ["worktree", "merge", "--queue", "good", "bad", "later"]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /merged good into main, check passed/);
  assert.match(r.stderr, /^checking$/m, "the check's output is shown");
  assert.match(
    r.stderr,
    /^stopped at bad: the check `sh -c echo checking; test ! -f bad.txt` failed \(exit 1\) on bad rebased onto main \(1 merged before it/m,
  );
  assert.equal((await git(repo, "rev-list", "--count", `${before}..HEAD`)).trim(), "2", "only good's merge");
  assert.equal(exists(path.join(repo, "bad.txt")), false);
  // bad was rebased onto the new base for its check, and stays clean.
  assert.equal(await git(bad, "merge-base", "--is-ancestor", "main", "HEAD").then(() => "yes"), "yes");
  await assertClean(repo, [good, bad, later]);
});

Deno.test("a worktree whose agent is still working is not merged: refused alone, waiting in the queue", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const env = { ...server.env, AGENT_SLEEP: "60" };
  await configure(repo, `agent:\n  command: ${AGENT}\n  kind: generic\nfleet:\n  idle_after: 600\n`);
  const run = await prj(repo, ["run", "feature-branch", "feature_name=busy"], { env });
  assert.equal(run.code, 0, run.stderr);
  const busy = path.join(path.dirname(repo), "repo.worktrees", "busy");
  await commit(busy, { "busy.txt": "half done\n" }, T(1));
  await waitFor(
    async () => {
      const rows = JSON.parse((await prj(repo, ["fleet", "--json"], { env: server.env })).stdout);
      return rows[0]?.state === "working";
    },
    15000,
    "the agent to be working",
  );

  const r = await prj(repo, ["worktree", "merge", "busy"], { env: server.env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: The agent in worktree "busy" is working; merge it when it has finished/);
  assert.equal(exists(path.join(repo, "busy.txt")), false);
  const q = await prj(repo, ["worktree", "merge", "--queue"], { env: server.env });
  assert.equal(q.code, 0, q.stderr);
  assert.match(q.stdout, /nothing to merge into main: no worktree is finished/);
  assert.match(q.stdout, /waiting: busy: its agent is working/);
  assert.equal(exists(path.join(repo, "busy.txt")), false);
  const forced = await prj(repo, ["worktree", "merge", "busy", "--force"], { env: server.env });
  assert.equal(forced.code, 0, forced.stderr);
  assert.ok(exists(path.join(repo, "busy.txt")));
});
