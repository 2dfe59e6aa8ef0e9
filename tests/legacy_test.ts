import assert from "node:assert/strict";
import * as path from "node:path";
import { AGENT, prj, setConfig, tempRepo, writeCommand } from "./helpers.ts";
import { startStandInHeadlessPm } from "./fixtures/headless_pm_server.ts";

/** A command file as the original PruneJuice's Python version documented them. */
const PYTHON_FORM = `# Written for the Python version of PruneJuice
name: old-feature
description: Feature work, the old way
category: development
arguments:
  - name: feature_name
    required: true
    type: string
  - name: count
    type: integer
    default: 2
environment:
  PRUNEJUICE_TASK: "feature-development"
  FEATURE: "{{ feature_name }}"
pre_steps:
  - setup-environment
steps:
  - name: validate-prerequisites # a step object with only a name
  - name: announce
    script: |
      echo "feature=$PRUNEJUICE_ARG_FEATURE_NAME task=$PRUNEJUICE_TASK env=$FEATURE"
      echo "project=$PRUNEJUICE_PROJECT_PATH artifacts=$PRUNEJUICE_ARTIFACT_DIR"
    timeout: 30
  - name: store-artifacts
    args:
      paths: [README.md]
timeout: 1800
`;

Deno.test("command files of the original PruneJuice run as they are, say so in prj list, and prj migrate rewrites them", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const file = await writeCommand(repo, "old-feature", PYTHON_FORM);
  // The shell version's custom steps were scripts in .prj/steps/, named by a string step.
  await Deno.writeTextFile(
    path.join(repo, ".prj", "steps", "say-hello.sh"),
    'echo "hello $PRUNEJUICE_ARG_WHO from $PRUNEJUICE_COMMAND_NAME"\n',
  );
  await writeCommand(
    repo,
    "old-shell",
    "name: old-shell\ndescription: shell version\narguments:\n  - name: who\nsteps:\n  - say-hello\n",
  );

  let r = await prj(repo, ["list"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^old-feature\s+development\s+\.prj\/commands\/old-feature\.yaml \(old PruneJuice form; prj migrate\)/m,
  );
  assert.match(
    r.stdout,
    /^old-shell\s+general\s+\.prj\/commands\/old-shell\.yaml \(old PruneJuice form; prj migrate\)/m,
  );
  assert.doesNotMatch(r.stdout, /^example .*old PruneJuice/m);
  const listed = JSON.parse((await prj(repo, ["list", "--json"])).stdout) as { name: string; legacy?: boolean }[];
  assert.equal(listed.find((c) => c.name === "old-feature")!.legacy, true);
  assert.equal(listed.find((c) => c.name === "example")!.legacy, undefined);

  // They run as they are, with the PRUNEJUICE_* variables the old runners set.
  const runOld = async () => {
    const run = await prj(repo, ["run", "old-feature", "feature_name=login", "--json"]);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const json = JSON.parse(run.stdout);
    assert.deepEqual(json.steps.map((s: { name: string }) => s.name), [
      "setup-environment",
      "validate-prerequisites",
      "announce",
      "store-artifacts",
    ]);
    const log = await Deno.readTextFile(json.steps[2].logPath);
    assert.match(log, /^feature=login task=feature-development env=login$/m);
    assert.match(log, new RegExp(`^project=${repo} artifacts=${json.artifactDir}$`, "m"));
    assert.ok(await Deno.stat(path.join(json.artifactDir, "outputs", "README.md")));
  };
  await runOld();
  r = await prj(repo, ["run", "old-shell", "who=ann", "--json"]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(await Deno.readTextFile(JSON.parse(r.stdout).steps[0].logPath), /^hello ann from old-shell$/m);

  // --dry-run shows what would change and writes nothing; without a terminal, --yes is required.
  r = await prj(repo, ["migrate", "--dry-run"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^2 command file\(s\) in the original PruneJuice's form would be rewritten:$/m);
  assert.match(
    r.stdout,
    /steps\[1\] "announce": script -> run: \[bash, -c, \.\.\.\] with env PRUNEJUICE_ARG_FEATURE_NAME/,
  );
  assert.match(r.stdout, /steps\[2\] "store-artifacts": args -> with/);
  assert.match(
    r.stdout,
    /steps\[0\] "validate-prerequisites": a step with only a name -> uses: validate-prerequisites/,
  );
  assert.match(r.stdout, /steps\[0\]: the step file say-hello\.sh -> run: \[bash, \.\.\.\]/);
  assert.match(r.stdout, /^dry run: nothing written$/m);
  assert.equal(await Deno.readTextFile(file), PYTHON_FORM);
  r = await prj(repo, ["migrate"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: refusing without confirmation: no terminal to ask on; pass --yes$/m);
  assert.equal(await Deno.readTextFile(file), PYTHON_FORM);
  r = await prj(repo, ["migrate", "nosuch"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: "nosuch" is not a command file of this project/);

  r = await prj(repo, ["migrate", "--yes"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^rewrote 2 file\(s\) in today's form$/m);
  const text = await Deno.readTextFile(file);
  assert.match(text, /^# Written for the Python version of PruneJuice$/m);
  assert.match(
    text,
    /- name: validate-prerequisites # a step object with only a name\n\s+uses: validate-prerequisites\n/,
  );
  assert.match(text, /- name: announce\n\s+run:\n\s+- bash\n\s+- -c\n/);
  assert.match(text, /PRUNEJUICE_PROJECT_PATH: "\{\{ project \}\}"/);
  assert.match(text, /PRUNEJUICE_ARG_FEATURE_NAME: "\{\{ args\.feature_name \}\}"/);
  assert.match(text, /FEATURE: "\{\{ args\.feature_name \}\}"/);
  assert.match(text, /type: number/);
  assert.match(text, /with:\n\s+paths: \[README\.md\]/);
  assert.doesNotMatch(text, /^\s+(script|args):/m);
  assert.doesNotMatch((await prj(repo, ["list"])).stdout, /old PruneJuice form/);
  await runOld();
  r = await prj(repo, ["migrate"]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "every command file is in today's form; nothing to migrate\n");
});

Deno.test("prj migrate leaves a file that would not load even in today's form, says why, and exits 1", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const broken = "steps:\n  - name: x\n    script: echo hi\n    retries: 3\n";
  const file = await writeCommand(repo, "broken", broken);
  await writeCommand(repo, "fine", "steps:\n  - name: y\n    script: echo $PRUNEJUICE_SESSION_ID\n");
  const r = await prj(repo, ["migrate", "--yes"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^skipped \.prj\/commands\/broken\.yaml: \.prj\/commands\/broken\.yaml:4:5: steps\[0\]\.retries: unknown field/m,
  );
  assert.match(r.stdout, /^rewrote 1 file\(s\)/m);
  assert.equal(await Deno.readTextFile(file), broken);
  assert.match(
    await Deno.readTextFile(path.join(repo, ".prj", "commands", "fine.yaml")),
    /PRUNEJUICE_SESSION_ID: "\{\{ run\.id \}\}"/,
  );
});

Deno.test("HEADLESS_PM_API_URL names the server, as for the original runner; with the built-in queue a note says so", async () => {
  await using server = startStandInHeadlessPm("k");
  await using fixture = await tempRepo();
  const repo = fixture.path;
  server.addTask({ title: "From the server" });
  // The config names no server that answers; the variable does.
  await setConfig(
    repo,
    `agent:\n  command: ${AGENT}\ntask_source: headless-pm\nheadless_pm:\n  url: http://127.0.0.1:9\n  long_poll: 1\n`,
  );
  let r = await prj(repo, ["task", "list"], { env: { HEADLESS_PM_API_KEY: "k", HEADLESS_PM_API_URL: server.url } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /From the server/);

  await setConfig(repo, `agent:\n  command: ${AGENT}\n`);
  r = await prj(repo, ["agent", "run", "--role", "dev", "--agent-id", "d1", "--exit-when-empty"], {
    env: { HEADLESS_PM_API_URL: server.url },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /^note: HEADLESS_PM_API_URL is set, but this project's tasks come from the built-in queue; set `task_source: headless-pm` in \.prj\/config\.yaml to work on that server's tasks$/m,
  );
});
