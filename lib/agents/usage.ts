/**
 * What an agent's work cost, read from what the agent itself reports: the result of a headless
 * run (Claude Code's stream-json `result`, Codex's `turn.completed` usage, Gemini CLI's
 * `result.stats`) and, for interactive Claude Code sessions, its transcript. Pure: text in,
 * usage records out, so every rule here is tested over the real CLIs' output.
 *
 * Token counts are normalised the way the Anthropic API counts them: `input_tokens` are the
 * input tokens that were not read from a cache, `cache_read` those that were, `cache_write`
 * those written to one (Codex reports its cached tokens inside `input_tokens`, Gemini CLI
 * too: both are split here), and `output_tokens` includes thinking (Gemini CLI reports its
 * thoughts apart; they are billed as output).
 *
 * A cost is the one the agent reported (Claude Code) or, when it reports none, one computed
 * from {@link PRICES} (or `agent.prices` in config) for a model named there; otherwise it is
 * unknown (null), never a guess.
 *
 * @module
 */

/** Token counts of one model. */
export interface TokenCounts {
  /** Input tokens not read from a cache. */
  input_tokens: number;
  /** Output tokens, thinking included. */
  output_tokens: number;
  /** Input tokens read from a cache. */
  cache_read: number;
  /** Input tokens written to a cache. */
  cache_write: number;
}

/** Where a cost came from: the agent's own report, a price per token, or nowhere (unknown). */
export type CostSource = "reported" | "price table" | null;

/** What one model used in one run (or one part of a session). */
export interface UsageRecord extends TokenCounts {
  /** The model, as the agent named it; null when it did not say and prj did not choose it. */
  model: string | null;
  /** The conversation's id, when known. */
  session_id: string | null;
  /** USD, or null when unknown. */
  cost_usd: number | null;
  /** Where {@link cost_usd} came from. */
  cost_source: CostSource;
}

/**
 * A conversation's running totals per model as the agent reported them at the end of a run
 * (Claude Code's `modelUsage`, Codex's `turn.completed` usage): cumulative across resumes.
 * Kept with the run so that the next run of the same conversation, where only running totals
 * are reported, counts only what it added.
 */
export type SessionTotals = Record<string, TokenCounts & { cost_usd: number | null }>;

/** A headless run's usage. */
export interface RunUsage {
  /** One record per model; empty when the run reported no usage (it failed before any request). */
  records: UsageRecord[];
  /** The conversation's running totals after this run, when the agent reports running totals. */
  session_totals: SessionTotals | null;
  /** The conversation's id. */
  session_id: string | null;
}

/** USD per million tokens of one model. */
export interface ModelPrice {
  input: number;
  output: number;
  /** Cache reads; when missing, a run that read from a cache has an unknown cost. */
  cache_read?: number | undefined;
  /** Cache writes; when missing, a run that wrote to a cache has an unknown cost. */
  cache_write?: number | undefined;
}

/**
 * List prices in USD per million tokens, as the vendors published them in 2025 (Anthropic:
 * cache writes at the 5-minute rate, 1.25 times input, reads at 0.1 times; OpenAI: cached
 * input, no charge for writing the cache). Only for computing a cost the agent did not report
 * (Codex, Gemini CLI, an interactive Claude session that is still running): Claude Code
 * reports its own. Models with a price that depends on the length of the prompt (Gemini 2.5
 * Pro, Claude's 1M-token context, shown as `[1m]`) are not here. A model not named here (or in
 * `agent.prices` in config, which adds to and overrides this table) has an unknown cost.
 */
