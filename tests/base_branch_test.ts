import assert from "node:assert/strict";
import * as path from "node:path";
import { git, prj, tempDir, tempRepo } from "./helpers.ts";

async function created(repo: string, name: string) {
  const r = await prj(repo, ["worktree", "create", name, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { base: string; path: string; branch: string };
}

Deno.test("in a clone without a local copy of origin's default branch, a worktree starts from origin's branch", async () => {
  await using origin = await tempRepo();
  await git(origin.path, "branch", "dev");
  await Deno.writeTextFile(path.join(origin.path, "main.txt"), "only on main\n");
  await git(origin.path, "add", "main.txt");
  await git(origin.path, "commit", "-q", "-m", "main moves on");
  await using parent = await tempDir();
  const clone = path.join(parent.path, "clone");
  // A clone of another branch: origin/HEAD names main, and there is no local main.
  await git(parent.path, "clone", "-q", "-b", "dev", origin.path, clone);
  assert.equal((await git(clone, "branch", "--list", "main")).trim(), "");

  const wt = await created(clone, "red");
  assert.equal(wt.base, "origin/main");
  assert.equal((await git(wt.path, "rev-parse", "HEAD")).trim(), (await git(origin.path, "rev-parse", "main")).trim());
  assert.equal(await Deno.readTextFile(path.join(wt.path, "main.txt")), "only on main\n");
  // The new branch does not track origin's main (a push would not go there).
  await assert.rejects(() => git(clone, "rev-parse", "--abbrev-ref", "red@{upstream}"));
  const list = JSON.parse((await prj(clone, ["worktree", "list", "--json"])).stdout);
  assert.equal(list.find((w: { name: string }) => w.name === "red").ahead, 0);

  // A base that exists nowhere: one line, with the way out.
  const r = await prj(clone, ["worktree", "create", "blue", "--from", "nowhere"]);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    'error: Base "nowhere" is not a branch or commit of this repository, nor origin\'s\n' +
      "hint: pass --from with a branch or commit that exists (git branch -a lists them)\n",
  );
});

Deno.test("without a remote the base is the default branch (init.defaultBranch, main, master), not the current one", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await git(repo, "checkout", "-q", "-b", "topic");
  assert.equal((await created(repo, "a")).base, "main");

  await git(repo, "branch", "-m", "main", "master");
  assert.equal((await created(repo, "b")).base, "master");

  await git(repo, "branch", "trunk", "master");
  await git(repo, "config", "init.defaultBranch", "trunk");
  assert.equal((await created(repo, "c")).base, "trunk");
});

Deno.test("in a repository with no commits, worktree create and code-review say so in one line", async () => {
  await using dir = await tempDir();
  const repo = path.join(dir.path, "empty");
  await Deno.mkdir(repo);
  await git(repo, "init", "-q", "-b", "main");
  assert.equal((await prj(repo, ["init"])).code, 0);

  let r = await prj(repo, ["worktree", "create", "x"]);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    "error: This repository has no commits yet; a worktree starts from one\n" +
      'hint: make a first commit (git commit --allow-empty -m "initial"), then try again\n',
  );
  r = await prj(repo, ["run", "code-review"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stdout + r.stderr,
    /failed in \S+: This repository has no commits yet, so there is nothing to diff against\n/,
  );
  assert.doesNotMatch(r.stdout + r.stderr, /git <command>|usage:/);
});
