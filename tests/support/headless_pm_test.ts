/**
 * The test harness against the real Headless PM server, and the server behaviours prj's client must live with:
 * pending tasks, 404 for unknown agents, a lock that is not atomic, notes replaced by status updates, QA's queue,
 * integer long polls, free-text branches, and a database that survives a restart.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { testCache } from "./agent_clis.ts";
import { HPM_LEVELS, HPM_ROLES, type HpmTask, hpmTest, prepareHeadlessPm, startHeadlessPm } from "./headless_pm.ts";

type Detail = { detail: { type: string; loc: string[]; msg: string }[] };

hpmTest(
  "registration takes the server's five roles and three levels; anything else is a 422 naming the field",
  async () => {
    await using hpm = await startHeadlessPm();
    for (const role of HPM_ROLES) {
      for (const level of HPM_LEVELS) await hpm.register(`${role}_${level}`, role, level);
    }
    const badRole = await hpm.request<Detail>("POST", "/register", { agent_id: "a", role: "devops", level: "senior" });
    assert.equal(badRole.status, 422);
    assert.deepEqual(badRole.body.detail[0]?.loc, ["body", "role"]);
    assert.match(badRole.body.detail[0]!.msg, /'frontend_dev', 'backend_dev', 'qa', 'architect' or 'pm'/);
    const badLevel = await hpm.request<Detail>("POST", "/register", { agent_id: "a", role: "qa", level: "expert" });
    assert.equal(badLevel.status, 422);
    assert.deepEqual(badLevel.body.detail[0]?.loc, ["body", "level"]);

    // Registering again is the heartbeat: it refreshes last_seen but keeps the first role and level.
    await hpm.register("dev_001", "backend_dev", "senior");
    await hpm.register("dev_001", "qa", "junior");
    const agents = (await hpm.request<{ agent_id: string; role: string; level: string }[]>("GET", "/agents")).body;
    assert.deepEqual(agents.filter((a) => a.agent_id === "dev_001").map((a) => [a.role, a.level]), [[
      "backend_dev",
      "senior",
    ]]);

    const wrongKey = await fetch(`${hpm.url}/api/v1/agents`, { headers: { "X-API-KEY": "development-key" } });
    assert.deepEqual([wrongKey.status, await wrongKey.json()], [401, { detail: "Invalid API key" }]);
  },
);

hpmTest("tasks start pending and are offered only once the PM approves them, up to the agent's level", async () => {
  await using hpm = await startHeadlessPm();
  const next = async (role: string, level: string) =>
    (await hpm.request<HpmTask | null>("GET", `/tasks/next?role=${role}&level=${level}&simulate=true`)).body;
  const pending = await hpm.createTask("Add login", { approve: false });
  assert.equal(pending.status, "pending");
  assert.equal(pending.branch, "task/add-login");
  assert.equal(await next("backend_dev", "senior"), null);

  await hpm.register("dev_001", "backend_dev", "senior");
  // Any registered agent may approve: the server checks no role on status changes.
  assert.equal((await hpm.setStatus(pending.id, "dev_001", "created")).status, "created");
  assert.equal((await next("backend_dev", "senior"))?.id, pending.id);
  assert.equal((await next("backend_dev", "principal"))?.id, pending.id);
  assert.equal(await next("backend_dev", "junior"), null, "a junior is not offered a senior task");
  assert.equal(await next("frontend_dev", "principal"), null, "nor another role");
});

hpmTest("an unregistered agent gets 404 for lock and status, but its comment is accepted", async () => {
  await using hpm = await startHeadlessPm();
  const task = await hpm.createTask("Add login");
  const lock = await hpm.lock(task.id, "ghost");
  assert.equal(lock.status, 404);
  assert.match(JSON.stringify(lock.body), /Agent 'ghost' not found. Please ensure the agent is registered/);
  const status = await hpm.request("PUT", `/tasks/${task.id}/status?agent_id=ghost`, { status: "under_work" });
  assert.equal(status.status, 404);
  await hpm.comment(task.id, "ghost", "hello");
  assert.equal((await hpm.getTask(task.id)).notes, "ghost: hello");
  // There is no GET /tasks/{id}: the only route at that path is DELETE.
  assert.equal((await hpm.request("GET", `/tasks/${task.id}`)).status, 405);
});

hpmTest("a lock answers 409 to everyone once taken, even its holder; only leaving under_work releases it", async () => {
  await using hpm = await startHeadlessPm();
  await hpm.register("dev_001", "backend_dev", "senior");
  await hpm.register("dev_002", "backend_dev", "senior");
  const task = await hpm.createTask("Add login");
  const first = await hpm.lock(task.id, "dev_001");
  assert.equal(first.status, 200);
  assert.equal(first.body.locked_by, "dev_001");
  for (const agent of ["dev_001", "dev_002"]) {
    const again = await hpm.lock(task.id, agent);
    assert.equal(again.status, 409);
    assert.deepEqual(again.body, {
      detail: `Task ${task.id} is already locked by another agent. The task must be unlocked before you can lock it.`,
    });
  }
  // created -> created does not release (so giving back a task never moved to under_work leaves it locked).
  assert.equal((await hpm.setStatus(task.id, "dev_001", "created")).locked_by, "dev_001");
  // Status changes are not checked against the lock: another agent may move the task.
  assert.equal((await hpm.setStatus(task.id, "dev_002", "under_work")).locked_by, "dev_001");
  const done = await hpm.setStatus(task.id, "dev_001", "dev_done");
  assert.deepEqual([done.status, done.locked_by, done.locked_at], ["dev_done", null, null]);
  // Any status can be locked, pending included.
  const pending = await hpm.createTask("Later", { approve: false });
  assert.equal((await hpm.lock(pending.id, "dev_002")).status, 200);
});

hpmTest("two simultaneous locks can both answer 200; only reading the task afterwards tells the owner", async () => {
  await using hpm = await startHeadlessPm();
  await hpm.register("dev_001", "backend_dev", "senior");
  await hpm.register("dev_002", "backend_dev", "senior");
  let doubles = 0;
  for (let i = 0; i < 60 && doubles < 2; i++) {
    const task = await hpm.createTask(`Race ${i}`);
    const [a, b] = await Promise.all([hpm.lock(task.id, "dev_001"), hpm.lock(task.id, "dev_002")]);
    const owner = (await hpm.getTask(task.id)).locked_by;
    const winners = [a, b].filter((r) => r.status === 200);
    assert.ok(winners.length >= 1, `task ${task.id}: nobody got the lock`);
    if (winners.length === 1) {
      assert.equal(owner, winners[0]!.body.locked_by);
      continue;
    }
    doubles++;
    // Both answers claim the lock, and neither says who lost (not even by locked_at: the commits can land in
    // either order). Only the row, read once both writes are done, names the owner.
    assert.deepEqual([a.body.locked_by, b.body.locked_by], ["dev_001", "dev_002"]);
    assert.ok(owner === "dev_001" || owner === "dev_002");
    assert.equal((await hpm.getTask(task.id)).locked_by, owner, "and it stays so");
  }
  assert.ok(doubles > 0, "no lock race reproduced in 60 tries (the server's lock may have become atomic)");
});

hpmTest("a status update with notes replaces them; comments append; no notes or empty notes keep them", async () => {
  await using hpm = await startHeadlessPm();
  await hpm.register("dev_001", "backend_dev", "senior");
  const task = await hpm.createTask("Add login");
  await hpm.comment(task.id, hpm.pmAgentId, "Use bcrypt, @dev_001");
  await hpm.comment(task.id, "architect_001", "Keep the session table");
  const comments = "pm_001: Use bcrypt, @dev_001\n\narchitect_001: Keep the session table";
  assert.equal((await hpm.getTask(task.id)).notes, comments);
  // The @mention becomes a mention for dev_001.
  const mentions = (await hpm.request<{ task_id: number }[]>("GET", "/mentions?agent_id=dev_001")).body;
  assert.deepEqual(mentions.map((m) => m.task_id), [task.id]);

  assert.equal((await hpm.lock(task.id, "dev_001")).status, 200);
  assert.equal((await hpm.setStatus(task.id, "dev_001", "under_work")).notes, comments);
  assert.equal((await hpm.setStatus(task.id, "dev_001", "under_work", "")).notes, comments);
  const replaced = await hpm.setStatus(task.id, "dev_001", "dev_done", "done on branch task/add-login");
  assert.equal(replaced.notes, "done on branch task/add-login", "every earlier comment is gone");
  // The notes of each status change stay in the changelog.
  const log = (await hpm.request<{ task_id: number; new_status: string; notes: string | null }[]>("GET", "/changelog"))
    .body.filter((c) => c.task_id === task.id).map((c) => [c.new_status, c.notes]);
  assert.deepEqual(log, [
    ["dev_done", "done on branch task/add-login"],
    ["under_work", ""],
    ["under_work", null],
    ["created", null],
    ["pending", "Task created (pending)"],
  ]);
});

hpmTest(
  "QA is offered dev_done tasks of any role and difficulty; its lock goes only by leaving under_work",
  async () => {
    await using hpm = await startHeadlessPm();
    await hpm.register("dev_001", "frontend_dev", "principal");
    await hpm.register("qa_001", "qa", "junior");
    const qaNext = async () =>
      (await hpm.request<HpmTask | null>("GET", "/tasks/next?role=qa&level=junior&simulate=true")).body;
    const task = await hpm.createTask("Redo the layout", { role: "frontend_dev", difficulty: "principal" });
    assert.equal(await qaNext(), null, "QA is not offered created tasks");
    await hpm.lock(task.id, "dev_001");
    await hpm.setStatus(task.id, "dev_001", "under_work");
    await hpm.setStatus(task.id, "dev_001", "dev_done");
    assert.equal((await qaNext())?.id, task.id);

    assert.equal((await hpm.lock(task.id, "qa_001")).status, 200);
    assert.equal(await qaNext(), null);
    // dev_done -> qa_done directly keeps QA's lock; through under_work it is released.
    assert.equal((await hpm.setStatus(task.id, "qa_001", "qa_done")).locked_by, "qa_001");
    await hpm.setStatus(task.id, "qa_001", "under_work");
    const rejected = await hpm.setStatus(task.id, "qa_001", "created", "QA: the footer overlaps");
    assert.deepEqual([rejected.status, rejected.locked_by], ["created", null]);
    const devNext = await hpm.request<HpmTask | null>(
      "GET",
      "/tasks/next?role=frontend_dev&level=principal&simulate=true",
    );
    assert.equal(devNext.body?.notes, "QA: the footer overlaps");
  },
);

hpmTest(
  "long poll: timeout must be an integer; 0 or less answers at once; a task approved meanwhile is returned",
  async () => {
    await using hpm = await startHeadlessPm();
    const poll = (query: string) => hpm.request<HpmTask | null | Detail>("GET", `/tasks/next?${query}`);
    for (const timeout of ["0.5", "1e3", "abc"]) {
      const refused = await poll(`role=backend_dev&level=senior&timeout=${timeout}`);
      assert.equal(refused.status, 422, `timeout=${timeout}`);
      assert.equal((refused.body as Detail).detail[0]?.type, "int_parsing");
    }
    for (const timeout of ["0", "-5"]) {
      const t0 = performance.now();
      assert.deepEqual(await poll(`role=backend_dev&level=senior&timeout=${timeout}`), { status: 200, body: null });
      assert.ok(performance.now() - t0 < 1000, `timeout=${timeout} answered at once`);
    }
    assert.equal((await poll("role=backend_dev&timeout=1")).status, 400, "level is required");
    assert.equal((await poll("level=senior&timeout=1")).status, 400, "role is required");
    assert.equal((await poll("role=devops&level=senior&timeout=1")).status, 422);

    const t0 = performance.now();
    const waiting = poll("role=backend_dev&level=senior&timeout=20");
    const pending = await hpm.createTask("Arrives during the poll", { approve: false });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await hpm.setStatus(pending.id, hpm.pmAgentId, "created");
    const got = await waiting;
    assert.equal((got.body as HpmTask).id, pending.id);
    // The server looks again every 5 s, so the wait is at most about that.
    assert.ok(performance.now() - t0 < 7000);
  },
);

hpmTest("branch is required and stored as given: main, empty and shared branches are all accepted", async () => {
  await using hpm = await startHeadlessPm();
  const main = await hpm.createTask("Fix a typo", { branch: "main", complexity: "minor" });
  const empty = await hpm.createTask("No branch", { branch: "" });
  const a = await hpm.createTask("Cart A", { branch: "feature/cart" });
  const b = await hpm.createTask("Cart B", { branch: "feature/cart" });
  assert.deepEqual([main.branch, empty.branch, a.branch, b.branch], ["main", "", "feature/cart", "feature/cart"]);
  await hpm.register(hpm.pmAgentId, "pm", "principal");
  const missing = await hpm.request<Detail>("POST", `/tasks/create?agent_id=${hpm.pmAgentId}`, {
    feature_id: main.feature_id,
    title: "x",
    description: "x",
    target_role: "backend_dev",
    difficulty: "senior",
  });
  assert.equal(missing.status, 422);
  assert.deepEqual(missing.body.detail[0]?.loc, ["body", "branch"]);
});

hpmTest("a restart keeps the database and the URL; SIGTERM lets an open long poll finish first", async () => {
  await using hpm = await startHeadlessPm();
  await hpm.register("dev_001", "backend_dev", "senior");
  const task = await hpm.createTask("Add login");
  await hpm.lock(task.id, "dev_001");
  await hpm.setStatus(task.id, "dev_001", "under_work", "started");
  const pid = hpm.pid;

  const poll = hpm.request("GET", "/tasks/next?role=frontend_dev&level=senior&timeout=2");
  await new Promise((resolve) => setTimeout(resolve, 300));
  await hpm.restart();
  assert.deepEqual(await poll, { status: 200, body: null }, "the poll was answered, not cut");
  assert.notEqual(hpm.pid, pid);
  const after = await hpm.getTask(task.id);
  assert.deepEqual([after.status, after.locked_by, after.notes], ["under_work", "dev_001", "started"]);

  // A crash (SIGKILL) keeps it too; a request during the outage fails to connect.
  await hpm.stop({ kill: true });
  await assert.rejects(hpm.request("GET", "/tasks"), TypeError);
  await hpm.restart();
  assert.equal((await hpm.getTask(task.id)).locked_by, "dev_001");
  assert.match(await hpm.log(), /Application startup complete[\s\S]*Application startup complete/);
});

hpmTest(
  "the harness names PRJ_TEST_HPM_SRC when it is unset or wrong, and waits for another process's build",
  async () => {
    const harness = path.join(import.meta.dirname!, "headless_pm.ts");
    const child = (env: string[], code: string) =>
      new Deno.Command("env", {
        args: [...env, Deno.execPath(), "eval", `import * as h from ${JSON.stringify(`file://${harness}`)}; ${code}`],
        stdout: "piped",
        stderr: "piped",
      });
    const text = (out: Deno.CommandOutput) => new TextDecoder().decode(out.stderr);

    const unset = await child(["-u", "PRJ_TEST_HPM_SRC"], "await h.startHeadlessPm();").output();
    assert.equal(unset.code, 1);
    assert.match(text(unset), /PRJ_TEST_HPM_SRC is not set: the Headless PM tests need the server's source checkout/);
    const wrong = await child(["PRJ_TEST_HPM_SRC=/nonexistent"], "await h.startHeadlessPm();").output();
    assert.match(
      text(wrong),
      /PRJ_TEST_HPM_SRC is not a Headless PM checkout: "\/nonexistent\/src\/main.py" is missing/,
    );

    // A second process finds the venv unbuilt and another process holding the build lock: it waits, then uses what
    // that process built instead of building again.
    const real = await prepareHeadlessPm();
    const cache = await Deno.makeTempDir({ prefix: "prj-hpm-cache-" });
    try {
      await Deno.mkdir(path.join(cache, "headless-pm-venv", "bin"), { recursive: true });
      await Deno.writeTextFile(path.join(cache, "headless-pm-venv", "bin", "python"), "");
      const lock = await Deno.open(path.join(cache, "headless-pm-venv.lock"), { create: true, write: true });
      await lock.lock(true);
      const waiter = child(
        [`PRJ_TEST_CACHE=${cache}`],
        'console.log("checking"); console.log((await h.prepareHeadlessPm()).python);',
      ).spawn();
      const lines = waiter.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let stdout = "";
      while (!stdout.includes("checking\n")) stdout += (await lines.read()).value ?? "";
      let finished = false;
      const status = waiter.status.finally(() => finished = true);
      // Had it not waited, it would now be building: no stamp yet, so pip would run and write the setup log.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(finished, false, "it waits for the lock");
      await Deno.copyFile(path.join(real.venv, ".prj-ready"), path.join(cache, "headless-pm-venv", ".prj-ready"));
      lock.close();
      for (let chunk = await lines.read(); !chunk.done; chunk = await lines.read()) stdout += chunk.value;
      const stderr = new TextDecoder().decode(await new Response(waiter.stderr).arrayBuffer());
      assert.equal((await status).code, 0, stderr);
      assert.equal(stdout, `checking\n${path.join(cache, "headless-pm-venv", "bin", "python")}\n`);
      assert.equal(await Deno.stat(path.join(cache, "headless-pm-venv-setup.log")).catch(() => null), null, "no build");
    } finally {
      await Deno.remove(cache, { recursive: true });
    }
    assert.equal(real.venv, path.join(testCache(), "headless-pm-venv"));
  },
);