export const PRICES: Readonly<Record<string, ModelPrice>> = {
  "claude-opus-4-1": { input: 15, output: 75, cache_read: 1.5, cache_write: 18.75 },
  "claude-opus-4-0": { input: 15, output: 75, cache_read: 1.5, cache_write: 18.75 },
  "claude-opus-4": { input: 15, output: 75, cache_read: 1.5, cache_write: 18.75 },
  "claude-opus-4-5": { input: 5, output: 25, cache_read: 0.5, cache_write: 6.25 },
  "claude-sonnet-4-5": { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
  "claude-sonnet-4-0": { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
  "claude-sonnet-4": { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
  "claude-3-7-sonnet": { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
  "claude-haiku-4-5": { input: 1, output: 5, cache_read: 0.1, cache_write: 1.25 },
  "claude-3-5-haiku": { input: 0.8, output: 4, cache_read: 0.08, cache_write: 1 },
  "gpt-5": { input: 1.25, output: 10, cache_read: 0.125, cache_write: 0 },
  "gpt-5-codex": { input: 1.25, output: 10, cache_read: 0.125, cache_write: 0 },
  "gpt-5-mini": { input: 0.25, output: 2, cache_read: 0.025, cache_write: 0 },
  "gpt-5-nano": { input: 0.05, output: 0.4, cache_read: 0.005, cache_write: 0 },
};

const ZERO: TokenCounts = { input_tokens: 0, output_tokens: 0, cache_read: 0, cache_write: 0 };

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
const obj = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? v as Record<string, unknown> : undefined;

/** Every JSON object in a text: one per line (stream-json), or the whole text as one object (`--output-format json`). */
function jsonObjects(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line.startsWith("{") || !line.endsWith("}")) continue;
    try {
      const json = obj(JSON.parse(line));
      if (json) out.push(json);
    } catch { /* not JSON */ }
  }
  if (out.length === 0 && text.trim().startsWith("{")) {
    try {
      const json = obj(JSON.parse(text));
      if (json) out.push(json);
    } catch { /* not JSON */ }
  }
  return out;
}

function add(a: TokenCounts, b: TokenCounts): TokenCounts {
  return {
    input_tokens: a.input_tokens + b.input_tokens,
    output_tokens: a.output_tokens + b.output_tokens,
    cache_read: a.cache_read + b.cache_read,
    cache_write: a.cache_write + b.cache_write,
  };
}

/** `a - b`, never below zero (a conversation whose earlier totals prj did not see). */
function minus(a: TokenCounts, b: TokenCounts | undefined): TokenCounts {
  if (!b) return { ...a };
  return {
    input_tokens: Math.max(0, a.input_tokens - b.input_tokens),
    output_tokens: Math.max(0, a.output_tokens - b.output_tokens),
    cache_read: Math.max(0, a.cache_read - b.cache_read),
    cache_write: Math.max(0, a.cache_write - b.cache_write),
  };
}

/** Whether a record used no tokens at all. */
export function isEmpty(c: TokenCounts): boolean {
  return c.input_tokens === 0 && c.output_tokens === 0 && c.cache_read === 0 && c.cache_write === 0;
}

/** Rounds a sum of dollars to what a float can say honestly (no 0.00176000000000002). */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e10) / 1e10;
}

// ---------------------------------------------------------------------------------------------
// Claude Code

/** Claude Code's per-model usage (`modelUsage`, `model_usage_since_last_result`, `cost-state`). */
function claudeModelCounts(m: Record<string, unknown>): TokenCounts & { cost_usd: number | null } {
  return {
    input_tokens: num(m.inputTokens),
    output_tokens: num(m.outputTokens),
    cache_read: num(m.cacheReadInputTokens),
    cache_write: num(m.cacheCreationInputTokens),
    cost_usd: typeof m.costUSD === "number" ? m.costUSD : null,
  };
}

function claudeTotals(modelUsage: unknown): SessionTotals {
  const totals: SessionTotals = {};
  for (const [model, m] of Object.entries(obj(modelUsage) ?? {})) {
    const usage = obj(m);
    if (usage) totals[model] = claudeModelCounts(usage);
  }
  return totals;
}

/**
 * The usage of one headless Claude Code run (`-p --output-format stream-json`, or
 * `--output-format json`). Its `total_cost_usd` and `modelUsage` are the conversation's
 * running totals (a resumed run reports the earlier runs too), so the run's own share is
 * `model_usage_since_last_result`, summed over its result lines (a run with a background
 * subagent prints two). A version without that field has its share computed from the
 * running totals minus `previous`, the totals the conversation's last recorded run reported.
 *
 * @param text the run's standard output
 * @param previous the conversation's running totals before this run, if prj recorded them
 * @returns undefined when the output holds no result
 */
