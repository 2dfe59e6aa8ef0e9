import assert from "node:assert/strict";
import { type GroupSpec, routes } from "../cli.ts";
import { application } from "../cli/app.ts";
import { rootHelp } from "../cli/help.ts";
import { run } from "npm:@stricli/core@1.3.0";
import { prj, tempDir } from "./helpers.ts";

/** What stricli itself prints for `<program> --help` of a table. */
async function stricliHelp(table: GroupSpec): Promise<string> {
  let out = "";
  const proc = {
    stdout: { write: (s: string) => void (out += s) },
    stderr: { write: (s: string) => void (out += `[stderr] ${s}`) },
    env: { STRICLI_SKIP_VERSION_CHECK: "1", STRICLI_NO_COLOR: "1" },
    exitCode: null as number | string | null,
  };
  // deno-lint-ignore no-explicit-any
  await run(application(table), ["--help"], { process: proc } as any);
  assert.equal(Number(proc.exitCode ?? 0), 0, out);
  return out;
}

const loader = () => Promise.resolve(() => {});
const text = { kind: "parsed", parse: String } as const;

Deno.test("the table of commands prj prints itself is what the parser prints for prj's commands", async () => {
  assert.equal(rootHelp(routes, "prj"), await stricliHelp(routes));
});

Deno.test("the table of commands follows the parser for every kind of flag and argument", async () => {
  // Kinds prj's own table does not all use today: each must still print as the parser prints it.
  const table: GroupSpec = {
    kind: "group",
    docs: { brief: "a test program" },
    aliases: { al: "camelCaseName" },
    routes: {
      camelCaseName: {
        kind: "command",
        loader,
        docs: { brief: "camel" },
        parameters: {
          flags: {
            dryRun: { kind: "boolean", brief: "b", optional: true },
            force: { kind: "boolean", brief: "required boolean" },
            withDefault: { kind: "boolean", brief: "d", default: false },
            level: { kind: "enum", values: ["low", "high"], brief: "e" },
            mode: { kind: "enum", values: ["a", "b"], brief: "e", placeholder: "m", optional: true },
            count: { ...text, brief: "p", default: "3" },
            tag: { ...text, brief: "v", variadic: true, optional: true, placeholder: "t" },
            need: { ...text, brief: "v", variadic: true },
            secret: { ...text, brief: "h", hidden: true, optional: true },
            plain: { ...text, brief: "no placeholder" },
          },
          positional: {
            kind: "tuple",
            parameters: [
              { ...text, brief: "1", placeholder: "first" },
              { ...text, brief: "2" },
              { ...text, brief: "3", optional: true },
              { ...text, brief: "4", default: "x", placeholder: "fourth" },
            ],
          },
        },
      },
      many: {
        kind: "command",
        loader,
        docs: { brief: "an array without a placeholder, and a longer brief than the others" },
        parameters: { flags: {}, positional: { kind: "array", parameter: { ...text, brief: "a" } } },
      },
      bare: { kind: "command", loader, docs: { brief: "nothing at all" }, parameters: {} },
      nested: {
        kind: "group",
        docs: { brief: "a group" },
        defaultCommand: "one",
        routes: {
          one: { kind: "command", loader, docs: { brief: "1" }, parameters: {} },
          twoWords: { kind: "command", loader, docs: { brief: "2" }, parameters: {} },
        },
      },
    },
  };
  const expected = await stricliHelp(table);
  assert.equal(rootHelp(table, "prj"), expected);
  // Sanity: the comparison sees the rules (a change of any of them would show).
  assert.match(expected, /prj camel-case-name \[--dry-run\] \(--force\) \[--with-default\] \(--level low\|high\)/);
  assert.match(
    expected,
    /\[--tag t\]\.\.\. \(--need value\)\.\.\. \(--plain value\) <first> <arg2> \[<arg3>\] \[<fourth>\]/,
  );
  assert.match(expected, /prj many <args>\.\.\.\n/);
  assert.match(expected, /prj nested one\|two-words \.\.\./);
});

Deno.test("prj and prj --help print the table of commands; a command's --help is the parser's", async () => {
  await using dirFixture = await tempDir();
  const bare = await prj(dirFixture.path, []);
  const help = await prj(dirFixture.path, ["--help"]);
  const short = await prj(dirFixture.path, ["-h"]);
  for (const r of [bare, help, short]) {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, await stricliHelp(routes));
  }
  const run = await prj(dirFixture.path, ["run", "--help"]);
  assert.equal(run.code, 0, run.stderr);
  assert.ok(run.stdout.startsWith("USAGE\n  prj run <command> [key=value...]"), run.stdout);
  assert.match(run.stdout, /FLAGS\n/);
  // With anything more the parser answers (here it prints the help before judging the rest): the same text.
  const extra = await prj(dirFixture.path, ["--help", "--json"]);
  assert.equal(extra.code, 0, extra.stderr);
  assert.equal(extra.stdout, help.stdout);
});
