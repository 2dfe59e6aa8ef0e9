import assert from "node:assert/strict";
import * as path from "node:path";
import { agentKind, headlessFailure, type HookReading, versionAtLeast } from "./kinds.ts";

const REAL = path.resolve(import.meta.dirname!, "..", "..", "tests", "fixtures", "real");
const claude = agentKind("claude");

function sequence(folder: string, name: string): { event: string; payload: Record<string, unknown> }[] {
  return JSON.parse(Deno.readTextFileSync(path.join(REAL, folder, "hooks", `sequence-${name}.json`)));
}

/** The states a sequence of real hook payloads passes through (events that say nothing are left out). */
function states(folder: string, name: string): string[] {
  const kind = agentKind(folder.startsWith("claude") ? "claude" : folder.split("-")[0]!);
  return sequence(folder, name)
    .map((e) => kind.readHook(e.payload))
    .filter((r): r is HookReading => r?.state !== undefined)
    .map((r) => `${r.event}:${r.state}${r.background ? " (background)" : ""}`);
}

function lines(folder: string, file: string): string[] {
  return Deno.readTextFileSync(path.join(REAL, folder, "stream", file)).split("\n");
}

Deno.test("Claude Code's hooks: a permission question waits, the answer works, Stop is idle", () => {
  assert.deepEqual(states("claude-code-2.1.329", "manual"), [
    "SessionStart:idle",
    "UserPromptSubmit:working",
    "PreToolUse:working",
    "PermissionRequest:waiting for input",
    "Notification:waiting for input",
    "PostToolUse:working",
    "Stop:idle",
    "UserPromptSubmit:working",
    "UserPromptSubmit:working",
    "PreToolUse:working",
    "PermissionRequest:waiting for input",
    "SessionEnd:exited",
  ]);
});

Deno.test("Claude Code's hooks: AskUserQuestion waits; the idle reminder is idle, not waiting", () => {
  assert.deepEqual(states("claude-code-2.1.329", "notifications"), [
    "SessionStart:idle",
    "UserPromptSubmit:working",
    "PreToolUse:working",
    "PostToolUse:working",
    "Stop:idle",
    "Notification:idle",
    "UserPromptSubmit:working",
    "PreToolUse:waiting for input",
    "PermissionRequest:waiting for input",
    "Notification:waiting for input",
    "PostToolUse:working",
    "Stop:idle",
    "SessionEnd:exited",
  ]);
});

Deno.test("Claude Code's hooks: /clear starts a new conversation id; /compact keeps it and changes no state", () => {
  const events = sequence("claude-code-2.1.329", "long-bash-and-clear").map((e) => claude.readHook(e.payload)!);
  const clearEnd = events.find((r) => r.event === "SessionEnd" && r.detail === "session end: clear")!;
  const clearStart = events.find((r) => r.event === "SessionStart" && r.detail === "session clear")!;
  assert.equal(clearEnd.state, undefined);
  assert.equal(clearStart.state, "idle");
  assert.notEqual(clearStart.sessionId, clearEnd.sessionId);
  assert.match(clearStart.transcriptPath!, new RegExp(`${clearStart.sessionId}\\.jsonl$`));
  const compact = sequence("claude-code-2.1.329", "api-errors-compact-signals")
    .map((e) => claude.readHook(e.payload)!)
    .find((r) => r.event === "SessionStart" && r.detail === "session compact")!;
  assert.equal(compact.state, undefined);
});

Deno.test("Claude Code's hooks: a turn that stops with a background subagent running is still working", () => {
  assert.deepEqual(states("claude-code-2.1.329", "headless-subagent-background").filter((s) => s.startsWith("Stop")), [
    "Stop:working (background)",
    "Stop:idle",
  ]);
});

Deno.test("Claude Code's hooks: an API error stops the turn with the error (StopFailure, no Stop)", () => {
  const failures = sequence("claude-code-2.1.329", "api-errors-compact-signals")
    .map((e) => claude.readHook(e.payload)!)
    .filter((r) => r.event === "StopFailure");
  assert.deepEqual(failures.map((r) => [r.state, r.detail]), [
    ["idle", "error: authentication_failed"],
    ["idle", "error: server_error"],
    ["idle", "error: server_error"],
  ]);
});

