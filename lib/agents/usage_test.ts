import assert from "node:assert/strict";
import * as path from "node:path";
import {
  claudeRunUsage,
  claudeTranscriptPath,
  codexRolloutModel,
  codexRunUsage,
  computeCost,
  geminiRunUsage,
  localDay,
  newTranscriptCursor,
  priced,
  priceOf,
  readTranscript,
  runUsage,
  type TranscriptCursor,
  transcriptUsage,
  type UsageRecord,
} from "./usage.ts";

const REAL = path.resolve(import.meta.dirname!, "..", "..", "tests", "fixtures", "real");
const CLAUDE = path.join(REAL, "claude-code-2.1.329");
const CODEX = path.join(REAL, "codex-0.169.0");
const GEMINI = path.join(REAL, "gemini-cli-0.61.0");

const read = (file: string) => Deno.readTextFileSync(file);
const files = (dir: string) => [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name).sort();

/** model: input/output/cache read/cache write $cost, for compact expectations. */
function brief(records: readonly UsageRecord[]): string[] {
  return records.map((r) =>
    `${r.model}: ${r.input_tokens}/${r.output_tokens}/${r.cache_read}/${r.cache_write} ${
      r.cost_usd === null ? "?" : `$${r.cost_usd}`
    }${r.cost_source ? ` (${r.cost_source})` : ""}`
  );
}

const OPUS_RUN = ["claude-opus-5-5: 240/40/0/0 $0.00176 (reported)"];

Deno.test("Claude Code: every real headless output gives this run's usage and cost, once", () => {
  // Each file in stream/ (stream-json, json and text output): what it cost, or undefined for no result.
  const expected: Record<string, string[] | undefined> = {
    "api-error-401.json": [],
    "api-error-401.jsonl": [],
    "api-error-500.jsonl": [],
    "api-error-529.jsonl": [],
    "bash-acceptedits.jsonl": OPUS_RUN,
    "bash-commit-acceptedits-allowed.jsonl": OPUS_RUN,
    "bash-commit-acceptedits.jsonl": OPUS_RUN,
    // The auto mode's classifier calls are billed to another model.
    "bash-commit-auto.jsonl": [...OPUS_RUN, "claude-sonnet-5[1m]: 1200/200/0/0 $0.0044 (reported)"],
    "bash-commit-bypass-is-sandbox.jsonl": OPUS_RUN,
    "bash-default.jsonl": OPUS_RUN,
    // `usage` says 0 input here; the per-model figures have the call the budget allowed.
    "budget-exceeded.jsonl": ["claude-opus-5-5: 120/20/0/0 $0.00088 (reported)"],
    "session-1-new.jsonl": OPUS_RUN,
    // Resumed: total_cost_usd says 0.00352 (both runs); this run is half of it.
    "session-2-resume.jsonl": OPUS_RUN,
    "session-3-id-in-use.jsonl": undefined,
    "session-4-resume-unknown.jsonl": [],
    // Two result lines (a background subagent); the first already holds everything.
    "subagent-background.jsonl": ["claude-opus-5-5: 820/140/0/0 $0.00608 (reported)"],
    "write-acceptedits.json": OPUS_RUN,
    "write-acceptedits.jsonl": OPUS_RUN,
    "write-auto.jsonl": OPUS_RUN,
    "write-bypass-as-root.jsonl": undefined,
    "write-default-hook-events.jsonl": OPUS_RUN,
    "write-default-plain.jsonl": OPUS_RUN,
    "write-default.json": OPUS_RUN,
    "write-default.jsonl": OPUS_RUN,
    "write-default.txt": undefined,
    "write-dontask.jsonl": OPUS_RUN,
    "write-manual.jsonl": OPUS_RUN,
  };
  const dir = path.join(CLAUDE, "stream");
  assert.deepEqual(files(dir), Object.keys(expected).sort(), "an expectation for every fixture");
  for (const [file, want] of Object.entries(expected)) {
    const usage = runUsage("claude", read(path.join(dir, file)));
    assert.deepEqual(usage && brief(usage.records), want, file);
    if (usage) assert.match(usage.session_id ?? "", /^[0-9a-f-]{36}$/, file);
  }
});

