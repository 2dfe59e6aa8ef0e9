/**
 * `prj doctor [--json]`: checks the project's state files, repairs what a prj process that died
 * left half-made (as every worktree or run command does first), and reports what else is out of
 * step: worktrees git and prj disagree on, sessions whose worktree is gone, agents stopped
 * holding a task, run folders with no run. Exit 1 when something needs the user.
 */
import * as path from "../lib/util/path.ts";
import type { PrjContext } from "../cli.ts";
import { table } from "./io.ts";
import { PrjError } from "../lib/util/errors.ts";
import { findProjectRoot, openProject, type Project } from "../lib/project/project.ts";
import { openStore, type Store } from "../lib/state/store.ts";
import { databaseHealth, runRecorded } from "../lib/state/health.ts";
import { liveIntents } from "../lib/state/journal.ts";
import { listRuns } from "../lib/state/runs.ts";
import { reconcile } from "../lib/workspace/reconcile.ts";
import { listWorktrees } from "../lib/workspace/worktrees/list.ts";
import { worktreeDir } from "../lib/workspace/worktrees/names.ts";
import { listSessions } from "../lib/workspace/sessions.ts";
import { agentStatuses } from "../lib/agents/runner.ts";

/** One finding. */
export interface DoctorCheck {
  /** What was checked: config, database, journal, run, worktree, session, agent, artifacts. */
  check: string;
  /** `ok`, `repaired` (prj fixed it now), `warning` (worth a look), `error` (needs the user). */
  status: "ok" | "repaired" | "warning" | "error";
  /** One line: what was found, and what to do. */
  message: string;
}

function oneLine(error: unknown): string {
  if (error instanceof PrjError) return error.message + (error.hint ? ` (${error.hint})` : "");
  return (error as Error).message;
}

/** `prj doctor`. */
export async function doctor(this: PrjContext, flags: { json?: boolean }): Promise<void> {
  const checks: DoctorCheck[] = [];
  const add = (check: string, status: DoctorCheck["status"], message: string) =>
    checks.push({ check, status, message });
  const found = findProjectRoot(Deno.cwd());
  if (!found) {
    throw new PrjError(`No prj project found in "${Deno.cwd()}" or its parents`, {
      hint: "run `prj init` in your repository first",
      exitCode: 2,
    });
  }
  const prjDir = path.join(found.root, ".prj");

  let project: Project | undefined;
  try {
    project = await openProject();
    add("config", "ok", `${path.relative(found.root, path.join(prjDir, "config.yaml"))} is valid`);
  } catch (error) {
    add("config", "error", oneLine(error));
  }

  let store: Store | undefined;
  try {
    store = openStore(prjDir);
    const health = databaseHealth(store);
    const intact = health.integrity.length === 1 && health.integrity[0] === "ok";
    add(
      "database",
      intact ? "ok" : "error",
      intact
        ? `${store.file}: schema ${health.version}, ${health.journalMode} journal, ${health.runs} run(s), intact`
        : `${store.file} is damaged (${
          health.integrity.slice(0, 3).join("; ")
        }); move it aside (\`mv ${store.file} ${store.file}.broken\`) and prj starts a new, empty one`,
    );
  } catch (error) {
    add("database", "error", oneLine(error));
  }

  try {
    if (project && store) await checkWithStore(project, store, add);
    else if (project) await checkWorkspace(project, undefined, add);
  } finally {
    store?.close();
  }

  const problems = checks.filter((c) => c.status === "error").length;
  const warnings = checks.filter((c) => c.status === "warning").length;
  this.exit.code = problems > 0 || warnings > 0 ? 1 : 0;
  if (flags.json) return this.io.json({ ok: problems === 0 && warnings === 0, checks });
  const { io } = this;
  const style = { ok: "green", repaired: "yellow", warning: "yellow", error: "red" } as const;
  io.out(table(checks.map((c) => [io.paint(style[c.status], c.status), c.check, c.message])));
  io.out(
    problems + warnings === 0
      ? "all good"
      : `${problems} error(s), ${warnings} warning(s): see the lines above for what to do`,
  );
}