Deno.test("prj installs only hook events the Claude Code version knows", () => {
  // From 2.1.329's own list of valid events (its warning for an unknown one).
  const known = new Set(
    "PreToolUse PostToolUse PostToolUseFailure PostToolBatch Notification UserPromptSubmit UserPromptExpansion SessionStart SessionEnd Stop StopFailure SubagentStart SubagentStop PreCompact PostCompact PreModelSwitch PostModelSwitch PermissionRequest PermissionDenied Setup TeammateIdle TaskCreated TaskCompleted Elicitation ElicitationResult ConfigChange WorktreeCreate WorktreeRemove InstructionsLoaded CwdChanged FileChanged DirectoryAdded MessageDisplay"
      .split(" "),
  );
  const pinned = claude.hookEvents("2.1.329 (Claude Code)");
  assert.ok(pinned.includes("PermissionRequest") && pinned.includes("StopFailure"));
  assert.deepEqual(pinned.filter((e) => !known.has(e)), []);
  const older = claude.hookEvents("2.0.1 (Claude Code)");
  assert.ok(!older.includes("PermissionRequest") && !older.includes("StopFailure"));
  assert.deepEqual(claude.hookEvents(undefined), older);
  assert.ok(versionAtLeast("2.1.330", "2.1.329") && !versionAtLeast("2.1.9", "2.1.329") && !versionAtLeast("x", "1"));
});

Deno.test("Claude Code's launch: hooks through --settings (disableAllHooks off), its own session id, stream-json", () => {
  const argv = claude.argv({
    program: "/bin/claude",
    args: [],
    workdir: [],
    extra: ["--permission-mode", "acceptEdits"],
    model: { flag: "--model", name: "sonnet" },
    headless: true,
    sessionId: "11111111-2222-4333-8444-555555555555",
    resumeId: undefined,
    hookCommand: "record",
    hookEvents: ["SessionStart", "Stop"],
    prompt: "do it",
  });
  const settings = JSON.parse(argv[argv.indexOf("--settings") + 1]!);
  assert.deepEqual(settings, {
    disableAllHooks: false,
    hooks: {
      SessionStart: [{ hooks: [{ type: "command", command: "record" }] }],
      Stop: [{ hooks: [{ type: "command", command: "record" }] }],
    },
  });
  assert.deepEqual(argv.filter((_, i) => i !== argv.indexOf("--settings") + 1), [
    "/bin/claude",
    "--permission-mode",
    "acceptEdits",
    "--model",
    "sonnet",
    "--settings",
    "--session-id",
    "11111111-2222-4333-8444-555555555555",
    "-p",
    "--output-format",
    "stream-json",
    "--verbose",
    "do it",
  ]);
  const resumed = claude.argv({
    program: "claude",
    args: [],
    workdir: [],
    extra: [],
    model: undefined,
    headless: false,
    sessionId: undefined,
    resumeId: "abc",
    hookCommand: undefined,
    hookEvents: [],
    prompt: undefined,
  });
  assert.deepEqual(resumed, ["claude", "--resume", "abc"]);
});

Deno.test("a refused write in a real headless Claude Code run is a failure naming the tool, though it ended success/0", () => {
  const folder = "claude-code-2.1.329";
  const refused = claude.parseHeadless(lines(folder, "write-default.jsonl"))!;
  assert.deepEqual([refused.subtype, refused.is_error], ["success", false]);
  assert.equal(refused.permission_denials.length, 1);
  assert.match(refused.permission_denials[0]!, /^Write: \/tmp\/cc\/headless\/repo\/REAL_CLAUDE\.md$/);
  assert.match(
    headlessFailure(0, refused)!,
    /^agent was refused 1 tool call\(s\): Write: .*REAL_CLAUDE\.md; allow them/,
  );
  const commit = claude.parseHeadless(lines(folder, "bash-commit-acceptedits.jsonl"))!;
  assert.match(headlessFailure(0, commit)!, /Bash: echo .* && git add NOTE\.md && git commit -qm note/);
  const done = claude.parseHeadless(lines(folder, "write-acceptedits.jsonl"))!;
  assert.equal(headlessFailure(0, done), undefined);
  assert.deepEqual([done.cost_usd, done.usage?.input_tokens, done.usage?.output_tokens], [0.00176, 240, 40]);
  assert.match(done.session_id!, /^[0-9a-f-]{36}$/);
});