Deno.test("Claude Code: a resumed conversation reports running totals; the run counts only its own share", () => {
  const first = claudeRunUsage(read(path.join(CLAUDE, "stream", "session-1-new.jsonl")))!;
  const second = claudeRunUsage(read(path.join(CLAUDE, "stream", "session-2-resume.jsonl")))!;
  assert.equal(first.session_id, second.session_id);
  assert.deepEqual(second.session_totals, {
    "claude-opus-5-5": { input_tokens: 480, output_tokens: 80, cache_read: 0, cache_write: 0, cost_usd: 0.00352 },
  });
  const sum = [...first.records, ...second.records].reduce((s, r) => s + r.cost_usd!, 0);
  assert.equal(Math.round(sum * 1e6) / 1e6, 0.00352, "the two runs add up to the conversation's total");
  // Without `model_usage_since_last_result` (only running totals), the previous run's totals are subtracted.
  const onlyTotals = read(path.join(CLAUDE, "stream", "session-2-resume.jsonl")).split("\n").map((line) => {
    if (!line.includes('"type":"result"')) return line;
    const json = JSON.parse(line);
    delete json.model_usage_since_last_result;
    return JSON.stringify(json);
  }).join("\n");
  assert.deepEqual(brief(claudeRunUsage(onlyTotals, first.session_totals)!.records), OPUS_RUN);
  assert.deepEqual(
    brief(claudeRunUsage(onlyTotals)!.records),
    ["claude-opus-5-5: 480/80/0/0 $0.00352 (reported)"],
    "with no earlier totals recorded, the whole conversation",
  );
});

const CODEX_RUN = ["null: 180/40/20/0 ?"];

Deno.test("Codex: every real exec output gives the run's tokens; no cost is reported", () => {
  const expected: Record<string, string[] | undefined> = {
    "exec-api-error-401.jsonl": [],
    "exec-api-error-429-no-retries.jsonl": [],
    "exec-api-error-500-no-retries.jsonl": [],
    "exec-bypass-sandbox.jsonl": CODEX_RUN,
    "exec-command-failed.jsonl": CODEX_RUN,
    "exec-connection-refused.jsonl": [],
    "exec-escalation-rejected.jsonl": CODEX_RUN,
    "exec-read-only-refused-write.jsonl": CODEX_RUN,
    "exec-read-only-with-hooks.jsonl": CODEX_RUN,
    "exec-request-user-input-unavailable.jsonl": CODEX_RUN,
    "exec-resume-first.jsonl": CODEX_RUN,
    // What the API stand-in received, and the rollout: not exec output.
    "exec-resume-second.api-input.jsonl": undefined,
    "exec-resume-second.jsonl": ["null: 270/60/30/0 ?"],
    "exec-resume-third-workspace-write.jsonl": ["null: 450/100/50/0 ?"],
    "exec-with-hooks.jsonl": CODEX_RUN,
    "exec-workspace-write-git-commit-refused.jsonl": CODEX_RUN,
    "exec-workspace-write-success.jsonl": CODEX_RUN,
    "exit-codes.txt": undefined,
    "rollout-read-only-refused-write.jsonl": undefined,
  };
  const dir = path.join(CODEX, "stream");
  assert.deepEqual(files(dir), Object.keys(expected).sort(), "an expectation for every fixture");
  for (const [file, want] of Object.entries(expected)) {
    const usage = runUsage("codex", read(path.join(dir, file)));
    assert.deepEqual(usage && brief(usage.records), want, file);
    if (usage) assert.match(usage.session_id ?? "", /^[0-9a-f-]{36}$/, file);
  }
});

