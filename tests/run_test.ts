import assert from "node:assert/strict";
import * as path from "node:path";
import { exists, prj, query, spawnPrj, type TempRepo, tempRepo, waitFor, writeCommand, writeStep } from "./helpers.ts";

/** A repository for one test, with this file's commands and steps; removed when the test ends. */
async function runRepo(): Promise<TempRepo> {
  const fixture = await tempRepo();
  const repo = fixture.path;
  await writeCommand(
    repo,
    "greet",
    [
      "description: say hello",
      "arguments:",
      "  - name: who",
      "    required: true",
      "  - name: times",
      "    type: number",
      "    default: 1",
      "  - name: loud",
      "    type: boolean",
      "    default: false",
      "  - name: tone",
      "    choices: [warm, dry]",
      "    default: warm",
      "steps:",
      "  - name: say",
      '    run: [sh, -c, "echo hello {{ args.who }} x{{ args.times }} loud={{ args.loud }} tone={{ args.tone }}"]',
    ].join("\n"),
  );
  await writeCommand(
    repo,
    "fails",
    [
      "steps:",
      "  - name: first",
      '    run: [sh, -c, "echo one > first.txt"]',
      "  - name: boom",
      '    run: [sh, -c, "echo about to fail; exit 3"]',
      "  - name: never",
      '    run: [sh, -c, "echo never > never.txt"]',
      "cleanup_on_failure:",
      "  - name: tidy",
      "    uses: cleanup",
      "    with: { paths: [first.txt] }",
      "  - name: broken-cleanup",
      '    run: [sh, -c, "exit 9"]',
      "  - name: after-broken",
      '    run: [sh, -c, "echo cleaned > cleaned.txt"]',
    ].join("\n"),
  );
  return fixture;
}

