import assert from "node:assert/strict";
import * as path from "node:path";
import { exists, git, prj, tempRepo, writeCommand, writeStep } from "./helpers.ts";

Deno.test("from a linked worktree a default-grant step reads and writes the folder it runs in; hints name placeholders", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await writeStep(
    repo,
    "here",
    `export default (ctx) => {
      const names = [...Deno.readDirSync(".")].map((e) => e.name).sort();
      Deno.writeTextFileSync("note.txt", "written in " + ctx.paths.cwd);
      return { output: names.join(",") };
    };`,
  );
  await writeStep(
    repo,
    "touch_project",
    `export default (ctx) => { Deno.writeTextFileSync(ctx.paths.project + "/x.txt", "x"); };`,
  );
  await writeStep(repo, "touch_git", `export default () => { Deno.writeTextFileSync(".git", "gitdir: /elsewhere"); };`);
  await writeCommand(repo, "here", "steps:\n  - here\n");
  await writeCommand(repo, "touch-project", "steps:\n  - touch_project\n");
  await writeCommand(repo, "touch-git", "steps:\n  - touch_git\n");
  await git(repo, "add", "-A");
  await git(repo, "commit", "-q", "-m", "steps");
  const linked = path.join(path.dirname(repo), "linked");
  await git(repo, "worktree", "add", "-q", "-b", "linked", linked);

  const dry = await prj(linked, ["run", "here", "--dry-run"]);
  assert.match(dry.stdout, new RegExp(`grant: read=<project>,${linked} write=${linked},`));
  let r = await prj(linked, ["run", "here", "--json"]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(JSON.parse(r.stdout).steps[0].output, ".git,.gitignore,.prj,README.md,src");
  assert.equal(await Deno.readTextFile(path.join(linked, "note.txt")), `written in ${linked}`);

  // The main checkout is read-only, and the hint fits any worktree: a placeholder, not this run's paths.
  r = await prj(linked, ["run", "touch-project"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stdout + r.stderr,
    /step "touch_project" was denied write access to ".*\/repo\/x\.txt"; grant it in \.prj\/commands\/touch-project\.yaml with `permissions: \{ write: \["\{\{ project \}\}\/x\.txt"\] \}` on the step/,
  );
  // The linked worktree's .git file stays out of reach.
  r = await prj(linked, ["run", "touch-git"]);
  assert.equal(r.code, 1);
  assert.match(r.stdout + r.stderr, /denied write access to ".*linked\/\.git": the sandbox never lets a step write/);
  assert.match(await Deno.readTextFile(path.join(linked, ".git")), /^gitdir: .*worktrees\/linked/);
});

Deno.test("prj init in a subfolder or a linked worktree makes the repository's root the project; a named subfolder is refused", async () => {
  await using fixture = await tempRepo({ init: false });
  const repo = fixture.path;
  const src = path.join(repo, "src");
  let r = await prj(src, ["init"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^project  ${repo} \\(the repository's root\\)$`, "m"));
  assert.ok(exists(path.join(repo, ".prj", "config.yaml")));
  assert.equal(exists(path.join(src, ".prj")), false);
  // Worktrees go beside the repository, never inside it.
  r = await prj(src, ["worktree", "create", "red", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).path, path.join(path.dirname(repo), "repo.worktrees", "red"));
  assert.equal(exists(path.join(src, "..", "src.worktrees")), false);

  r = await prj(repo, ["init", "src"]);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    `error: "${src}" is inside the git repository "${repo}"; a prj project is a repository's root\n` +
      `hint: run \`prj init\` with no folder from anywhere inside it, or \`prj init ${repo}\`\n`,
  );
  assert.equal(exists(path.join(src, ".prj")), false);

  // From a linked worktree, too: the main checkout holds .prj/.
  await Deno.remove(path.join(repo, ".prj"), { recursive: true });
  const linked = path.join(path.dirname(repo), "linked");
  await git(repo, "worktree", "add", "-q", "-b", "linked", linked);
  r = await prj(linked, ["init"]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(exists(path.join(repo, ".prj", "config.yaml")));
  assert.equal(exists(path.join(linked, ".prj")), false);
});
