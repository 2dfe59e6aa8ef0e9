/**
 * The cost ledger over the real agents' output (the fixtures in tests/fixtures/real/) and a real SQLite file: a
 * resumed conversation's runs recorded once each, an interactive session's transcript read as it grows, the report.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openStore, type Store } from "../lib/state/store.ts";
import { getLaunch, insertLaunch } from "../lib/state/launches.ts";
import { listUsage } from "../lib/state/usage.ts";
import { costReport, formatUsd, launchCosts, parseSince, recordUsage, syncTranscripts } from "../lib/agents/cost.ts";
import { claudeTranscriptPath } from "../lib/agents/usage.ts";
import { tempDir, tempRepo } from "./helpers.ts";

const REAL = path.join(import.meta.dirname!, "fixtures", "real");

function launch(
  store: Store,
  o: { kind: string; headless: boolean; session?: string; model?: string; cwd: string },
): number {
  return insertLaunch(store, {
    runId: null,
    worktree: path.basename(o.cwd),
    worktreePath: o.cwd,
    branch: null,
    session: o.headless ? null : "s",
    kind: o.kind,
    model: o.model ?? null,
    agentSessionId: o.session ?? null,
    headless: o.headless,
    launchDir: null,
    exitFile: null,
  });
}

/** Dates a launch (the fixtures were recorded at a known time). */
function launchedAt(repo: string, id: number, at: string): void {
  const db = new DatabaseSync(path.join(repo, ".prj", "state.db"));
  try {
    db.prepare("UPDATE agent_launches SET launched_at = ? WHERE id = ?").run(at, id);
  } finally {
    db.close();
  }
}

function totals(rows: ReturnType<typeof listUsage>): string[] {
  return rows.map((r) =>
    `${r.launch_id} ${r.source}${
      r.key.includes(":estimate:") ? " estimate" : ""
    }: ${r.input_tokens}/${r.output_tokens}/${r.cache_read} ${formatUsd(r.cost_usd)}`
  );
}

Deno.test("recordUsage: the three runs of a resumed Codex thread count what each added; recording again counts once", async () => {
  await using repo = await tempRepo({ init: true });
  const store = openStore(path.join(repo.path, ".prj"));
  try {
    const files = ["exec-resume-first.jsonl", "exec-resume-second.jsonl", "exec-resume-third-workspace-write.jsonl"];
    const ids: number[] = [];
    for (const file of files) {
      const id = launch(store, { kind: "codex", headless: true, model: "gpt-fake", cwd: repo.path });
      ids.push(id);
      const text = await Deno.readTextFile(path.join(REAL, "codex-0.169.0", "stream", file));
      recordUsage(store, getLaunch(store, id)!, text);
    }
    // Codex reported 200, 300 and 500 input tokens: running totals of the thread.
    assert.deepEqual(totals(listUsage(store)), [
      `${ids[0]} result: 180/40/20 ?`,
      `${ids[1]} result: 90/20/10 ?`,
      `${ids[2]} result: 180/40/20 ?`,
    ]);
    recordUsage(
      store,
      getLaunch(store, ids[1]!)!,
      await Deno.readTextFile(path.join(REAL, "codex-0.169.0", "stream", files[1]!)),
    );
    assert.equal(listUsage(store).length, 3);
    const report = costReport(listUsage(store), "run");
    assert.deepEqual(report.total, {
      launches: 3,
      input_tokens: 450,
      output_tokens: 100,
      cache_read: 50,
      cache_write: 0,
      cost_usd: null,
      unknown_costs: 3,
      priced_costs: 0,
      models: ["gpt-fake"],
      kinds: ["codex"],
    });
    // With a price for the model, each run has a cost.
    const priced = costReport(listUsage(store), "day", { "gpt-fake": { input: 1, output: 10, cache_read: 0.1 } });
    assert.equal(priced.total.cost_usd, 0.001455);
    assert.equal(priced.total.unknown_costs, 0);
    assert.equal(priced.total.priced_costs, 3);
    // A Gemini CLI run: per model, priced or not.
    const g = launch(store, { kind: "gemini", headless: true, cwd: repo.path + "-g" });
    recordUsage(
      store,
      getLaunch(store, g)!,
      await Deno.readTextFile(path.join(REAL, "gemini-cli-0.61.0", "stream", "stream-json-yolo-write-file.jsonl")),
    );
    const costs = launchCosts(store, [g], { "gemini-3.8-flash": { input: 1, output: 1, cache_read: 1 } });
    assert.deepEqual(costs.get(g), { cost_usd: 0.00029, unknown: true, priced: true, tokens: 435 });
  } finally {
    store.close();
  }
});

