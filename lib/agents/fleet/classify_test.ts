import assert from "node:assert/strict";
import * as path from "node:path";
import { agentKind } from "../kinds.ts";
import { classify, HOOK_GRACE_MS, type Observation, OPENING_GRACE_MS, paneSays } from "./classify.ts";

const SCREENS = path.resolve(import.meta.dirname!, "..", "..", "..", "tests", "fixtures", "screens");

/** The real captures of a pinned CLI: each file's name starts with the state a person gives it. */
function captures(folder: string): { name: string; state: string; screen: string }[] {
  return [...Deno.readDirSync(path.join(SCREENS, folder))]
    .filter((e) => e.name.endsWith(".txt"))
    .map((e) => ({
      name: e.name,
      state: e.name.split("-")[0]!,
      screen: Deno.readTextFileSync(path.join(SCREENS, folder, e.name)),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

const WANT: Record<string, string> = {
  working: "working",
  waiting: "waiting for input",
  idle: "idle",
  exited: "exited",
};
const T = Date.parse("2026-11-21T10:00:00Z");

function onScreen(screen: string, more: Partial<Extract<Observation, { headless: false }>> = {}): Observation {
  return {
    headless: false,
    present: true,
    process: "running",
    exitCode: null,
    screen,
    quietMs: 0,
    hook: undefined,
    now: T,
    ...more,
  };
}

const KINDS = [
  { kind: "claude", folder: "claude-code-2.1.329" },
  { kind: "codex", folder: "codex-0.169.0" },
  { kind: "gemini", folder: "gemini-cli-0.61.0" },
];

for (const { kind: name, folder } of KINDS) {
  const kind = agentKind(name);
  Deno.test(`the pane rules read every real ${folder} screen as the state in its name`, () => {
    const all = captures(folder);
    assert.ok(all.length >= 14, `${all.length} captures`);
    const wrong: string[] = [];
    for (const c of all) {
      // An exited agent is told by its process (the stale frame of its UI stays on screen), never by text.
      const seen = c.state === "exited" ? onScreen(c.screen, { process: "ended" }) : onScreen(c.screen);
      const read = classify(seen, kind.pane, 5000);
      if (read.state !== WANT[c.state]) wrong.push(`${c.name}: ${read.state}`);
      if (c.state !== "exited" && read.source !== "pane") wrong.push(`${c.name}: source ${read.source}`);
    }
    assert.deepEqual(wrong, []);
  });

  Deno.test(`every real ${folder} dialog reads as waiting, and no idle screen as working`, () => {
    for (const c of captures(folder).filter((c) => c.state !== "exited")) {
      const says = paneSays(c.screen, kind.pane);
      assert.equal(says ?? "idle", c.state === "waiting" ? "waiting" : c.state, c.name);
    }
  });

  Deno.test(`an idle ${folder} screen reads idle on one look, however old the last working hook`, () => {
    const stale = { state: "working" as const, at: T - 22 * 60_000, background: false, detail: "Bash" };
    for (const c of captures(folder).filter((c) => c.state === "idle")) {
      const read = classify(onScreen(c.screen, { hook: stale, quietMs: 22 * 60_000 }), kind.pane, 5000);
      assert.deepEqual([c.name, read.state, read.source], [c.name, "idle", "pane"]);
    }
  });
}

const claude = agentKind("claude").pane;
const screen = (name: string) => Deno.readTextFileSync(path.join(SCREENS, "claude-code-2.1.329", `${name}.txt`));

Deno.test("a hook's waiting is believed while the screen catches up, then an Esc or a No (no hook) reads idle", () => {
  const asked = { state: "waiting for input" as const, at: T - 500, background: false, detail: "permission: Bash" };
  const idleScreen = screen("idle-after-permission-no");
  assert.deepEqual(classify(onScreen(idleScreen, { hook: asked }), claude, 5000), {
    state: "waiting for input",
    source: "hook",
    exitCode: null,
    at: T - 500,
  });
  const later = classify(onScreen(idleScreen, { hook: asked, now: T - 500 + HOOK_GRACE_MS }), claude, 5000);
  assert.deepEqual([later.state, later.source], ["idle", "pane"]);
  // The dialog on screen with the hook's word: waiting, read from the hook (with the hook's time).
  const dialog = classify(onScreen(screen("waiting-permission-bash"), { hook: asked }), claude, 5000);
  assert.deepEqual([dialog.state, dialog.source, dialog.at], ["waiting for input", "hook", T - 500]);
  // Answered: the screen shows work before the next hook arrives.
  const answered = classify(onScreen(screen("working-after-permission-yes"), { hook: asked }), claude, 5000);
  assert.deepEqual([answered.state, answered.source], ["working", "pane"]);
});

Deno.test("an opening agent reads working on its idle startup screen until its hooks report; a dialog still waits", () => {
  const startup = screen("idle-startup-manual-mode");
  const working = { state: "working", source: "process", exitCode: null };
  // Launched a moment ago, no hook yet.
  assert.deepEqual(classify(onScreen(startup, { opening: T - 1000 }), claude, 5000), working);
  // Given a prompt: its session-start hook said idle; the prompt is not submitted yet.
  const started = { state: "idle" as const, at: T - 200, background: false, detail: "session startup" };
  assert.deepEqual(classify(onScreen(startup, { hook: started, opening: T - 200 }), claude, 5000), working);
  // Without a prompt it waits for one: idle, from the hook.
  assert.deepEqual(classify(onScreen(startup, { hook: started }), claude, 5000).state, "idle");
  // Hooks that never report: the screen rules after the grace.
  const late = classify(onScreen(startup, { opening: T - OPENING_GRACE_MS }), claude, 5000);
  assert.deepEqual([late.state, late.source], ["idle", "pane"]);
  const trust = classify(onScreen(screen("waiting-trust-folder"), { opening: T - 1000 }), claude, 5000);
  assert.deepEqual([trust.state, trust.source], ["waiting for input", "pane"]);
});

Deno.test("dialogs before the session (trust, API key) have no hook: the screen says waiting", () => {
  for (const name of ["waiting-trust-folder", "waiting-api-key", "waiting-settings-warning-unknown-hook-event"]) {
    const read = classify(onScreen(screen(name)), claude, 5000);
    assert.deepEqual([read.state, read.source], ["waiting for input", "pane"], name);
  }
});

Deno.test("a turn that ended with a background task running stays working on an idle screen", () => {
  const background = { state: "working" as const, at: T - 60_000, background: true, detail: "background task running" };
  const read = classify(onScreen(screen("idle-after-answer"), { hook: background }), claude, 5000);
  assert.deepEqual([read.state, read.source], ["working", "hook"]);
  const stopped = { state: "idle" as const, at: T - 60_000, background: false, detail: "turn ended" };
  const idle = classify(onScreen(screen("idle-after-answer"), { hook: stopped }), claude, 5000);
  assert.deepEqual([idle.state, idle.source, idle.at], ["idle", "hook", T - 60_000]);
});

Deno.test("exited is read from the process and the exit code, never from the screen", () => {
  // The last frame of the UI (with its busy footer) stays on screen after a kill.
  const frame = screen("working-spinner");
  assert.deepEqual(classify(onScreen(frame, { process: "ended", exitCode: 137 }), claude, 5000), {
    state: "exited",
    source: "process",
    exitCode: 137,
  });
  assert.equal(classify(onScreen(frame, { exitCode: 0 }), claude, 5000).state, "exited");
  const ended = { state: "exited" as const, at: T, background: false, detail: "session end" };
  assert.equal(classify(onScreen(frame, { hook: ended }), claude, 5000).state, "working", "its process still runs");
  assert.deepEqual(classify(onScreen(frame, { process: "starting" }), claude, 5000).state, "working");
  assert.equal(classify(onScreen(frame, { present: false }), claude, 5000).state, "gone");
});

Deno.test("a headless agent is read from its process and its recorded exit", () => {
  assert.deepEqual(classify({ headless: true, exitCode: 0, alive: false }, claude, 5000), {
    state: "exited",
    source: "process",
    exitCode: 0,
  });
  assert.equal(classify({ headless: true, exitCode: null, alive: true }, claude, 5000).state, "working");
  assert.equal(classify({ headless: true, exitCode: null, alive: false }, claude, 5000).state, "gone");
});

Deno.test("a program without a busy marker reads working until its pane has been quiet for idle_after", () => {
  const generic = agentKind("generic").pane;
  assert.equal(classify(onScreen("compiling...", { quietMs: 4999 }), generic, 5000).state, "working");
  assert.equal(classify(onScreen("compiling...", { quietMs: 5000 }), generic, 5000).state, "idle");
  assert.equal(classify(onScreen("Overwrite file? [y/N]"), generic, 5000).state, "waiting for input");
});
