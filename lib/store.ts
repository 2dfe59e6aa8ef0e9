/** The project's state in SQLite (`.prj/state.db`): runs, steps, artifacts, worktrees; safe for many writers. */
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import * as path from "node:path";

/** The schema version this build writes (PRAGMA user_version). */
export const SCHEMA_VERSION = 3;

const MIGRATIONS: readonly string[] = [
  // v1
  `CREATE TABLE runs (
     id TEXT PRIMARY KEY,
     command TEXT NOT NULL,
     status TEXT NOT NULL,
     args TEXT NOT NULL DEFAULT '{}',
     shared TEXT NOT NULL DEFAULT '{}',
     started_at TEXT NOT NULL,
     finished_at TEXT,
     duration_ms INTEGER,
     error TEXT,
     pid INTEGER,
     pid_start TEXT,
     host TEXT,
     cwd TEXT,
     artifact_dir TEXT,
     worktree TEXT,
     branch TEXT,
     session TEXT,
     model TEXT,
     parent_id TEXT
   );
   CREATE INDEX runs_started ON runs(started_at);
   CREATE INDEX runs_status ON runs(status);
   CREATE TABLE steps (
     run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     idx INTEGER NOT NULL,
     phase TEXT NOT NULL,
     name TEXT NOT NULL,
     kind TEXT NOT NULL,
     status TEXT NOT NULL,
     started_at TEXT,
     finished_at TEXT,
     duration_ms INTEGER,
     output TEXT,
     data TEXT,
     error TEXT,
     log_path TEXT,
     PRIMARY KEY (run_id, idx)
   );
   CREATE TABLE artifacts (
     id INTEGER PRIMARY KEY,
     run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     step_idx INTEGER,
     name TEXT NOT NULL,
     path TEXT NOT NULL,
     size INTEGER NOT NULL,
     created_at TEXT NOT NULL
   );
   CREATE TABLE resources (
     id INTEGER PRIMARY KEY,
     run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     kind TEXT NOT NULL,
     name TEXT NOT NULL,
     path TEXT,
     branch TEXT,
     created_at TEXT NOT NULL,
     removed_at TEXT
   );
   CREATE TABLE worktrees (
     name TEXT PRIMARY KEY,
     path TEXT NOT NULL,
     branch TEXT NOT NULL,
     base TEXT,
     port_slot INTEGER NOT NULL UNIQUE,
     created_at TEXT NOT NULL,
     run_id TEXT
   );`,
  // v2: the built-in task queue, and the agent runner's agents and task locks
  `CREATE TABLE tasks (
     id INTEGER PRIMARY KEY,
     title TEXT NOT NULL,
     description TEXT NOT NULL DEFAULT '',
     role TEXT,
     difficulty TEXT NOT NULL DEFAULT 'senior',
     complexity TEXT NOT NULL DEFAULT 'minor',
     status TEXT NOT NULL DEFAULT 'created',
     branch TEXT,
     locked_by TEXT,
     locked_at TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE INDEX tasks_status ON tasks(status);
   CREATE TABLE task_events (
     id INTEGER PRIMARY KEY,
     task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
     at TEXT NOT NULL,
     agent_id TEXT,
     kind TEXT NOT NULL,
     detail TEXT
   );
   CREATE TABLE agents (
     agent_id TEXT PRIMARY KEY,
     role TEXT NOT NULL,
     level TEXT NOT NULL,
     source TEXT NOT NULL,
     pid INTEGER,
     pid_start TEXT,
     host TEXT,
     started_at TEXT NOT NULL,
     last_heartbeat TEXT,
     task_id TEXT,
     task_title TEXT,
     phase TEXT NOT NULL DEFAULT 'idle',
     phase_since TEXT NOT NULL,
     stopped_at TEXT
   );
   CREATE TABLE agent_locks (
     agent_id TEXT PRIMARY KEY,
     source TEXT NOT NULL,
     task_id TEXT NOT NULL,
     task TEXT NOT NULL,
     worktree TEXT NOT NULL,
     branch TEXT NOT NULL,
     locked_at TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     run_id TEXT
   );`,
  // v3: every agent prj launched, and its state over time (prj fleet)
  `CREATE TABLE agent_launches (
     id INTEGER PRIMARY KEY,
     run_id TEXT,
     worktree TEXT,
     worktree_path TEXT NOT NULL,
     branch TEXT,
     session TEXT,
     kind TEXT NOT NULL,
     model TEXT,
     agent_session_id TEXT,
     headless INTEGER NOT NULL DEFAULT 0,
     pid INTEGER,
     pid_start TEXT,
     launched_at TEXT NOT NULL,
     exit_file TEXT,
     exit_code INTEGER,
     result TEXT,
     state TEXT NOT NULL DEFAULT 'working',
     state_since TEXT NOT NULL,
     pane_hash TEXT,
     last_change_at TEXT,
     last_line TEXT,
     notified_state TEXT,
     superseded INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE agent_state_events (
     id INTEGER PRIMARY KEY,
     launch_id INTEGER NOT NULL REFERENCES agent_launches(id) ON DELETE CASCADE,
     at TEXT NOT NULL,
     state TEXT NOT NULL,
     detail TEXT
   );`,
];

