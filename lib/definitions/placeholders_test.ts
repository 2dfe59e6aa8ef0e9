import assert from "node:assert/strict";
import { PrjError } from "../util/errors.ts";
import {
  checkPlaceholder,
  mapStrings,
  placeholdersIn,
  type PlaceholderValues,
  render,
  replacePlaceholders,
  tryRender,
} from "./placeholders.ts";

const values: PlaceholderValues = {
  args: { name: "login", count: 3 },
  env: { TOKEN: "t0k" },
  shared: { context: { files: 2 } },
  plain: { "run.id": "r1", project: "/repo", worktree: undefined },
};

Deno.test("placeholdersIn() finds every expression, with or without spaces", () => {
  assert.deepEqual(placeholdersIn("{{ args.a }}-{{args.b}} {{  worktree  }}"), ["args.a", "args.b", "worktree"]);
  assert.deepEqual(placeholdersIn("no placeholders { here }"), []);
});

Deno.test("checkPlaceholder() accepts declared arguments and known names, suggests the nearest otherwise", () => {
  assert.equal(checkPlaceholder("args.base", ["base"]), undefined);
  assert.equal(checkPlaceholder("shared.anything", []), undefined);
  assert.equal(checkPlaceholder("run.id", []), undefined);
  assert.equal(
    checkPlaceholder("args.bse", ["base"]),
    'unknown placeholder "{{ args.bse }}": the command declares no argument "bse"; did you mean "{{ args.base }}"?',
  );
  assert.equal(checkPlaceholder("worktre", []), 'unknown placeholder "{{ worktre }}"; did you mean "worktree"?');
});

Deno.test("render() inserts strings as they are and other values as JSON", () => {
  assert.equal(render("{{ args.name }} x{{ args.count }} {{ env.TOKEN }} {{ run.id }}", values), "login x3 t0k r1");
  assert.equal(render("{{ shared.context }}", values), '{"files":2}');
});

Deno.test("render() refuses unknown placeholders and ones without a value yet, saying which", () => {
  assert.throws(
    () => render("{{ nope }}", values),
    (e) => e instanceof PrjError && /Unknown placeholder/.test(e.message),
  );
  assert.throws(
    () => render("{{ worktree }}", values),
    /Placeholder "\{\{ worktree \}\}" has no value at this point of the run: no step has created one yet/,
  );
  assert.equal(tryRender("cd {{ worktree }}", values), "cd {{ worktree }}");
});

Deno.test("replacePlaceholders() makes one pass: inserted text is never read as a placeholder", () => {
  assert.equal(replacePlaceholders("{{ a }} and {{ b }}", (e) => (e === "a" ? "{{ b }}" : "B")), "{{ b }} and B");
});

Deno.test("mapStrings() reaches every string in lists and mappings, and nothing else", () => {
  assert.deepEqual(mapStrings({ a: "x", b: ["y", 1, { c: "z" }], d: true }, (s) => s.toUpperCase()), {
    a: "X",
    b: ["Y", 1, { c: "Z" }],
    d: true,
  });
});