Deno.test("prj run checks arguments: missing required ones listed together, types coerced, choices, unknown keys", async () => {
  await using fixture = await runRepo();
  const repo = fixture.path;
  await writeCommand(
    repo,
    "two-required",
    "arguments:\n  - { name: a, required: true }\n  - { name: b, required: true }\nsteps: [cleanup]\n",
  );
  let r = await prj(repo, ["run", "two-required"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /error: Missing required arguments for "two-required": a, b/);
  r = await prj(repo, ["run", "greet", "who=ann", "times=two"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /argument "times" of "greet": expected a number, found "two"/);
  r = await prj(repo, ["run", "greet", "who=ann", "tone=wram"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /"wram" is not one of "warm", "dry"; did you mean "warm"\?/);
  r = await prj(repo, ["run", "greet", "wh=ann"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Unknown argument "wh" for "greet"; did you mean "who"\?/);
  r = await prj(repo, ["run", "greet", "who"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Expected key=value, found "who"/);
  r = await prj(repo, ["run", "greet", "who=ann", "times=3", "loud=yes", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  const log = await Deno.readTextFile(path.join(json.artifactDir, "logs", "01-say.log"));
  assert.match(log, /hello ann x3 loud=true tone=warm/);
});

Deno.test("prj run --dry-run prints the plan and changes nothing: no run row, no artifact directory", async () => {
  await using fixture = await runRepo();
  const repo = fixture.path;
  await writeStep(repo, "noop", "export default () => {};");
  await writeCommand(
    repo,
    "planned",
    [
      "timeout: 60",
      "steps:",
      "  - gather-context",
      "  - name: sandboxed",
      "    uses: noop",
      "    permissions: { net: [example.com] }",
      "    timeout: 5",
      "  - name: prog",
      "    run: [echo, hi]",
      "cleanup_on_failure: [cleanup]",
    ].join("\n"),
  );
  const before = await query(repo, "SELECT id FROM runs");
  const artifactsBefore = [...Deno.readDirSync(path.join(repo, ".prj", "artifacts"))].length;
  const r = await prj(repo, ["run", "planned", "--dry-run"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Plan for planned \(\.prj\/commands\/planned\.yaml\); dry run: nothing is created or changed/);
  assert.match(r.stdout, /timeout: 60s/);
  assert.match(r.stdout, /1\. gather-context\s+built-in gather-context\s+cwd \S+\/repo\s+timeout -/);
  assert.match(
    r.stdout,
    /2\. sandboxed\s+sandboxed \.prj\/steps\/noop\.ts.*timeout 5s\s+grant: read=<project> write=\S+ net=example\.com/,
  );
  assert.match(r.stdout, /3\. prog\s+program: echo hi.*runs a program outside the sandbox/);
  assert.match(r.stdout, /on failure\s+4\. cleanup/);
  const json = JSON.parse((await prj(repo, ["run", "planned", "--dry-run", "--json"])).stdout);
  assert.equal(json.steps[2].outsideSandbox, true);
  assert.equal(json.steps[1].outsideSandbox, false);
  assert.deepEqual(await query(repo, "SELECT id FROM runs"), before);
  assert.equal([...Deno.readDirSync(path.join(repo, ".prj", "artifacts"))].length, artifactsBefore);
});

Deno.test("a failing run: the first failure stops it, every cleanup step runs, a failing cleanup is not fatal, exit 1", async () => {
  await using fixture = await runRepo();
  const repo = fixture.path;
  const r = await prj(repo, ["run", "fails"]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /\[2\/3\] boom failed \(.*\): sh exited with code 3/);
  assert.match(r.stdout, /about to fail/);
  assert.match(r.stdout, /cleanup step "broken-cleanup" failed: sh exited with code 9/);
  assert.match(r.stdout, /failed in .*: sh exited with code 3/);
  assert.equal(exists(path.join(repo, "first.txt")), false, "cleanup removed first.txt");
  assert.equal(exists(path.join(repo, "never.txt")), false);
  assert.equal(await Deno.readTextFile(path.join(repo, "cleaned.txt")), "cleaned\n");
  await Deno.remove(path.join(repo, "cleaned.txt"));
  const [run] = await query<{ id: string; status: string; error: string }>(
    repo,
    "SELECT id, status, error FROM runs WHERE command = 'fails'",
  );
  assert.equal(run!.status, "failed");
  assert.equal(run!.error, "sh exited with code 3");
  const steps = await query<{ name: string; status: string; phase: string }>(
    repo,
    "SELECT name, status, phase FROM steps WHERE run_id = ? ORDER BY idx",
    run!.id,
  );
  assert.deepEqual(steps.map((s) => [s.name, s.status, s.phase]), [
    ["first", "succeeded", "main"],
    ["boom", "failed", "main"],
    ["never", "skipped", "main"],
    ["tidy", "succeeded", "cleanup"],
    ["broken-cleanup", "failed", "cleanup"],
    ["after-broken", "succeeded", "cleanup"],
  ]);
});

Deno.test("artifacts: run.json, logs/<nn>-<step>.log, outputs/, context.json", async () => {
  await using fixture = await runRepo();
  const repo = fixture.path;
  await writeCommand(repo, "ctx", "steps:\n  - gather-context\n  - name: listing\n    run: [ls]\n");
  const r = await prj(repo, ["run", "ctx", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const { artifactDir, runId } = JSON.parse(r.stdout);
  assert.equal(artifactDir, path.join(repo, ".prj", "artifacts", runId));
  const runJson = JSON.parse(await Deno.readTextFile(path.join(artifactDir, "run.json")));
  assert.equal(runJson.status, "succeeded");
  assert.deepEqual(runJson.steps.map((s: { log: string }) => s.log), [
    "logs/01-gather-context.log",
    "logs/02-listing.log",
  ]);
  const context = JSON.parse(await Deno.readTextFile(path.join(artifactDir, "context.json")));
  assert.equal(context.branch, "main");
  assert.match(context.head, /^[0-9a-f]{40}$/);
  assert.ok(exists(path.join(artifactDir, "outputs")));
  assert.match(await Deno.readTextFile(path.join(artifactDir, "logs", "02-listing.log")), /README\.md/);
});

Deno.test("step logs are written while the step runs, and prj logs --follow streams them", async () => {
  await using fixture = await runRepo();
  const repo = fixture.path;
  await writeCommand(
    repo,
    "slow",
    'steps:\n  - name: ticker\n    run: [sh, -c, "echo tick-$((0+1)); sleep 1.5; echo tick-$((1+1))"]\n',
  );
  const child = spawnPrj(repo, ["run", "slow"]);
  let runId = "";
  await waitFor(
    async () => {
      const rows = await query<{ id: string }>(
        repo,
        "SELECT id FROM runs WHERE command = 'slow' AND status = 'running'",
      );
      runId = rows[0]?.id ?? "";
      return runId !== "" && exists(path.join(repo, ".prj", "artifacts", runId, "logs", "01-ticker.log")) &&
        (await Deno.readTextFile(path.join(repo, ".prj", "artifacts", runId, "logs", "01-ticker.log"))).includes(
          "\ntick-1",
        );
    },
    10000,
    "tick-1 in the log while running",
  );
  const log = await Deno.readTextFile(path.join(repo, ".prj", "artifacts", runId, "logs", "01-ticker.log"));
  assert.doesNotMatch(log, /\ntick-2/, "the log has the first line before the step ends");
  const follow = await prj(repo, ["logs", runId.slice(0, -1), "ticker", "--follow"]);
  assert.equal(follow.code, 0, follow.stderr);
  assert.match(follow.stdout, /\ntick-1\ntick-2\n/);
  assert.equal((await child.output()).code, 0);
});

Deno.test("Ctrl-C stops the current step, runs the cleanup steps, records the run as cancelled, exits 130", async () => {
  await using fixture = await runRepo();
  const repo = fixture.path;
  await writeCommand(
    repo,
    "interruptible",
    [
      "steps:",
      "  - name: long",
      '    run: [sh, -c, "echo started; sleep 30; echo finished > finished.txt"]',
      "cleanup_on_failure:",
      "  - name: mark",
      '    run: [sh, -c, "echo cleanup-ran > cancelled-cleanup.txt"]',
    ].join("\n"),
  );
  const child = spawnPrj(repo, ["run", "interruptible"]);
  // The program has started once its first line is in the step's log.
  await waitFor(
    async () => {
      const [step] = await query<{ log_path: string }>(repo, "SELECT log_path FROM steps WHERE name = 'long'");
      return step !== undefined && (await Deno.readTextFile(step.log_path).catch(() => "")).includes("started");
    },
    10000,
    "the step to print its first line",
  );
  child.kill("SIGINT");
  const out = await child.output();
  assert.equal(out.code, 130);
  assert.match(new TextDecoder().decode(out.stdout), /cancelled/);
  assert.equal(await Deno.readTextFile(path.join(repo, "cancelled-cleanup.txt")), "cleanup-ran\n");
  assert.equal(exists(path.join(repo, "finished.txt")), false);
  await Deno.remove(path.join(repo, "cancelled-cleanup.txt"));
  const [run] = await query<{ id: string; status: string }>(
    repo,
    "SELECT id, status FROM runs WHERE command = 'interruptible'",
  );
  assert.equal(run!.status, "cancelled");
  const steps = await query<{ name: string; status: string }>(
    repo,
    "SELECT name, status FROM steps WHERE run_id = ? ORDER BY idx",
    run!.id,
  );
  assert.deepEqual(steps.map((s) => [s.name, s.status]), [["long", "cancelled"], ["mark", "succeeded"]]);
});

Deno.test("per-step and whole-command timeouts stop the run and are recorded", async () => {
  await using fixture = await runRepo();
  const repo = fixture.path;
  await writeCommand(repo, "step-timeout", 'steps:\n  - name: sleepy\n    run: [sleep, "20"]\n    timeout: 0.5\n');
  let r = await prj(repo, ["run", "step-timeout", "--json"]);
  assert.equal(r.code, 1);
  let json = JSON.parse(r.stdout);
  assert.equal(json.status, "failed");
  assert.equal(json.steps[0].status, "timed_out");
  assert.equal(json.steps[0].error, 'step "sleepy" timed out after 0.5s');
  await writeCommand(
    repo,
    "cmd-timeout",
    'timeout: 0.5\nsteps:\n  - name: one\n    run: [sleep, "0.1"]\n  - name: two\n    run: [sleep, "20"]\n  - name: three\n    run: ["true"]\n',
  );
  r = await prj(repo, ["run", "cmd-timeout", "--json"]);
  assert.equal(r.code, 1);
  json = JSON.parse(r.stdout);
  assert.equal(json.status, "timed_out");
  assert.equal(json.error, 'command "cmd-timeout" timed out after 0.5s');
  assert.deepEqual(json.steps.map((s: { status: string }) => s.status), ["succeeded", "timed_out"]);
});

Deno.test("a run whose process was killed (kill -9) shows as interrupted on the next command", async () => {
  await using fixture = await runRepo();
  const repo = fixture.path;
  await writeCommand(repo, "victim", 'steps:\n  - name: wait\n    run: [sleep, "30"]\n');
  const child = spawnPrj(repo, ["run", "victim"]);
  await waitFor(
    async () =>
      (await query(
        repo,
        "SELECT 1 FROM steps s JOIN runs r ON r.id = s.run_id WHERE r.command = 'victim' AND s.status = 'running'",
      )).length > 0,
    10000,
    "the victim to start",
  );
  child.kill("SIGKILL");
  await child.status;
  const [before] = await query<{ status: string }>(repo, "SELECT status FROM runs WHERE command = 'victim'");
  assert.equal(before!.status, "running");
  const r = await prj(repo, ["history", "--command", "victim", "--json"]);
  assert.equal(r.code, 0);
  const [run] = JSON.parse(r.stdout);
  assert.equal(run.status, "interrupted");
  assert.equal(run.steps[0].status, "interrupted");
  assert.match(run.error, /exited without finishing/);
});

Deno.test("8 prj processes running at once on one project all record every run and step", async () => {
  await using fixture = await runRepo();
  const repo = fixture.path;
  await writeStep(
    repo,
    "count",
    "export default (ctx) => { ctx.shared.set('n', ctx.step.index); return { output: 'ok' }; };",
  );
  await writeCommand(
    repo,
    "parallel-probe",
    "steps:\n  - count\n  - gather-context\n  - name: echo\n    run: [echo, hi]\n  - count\n",
  );
  const before = (await query(repo, "SELECT id FROM runs WHERE command = 'parallel-probe'")).length;
  const results = await Promise.all(Array.from({ length: 8 }, () => prj(repo, ["run", "parallel-probe", "--json"])));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const ids = results.map((r) => JSON.parse(r.stdout).runId);
  assert.equal(new Set(ids).size, 8);
  const runs = await query<{ id: string; status: string }>(
    repo,
    "SELECT id, status FROM runs WHERE command = 'parallel-probe'",
  );
  assert.equal(runs.length, before + 8);
  for (const id of ids) {
    const steps = await query<{ status: string }>(repo, "SELECT status FROM steps WHERE run_id = ?", id);
    assert.deepEqual(
      steps.map((s) => s.status),
      ["succeeded", "succeeded", "succeeded", "succeeded"],
      `steps of ${id}`,
    );
    assert.equal(runs.find((r) => r.id === id)!.status, "succeeded");
  }
});
