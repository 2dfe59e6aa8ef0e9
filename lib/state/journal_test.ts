import assert from "node:assert/strict";
import * as path from "node:path";
import { Intent, journalDir, liveIntents, orphanIntents } from "./journal.ts";

const url = new URL("./journal.ts", import.meta.url).href;

/** Another process that begins an entry and then exits (or is killed) without finishing it. */
async function diesHolding(prjDir: string, how: "exit" | "kill"): Promise<void> {
  const code = `const { Intent } = await import(${JSON.stringify(url)});
Intent.begin(${JSON.stringify(prjDir)}, { kind: "worktree-create", stage: "adding", name: "w", path: "/x/w" });
console.log("held");
${how === "exit" ? "Deno.exit(0);" : "await new Promise(() => {});"}`;
  const child = new Deno.Command(Deno.execPath(), { args: ["eval", code], stdout: "piped", stderr: "inherit" }).spawn();
  const reader = child.stdout.getReader();
  await reader.read(); // "held"
  if (how === "kill") child.kill("SIGKILL");
  reader.releaseLock();
  await child.stdout.cancel();
  await child.status;
}

Deno.test("journal: an entry held by a live process is left alone; one whose process died is handed over once", async () => {
  const prjDir = await Deno.makeTempDir();
  try {
    const mine = Intent.begin(prjDir, { kind: "run", stage: "open", runId: "r1" });
    assert.deepEqual(orphanIntents(prjDir), [], "this process holds it");
    assert.deepEqual(liveIntents(prjDir).map((r) => r.runId), ["r1"]);
    mine.update({ stage: "teardown" });
    assert.equal(liveIntents(prjDir)[0]!.stage, "teardown");

    await diesHolding(prjDir, "exit");
    await diesHolding(prjDir, "kill");
    const orphans = orphanIntents(prjDir);
    assert.deepEqual(orphans.map((o) => [o.record.kind, o.record.stage, o.record.name]), [
      ["worktree-create", "adding", "w"],
      ["worktree-create", "adding", "w"],
    ]);
    assert.ok(orphans.every((o) => o.record.pid !== Deno.pid));
    // While this process holds them, nobody else gets them.
    assert.deepEqual(orphanIntents(prjDir), []);
    orphans[0]!.done();
    orphans[1]!.abandon(); // left for the next one
    const again = orphanIntents(prjDir);
    assert.equal(again.length, 1);
    again[0]!.done();

    mine.done();
    assert.deepEqual([...Deno.readDirSync(journalDir(prjDir))], []);
  } finally {
    await Deno.remove(prjDir, { recursive: true });
  }
});

Deno.test("journal: a lock file with no record (its process died before writing it) is removed", async () => {
  const prjDir = await Deno.makeTempDir();
  try {
    const dir = journalDir(prjDir);
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(path.join(dir, "run-abc-12345678.lock"), "");
    await Deno.writeTextFile(path.join(dir, "run-abd-12345678.lock.999.new"), "");
    // A record being replaced when its process died: the old one and the half-written new one.
    await Deno.writeTextFile(path.join(dir, "run-abe-12345678.lock"), "");
    await Deno.writeTextFile(path.join(dir, "run-abe-12345678.json.999.tmp"), '{"id": "run-a');
    assert.deepEqual(orphanIntents(prjDir), []);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(prjDir, { recursive: true });
  }
});
