import assert from "node:assert/strict";
import * as path from "node:path";
import { exists, git, prj, query, tempDir, tempRepo, writeCommand } from "./helpers.ts";

Deno.test("prj --version matches deno.json, and --help works on every command", async () => {
  const config = JSON.parse(await Deno.readTextFile(path.resolve(import.meta.dirname!, "../deno.json")));
  await using dirFixture = await tempDir();
  const dir = dirFixture.path;
  const v = await prj(dir, ["--version"]);
  assert.equal(v.code, 0);
  assert.equal(v.stdout.trim(), config.version);
  for (
    const args of [[], ["run"], ["worktree"], ["worktree", "create"], ["session", "attach"], ["history"], ["logs"], [
      "completions",
    ]]
  ) {
    const r = await prj(dir, [...args, "--help"]);
    assert.equal(r.code, 0, `${args.join(" ")} --help: ${r.stderr}`);
    assert.match(r.stdout, /USAGE/);
  }
});

Deno.test("usage mistakes exit 2 with one clear line", async () => {
  await using dirFixture = await tempDir();
  const dir = dirFixture.path;
  let r = await prj(dir, ["lsit"]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'error: unknown command "lsit"; did you mean "list"?\nhint: see `prj --help`\n');
  r = await prj(dir, ["list", "--jsn"]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, "error: unknown flag --jsn; did you mean --json?\nhint: see `prj list --help`\n");
  r = await prj(dir, ["list"]);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr.split("\n")[0],
    `error: No prj project found in "${await Deno.realPath(dir)}" or its parents`,
  );
  assert.match(r.stderr, /hint: run `prj init` in your repository first/);
  r = await prj(dir, ["history", "--limit", "zero"]);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    'error: --limit: expected a positive whole number, found "zero"\nhint: see `prj history --help`\n',
  );
});

