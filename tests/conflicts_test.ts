/** Conflicts before they happen: `prj conflicts`, the fleet's overlap column, notify, and the merge queue. */
import assert from "node:assert/strict";
import * as path from "node:path";
import { AGENT, exists, git, prj, query, setConfig, tempRepo, tempTmux, waitFor } from "./helpers.ts";

const FILE = "src/app.ts";
const ORIGINAL = Array.from({ length: 30 }, (_, i) => `export const line${i + 1} = ${i + 1};`).join("\n") + "\n";

/** A repository whose src/app.ts has 30 lines, so edits at both ends merge cleanly. */
async function repoWithApp() {
  return await tempRepo({ files: { "README.md": "# test repo\n", [FILE]: ORIGINAL } });
}

async function worktree(repo: string, name: string): Promise<string> {
  const r = await prj(repo, ["worktree", "create", name, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).path;
}

/** Replaces line `n` (1-based) of src/app.ts in a checkout. */
async function editLine(dir: string, n: number, text: string): Promise<void> {
  const file = path.join(dir, FILE);
  const lines = (await Deno.readTextFile(file)).split("\n");
  lines[n - 1] = text;
  await Deno.writeTextFile(file, lines.join("\n"));
}

/** Commits everything in a checkout, at a given committer time (the queue's order). */
async function commitAll(dir: string, message: string, at?: string): Promise<void> {
  await git(dir, "add", "-A");
  const out = await new Deno.Command("git", {
    args: ["-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-q", "-m", message],
    cwd: dir,
    env: at ? { GIT_COMMITTER_DATE: at, GIT_AUTHOR_DATE: at } : {},
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

interface View {
  worktrees: { name: string; committed: string[]; uncommitted: string[]; error: string | null }[];
  pairs: { a: string; b: string; files: string[]; conflicts: { path: string; kind: string }[] }[];
  base: { worktree: string; base: string; files: string[]; conflicts: { path: string; kind: string }[] }[];
  conflicts: number;
}

async function conflictsJson(repo: string, ...args: string[]): Promise<{ code: number; view: View }> {
  const r = await prj(repo, ["conflicts", "--json", ...args]);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  return { code: r.code, view: JSON.parse(r.stdout) };
}

Deno.test("prj conflicts: two worktrees editing the same lines of a file really conflict (exit 1), uncommitted work included", async () => {
  await using fixture = await repoWithApp();
  const repo = fixture.path;
  const a = await worktree(repo, "a");
  const b = await worktree(repo, "b");
  await editLine(a, 1, "export const line1 = 'from a';");
  await commitAll(a, "a edits line 1");
  await editLine(b, 1, "export const line1 = 'from b';"); // not committed

  const r = await prj(repo, ["conflicts"]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /^a <-> b\s+src\/app\.ts\s+src\/app\.ts \(contents\)$/m);
  assert.match(r.stdout, /1 overlapping pair \(1 conflicting\)/);

  const { code, view } = await conflictsJson(repo);
  assert.equal(code, 1);
  assert.equal(view.conflicts, 1);
  assert.deepEqual(view.pairs.map((p) => [p.a, p.b, p.files, p.conflicts]), [
    ["a", "b", [FILE], [{ path: FILE, kind: "contents" }]],
  ]);
  const byName = Object.fromEntries(view.worktrees.map((w) => [w.name, w]));
  assert.deepEqual([byName.a!.committed, byName.a!.uncommitted], [[FILE], []]);
  assert.deepEqual([byName.b!.committed, byName.b!.uncommitted], [[], [FILE]]);
  // The scan read b's uncommitted work without touching its index: the change is still unstaged.
  assert.equal((await git(b, "status", "--porcelain")).trim(), `M ${FILE}`);
  assert.equal((await git(b, "diff", "--cached", "--name-only")).trim(), "");
});

Deno.test("prj conflicts: the same file in different regions is an overlap without a conflict (exit 0)", async () => {
  await using fixture = await repoWithApp();
  const repo = fixture.path;
  const a = await worktree(repo, "a");
  const c = await worktree(repo, "c");
  await editLine(a, 1, "export const line1 = 'top';");
  await commitAll(a, "a edits the top");
  await editLine(c, 30, "export const line30 = 'bottom';");
  await Deno.writeTextFile(path.join(c, "NEW.md"), "new\n"); // untracked, counted, shared with nobody

  const r = await prj(repo, ["conflicts"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^a <-> c\s+src\/app\.ts\s+none$/m);
  const { view } = await conflictsJson(repo);
  assert.deepEqual(view.pairs.map((p) => [p.a, p.b, p.files, p.conflicts]), [["a", "c", [FILE], []]]);
  assert.deepEqual(view.worktrees.find((w) => w.name === "c")!.uncommitted, ["NEW.md", FILE]);
});

Deno.test("prj conflicts: worktrees changing different files show nothing; one worktree's view; an unknown name", async () => {
  await using fixture = await repoWithApp();
  const repo = fixture.path;
  const a = await worktree(repo, "a");
  const d = await worktree(repo, "d");
  await editLine(a, 1, "export const line1 = 'a';");
  await Deno.writeTextFile(path.join(d, "README.md"), "# d\n");
  await commitAll(d, "d edits the readme");

  let r = await prj(repo, ["conflicts"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "no overlaps: the 2 active worktrees change different files");
  const { view } = await conflictsJson(repo);
  assert.deepEqual([view.pairs, view.base, view.conflicts], [[], [], 0]);
  r = await prj(repo, ["conflicts", "d"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /no overlaps: d changes no file another worktree or its base changes/);
  r = await prj(repo, ["conflicts", "dd"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /No active worktree "dd"; did you mean "d"\?/);
});

Deno.test("prj conflicts: the base view shows a worktree whose lines the base changed since they parted", async () => {
  await using fixture = await repoWithApp();
  const repo = fixture.path;
  const a = await worktree(repo, "a");
  await editLine(a, 2, "export const line2 = 'a';");
  await commitAll(a, "a edits line 2");
  await editLine(repo, 2, "export const line2 = 'main';");
  await commitAll(repo, "main edits line 2");

  const r = await prj(repo, ["conflicts"]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^a\s+main\s+src\/app\.ts\s+src\/app\.ts \(contents\)$/m);
  const { view } = await conflictsJson(repo);
  assert.deepEqual(view.base.map((b) => [b.worktree, b.base, b.files, b.conflicts.map((c) => c.path)]), [
    ["a", "main", [FILE], [FILE]],
  ]);
});

Deno.test("notify runs once when two worktrees start changing the same file, and once more when it turns into a conflict", async () => {
  await using fixture = await repoWithApp();
  const repo = fixture.path;
  const log = path.join(path.dirname(repo), "notify.log");
  await setConfig(
    repo,
    `agent:\n  command: ${AGENT}\nnotify: 'echo "$PRJ_OVERLAP|$PRJ_WORKTREES|$PRJ_MESSAGE" >> ${log}'\n`,
  );
  const a = await worktree(repo, "a");
  const b = await worktree(repo, "b");
  const lines = async () => exists(log) ? (await Deno.readTextFile(log)).trim().split("\n") : [];

  await prj(repo, ["conflicts"]);
  assert.deepEqual(await lines(), [], "nothing shared yet");
  await editLine(a, 1, "export const line1 = 'a';");
  await editLine(b, 30, "export const line30 = 'b';");
  for (let i = 0; i < 3; i++) await prj(repo, ["conflicts"]); // seen three times: notified once
  assert.equal((await prj(repo, ["fleet"])).code, 0);
  assert.deepEqual(await lines(), ["overlap|a b|prj: a and b both change src/app.ts"]);

  await editLine(b, 1, "export const line1 = 'b';"); // now the same line
  await prj(repo, ["conflicts"]);
  await prj(repo, ["conflicts"]);
  assert.deepEqual((await lines()).slice(1), [
    "conflict|a b|prj: a and b both change src/app.ts; merging them conflicts in src/app.ts",
  ]);
  const rows = await query<{ level: string }>(repo, "SELECT level FROM conflict_notices");
  assert.deepEqual(rows.map((r) => r.level), ["conflict"]);

  // They stop sharing the file: forgotten, so starting again notifies again.
  await git(b, "checkout", "--", FILE);
  await prj(repo, ["conflicts"]);
  await editLine(b, 30, "export const line30 = 'b again';");
  await prj(repo, ["conflicts"]);
  assert.equal((await lines()).length, 3);
  assert.equal((await lines())[2], "overlap|a b|prj: a and b both change src/app.ts");
});

Deno.test("prj fleet shows, for each agent, the other agents' worktrees it overlaps and conflicts with", async () => {
  await using fixture = await repoWithApp();
  const repo = fixture.path;
  await using server = tempTmux();
  const env = server.env;
  // Each test agent writes AGENT_WORK.md (different text in each worktree) and commits it.
  for (const name of ["x", "y"]) {
    const r = await prj(repo, ["run", "feature-branch", `feature_name=${name}`], { env });
    assert.equal(r.code, 0, r.stderr);
  }
  const z = await worktree(repo, "z"); // no agent, different file
  await Deno.writeTextFile(path.join(z, "README.md"), "# z\n");
  type Row = { worktree: string; overlaps: { worktree: string; files: string[]; conflicts: string[] }[] };
  let rows: Row[] = [];
  await waitFor(
    async () => {
      const r = await prj(repo, ["fleet", "--json"], { env });
      rows = JSON.parse(r.stdout);
      return rows.length === 2 && rows.every((row) => row.overlaps.length === 1);
    },
    20000,
    "both agents to commit AGENT_WORK.md",
  );
  const byName = Object.fromEntries(rows.map((r) => [r.worktree, r]));
  assert.deepEqual(byName.x!.overlaps.map((o) => [o.worktree, o.files, o.conflicts]), [
    ["y", ["AGENT_WORK.md"], ["AGENT_WORK.md"]],
  ]);
  assert.deepEqual(byName.y!.overlaps.map((o) => o.worktree), ["x"]);
  const table = await prj(repo, ["fleet"], { env });
  assert.match(table.stdout, /OVERLAPS/);
  assert.match(table.stdout, /^1\s+x\s.*\sy!\s/m);
  assert.match(table.stdout, /^2\s+y\s.*\sx!\s/m);
});