export function claudeRunUsage(text: string, previous?: SessionTotals | null): RunUsage | undefined {
  const results = jsonObjects(text).filter((e) => e.type === "result");
  const last = results.at(-1);
  if (!last) return undefined;
  const sessionId = str(last.session_id);
  const totals = claudeTotals(last.modelUsage);
  const perModel = new Map<string, TokenCounts & { cost_usd: number | null }>();
  const since = results.filter((r) => obj(r.model_usage_since_last_result) !== undefined);
  if (since.length > 0) {
    for (const r of since) {
      for (const [model, m] of Object.entries(claudeTotals(r.model_usage_since_last_result))) {
        const seen = perModel.get(model);
        perModel.set(
          model,
          seen
            ? {
              ...add(seen, m),
              cost_usd: seen.cost_usd === null || m.cost_usd === null ? null : seen.cost_usd + m.cost_usd,
            }
            : m,
        );
      }
    }
  } else {
    for (const [model, m] of Object.entries(totals)) {
      const before = previous?.[model];
      const cost = m.cost_usd === null ? null : Math.max(0, m.cost_usd - (before?.cost_usd ?? 0));
      perModel.set(model, { ...minus(m, before), cost_usd: cost });
    }
  }
  const records: UsageRecord[] = [];
  for (const [model, m] of perModel) {
    if (isEmpty(m) && !m.cost_usd) continue;
    records.push({
      model,
      session_id: sessionId,
      input_tokens: m.input_tokens,
      output_tokens: m.output_tokens,
      cache_read: m.cache_read,
      cache_write: m.cache_write,
      cost_usd: m.cost_usd === null ? null : roundUsd(m.cost_usd),
      cost_source: m.cost_usd === null ? null : "reported",
    });
  }
  return { records, session_totals: Object.keys(totals).length > 0 ? totals : null, session_id: sessionId };
}

// ---------------------------------------------------------------------------------------------
// Codex CLI

/**
 * The usage of one headless Codex run (`codex exec --json`, or `exec resume`). Its
 * `turn.completed` usage is the thread's running total, not the turn's: the run's share is
 * the last total minus `previous` (the total the thread's last recorded run ended with).
 * Codex counts cached tokens inside `input_tokens` and reasoning inside `output_tokens`, and
 * reports no cost and no model: `model` is the one prj launched it with (or read elsewhere).
 *
 * @param text the run's standard output
 * @param model the model, when known
 * @param previous the thread's running totals before this run, if prj recorded them
 * @returns undefined when the output is not Codex's
 */
export function codexRunUsage(
  text: string,
  model: string | null,
  previous?: SessionTotals | null,
): RunUsage | undefined {
  const events = jsonObjects(text);
  if (!events.some((e) => typeof e.type === "string" && /^(thread|turn)\./.test(e.type))) return undefined;
  let sessionId: string | null = null;
  let total: TokenCounts | undefined;
  for (const e of events) {
    if (e.type === "thread.started") sessionId = str(e.thread_id) ?? sessionId;
    if (e.type === "turn.completed") {
      const u = obj(e.usage) ?? {};
      const cached = num(u.cached_input_tokens);
      total = {
        input_tokens: Math.max(0, num(u.input_tokens) - cached),
        output_tokens: num(u.output_tokens),
        cache_read: cached,
        cache_write: num(u.cache_write_input_tokens),
      };
    }
  }
  if (!total) return { records: [], session_totals: null, session_id: sessionId };
  const key = model ?? "";
  // The thread's totals are kept under its model's name; an earlier run's, whatever it was.
  const before = previous?.[key] ?? Object.values(previous ?? {})[0];
  const own = minus(total, before);
  return {
    records: isEmpty(own) ? [] : [{ model, session_id: sessionId, ...own, cost_usd: null, cost_source: null }],
    session_totals: { [key]: { ...total, cost_usd: null } },
    session_id: sessionId,
  };
}

