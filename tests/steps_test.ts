import assert from "node:assert/strict";
import * as path from "node:path";
import { exists, prj, prjCommandLine, query, tempRepo, tempTmux, tmux, waitFor, writeCommand } from "./helpers.ts";

Deno.test("setup-environment records the environment, shares it and creates folders", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await writeCommand(
    repo,
    "env-setup",
    "environment: { TOKEN_NAME: x }\nsteps:\n  - { uses: setup-environment, with: { dirs: [build/out] } }\n",
  );
  const r = await prj(repo, ["run", "env-setup", "--json", "--model", "m1"]);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  const env = JSON.parse(await Deno.readTextFile(path.join(json.artifactDir, "outputs", "environment.json")));
  assert.equal(env.deno, Deno.version.deno);
  assert.deepEqual(env.env, ["TOKEN_NAME"]);
  assert.equal(env.model, "m1");
  assert.deepEqual(json.shared.environment, env);
  assert.ok(exists(path.join(repo, "build", "out")));
  await Deno.remove(path.join(repo, "build"), { recursive: true });
});

Deno.test("validate-prerequisites lists everything missing at once", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await writeCommand(
    repo,
    "prereq",
    "steps:\n  - { uses: validate-prerequisites, with: { tools: [git, no-such-tool-1, no-such-tool-2], env: [PRJ_SURELY_UNSET_VAR] } }\n",
  );
  const r = await prj(repo, ["run", "prereq", "--json"]);
  assert.equal(r.code, 1);
  assert.equal(
    JSON.parse(r.stdout).steps[0].error,
    'missing prerequisites: tool "no-such-tool-1" on PATH; tool "no-such-tool-2" on PATH; environment variable PRJ_SURELY_UNSET_VAR',
  );
  await writeCommand(repo, "prereq-clean", "steps:\n  - { uses: validate-prerequisites, with: { clean: true } }\n");
  await Deno.writeTextFile(path.join(repo, "dirt.txt"), "x");
  const dirty = await prj(repo, ["run", "prereq-clean", "--json"]);
  assert.match(JSON.parse(dirty.stdout).steps[0].error, /clean checkout \(uncommitted: .*dirt\.txt/);
  await Deno.remove(path.join(repo, "dirt.txt"));
});

Deno.test("store-artifacts copies files and folders into outputs and records them; cleanup removes paths", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await Deno.mkdir(path.join(repo, "report", "parts"), { recursive: true });
  await Deno.writeTextFile(path.join(repo, "report", "summary.md"), "# summary\n");
  await Deno.writeTextFile(path.join(repo, "report", "parts", "a.txt"), "a\n");
  await writeCommand(
    repo,
    "keep",
    [
      "steps:",
      "  - { uses: store-artifacts, with: { paths: [report] } }",
      "  - { uses: store-artifacts, with: { paths: [missing.txt], optional: true } }",
      "  - { uses: cleanup, with: { paths: [report, never-existed] } }",
    ].join("\n"),
  );
  const r = await prj(repo, ["run", "keep", "--json"]);
  assert.equal(r.code, 0, r.stdout);
  const json = JSON.parse(r.stdout);
  assert.equal(await Deno.readTextFile(path.join(json.artifactDir, "outputs", "report", "parts", "a.txt")), "a\n");
  const rows = await query<{ name: string; size: number }>(
    repo,
    "SELECT name, size FROM artifacts WHERE run_id = ? ORDER BY name",
    json.runId,
  );
  assert.deepEqual(rows.map((x) => [x.name, x.size]), [["report/parts/a.txt", 2], ["report/summary.md", 10]]);
  assert.equal(exists(path.join(repo, "report")), false);
  await writeCommand(repo, "escape", "steps:\n  - { uses: cleanup, with: { paths: [../outside] } }\n");
  const bad = await prj(repo, ["run", "escape", "--json"]);
  assert.equal(bad.code, 1);
  assert.match(JSON.parse(bad.stdout).steps[0].error, /"\.\.\/outside" is not inside the working directory/);
});

Deno.test("continue_on_error lets the run go on; if: skips a step when it renders false", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await writeCommand(
    repo,
    "lenient",
    [
      "arguments: [{ name: extra, type: boolean, default: false }]",
      "steps:",
      '  - { name: flaky, run: ["false"], continue_on_error: true }',
      '  - { name: optional, run: [echo, extra], if: "{{ args.extra }}" }',
      "  - { name: last, run: [echo, done] }",
    ].join("\n"),
  );
  let r = await prj(repo, ["run", "lenient", "--json"]);
  assert.equal(r.code, 0, r.stdout);
  let json = JSON.parse(r.stdout);
  assert.deepEqual(json.steps.map((s: { status: string }) => s.status), ["failed", "skipped", "succeeded"]);
  r = await prj(repo, ["run", "lenient", "extra=true", "--json"]);
  json = JSON.parse(r.stdout);
  assert.deepEqual(json.steps.map((s: { status: string }) => s.status), ["failed", "succeeded", "succeeded"]);
});

Deno.test("on a TTY each step gets a live line with its name, state and duration", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await writeCommand(
    repo,
    "tty",
    'steps:\n  - { name: pause, run: [sleep, "1.2"] }\n  - { name: quick, run: [echo, fine] }\n',
  );
  await using server = tempTmux();
  const socket = server.socket;
  const cmd = prjCommandLine("run", "tty");
  // Colour is on only where NO_COLOR is unset (CI sets it for the test run).
  await tmux(
    socket,
    "new-session",
    "-d",
    "-s",
    "tty",
    "-x",
    "120",
    "-y",
    "20",
    "-c",
    repo,
    `env -u NO_COLOR ${cmd}; sleep 30`,
  );
  const capture = async () => (await tmux(socket, "capture-pane", "-p", "-e", "-t", "tty")).stdout;
  let screen = "";
  await waitFor(async () => /pause\s+.*running \d/.test(screen = await capture()), 5000, "the live line");
  await waitFor(async () => /quick.*succeeded/.test(screen = await capture()), 10000, "the last step to end");
  const done = screen;
  assert.match(done, /✔.* pause.*succeeded 1\.\ds/);
  // Both steps succeed, so their marks are green.
  assert.ok(done.includes("\x1b[32m✔"), "coloured on a TTY");
});