Deno.test("Codex: a resumed thread's usage is a running total; each run counts what it added", () => {
  const run = (name: string, previous?: Parameters<typeof codexRunUsage>[2]) =>
    codexRunUsage(read(path.join(CODEX, "stream", name)), "gpt-fake", previous)!;
  const first = run("exec-resume-first.jsonl");
  const second = run("exec-resume-second.jsonl", first.session_totals);
  const third = run("exec-resume-third-workspace-write.jsonl", second.session_totals);
  assert.deepEqual(
    [first, second, third].map((u) => brief(u.records)[0]),
    ["gpt-fake: 180/40/20/0 ?", "gpt-fake: 90/20/10/0 ?", "gpt-fake: 180/40/20/0 ?"],
  );
  assert.deepEqual(third.session_totals, {
    "gpt-fake": { input_tokens: 450, output_tokens: 100, cache_read: 50, cache_write: 0, cost_usd: null },
  });
  // The model comes from the rollout when prj did not choose it.
  assert.equal(
    codexRolloutModel(read(path.join(CODEX, "stream", "rollout-read-only-refused-write.jsonl"))),
    "gpt-fake",
  );
  // No price for the stand-in's model: unknown, never 0; with one from config, computed.
  assert.deepEqual(brief(priced(first.records)), ["gpt-fake: 180/40/20/0 ?"]);
  assert.deepEqual(
    brief(priced(first.records, { "gpt-fake": { input: 1, output: 10, cache_read: 0.1 } })),
    ["gpt-fake: 180/40/20/0 $0.000582 (price table)"],
  );
});

const GEMINI_RUN = [
  "gemini-3.5-flash-lite: 110/25/10/0 ?",
  "gemini-3.8-flash: 220/50/20/0 ?",
];

Deno.test("Gemini CLI: every real output gives each model's tokens for this run (thoughts billed as output)", () => {
  const expected: Record<string, string[] | undefined> = {
    "chat-transcript-resumed-session.jsonl": undefined,
    "exit-codes.txt": undefined,
    "json-api-error-401.stderr.json": undefined,
    "json-auto-edit-write-file.json": GEMINI_RUN,
    "stream-json-api-error-400.jsonl": [],
    "stream-json-api-error-401.jsonl": [],
    "stream-json-auto-edit-shell-not-registered.jsonl": GEMINI_RUN,
    "stream-json-auto-edit-write-file.jsonl": GEMINI_RUN,
    "stream-json-default-write-file-not-registered.jsonl": GEMINI_RUN,
    "stream-json-resume-first.jsonl": GEMINI_RUN,
    "stream-json-resume-second.api-contents.jsonl": undefined,
    // A resumed run reports only itself.
    "stream-json-resume-second.jsonl": ["gemini-3.5-flash-lite: 140/25/10/0 ?", "gemini-3.8-flash: 140/25/10/0 ?"],
    "stream-json-resume-unknown-id.stderr.txt": undefined,
    "stream-json-trust-env.jsonl": ["gemini-3.5-flash-lite: 110/25/10/0 ?", "gemini-3.8-flash: 100/25/10/0 ?"],
    "stream-json-untrusted-folder.stderr.txt": undefined,
    "stream-json-with-hooks-api-error.jsonl": [],
    "stream-json-with-hooks-not-registered.jsonl": GEMINI_RUN,
    "stream-json-with-hooks.jsonl": GEMINI_RUN,
    "stream-json-yolo-ask-user.jsonl": GEMINI_RUN,
    "stream-json-yolo-shell-exit-3.jsonl": GEMINI_RUN,
    "stream-json-yolo-shell.jsonl": GEMINI_RUN,
    "stream-json-yolo-write-file.jsonl": GEMINI_RUN,
    "stream-json-yolo-write-outside-workspace.jsonl": GEMINI_RUN,
    "text-auto-edit-write-file.txt": undefined,
  };
  const dir = path.join(GEMINI, "stream");
  assert.deepEqual(files(dir), Object.keys(expected).sort(), "an expectation for every fixture");
  for (const [file, want] of Object.entries(expected)) {
    const usage = runUsage("gemini", read(path.join(dir, file)));
    assert.deepEqual(usage && brief(usage.records), want, file);
  }
  assert.equal(
    geminiRunUsage(read(path.join(dir, "stream-json-resume-second.jsonl")))!.session_id,
    "5e55e55e-0000-4000-8000-000000000001",
  );
  assert.equal(runUsage("generic", read(path.join(dir, "stream-json-yolo-write-file.jsonl"))), undefined);
});