/** Run states. `interrupted`: its process died without finishing. */
export type RunStatus = "running" | "succeeded" | "failed" | "cancelled" | "timed_out" | "interrupted";
/** Step states. */
export type StepStatus = "running" | "succeeded" | "failed" | "timed_out" | "cancelled" | "skipped" | "interrupted";

/** A run as stored. */
export interface RunRecord {
  id: string;
  command: string;
  status: RunStatus;
  args: Record<string, unknown>;
  shared: Record<string, unknown>;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  error: string | null;
  pid: number | null;
  cwd: string | null;
  artifact_dir: string | null;
  worktree: string | null;
  branch: string | null;
  session: string | null;
  model: string | null;
  parent_id: string | null;
}

/** A step as stored. */
export interface StepRecord {
  run_id: string;
  idx: number;
  phase: string;
  name: string;
  kind: string;
  status: StepStatus;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  output: string | null;
  data: Record<string, unknown> | null;
  error: string | null;
  log_path: string | null;
}

/** A file a run stored. */
export interface ArtifactRecord {
  run_id: string;
  step_idx: number | null;
  name: string;
  path: string;
  size: number;
  created_at: string;
}

/** A worktree or session a run created (for lifecycle and history). */
export interface ResourceRecord {
  run_id: string;
  kind: "worktree" | "session";
  name: string;
  path: string | null;
  branch: string | null;
  created_at: string;
  removed_at: string | null;
}

/** Filters for {@link Store.listRuns}. */
export interface RunQuery {
  limit?: number;
  status?: string;
  command?: string;
  olderThan?: string;
}

type Row = Record<string, SQLInputValue>;

