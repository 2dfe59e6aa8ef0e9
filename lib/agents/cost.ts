/**
 * The cost ledger: what each agent launch used and cost, recorded from what the agents report
 * (a headless run's result when it ends; an interactive Claude Code session's transcript,
 * Codex session's rollout or Gemini CLI session's chat, read incrementally whenever `prj fleet` or `prj cost` looks), and reported per run, agent,
 * task or day. The parsing rules are in `usage.ts`; this module stores and sums.
 */
import type { Project } from "../project/project.ts";
import type { Store } from "../state/store.ts";
import { activeLaunches, launchesOfSession, type LaunchRecord, transcriptLaunches } from "../state/launches.ts";
import { ingestHookEvents } from "./hook_events.ts";
import { agentKind } from "./kinds.ts";
import { getRun } from "../state/runs.ts";
import {
  cursorsOf,
  listUsage,
  type NewUsage,
  previousSessionTotals,
  putUsage,
  replaceLaunchUsage,
  saveCursor,
  usageOfLaunches,
  type UsageRow,
} from "../state/usage.ts";
import { UsageError } from "../util/errors.ts";
import { now } from "../util/time.ts";
import {
  type ChatCursor,
  chatUsage,
  claudeTranscriptPath,
  codexRolloutModel,
  computeCost,
  type DayUsage,
  localDay,
  type ModelPrice,
  newChatCursor,
  newRolloutCursor,
  newTranscriptCursor,
  PRICES,
  readChat,
  readRollout,
  readTranscript,
  type RolloutCursor,
  rolloutUsage,
  roundUsd,
  runUsage,
  type SessionTotals,
  type TranscriptCursor,
  transcriptUsage,
} from "./usage.ts";

/** The prices costs are computed with: the built-in table and `agent.prices` from config (which wins). */
export function projectPrices(project: Project): Record<string, ModelPrice> {
  return { ...PRICES, ...(project.config.agent.prices ?? {}) };
}

/** The task and runner agent a launch worked for (a run of `prj agent run` is command `agent-task`). */
function ownerOf(store: Store, launch: LaunchRecord): { task_id: string | null; agent_id: string | null } {
  const run = launch.run_id ? getRun(store, launch.run_id) : undefined;
  if (run?.command !== "agent-task") return { task_id: null, agent_id: null };
  const text = (v: unknown) => (v === undefined || v === null || v === "" ? null : String(v));
  return { task_id: text(run.args.task), agent_id: text(run.args.agent) };
}