async function checkWithStore(
  project: Project,
  store: Store,
  add: (check: string, status: DoctorCheck["status"], message: string) => void,
): Promise<void> {
  // What dead prj processes left: finished or undone now.
  const repairs = await reconcile(project, store);
  for (const r of repairs) {
    add(r.kind === "run" ? "run" : "worktree", r.outcome === "failed" ? "error" : "repaired", r.message);
  }
  const inFlight = liveIntents(project.prjDir);
  add(
    "journal",
    "ok",
    repairs.length === 0 && inFlight.length === 0
      ? "nothing left half-done by a prj process"
      : `${inFlight.length} operation(s) in progress (pid ${
        [...new Set(inFlight.map((i) => i.pid))].join(", ") || "-"
      })`,
  );

  // Runs recorded as running belong to live processes (dead ones were marked interrupted on open).
  const running = listRuns(store, { status: "running" });
  if (running.length > 0) add("run", "ok", `${running.length} run(s) running: ${running.map((r) => r.id).join(", ")}`);

  // Run folders with no run: left by a run that never got its row (or by hand); nothing points at them.
  const artifacts = path.join(project.prjDir, "artifacts");
  const live = new Set(inFlight.map((i) => i.runId).filter(Boolean));
  let removed = 0;
  try {
    for (const entry of Deno.readDirSync(artifacts)) {
      if (!entry.isDirectory || live.has(entry.name) || runRecorded(store, entry.name)) continue;
      const dir = path.join(artifacts, entry.name);
      // A run being opened right now makes its row first; a folder a minute old with no row is garbage.
      if (Date.now() - (Deno.statSync(dir).mtime?.getTime() ?? 0) < 60_000) continue;
      Deno.removeSync(dir, { recursive: true });
      removed++;
    }
  } catch { /* no artifacts yet */ }
  if (removed > 0) {
    add("artifacts", "repaired", `removed ${removed} run folder(s) in ${artifacts} with no run recorded`);
  }

  for (const a of agentStatuses(store)) {
    if (a.state === "stopped" && a.lock) {
      add(
        "agent",
        "warning",
        `agent ${a.agent_id} stopped holding task ${a.lock.task_id} (worktree ${a.lock.worktree}); ` +
          `\`prj agent run --role ${a.role} --agent-id ${a.agent_id}\` resumes it, \`prj task release ${a.lock.task_id}\` gives it back`,
      );
    }
  }
  await checkWorkspace(project, store, add);
}

async function checkWorkspace(
  project: Project,
  store: Store | undefined,
  add: (check: string, status: DoctorCheck["status"], message: string) => void,
): Promise<void> {
  let worktrees;
  try {
    worktrees = store ? await listWorktrees(project, store) : [];
  } catch (error) {
    add("worktree", "error", oneLine(error));
    return;
  }
  const dir = worktreeDir(project);
  let odd = 0;
  for (const wt of worktrees) {
    if (!wt.exists && wt.managed) {
      odd++;
      add(
        "worktree",
        "warning",
        `worktree ${wt.name}: its folder ${wt.path} is gone; \`prj worktree prune\` forgets it`,
      );
    } else if (!wt.managed && path.dirname(wt.path) === dir) {
      odd++;
      add(
        "worktree",
        "warning",
        `${wt.path} is a git worktree in prj's folder that prj has no record of; ` +
          `\`git worktree remove ${wt.path}\` if it is not yours`,
      );
    }
  }
  if (odd === 0) add("worktree", "ok", `${worktrees.length} worktree(s); git and prj agree on each`);
  try {
    const sessions = await listSessions(project);
    const orphans = sessions.filter((s) => !s.worktreeExists);
    for (const s of orphans) {
      add(
        "session",
        "warning",
        `session ${s.name}: its worktree ${s.path} is gone; \`prj session cleanup\` kills it`,
      );
    }
    if (orphans.length === 0) add("session", "ok", `${sessions.length} session(s), each in its worktree`);
  } catch (error) {
    add("session", "ok", `no sessions checked: ${oneLine(error)}`);
  }
}
