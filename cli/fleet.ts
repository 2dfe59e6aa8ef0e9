/** `prj fleet` (alias `prj ps`): what every agent is doing, at a glance; `--watch` refreshes and notifies. */
import type { PrjContext } from "../cli.ts";
import { type FleetRow, notifyChanges, sampleFleet, stateLabel } from "../lib/agents/fleet/sample.ts";
import { attachTo } from "./session.ts";
import { type QueuedAgent, queuedAgents } from "../lib/agents/slots.ts";
import { importLazy } from "../lib/util/lazy.ts";
import { ago, fitWidth, type Io, table } from "./io.ts";
import { now } from "../lib/util/time.ts";
import { openProject } from "../lib/project/project.ts";
import { openStore } from "../lib/state/store.ts";
import { parseDuration } from "../lib/util/duration.ts";
import { PrjError, UsageError } from "../lib/util/errors.ts";
import { fleetOverlaps } from "../lib/workspace/conflict_watch.ts";
import { aheadBehind, changedPaths } from "../lib/workspace/git.ts";
import { baseBranch } from "../lib/workspace/worktrees/names.ts";
import { isDirectory } from "../lib/util/fs.ts";
import { listWorktreeRecords } from "../lib/state/worktrees.ts";
import { portFor } from "../lib/workspace/ports.ts";
import { overlapLabel, type WorktreeOverlap } from "../lib/workspace/conflicts.ts";
import { formatUsd } from "../lib/agents/cost.ts";
import { listSessions, type SessionInfo } from "../lib/workspace/sessions.ts";
import { TMUX_HINT } from "../lib/workspace/tmux.ts";

function stateStyle(row: FleetRow): "green" | "yellow" | "gray" | "red" | "cyan" {
  switch (row.state) {
    case "working":
      return "cyan";
    case "waiting for input":
      return "yellow";
    case "idle":
      return "gray";
    case "exited":
      return row.exitCode === 0 ? "green" : "red";
    default:
      return "red";
  }
}

/** A fleet row with the other worktrees its worktree overlaps (`prj conflicts` has the detail). */
type Row = FleetRow & { overlaps: WorktreeOverlap[] };

function overlapCell(io: Io, r: Row): string {
  const label = overlapLabel(r.overlaps);
  if (r.overlaps.some((o) => o.conflicts.length > 0)) return io.paint("red", label);
  return r.overlaps.length > 0 ? io.paint("yellow", label) : label;
}

/** A launch waiting for a slot under agent.max_agents, as `--json` shows it (position 1 starts next). */
function queuedJson(q: QueuedAgent, row: number) {
  return { row, ...q, stateLabel: `queued (${q.position})` };
}

/** A prj session with no agent in it (`prj worktree create --session`): a shell to attach to. */
interface SessionRow {
  session: SessionInfo;
  branch: string | null;
  changedFiles: number | null;
  ahead: number | null;
  behind: number | null;
  port: number | null;
  overlaps: WorktreeOverlap[];
}

/** What a snapshot shows, in row order: agents, sessions without one, launches waiting for a slot. */
interface Snapshot {
  rows: Row[];
  sessions: SessionRow[];
  queued: QueuedAgent[];
  notified: unknown[];
  /** Set when tmux could not be started: agents in sessions cannot be seen. */
  tmuxMissing: boolean;
}

/** The session of each numbered row (`--attach 2`, keys 1-9), in the order the table numbers them. */
function rowSessions(snap: Snapshot): (string | null)[] {
  return [
    ...snap.rows.map((r) => r.session),
    ...snap.sessions.map((s) => s.session.name),
    ...snap.queued.map(() => null),
  ];
}

/** `--json`: every row with the number `--attach` takes. */
function snapshotJson(snap: Snapshot) {
  let row = 0;
  return [
    ...snap.rows.map((r) => ({ row: ++row, ...r, stateLabel: stateLabel(r) })),
    ...snap.sessions.map((s) => ({
      row: ++row,
      kind: "session",
      worktree: s.session.worktree,
      worktreePath: s.session.path,
      branch: s.branch,
      session: s.session.name,
      agent: null,
      state: "no agent",
      stateLabel: "no agent",
      since: s.session.created,
      changedFiles: s.changedFiles,
      ahead: s.ahead,
      behind: s.behind,
      port: s.port,
    })),
    ...snap.queued.map((q) => queuedJson(q, ++row)),
  ];
}

