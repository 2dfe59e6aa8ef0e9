import assert from "node:assert/strict";
import * as path from "node:path";
import {
  AGENT,
  exists,
  git,
  makeRepo,
  prj,
  prjCommandLine,
  query,
  removeRepo,
  setConfig,
  tempRepo,
  tempTmux,
  tmux,
  tmuxSessions,
  waitFor,
} from "./helpers.ts";

async function branches(repo: string): Promise<string[]> {
  return (await git(repo, "branch", "--format=%(refname:short)")).split("\n").filter(Boolean).sort();
}

Deno.test("worktree create/list/status/diff/remove with copied files, setup, ports and sessions", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const socket = server.socket;
  const env = { PRJ_TMUX_SOCKET: socket };
  await Deno.writeTextFile(path.join(repo, ".env"), "SECRET=1\n");
  await Deno.writeTextFile(
    path.join(repo, ".gitignore"),
    (await Deno.readTextFile(path.join(repo, ".gitignore"))) + ".env\nlocal.json\n",
  );
  await Deno.writeTextFile(path.join(repo, ".worktreeinclude"), ".env\n");
  await Deno.writeTextFile(path.join(repo, "local.json"), "{}\n");
  await setConfig(
    repo,
    `agent:\n  command: ${AGENT}\nworktree:\n  copy: [local.json]\n  setup:\n    - echo "port=$PRJ_PORT wt=$PRJ_WORKTREE" > setup.txt\n`,
  );
  await git(repo, "add", "-A");
  await git(repo, "commit", "-q", "-m", "config");
  const stash = await git(repo, "stash", "list");

  let r = await prj(repo, ["worktree", "create", "alpha", "--session", "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  const alpha = JSON.parse(r.stdout);
  assert.equal(alpha.path, path.join(path.dirname(repo), "repo.worktrees", "alpha"));
  assert.equal(alpha.branch, "alpha");
  assert.equal(alpha.base, "main");
  assert.equal(alpha.port, 3010);
  assert.equal(alpha.session, "repo-alpha");
  assert.deepEqual(alpha.copied.sort(), [".env", "local.json"]);
  assert.equal(await Deno.readTextFile(path.join(alpha.path, ".env")), "SECRET=1\n");
  assert.equal(await Deno.readTextFile(path.join(alpha.path, "setup.txt")), `port=3010 wt=${alpha.path}\n`);
  r = await prj(repo, ["worktree", "create", "beta"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), path.join(path.dirname(repo), "repo.worktrees", "beta"));
  // The current checkout and stash are untouched.
  assert.equal((await git(repo, "rev-parse", "--abbrev-ref", "HEAD")).trim(), "main");
  assert.equal(await git(repo, "stash", "list"), stash);

  await Deno.writeTextFile(path.join(alpha.path, "feature.ts"), "export const f = 1;\n");
  await git(alpha.path, "add", "feature.ts");
  await git(alpha.path, "commit", "-q", "-m", "feature");
  r = await prj(repo, ["worktree", "list", "--json"], { env });
  const list = JSON.parse(r.stdout);
  assert.deepEqual(list.map((w: { name: string }) => w.name), ["alpha", "beta"]);
  assert.equal(list[0].ahead, 1);
  assert.equal(list[0].behind, 0);
  assert.equal(list[0].dirty, true, "setup.txt is untracked");
  assert.deepEqual(list[0].sessions, ["repo-alpha"]);
  assert.equal(list[1].port, 3020);
  r = await prj(repo, ["worktree", "list"], { env });
  assert.match(r.stdout, /alpha\s+alpha\s+dirty\s+\+1\/-0\s+3010\s+repo-alpha/);
  r = await prj(repo, ["worktree", "status", "alpha"], { env });
  assert.match(r.stdout, /port\s+3010 \(slot 1\)/);
  r = await prj(repo, ["worktree", "diff", "alpha"], { env });
  assert.match(r.stdout, /\+export const f = 1;/);

  // A dirty worktree and an unmerged branch are refused, naming which.
  r = await prj(repo, ["worktree", "remove", "alpha"], { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: Worktree "alpha" has uncommitted changes: setup\.txt/);
  await Deno.remove(path.join(alpha.path, "setup.txt"));
  r = await prj(repo, ["worktree", "remove", "alpha"], { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Branch "alpha" of worktree "alpha" has 1 commit\(s\) not merged into "main"/);
  r = await prj(repo, ["worktree", "remove", "alpha", "--keep-branch"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /killed session repo-alpha/);
  assert.equal(exists(alpha.path), false);
  assert.deepEqual(await branches(repo), ["alpha", "beta", "main"]);
  assert.deepEqual(await tmuxSessions(socket), []);
  // Its port slot is free again: the next worktree takes slot 1.
  r = await prj(repo, ["worktree", "create", "gamma", "--json"], { env });
  assert.equal(JSON.parse(r.stdout).port, 3010);
  const slots = await query<{ name: string; port_slot: number }>(
    repo,
    "SELECT name, port_slot FROM worktrees ORDER BY name",
  );
  assert.deepEqual(slots.map((s) => [s.name, s.port_slot]), [["beta", 2], ["gamma", 1]]);
  // An existing branch is checked out instead of created.
  r = await prj(repo, ["worktree", "create", "alpha-again", "--branch", "alpha", "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).createdBranch, false);
  assert.equal((await git(JSON.parse(r.stdout).path, "log", "-1", "--format=%s")).trim(), "feature");
});

Deno.test("bad worktree names are refused and a failure part way leaves nothing behind", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  for (const bad of ["../escape", "a/b", "..", ".hidden", "x.lock"]) {
    const r = await prj(repo, ["worktree", "create", bad]);
    assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
    assert.match(r.stderr, /^error: Worktree name ".*"/);
  }
  assert.equal(exists(path.join(path.dirname(repo), "escape")), false);
  let r = await prj(repo, ["worktree", "create", "nobase", "--from", "no-such-branch"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Base "no-such-branch" is not a branch or commit/);
  // --from starts a new branch; an existing one is checked out as it is, so --from is refused, not ignored.
  await git(repo, "branch", "other");
  await git(repo, "branch", "existing");
  r = await prj(repo, ["worktree", "create", "existing", "--from", "other"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: Branch "existing" exists already, so --from other would not apply$/m);
  assert.equal(exists(path.join(path.dirname(repo), "repo.worktrees")), false);
  await git(repo, "branch", "-D", "other", "existing");
  await setConfig(repo, "worktree:\n  setup:\n    - exit 7\n");
  r = await prj(repo, ["worktree", "create", "broken"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Setup command "exit 7" exited with code 7/);
  assert.equal(exists(path.join(path.dirname(repo), "repo.worktrees", "broken")), false);
  assert.equal(exists(path.join(path.dirname(repo), "repo.worktrees")), false, "no empty folder");
  assert.deepEqual(await branches(repo), ["main"]);
  assert.deepEqual(await query(repo, "SELECT * FROM worktrees"), []);
  assert.doesNotMatch(await git(repo, "worktree", "list"), /broken/);
});

Deno.test("the base defaults to the repository's default branch, not a hard-coded main", async () => {
  await using fixture = await tempRepo({ init: false });
  const repo = fixture.path;
  await git(repo, "branch", "-m", "main", "trunk");
  assert.equal((await prj(repo, ["init"])).code, 0);
  const r = await prj(repo, ["worktree", "create", "w", "--dry-run", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const plan = JSON.parse(r.stdout);
  assert.equal(plan.base, "trunk");
  assert.equal(plan.dryRun, true);
  assert.equal(exists(plan.path), false, "dry run creates nothing");
});

Deno.test("worktree merge (merge, squash, refuses conflicts and dirty trees) and prune", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const wt = async (name: string) =>
    JSON.parse((await prj(repo, ["worktree", "create", name, "--json"])).stdout).path as string;
  const a = await wt("merge-a");
  await Deno.writeTextFile(path.join(a, "a.txt"), "a\n");
  await git(a, "add", "a.txt");
  await git(a, "commit", "-q", "-m", "add a");
  let r = await prj(repo, ["worktree", "merge", "merge-a", "--remove", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).removed, true);
  assert.equal(await Deno.readTextFile(path.join(repo, "a.txt")), "a\n");
  assert.equal(exists(a), false);

  const b = await wt("merge-b");
  await Deno.writeTextFile(path.join(b, "README.md"), "# from b\n");
  await git(b, "commit", "-q", "-am", "b edits readme");
  await Deno.writeTextFile(path.join(repo, "README.md"), "# from main\n");
  await git(repo, "commit", "-q", "-am", "main edits readme");
  r = await prj(repo, ["worktree", "merge", "merge-b"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: Merging "merge-b" into "main" conflicts in: README\.md/);
  assert.equal(await Deno.readTextFile(path.join(repo, "README.md")), "# from main\n", "nothing half-merged");
  assert.equal((await git(repo, "status", "--porcelain", "--untracked-files=no")).trim(), "");

  const c = await wt("merge-c");
  await Deno.writeTextFile(path.join(c, "c.txt"), "c\n");
  await Deno.writeTextFile(path.join(c, "src", "app.ts"), "export const x = 3;\n");
  r = await prj(repo, ["worktree", "merge", "merge-c"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Worktree "merge-c" has uncommitted changes: src\/app\.ts/);
  await git(c, "checkout", "--", "src/app.ts");
  await git(c, "add", "c.txt");
  await git(c, "commit", "-q", "-m", "c one");
  await Deno.writeTextFile(path.join(c, "c2.txt"), "c2\n");
  await git(c, "add", "c2.txt");
  await git(c, "commit", "-q", "-m", "c two");
  r = await prj(repo, ["worktree", "merge", "merge-c", "--squash"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await git(repo, "log", "-1", "--format=%s")).trim(), "Squashed merge of merge-c");

  // prune: a worktree whose folder is gone, and a clean one whose branch is merged (it has a
  // commit, and main has it); a brand-new one (no commits of its own) is not merged and stays.
  const d = await wt("prune-d");
  await Deno.remove(d, { recursive: true });
  const e = await wt("prune-e");
  await Deno.writeTextFile(path.join(e, "e.txt"), "e\n");
  await git(e, "add", "e.txt");
  await git(e, "commit", "-q", "-m", "e");
  await git(repo, "merge", "-q", "--ff-only", "prune-e");
  const fresh = await wt("prune-fresh");
  r = await prj(repo, ["worktree", "prune", "--dry-run"]);
  assert.match(r.stdout, /would prune prune-d \(folder gone\)/);
  assert.match(r.stdout, /would prune prune-e \(branch merged\)/);
  assert.match(r.stdout, /keep prune-fresh: its branch has no commits of its own \(a new worktree, not a merged one\)/);
  assert.doesNotMatch(r.stdout, /merge-b/);
  r = await prj(repo, ["worktree", "prune"]);
  assert.equal(r.code, 2, "no TTY and no --yes: refuses");
  assert.match(r.stderr, /refusing without confirmation: no terminal to ask on; pass --yes/);
  assert.ok(exists(e));
  r = await prj(repo, ["worktree", "prune", "--yes"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(exists(e), false);
  assert.ok(exists(fresh));
  const names = JSON.parse((await prj(repo, ["worktree", "list", "--json"])).stdout).map((w: { name: string }) =>
    w.name
  );
  assert.deepEqual(names, ["merge-b", "merge-c", "prune-fresh"]);
});

Deno.test("sessions: create, list, attach through tmux, kill, cleanup of orphans only", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const socket = server.socket;
  const env = { PRJ_TMUX_SOCKET: socket };
  // A user's own session on the same server must never be touched.
  await tmux(socket, "new-session", "-d", "-s", "users-own");
  await prj(repo, ["worktree", "create", "one"], { env });
  await prj(repo, ["worktree", "create", "two"], { env });
  let r = await prj(repo, ["session", "create", "one", "--task", "Fix Bug #12!"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "created session repo-one-fix-bug-12");
  r = await prj(repo, ["session", "create", "one", "--task", "Fix Bug #12!"], { env });
  assert.equal(r.stdout.trim(), "session repo-one-fix-bug-12 already exists");
  r = await prj(repo, ["session", "create", "two"], { env });
  assert.equal(r.code, 0);
  r = await prj(repo, ["session", "create", "nope"], { env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /No worktree "nope"/);
  r = await prj(repo, ["session", "list", "--json"], { env });
  const sessions = JSON.parse(r.stdout);
  assert.deepEqual(sessions.map((s: { name: string }) => s.name), ["repo-one-fix-bug-12", "repo-two"]);
  assert.equal(sessions[0].path, path.join(path.dirname(repo), "repo.worktrees", "one"));
  assert.equal(sessions[0].worktreeExists, true);
  // The session's shell starts in its worktree with PRJ_PORT set.
  await tmux(socket, "send-keys", "-t", "repo-two", 'echo "at=$(pwd) port=$PRJ_PORT" > where.txt', "Enter");
  const where = path.join(path.dirname(repo), "repo.worktrees", "two", "where.txt");
  await waitFor(() => exists(where) && Deno.readTextFileSync(where).includes("port="), 10000, "where.txt");
  assert.equal(
    await Deno.readTextFile(where),
    `at=${path.join(path.dirname(repo), "repo.worktrees", "two")} port=3020\n`,
  );

  // attach: a tmux client (in a viewer pane) attaches to the session by unique prefix.
  const attach = prjCommandLine("session", "attach", "repo-one");
  await tmux(
    socket,
    "new-session",
    "-d",
    "-s",
    "viewer",
    "-c",
    repo,
    `env -u TMUX PRJ_TMUX_SOCKET=${socket} ${attach}`,
  );
  await waitFor(
    async () => (await tmux(socket, "list-clients", "-F", "#{client_session}")).stdout.includes("repo-one-fix-bug-12"),
    15000,
    "a client attached to repo-one-fix-bug-12",
  );
  r = await prj(repo, ["session", "list", "--json"], { env });
  assert.equal(JSON.parse(r.stdout)[0].attached, 1);
  r = await prj(repo, ["session", "attach", "repo"], { env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Session prefix "repo" matches 2 sessions/);

  // cleanup kills only prj's sessions whose worktree is gone.
  await Deno.remove(path.join(path.dirname(repo), "repo.worktrees", "two"), { recursive: true });
  r = await prj(repo, ["session", "cleanup", "--dry-run"], { env });
  assert.match(r.stdout, /would kill repo-two \(worktree two is gone\)/);
  // Without a terminal and --yes it refuses, and its list says what it would have done.
  r = await prj(repo, ["session", "cleanup"], { env });
  assert.equal(r.code, 2);
  assert.match(r.stdout, /^would kill repo-two \(worktree two is gone\)$/m);
  assert.match(r.stderr, /^error: refusing without confirmation/m);
  r = await prj(repo, ["session", "cleanup", "--yes", "--json"], { env });
  assert.deepEqual(JSON.parse(r.stdout).killed, ["repo-two"]);
  // kill takes a whole name: a prefix (or nothing) that names one session kills none.
  for (const partial of ["repo-one", ""]) {
    r = await prj(repo, ["session", "kill", partial], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error: No prj session named ".*" in this project$/m);
  }
  assert.match(r.stderr, /^hint: see `prj session list`$/m);
  r = await prj(repo, ["session", "kill", "repo-one"], { env });
  assert.match(r.stderr, /^hint: give the whole name: repo-one-fix-bug-12$/m);
  assert.ok((await tmuxSessions(socket)).includes("repo-one-fix-bug-12"));
  r = await prj(repo, ["session", "kill", "repo-one-fix-bug-12"], { env });
  assert.equal(r.code, 0, r.stderr);
  const left = await tmuxSessions(socket);
  assert.ok(left.includes("users-own"));
  assert.ok(!left.includes("repo-two") && !left.includes("repo-one-fix-bug-12"));
});

Deno.test("without tmux: session commands say so in one line; worktree commands keep working", async () => {
  const repo = await makeRepo();
  const bin = await Deno.makeTempDir({ prefix: "prj-notmux-" });
  try {
    for (const tool of ["git", "sh"]) {
      const found = new TextDecoder().decode(
        (await new Deno.Command("sh", { args: ["-c", `command -v ${tool}`], stdout: "piped" }).output()).stdout,
      ).trim();
      await Deno.symlink(found, path.join(bin, tool));
    }
    const env = { PATH: bin };
    let r = await prj(repo, ["session", "list"], { env });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.split("\n")[0], "error: tmux is not installed (or not on PATH)");
    assert.match(r.stderr, /hint: install tmux \(`apt-get install tmux` or `brew install tmux`\)/);
    r = await prj(repo, ["worktree", "create", "solo"], { env });
    assert.equal(r.code, 0, r.stderr);
    r = await prj(repo, ["worktree", "list"], { env });
    assert.match(r.stdout, /solo\s+solo\s+clean/);
    r = await prj(repo, ["worktree", "create", "with-session", "--session"], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /tmux is not installed/);
    assert.equal(
      exists(path.join(path.dirname(repo), "repo.worktrees", "with-session")),
      false,
      "no half-made worktree",
    );
    assert.deepEqual(await branches(repo), ["main", "solo"]);
  } finally {
    await Deno.remove(bin, { recursive: true });
    await removeRepo(repo);
  }
});

Deno.test("a run that fails after create-worktree leaves no worktree, branch or session; one with work is kept", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const socket = server.socket;
  const env = { PRJ_TMUX_SOCKET: socket };
  await Deno.writeTextFile(
    path.join(repo, ".prj", "commands", "doomed.yaml"),
    [
      "arguments: [{ name: n, required: true }]",
      "steps:",
      '  - { uses: create-worktree, with: { name: "{{ args.n }}" } }',
      "  - start-session",
      '  - { name: work, run: [sh, -c, "[ -z \\"$PARTIAL\\" ] || echo partial > partial.txt; exit 4"] }',
    ].join("\n"),
  );
  const r = await prj(repo, ["run", "doomed", "n=doomed-wt", "--json"], { env });
  assert.equal(r.code, 1);
  const json = JSON.parse(r.stdout);
  assert.equal(json.status, "failed");
  assert.equal(exists(path.join(path.dirname(repo), "repo.worktrees", "doomed-wt")), false);
  // The folder prj made for worktrees goes with its last worktree.
  assert.equal(exists(path.join(path.dirname(repo), "repo.worktrees")), false);
  assert.deepEqual(await branches(repo), ["main"]);
  assert.deepEqual(await tmuxSessions(socket), []);
  const resources = await query<{ kind: string; removed_at: string | null }>(
    repo,
    "SELECT kind, removed_at FROM resources WHERE run_id = ?",
    json.runId,
  );
  assert.deepEqual(resources.map((x) => x.kind).sort(), ["session", "worktree"]);
  assert.ok(resources.every((x) => x.removed_at !== null));
  assert.deepEqual(await query(repo, "SELECT * FROM worktrees"), []);

  // The same failure after the step left a file: the session goes, the worktree with the work stays, and says so.
  const kept = await prj(repo, ["run", "doomed", "n=kept-wt"], { env: { ...env, PARTIAL: "1" } });
  assert.equal(kept.code, 1);
  assert.match(kept.stdout, /removed session repo-kept-wt \(the run did not succeed\)/);
  assert.match(
    kept.stdout,
    /kept worktree kept-wt \(.*kept-wt\): it has uncommitted changes: partial\.txt; remove it with `prj worktree remove kept-wt`/,
  );
  assert.equal(
    await Deno.readTextFile(path.join(path.dirname(repo), "repo.worktrees", "kept-wt", "partial.txt")),
    "partial\n",
  );
  assert.deepEqual(await branches(repo), ["kept-wt", "main"]);
  assert.deepEqual(await tmuxSessions(socket), []);
});

Deno.test("commits on a detached HEAD that no branch holds keep the worktree: run teardown, remove and prune", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const wts = path.join(path.dirname(repo), "repo.worktrees");
  const env = { GIT_AUTHOR_NAME: "a", GIT_AUTHOR_EMAIL: "a@a", GIT_COMMITTER_NAME: "a", GIT_COMMITTER_EMAIL: "a@a" };
  const sh = (dir: string, script: string) =>
    new Deno.Command("sh", { args: ["-c", script], cwd: path.join(wts, dir), env }).output();
  const detachAndCommit = "git checkout -q --detach && echo w > w.txt && git add w.txt && git commit -qm w";
  await Deno.writeTextFile(
    path.join(repo, ".prj", "commands", "detach.yaml"),
    [
      "steps:",
      "  - { uses: create-worktree, with: { name: det } }",
      "  - name: work",
      `    run: [sh, -c, "${detachAndCommit} && exit 4"]`,
    ].join("\n"),
  );
  const r = await prj(repo, ["run", "detach"], { env });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /kept worktree det \(.*\): it has 1 commit\(s\) on a detached HEAD that no branch holds/);
  assert.equal(await Deno.readTextFile(path.join(wts, "det", "w.txt")), "w\n");

  // `worktree remove` refuses without --force, and loses nothing.
  const refused = await prj(repo, ["worktree", "remove", "det"]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^error: Worktree "det" has 1 commit\(s\) on a detached HEAD that no branch holds/m);
  assert.ok(exists(path.join(wts, "det", "w.txt")));
  // A detached HEAD at a commit a branch holds is no work of its own.
  await prj(repo, ["worktree", "create", "plain"]);
  await sh("plain", "git checkout -q --detach");
  const plain = await prj(repo, ["worktree", "remove", "plain"]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.ok(!(await branches(repo)).includes("plain"), "the branch prj made for it goes too");

  // Its folder deleted by hand, git still records the commit: prune keeps the record and says why.
  await prj(repo, ["worktree", "create", "gone"]);
  await sh("gone", detachAndCommit);
  await Deno.remove(path.join(wts, "gone"), { recursive: true });
  const pruned = await prj(repo, ["worktree", "prune", "--yes"]);
  assert.match(pruned.stdout, /keep gone: git still records 1 commit\(s\) on its detached HEAD that no branch holds/);
  assert.match(await git(repo, "worktree", "list", "--porcelain"), /gone/);

  // A branch with commits of its own outlives a pruned worktree whose folder is gone, and prune says so.
  await prj(repo, ["worktree", "create", "feat"]);
  await sh("feat", "echo f > f.txt && git add f.txt && git commit -qm f");
  await Deno.remove(path.join(wts, "feat"), { recursive: true });
  const prunedFeat = await prj(repo, ["worktree", "prune", "--yes"]);
  assert.match(
    prunedFeat.stdout,
    /^kept branch feat: it has commits that are not in main; `git branch -D feat` deletes it$/m,
  );
  assert.ok((await branches(repo)).includes("feat"));

  const forced = await prj(repo, ["worktree", "remove", "det", "--force"]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(exists(path.join(wts, "det")), false);
  assert.ok(!(await branches(repo)).includes("det"));
});

Deno.test("three feature-branch agents launched in parallel all finish their work on their own branches", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const socket = server.socket;
  const env = { PRJ_TMUX_SOCKET: socket };
  const names = ["login", "search", "profile"];
  const results = await Promise.all(
    names.map((n) =>
      prj(repo, ["run", "feature-branch", `feature_name=${n}`, "--model", "test-model", "--json"], { env })
    ),
  );
  for (const r of results) assert.equal(r.code, 0, r.stderr + r.stdout);
  for (const [i, name] of names.entries()) {
    const json = JSON.parse(results[i]!.stdout);
    assert.equal(json.session, `repo-${name}`);
    assert.equal(json.worktree.branch, name);
    const wt = json.worktree.path;
    try {
      await waitFor(
        async () => (await git(wt, "log", "-1", "--format=%s")).trim() === `agent: work on ${name}`,
        20000,
        `the ${name} agent's commit`,
      );
    } catch (error) {
      const pane = await tmux(socket, "capture-pane", "-p", "-t", `repo-${name}`);
      const text = pane.stdout + pane.stderr;
      throw new Error(`${(error as Error).message}; its pane shows:\n${text}`);
    }
    const work = await Deno.readTextFile(path.join(wt, "AGENT_WORK.md"));
    assert.match(work, /model: test-model/);
    assert.match(work, new RegExp(`# Build a feature: ${name}`));
    assert.equal((await git(wt, "rev-parse", "--abbrev-ref", "HEAD")).trim(), name);
    assert.ok(exists(path.join(json.artifactDir, "outputs", "prompt.md")));
  }
  const ports = JSON.parse((await prj(repo, ["worktree", "list", "--json"], { env })).stdout).map((
    w: { port: number },
  ) => w.port);
  assert.equal(new Set(ports).size, 3, "every worktree has its own port");
  const history = JSON.parse((await prj(repo, ["history", "--json"], { env })).stdout);
  assert.deepEqual(history.map((h: { branch: string }) => h.branch).sort(), ["login", "profile", "search"]);
  assert.ok(history.every((h: { session: string; worktree: string }) => h.session && h.worktree));
  const status = await prj(repo, ["status"], { env });
  assert.match(status.stdout, /feature-branch\s+succeeded/);
});

Deno.test("prj run parallel fans out one worktree, session and agent per task and records them all", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const socket = server.socket;
  const env = { PRJ_TMUX_SOCKET: socket };
  const r = await prj(repo, ["run", "parallel", "tasks=a,b,c", "headless=true", "--json"], { env });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const json = JSON.parse(r.stdout);
  const children = json.shared.children;
  assert.deepEqual(children.map((c: { item: string }) => c.item), ["a", "b", "c"]);
  for (const child of children) {
    assert.equal(child.status, "succeeded");
    assert.equal((await git(child.worktree, "log", "-1", "--format=%s")).trim(), `agent: work on ${child.item}`);
  }
  const rows = await query<{ parent_id: string }>(
    repo,
    "SELECT parent_id FROM runs WHERE command = 'feature-branch'",
  );
  assert.equal(rows.length, 3);
  assert.ok(rows.every((x) => x.parent_id === json.runId));
  assert.deepEqual((await tmuxSessions(socket)).sort(), ["repo-a", "repo-b", "repo-c"]);
});

Deno.test("launch-agent headless fails the step on a non-zero exit; a missing agent fails before anything is typed", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const socket = server.socket;
  const env = { PRJ_TMUX_SOCKET: socket };
  let r = await prj(repo, ["run", "feature-branch", "feature_name=bad", "headless=true", "--json"], {
    env: { ...env, AGENT_EXIT: "5" },
  });
  assert.equal(r.code, 1);
  let json = JSON.parse(r.stdout);
  assert.equal(json.steps.at(-1).error, "agent exited with code 5");
  // The agent committed before it failed: that work is kept, not deleted with the failed run.
  const kept = await query<{ removed_at: string | null }>(
    repo,
    "SELECT removed_at FROM resources WHERE run_id = ? AND kind = 'worktree'",
    json.runId,
  );
  assert.deepEqual(kept.map((k) => k.removed_at), [null], "the run's worktree is kept, not marked removed");
  assert.ok(exists(path.join(path.dirname(repo), "repo.worktrees", "bad")));
  assert.equal((await git(repo, "log", "-1", "--format=%s", "bad")).trim(), "agent: work on bad");
  await setConfig(repo, "agent:\n  command: no-such-agent-program\n");
  r = await prj(repo, ["run", "feature-branch", "feature_name=missing", "--json"], { env });
  assert.equal(r.code, 1);
  json = JSON.parse(r.stdout);
  assert.match(
    json.steps.at(-1).error,
    /agent command "no-such-agent-program" not found; install it or set agent\.command/,
  );
  assert.deepEqual(await tmuxSessions(socket), []);
});

Deno.test("--no-copy skips copied files; merge --rebase fast-forwards the base onto the rebased branch", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await Deno.writeTextFile(path.join(repo, ".worktreeinclude"), ".env\n");
  await Deno.writeTextFile(path.join(repo, ".env"), "A=1\n");
  let r = await prj(repo, ["worktree", "create", "plain", "--no-copy", "--json"]);
  assert.deepEqual(JSON.parse(r.stdout).copied, []);
  assert.equal(exists(path.join(JSON.parse(r.stdout).path, ".env")), false);
  r = await prj(repo, ["worktree", "create", "reb", "--json"]);
  const wt = JSON.parse(r.stdout).path;
  await Deno.writeTextFile(path.join(wt, "r.txt"), "r\n");
  await git(wt, "add", "r.txt");
  await git(wt, "commit", "-q", "-m", "r");
  await Deno.writeTextFile(path.join(repo, "m.txt"), "m\n");
  await git(repo, "add", "m.txt");
  await git(repo, "commit", "-q", "-m", "m");
  r = await prj(repo, ["worktree", "merge", "reb", "--rebase"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /merged reb into main \(rebase\)/);
  assert.deepEqual((await git(repo, "log", "--format=%s", "-3")).trim().split("\n"), ["r", "m", "prj init"]);
  r = await prj(repo, ["worktree", "merge", "reb", "--squash", "--rebase"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Choose one of --squash and --rebase/);
});

Deno.test("the agent gets the worktree's port and model; a headless agent is stopped at its timeout", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const socket = server.socket;
  const env = { PRJ_TMUX_SOCKET: socket };
  await setConfig(repo, `agent:\n  command: ${AGENT}\n  model: cfg-model\n  timeout: 1\n`);
  let r = await prj(repo, ["run", "feature-branch", "feature_name=ported", "headless=true", "--json"], { env });
  assert.equal(r.code, 0, r.stdout);
  const json = JSON.parse(r.stdout);
  const work = await Deno.readTextFile(path.join(json.worktree.path, "AGENT_WORK.md"));
  assert.match(work, /model: cfg-model/);
  assert.match(work, /port: 3010/);
  assert.match(work, new RegExp(`worktree: ${json.worktree.path}`));
  assert.match(await Deno.readTextFile(json.steps.at(-1).logPath), /agent: committed on ported/);
  r = await prj(repo, ["run", "feature-branch", "feature_name=slowpoke", "headless=true", "--json"], {
    env: { ...env, AGENT_SLEEP: "20" },
  });
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.stdout).steps.at(-1).error, "agent timed out after 1s");
  assert.equal(exists(path.join(path.dirname(repo), "repo.worktrees", "slowpoke")), false);
});

Deno.test("Ctrl-C after create-worktree removes the session and then the worktree this run created", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  const socket = server.socket;
  const env = { PRJ_TMUX_SOCKET: socket };
  await Deno.writeTextFile(
    path.join(repo, ".prj", "commands", "interrupted.yaml"),
    [
      "steps:",
      "  - { uses: create-worktree, with: { name: ctrlc } }",
      "  - start-session",
      '  - { name: long, run: [sleep, "30"] }',
    ].join("\n"),
  );
  const { spawnPrj } = await import("./helpers.ts");
  const child = spawnPrj(repo, ["run", "interrupted"], env);
  await waitFor(
    async () => (await query(repo, "SELECT 1 FROM steps WHERE name = 'long' AND status = 'running'")).length > 0,
    15000,
    "the long step",
  );
  child.kill("SIGINT");
  const out = await child.output();
  assert.equal(out.code, 130);
  const text = new TextDecoder().decode(out.stdout);
  assert.match(text, /removed session repo-ctrlc \(the run did not succeed\)/);
  assert.match(text, /removed worktree ctrlc and branch ctrlc/);
  assert.ok(text.indexOf("removed session") < text.indexOf("removed worktree"), "session first, then worktree");
  assert.equal(exists(path.join(path.dirname(repo), "repo.worktrees", "ctrlc")), false);
  assert.deepEqual(await branches(repo), ["main"]);
  assert.deepEqual(await tmuxSessions(socket), []);
});
