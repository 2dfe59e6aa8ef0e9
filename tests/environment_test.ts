import assert from "node:assert/strict";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { customDenoEnv, prj, ROOT, tempDir, tempRepo, writeCommand, writeStep } from "./helpers.ts";

Deno.test("prj works with the user's DENO_DIR and a HOME of its own, reaching no network", async () => {
  await using fixture = await tempRepo({ init: false });
  const repo = fixture.path;
  await using custom = await customDenoEnv();
  const { env } = custom;

  const init = await prj(repo, ["init"], { env });
  assert.equal(init.code, 0, init.stderr);
  const list = await prj(repo, ["list"], { env });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^example /m);

  // The shipped example (a sandboxed step: its own `deno run`) and a step of the user's.
  const example = await prj(repo, ["run", "example", "--json"], { env });
  assert.equal(example.code, 0, example.stderr);
  assert.equal(JSON.parse(example.stdout).status, "succeeded");
  await writeStep(repo, "hello", "export default () => ({ output: 'sandboxed hello' });");
  await writeCommand(repo, "hello", "steps:\n  - hello\n");
  const hello = await prj(repo, ["run", "hello", "--json"], { env });
  assert.equal(hello.code, 0, hello.stderr);
  assert.equal(JSON.parse(hello.stdout).steps[0].output, "sandboxed hello");
});

Deno.test("mod.ts and its entry points import from a clone into another project, without --config", async () => {
  await using dir = await tempDir({ prefix: "prj-test-user-project-" });
  await Deno.writeTextFile(path.join(dir.path, "deno.json"), '{ "imports": {} }\n');
  const url = (rel: string) => JSON.stringify(pathToFileURL(path.join(ROOT, rel)).href);
  await Deno.writeTextFile(
    path.join(dir.path, "main.ts"),
    [
      `import { initProject, listCommands, loadCommand, openProject, planRun, parseArguments } from ${url("mod.ts")};`,
      `import { listWorktrees } from ${url("lib/workspace/mod.ts")};`,
      `import { TaskQueue } from ${url("lib/agents/mod.ts")};`,
      `const root = await Deno.makeTempDir();`,
      `await initProject(root);`,
      `const project = await openProject(root);`,
      `const command = await loadCommand(project, "example");`,
      `const plan = planRun(project, command, parseArguments(command, ["greeting=hi"], root));`,
      `console.log((await listCommands(project)).length > 0, plan.steps.length, typeof listWorktrees, typeof TaskQueue);`,
      `await Deno.remove(root, { recursive: true });`,
    ].join("\n") + "\n",
  );
  for (const args of [["check", "main.ts"], ["run", "-A", "main.ts"]]) {
    const out = await new Deno.Command(Deno.execPath(), { args, cwd: dir.path, stdout: "piped", stderr: "piped" })
      .output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `deno ${args.join(" ")}:\n${text}`);
    if (args[0] === "run") assert.match(text, /^true 2 function function$/m);
  }
});

Deno.test("deno task install puts a prj executable in the install root that runs commands, sandboxed steps and prj mcp", async () => {
  await using root = await tempDir({ prefix: "prj-test-install-" });
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const install = await new Deno.Command(Deno.execPath(), {
    args: ["task", "install"],
    cwd: ROOT,
    env: { DENO_INSTALL_ROOT: root.path },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(install.code, 0, new TextDecoder().decode(install.stderr));
  const exe = path.join(root.path, "bin", "prj");
  const run = async (args: string[], cwd: string) => {
    const out = await new Deno.Command(exe, { args, cwd, env: { NO_COLOR: "1" }, stdout: "piped", stderr: "piped" })
      .output();
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
  };
  const config = JSON.parse(await Deno.readTextFile(path.join(ROOT, "deno.json")));
  assert.equal((await run(["--version"], root.path)).stdout.trim(), config.version);
  const example = await run(["run", "example", "--json"], repo);
  assert.equal(example.code, 0, example.stderr);
  assert.equal(JSON.parse(example.stdout).steps[0].status, "succeeded");
  // As an MCP client starts it: the executable and `mcp`, stdin closed when done.
  const child = new Deno.Command(exe, { args: ["mcp"], cwd: repo, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(
    JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "test", version: "1" } },
    }) + "\n",
  ));
  await writer.close();
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.equal(JSON.parse(new TextDecoder().decode(out.stdout)).result.serverInfo.name, "prj");
});