function render(io: Io, rows: Row[], queued: QueuedAgent[] = [], sessions: SessionRow[] = []): string {
  if (rows.length === 0 && queued.length === 0 && sessions.length === 0) {
    return "no agents; start one with `prj run feature-branch feature_name=<name>`";
  }
  return table([
    [
      "#",
      "WORKTREE",
      "BRANCH",
      "SESSION",
      "AGENT",
      "STATE",
      "SINCE",
      "CHANGED",
      "+/-",
      "OVERLAPS",
      "COST",
      "PORT",
      "LAST OUTPUT",
    ]
      .map((h) => io.paint("gray", h)),
    ...rows.map((r, i) => [
      String(i + 1),
      r.worktree ?? r.worktreePath,
      r.branch ?? "-",
      r.session ?? (r.headless ? "(headless)" : "-"),
      `${r.agent}${r.model ? `/${r.model}` : ""}`,
      // A state read from the screen (no hook said it) is marked: it is the fallback.
      io.paint(stateStyle(r), stateLabel(r) + (r.stateSource === "pane" ? " (pane)" : "")),
      ago(r.since),
      r.changedFiles === null ? "-" : String(r.changedFiles),
      r.ahead === null ? "-" : `+${r.ahead}/-${r.behind}`,
      overlapCell(io, r),
      r.cost ? formatUsd(r.cost.cost_usd, r.cost.unknown, r.cost.priced) : "-",
      r.port === null ? "-" : String(r.port),
      (r.lastLine ?? "").slice(0, 60),
    ]),
    // prj's sessions with no agent (a worktree made with --session): a shell, ready to attach.
    ...sessions.map((s, i) => [
      String(rows.length + i + 1),
      s.session.worktree,
      s.branch ?? "-",
      s.session.name,
      "-",
      io.paint("gray", "no agent"),
      ago(s.session.created),
      s.changedFiles === null ? "-" : String(s.changedFiles),
      s.ahead === null ? "-" : `+${s.ahead}/-${s.behind}`,
      overlapCell(io, { overlaps: s.overlaps } as Row),
      "-",
      s.port === null ? "-" : String(s.port),
      "",
    ]),
    // Launches waiting for a slot (agent.max_agents), in the order they start.
    ...queued.map((q, i) => [
      String(rows.length + sessions.length + i + 1),
      q.worktree ?? q.worktreePath,
      q.branch ?? "-",
      q.session ?? (q.headless ? "(headless)" : "-"),
      `${q.agent}${q.model ? `/${q.model}` : ""}`,
      io.paint("gray", `queued (${q.position})`),
      ago(q.since),
      "-",
      "-",
      "-",
      "-",
      "-",
      `waits for a slot (prj pid ${q.waitingPid})`,
    ]),
  ]);
}

