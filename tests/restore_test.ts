/**
 * `prj fleet restore` after a killed tmux server, with the real Claude Code CLI and its API stand-in: the agent comes
 * back in its worktree and session with its conversation (the stand-in receives the earlier messages); an agent whose
 * kind cannot resume is reported.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { agentLab } from "./support/agent_lab.ts";
import { killTmux, prj, tmuxSessions, waitFor } from "./helpers.ts";

Deno.test("fleet restore after tmux kill-server brings back a real Claude Code conversation and reports a kind it cannot resume", async () => {
  await using lab = await agentLab("claude", { agent: ["interactive_args: [--permission-mode, acceptEdits]"] });
  const first = await lab.run("feature-branch", "feature_name=one");
  assert.equal(first.code, 0, first.stderr);
  const id = first.json.shared.agent?.sessionId;
  assert.ok(id);
  await waitFor(async () => (await lab.fleet())[0]?.state === "idle", 30000, "the first turn done");
  // A second agent of a kind that has no resume, in a worktree of its own.
  const config = path.join(lab.repo, ".prj", "config.yaml");
  const claudeConfig = await Deno.readTextFile(config);
  const sleeper = path.join(path.dirname(lab.repo), "sleeper.sh");
  await Deno.writeTextFile(sleeper, "#!/bin/sh\nexec sleep 600\n", { mode: 0o755 });
  await Deno.writeTextFile(
    config,
    claudeConfig.replace("kind: claude", "kind: generic").replace(/command: .*/, `command: ${sleeper}`),
  );
  const plain = await lab.run("feature-branch", "feature_name=plain");
  assert.equal(plain.code, 0, plain.stderr);
  await Deno.writeTextFile(config, claudeConfig);
  const before = await lab.fleet();
  assert.deepEqual(before.map((r) => r.worktree), ["one", "plain"]);
  assert.equal(before[0]!.state, "idle");
  assert.ok(["working", "idle"].includes(before[1]!.state), before[1]!.state);

  await killTmux(lab.socket);
  const dry = await prj(lab.repo, ["fleet", "restore", "--dry-run", "--json"], { env: lab.env });
  assert.equal(dry.code, 1, dry.stderr);
  const plan = JSON.parse(dry.stdout);
  assert.deepEqual(
    plan.restored.map((r: { worktree: string; agentSessionId: string }) => [r.worktree, r.agentSessionId]),
    [
      ["one", id],
    ],
  );
  assert.deepEqual(plan.failed.map((r: { worktree: string; reason: string }) => [r.worktree, r.reason]), [
    ["plain", 'agent kind "generic" cannot resume a conversation'],
  ]);
  assert.deepEqual(await tmuxSessions(lab.socket), [], "a dry run starts nothing");

  const r = await prj(lab.repo, ["fleet", "restore"], { env: lab.env });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stdout,
    new RegExp(`^restored one: claude conversation ${id} \\(was idle\\) in session repo-one$`, "m"),
  );
  assert.match(
    r.stdout,
    /^not restored plain \(generic, was (working|idle)\): agent kind "generic" cannot resume a conversation$/m,
  );
  assert.deepEqual(await tmuxSessions(lab.socket), ["repo-one"]);
  // The conversation is back: the next turn sends the stand-in the earlier messages.
  await lab.shown("repo-one", "I will write REAL_CLAUDE.md.");
  await lab.api.control({ file: "SECOND.md" });
  await lab.type("repo-one", "now a second file");
  type Summary = { messages: { role: string; text: string }[] };
  const asked = async () =>
    (await lab.api.log()).map((e) => e.summary as Summary | undefined)
      .find((s) => s?.messages.some((m) => m.role === "user" && m.text.includes("now a second file")));
  await waitFor(async () => (await asked()) !== undefined, 30000, "the restored turn's request");
  assert.ok(
    (await asked())!.messages.some((m) => m.role === "assistant" && m.text.includes("I will write REAL_CLAUDE.md.")),
  );
  const rows = await lab.fleet();
  assert.deepEqual(rows.map((x) => [x.worktree, x.agentSessionId, x.state === "gone"]).sort(), [
    ["one", id, false],
    ["plain", null, true],
  ]);
  // Once back, it is live: a second restore leaves it alone.
  const again = await prj(lab.repo, ["fleet", "restore", "--json"], { env: lab.env });
  const report = JSON.parse(again.stdout);
  assert.deepEqual(report.restored, []);
  assert.deepEqual(report.live.map((x: { worktree: string }) => x.worktree), ["one"]);
});