function parseJson<T>(text: unknown, fallback: T): T {
  if (typeof text !== "string") return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function now(): string {
  return new Date().toISOString();
}

/** The kernel's start time of a process, so a reused pid is not mistaken for our run. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Field 22, counted after the parenthesised command name (which may hold spaces).
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[19];
  } catch {
    return undefined;
  }
}

/** Whether the process that recorded (pid, start time) on this host is still running. */
export function processAlive(pid: number, start: string | null): boolean {
  if (Deno.build.os === "linux") {
    const current = processStartTime(pid);
    return current !== undefined && (start === null || current === start);
  }
  try {
    const out = new Deno.Command("kill", { args: ["-0", String(pid)], stdout: "null", stderr: "null" }).outputSync();
    return out.success;
  } catch {
    return true;
  }
}

/** A connection to `.prj/state.db`. Every statement binds its parameters.
 *
 * @example
 * ```ts
 * import { Store } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const store = new Store(`${dir}/state.db`);
 * store.createRun({ id: "r1", command: "demo", args: {}, cwd: dir, artifactDir: dir });
 * store.finishRun("r1", "succeeded", null, 12);
 * assert.equal(store.getRun("r1")?.status, "succeeded");
 * store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Store {
  /** The database file. */
  readonly file: string;
  #db: DatabaseSync;

  /**
   * Opens (and if needed creates or migrates) the database, and marks runs whose process
   * died as `interrupted`.
   *
   * @param file the database path, usually `<project>/.prj/state.db`
   */
  constructor(file: string) {
    this.file = file;
    this.#db = new DatabaseSync(file);
    this.#db.exec("PRAGMA busy_timeout = 30000");
    this.#db.exec("PRAGMA foreign_keys = ON");
    const version = this.#userVersion();
    if (version > SCHEMA_VERSION) {
      this.#db.close();
      throw new Error(
        `${file} has schema version ${version}, newer than this prj understands (${SCHEMA_VERSION}); upgrade prj`,
      );
    }
    if (version < SCHEMA_VERSION) this.#migrateWithRetry();
    this.reapInterrupted();
  }

  #migrateWithRetry(): void {
    // Several processes may create the database at once; switching to WAL does not wait
    // on the busy timeout, so retry for a while instead of failing.
    for (let attempt = 0;; attempt++) {
      try {
        this.#migrate();
        return;
      } catch (error) {
        if (!String(error).includes("locked") && !String(error).includes("busy") || attempt >= 200) throw error;
        const until = Date.now() + 10 + Math.random() * 40;
        while (Date.now() < until) { /* brief wait; the constructor is synchronous */ }
      }
    }
  }

  #userVersion(): number {
    return Number((this.#db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
  }

  #migrate(): void {
    // WAL first (it persists in the file), then migrate under a write lock so that
    // several prj processes opening a new project at once agree on one schema.
    const mode = (this.#db.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode;
    if (mode !== "wal") this.#db.exec("PRAGMA journal_mode = WAL");
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const version = this.#userVersion();
      for (let v = version; v < SCHEMA_VERSION; v++) this.#db.exec(MIGRATIONS[v]!);
      this.#db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** Closes the connection. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  /** Runs `fn` in one write transaction. */
  transaction<T>(fn: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** Marks `running` runs (and their running steps) whose process is gone as `interrupted`. */
  reapInterrupted(): number {
    const host = Deno.hostname();
    const rows = this.#db.prepare("SELECT id, pid, pid_start, host FROM runs WHERE status = 'running'").all() as Row[];
    let reaped = 0;
    for (const row of rows) {
      if (row.host !== host || row.pid === null) continue;
      if (processAlive(Number(row.pid), row.pid_start as string | null)) continue;
      this.transaction(() => {
        const t = now();
        this.#db.prepare(
          "UPDATE runs SET status = 'interrupted', finished_at = ?, error = ? WHERE id = ? AND status = 'running'",
        ).run(t, "the prj process running it exited without finishing (killed or crashed)", row.id as string);
        this.#db.prepare(
          "UPDATE steps SET status = 'interrupted', finished_at = ? WHERE run_id = ? AND status = 'running'",
        ).run(t, row.id as string);
      });
      reaped++;
    }
    return reaped;
  }

  /** Records a new run in state `running`, owned by this process. */
  createRun(run: {
    id: string;
    command: string;
    args: Record<string, unknown>;
    cwd: string;
    artifactDir: string;
    model?: string | undefined;
    parentId?: string | undefined;
  }): void {
    this.#db.prepare(
      `INSERT INTO runs (id, command, status, args, started_at, pid, pid_start, host, cwd, artifact_dir, model, parent_id)
       VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      run.id,
      run.command,
      JSON.stringify(run.args),
      now(),
      Deno.pid,
      processStartTime(Deno.pid) ?? null,
      Deno.hostname(),
      run.cwd,
      run.artifactDir,
      run.model ?? null,
      run.parentId ?? null,
    );
  }

  /** Updates the fields of a run that change while it runs. */
  updateRun(
    id: string,
    fields: Partial<Pick<RunRecord, "worktree" | "branch" | "session" | "model">> & {
      shared?: Record<string, unknown>;
    },
  ): void {
    const sets: string[] = [];
    const values: SQLInputValue[] = [];
    for (const [key, value] of Object.entries(fields)) {
      if (!["worktree", "branch", "session", "model", "shared"].includes(key)) continue;
      sets.push(`${key} = ?`);
      values.push(key === "shared" ? JSON.stringify(value) : (value as string | null));
    }
    if (sets.length === 0) return;
    this.#db.prepare(`UPDATE runs SET ${sets.join(", ")} WHERE id = ?`).run(...values, id);
  }

  /** Records how a run ended. */
  finishRun(id: string, status: RunStatus, error: string | null, durationMs: number): void {
    this.#db.prepare("UPDATE runs SET status = ?, error = ?, finished_at = ?, duration_ms = ? WHERE id = ?")
      .run(status, error, now(), Math.round(durationMs), id);
  }

  /** Records a step starting. */
  startStep(step: { runId: string; idx: number; phase: string; name: string; kind: string; logPath: string }): void {
    this.#db.prepare(
      `INSERT INTO steps (run_id, idx, phase, name, kind, status, started_at, log_path)
       VALUES (?, ?, ?, ?, ?, 'running', ?, ?)`,
    ).run(step.runId, step.idx, step.phase, step.name, step.kind, now(), step.logPath);
  }

  /** Records a step that was not run (a run that stopped before it). */
  skipStep(step: { runId: string; idx: number; phase: string; name: string; kind: string }): void {
    this.#db.prepare(
      "INSERT INTO steps (run_id, idx, phase, name, kind, status) VALUES (?, ?, ?, ?, ?, 'skipped')",
    ).run(step.runId, step.idx, step.phase, step.name, step.kind);
  }

  /** Records how a step ended, with the run's shared data as it stands, in one transaction. */
  finishStep(
    runId: string,
    idx: number,
    result: {
      status: StepStatus;
      durationMs: number;
      output?: string | undefined;
      data?: Record<string, unknown> | undefined;
      error?: string | undefined;
    },
    shared: Record<string, unknown>,
  ): void {
    this.transaction(() => {
      this.#db.prepare(
        `UPDATE steps SET status = ?, finished_at = ?, duration_ms = ?, output = ?, data = ?, error = ?
         WHERE run_id = ? AND idx = ?`,
      ).run(
        result.status,
        now(),
        Math.round(result.durationMs),
        result.output ?? null,
        result.data === undefined ? null : JSON.stringify(result.data),
        result.error ?? null,
        runId,
        idx,
      );
      this.#db.prepare("UPDATE runs SET shared = ? WHERE id = ?").run(JSON.stringify(shared), runId);
    });
  }

  /** Records a stored artifact. */
  addArtifact(a: { runId: string; stepIdx: number | null; name: string; path: string; size: number }): void {
    this.#db.prepare("INSERT INTO artifacts (run_id, step_idx, name, path, size, created_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(a.runId, a.stepIdx, a.name, a.path, a.size, now());
  }

  /** Records a worktree or session a run created. */
  addResource(r: { runId: string; kind: "worktree" | "session"; name: string; path?: string; branch?: string }): void {
    this.#db.prepare("INSERT INTO resources (run_id, kind, name, path, branch, created_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(r.runId, r.kind, r.name, r.path ?? null, r.branch ?? null, now());
  }

  /** Marks a run's resource as removed. */
  removeResource(runId: string, kind: string, name: string): void {
    this.#db.prepare("UPDATE resources SET removed_at = ? WHERE run_id = ? AND kind = ? AND name = ?")
      .run(now(), runId, kind, name);
  }

  /** The resources a run created, oldest first. */
  resources(runId: string): ResourceRecord[] {
    return this.#db.prepare("SELECT * FROM resources WHERE run_id = ? ORDER BY id").all(
      runId,
    ) as unknown as ResourceRecord[];
  }

  #toRun(row: Row): RunRecord {
    return {
      ...(row as unknown as RunRecord),
      args: parseJson(row.args, {}),
      shared: parseJson(row.shared, {}),
    };
  }

  /** One run by id or unique id prefix. */
  getRun(idOrPrefix: string): RunRecord | undefined {
    const exact = this.#db.prepare("SELECT * FROM runs WHERE id = ?").get(idOrPrefix) as Row | undefined;
    if (exact) return this.#toRun(exact);
    const rows = this.#db.prepare("SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY id LIMIT 2")
      .all(idOrPrefix.replace(/[\\%_]/g, (c) => `\\${c}`) + "%") as Row[];
    return rows.length === 1 ? this.#toRun(rows[0]!) : undefined;
  }

  /** How many runs start with this prefix (to tell "ambiguous" from "unknown"). */
  countRunsWithPrefix(prefix: string): number {
    const row = this.#db.prepare("SELECT COUNT(*) AS n FROM runs WHERE id LIKE ? ESCAPE '\\'")
      .get(prefix.replace(/[\\%_]/g, (c) => `\\${c}`) + "%") as { n: number };
    return Number(row.n);
  }

  /** Runs, newest first. */
  listRuns(query: RunQuery = {}): RunRecord[] {
    const where: string[] = [];
    const values: SQLInputValue[] = [];
    if (query.status) {
      where.push("status = ?");
      values.push(query.status);
    }
    if (query.command) {
      where.push("command = ?");
      values.push(query.command);
    }
    if (query.olderThan) {
      where.push("started_at < ?");
      values.push(query.olderThan);
    }
    const sql = `SELECT * FROM runs ${where.length ? "WHERE " + where.join(" AND ") : ""}
                 ORDER BY started_at DESC, id DESC ${query.limit ? "LIMIT ?" : ""}`;
    if (query.limit) values.push(query.limit);
    return (this.#db.prepare(sql).all(...values) as Row[]).map((r) => this.#toRun(r));
  }

  /** A run's steps in order. */
  steps(runId: string): StepRecord[] {
    return (this.#db.prepare("SELECT * FROM steps WHERE run_id = ? ORDER BY idx").all(runId) as Row[]).map((r) => ({
      ...(r as unknown as StepRecord),
      data: parseJson(r.data, null),
    }));
  }

  /** A run's artifacts. */
  artifacts(runId: string): ArtifactRecord[] {
    return this.#db.prepare(
      "SELECT run_id, step_idx, name, path, size, created_at FROM artifacts WHERE run_id = ? ORDER BY id",
    )
      .all(runId) as unknown as ArtifactRecord[];
  }

  /** Deletes runs (and their steps, artifacts rows and resources). */
  deleteRuns(ids: readonly string[]): void {
    this.transaction(() => {
      const del = this.#db.prepare("DELETE FROM runs WHERE id = ?");
      for (const id of ids) del.run(id);
    });
  }

  /** Raw access for the modules that own other tables (worktrees, tasks). */
  get db(): DatabaseSync {
    return this.#db;
  }
}

/** Opens the project's store at `<prjDir>/state.db`.
 *
 * @example
 * ```ts
 * import { initProject, openProject, openStore } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await initProject(dir);
 * const store = openStore((await openProject(dir)).prjDir);
 * assert.deepEqual(store.listRuns(), []);
 * store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function openStore(prjDir: string): Store {
  return new Store(path.join(prjDir, "state.db"));
}