Deno.test("real headless Claude Code errors fail with the agent's own reason", () => {
  const folder = "claude-code-2.1.329";
  const api = claude.parseHeadless(lines(folder, "api-error-401.jsonl"))!;
  assert.equal(headlessFailure(1, api), "agent reported an error: api_error (API error 401)");
  const budget = claude.parseHeadless(lines(folder, "budget-exceeded.jsonl"))!;
  assert.equal(
    headlessFailure(1, budget),
    "agent reported an error: error_max_budget_usd (Reached maximum budget ($0.0005))",
  );
  const unknown = claude.parseHeadless(lines(folder, "session-4-resume-unknown.jsonl"))!;
  assert.match(headlessFailure(1, unknown)!, /error_during_execution \(No conversation found with session ID: 9999/);
  assert.equal(claude.parseHeadless(lines(folder, "session-3-id-in-use.jsonl")), undefined);
  assert.equal(
    headlessFailure(1, undefined, ["Error: Session ID x is already in use."]),
    "agent exited with code 1: Error: Session ID x is already in use.",
  );
});

Deno.test("a real Claude Code run with a background subagent: the last of its results is final, costs add up", () => {
  const run = claude.parseHeadless(lines("claude-code-2.1.329", "subagent-background.jsonl"))!;
  assert.equal(run.subtype, "success");
  assert.deepEqual([run.cost_usd, run.usage?.input_tokens], [0.0060799999999999995, 820]);
  const resumed = claude.parseHeadless(lines("claude-code-2.1.329", "session-2-resume.jsonl"))!;
  assert.ok(resumed.total_cost_usd! > resumed.cost_usd!, "the session's cost includes the earlier run");
});

function payloads(folder: string, file: string): Record<string, unknown>[] {
  const text = Deno.readTextFileSync(path.join(REAL, folder, "hooks", file));
  return file.endsWith(".json") ? [JSON.parse(text)] : text.split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

function readings(name: string, folder: string, file: string): string[] {
  const kind = agentKind(name);
  return payloads(folder, file).map((p) => kind.readHook(p)).filter((r): r is HookReading => r?.state !== undefined)
    .map((r) => `${r.event}:${r.state}`);
}

Deno.test("Codex's hooks: an approval and a question wait, Stop and Interrupt are idle", () => {
  assert.deepEqual(readings("codex", "codex-0.169.0", "tui-hooks-all.jsonl").slice(0, 12), [
    "SessionStart:idle",
    "UserPromptSubmit:working",
    "PreToolUse:working",
    "PostToolUse:working",
    "Stop:idle",
    "UserPromptSubmit:working",
    "PreToolUse:working",
    "PermissionRequest:waiting for input",
    "UserPromptSubmit:working",
    "PreToolUse:waiting for input",
    "PostToolUse:working",
    "Stop:idle",
  ]);
  assert.deepEqual(readings("codex", "codex-0.169.0", "tui-interrupt-and-api-error.jsonl"), [
    "UserPromptSubmit:working",
    "PermissionRequest:waiting for input",
    "Interrupt:idle",
    "UserPromptSubmit:working",
    "Interrupt:idle",
    "UserPromptSubmit:working",
    "SessionEnd:exited",
  ]);
});

Deno.test("Codex's hooks tell a command its sandbox refused (exec --json does not)", () => {
  const codex = agentKind("codex");
  const [refused] = payloads("codex-0.169.0", "exec-PostToolUse-Bash-refused.json");
  assert.equal(codex.readHook(refused!)!.refused, "Bash: echo refused > REFUSED.md (Read-only file system)");
  const [fine] = payloads("codex-0.169.0", "exec-PostToolUse-Bash.json");
  assert.equal(codex.readHook(fine!)!.refused, null);
  // A commit refused in the main checkout: the refusal says where Codex can commit.
  const commit = {
    ...refused!,
    tool_input: { command: "git add -A && git commit -qm x" },
    tool_response: "fatal: Unable to create '/r/repo/.git/index.lock': Read-only file system\n",
  };
  assert.equal(
    codex.readHook(commit)!.refused,
    "Bash: git add -A && git commit -qm x (Read-only file system; Codex's sandbox keeps .git read-only: prj makes only a linked worktree's git folders writable for a headless run, so run it in a worktree)",
  );
});

Deno.test("Codex's exec --json: thread id, usage, the final message; a failed turn is an error", () => {
  const codex = agentKind("codex");
  const ok = codex.parseHeadless(lines("codex-0.169.0", "exec-workspace-write-success.jsonl"))!;
  assert.deepEqual([ok.subtype, ok.is_error, ok.num_turns], ["success", false, 1]);
  assert.match(ok.session_id!, /^[0-9a-f-]{36}$/);
  assert.deepEqual([ok.usage?.input_tokens, ok.usage?.output_tokens], [200, 40]);
  assert.match(ok.text!, /^Done: /);
  assert.equal(headlessFailure(0, ok), undefined);
  const second = codex.parseHeadless(lines("codex-0.169.0", "exec-resume-second.jsonl"))!;
  const first = codex.parseHeadless(lines("codex-0.169.0", "exec-resume-first.jsonl"))!;
  assert.equal(second.session_id, first.session_id, "resume keeps the thread");
  const failed = codex.parseHeadless(lines("codex-0.169.0", "exec-api-error-401.jsonl"))!;
  assert.match(headlessFailure(1, failed)!, /^agent reported an error: failed \(unexpected status 401 Unauthorized/);
  assert.ok(headlessFailure(0, undefined, [], ["Bash: git commit (Read-only file system)"])!.includes("git commit"));
});

Deno.test("Gemini CLI's hooks: a permission dialog and ask_user wait, AfterAgent is idle", () => {
  assert.deepEqual(readings("gemini", "gemini-cli-0.61.0", "tui-hooks-all.jsonl").slice(0, 14), [
    "SessionStart:idle",
    "BeforeAgent:working",
    "BeforeTool:working",
    "Notification:waiting for input",
    "AfterTool:working",
    "AfterAgent:idle",
    "BeforeAgent:working",
    "BeforeTool:working",
    "Notification:waiting for input",
    "BeforeAgent:working",
    "BeforeTool:waiting for input",
    "Notification:waiting for input",
    "AfterTool:working",
    "AfterAgent:idle",
  ]);
});

Deno.test("Gemini CLI's stream-json: a tool it did not offer (a refusal) fails the run though it ended success", () => {
  const gemini = agentKind("gemini");
  const ok = gemini.parseHeadless(lines("gemini-cli-0.61.0", "stream-json-auto-edit-write-file.jsonl"))!;
  assert.deepEqual([ok.subtype, ok.is_error, ok.usage?.input_tokens, ok.usage?.output_tokens], [
    "success",
    false,
    360,
    60,
  ]);
  assert.match(ok.session_id!, /^[0-9a-f-]{36}$/);
  assert.equal(headlessFailure(0, ok), undefined);
  const shell = gemini.parseHeadless(lines("gemini-cli-0.61.0", "stream-json-auto-edit-shell-not-registered.jsonl"))!;
  assert.equal(shell.subtype, "success");
  assert.match(
    headlessFailure(0, shell)!,
    /^agent was refused 1 tool call\(s\): run_shell_command: echo sh > SH\.md \(Tool "run_shell_command" not found/,
  );
  const outside = gemini.parseHeadless(lines("gemini-cli-0.61.0", "stream-json-yolo-write-outside-workspace.jsonl"))!;
  assert.match(outside.permission_denials[0]!, /^write_file: .*OUTSIDE\.md \(Path not in workspace/);
  const exit3 = gemini.parseHeadless(lines("gemini-cli-0.61.0", "stream-json-yolo-shell-exit-3.jsonl"))!;
  assert.equal(headlessFailure(0, exit3), undefined, "a command that fails is the agent's business");
  const api = gemini.parseHeadless(lines("gemini-cli-0.61.0", "stream-json-api-error-401.jsonl"))!;
  assert.match(headlessFailure(145, api)!, /^agent reported an error: unknown \(\[API Error: .*UNAUTHENTICATED/);
});

Deno.test("Codex and Gemini CLI launches: subcommands, hooks, session ids and resume in their places", () => {
  const spec = {
    program: "/x/codex",
    args: [],
    workdir: [] as string[],
    extra: ["-s", "workspace-write"],
    model: undefined,
    headless: true,
    sessionId: undefined,
    resumeId: undefined,
    hookCommand: "record",
    hookEvents: ["Stop"],
    prompt: "do it",
  };
  assert.deepEqual(agentKind("codex").argv(spec), [
    "/x/codex",
    "exec",
    "--json",
    "--dangerously-bypass-hook-trust",
    "-c",
    'hooks.Stop=[{hooks=[{type="command",command="record"}]}]',
    "-s",
    "workspace-write",
    "do it",
  ]);
  assert.deepEqual(
    agentKind("codex").argv({ ...spec, headless: false, hookEvents: [], resumeId: "t1", prompt: undefined }),
    [
      "/x/codex",
      "--no-daemon",
      "-s",
      "workspace-write",
      "resume",
      "t1",
    ],
  );
  assert.deepEqual(agentKind("gemini").argv({ ...spec, program: "/x/gemini", extra: [], sessionId: "s1" }), [
    "/x/gemini",
    "--skip-trust",
    "--output-format",
    "stream-json",
    "--session-id",
    "s1",
    "-p",
    "do it",
  ]);
  assert.deepEqual(
    agentKind("gemini").argv({ ...spec, program: "/x/gemini", extra: [], headless: false, resumeId: "s1" }),
    [
      "/x/gemini",
      "--resume",
      "s1",
      "-i",
      "do it",
    ],
  );
});

Deno.test("a headless Codex in a linked worktree may write the git folders a commit writes, never the repository's config or hooks", () => {
  const root = Deno.makeTempDirSync();
  try {
    const common = `${root}/repo/.git`;
    for (const d of ["objects", "refs", "logs", "hooks", "worktrees/wt"]) {
      Deno.mkdirSync(`${common}/${d}`, { recursive: true });
    }
    const codex = agentKind("codex");
    const identity = { name: undefined, email: undefined };
    const w = { checkout: `${root}/wt`, gitDir: `${common}/worktrees/wt`, commonDir: common, identity };
    const args = codex.workdirArgs!(w, true);
    assert.deepEqual(args, [
      "-c",
      `sandbox_workspace_write.writable_roots=[${
        [`${common}/worktrees/wt`, `${common}/objects`, `${common}/refs`, `${common}/logs`].map((p) =>
          JSON.stringify(p)
        )
          .join(",")
      }]`,
    ]);
    assert.deepEqual(codex.workdirArgs!(w, false), [], "interactive launches ask the user instead");
    assert.deepEqual(codex.workdirArgs!({ ...w, checkout: `${root}/repo`, gitDir: common }, true), [], "main checkout");
    // Before the configured arguments, so a `-c sandbox_workspace_write.writable_roots=[]` there wins.
    const argv = codex.argv({
      program: "codex",
      args: [],
      workdir: args,
      extra: ["-s", "workspace-write"],
      model: undefined,
      headless: true,
      sessionId: undefined,
      resumeId: undefined,
      hookCommand: undefined,
      hookEvents: [],
      prompt: "p",
    });
    assert.deepEqual(argv, ["codex", "exec", "--json", ...args, "-s", "workspace-write", "p"]);
    // The default sandbox in a form `exec resume` takes too (it refuses -s).
    const resumed = codex.argv({
      program: "codex",
      args: [],
      workdir: args,
      extra: [...codex.defaultHeadlessArgs],
      model: undefined,
      headless: true,
      sessionId: undefined,
      resumeId: "t1",
      hookCommand: undefined,
      hookEvents: [],
      prompt: "p",
    });
    assert.deepEqual(resumed, [
      "codex",
      "exec",
      "resume",
      "--json",
      ...args,
      "-c",
      'sandbox_mode="workspace-write"',
      "t1",
      "p",
    ]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("Gemini CLI gets the git identity its shell's blanked config loses; a command its policy refused fails the run", () => {
  const gemini = agentKind("gemini");
  const w = {
    checkout: "/r",
    gitDir: "/r/.git",
    commonDir: "/r/.git",
    identity: { name: "Ann Lee", email: "ann@example.com" },
  };
  const env = gemini.workdirEnv!(w);
  for (const who of ["AUTHOR", "COMMITTER"]) {
    if (Deno.env.get(`GIT_${who}_NAME`) === undefined) assert.equal(env[`GIT_${who}_NAME`], "Ann Lee");
    if (Deno.env.get(`GIT_${who}_EMAIL`) === undefined) assert.equal(env[`GIT_${who}_EMAIL`], "ann@example.com");
  }
  assert.deepEqual(gemini.workdirEnv!({ ...w, identity: { name: undefined, email: undefined } }), {});
  const denied = gemini.parseHeadless([
    '{"type":"init","session_id":"s1","model":"auto"}',
    '{"type":"tool_use","tool_name":"run_shell_command","tool_id":"t1","parameters":{"command":"git add -A && rm -rf x"}}',
    '{"type":"tool_result","tool_id":"t1","status":"error","output":"Tool execution denied by policy.","error":{"type":"policy_violation","message":"Tool execution denied by policy."}}',
    '{"type":"result","status":"success","stats":{}}',
  ])!;
  assert.deepEqual(denied.permission_denials, [
    "run_shell_command: git add -A && rm -rf x (Tool execution denied by policy.)",
  ]);
});
