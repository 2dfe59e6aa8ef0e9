import assert from "node:assert/strict";
import * as path from "node:path";
import { loadCommand, openProject, type Project } from "../mod.ts";
import { type DefinitionError, UsageError } from "../lib/util/errors.ts";
import { prj, tempRepo, writeCommand } from "./helpers.ts";

async function loadError(
  project: Project,
  name: string,
  yaml: string | Uint8Array,
): Promise<DefinitionError | UsageError> {
  const file = path.join(project.prjDir, "commands", `${name}.yaml`);
  if (typeof yaml === "string") await Deno.writeTextFile(file, yaml);
  else await Deno.writeFile(file, yaml);
  try {
    await loadCommand(project, name);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  } finally {
    await Deno.remove(file);
  }
  throw new Error("expected an error");
}

Deno.test("loadCommand() rejects an unknown field with its line, column and a suggestion", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const project = await openProject(repo);
  const error = await loadError(
    project,
    "review",
    "name: review\nsteps:\n  - gather-context\n  - gather-context\n  - name: x\n    uses: cleanup\n    timout: 5\n",
  );
  assert.equal(error.message, '.prj/commands/review.yaml:7:5: steps[2].timout: unknown field; did you mean "timeout"?');
});

Deno.test("loadCommand() reports a wrong type with what was expected and found", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const project = await openProject(repo);
  const error = await loadError(project, "t1", "steps:\n  - uses: cleanup\n    timeout: soon\n");
  assert.equal(error.message, '.prj/commands/t1.yaml:3:14: steps[0].timeout: expected number, found string "soon"');
});

Deno.test("loadCommand() reports a top-level typo with a suggestion", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const project = await openProject(repo);
  const error = await loadError(project, "t2", "descripton: x\nsteps: [cleanup]\n");
  assert.match(
    error.message,
    /^\.prj\/commands\/t2\.yaml:1:1: descripton: unknown field; did you mean "description"\?$/,
  );
});