/** Reads a transcript in pieces of `step` bytes (cut anywhere, even inside a line or a character). */
function readInPieces(file: string, window: { since: string; until?: string }, step = Infinity): TranscriptCursor {
  const bytes = Deno.readFileSync(file);
  let cursor = newTranscriptCursor();
  for (let end = Math.min(step, bytes.length);; end = Math.min(end + step, bytes.length)) {
    cursor = readTranscript(new TextDecoder().decode(bytes.subarray(cursor.offset, end)), cursor, window);
    if (end === bytes.length) break;
  }
  return cursor;
}

function transcriptBrief(cursor: TranscriptCursor, prices?: Parameters<typeof priced>[1]): string[] {
  return priced(transcriptUsage(cursor), prices).map((u) =>
    `${u.model} ${u.day === localDay("2026-11-21T06:30:00Z") ? "day" : u.day}: ${u.input_tokens}/${u.output_tokens} ${
      u.cost_usd === null ? "?" : `$${u.cost_usd}`
    }${u.cost_source ? ` (${u.cost_source})` : ""}${u.estimate ? " estimate" : ""}`
  );
}

Deno.test("Claude Code transcripts: each launch of a resumed conversation counts its own part, settled by cost-state", () => {
  const file = path.join(CLAUDE, "transcripts", "interactive-ask-then-resumed.jsonl");
  // Launched at 06:28:50, exited, resumed by a second launch at 06:29:15.
  const first = { since: "2026-11-21T06:28:50Z", until: "2026-11-21T06:29:15Z" };
  const second = { since: "2026-11-21T06:29:15Z" };
  // The first cost-state also counts the session's title call: 3 calls, not the 2 messages.
  assert.deepEqual(transcriptBrief(readInPieces(file, first)), ["claude-opus-5-5 day: 360/60 $0.00264 (reported)"]);
  assert.deepEqual(transcriptBrief(readInPieces(file, second)), ["claude-opus-5-5 day: 240/40 $0.00176 (reported)"]);
  // Read a few bytes at a time, as a live session is: the same.
  for (const step of [1, 7, 100, 4096]) {
    assert.deepEqual(readInPieces(file, first, step).settled, readInPieces(file, first).settled, `step ${step}`);
    assert.deepEqual(readInPieces(file, second, step).settled, readInPieces(file, second).settled, `step ${step}`);
  }
  // A launch that began in the middle of the first part: its own message there stays an estimate (that
  // cost-state covers another launch's too), the part after it is settled; nothing is counted twice.
  assert.deepEqual(transcriptBrief(readInPieces(file, { since: "2026-11-21T06:29:00Z" })), [
    "claude-opus-5-5 day: 240/40 $0.00176 (reported)",
    "claude-opus-5-5 day: 120/20 ? estimate",
  ]);
});