/** `prj fleet [--watch] [--json] [--interval 2s]`. */
export async function fleet(
  this: PrjContext,
  flags: { watch?: boolean; json?: boolean; interval?: string; attach?: string },
): Promise<void> {
  const project = await openProject();
  const store = openStore(project.prjDir);
  const { io } = this;
  const idleAfterMs = project.config.fleet.idle_after * 1000;
  const intervalMs = parseDuration(flags.interval ?? "2s", "--interval");
  try {
    const snapshot = async (): Promise<Snapshot> => {
      // The conflict scan runs beside the sampling and reads each worktree's git state once:
      // changed files and ahead/behind come from it, with the other worktrees it overlaps.
      const [{ rows, changes }, git] = await Promise.all([
        sampleFleet(project, store, { idleAfterMs, withGit: false }),
        fleetOverlaps(project, store).catch((error) => {
          if (!(error instanceof PrjError)) throw error;
          return { byPath: new Map<string, WorktreeOverlap[]>(), worktrees: new Map(), notified: [] };
        }),
      ]);
      const notified = [...await notifyChanges(project, store, changes), ...git.notified];
      // prj's sessions with no agent in them, and whether tmux can be asked at all.
      let tmuxMissing = false;
      const live = await listSessions(project).catch((error) => {
        if (!(error instanceof PrjError)) throw error;
        tmuxMissing = /is not installed/.test(error.message);
        return [] as SessionInfo[];
      });
      // A launch waiting for a slot has its own row (queued), not one of a session with no agent.
      const queued = queuedAgents(store);
      const withAgent = new Set([...rows, ...queued].flatMap((r) => [r.session, r.worktreePath]));
      const records = new Map(listWorktreeRecords(store).map((w) => [w.path, w]));
      const sessions = live.filter((x) => x.worktreeExists && !withAgent.has(x.name) && !withAgent.has(x.path))
        .map((x): SessionRow => {
          const w = git.worktrees.get(x.path);
          const record = records.get(x.path);
          return {
            session: x,
            branch: record?.branch ?? null,
            changedFiles: w ? w.uncommitted.length : null,
            ahead: w?.ahead ?? null,
            behind: w?.behind ?? null,
            port: record ? portFor(project, record.port_slot) : null,
            overlaps: git.byPath.get(x.path) ?? [],
          };
        });
      return {
        tmuxMissing: tmuxMissing || rows.some((r) => r.unseen !== undefined),
        sessions,
        queued,
        rows: await Promise.all(rows.map(async (r): Promise<Row> => {
          const overlaps = git.byPath.get(r.worktreePath) ?? [];
          const w = git.worktrees.get(r.worktreePath);
          if (w) return { ...r, changedFiles: w.uncommitted.length, ahead: w.ahead, behind: w.behind, overlaps };
          // An agent outside the linked worktrees (the main checkout): asked here.
          if (!isDirectory(r.worktreePath)) return { ...r, overlaps };
          const place = { project: project.root, worktree: r.worktreePath };
          const [paths, counts] = await Promise.all([
            changedPaths(place).catch(() => undefined),
            r.branch ? aheadBehind(project.root, await baseBranch(project), r.branch) : undefined,
          ]);
          return {
            ...r,
            changedFiles: paths?.length ?? null,
            ahead: counts?.ahead ?? null,
            behind: counts?.behind ?? null,
            overlaps,
          };
        })),
        notified,
      };
    };
    if (flags.attach !== undefined) {
      const snap = await snapshot();
      const n = Number(flags.attach);
      const session = Number.isInteger(n) && n >= 1
        ? rowSessions(snap)[n - 1]
        : [...snap.rows, ...snap.sessions.map((x) => ({ worktree: x.session.worktree, session: x.session.name }))]
          .find((r) => r.worktree === flags.attach || r.session === flags.attach)?.session;
      if (!session) {
        throw new UsageError(`No row "${flags.attach}" with a session in the fleet`, {
          hint: "see `prj fleet` for the row numbers (`prj fleet --json` has them as `row`)",
        });
      }
      return await attachTo(this, session);
    }
    const tmuxNote = (snap: Snapshot) => {
      if (snap.tmuxMissing) {
        io.err(
          `${io.paint("yellow", "note:")} tmux is not installed (or not on PATH): agents in sessions cannot be seen; ` +
            TMUX_HINT,
        );
      }
    };
    if (!flags.watch) {
      const snap = await snapshot();
      tmuxNote(snap);
      if (flags.json) return io.json(snapshotJson(snap));
      return io.out(render(io, snap.rows, snap.queued, snap.sessions));
    }
    // --watch: refresh in place on a TTY (keys: 1-9 attach, q quit); plain snapshots when piped.
    const controller = new AbortController();
    const stop = () => controller.abort();
    Deno.addSignalListener("SIGINT", stop);
    let selected: string | undefined;
    let targets: (string | null)[] = [];
    const keys = io.interactive && io.tty
      ? readKeys(controller.signal, (key) => {
        if (key === "q" || key === "\u0003") controller.abort();
        else if (/^[1-9]$/.test(key) && targets[Number(key) - 1]) {
          selected = targets[Number(key) - 1]!;
          controller.abort();
        }
      })
      : undefined;
    try {
      while (!controller.signal.aborted) {
        const snap = await snapshot();
        targets = rowSessions(snap);
        const time = now();
        const stamp = time.slice(11, 19);
        if (flags.json) {
          io.out(JSON.stringify({ time, agents: snapshotJson(snap) }));
        } else if (io.tty) {
          io.raw("\x1b[H\x1b[2J");
          // Cut to the terminal's width: a wrapped line would break the refresh in place.
          const columns = (() => {
            try {
              return Deno.consoleSize().columns;
            } catch {
              return 80;
            }
          })();
          const note = snap.tmuxMissing
            ? "\nnote: tmux is not installed (or not on PATH): sessions cannot be seen"
            : "";
          io.out(
            fitWidth(
              `${io.paint("bold", "prj fleet")} ${stamp}  (1-9 attach, q quit)\n${
                render(io, snap.rows, snap.queued, snap.sessions)
              }${note}`,
              columns,
            ),
          );
          if (snap.notified.length > 0) io.raw("\x07");
        } else {
          tmuxNote(snap);
          io.out(`-- ${stamp}`);
          io.out(render(io, snap.rows, snap.queued, snap.sessions));
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, intervalMs);
          controller.signal.addEventListener("abort", () => {
            clearTimeout(timer);
            resolve();
          }, { once: true });
        });
      }
    } finally {
      Deno.removeSignalListener("SIGINT", stop);
      await keys;
    }
    if (selected) await attachTo(this, selected);
  } finally {
    store.close();
  }
}