Deno.test("loadCommand() rejects duplicate keys, syntax errors, alias bombs, non-UTF-8 and huge files", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const project = await openProject(repo);
  assert.match(
    (await loadError(project, "d", "steps: [cleanup]\nsteps: [cleanup]\n")).message,
    /^\.prj\/commands\/d\.yaml:2:1: duplicate key/,
  );
  assert.match(
    (await loadError(project, "s", "steps: [cleanup\nname: x\n")).message,
    /^\.prj\/commands\/s\.yaml:\d+:\d+: YAML syntax error/,
  );
  const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 12; i++) {
    bomb.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${
        Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(", ")
      }]`,
    );
  }
  assert.match(
    (await loadError(project, "bomb", bomb.join("\n") + "\nsteps: [cleanup]\n")).message,
    /^\.prj\/commands\/bomb\.yaml: YAML aliases expand too far/,
  );
  const bytes = new Uint8Array([
    ...new TextEncoder().encode("description: caf"),
    0xe9,
    ...new TextEncoder().encode("\nsteps: [cleanup]\n"),
  ]);
  assert.equal(
    (await loadError(project, "latin1", bytes)).message,
    ".prj/commands/latin1.yaml:1:17: invalid UTF-8 byte 0xe9; save the file as UTF-8",
  );
  const huge = "description: " + "x".repeat(1024 * 1024) + "\nsteps: [cleanup]\n";
  assert.match(
    (await loadError(project, "huge", huge)).message,
    /^\.prj\/commands\/huge\.yaml: file is \d+ bytes; definitions are limited to 1 MiB/,
  );
});

Deno.test("loadCommand() checks steps: uses or run, shell strings, unknown steps, unknown placeholders", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const project = await openProject(repo);
  assert.match(
    (await loadError(project, "a", "steps:\n  - name: nothing\n")).message,
    /steps\[0\]: a step needs "uses" or "run"/,
  );
  assert.match(
    (await loadError(project, "b", "steps:\n  - run: echo hi\n")).message,
    /steps\[0\]\.run: a string runs through a shell only with `shell: true`/,
  );
  assert.match(
    (await loadError(project, "c", "steps:\n  - gather-contxt\n")).message,
    /^\.prj\/commands\/c\.yaml:2:5: steps\[0\]\.uses: unknown step "gather-contxt".*did you mean "gather-context"\?$/,
  );
  assert.match(
    (await loadError(project, "e", 'arguments:\n  - name: feature\nsteps:\n  - run: [echo, "{{ args.featur }}"]\n'))
      .message,
    /unknown placeholder "\{\{ args\.featur \}\}": the command declares no argument "featur"; did you mean "\{\{ args\.feature \}\}"\?/,
  );
  assert.match(
    (await loadError(project, "f", 'steps:\n  - run: [echo, "{{ wrktree }}"]\n')).message,
    /unknown placeholder "\{\{ wrktree \}\}"; did you mean "worktree"\?/,
  );
  assert.match((await loadError(project, "g", "description: x\n")).message, /the command has no steps/);
});

Deno.test("extends: the child inherits every field, its own win, step lists are replaced", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const project = await openProject(repo);
  await writeCommand(
    repo,
    "base-cmd",
    [
      "description: parent",
      "category: parents",
      "timeout: 50",
      "environment: { A: a, B: b }",
      "arguments:",
      "  - name: x",
      "    default: one",
      "steps: [gather-context, cleanup]",
      "cleanup_on_failure: [cleanup]",
    ].join("\n"),
  );
  await writeCommand(
    repo,
    "child-cmd",
    "extends: base-cmd\ndescription: child\nenvironment: { B: bee }\nsteps: [cleanup]\n",
  );
  const child = await loadCommand(project, "child-cmd");
  assert.equal(child.description, "child");
  assert.equal(child.category, "parents");
  assert.equal(child.timeout, 50);
  assert.deepEqual(child.environment, { A: "a", B: "bee" });
  assert.deepEqual(child.steps, [{ uses: "cleanup" }]);
  assert.deepEqual(child.cleanup_on_failure, [{ uses: "cleanup" }]);
  assert.deepEqual(child.arguments.map((a) => a.name), ["x"]);
  assert.deepEqual(child.source.chain, [".prj/commands/child-cmd.yaml", ".prj/commands/base-cmd.yaml"]);
});

Deno.test("extends: a cycle is an error naming the chain; an unknown parent gets a suggestion", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const project = await openProject(repo);
  await writeCommand(repo, "cy-a", "extends: cy-b\nsteps: [cleanup]\n");
  await writeCommand(repo, "cy-b", "extends: cy-a\nsteps: [cleanup]\n");
  await assert.rejects(() => loadCommand(project, "cy-a"), /extends: cycle cy-a -> cy-b -> cy-a/);
  await writeCommand(repo, "base-cmd", "steps: [cleanup]\n");
  await writeCommand(repo, "orphan", "extends: base-cmdd\nsteps: [cleanup]\n");
  await assert.rejects(
    () => loadCommand(project, "orphan"),
    /orphan\.yaml:1:10: extends: unknown command "base-cmdd"; did you mean "base-cmd"\?/,
  );
});

Deno.test("a project command shadows the template of the same name and may extend it", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const project = await openProject(repo);
  await writeCommand(repo, "code-review", "extends: code-review\ndescription: our review\n");
  const def = await loadCommand(project, "code-review");
  assert.equal(def.description, "our review");
  assert.equal(def.source.kind, "project");
  assert.deepEqual(def.source.chain, [".prj/commands/code-review.yaml", "templates/commands/code-review.yaml"]);
  const r = await prj(repo, ["list", "--json"]);
  const list = JSON.parse(r.stdout);
  const entry = list.find((c: { name: string }) => c.name === "code-review");
  assert.equal(entry.source.kind, "project");
  assert.equal(entry.shadows, true);
});

Deno.test("loadCommand() suggests the nearest command for an unknown name", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const project = await openProject(repo);
  await assert.rejects(
    () => loadCommand(project, "feature-brnach"),
    /Unknown command "feature-brnach"; did you mean "feature-branch"\?/,
  );
});