/**
 * The model a Codex conversation used, from its rollout file (the `transcript_path` its hooks
 * report): the `thread_settings_applied` event names it.
 */
export function codexRolloutModel(text: string): string | null {
  for (const e of jsonObjects(text)) {
    const payload = obj(e.payload);
    const settings = obj(payload?.thread_settings);
    const model = str(settings?.model) ?? (e.type === "turn_context" ? str(payload?.model) : null);
    if (model) return model;
  }
  return null;
}

/** What a session file's reader takes from a chunk: its whole lines, their length in bytes, and the launch's window in ms. */
function wholeLines(
  chunk: string,
  window: { since: string; until?: string | null | undefined },
): { text: string; bytes: number; since: number; until: number } | undefined {
  const end = chunk.lastIndexOf("\n");
  if (end < 0) return undefined;
  const text = chunk.slice(0, end + 1);
  return {
    text,
    bytes: new TextEncoder().encode(text).length,
    since: Date.parse(window.since),
    until: window.until ? Date.parse(window.until) : Infinity,
  };
}

/**
 * Where reading one launch's part of a Codex rollout got to: kept between reads, so each read
 * looks only at what was appended since.
 */
export interface RolloutCursor {
  /** Bytes read (whole lines only). */
  offset: number;
  /** The model the thread's latest turn named. */
  model: string | null;
  /** Usage of the launch's responses, by `model\tday`. */
  usage: Record<string, TokenCounts>;
}

/** A cursor at the start of a rollout. */
export function newRolloutCursor(): RolloutCursor {
  return { offset: 0, model: null, usage: {} };
}

/**
 * Reads what was appended to an interactive Codex session's rollout
 * (`$CODEX_HOME/sessions/.../rollout-<time>-<thread id>.jsonl`, the `transcript_path` its hooks
 * report) for one launch of the thread: each response's `token_usage_record` timed within
 * `[since, until)` counts (a resumed thread appends to the same file; each launch counts its
 * own part), under the model the turn's `turn_context` named, by local day. Cached tokens are
 * inside Codex's `input_tokens` and reasoning inside `output_tokens`; no cost is reported.
 *
 * @param chunk the text from `cursor.offset` on (a partial last line is left for the next read)
 * @param cursor where the last read stopped (not changed)
 * @param window the launch's time window (ISO times; `until` open when no later launch resumed it)
 * @returns the new cursor
 * @example
 * ```ts
 * import { newRolloutCursor, readRollout } from "./usage.ts";
 * import assert from "node:assert/strict";
 *
 * const usage = { input_tokens: 100, cached_input_tokens: 10, cache_write_input_tokens: 0, output_tokens: 20 };
 * const text = [
 *   { timestamp: "2026-11-21T11:18:40.000Z", type: "turn_context", payload: { model: "gpt-5" } },
 *   { timestamp: "2026-11-21T11:18:41.000Z", type: "token_usage_record", payload: { usage } },
 * ].map((e) => JSON.stringify(e) + "\n").join("");
 * const read = readRollout(text, newRolloutCursor(), { since: "2026-11-21T11:18:00.000Z" });
 * assert.deepEqual(Object.values(read.usage), [{ input_tokens: 90, output_tokens: 20, cache_read: 10, cache_write: 0 }]);
 * ```
 */
export function readRollout(
  chunk: string,
  cursor: RolloutCursor,
  window: { since: string; until?: string | null | undefined },
): RolloutCursor {
  const next: RolloutCursor = structuredClone(cursor);
  const read = wholeLines(chunk, window);
  if (!read) return next;
  const { text, since, until } = read;
  next.offset += read.bytes;
  for (const entry of jsonObjects(text)) {
    const payload = obj(entry.payload);
    if (entry.type === "turn_context") next.model = str(payload?.model) ?? next.model;
    const settings = obj(payload?.thread_settings);
    if (entry.type === "event_msg" && payload?.type === "thread_settings_applied") {
      next.model = str(settings?.model) ?? next.model;
    }
    if (entry.type !== "token_usage_record") continue;
    const u = obj(payload?.usage);
    const at = Date.parse(String(entry.timestamp ?? ""));
    if (!u || !(at >= since && at < until)) continue;
    const cached = num(u.cached_input_tokens);
    const key = `${next.model ?? ""}\t${localDay(new Date(at))}`;
    next.usage[key] = add(next.usage[key] ?? ZERO, {
      input_tokens: Math.max(0, num(u.input_tokens) - cached),
      output_tokens: num(u.output_tokens),
      cache_read: cached,
      cache_write: num(u.cache_write_input_tokens),
    });
  }
  return next;
}

