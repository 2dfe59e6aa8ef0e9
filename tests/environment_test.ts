import assert from "node:assert/strict";
import { customDenoEnv, prj, tempRepo, writeCommand, writeStep } from "./helpers.ts";

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