Deno.test("Claude Code transcripts: while live, the deduplicated messages are an estimate (priced or unknown)", () => {
  const text = read(path.join(CLAUDE, "transcripts", "interactive-write-and-question.jsonl"));
  const window = { since: "2026-11-21T06:39:00Z" };
  // Before the exit: 4 messages in 6 entries (one entry per content block, same message id).
  const live = readTranscript(
    text.slice(0, text.search(/"type": ?"cost-state"/)).replace(/[^\n]*$/, ""),
    newTranscriptCursor(),
    window,
  );
  assert.deepEqual(transcriptBrief(live), ["claude-opus-5-5 day: 480/80 ? estimate"]);
  assert.deepEqual(transcriptBrief(live, { "claude-opus-5-5": { input: 5, output: 25 } }), [
    "claude-opus-5-5 day: 480/80 $0.0044 (price table) estimate",
  ]);
  // At exit Claude's own totals (side calls included) replace the estimate.
  const rest = new TextDecoder().decode(new TextEncoder().encode(text).subarray(live.offset));
  const done = readTranscript(rest, live, window);
  assert.deepEqual(transcriptBrief(done), ["claude-opus-5-5 day: 600/100 $0.0044 (reported)"]);
  assert.equal(done.offset, new TextEncoder().encode(text).length);
});

Deno.test("Claude Code transcripts: headless runs and subagents in the conversation's cost-state", () => {
  // Two headless runs of one conversation (the same as stream/session-1-new and session-2-resume).
  const resumed = path.join(CLAUDE, "transcripts", "headless-resumed-session.jsonl");
  const between = "2026-11-21T06:38:47Z";
  assert.deepEqual(transcriptBrief(readInPieces(resumed, { since: "2026-11-21T06:38:40Z", until: between })), [
    "claude-opus-5-5 day: 240/40 $0.00176 (reported)",
  ]);
  // An interactive resume after a headless run: the run's part (recorded from its result) is left out.
  assert.deepEqual(transcriptBrief(readInPieces(resumed, { since: between }, 50)), [
    "claude-opus-5-5 day: 240/40 $0.00176 (reported)",
  ]);
  // The parent's cost-state includes its subagent (whose messages are in a file of their own).
  const parent = path.join(CLAUDE, "transcripts", "headless-subagent-session.jsonl");
  assert.deepEqual(transcriptBrief(readInPieces(parent, { since: "2026-11-21T06:38:50Z" })), [
    "claude-opus-5-5 day: 820/140 $0.00608 (reported)",
  ]);
  const sub = path.join(CLAUDE, "transcripts", "headless-subagent-session.subagents", "agent-a3b6f12cfe8eb467f.jsonl");
  assert.deepEqual(transcriptBrief(readInPieces(sub, { since: "2026-11-21T06:38:50Z" })), [
    "claude-opus-5-5 day: 360/60 ? estimate",
  ]);
});

Deno.test("Claude Code transcripts: the path from the config folder, working directory and session id", () => {
  for (const name of ["Stop.json", "SessionStart-startup.json", "PreToolUse-Write.json"]) {
    const p = JSON.parse(read(path.join(CLAUDE, "hooks", name)));
    const configDir = p.transcript_path.slice(0, p.transcript_path.indexOf("/projects/"));
    assert.equal(claudeTranscriptPath(configDir, p.cwd, p.session_id), p.transcript_path, name);
  }
});

Deno.test("prices: by model name or without its date; unknown models and unpriced token kinds cost null", () => {
  assert.equal(priceOf("claude-sonnet-4-5-20250929")?.input, 3);
  assert.equal(priceOf("gpt-5-2025-08-07")?.output, 10);
  assert.equal(priceOf("claude-sonnet-5[1m]"), undefined);
  assert.equal(priceOf(null), undefined);
  const counts = { input_tokens: 1_000_000, output_tokens: 100_000, cache_read: 2_000_000, cache_write: 0 };
  assert.equal(computeCost("claude-sonnet-4-5", counts), 3 + 1.5 + 0.6);
  assert.equal(computeCost("gpt-fake", counts), null);
  assert.equal(computeCost("x", counts, { x: { input: 1, output: 1 } }), null, "cache reads without a price");
  assert.equal(computeCost("x", { ...counts, cache_read: 0 }, { x: { input: 1, output: 1 } }), 1.1);
});
