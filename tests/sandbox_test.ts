import assert from "node:assert/strict";
import * as path from "node:path";
import { prj, query, type TempRepo, tempRepo, writeCommand, writeStep } from "./helpers.ts";
import { loadCommand, openProject, runCommand } from "../mod.ts";

/** A repository for one test, with this file's commands and steps; removed when the test ends. */
async function sandboxRepo(): Promise<TempRepo> {
  const fixture = await tempRepo();
  const repo = fixture.path;
  // One command per probe; each step tries one thing outside the default grant.
  await writeStep(
    repo,
    "read_outside",
    `export default async () => ({ output: (await Deno.readTextFile("/etc/hostname")).trim() });`,
  );
  await writeStep(
    repo,
    "open_socket",
    `export default async (ctx) => { const c = await Deno.connect({ hostname: "127.0.0.1", port: Number(ctx.env.PORT) }); c.close(); return { output: "connected" }; };`,
  );
  await writeStep(repo, "read_env", `export default () => ({ output: Deno.env.get("HOME") ?? "unset" });`);
  await writeStep(
    repo,
    "start_program",
    `export default async () => { const out = await new Deno.Command("true").output(); return { output: "exit " + out.code }; };`,
  );
  await writeStep(repo, "loop_forever", `export default () => { for (;;) {} };`);
  await writeStep(repo, "broken_syntax", `export default function ( {\n`);
  await writeStep(repo, "no_default", `export const x = 1;\n`);
  await writeStep(
    repo,
    "writer",
    `export default async (ctx) => {
      await Deno.writeTextFile(ctx.paths.artifacts + "/outputs/direct.txt", "direct");
      const file = await ctx.artifact("via-ctx.txt", "hello " + ctx.args.who);
      ctx.shared.set("count", (ctx.shared.get("count") ?? 0) + 1);
      ctx.log("wrote", file);
      return { output: "wrote", data: { history: ctx.history.map((h) => h.name), env: ctx.env.GREETING } };
    };`,
  );
  await writeStep(
    repo,
    "reader",
    `export default (ctx) => ({ output: "count " + ctx.shared.get("count"), data: { before: ctx.history.map((h) => [h.name, h.status, h.output]) } });`,
  );
  return fixture;
}

function probe(step: string, permissions = "", timeout = ""): string {
  return `steps:\n  - name: probe\n    uses: ${step}\n${permissions ? `    permissions: ${permissions}\n` : ""}${
    timeout ? `    timeout: ${timeout}\n` : ""
  }`;
}

async function runProbe(repo: string, step: string, permissions = "", timeout = "") {
  const name = `probe-${step.replaceAll("_", "-")}-${permissions ? "granted" : "default"}`;
  await writeCommand(repo, name, probe(step, permissions, timeout));
  const r = await prj(repo, ["run", name, "--json"]);
  if (!r.stdout.trim()) {
    throw new Error(`prj run ${name} --json printed nothing (exit ${r.code}); stderr:\n${r.stderr}`);
  }
  return { ...r, json: JSON.parse(r.stdout) };
}

Deno.test("a step that reads a file outside its grant fails naming the permission and how to grant it", async () => {
  await using fixture = await sandboxRepo();
  const repo = fixture.path;
  const r = await runProbe(repo, "read_outside");
  assert.equal(r.code, 1);
  assert.equal(r.json.status, "failed");
  assert.equal(
    r.json.steps[0].error,
    'step "probe" was denied read access to "/etc/hostname"; grant it in .prj/commands/probe-read-outside-default.yaml with `permissions: { read: ["/etc/hostname"] }` on the step',
  );
  const granted = await runProbe(repo, "read_outside", '{ read: ["/etc/hostname"] }');
  assert.equal(granted.code, 0, granted.stderr);
  assert.equal(granted.json.steps[0].output, (await Deno.readTextFile("/etc/hostname")).trim());
});

