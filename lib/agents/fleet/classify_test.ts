import assert from "node:assert/strict";
import { agentKind } from "../kinds.ts";
import { classify, type Observation, screenSays } from "./classify.ts";

const claude = agentKind("claude");
const generic = agentKind("generic");
const onScreen = (screen: string, quietMs = 0, exitText?: string): Observation => ({
  headless: false,
  present: true,
  screen,
  exitText,
  quietMs,
});

Deno.test("classify() reads a headless agent from its recorded exit and its runner's process", () => {
  assert.deepEqual(classify({ headless: true, exitCode: 0, runnerAlive: false }, claude, 5000), {
    state: "exited",
    exitCode: 0,
  });
  assert.deepEqual(classify({ headless: true, exitCode: null, runnerAlive: true }, claude, 5000), {
    state: "working",
    exitCode: null,
  });
  assert.deepEqual(classify({ headless: true, exitCode: null, runnerAlive: false }, claude, 5000), {
    state: "gone",
    exitCode: null,
  });
});

Deno.test("classify() says gone when the session or worktree is gone, exited when the launcher wrote a code", () => {
  assert.equal(
    classify({ headless: false, present: false, screen: "", exitText: undefined, quietMs: 0 }, claude, 5000).state,
    "gone",
  );
  assert.deepEqual(classify(onScreen("$ done", 99999, "3"), claude, 5000), { state: "exited", exitCode: 3 });
  assert.equal(classify(onScreen("esc to interrupt", 0, "not a number"), claude, 5000).state, "working");
});

Deno.test("classify() reads Claude Code's screen: a permission question is waiting, esc to interrupt is working", () => {
  const asking = "● Bash(rm -rf build)\n\n Do you want to proceed?\n ❯ 1. Yes\n   2. No\n";
  assert.equal(classify(onScreen(asking, 60_000), claude, 5000).state, "waiting for input");
  const busy = "✻ Thinking… (3s · esc to interrupt)\n";
  assert.equal(classify(onScreen(busy, 60_000), claude, 5000).state, "working");
});

Deno.test("the latest matching line wins: an answered prompt above newer busy lines is working", () => {
  const answered = "Do you want to proceed?\n❯ 1. Yes\n● Bash(ls)\n✻ Working… (esc to interrupt)\n";
  assert.equal(screenSays(answered, claude), "working");
  assert.equal(screenSays("✻ Working… (esc to interrupt)\nAllow this edit? (Allow / Deny)?\n", claude), "waiting");
  assert.equal(screenSays("plain output\n", claude), undefined);
});

Deno.test("classify() reads a quiet screen as working until the idle debounce, then idle", () => {
  assert.equal(classify(onScreen("compiling...", 4999), generic, 5000).state, "working");
  assert.equal(classify(onScreen("compiling...", 5000), generic, 5000).state, "idle");
  assert.equal(classify(onScreen("Overwrite file? [y/N]", 0), generic, 5000).state, "waiting for input");
});
