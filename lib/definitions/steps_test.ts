import assert from "node:assert/strict";
import { normalizeStep, stepName, userStepPath } from "./steps.ts";

const prj = "/repo/.prj";

Deno.test("normalizeStep() tells the three kinds apart by what the step names", () => {
  assert.deepEqual(normalizeStep(prj, { uses: "gather-context" }), {
    kind: "builtin",
    builtin: "gather-context",
    name: "gather-context",
    with: {},
    env: {},
    timeout: undefined,
    continueOnError: false,
    workingDirectory: undefined,
    if: undefined,
  });
  const module = normalizeStep(prj, { uses: "summarize", permissions: { net: ["api.example.com"] }, timeout: 9 });
  assert.equal(module.kind, "module");
  assert.equal(module.kind === "module" && module.file, "/repo/.prj/steps/summarize.ts");
  assert.deepEqual(module.kind === "module" && module.permissions, { net: ["api.example.com"] });
  assert.equal(module.timeout, 9);
  const argv = normalizeStep(prj, { run: ["deno", "lint"], continue_on_error: true });
  assert.deepEqual(argv.kind === "program" && argv.command, { argv: ["deno", "lint"] });
  assert.equal(argv.continueOnError, true);
  const shell = normalizeStep(prj, { name: "s", run: "echo hi | wc -c", shell: true });
  assert.deepEqual(shell.kind === "program" && shell.command, { shell: "echo hi | wc -c" });
});

Deno.test("stepName() derives a name from uses or run when the step has none", () => {
  assert.equal(stepName({ name: "mine", uses: "x" }), "mine");
  assert.equal(stepName({ uses: "lib/check.ts" }), "check");
  assert.equal(stepName({ run: ["/usr/bin/env", "x"] }), "env");
  assert.equal(stepName({ run: "make test", shell: true }), "make");
});

Deno.test("userStepPath() finds bare names in .prj/steps and paths under .prj", () => {
  assert.equal(userStepPath(prj, "summarize"), "/repo/.prj/steps/summarize.ts");
  assert.equal(userStepPath(prj, "tools/a.ts"), "/repo/.prj/tools/a.ts");
  assert.equal(userStepPath(prj, "b.js"), "/repo/.prj/b.js");
});