Deno.test("a step that opens a socket without a net grant fails; with the grant it may", async () => {
  await using fixture = await sandboxRepo();
  const repo = fixture.path;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const accepting = (async () => {
    for await (const conn of listener) conn.close();
  })();
  try {
    for (
      const [name, grant] of [["socket-denied", ""], ["socket-granted", '    permissions: { net: ["127.0.0.1"] }\n']]
    ) {
      await writeCommand(
        repo,
        name!,
        `environment: { PORT: "${port}" }\nsteps:\n  - name: probe\n    uses: open_socket\n${grant}`,
      );
    }
    const r = await prj(repo, ["run", "socket-denied", "--json"]);
    assert.equal(r.code, 1);
    assert.match(
      JSON.parse(r.stdout).steps[0].error,
      new RegExp(`step "probe" was denied net access to "127\\.0\\.0\\.1:${port}".*permissions: \\{ net:`),
    );
    const granted = await prj(repo, ["run", "socket-granted", "--json"]);
    assert.equal(granted.code, 0, granted.stdout);
    assert.equal(JSON.parse(granted.stdout).steps[0].output, "connected");
  } finally {
    listener.close();
    await accepting.catch(() => {});
  }
});

Deno.test("a step that reads an env var without a grant fails; with the grant it reads it", async () => {
  await using fixture = await sandboxRepo();
  const repo = fixture.path;
  const r = await runProbe(repo, "read_env");
  assert.equal(r.code, 1);
  assert.match(
    r.json.steps[0].error,
    /step "probe" was denied env access to "HOME".*permissions: \{ env: \["HOME"\] \}/,
  );
  const granted = await runProbe(repo, "read_env", '{ env: ["HOME"] }');
  assert.equal(granted.code, 0);
  assert.equal(granted.json.steps[0].output, Deno.env.get("HOME"));
});

Deno.test("a step that starts a program without a grant fails; with the grant it runs", async () => {
  await using fixture = await sandboxRepo();
  const repo = fixture.path;
  const r = await runProbe(repo, "start_program");
  assert.equal(r.code, 1);
  assert.match(
    r.json.steps[0].error,
    /step "probe" was denied run access to "true".*permissions: \{ run: \["true"\] \}/,
  );
  const granted = await runProbe(repo, "start_program", "{ run: true }");
  assert.equal(granted.code, 0);
  assert.equal(granted.json.steps[0].output, "exit 0");
});

Deno.test("a step that loops forever is stopped at its timeout", async () => {
  await using fixture = await sandboxRepo();
  const repo = fixture.path;
  const r = await runProbe(repo, "loop_forever", "", "1");
  assert.equal(r.code, 1);
  assert.equal(r.json.status, "failed");
  assert.equal(r.json.steps[0].status, "timed_out");
  assert.equal(r.json.steps[0].error, 'step "probe" timed out after 1s');
  assert.ok(r.json.steps[0].durationMs < 5000);
});

Deno.test("a step module with a syntax error or no default function fails with the file named", async () => {
  await using fixture = await sandboxRepo();
  const repo = fixture.path;
  const broken = await runProbe(repo, "broken_syntax");
  assert.equal(broken.code, 1);
  assert.match(broken.json.steps[0].error, /^step module \.prj\/steps\/broken_syntax\.ts failed to load: /);
  const none = await runProbe(repo, "no_default");
  assert.equal(none.code, 1);
  assert.equal(
    none.json.steps[0].error,
    "step module .prj/steps/no_default.ts has no default function (default export is missing); export one: `export default function (ctx) { ... }`",
  );
});