function readText(file: string | null): string | undefined {
  if (!file) return undefined;
  try {
    return Deno.readTextFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Records what a headless launch used and cost, from its output (the agent's standard
 * output: Claude Code's stream-json, Codex's `exec --json` events, Gemini CLI's stream-json).
 * Call it once the run has ended and its result is read. Recording a launch again replaces
 * its rows, so two prj processes that both saw it end count it once. A conversation that
 * reports only running totals (Codex; Claude Code before `model_usage_since_last_result`)
 * has the totals its last recorded run ended with subtracted.
 *
 * @param store the project's database
 * @param launch the launch (its id, kind, model, run, worktree)
 * @param output the agent's standard output
 * @returns the rows recorded (none when the output reports no usage)
 */
export function recordUsage(store: Store, launch: LaunchRecord, output: string): NewUsage[] {
  const kind = launch.kind;
  // Codex does not name its model in its output; its rollout (the transcript its hooks name) does.
  const model = launch.model ?? (kind === "codex" ? codexRolloutModel(readText(launch.transcript_path) ?? "") : null);
  let usage = runUsage(kind, output, { model });
  if (!usage) return [];
  if (usage.session_totals && usage.session_id) {
    const previous = previousSessionTotals(store, kind, usage.session_id, launch.id);
    if (previous) {
      usage = runUsage(kind, output, { model, previous: JSON.parse(previous) as SessionTotals }) ?? usage;
    }
  }
  const at = now();
  const owner = ownerOf(store, launch);
  const base = {
    launch_id: launch.id,
    run_id: launch.run_id,
    ...owner,
    worktree: launch.worktree,
    kind,
    session_id: usage.session_id,
    source: "result",
    at,
    day: localDay(at),
  };
  const totals = usage.session_totals ? JSON.stringify(usage.session_totals) : null;
  const rows: NewUsage[] = usage.records.map((r, i) => ({
    ...base,
    key: `launch:${launch.id}:result:${r.model ?? "?"}`,
    model: r.model,
    input_tokens: r.input_tokens,
    output_tokens: r.output_tokens,
    cache_read: r.cache_read,
    cache_write: r.cache_write,
    cost_usd: r.cost_usd,
    cost_source: r.cost_source,
    session_totals: i === 0 ? totals : null,
  }));
  // Nothing of its own, but running totals to keep for the conversation's next run.
  if (rows.length === 0 && totals) {
    rows.push({
      ...base,
      key: `launch:${launch.id}:result:${model ?? "?"}`,
      model,
      input_tokens: 0,
      output_tokens: 0,
      cache_read: 0,
      cache_write: 0,
      cost_usd: 0,
      cost_source: "reported",
      session_totals: totals,
    });
  }
  putUsage(store, rows);
  return rows;
}

/** Claude Code's folder: `CLAUDE_CONFIG_DIR`, else `~/.claude`. */
function claudeConfigDir(): string | undefined {
  const dir = Deno.env.get("CLAUDE_CONFIG_DIR");
  if (dir) return dir;
  const home = Deno.env.get("HOME");
  return home ? `${home}/.claude` : undefined;
}

/** Where a launch's current conversation is kept: the path its hooks reported, else Claude Code's layout. */
function transcriptOf(launch: LaunchRecord, configDir: string | undefined): string | undefined {
  const id = launch.agent_session_id;
  if (!id) return undefined;
  if (launch.transcript_path?.endsWith(`/${id}.jsonl`)) return launch.transcript_path;
  return configDir ? claudeTranscriptPath(configDir, launch.worktree_path, id) : undefined;
}

/** How long after its launch an interactive session's transcript is still read (besides those in the fleet). */
const READ_FOR_MS = 7 * 86_400_000;

/**
 * Reads what was appended to the transcripts of interactive Claude Code sessions since the
 * last look, and records their usage (one row per model and day; an estimate while the
 * session runs, Claude Code's own account once it exits). Each launch reads its own part of
 * a conversation (a resumed one appends to the same file), from where it stopped.
 *
 * @param store the project's database
 * @param options `configDir`: Claude Code's folder (default `CLAUDE_CONFIG_DIR`, else `~/.claude`)
 * @returns how many launches had new usage
 */
export function syncTranscripts(store: Store, options: { configDir?: string | undefined } = {}): number {
  const configDir = options.configDir ?? claudeConfigDir();
  const recent = new Date(Date.now() - READ_FOR_MS).toISOString();
  let updated = 0;
  for (const launch of transcriptLaunches(store, recent)) {
    const saved = new Map(cursorsOf(store, launch.id).map((c) => [c.path, c.state]));
    const current = transcriptOf(launch, configDir);
    const paths = new Set(saved.keys());
    if (current) paths.add(current);
    const cursors: TranscriptCursor[] = [];
    let changed = false;
    for (const file of paths) {
      let cursor = saved.has(file) ? JSON.parse(saved.get(file)!) as TranscriptCursor : newTranscriptCursor();
      let size: number;
      try {
        size = Deno.statSync(file).size;
      } catch {
        cursors.push(cursor);
        continue;
      }
      // A file that shrank was written anew: read it from the start.
      if (size < cursor.offset) cursor = newTranscriptCursor();
      if (size > cursor.offset) {
        const sessionId = file.slice(file.lastIndexOf("/") + 1).replace(/\.jsonl$/, "");
        const later = launchesOfSession(store, sessionId).find((l) => l.id > launch.id);
        cursor = readTranscript(readFrom(file, cursor.offset), cursor, {
          since: launch.launched_at,
          until: later?.launched_at ?? null,
        });
        saveCursor(store, launch.id, file, JSON.stringify(cursor), now());
        changed = true;
      }
      cursors.push(cursor);
    }
    if (!changed) continue;
    updated++;
    replaceLaunchUsage(store, launch.id, "transcript", transcriptRows(store, launch, cursors));
  }
  return updated + syncSessionFiles(store, recent);
}

/** How a kind's interactive session file is read: from a cursor, for one launch's window. */
interface SessionFileReader<C extends { offset: number }> {
  /** The `source` of its usage rows. */
  source: string;
  /** Whether a path is the conversation's own file. */
  owns(file: string, sessionId: string): boolean;
  start(): C;
  read(chunk: string, cursor: C, window: { since: string; until: string | null }): C;
  usage(cursor: C): DayUsage[];
}

const CODEX_ROLLOUT: SessionFileReader<RolloutCursor> = {
  source: "rollout",
  owns: (file, id) => file.endsWith(`-${id}.jsonl`),
  start: newRolloutCursor,
  read: readRollout,
  usage: rolloutUsage,
};

const GEMINI_CHAT: SessionFileReader<ChatCursor> = {
  source: "chat",
  // Named by the start time and the id's first 8 hex digits.
  owns: (file, id) => /\/chats\/session-[^/]*\.jsonl$/.test(file) && file.endsWith(`-${id.slice(0, 8)}.jsonl`),
  start: newChatCursor,
  read: readChat,
  usage: chatUsage,
};

/**
 * The same for interactive Codex and Gemini CLI sessions: each launch reads its part of its
 * conversation's file (the one its hooks named, which must be the conversation's own; a resumed
 * one goes on in the same file), from where it stopped.
 */
function syncSessionFiles(store: Store, recent: string): number {
  // The conversation's id and file come from the hooks: stored first, when no fleet call has yet.
  for (const l of activeLaunches(store)) {
    if (l.headless || (l.kind !== "codex" && l.kind !== "gemini") || l.transcript_path) continue;
    ingestHookEvents(store, l, agentKind(l.kind));
  }
  return syncKind(store, recent, "codex", CODEX_ROLLOUT) + syncKind(store, recent, "gemini", GEMINI_CHAT);
}

function syncKind<C extends { offset: number }>(
  store: Store,
  recent: string,
  kind: string,
  reader: SessionFileReader<C>,
): number {
  let updated = 0;
  for (const launch of transcriptLaunches(store, recent, kind)) {
    const id = launch.agent_session_id;
    if (!id) continue;
    // A resumed conversation goes on in the same file: the path an earlier launch's hooks named, until this one's say.
    const file = launch.transcript_path ??
      launchesOfSession(store, id).findLast((l) => l.id < launch.id && l.transcript_path)?.transcript_path;
    if (!file || !reader.owns(file, id)) continue;
    const saved = cursorsOf(store, launch.id).find((c) => c.path === file);
    let cursor = saved ? JSON.parse(saved.state) as C : reader.start();
    let size: number;
    try {
      size = Deno.statSync(file).size;
    } catch {
      continue;
    }
    if (size < cursor.offset) cursor = reader.start();
    if (size === cursor.offset) continue;
    const later = launchesOfSession(store, id).find((l) => l.id > launch.id);
    cursor = reader.read(readFrom(file, cursor.offset), cursor, {
      since: launch.launched_at,
      until: later?.launched_at ?? null,
    });
    saveCursor(store, launch.id, file, JSON.stringify(cursor), now());
    updated++;
    const owner = ownerOf(store, launch);
    replaceLaunchUsage(
      store,
      launch.id,
      reader.source,
      reader.usage(cursor).map((u) => {
        const model = u.model || launch.model || null;
        return dayRow(
          launch,
          owner,
          reader.source,
          `launch:${launch.id}:${reader.source}:${model ?? ""}:${u.day}`,
          u,
          model,
        );
      }),
    );
  }
  return updated;
}

function readFrom(file: string, offset: number): string {
  const f = Deno.openSync(file, { read: true });
  try {
    f.seekSync(offset, Deno.SeekMode.Start);
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(256 * 1024);
    for (;;) {
      const n = f.readSync(buffer);
      if (n === null || n === 0) break;
      chunks.push(buffer.slice(0, n));
    }
    const all = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    return new TextDecoder().decode(all);
  } finally {
    f.close();
  }
}

/** A usage row for one model and day of a launch's session file. */
function dayRow(
  launch: LaunchRecord,
  owner: { task_id: string | null; agent_id: string | null },
  source: string,
  key: string,
  u: DayUsage,
  model: string | null,
): NewUsage {
  // The day's usage is dated at the launch or, for a later day, that day's start.
  const dayStart = new Date(`${u.day}T00:00:00`).toISOString();
  return {
    key,
    launch_id: launch.id,
    run_id: launch.run_id,
    ...owner,
    worktree: launch.worktree,
    kind: launch.kind,
    model,
    session_id: launch.agent_session_id,
    source,
    at: dayStart > launch.launched_at ? dayStart : launch.launched_at,
    day: u.day,
    input_tokens: u.input_tokens,
    output_tokens: u.output_tokens,
    cache_read: u.cache_read,
    cache_write: u.cache_write,
    cost_usd: u.cost_usd,
    cost_source: u.cost_source,
    session_totals: null,
  };
}

function transcriptRows(store: Store, launch: LaunchRecord, cursors: readonly TranscriptCursor[]): NewUsage[] {
  const owner = ownerOf(store, launch);
  const rows = new Map<string, NewUsage>();
  for (const u of cursors.flatMap((c) => transcriptUsage(c))) {
    const key = `launch:${launch.id}:transcript:${u.estimate ? "estimate" : "reported"}:${u.model}:${u.day}`;
    const had = rows.get(key);
    if (had) {
      had.input_tokens += u.input_tokens;
      had.output_tokens += u.output_tokens;
      had.cache_read += u.cache_read;
      had.cache_write += u.cache_write;
      had.cost_usd = had.cost_usd === null || u.cost_usd === null ? null : roundUsd(had.cost_usd + u.cost_usd);
      continue;
    }
    rows.set(key, dayRow(launch, owner, "transcript", key, u, u.model));
  }
  return [...rows.values()];
}

/** A row's cost: reported, else computed from the prices, else null. */
export function rowCost(row: UsageRow, prices: Readonly<Record<string, ModelPrice>>): number | null {
  return row.cost_usd ?? computeCost(row.model, row, prices);
}

/** What to group a cost report by. */
export type CostBy = "run" | "agent" | "task" | "day";

/** The grouping keys a cost report takes. */
export const COST_BY: readonly CostBy[] = ["day", "run", "agent", "task"];

/** One line of a cost report. */
export interface CostLine {
  /** The day, run id, agent or task (`-` for usage without one). */
  key: string;
  /** Agent launches counted. */
  launches: number;
  input_tokens: number;
  output_tokens: number;
  cache_read: number;
  cache_write: number;
  /** The sum of the known costs in USD; null when none is known. */
  cost_usd: number | null;
  /** Usage rows whose cost is unknown (a model without a price): the cost is at least {@link cost_usd}. */
  unknown_costs: number;
  /** Usage rows whose cost was computed from the prices (the agent reported none) rather than reported. */
  priced_costs: number;
  /** The models used. */
  models: string[];
  /** The agent kinds used. */
  kinds: string[];
  /** ISO times of the first and last usage. */
  first_at: string;
  last_at: string;
}

/** A cost report. */
export interface CostReport {
  by: CostBy;
  /** The start of the period, as given (`7d`, `2026-11-01`), or null for all time. */
  since: string | null;
  lines: CostLine[];
  total: Omit<CostLine, "key" | "first_at" | "last_at">;
}

function keyOf(row: UsageRow, by: CostBy): string {
  switch (by) {
    case "day":
      return row.day;
    case "run":
      return row.run_id ?? (row.launch_id === null ? "-" : `launch ${row.launch_id}`);
    case "task":
      return row.task_id ?? "-";
    case "agent":
      // A runner's agent by its id; any other agent by its kind and worktree.
      return row.agent_id ?? `${row.kind}@${row.worktree ?? "-"}`;
  }
}

type Sum = Omit<CostLine, "key" | "first_at" | "last_at"> & { launchIds: Set<number | string> };

function emptySum(): Sum {
  return {
    launches: 0,
    input_tokens: 0,
    output_tokens: 0,
    cache_read: 0,
    cache_write: 0,
    cost_usd: null,
    unknown_costs: 0,
    priced_costs: 0,
    models: [],
    kinds: [],
    launchIds: new Set(),
  };
}

function addRow(sum: Sum, row: UsageRow, prices: Readonly<Record<string, ModelPrice>>): void {
  sum.launchIds.add(row.launch_id ?? row.key);
  sum.launches = sum.launchIds.size;
  sum.input_tokens += row.input_tokens;
  sum.output_tokens += row.output_tokens;
  sum.cache_read += row.cache_read;
  sum.cache_write += row.cache_write;
  const cost = rowCost(row, prices);
  if (cost === null) sum.unknown_costs++;
  else sum.cost_usd = roundUsd((sum.cost_usd ?? 0) + cost);
  if (cost !== null && row.cost_usd === null) sum.priced_costs++;
  if (row.model && !sum.models.includes(row.model)) sum.models.push(row.model);
  if (!sum.kinds.includes(row.kind)) sum.kinds.push(row.kind);
}

function finish(sum: Sum): Omit<CostLine, "key" | "first_at" | "last_at"> {
  const { launchIds: _, ...rest } = sum;
  // No row at all costs nothing; rows that all have unknown costs cost "unknown", not 0.
  return { ...rest, cost_usd: rest.cost_usd ?? (rest.unknown_costs > 0 ? null : 0) };
}

/**
 * Sums usage rows into a report, one line per day, run, agent or task, oldest first.
 *
 * @param rows the usage rows
 * @param by what to group by
 * @param prices the prices for costs not reported
 * @param since the period's start as given, for the report
 */
export function costReport(
  rows: readonly UsageRow[],
  by: CostBy,
  prices: Readonly<Record<string, ModelPrice>> = PRICES,
  since: string | null = null,
): CostReport {
  const groups = new Map<string, Sum & { first_at: string; last_at: string }>();
  const total = emptySum();
  for (const row of rows) {
    const key = keyOf(row, by);
    let group = groups.get(key);
    if (!group) groups.set(key, group = { ...emptySum(), first_at: row.at, last_at: row.at });
    addRow(group, row, prices);
    if (row.at < group.first_at) group.first_at = row.at;
    if (row.at > group.last_at) group.last_at = row.at;
    addRow(total, row, prices);
  }
  const lines = [...groups.entries()].map(([key, g]) => ({
    key,
    ...finish(g),
    first_at: g.first_at,
    last_at: g.last_at,
  }));
  lines.sort((a, b) => by === "day" ? a.key.localeCompare(b.key) : a.first_at.localeCompare(b.first_at));
  return { by, since, lines, total: finish(total) };
}

/**
 * The start of a period: a duration back from now (`7d`, `12h`), a day (`2026-11-01`) or
 * `today`.
 *
 * @throws {UsageError} for anything else
 */
export function parseSince(text: string, at: Date = new Date()): { at?: string; day?: string } {
  const t = text.trim();
  if (t === "today") return { day: localDay(at) };
  if (/^\d{4}-\d{2}-\d{2}$/.test(t) && !Number.isNaN(Date.parse(t))) return { day: t };
  const m = /^(\d+(?:\.\d+)?)(m|h|d|w)$/.exec(t);
  if (m) {
    const ms = Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as "m" | "h" | "d" | "w"];
    const since = new Date(at.getTime() - ms);
    if (Number.isNaN(since.getTime()) || since.getUTCFullYear() < 1) {
      throw new UsageError(`--since: "${text}" reaches back before the year 1`, { hint: "give a shorter duration" });
    }
    return { at: since.toISOString() };
  }
  throw new UsageError(`--since: expected a duration (7d, 12h), a day (2026-11-01) or today, found "${text}"`, {
    hint: "a duration is a number and one unit: m, h, d or w",
  });
}

/**
 * The cost report of a project: transcripts read up to now first, then the recorded usage
 * summed.
 */
export function projectCostReport(
  project: Project,
  store: Store,
  options: { by?: CostBy | undefined; since?: string | undefined } = {},
): CostReport {
  syncTranscripts(store);
  const since = options.since ? parseSince(options.since) : {};
  return costReport(listUsage(store, since), options.by ?? "day", projectPrices(project), options.since ?? null);
}

/** What a launch cost so far. */
export interface LaunchCost {
  /** The sum of the known costs in USD, or null when none is known. */
  cost_usd: number | null;
  /** Whether some of its usage has no known cost. */
  unknown: boolean;
  /** Whether some of its cost was computed from the prices (the agent reported none). */
  priced: boolean;
  /** All tokens (input, output, cache reads and writes). */
  tokens: number;
}

/** What each of some launches cost so far (launches with no recorded usage are left out). */
export function launchCosts(
  store: Store,
  launchIds: readonly number[],
  prices: Readonly<Record<string, ModelPrice>> = PRICES,
): Map<number, LaunchCost> {
  const out = new Map<number, LaunchCost>();
  for (const row of usageOfLaunches(store, launchIds)) {
    const id = row.launch_id!;
    const had = out.get(id) ?? { cost_usd: null, unknown: false, priced: false, tokens: 0 };
    const cost = rowCost(row, prices);
    out.set(id, {
      cost_usd: cost === null ? had.cost_usd : roundUsd((had.cost_usd ?? 0) + cost),
      unknown: had.unknown || cost === null,
      priced: had.priced || (cost !== null && row.cost_usd === null),
      tokens: had.tokens + row.input_tokens + row.output_tokens + row.cache_read + row.cache_write,
    });
  }
  return out;
}

/** What the project's agents spent on a local day (today by default): known costs, and rows of unknown cost. */
export function spentOn(
  project: Project,
  store: Store,
  day: string = localDay(new Date()),
): { day: string; cost_usd: number; unknown: number } {
  syncTranscripts(store);
  const prices = projectPrices(project);
  let cost = 0;
  let unknown = 0;
  for (const row of listUsage(store, { day }).filter((r) => r.day === day)) {
    const c = rowCost(row, prices);
    if (c === null) unknown++;
    else cost += c;
  }
  return { day, cost_usd: roundUsd(cost), unknown };
}

/**
 * Dollars for a person: `$0.0018` below a cent, `$1.23` above; `?` when unknown, `$0.0018+?`
 * when partly; `~$0.0018` when computed from prices rather than reported.
 */
export function formatUsd(cost: number | null, unknown = false, priced = false): string {
  if (cost === null) return "?";
  const text = cost === 0 ? "$0.00" : cost < 0.01 ? `$${cost.toFixed(4)}` : `$${cost.toFixed(2)}`;
  return `${priced ? "~" : ""}${text}${unknown ? "+?" : ""}`;
}