/** The usage a rollout cursor holds, per model and day (no cost: price it with {@link priced}). */
export function rolloutUsage(cursor: RolloutCursor): DayUsage[] {
  return Object.entries(cursor.usage).filter(([, c]) => !isEmpty(c)).sort(([a], [b]) => a.localeCompare(b)).map(
    ([key, counts]) => {
      const [model, day] = key.split("\t") as [string, string];
      return { model, day, estimate: false, ...counts, cost_usd: null, cost_source: null };
    },
  );
}

/**
 * Where reading one launch's part of a Gemini CLI chat got to: kept between reads, so each read
 * looks only at what was appended since.
 */
export interface ChatCursor {
  /** Bytes read (whole lines only). */
  offset: number;
  /** The launch's model replies by id (a reply that called a tool is written again, with the same id). */
  replies: Record<string, { model: string; day: string } & TokenCounts>;
}

/** A cursor at the start of a chat. */
export function newChatCursor(): ChatCursor {
  return { offset: 0, replies: {} };
}

/**
 * Reads what was appended to an interactive Gemini CLI session's chat
 * (`~/.gemini/tmp/<project>/chats/session-<time>-<id>.jsonl`, the `transcript_path` its hooks
 * report) for one launch: each model reply (`type: "gemini"`, with `tokens` and `model`) timed
 * within `[since, until)` counts once, by its id. `input` includes the cached tokens; thoughts
 * count as output. The calls of Gemini CLI's routing model are not in the chat.
 *
 * @param chunk the text from `cursor.offset` on (a partial last line is left for the next read)
 * @param cursor where the last read stopped (not changed)
 * @param window the launch's time window (ISO times; `until` open when no later launch resumed it)
 * @returns the new cursor
 */
export function readChat(
  chunk: string,
  cursor: ChatCursor,
  window: { since: string; until?: string | null | undefined },
): ChatCursor {
  const next: ChatCursor = structuredClone(cursor);
  const read = wholeLines(chunk, window);
  if (!read) return next;
  const { text, since, until } = read;
  next.offset += read.bytes;
  for (const entry of jsonObjects(text)) {
    const tokens = obj(entry.tokens);
    const id = str(entry.id);
    const model = str(entry.model);
    const at = Date.parse(String(entry.timestamp ?? ""));
    if (entry.type !== "gemini" || !tokens || !id || !model || !(at >= since && at < until)) continue;
    const cached = num(tokens.cached);
    next.replies[id] = {
      model,
      day: localDay(new Date(at)),
      input_tokens: Math.max(0, num(tokens.input) - cached),
      output_tokens: num(tokens.output) + num(tokens.thoughts),
      cache_read: cached,
      cache_write: 0,
    };
  }
  return next;
}

/** The usage a chat cursor holds, per model and day (no cost: price it with {@link priced}). */
export function chatUsage(cursor: ChatCursor): DayUsage[] {
  const sums = new Map<string, TokenCounts>();
  for (const { model, day, ...counts } of Object.values(cursor.replies)) {
    const key = `${model}\t${day}`;
    sums.set(key, add(sums.get(key) ?? ZERO, counts));
  }
  return [...sums].filter(([, c]) => !isEmpty(c)).sort(([a], [b]) => a.localeCompare(b)).map(([key, counts]) => {
    const [model, day] = key.split("\t") as [string, string];
    return { model, day, estimate: false, ...counts, cost_usd: null, cost_source: null };
  });
}

