import assert from "node:assert/strict";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { customDenoEnv, prj, ROOT, tempDir, tempRepo } from "./helpers.ts";

async function deno(cwd: string, args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), { args, cwd, env, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text };
}

/** The README's example step, as the README shows it. */
async function readmeStep(): Promise<string> {
  const readme = await Deno.readTextFile(path.join(ROOT, "README.md"));
  const block = /```ts\n(\/\/ \.prj\/steps\/summarize\.ts\n[\s\S]*?)```/.exec(readme);
  assert.ok(block, "the README shows .prj/steps/summarize.ts");
  return block[1]!;
}

Deno.test("in a fresh project with a deno.json, the example step and the README's step pass deno check and deno lint offline", async () => {
  await using fixture = await tempRepo({ init: false });
  const repo = fixture.path;
  await using custom = await customDenoEnv();
  const env = { ...custom.env, NO_COLOR: "1" };
  await Deno.writeTextFile(path.join(repo, "deno.json"), "{}\n");
  const init = await prj(repo, ["init"], { env });
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /created\s+\.prj\/steps\/types\.d\.ts/);
  await Deno.writeTextFile(path.join(repo, ".prj", "steps", "summarize.ts"), await readmeStep());

  for (const args of [["check", ".prj/steps/"], ["lint", ".prj/steps/"]]) {
    const r = await deno(repo, args, env);
    assert.equal(r.code, 0, `deno ${args.join(" ")}:\n${r.text}`);
    assert.doesNotMatch(r.text, /Download|jsr:|warning/i);
  }
  // A mistake is caught: the types are real.
  await Deno.writeTextFile(
    path.join(repo, ".prj", "steps", "wrong.ts"),
    'import type { StepContext } from "./types.d.ts";\nexport default (ctx: StepContext) => ctx.paths.nowhere;\n',
  );
  const wrong = await deno(repo, ["check", ".prj/steps/wrong.ts"], env);
  assert.equal(wrong.code, 1);
  assert.match(wrong.text, /Property 'nowhere' does not exist on type 'StepPaths'/);
  await Deno.remove(path.join(repo, ".prj", "steps", "wrong.ts"));

  // The step still runs in the sandbox (a type import is erased), and `prj list` has no "types.d" step.
  const run = await prj(repo, ["run", "example", "--json"], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).status, "succeeded");

  // types.d.ts is prj's: an old copy is brought up to date by `prj init`, without --force.
  const types = path.join(repo, ".prj", "steps", "types.d.ts");
  const fresh = await Deno.readTextFile(types);
  await Deno.writeTextFile(types, "// an older prj's types\n");
  const again = await prj(repo, ["init"], { env });
  assert.match(again.stdout, /replaced \.prj\/steps\/types\.d\.ts/);
  assert.equal(await Deno.readTextFile(types), fresh);
});

Deno.test("the step types prj init writes are the step contract's, both ways", async () => {
  const { stepTypes } = await import("../templates/step_types.ts");
  await using dirFixture = await tempDir();
  const dir = dirFixture.path;
  await Deno.writeTextFile(path.join(dir, "types.d.ts"), stepTypes);
  const contract = pathToFileURL(path.join(ROOT, "lib", "run", "contract.ts")).href;
  const names = ["StepResult", "StepHistoryEntry", "SharedData", "StepPaths", "StepContext", "StepFunction"];
  await Deno.writeTextFile(
    path.join(dir, "same.ts"),
    [
      `import type * as Lib from ${JSON.stringify(contract)};`,
      `import type * as Init from "./types.d.ts";`,
      "type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;",
      ...names.map((n) => `export const ${n}: Same<Lib.${n}, Init.${n}> = true;`),
    ].join("\n") + "\n",
  );
  const r = await deno(dir, ["check", "--config", path.join(ROOT, "deno.json"), "same.ts"], {});
  assert.equal(r.code, 0, r.text);
  assert.deepEqual(
    names.filter((n) => !stepTypes.includes(`export ${n === "StepFunction" ? "type" : "interface"} ${n}`)),
    [],
  );
});
