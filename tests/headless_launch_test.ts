/**
 * A headless launch whose prj was killed around the agent's start (kill -9 between recording the
 * launch and recording the agent's pid): the next runner must find the agent by the pid its
 * wrapper wrote, or see that it never started, instead of refusing the worktree.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { openStore } from "../lib/state/store.ts";
import { getLaunch, insertLaunch } from "../lib/state/launches.ts";
import { findLiveAgent, launchFiles, launchProcess } from "../lib/agents/headless.ts";
import { tempRepo } from "./helpers.ts";

function headlessLaunch(store: ReturnType<typeof openStore>, cwd: string, launchDir: string, headless = true): number {
  return insertLaunch(store, {
    runId: null,
    worktree: path.basename(cwd),
    worktreePath: cwd,
    branch: null,
    session: headless ? null : "s",
    kind: "claude",
    model: null,
    agentSessionId: null,
    headless,
    launchDir,
    exitFile: launchFiles(launchDir).exit,
  });
}

Deno.test("a headless launch with no pid recorded: the wrapper's pid file shows it running; without one it never started", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const store = openStore(path.join(repo, ".prj"));
  const sleeper = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    // Started: the wrapper wrote its pid, the prj that launched it died before recording it.
    const started = path.join(repo, ".prj", "launch", "started");
    await Deno.mkdir(started, { recursive: true });
    const id = headlessLaunch(store, path.join(repo, "wt-a"), started);
    await Deno.writeTextFile(launchFiles(started).pid, `${sleeper.pid}\n`);
    assert.equal(launchProcess(store, getLaunch(store, id)!), "running");
    assert.equal(getLaunch(store, id)!.pid, sleeper.pid, "the pid is recorded once read");
    assert.equal(findLiveAgent(store, path.join(repo, "wt-a"))?.id, id);

    // Never started: no pid file. Moments after the launch it may still be starting; once the
    // headless grace (seconds, not the 30 s an interactive agent gets) has passed, it never started.
    const never = path.join(repo, ".prj", "launch", "never");
    await Deno.mkdir(never, { recursive: true });
    const lost = headlessLaunch(store, path.join(repo, "wt-b"), never);
    assert.equal(launchProcess(store, getLaunch(store, lost)!), "starting");
    const sixSecondsAgo = new Date(Date.now() - 6000).toISOString();
    assert.equal(launchProcess(store, { ...getLaunch(store, lost)!, launched_at: sixSecondsAgo }), "ended");

    // An interactive launch keeps its longer grace (its agent's start can take many seconds).
    const tmuxDir = path.join(repo, ".prj", "launch", "tmux");
    await Deno.mkdir(tmuxDir, { recursive: true });
    const interactive = headlessLaunch(store, path.join(repo, "wt-c"), tmuxDir, false);
    assert.equal(launchProcess(store, { ...getLaunch(store, interactive)!, launched_at: sixSecondsAgo }), "starting");
  } finally {
    sleeper.kill();
    await sleeper.status;
    store.close();
  }
});