// ---------------------------------------------------------------------------------------------
// Gemini CLI

/**
 * The usage of one headless Gemini CLI run (`--output-format stream-json`, or `json`): the
 * result's `stats`, per model (the router's model and the main one), counting this run only
 * (a resumed run reports only itself). `input_tokens` there include the cached ones, and
 * thoughts are apart from `output_tokens` (total minus input minus output); no cost is reported.
 *
 * @returns undefined when the output holds no result
 */
export function geminiRunUsage(text: string): RunUsage | undefined {
  const events = jsonObjects(text);
  const sessionId = str(events.find((e) => e.type === "init")?.session_id) ??
    str(events.find((e) => "session_id" in e)?.session_id);
  const result = events.findLast((e) => e.type === "result" && obj(e.stats)) ??
    events.findLast((e) => e.type === undefined && obj(obj(e.stats)?.models));
  if (!result) return undefined;
  const models = obj(obj(result.stats)?.models) ?? {};
  const records: UsageRecord[] = [];
  for (const [model, raw] of Object.entries(models)) {
    const m = obj(raw) ?? {};
    const tokens = obj(m.tokens);
    // stream-json: {input_tokens, output_tokens, cached, input, total_tokens}; json: {tokens: {prompt, candidates, cached, input, thoughts}}.
    const counts: TokenCounts = tokens
      ? {
        input_tokens: num(tokens.input),
        output_tokens: num(tokens.candidates) + num(tokens.thoughts),
        cache_read: num(tokens.cached),
        cache_write: 0,
      }
      : {
        input_tokens: num(m.input),
        output_tokens: num(m.output_tokens) +
          Math.max(0, num(m.total_tokens) - num(m.input_tokens) - num(m.output_tokens)),
        cache_read: num(m.cached),
        cache_write: 0,
      };
    if (isEmpty(counts)) continue;
    records.push({ model, session_id: sessionId, ...counts, cost_usd: null, cost_source: null });
  }
  return { records, session_totals: null, session_id: sessionId };
}

/**
 * A headless run's usage, for an agent kind (`claude`, `codex`, `gemini`); undefined for
 * another kind or output without a result.
 *
 * @param kind the `agent.kind`
 * @param text the run's standard output
 * @param context the model prj launched it with, and the conversation's running totals before it
 */
