import assert from "node:assert/strict";
import type { CommandDefinition } from "./schema.ts";
import { parseArguments } from "./arguments.ts";
import { UsageError } from "../util/errors.ts";

function command(args: CommandDefinition["arguments"]): CommandDefinition {
  return {
    name: "demo",
    description: "",
    category: "general",
    arguments: args,
    environment: {},
    pre_steps: [],
    steps: [{ uses: "gather-context" }],
    post_steps: [],
    cleanup_on_failure: [],
    source: { kind: "project", file: ".prj/commands/demo.yaml", chain: [".prj/commands/demo.yaml"] },
  };
}

const demo = command([
  { name: "name", type: "string", required: true },
  { name: "count", type: "number", required: false, default: 1 },
  { name: "loud", type: "boolean", required: false },
  { name: "tone", type: "string", required: false, choices: ["warm", "cold"] },
  { name: "file", type: "path", required: false },
]);

Deno.test("parseArguments() types values and fills defaults", () => {
  assert.deepEqual(parseArguments(demo, ["name=ann", "loud=yes", "file=a/b.txt"], "/work"), {
    name: "ann",
    count: 1,
    loud: true,
    file: "/work/a/b.txt",
  });
  assert.deepEqual(parseArguments(demo, ["name=a=b", "count=2.5", "loud=off"], "/"), {
    name: "a=b",
    count: 2.5,
    loud: false,
  });
});

Deno.test("parseArguments() names what is wrong: the pair, the key, the value, the missing ones", () => {
  const fails = (pairs: string[], pattern: RegExp) =>
    assert.throws(() => parseArguments(demo, pairs, "/"), (e) => e instanceof UsageError && pattern.test(e.message));
  fails(["name"], /Expected key=value, found "name"/);
  fails(["name=a", "nmae=b"], /Unknown argument "nmae" for "demo"/);
  fails(["name=a", "name=b"], /Argument "name" is given twice/);
  fails(["name=a", "count=many"], /argument "count" of "demo": expected a number, found "many"/);
  fails(["name=a", "loud=maybe"], /expected true or false, found "maybe"/);
  fails(["name=a", "tone=wram"], /"wram" is not one of "warm", "cold"; did you mean "warm"\?/);
  fails([], /Missing required argument for "demo": name/);
});