Deno.test("prj init creates .prj, is idempotent, never overwrites without --force, updates .gitignore once", async () => {
  await using dirFixture = await tempDir();
  const dir = dirFixture.path;
  await Deno.writeTextFile(path.join(dir, ".gitignore"), "node_modules/");
  let r = await prj(dir, ["init"]);
  assert.equal(r.code, 0, r.stderr);
  for (
    const f of [
      "commands/feature-branch.yaml",
      "commands/analyze-issue.yaml",
      "commands/code-review.yaml",
      "prompts/feature-branch.md",
      "steps/example.ts",
      "config.yaml",
    ]
  ) {
    assert.ok(exists(path.join(dir, ".prj", f)), f);
  }
  assert.equal(
    await Deno.readTextFile(path.join(dir, ".gitignore")),
    "node_modules/\n# prj state and run artifacts\n.prj/state.db\n.prj/state.db-*\n.prj/artifacts/\n.prj/launch/\n.prj/cache/\n.prj/worktrees.lock\n.prj/journal/\n",
  );
  const mine = path.join(dir, ".prj", "commands", "code-review.yaml");
  await Deno.writeTextFile(mine, "description: mine\nsteps: [cleanup]\n");
  r = await prj(dir, ["init"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /kept\s+11 existing file\(s\) \(--force replaces them\)/);
  assert.equal(await Deno.readTextFile(mine), "description: mine\nsteps: [cleanup]\n");
  assert.equal((await Deno.readTextFile(path.join(dir, ".gitignore"))).match(/\.prj\/artifacts/g)!.length, 1);
  r = await prj(dir, ["init", "--force"]);
  assert.match(r.stdout, /replaced .prj\/commands\/code-review.yaml/);
  assert.match(await Deno.readTextFile(mine), /name: code-review/);
  const sub = path.join(dir, "nested", "new-project");
  r = await prj(dir, ["init", sub]);
  assert.equal(r.code, 0);
  assert.ok(exists(path.join(sub, ".prj", "config.yaml")));
});

Deno.test("every template runs after prj init with no network (agent templates with the test agent)", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  let r = await prj(repo, ["run", "analyze-issue", "issue=login is slow", "--json"]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  let json = JSON.parse(r.stdout);
  assert.match(await Deno.readTextFile(path.join(json.artifactDir, "outputs", "prompt.md")), /Issue: login is slow/);
  assert.equal(json.steps.at(-1).status, "skipped");
  r = await prj(repo, ["run", "analyze-issue", "issue=42", "agent=true", "--json"]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.ok(exists(path.join(repo, "AGENT_WORK.md")), "the agent ran headless in the project");
  await git(repo, "reset", "-q", "--hard", "HEAD~1");
  await Deno.writeTextFile(path.join(repo, "src", "app.ts"), "export const x = 2;\n");
  r = await prj(repo, ["run", "code-review", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  json = JSON.parse(r.stdout);
  assert.match(
    await Deno.readTextFile(path.join(json.artifactDir, "outputs", "diff.patch")),
    /\+export const x = 2;/,
  );
  r = await prj(repo, ["run", "example", "greeting=hi", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  json = JSON.parse(r.stdout);
  assert.equal(json.shared.greeting, "hi");
  assert.match(await Deno.readTextFile(path.join(json.artifactDir, "outputs", "example.txt")), /^hi\n/);
});

Deno.test("list, show, status, history filters, logs and cleanup", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await writeCommand(
    repo,
    "ok-cmd",
    "description: succeeds\ncategory: tests\nsteps:\n  - name: hello\n    run: [echo, hello-from-step]\n",
  );
  await writeCommand(repo, "bad-cmd", "steps:\n  - uses: cleanup\n    timout: 1\n");
  await writeCommand(repo, "fail-cmd", 'steps:\n  - name: nope\n    run: ["false"]\n');
  let r = await prj(repo, ["list"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /ok-cmd\s+tests\s+\.prj\/commands\/ok-cmd\.yaml\s+succeeds/);
  assert.match(r.stdout, /bad-cmd\s+invalid\s+.*steps\[0\]\.timout: unknown field; did you mean "timeout"\?/);
  const listed = JSON.parse((await prj(repo, ["list", "--json"])).stdout);
  assert.ok(
    listed.some((c: { name: string; source: { kind: string } }) =>
      c.name === "parallel" && c.source.kind === "project"
    ),
  );
  r = await prj(repo, ["show", "ok-cmd"]);
  assert.match(r.stdout, /# ok-cmd from \.prj\/commands\/ok-cmd\.yaml/);
  assert.match(r.stdout, /description: succeeds/);
  r = await prj(repo, ["show", "bad-cmd"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: \.prj\/commands\/bad-cmd\.yaml:3:5: steps\[0\]\.timout: unknown field/);

  const ok = JSON.parse((await prj(repo, ["run", "ok-cmd", "--json"])).stdout);
  await prj(repo, ["run", "fail-cmd"]);
  r = await prj(repo, ["history", "--status", "failed", "--json"]);
  const failed = JSON.parse(r.stdout);
  assert.deepEqual(failed.map((x: { command: string }) => x.command), ["fail-cmd"]);
  assert.equal(failed[0].steps[0].error, "false exited with code 1");
  r = await prj(repo, ["history", "--command", "ok-cmd"]);
  assert.match(r.stdout, new RegExp(`${ok.runId}\\s+ok-cmd\\s+succeeded`));
  r = await prj(repo, ["history", "--limit", "1", "--json"]);
  assert.equal(JSON.parse(r.stdout).length, 1);
  r = await prj(repo, ["status"]);
  assert.match(r.stdout, /active\s+no runs in progress/);
  assert.match(r.stdout, /fail-cmd\s+failed/);
  r = await prj(repo, ["logs", ok.runId]);
  assert.match(r.stdout, /\[hello\] hello-from-step/);
  r = await prj(repo, ["logs", ok.runId, "1"]);
  assert.match(r.stdout, /^\$ echo hello-from-step\nhello-from-step\n/);
  r = await prj(repo, ["logs", ok.runId, "helo"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /has no step "helo"; did you mean "hello"\?/);
  r = await prj(repo, ["logs", "no-such-run"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /No run "no-such-run"/);

  // cleanup: nothing old yet; then age the runs and delete them with their artifacts.
  r = await prj(repo, ["cleanup", "--yes"]);
  assert.match(r.stdout, /no finished runs older than 30d/);
  r = await prj(repo, ["cleanup", "--older-than", "soon"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--older-than: expected a duration like 30s, 5m, 12h, 30d or 2w, found "soon"/);
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(path.join(repo, ".prj", "state.db"));
  db.prepare("UPDATE runs SET started_at = ? WHERE command = 'ok-cmd'").run("2020-01-01T00:00:00.000Z");
  db.close();
  r = await prj(repo, ["cleanup"]);
  assert.equal(r.code, 2, "no TTY, no --yes: refuses");
  assert.ok(exists(ok.artifactDir));
  r = await prj(repo, ["cleanup", "--yes"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /deleted 1 run\(s\)/);
  assert.equal(exists(ok.artifactDir), false);
  assert.deepEqual(await query(repo, "SELECT id FROM runs WHERE command = 'ok-cmd'"), []);
  assert.deepEqual(await query(repo, "SELECT run_id FROM steps WHERE run_id = ?", ok.runId), []);
  assert.equal((await query(repo, "SELECT id FROM runs WHERE command = 'fail-cmd'")).length, 1);
});

Deno.test("prj works from a subfolder and from a linked worktree, recording runs in the main project", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await writeCommand(repo, "where", "steps:\n  - name: pwd\n    run: [pwd]\n");
  await git(repo, "add", "-A");
  await git(repo, "commit", "-q", "-m", "where");
  let r = await prj(path.join(repo, "src"), ["run", "where", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const linked = path.join(path.dirname(repo), "linked");
  await git(repo, "worktree", "add", "-q", "-b", "linked", linked);
  r = await prj(path.join(linked, "src"), ["run", "where", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.equal(json.artifactDir.startsWith(path.join(repo, ".prj", "artifacts")), true);
  assert.match(
    await Deno.readTextFile(path.join(json.artifactDir, "logs", "01-pwd.log")),
    new RegExp(`\n${linked}\n`),
  );
  assert.equal(exists(path.join(linked, ".prj", "state.db")), false);
  r = await prj(linked, ["status", "--json"]);
  const status = JSON.parse(r.stdout);
  assert.equal(status.project.root, repo);
  assert.equal(status.project.currentWorktree, linked);
  assert.equal(status.recent.length, 2);
});

Deno.test("prj completions prints scripts that complete commands and command names", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  for (const shell of ["bash", "zsh", "fish"]) {
    const r = await prj(repo, ["completions", shell]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /prj __complete/);
  }
  assert.equal((await prj(repo, ["completions", "tcsh"])).code, 2);
  let r = await prj(repo, ["__complete", "wor"]);
  assert.equal(r.stdout.trim(), "worktree");
  r = await prj(repo, ["__complete", "run", "feat"]);
  assert.equal(r.stdout.trim(), "feature-branch");
});

Deno.test("a bad .prj/config.yaml is one positioned line with a suggestion; a missing git says so", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using binFixture = await tempDir({ prefix: "prj-nogit-" });
  const bin = binFixture.path;
  await Deno.writeTextFile(path.join(repo, ".prj", "config.yaml"), "agent:\n  comand: x\n");
  let r = await prj(repo, ["list"]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), 'error: .prj/config.yaml:2:3: agent.comand: unknown field; did you mean "command"?');
  await Deno.writeTextFile(path.join(repo, ".prj", "config.yaml"), "worktree:\n  port_base: lots\n");
  r = await prj(repo, ["worktree", "list"]);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr.trim(),
    'error: .prj/config.yaml:2:14: worktree.port_base: expected number, found string "lots"',
  );
  await Deno.writeTextFile(path.join(repo, ".prj", "config.yaml"), "");
  await Deno.symlink("/bin/sh", path.join(bin, "sh"));
  r = await prj(repo, ["worktree", "list"], { env: { PATH: bin } });
  assert.equal(r.code, 1);
  assert.equal(r.stderr.split("\n")[0], "error: git is not installed (or not on PATH)");
  assert.match(r.stderr, /hint: install git/);
});