export function runUsage(
  kind: string,
  text: string,
  context: { model?: string | null | undefined; previous?: SessionTotals | null | undefined } = {},
): RunUsage | undefined {
  switch (kind) {
    case "claude":
      return claudeRunUsage(text, context.previous);
    case "codex":
      return codexRunUsage(text, context.model ?? null, context.previous);
    case "gemini":
      return geminiRunUsage(text);
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Prices

/** The price of a model: by its name, or its name without a date suffix (`-20250929`, `-2025-08-07`). */
export function priceOf(
  model: string | null,
  prices: Readonly<Record<string, ModelPrice>> = PRICES,
): ModelPrice | undefined {
  if (!model) return undefined;
  return prices[model] ?? prices[model.replace(/-(\d{8}|\d{4}-\d{2}-\d{2})$/, "")];
}

/**
 * What tokens cost at a model's price, or null when the model has no price (or the price does
 * not say what one kind of the tokens used costs).
 */
export function computeCost(
  model: string | null,
  counts: TokenCounts,
  prices: Readonly<Record<string, ModelPrice>> = PRICES,
): number | null {
  const price = priceOf(model, prices);
  if (!price) return null;
  if (counts.cache_read > 0 && price.cache_read === undefined) return null;
  if (counts.cache_write > 0 && price.cache_write === undefined) return null;
  const usd = counts.input_tokens * price.input + counts.output_tokens * price.output +
    counts.cache_read * (price.cache_read ?? 0) + counts.cache_write * (price.cache_write ?? 0);
  return roundUsd(usd / 1e6);
}

/** Fills in the cost of records without a reported one, from the prices (still null for an unpriced model). */
export function priced<
  T extends TokenCounts & { model: string | null; cost_usd: number | null; cost_source: CostSource },
>(
  records: readonly T[],
  prices: Readonly<Record<string, ModelPrice>> = PRICES,
): T[] {
  return records.map((r) => {
    if (r.cost_usd !== null) return r;
    const cost = computeCost(r.model, r, prices);
    return cost === null ? r : { ...r, cost_usd: cost, cost_source: "price table" };
  });
}

// ---------------------------------------------------------------------------------------------
// Claude Code transcripts (interactive sessions)

/** Token counts and cost of one model on one day. */
export interface DayUsage extends TokenCounts {
  model: string;
  /** Local day, `YYYY-MM-DD`. */
  day: string;
  /** Counted from the messages (true), or Claude Code's own account at exit (false). */
  estimate: boolean;
  /** USD as reported, or null (an estimate's cost comes from the prices). */
  cost_usd: number | null;
  cost_source: CostSource;
}

/**
 * Where reading one launch's part of a Claude Code transcript got to: kept between reads, so
 * each read looks only at what was appended since.
 */
export interface TranscriptCursor {
  /** Bytes read (whole lines only). */
  offset: number;
  /** The last `cost-state` entry read: the conversation's running totals at that point. */
  baseline: SessionTotals | null;
  /** Assistant message ids counted since that entry (a message is one entry per content block). */
  seen: string[];
  /** Whether an assistant message outside the launch's time window came since that entry. */
  mixed: boolean;
  /** The day of the last message counted. */
  last_day: string | null;
  /** Usage settled by `cost-state` entries (Claude's own totals), by `model\tday`. */
  settled: Record<string, TokenCounts & { cost_usd: number | null }>;
  /** Usage counted from messages since the last `cost-state`, by `model\tday` (an estimate until the next one). */
  pending: Record<string, TokenCounts>;
  /** Estimates that stand: no `cost-state` could settle them (it covered another launch's messages too). */
  estimated: Record<string, TokenCounts>;
}

/** A cursor at the start of a transcript. */
export function newTranscriptCursor(): TranscriptCursor {
  return { offset: 0, baseline: null, seen: [], mixed: false, last_day: null, settled: {}, pending: {}, estimated: {} };
}

/** The local day of an ISO time, `YYYY-MM-DD`. */
export function localDay(iso: string | Date): string {
  const d = typeof iso === "string" ? new Date(iso) : iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/**
 * Reads what was appended to a Claude Code transcript
 * (`~/.claude/projects/<cwd slug>/<session id>.jsonl`) since the cursor, for one launch of the
 * conversation: messages timed within `[since, until)` are the launch's (a resumed
 * conversation appends to the same file; each launch counts its own part).
 *
 * Each assistant message is one entry per content block, all with the same `message.id` and
 * usage: it is counted once. Its tokens are an estimate: Claude Code's side calls (the
 * session's title) and subagents (files of their own) are not in it. At exit Claude Code
 * writes a `cost-state` entry with the conversation's running totals, side calls and
 * subagents included, and costs: the difference from the previous one replaces the estimate
 * of the messages between them, when all of those messages were this launch's.
 *
 * @param chunk the text from `cursor.offset` on (a partial last line is left for the next read)
 * @param cursor where the last read stopped (not changed)
 * @param window the launch's time window (ISO times; `until` open when no later launch resumed it)
 * @returns the new cursor
 */
export function readTranscript(
  chunk: string,
  cursor: TranscriptCursor,
  window: { since: string; until?: string | null | undefined },
): TranscriptCursor {
  const next: TranscriptCursor = structuredClone(cursor);
  const read = wholeLines(chunk, window);
  if (!read) return next;
  const { text, since, until } = read;
  next.offset += read.bytes;
  const seen = new Set(next.seen);
  for (const raw of text.split("\n")) {
    if (!raw.trim().startsWith("{")) continue;
    let entry: Record<string, unknown> | undefined;
    try {
      entry = obj(JSON.parse(raw));
    } catch {
      continue;
    }
    if (!entry) continue;
    if (entry.type === "assistant") {
      const message = obj(entry.message);
      const id = str(message?.id);
      const model = str(message?.model);
      const usage = obj(message?.usage);
      const at = Date.parse(String(entry.timestamp ?? ""));
      // Error messages Claude Code writes itself carry the model "<synthetic>" and no usage.
      if (!id || !model || !usage || model === "<synthetic>" || seen.has(id)) continue;
      seen.add(id);
      if (!(at >= since && at < until)) {
        next.mixed = true;
        continue;
      }
      const day = localDay(new Date(at));
      const key = `${model}\t${day}`;
      next.pending[key] = add(next.pending[key] ?? ZERO, {
        input_tokens: num(usage.input_tokens),
        output_tokens: num(usage.output_tokens),
        cache_read: num(usage.cache_read_input_tokens),
        cache_write: num(usage.cache_creation_input_tokens),
      });
      next.last_day = day;
    } else if (entry.type === "cost-state") {
      const totals = claudeTotals(entry.modelUsage);
      const counted = Object.keys(next.pending).length > 0;
      if (counted && next.mixed) {
        // Messages of another launch in the segment: this launch's estimate stands (nothing counted twice).
        for (const [key, c] of Object.entries(next.pending)) next.estimated[key] = add(next.estimated[key] ?? ZERO, c);
        next.pending = {};
      } else if (counted && next.last_day) {
        // Claude's own account of the segment replaces the estimate.
        next.pending = {};
        for (const [model, m] of Object.entries(totals)) {
          const before = next.baseline?.[model];
          const delta = minus(m, before);
          const cost = m.cost_usd === null ? null : Math.max(0, m.cost_usd - (before?.cost_usd ?? 0));
          if (isEmpty(delta) && !cost) continue;
          const key = `${model}\t${next.last_day}`;
          const had = next.settled[key];
          next.settled[key] = {
            ...add(had ?? ZERO, delta),
            cost_usd: cost === null || (had && had.cost_usd === null) ? null : roundUsd((had?.cost_usd ?? 0) + cost),
          };
        }
      }
      next.baseline = totals;
      next.mixed = false;
      seen.clear();
    }
  }
  next.seen = [...seen];
  return next;
}

/**
 * The usage a transcript cursor holds, per model and day: what `cost-state` entries settled
 * (with the cost Claude Code reported), and apart from it the estimate of the other messages
 * (`estimate: true`, no cost: price it with {@link priced}).
 */
export function transcriptUsage(cursor: TranscriptCursor): DayUsage[] {
  const keys = new Set([
    ...Object.keys(cursor.settled),
    ...Object.keys(cursor.pending),
    ...Object.keys(cursor.estimated),
  ]);
  const out: DayUsage[] = [];
  for (const key of [...keys].sort()) {
    const [model, day] = key.split("\t") as [string, string];
    const settled = cursor.settled[key];
    if (settled && (!isEmpty(settled) || settled.cost_usd)) {
      const { cost_usd, ...counts } = settled;
      out.push({
        model,
        day,
        estimate: false,
        ...counts,
        cost_usd,
        cost_source: cost_usd === null ? null : "reported",
      });
    }
    const open = add(cursor.pending[key] ?? ZERO, cursor.estimated[key] ?? ZERO);
    if (!isEmpty(open)) out.push({ model, day, estimate: true, ...open, cost_usd: null, cost_source: null });
  }
  return out;
}

/**
 * Where Claude Code keeps a conversation's transcript: `<config dir>/projects/<slug>/<id>.jsonl`,
 * the slug being the working directory with every character other than a letter or digit
 * replaced by `-` (a slug longer than 200 characters is cut and given a hash, which prj does
 * not reproduce: it uses the path the agent's hooks report when there is one).
 *
 * @param configDir `CLAUDE_CONFIG_DIR`, else `~/.claude`
 * @param cwd the agent's working directory
 * @param sessionId the conversation's id
 */
export function claudeTranscriptPath(configDir: string, cwd: string, sessionId: string): string {
  return `${configDir.replace(/\/+$/, "")}/projects/${cwd.replace(/[^a-zA-Z0-9]/g, "-")}/${sessionId}.jsonl`;
}
