/**
 * prj driving the real Gemini CLI (pinned in tests/support/agent_clis.ts and the README) against a local stand-in of
 * the Gemini API: hooks through a Gemini home of the launch's own, its stream-json result, refusals, dialogs, resume.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { agentLab } from "./support/agent_lab.ts";
import { exists, git, prj, query, waitFor } from "./helpers.ts";

Deno.test("a real Gemini CLI headless run keeps prj's session id, usage and hooks; by default it commits in its worktree, and what it was not allowed fails the run", async () => {
  await using lab = await agentLab("gemini");
  const done = await lab.run("feature-branch", "feature_name=done", "headless=true");
  assert.equal(done.code, 0, done.json.steps.at(-1)?.error ?? done.stderr);
  assert.ok(await Deno.stat(path.join(lab.worktrees, "done", "GEMINI_WORK.md")));
  const [row] = await lab.fleet();
  assert.equal(row!.stateLabel, "exited (0)");
  assert.equal(row!.agentSessionId, done.json.shared.agent?.sessionId, "the id prj gave it");
  assert.deepEqual([row!.result?.session_id, row!.result?.usage?.output_tokens], [row!.agentSessionId, 60]);
  const hooks = await query<{ event: string }>(
    lab.repo,
    "SELECT event FROM agent_hook_events WHERE launch_id = ?",
    row!.id,
  );
  assert.deepEqual(hooks.map((h) => h.event).filter((e) => e !== "SessionEnd"), [
    "SessionStart",
    "BeforeAgent",
    "BeforeTool",
    "AfterTool",
    "AfterAgent",
  ]);
  // The user's settings file is left as it was; prj's hooks lived in the launch's own Gemini home.
  assert.equal(
    await Deno.readTextFile(path.join(lab.env.GEMINI_CLI_HOME!, ".gemini", "settings.json")),
    JSON.stringify({ security: { auth: { selectedType: "gemini-api-key" } } }),
  );
  // The default (auto_edit, and the shell for git add/commit/status/diff) commits, as the user's git config says
  // (its shell reads no global git config: prj passes the identity).
  await lab.api.control({
    tool: "run_shell_command",
    command: "git add -A && git commit --allow-empty -qm 'agent commit'",
  });
  const commits = await lab.run("feature-branch", "feature_name=commits", "headless=true");
  assert.equal(commits.code, 0, commits.json.steps.at(-1)?.error ?? commits.stderr);
  const committed = path.join(lab.worktrees, "commits");
  assert.equal(
    (await git(committed, "log", "-1", "--format=%s|%an|%ae")).trim(),
    "agent commit|Lab User|lab@example.com",
  );
  assert.equal((await git(committed, "status", "--porcelain")).trim(), "", "everything committed");
  // Any other command is refused (a compound command needs every part allowed), and so is a write outside.
  await lab.api.control({ tool: "run_shell_command", command: `git add -A && echo x > ${lab.repo}/OUTSIDE.md` });
  const shell = await lab.run("feature-branch", "feature_name=shell", "headless=true");
  assert.equal(shell.code, 1);
  assert.match(
    shell.json.steps.at(-1)?.error ?? "",
    /^agent was refused 1 tool call\(s\): run_shell_command: git add -A && echo x > .*OUTSIDE\.md \(Tool execution denied by policy\.\)/,
  );
  await lab.api.control({ tool: "write_file", file: "../../repo/OUTSIDE.md" });
  const write = await lab.run("feature-branch", "feature_name=write", "headless=true");
  assert.equal(write.code, 1);
  assert.match(
    write.json.steps.at(-1)?.error ?? "",
    /^agent was refused 1 tool call\(s\): write_file: .*OUTSIDE\.md \(Path not in workspace/,
  );
  assert.equal(exists(path.join(lab.repo, "OUTSIDE.md")), false);
});

Deno.test("a real Gemini CLI edit approval reads waiting for input (its hook) on one call and notifies once; allowed, it works then idles", async () => {
  await using lab = await agentLab("gemini", { control: { final_delay_ms: 3000 } });
  const run = await lab.run("feature-branch", "feature_name=ask");
  assert.equal(run.code, 0, run.json.steps.at(-1)?.error ?? run.stderr);
  const appeared = await lab.shown("repo-ask", "Apply this change?", 30000);
  const [row] = await lab.fleet();
  assert.ok(Date.now() - appeared < 2000, `read in ${Date.now() - appeared} ms`);
  assert.deepEqual([row!.state, row!.stateSource, row!.detail], ["waiting for input", "hook", "permission: edit"]);
  assert.match(row!.agentSessionId!, /^[0-9a-f-]{36}$/, "from its SessionStart hook");
  await lab.fleet();
  assert.deepEqual(await lab.notified(), ["waiting for input"]);
  await new Promise((resolve) => setTimeout(resolve, 500)); // a key sent the instant a dialog shows can be lost
  await lab.keys("repo-ask", "1");
  await waitFor(
    async () => (await lab.fleet())[0]!.state === "working",
    10000,
    "working while the answer is held back",
  );
  await waitFor(async () => (await lab.fleet())[0]!.state === "idle", 20000, "idle after the turn");
  assert.equal((await lab.fleet())[0]!.stateSource, "hook");
});

Deno.test("resume brings back a real Gemini CLI conversation: the stand-in receives the earlier turns", async () => {
  await using lab = await agentLab("gemini");
  const first = await lab.run("feature-branch", "feature_name=again", "headless=true");
  assert.equal(first.code, 0, first.json.steps.at(-1)?.error ?? first.stderr);
  const id = first.json.shared.agent?.sessionId;
  await lab.api.control({ tool: "none" });
  const r = await prj(lab.repo, ["agent", "resume", "again"], { env: lab.env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split("\n")[0], `resumed conversation ${id} in session repo-again`);
  // Gemini CLI takes input while it starts, and a message sent before it has loaded the resumed conversation goes to
  // the fresh chat it starts with (queued until its client is up, then sent while the resume is still loading). So
  // type once the earlier answer is on screen (the resume puts it there) and "Resuming session..." is gone. Node
  // start-up of a resumed CLI is slow on a loaded machine.
  await lab.shown(
    "repo-again",
    /^(?![\s\S]*Resuming session)[\s\S]*Done: the work is finished[\s\S]*Type your message/,
    90000,
  );
  await lab.type("repo-again", "now say what you did");
  type Summary = { tools: string[]; contents: { role: string; text: string }[] };
  const requests = async () =>
    (await lab.api.log()).map((e) => e.summary as Summary | undefined).filter((s) => s !== undefined);
  const typed = (s: Summary) => s.contents.some((c) => c.role === "user" && c.text.includes("now say what you did"));
  // The turn's main request is the first after the message was sent that offers tools: the routing classifier's
  // request, sent before it, carries only the session context and the message, never the earlier turns. (In a fresh
  // conversation the main request's one user turn holds the context, then the message, past the summary's 300
  // characters: it is found by its place, not its text.)
  const asked = async () => {
    const all = await requests();
    const sent = all.findIndex(typed);
    return sent < 0 ? undefined : all.slice(sent).find((s) => s.tools.length > 0);
  };
  // A resumed Gemini CLI draws its input box before it takes Enter: an Enter it dropped is pressed again (any
  // request with the message says it was taken).
  for (let i = 0; i < 5 && !(await requests()).some(typed); i++) {
    await waitFor(async () => (await requests()).some(typed), 3000, "the resumed turn's first request").catch(() =>
      lab.keys("repo-again", "Enter")
    );
  }
  await waitFor(async () => (await asked()) !== undefined, 30000, "the resumed turn's main request");
  const contents = (await asked())!.contents;
  assert.ok(
    contents.some((c) => c.role === "model" && c.text.includes("Done: the work is finished")),
    `the earlier answer, in: ${JSON.stringify(contents)}`,
  );
  const rows = await lab.fleet();
  assert.deepEqual(rows.map((x) => [x.worktree, x.headless, x.agentSessionId]), [["again", false, id]]);
});