Deno.test("syncTranscripts: a resumed interactive Claude session read as it grows, each launch its part, never twice", async () => {
  await using repo = await tempRepo({ init: true });
  await using config = await tempDir();
  const store = openStore(path.join(repo.path, ".prj"));
  try {
    const session = "33333333-4444-4555-8666-777777777777";
    const cwd = path.join(repo.path, "wt");
    const first = launch(store, { kind: "claude", headless: false, session, cwd });
    const second = launch(store, { kind: "claude", headless: false, session, cwd });
    // A headless launch of the same conversation is recorded from its result, never from the transcript.
    const headless = launch(store, { kind: "claude", headless: true, session, cwd: cwd + "-h" });
    launchedAt(repo.path, first, "2026-11-21T06:28:50.000Z");
    launchedAt(repo.path, second, "2026-11-21T06:29:15.000Z");
    launchedAt(repo.path, headless, "2026-11-21T06:30:00.000Z");
    const file = claudeTranscriptPath(config.path, cwd, session);
    await Deno.mkdir(path.dirname(file), { recursive: true });
    const text = await Deno.readTextFile(
      path.join(REAL, "claude-code-2.1.329", "transcripts", "interactive-ask-then-resumed.jsonl"),
    );
    const cuts = [0, text.search(/"cost-state"/) - 20, text.lastIndexOf('"cost-state"') - 20, text.length];
    const seen: string[][] = [];
    for (let i = 1; i < cuts.length; i++) {
      await Deno.writeTextFile(file, text.slice(cuts[i - 1], cuts[i]), { append: true });
      syncTranscripts(store, { configDir: config.path });
      seen.push(totals(listUsage(store)));
    }
    assert.deepEqual(seen, [
      // Live: the first launch's two messages, an estimate (the stand-in's model has no price).
      [`${first} transcript estimate: 240/40/0 ?`],
      // It exited (its cost-state, the title call included); the resumed launch is live.
      [`${first} transcript: 360/60/0 $0.0026`, `${second} transcript estimate: 240/40/0 ?`],
      [`${first} transcript: 360/60/0 $0.0026`, `${second} transcript: 240/40/0 $0.0018`],
    ]);
    // Nothing new: nothing read, nothing changes.
    assert.equal(syncTranscripts(store, { configDir: config.path }), 0);
    const report = costReport(listUsage(store), "day");
    assert.equal(report.total.cost_usd, 0.0044, "the conversation's own total, once");
    assert.equal(report.lines.length, 1);
  } finally {
    store.close();
  }
});

Deno.test("parseSince and formatUsd", () => {
  const at = new Date("2026-11-21T12:00:00Z");
  assert.deepEqual(parseSince("12h", at), { at: "2026-11-21T00:00:00.000Z" });
  assert.deepEqual(parseSince("2026-11-01", at), { day: "2026-11-01" });
  assert.equal(parseSince("today", at).day?.length, 10);
  assert.throws(() => parseSince("last week", at), /--since: expected a duration/);
  assert.deepEqual([
    formatUsd(0.00176),
    formatUsd(12.345),
    formatUsd(null),
    formatUsd(0.5, true),
    formatUsd(0),
    formatUsd(0.001, false, true),
  ], [
    "$0.0018",
    "$12.35",
    "?",
    "$0.50+?",
    "$0.00",
    "~$0.0010",
  ]);
});
