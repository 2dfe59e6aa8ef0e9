import assert from "node:assert/strict";
import * as path from "node:path";
import { prj, query, tempRepo } from "./helpers.ts";

Deno.test("prj logs reads an agent task's run: the run, a step by name, prefix or number, and a run without run.log", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  assert.equal((await prj(repo, ["task", "add", "Add login", "--role", "dev"])).code, 0);
  const work = await prj(repo, ["agent", "run", "--role", "dev", "--agent-id", "dev_1", "--exit-when-empty"]);
  assert.equal(work.code, 0, work.stderr + work.stdout);
  const [run] = await query<{ id: string; artifact_dir: string }>(
    repo,
    "SELECT id, artifact_dir FROM runs WHERE command = 'agent-task'",
  );

  let r = await prj(repo, ["logs", run!.id]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /step \d agent-attempt-1 succeeded/);
  for (const step of ["agent-attempt-1", "agent", "3"]) {
    r = await prj(repo, ["logs", run!.id, step]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /agent: committed on task-1-add-login/);
  }
  r = await prj(repo, ["logs", run!.id, "agnet-attempt-1"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /error: Run \S+ has no step "agnet-attempt-1"; did you mean "agent-attempt-1"\?/);
  assert.match(r.stderr, /hint: its steps: 1\. worktree, 2\. pre-task, 3\. agent-attempt-1/);

  // A run recorded with only step logs (no run.json, run.log or context.json): its steps' logs, each under a heading.
  for (const file of ["run.log", "run.json", "context.json"]) {
    await Deno.remove(path.join(run!.artifact_dir, file)).catch(() => {});
  }
  r = await prj(repo, ["logs", run!.id]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^== step 3 agent-attempt-1 \(succeeded\)\n\$ .*\nagent: wrote AGENT_WORK\.md/m);

  // Its artifacts deleted: one line saying so.
  await Deno.remove(run!.artifact_dir, { recursive: true });
  r = await prj(repo, ["logs", run!.id, "agent"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^error: The log .*03-agent-attempt-1\.log is missing\nhint: its artifacts may have been deleted/,
  );
});
