/** `prj status`, `prj history`, `prj logs`, `prj cleanup`. */
import * as path from "../lib/util/path.ts";
import type { PrjContext } from "../cli.ts";
import { PrjError } from "../lib/util/errors.ts";
import { getRun, listRuns, type RunRecord } from "../lib/state/runs.ts";
import { listSteps } from "../lib/state/steps.ts";
import { listArtifacts } from "../lib/state/artifacts.ts";
import { ago, duration, type Io, statusStyle, table } from "./io.ts";
import { openProject } from "../lib/project/project.ts";
import { openStore } from "../lib/state/store.ts";
import { deleteRuns, findRun, findStep, runDir, runLogText } from "../lib/run/history.ts";
import { planRunCleanup } from "../lib/run/cleanup.ts";
import { exists } from "../lib/util/fs.ts";
import { parseDuration } from "../lib/util/duration.ts";
import { sweep } from "./confirm.ts";

async function open() {
  const project = await openProject();
  return { project, store: openStore(project.prjDir) };
}

function runRows(io: Io, runs: RunRecord[]): string {
  return table([
    ["RUN", "COMMAND", "STATUS", "STARTED", "DURATION", "WORKTREE / ERROR"].map((h) => io.paint("gray", h)),
    ...runs.map((r) => [
      r.id,
      r.command,
      io.paint(statusStyle(r.status), r.status),
      ago(r.started_at),
      r.status === "running" ? duration(Date.now() - Date.parse(r.started_at)) : duration(r.duration_ms),
      r.error ? io.paint("red", r.error.slice(0, 80)) : r.worktree ?? "",
    ]),
  ]);
}

/** `prj status`: project, active runs, recent runs. */
export async function status(this: PrjContext, flags: { json?: boolean }): Promise<void> {
  const { project, store } = await open();
  try {
    const active = listRuns(store, { status: "running" });
    const recent = listRuns(store, { limit: 5 });
    if (flags.json) {
      return this.io.json({
        project: { root: project.root, name: project.name, currentWorktree: project.currentWorktree ?? null },
        active,
        recent,
      });
    }
    const { io } = this;
    io.out(`${io.paint("bold", "project")}  ${project.name} (${project.root})`);
    if (project.currentWorktree) io.out(`${io.paint("bold", "worktree")} ${project.currentWorktree}`);
    io.out(`${io.paint("bold", "active")}   ${active.length === 0 ? "no runs in progress" : ""}`);
    if (active.length > 0) io.out(runRows(io, active));
    io.out(io.paint("bold", "recent"));
    io.out(recent.length === 0 ? "no runs yet; try `prj list`, then `prj run <command>`" : runRows(io, recent));
  } finally {
    store.close();
  }
}

/** `prj history`. */
export async function history(
  this: PrjContext,
  flags: { limit?: number; status?: string; command?: string; json?: boolean },
): Promise<void> {
  const { store } = await open();
  try {
    const runs = listRuns(store, {
      limit: flags.limit ?? 20,
      ...(flags.status ? { status: flags.status } : {}),
      ...(flags.command ? { command: flags.command } : {}),
    });
    if (flags.json) {
      return this.io.json(
        runs.map((r) => ({ ...r, steps: listSteps(store, r.id), artifacts: listArtifacts(store, r.id) })),
      );
    }
    this.io.out(runs.length === 0 ? "no runs match" : runRows(this.io, runs));
  } finally {
    store.close();
  }
}

/** `prj logs <run> [step] [--follow]`. */
export async function logs(this: PrjContext, flags: { follow?: boolean }, runId: string, step?: string): Promise<void> {
  const { project, store } = await open();
  let file: string;
  let id: string;
  try {
    const run = findRun(store, runId);
    id = run.id;
    if (step === undefined) {
      file = path.join(runDir(project.prjDir, run), "run.log");
      // A run recorded without a run log (an agent task run of an older prj): its steps' logs.
      if (!exists(file) && run.status !== "running") return this.io.raw(await runLogText(store, project.prjDir, run));
    } else {
      const hit = findStep(store, run, step);
      if (!hit.log_path) throw new PrjError(`Step "${hit.name}" of run ${run.id} did not run, so it has no log`);
      file = hit.log_path;
    }
  } finally {
    store.close();
  }
  let offset = 0;
  const printNew = async () => {
    let f: Deno.FsFile;
    try {
      f = await Deno.open(file);
    } catch {
      return false;
    }
    try {
      await f.seek(offset, Deno.SeekMode.Start);
      const buf = new Uint8Array(64 * 1024);
      for (;;) {
        const n = await f.read(buf);
        if (n === null) break;
        this.io.raw(new TextDecoder().decode(buf.subarray(0, n)));
        offset += n;
      }
    } finally {
      f.close();
    }
    return true;
  };
  if (!(await printNew()) && !flags.follow) {
    throw new PrjError(`The log ${file} is missing`, {
      hint: "its artifacts may have been deleted; `prj history --json` still shows what the run recorded",
    });
  }
  if (!flags.follow) return;
  for (;;) {
    const s = openStore(project.prjDir);
    const run = getRun(s, id);
    s.close();
    await printNew();
    if (!run || run.status !== "running") break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await printNew();
}

/** `prj cleanup [--older-than 30d] [--yes] [--dry-run]`. */
export async function cleanup(
  this: PrjContext,
  flags: { olderThan?: string; yes?: boolean; dryRun?: boolean },
): Promise<void> {
  const age = parseDuration(flags.olderThan ?? "30d", "--older-than");
  const { project, store } = await open();
  const { io } = this;
  try {
    const { runs, kept, launches } = await planRunCleanup(project, store, new Date(Date.now() - age));
    for (const k of kept) io.out(`keep ${k.id} (${k.command}): ${k.why}`);
    const older = flags.olderThan ?? "30d";
    const folders = launches.length > 0 ? ` and ${launches.length} launch folder(s)` : "";
    await sweep(this, flags, {
      items: [...runs, ...launches],
      nothing: `no finished runs older than ${older}`,
      show: () => {
        if (runs.length > 0) {
          io.out(
            `${runs.length} run(s) older than ${older} would be deleted with their artifacts and agent launch folders:`,
          );
          io.out(runRows(io, runs.slice(0, 10)) + (runs.length > 10 ? `\n... and ${runs.length - 10} more` : ""));
        }
        if (launches.length > 0) {
          io.out(
            `${launches.length} launch folder(s) of agents started outside a run (resumed, messaged) before then would be deleted`,
          );
        }
      },
      question: `Delete ${runs.length} run(s)${folders}?`,
      apply: () => deleteRuns(store, project.prjDir, runs, launches),
      done: `deleted ${runs.length} run(s)${folders}`,
    });
  } finally {
    store.close();
  }
}
