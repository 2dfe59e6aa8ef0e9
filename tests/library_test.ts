import assert from "node:assert/strict";
import * as path from "node:path";
// Imported the way a user imports the package: through its exports, not internal paths.
import {
  getRun,
  initProject,
  listCommands,
  loadCommand,
  openProject,
  openStore,
  parseArguments,
  planRun,
  runCommand,
  type RunEvent,
  type StepContext,
  type StepFunction,
  VERSION,
} from "@prunejuice/cli";

// A step written against the exported contract: `deno task check` (which checks tests/) fails if it does not fit.
const _typedStep: StepFunction = (ctx: StepContext) => ctx.log(ctx.run.id);

Deno.test("the package's exports load a project and run a command with step events", async () => {
  const dir = await Deno.makeTempDir({ prefix: "prj-lib-" });
  try {
    await initProject(dir);
    await Deno.writeTextFile(
      path.join(dir, ".prj", "steps", "count.ts"),
      "export default (ctx) => { ctx.shared.set('n', Number(ctx.args.n) * 2); return { output: 'doubled' }; };",
    );
    await Deno.writeTextFile(
      path.join(dir, ".prj", "commands", "lib-demo.yaml"),
      'arguments: [{ name: n, type: number, required: true }]\nsteps:\n  - count\n  - { name: show, run: [echo, "n={{ shared.n }}"] }\n',
    );
    const project = await openProject(dir);
    assert.ok((await listCommands(project)).some((c) => c.name === "lib-demo"));
    const command = await loadCommand(project, "lib-demo");
    const args = parseArguments(command, ["n=21"], dir);
    assert.equal(planRun(project, command, args).steps[0]!.kind, "module");
    const events: RunEvent["type"][] = [];
    const result = await runCommand(project, command, { args, onEvent: (e) => events.push(e.type) });
    assert.equal(result.status, "succeeded");
    assert.deepEqual(result.shared, { n: 42 });
    assert.match(await Deno.readTextFile(result.steps[1]!.logPath), /n=42/);
    assert.deepEqual(events.filter((e) => e !== "step-output"), [
      "run-start",
      "step-start",
      "step-end",
      "step-start",
      "step-end",
      "run-end",
    ]);
    const store = openStore(project.prjDir);
    assert.equal(getRun(store, result.runId)?.status, "succeeded");
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Live step processes (the sandbox's `deno run` hosts) that this process started. */
function stepProcesses(): number[] {
  const found: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) !== Deno.pid || state === "Z") continue;
      if (Deno.readTextFileSync(`/proc/${e.name}/cmdline`).includes("data:application/javascript")) found.push(+e.name);
    } catch { /* gone */ }
  }
  return found;
}

Deno.test({
  name: "a run that stops early ends the step processes it started ahead: none stays beside a prj that goes on",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "prj-lib-" });
    try {
      await initProject(dir);
      await Deno.writeTextFile(
        path.join(dir, ".prj", "steps", "boom.ts"),
        "export default () => { throw new Error('boom'); };",
      );
      await Deno.writeTextFile(path.join(dir, ".prj", "steps", "noop.ts"), "export default () => {};");
      await Deno.writeTextFile(path.join(dir, ".prj", "commands", "early.yaml"), "steps: [boom, noop, noop, noop]\n");
      const project = await openProject(dir);
      const command = await loadCommand(project, "early");
      let started = 0;
      const result = await runCommand(project, command, {
        args: {},
        // While the first step runs, the processes of the next two are started (the run's spares).
        onEvent: (e) => e.type === "step-end" && (started = stepProcesses().length),
      });
      assert.equal(result.status, "failed");
      assert.ok(started >= 1, `step processes started ahead, seen when the first step ended: ${started}`);
      // This process goes on (as \`prj mcp\` does): the spares of the steps that never ran must be gone.
      const deadline = Date.now() + 3000;
      while (stepProcesses().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(stepProcesses(), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("deno.json: version, exports, tasks and publish settings; no unstable feature", async () => {
  const config = JSON.parse(await Deno.readTextFile(path.resolve(import.meta.dirname!, "../deno.json")));
  assert.equal(config.name, "@prunejuice/cli");
  assert.equal(config.version, VERSION);
  assert.equal(config.exports["."], "./mod.ts");
  assert.equal(config.unstable, undefined);
  for (const task of ["test", "ok", "bench", "compile", "demo"]) assert.ok(config.tasks[task], task);
  assert.ok(config.publish.exclude.includes("tests/"));
});

Deno.test("the compile task embeds the lazily loaded modules, steps, templates and CLI bodies", async () => {
  const config = JSON.parse(await Deno.readTextFile(path.resolve(import.meta.dirname!, "../deno.json")));
  const argv: string[] = config.tasks.compile.split(/\s+/);
  assert.equal(argv.slice(0, 2).join(" "), "deno compile");
  assert.ok(!argv.some((a) => a.startsWith("--unstable")));
  assert.ok(argv.includes("-A"));
  const included = argv.flatMap((a, i) => (a === "--include" ? [argv[i + 1]!] : []));
  for (const dir of ["lib/", "steps/", "templates/", "cli/"]) assert.ok(included.includes(dir), `--include ${dir}`);
  assert.equal(argv.at(-1), "cli.ts");
  // Everything loaded by a computed specifier lives in an included folder.
  const root = path.resolve(import.meta.dirname!, "..");
  for (
    const file of [
      "lib/sandbox/_host.ts",
      "lib/definitions/parser.ts",
      "lib/definitions/_schemas.ts",
      "lib/definitions/yaml_source.ts",
      "steps/launch_agent.ts",
      "cli/run.ts",
    ]
  ) {
    assert.ok(included.some((d) => file.startsWith(d)), file);
    await Deno.stat(path.join(root, file));
  }
});

Deno.test("prj init writes the templates it imports as modules (not files next to the source)", async () => {
  const { TEMPLATE_FILES } = await import("../templates/mod.ts");
  const dir = await Deno.makeTempDir({ prefix: "prj-lib-" });
  try {
    await initProject(dir);
    for (const [rel, content] of Object.entries(TEMPLATE_FILES)) {
      assert.equal(await Deno.readTextFile(path.join(dir, ".prj", rel)), content, rel);
    }
    // No module of prj reads a template from the file system.
    const root = path.resolve(import.meta.dirname!, "..");
    const sources = (dir: string): string[] =>
      [...Deno.readDirSync(dir)].flatMap((e) =>
        e.isDirectory ? sources(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []
      );
    for (const folder of ["lib", "cli", "steps"]) {
      for (const file of sources(path.join(root, folder))) {
        const source = await Deno.readTextFile(file);
        assert.doesNotMatch(source, /read(Text)?File(Sync)?\([^)]*templates/, path.relative(root, file));
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
