/**
 * prj driving the real Codex CLI (pinned in tests/support/agent_clis.ts and the README) against a local stand-in of
 * the OpenAI Responses API: its hooks, its `exec --json` result, its sandbox's refusals, its dialogs and resume.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { agentLab } from "./support/agent_lab.ts";
import { exists, git, prj, query, waitFor } from "./helpers.ts";

Deno.test("a real Codex headless run records its thread, usage and hooks; by default it commits in its worktree, and a write outside is refused", async () => {
  // Outside /tmp: Codex's workspace-write lets an agent write anywhere under /tmp.
  await using lab = await agentLab("codex", { outsideTmp: true });
  const done = await lab.run("feature-branch", "feature_name=done", "headless=true");
  assert.equal(done.code, 0, done.json.steps.at(-1)?.error ?? done.stderr);
  assert.equal(
    (await Deno.readTextFile(path.join(lab.worktrees, "done", "CODEX_WORK.md"))).trim(),
    "written by real codex",
  );
  const [row] = await lab.fleet();
  assert.equal(row!.stateLabel, "exited (0)");
  assert.match(row!.agentSessionId!, /^[0-9a-f-]{36}$/, "the thread id, from its output");
  assert.deepEqual([row!.result?.session_id, row!.result?.usage?.input_tokens], [row!.agentSessionId, 200]);
  const hooks = await query<{ event: string }>(
    lab.repo,
    "SELECT event FROM agent_hook_events WHERE launch_id = ?",
    row!.id,
  );
  assert.deepEqual(hooks.map((h) => h.event), [
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "Stop",
    "SessionEnd",
  ]);
  // The default (the workspace-write sandbox, and the worktree's git folders writable for the launch) lets it commit.
  await lab.api.control({ command: "echo work > WORK.md && git add -A && git commit -qm 'agent commit'" });
  const commits = await lab.run("feature-branch", "feature_name=commits", "headless=true");
  assert.equal(commits.code, 0, commits.json.steps.at(-1)?.error ?? commits.stderr);
  const wt = path.join(lab.worktrees, "commits");
  assert.equal((await git(wt, "log", "-1", "--format=%s")).trim(), "agent commit");
  assert.equal((await git(wt, "status", "--porcelain")).trim(), "", "everything committed");
  // Outside its worktree it still cannot write: not the main checkout, not the repository's config (or hooks).
  const config = await Deno.readTextFile(path.join(lab.repo, ".git", "config"));
  await lab.api.control({
    command: `echo x > ${lab.repo}/OUTSIDE.md; echo x >> ${lab.repo}/.git/config; git add -A && git commit -qm more`,
  });
  const outside = await lab.run("feature-branch", "feature_name=outside", "headless=true");
  assert.equal(outside.code, 1);
  assert.match(
    outside.json.steps.at(-1)?.error ?? "",
    /^agent was refused 1 tool call\(s\): Bash: echo x > .*\/OUTSIDE\.md; .* \(Read-only file system\); allow them in agent\.headless_args in \.prj\/config\.yaml$/,
  );
  assert.equal(exists(path.join(lab.repo, "OUTSIDE.md")), false);
  assert.equal(await Deno.readTextFile(path.join(lab.repo, ".git", "config")), config);
});

Deno.test("a real Codex trust dialog (pane) and approval (hook) read waiting for input on one call; notify once; Esc is idle", async () => {
  await using lab = await agentLab("codex", { trust: false, control: { escalate: true } });
  const run = await lab.run("feature-branch", "feature_name=ask");
  assert.equal(run.code, 0, run.json.steps.at(-1)?.error ?? run.stderr);
  let appeared = await lab.shown("repo-ask", "enter continue · esc back");
  let [row] = await lab.fleet();
  assert.ok(Date.now() - appeared < 2000, `read in ${Date.now() - appeared} ms`);
  assert.deepEqual([row!.state, row!.stateSource], ["waiting for input", "pane"]);
  await new Promise((resolve) => setTimeout(resolve, 500)); // a key sent the instant a dialog shows can be lost
  await lab.keys("repo-ask", "Enter");
  appeared = await lab.shown("repo-ask", "Press enter to confirm or esc to cancel");
  [row] = await lab.fleet();
  assert.ok(Date.now() - appeared < 2000, `read in ${Date.now() - appeared} ms`);
  assert.deepEqual([row!.state, row!.stateSource, row!.detail], ["waiting for input", "hook", "permission: Bash"]);
  assert.match(row!.agentSessionId!, /^[0-9a-f-]{36}$/, "the thread id, from its SessionStart hook");
  await lab.fleet();
  assert.deepEqual(await lab.notified(), ["waiting for input"], "one change, one notification");
  await lab.keys("repo-ask", "Escape");
  await waitFor(async () => (await lab.fleet())[0]!.state === "idle", 10000, "idle after Esc");
  assert.deepEqual([(await lab.fleet())[0]!.stateSource, (await lab.fleet())[0]!.detail], ["hook", "interrupted"]);
});

Deno.test("resume brings back a real Codex thread: the stand-in receives the earlier items", async () => {
  await using lab = await agentLab("codex");
  const first = await lab.run("feature-branch", "feature_name=again", "headless=true");
  assert.equal(first.code, 0, first.json.steps.at(-1)?.error ?? first.stderr);
  const thread = (await lab.fleet())[0]!.agentSessionId;
  await lab.api.control({ tool: "none" });
  const r = await prj(lab.repo, ["agent", "resume", "again"], { env: lab.env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split("\n")[0], `resumed conversation ${thread} in session repo-again`);
  await lab.shown("repo-again", "Done: the work is finished");
  await lab.type("repo-again", "now say what you did");
  type Input = { type: string; role?: string; text: string }[];
  const asked = async () =>
    (await lab.api.log()).map((e) => e.input as Input | undefined)
      .find((input) => input?.some((i) => i.role === "user" && i.text.includes("now say what you did")));
  await waitFor(async () => (await asked()) !== undefined, 20000, "the resumed turn's request");
  const input = (await asked())!;
  assert.ok(input.some((i) => i.type === "function_call_output"), "the earlier command's output came back");
  assert.ok(input.some((i) => i.role === "assistant" && i.text.includes("Done: the work is finished")));
  const rows = await lab.fleet();
  assert.deepEqual(rows.map((x) => [x.worktree, x.headless, x.agentSessionId]), [["again", false, thread]]);
});
