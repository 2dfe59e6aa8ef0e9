/** `prj fleet` (alias `prj ps`): what every agent is doing, at a glance; `--watch` refreshes and notifies. */
import type { PrjContext } from "../cli.ts";
import { type FleetRow, notifyChanges, sampleFleet, stateLabel } from "../lib/agents/fleet/sample.ts";
import { attachTo } from "./session.ts";
import { type QueuedAgent, queuedAgents } from "../lib/agents/slots.ts";
import { importLazy } from "../lib/util/lazy.ts";
import { ago, type Io, table } from "./io.ts";
import { now } from "../lib/util/time.ts";
import { openProject } from "../lib/project/project.ts";
import { openStore } from "../lib/state/store.ts";
import { parseDuration } from "../lib/util/duration.ts";
import { PrjError, UsageError } from "../lib/util/errors.ts";
import { fleetOverlaps } from "../lib/workspace/conflict_watch.ts";
import { aheadBehind, changedPaths } from "../lib/workspace/git.ts";
import { baseBranch } from "../lib/workspace/worktrees/names.ts";
import { isDirectory } from "../lib/util/fs.ts";
import { overlapLabel, type WorktreeOverlap } from "../lib/workspace/conflicts.ts";
import { formatUsd } from "../lib/agents/cost.ts";

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
function queuedJson(q: QueuedAgent) {
  return { ...q, stateLabel: `queued (${q.position})` };
}

function render(io: Io, rows: Row[], queued: QueuedAgent[] = []): string {
  if (rows.length === 0 && queued.length === 0) {
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
    // Launches waiting for a slot (agent.max_agents), in the order they start.
    ...queued.map((q, i) => [
      String(rows.length + i + 1),
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
    const snapshot = async () => {
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
      return {
        queued: queuedAgents(store),
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
      const { rows } = await snapshot();
      const n = Number(flags.attach);
      const row = Number.isInteger(n) && n >= 1
        ? rows[n - 1]
        : rows.find((r) => r.worktree === flags.attach || r.session === flags.attach);
      if (!row?.session) {
        throw new UsageError(`No agent "${flags.attach}" with a session in the fleet`, {
          hint: "see `prj fleet` for row numbers",
        });
      }
      return await attachTo(this, row.session);
    }
    if (!flags.watch) {
      const { rows, queued } = await snapshot();
      if (flags.json) {
        return io.json([...rows.map((r) => ({ ...r, stateLabel: stateLabel(r) })), ...queued.map(queuedJson)]);
      }
      return io.out(render(io, rows, queued));
    }
    // --watch: refresh in place on a TTY (keys: 1-9 attach, q quit); plain snapshots when piped.
    const controller = new AbortController();
    const stop = () => controller.abort();
    Deno.addSignalListener("SIGINT", stop);
    let selected: string | undefined;
    let rows: Row[] = [];
    const keys = io.interactive && io.tty
      ? readKeys(controller.signal, (key) => {
        if (key === "q" || key === "\u0003") controller.abort();
        else if (/^[1-9]$/.test(key) && rows[Number(key) - 1]?.session) {
          selected = rows[Number(key) - 1]!.session!;
          controller.abort();
        }
      })
      : undefined;
    try {
      while (!controller.signal.aborted) {
        const snap = await snapshot();
        rows = snap.rows;
        const time = now();
        const stamp = time.slice(11, 19);
        if (flags.json) {
          io.out(
            JSON.stringify({
              time,
              agents: [...rows.map((r) => ({ ...r, stateLabel: stateLabel(r) })), ...snap.queued.map(queuedJson)],
            }),
          );
        } else if (io.tty) {
          io.raw("\x1b[H\x1b[2J");
          io.out(`${io.paint("bold", "prj fleet")} ${stamp}  (1-9 attach, q quit)`);
          io.out(render(io, rows, snap.queued));
          if (snap.notified.length > 0) io.raw("\x07");
        } else {
          io.out(`-- ${stamp}`);
          io.out(render(io, rows, snap.queued));
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