async function readKeys(signal: AbortSignal, onKey: (key: string) => void): Promise<void> {
  Deno.stdin.setRaw(true);
  const buffer = new Uint8Array(16);
  try {
    while (!signal.aborted) {
      const n = await Promise.race([
        Deno.stdin.read(buffer),
        new Promise<null>((resolve) => signal.addEventListener("abort", () => resolve(null), { once: true })),
      ]);
      if (n === null) break;
      onKey(new TextDecoder().decode(buffer.subarray(0, n)));
    }
  } finally {
    Deno.stdin.setRaw(false);
  }
}

/** `prj fleet restore [--dry-run] [--json]`: every agent that was live, back in its session with its conversation. */
export async function restore(this: PrjContext, flags: { dryRun?: boolean; json?: boolean }): Promise<void> {
  const project = await openProject();
  const store = openStore(project.prjDir);
  const { io } = this;
  try {
    // Loaded only for restore: `prj fleet` itself stays as quick to start as before.
    const { restoreFleet } = await importLazy<typeof import("../lib/agents/fleet/restore.ts")>(
      "../lib/agents/fleet/restore.ts",
      import.meta.url,
    );
    const report = await restoreFleet(project, store, { dryRun: flags.dryRun });
    // Something that was live and did not come back is a failure of the command.
    if (report.failed.length > 0) this.exit.code = 1;
    if (flags.json) return io.json(report);
    const where = (r: { worktree: string | null; worktreePath: string }) => r.worktree ?? r.worktreePath;
    for (const r of report.restored) {
      io.out(
        `${flags.dryRun ? "would restore" : "restored"} ${where(r)}: ${r.agent} conversation ${r.agentSessionId} ` +
          `(was ${r.lastState}) in session ${r.newSession ?? "-"}`,
      );
    }
    for (const r of report.failed) {
      io.out(`${io.paint("red", "not restored")} ${where(r)} (${r.agent}, was ${r.lastState}): ${r.reason}`);
    }
    for (const r of report.live) io.out(`${io.paint("gray", "still live")} ${where(r)}: ${r.lastState}`);
    if (report.restored.length + report.failed.length === 0) {
      io.out("nothing to restore: no agent that was live is gone");
    } else if (!flags.dryRun && report.restored.length > 0) {
      io.out("see them: prj fleet; attach: prj session attach <session>");
    }
  } finally {
    store.close();
  }
}
