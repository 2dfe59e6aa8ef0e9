import assert from "node:assert/strict";
import * as path from "node:path";
import { initProject } from "../project/init.ts";
import { openProject } from "../project/project.ts";
import { DefinitionError } from "../util/errors.ts";
import { loadCommand } from "./loader.ts";

/** A project whose definition files were last changed an hour ago (the cache keeps only settled files). */
async function project(files: Record<string, string>): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "prj-defcache-" });
  await initProject(dir);
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(path.dirname(path.join(dir, ".prj", name)), { recursive: true });
    await Deno.writeTextFile(path.join(dir, ".prj", name), text);
  }
  await settle(dir);
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

async function settle(dir: string): Promise<void> {
  const past = new Date(Date.now() - 3600_000);
  for (const folder of ["commands", "steps"]) {
    for (const entry of Deno.readDirSync(path.join(dir, ".prj", folder))) {
      await Deno.utime(path.join(dir, ".prj", folder, entry.name), past, past);
    }
  }
}

const cached = async (dir: string) =>
  Object.keys(
    JSON.parse(await Deno.readTextFile(path.join(dir, ".prj", "cache", "definitions.json")).catch(() => "{}")).value ??
      {},
  );

Deno.test("a loaded command is kept, read back the same, and loaded again once its file changes", async () => {
  await using p = await project({ "commands/hello.yaml": "steps:\n  - name: hi\n    run: [echo, hi]\n" });
  const first = await loadCommand(await openProject(p.dir), "hello");
  assert.deepEqual(await cached(p.dir), ["hello"]);
  assert.deepEqual(await loadCommand(await openProject(p.dir), "hello"), first);
  await Deno.writeTextFile(
    path.join(p.dir, ".prj", "commands", "hello.yaml"),
    "steps:\n  - name: bye\n    run: [echo]\n",
  );
  assert.equal((await loadCommand(await openProject(p.dir), "hello")).steps[0]!.name, "bye");
});

Deno.test("a command whose files changed a moment ago is not kept", async () => {
  await using p = await project({ "commands/hello.yaml": "steps:\n  - name: hi\n    run: [echo, hi]\n" });
  await Deno.writeTextFile(
    path.join(p.dir, ".prj", "commands", "other.yaml"),
    "steps:\n  - name: x\n    run: [echo]\n",
  );
  await loadCommand(await openProject(p.dir), "hello");
  assert.deepEqual(await cached(p.dir), []);
});

Deno.test("a kept command whose step module is gone is reported as before, with its line", async () => {
  await using p = await project({
    "commands/nested.yaml": "steps:\n  - name: a\n    run: [echo]\n  - uses: steps/lib/deep.ts\n",
    "steps/lib/deep.ts": "export default () => {};\n",
  });
  await loadCommand(await openProject(p.dir), "nested");
  assert.deepEqual(await cached(p.dir), ["nested"]);
  await Deno.remove(path.join(p.dir, ".prj", "steps", "lib", "deep.ts"));
  await assert.rejects(
    async () => loadCommand(await openProject(p.dir), "nested"),
    (error: unknown) => error instanceof DefinitionError && /nested\.yaml:4:.*lib\/deep\.ts/s.test(error.message),
  );
});
