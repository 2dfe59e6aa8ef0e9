import assert from "node:assert/strict";
import { waitAtMost, whenElapsed } from "./time.ts";

Deno.test("whenElapsed() calls once the time has passed, and not at all once cancelled", async () => {
  const calls: string[] = [];
  const t0 = performance.now();
  const cancel = whenElapsed(20, () => calls.push("cancelled one"));
  cancel();
  await new Promise<void>((resolve) => whenElapsed(40, () => (calls.push("kept one"), resolve())));
  assert.ok(performance.now() - t0 >= 39, "it waited");
  await new Promise<void>((resolve) => whenElapsed(30, resolve));
  assert.deepEqual(calls, ["kept one"]);
});

Deno.test("whenElapsed() keeps a process running until it fires, and a cancelled one does not", async () => {
  const time = JSON.stringify(new URL("./time.ts", import.meta.url).href);
  const run = async (body: string) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", `import { whenElapsed } from ${time};\n${body}`],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(20_000),
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout);
  };
  assert.equal(await run(`whenElapsed(300, () => console.log("fired")); console.log("waiting");`), "waiting\nfired\n");
  // A step's timeout is cancelled when the step ends: prj must not wait out the hour.
  assert.equal(
    await run(`const cancel = whenElapsed(3_600_000, () => console.log("fired")); cancel(); console.log("done");`),
    "done\n",
  );
});

Deno.test("waitAtMost() ends with the promise or at the limit, and leaves no timer keeping a process running", async () => {
  let t0 = performance.now();
  await waitAtMost(new Promise(() => {}), 50);
  assert.ok(performance.now() - t0 >= 49, "it waited the limit out");
  t0 = performance.now();
  await waitAtMost(Promise.reject(new Error("ignored")), 10_000);
  assert.ok(performance.now() - t0 < 5_000, "it ended with the promise");
  // A process that awaited a settled promise must not then wait for the limit.
  const time = JSON.stringify(new URL("./time.ts", import.meta.url).href);
  const t1 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { waitAtMost } from ${time};\nawait waitAtMost(Promise.resolve(), 60_000);\nconsole.log("done");`,
    ],
    stdout: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  assert.equal(new TextDecoder().decode(out.stdout), "done\n");
  assert.ok(performance.now() - t1 < 15_000, "the process did not wait for the limit");
});
