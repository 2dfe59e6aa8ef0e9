import assert from "node:assert/strict";
import { mergeDefinitions } from "./extends.ts";

Deno.test("mergeDefinitions() lets the child win and replaces step lists instead of appending", () => {
  const parent = { description: "parent", timeout: 60, steps: ["a", "b"], cleanup_on_failure: ["c"] };
  const merged = mergeDefinitions(parent, { description: "child", steps: ["x"] });
  assert.deepEqual(merged, { description: "child", timeout: 60, steps: ["x"], cleanup_on_failure: ["c"] });
});

Deno.test("mergeDefinitions() merges mappings recursively", () => {
  const merged = mergeDefinitions(
    { environment: { A: "1", B: "2" }, permissions: { read: ["x"], net: false } },
    { environment: { B: "3", C: "4" }, permissions: { net: ["example.com"] } },
  );
  assert.deepEqual(merged, {
    environment: { A: "1", B: "3", C: "4" },
    permissions: { read: ["x"], net: ["example.com"] },
  });
});

Deno.test("mergeDefinitions() merges arguments by name: replaced in place, new ones last", () => {
  const merged = mergeDefinitions(
    { arguments: [{ name: "base", default: "main" }, { name: "depth", default: 1 }] },
    { arguments: [{ name: "extra" }, { name: "base", default: "develop" }] },
  );
  assert.deepEqual(merged.arguments, [{ name: "base", default: "develop" }, { name: "depth", default: 1 }, {
    name: "extra",
  }]);
});

Deno.test("mergeDefinitions() changes neither input", () => {
  const parent = { environment: { A: "1" } };
  const child = { environment: { B: "2" } };
  mergeDefinitions(parent, child);
  assert.deepEqual(parent, { environment: { A: "1" } });
  assert.deepEqual(child, { environment: { B: "2" } });
});