Deno.test("steps share data through ctx.shared, see earlier results, and both are persisted", async () => {
  await using fixture = await sandboxRepo();
  const repo = fixture.path;
  await writeCommand(
    repo,
    "sharing",
    [
      "arguments:",
      "  - name: who",
      "    default: world",
      "environment: { GREETING: hi }",
      "steps:",
      "  - writer",
      "  - writer",
      "  - reader",
    ].join("\n"),
  );
  const r = await prj(repo, ["run", "sharing", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.deepEqual(json.shared, { count: 2 });
  assert.equal(json.steps[2].output, "count 2");
  assert.deepEqual(json.steps[1].data.history, ["writer"]);
  assert.equal(json.steps[0].data.env, "hi");
  assert.equal(await Deno.readTextFile(path.join(json.artifactDir, "outputs", "via-ctx.txt")), "hello world");
  assert.equal(await Deno.readTextFile(path.join(json.artifactDir, "outputs", "direct.txt")), "direct");
  const [run] = await query<{ shared: string }>(repo, "SELECT shared FROM runs WHERE id = ?", json.runId);
  assert.deepEqual(JSON.parse(run!.shared), { count: 2 });
  const steps = await query<{ data: string }>(repo, "SELECT data FROM steps WHERE run_id = ? ORDER BY idx", json.runId);
  assert.deepEqual(JSON.parse(steps[2]!.data).before[0], ["writer", "succeeded", "wrote"]);
  const artifacts = await query<{ name: string }>(repo, "SELECT name FROM artifacts WHERE run_id = ?", json.runId);
  assert.deepEqual(artifacts.map((a) => a.name), ["via-ctx.txt", "via-ctx.txt"]);
});

Deno.test("a sandboxed step cannot write outside the worktree and artifacts by default", async () => {
  await using fixture = await sandboxRepo();
  const repo = fixture.path;
  await writeStep(
    repo,
    "write_project",
    `export default async (ctx) => { await Deno.writeTextFile(ctx.paths.project + "/x.txt", "x"); };`,
  );
  await writeCommand(repo, "write-project", "steps: [write_project]\n");
  const r = await prj(repo, ["run", "write-project", "--json"]);
  assert.equal(r.code, 1);
  assert.match(JSON.parse(r.stdout).steps[0].error, /denied write access to ".*\/repo\/x\.txt"/);
  assert.equal(await Deno.stat(path.join(repo, "x.txt")).then(() => true, () => false), false);
});

Deno.test("started as the JSR entry starts it (mod.ts, no config), prj still sandboxes steps", async () => {
  await using fixture = await sandboxRepo();
  const repo = fixture.path;
  await writeCommand(repo, "probe-read-outside-default", probe("read_outside"));
  // Started the way `deno run -A jsr:@prunejuice/cli` starts it: mod.ts as the main module, no config.
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-config",
      "--import-map",
      path.resolve(import.meta.dirname!, "../deno.json"),
      path.resolve(import.meta.dirname!, "../mod.ts"),
      "run",
      "probe-read-outside-default",
      "--json",
    ],
    cwd: repo,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const json = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(out.code, 1);
  assert.match(json.steps[0].error, /was denied read access to "\/etc\/hostname"/);
});

Deno.test("a step reads and writes its own run's artifacts but not other runs' unless its grant names them", async () => {
  await using fixture = await sandboxRepo();
  const repo = fixture.path;
  const first = await runProbe(repo, "writer");
  assert.equal(first.code, 0, first.stdout);
  const earlier = path.join(first.json.artifactDir, "outputs", "direct.txt");
  assert.equal(await Deno.readTextFile(earlier), "direct");
  await writeStep(
    repo,
    "peek",
    `export default async (ctx) => {
      await Deno.writeTextFile(ctx.paths.artifacts + "/mine.txt", "mine");
      const own = await Deno.readTextFile(ctx.paths.artifacts + "/mine.txt");
      const other = await Deno.readTextFile(${JSON.stringify(earlier)});
      return { output: own + " " + other };
    };`,
  );
  const denied = await runProbe(repo, "peek");
  assert.equal(denied.code, 1);
  assert.match(
    denied.json.steps[0].error,
    /^step "probe" was denied read access to ".*\/\.prj\/artifacts\/[^"]+\/outputs\/direct\.txt": .*other runs' artifacts are read only by a grant that names \.prj\/artifacts/,
  );
  assert.equal(await Deno.readTextFile(path.join(denied.json.artifactDir, "mine.txt")), "mine", "its own were written");
  const granted = await runProbe(repo, "peek", '{ read: [".", ".prj/artifacts"] }');
  assert.equal(granted.code, 0, granted.stdout);
  assert.equal(granted.json.steps[0].output, "mine direct");
});

Deno.test("a project opened through a link (the library's openProject) is opened by its real path, and its steps write and read their own run's artifacts", async () => {
  await using fixture = await sandboxRepo();
  const link = path.join(path.dirname(fixture.path), "via-link");
  await Deno.symlink(fixture.path, link);
  await writeStep(
    fixture.path,
    "own",
    `export default async (ctx) => {
      await Deno.writeTextFile(ctx.paths.artifacts + "/mine.txt", "mine");
      return { output: (await Deno.readTextFile(ctx.paths.artifacts + "/mine.txt")) + " " + ctx.paths.artifacts };
    };`,
  );
  await writeCommand(fixture.path, "own", "steps: [own]\n");
  const project = await openProject(link);
  const result = await runCommand(project, await loadCommand(project, "own"), { args: {} });
  assert.equal(result.status, "succeeded", result.steps[0]?.error);
  assert.equal(project.root, fixture.path, "the project by its real path");
  assert.equal(result.steps[0]!.output, `mine ${path.join(fixture.path, ".prj", "artifacts", result.runId)}`);
});
