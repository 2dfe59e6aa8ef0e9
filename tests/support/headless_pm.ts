/**
 * The real Headless PM server for prj's tests: builds its Python environment once (kept in a cache folder between
 * runs), starts the server on a free 127.0.0.1 port with its own SQLite database, and plays the PM (creates and
 * approves tasks) so a test can drive prj's client against the server users run.
 *
 * The server's source checkout is named by `PRJ_TEST_HPM_SRC` (the folder holding `src/main.py` and
 * `setup/requirements.txt`); nothing is copied from it or written into it. The virtualenv lives in the test cache
 * (`headless-pm-venv` in {@link testCache}, kept between runs), built under a lock file so test files starting at
 * once build it only once. `PRJ_TEST_PYTHON` picks the interpreter (default `python3`).
 *
 * ```ts ignore
 * // Needs PRJ_TEST_HPM_SRC (see above), so it is not run as a doc test.
 * await using hpm = await startHeadlessPm();
 * const task = await hpm.createTask("Add login"); // created as pending, approved: status `created`
 * ```
 */
import * as path from "node:path";
import { testCache, withLock } from "./agent_clis.ts";

/** The roles the server accepts (anything else is a 422). */
export const HPM_ROLES = ["frontend_dev", "backend_dev", "qa", "architect", "pm"] as const;
/** A role the server accepts. */
export type HpmRole = typeof HPM_ROLES[number];
/** The levels the server accepts, lowest first. */
export const HPM_LEVELS = ["junior", "senior", "principal"] as const;
/** A level (an agent's skill, or a task's difficulty). */
export type HpmLevel = typeof HPM_LEVELS[number];
/** The statuses the server accepts (`evaluation` and `approved` are its legacy ones). */
export const HPM_STATUSES = [
  "pending",
  "created",
  "under_work",
  "dev_done",
  "qa_done",
  "documentation_done",
  "committed",
  "evaluation",
  "approved",
] as const;
/** A task status. */
export type HpmStatus = typeof HPM_STATUSES[number];

/** A task as the server returns it. */
export interface HpmTask {
  id: number;
  feature_id: number;
  epic_id: number;
  title: string;
  description: string;
  created_by: string;
  target_role: HpmRole;
  difficulty: HpmLevel;
  complexity: "minor" | "major";
  branch: string;
  status: HpmStatus;
  locked_by: string | null;
  locked_at: string | null;
  notes: string | null;
  created_at: string;
  updated_at: string;
}

/** An HTTP answer: status code and parsed JSON body (or the text when it is not JSON). */
export interface HpmResponse<T = unknown> {
  status: number;
  body: T;
}

/** How {@link HeadlessPm.createTask} makes a task. */
export interface TaskOptions {
  /** The target role (default `backend_dev`). */
  role?: HpmRole;
  /** The difficulty (default `senior`). */
  difficulty?: HpmLevel;
  /** `minor` or `major` (default `major`). */
  complexity?: "minor" | "major";
  /** The task's git branch (default `task/<slug of the title>`); the server requires one. */
  branch?: string;
  /** The description (default: the title). */
  description?: string;
  /** Approve it as the PM (`pending` -> `created`) so agents are offered it (default true). */
  approve?: boolean;
}

/** How {@link HeadlessPm.stop} stops the server. */
export interface StopOptions {
  /** SIGKILL at once, as a crash would (default: SIGTERM, then SIGKILL after `graceMs`). */
  kill?: boolean;
  /** Milliseconds a SIGTERM may take (the server finishes open long polls first); default 5000. */
  graceMs?: number;
}

/** A running real Headless PM server. */
export interface HeadlessPm extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` (kept across {@link restart}). */
  readonly url: string;
  /** The only API key the server accepts (it runs in production mode). */
  readonly apiKey: string;
  /** The folder with the database (`hpm.db`) and the server's log (`server.log`). */
  readonly dataDir: string;
  /** The agent id the harness registers as the PM. */
  readonly pmAgentId: string;
  /** The server's pid, or null while stopped. */
  readonly pid: number | null;
  /** A request under `/api/v1` with the API key; never throws for an HTTP status. */
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<HpmResponse<T>>;
  /** Registers (or re-registers, the heartbeat) an agent. @throws {Error} unless the server answers 200 */
  register(agentId: string, role: HpmRole | string, level: HpmLevel | string): Promise<void>;
  /** Creates a task as the PM and, unless `approve: false`, approves it (`created`). */
  createTask(title: string, options?: TaskOptions): Promise<HpmTask>;
  /** One task, read from `GET /tasks` (the server has no `GET /tasks/{id}`). @throws {Error} when it is missing */
  getTask(id: number | string): Promise<HpmTask>;
  /** Every task, newest first, as `GET /tasks` returns them. */
  tasks(): Promise<HpmTask[]>;
  /** `POST /tasks/{id}/lock` for an agent: 200 with the task, 409 when locked, 404 for an unknown agent. */
  lock(id: number | string, agentId: string): Promise<HpmResponse<HpmTask>>;
  /** Sets a status as an agent. @throws {Error} unless the server answers 200 */
  setStatus(id: number | string, agentId: string, status: HpmStatus, notes?: string): Promise<HpmTask>;
  /** Adds a comment as an agent (the server appends it to the task's notes). @throws {Error} unless 200 */
  comment(id: number | string, agentId: string, text: string): Promise<void>;
  /** The server's log so far (stdout and stderr of every start). */
  log(): Promise<string>;
  /** Stops the server (idempotent); the database stays. */
  stop(options?: StopOptions): Promise<void>;
  /** Stops and starts the server again on the same port and database. */
  restart(options?: StopOptions): Promise<void>;
}

/** Options for {@link startHeadlessPm}. */
export interface StartOptions {
  /** The API key (default `hpm-test-key`). */
  apiKey?: string;
  /** Keep the database and log here (default: a new temp folder, removed on dispose). */
  dataDir?: string;
  /** The Headless PM source checkout (default: `PRJ_TEST_HPM_SRC`). */
  source?: string;
  /** The PM's agent id (default `pm_001`). */
  pmAgentId?: string;
}

/** A built environment that can run the server. */
export interface PreparedHeadlessPm {
  /** The source checkout (absolute). */
  source: string;
  /** The virtualenv's python. */
  python: string;
  /** The virtualenv folder. */
  venv: string;
}

const decoder = new TextDecoder();

/**
 * The Headless PM source checkout named by `PRJ_TEST_HPM_SRC` (or `source`), checked.
 *
 * @throws {Error} when it is unset or is not a Headless PM checkout
 */
export function headlessPmSource(source: string | undefined = Deno.env.get("PRJ_TEST_HPM_SRC")): string {
  if (!source) {
    throw new Error(
      "PRJ_TEST_HPM_SRC is not set: the Headless PM tests need the server's source checkout " +
        "(the folder with src/main.py and setup/requirements.txt), e.g. PRJ_TEST_HPM_SRC=../headless-pm deno task test",
    );
  }
  const dir = path.resolve(source);
  for (const file of ["src/main.py", "setup/requirements.txt"]) {
    if (!isFile(path.join(dir, file))) {
      throw new Error(`PRJ_TEST_HPM_SRC is not a Headless PM checkout: "${path.join(dir, file)}" is missing`);
    }
  }
  return dir;
}

function isFile(file: string): boolean {
  try {
    return Deno.statSync(file).isFile;
  } catch {
    return false;
  }
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function readText(file: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(file);
  } catch {
    return null;
  }
}

const preparing = new Map<string, Promise<PreparedHeadlessPm>>();

/**
 * Builds the server's virtualenv if the cache lacks it (pip install of the checkout's `setup/requirements.txt`),
 * under a lock file so that concurrent test processes build it once. Warm, it only reads a stamp file.
 *
 * @throws {Error} when the source is missing, python3 or its venv module is missing, or pip fails (with the log)
 */
export function prepareHeadlessPm(source?: string): Promise<PreparedHeadlessPm> {
  const dir = headlessPmSource(source);
  let promise = preparing.get(dir);
  if (!promise) {
    promise = build(dir);
    preparing.set(dir, promise);
    promise.catch(() => preparing.delete(dir));
  }
  return promise;
}

async function build(source: string): Promise<PreparedHeadlessPm> {
  const cache = testCache();
  const venv = path.join(cache, "headless-pm-venv");
  const python = path.join(venv, "bin", "python");
  const stampFile = path.join(venv, ".prj-ready");
  const requirements = await Deno.readTextFile(path.join(source, "setup", "requirements.txt"));
  // The venv is rebuilt when the requirements change; the interpreter must still exist (a system upgrade can
  // remove the one the venv links to).
  const stamp = `requirements sha256 ${await sha256(requirements)}\n`;
  const ready = async () => (await readText(stampFile)) === stamp && isFile(python);
  const prepared = { source, python, venv };
  if (await ready()) return prepared;

  return await withLock(path.join(cache, "headless-pm-venv.lock"), async () => {
    if (await ready()) return prepared; // another process built it while we waited
    const system = Deno.env.get("PRJ_TEST_PYTHON") || "python3";
    const probe = await run(system, ["-c", "import venv, ensurepip"]).catch((error) => {
      if (error instanceof Deno.errors.NotFound) {
        throw new Error(
          `${system} is not installed: the Headless PM tests need Python 3 with venv (set PRJ_TEST_PYTHON)`,
        );
      }
      throw error;
    });
    if (probe.code !== 0) {
      throw new Error(
        `${system} cannot create virtualenvs (no venv/ensurepip module): install it, e.g. apt-get install python3-venv`,
      );
    }
    const logFile = path.join(cache, "headless-pm-venv-setup.log");
    await Deno.remove(venv, { recursive: true }).catch(() => {});
    const steps: [string, string[]][] = [
      [system, ["-m", "venv", venv]],
      // --retries 0: an unreachable index costs minutes of retries; a reachable one answers at once.
      [path.join(venv, "bin", "pip"), [
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--retries",
        "0",
        "--timeout",
        "30",
        "-r",
        path.join(source, "setup", "requirements.txt"),
      ]],
      [python, ["-c", "import fastapi, sqlmodel, uvicorn"]],
    ];
    let log = "";
    for (const [command, args] of steps) {
      const out = await run(command, args);
      log += `$ ${command} ${args.join(" ")}\n${out.output}\n`;
      await Deno.writeTextFile(logFile, log);
      if (out.code !== 0) {
        const tail = out.output.trim().split("\n").slice(-15).join("\n");
        throw new Error(`Building the Headless PM virtualenv failed (log: ${logFile}):\n${tail}`);
      }
    }
    await Deno.writeTextFile(stampFile, stamp);
    return prepared;
  });
}

async function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command(command, { args, stdin: "null", stdout: "piped", stderr: "piped" }).output();
  return { code: out.code, output: decoder.decode(out.stdout) + decoder.decode(out.stderr) };
}

// Runs the server's FastAPI app with uvicorn. Two things are added around it, neither changes the server:
// - sqlmodel 0.0.47 and later declare datetime columns with a UTC type that refuses naive datetimes, while the
//   server stores naive UTC (`datetime.utcnow()`) everywhere, so every write would fail with "Datetime values must
//   have timezone information". Converting to naive UTC in both directions gives the storage older sqlmodel had.
// - A watchdog ends the server when the test process that started it is gone, so a killed test run leaves no
//   server behind.
const LAUNCHER = `"""Starts Headless PM for prj's tests: launch.py SOURCE_DIR HOST PORT PARENT_PID."""
import os
import sys
import threading
import time
from datetime import timezone

source, host, port, parent = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sys.path.insert(0, source)


def store_naive_utc():
    try:
        from sqlmodel.sql import sqltypes
    except ImportError:
        return
    utc_type = getattr(sqltypes, "UTCDateTime", None)
    if utc_type is None:
        return

    def as_naive_utc(_self, value, _dialect):
        if value is not None and value.utcoffset() is not None:
            return value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    utc_type.process_bind_param = as_naive_utc
    utc_type.process_result_value = as_naive_utc


def exit_with_parent():
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


store_naive_utc()
threading.Thread(target=exit_with_parent, daemon=True).start()

import uvicorn  # noqa: E402

uvicorn.run("src.main:app", host=host, port=port, log_level="info")
`;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40) || "task";
}

/** The promise's value, or null after `ms` (the timer is cleared either way, so no timer outlives a test). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), ms))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts the real Headless PM server with a fresh database, on a free 127.0.0.1 port; `await using` stops it and
 * removes its temp folder.
 *
 * @throws {Error} when the environment cannot be built or the server does not come up (with its log)
 */
export async function startHeadlessPm(options: StartOptions = {}): Promise<HeadlessPm> {
  const prepared = await prepareHeadlessPm(options.source);
  const ownDataDir = options.dataDir === undefined;
  const dataDir = path.resolve(options.dataDir ?? await Deno.makeTempDir({ prefix: "prj-hpm-" }));
  await Deno.mkdir(dataDir, { recursive: true });
  const apiKey = options.apiKey ?? "hpm-test-key";
  const pmAgentId = options.pmAgentId ?? "pm_001";
  const logFile = path.join(dataDir, "server.log");
  const launcher = path.join(dataDir, "launch_headless_pm.py");
  await Deno.writeTextFile(launcher, LAUNCHER);
  for (const file of ["hpm.db", "hpm.db-journal", "hpm.db-wal", "hpm.db-shm"]) {
    await Deno.remove(path.join(dataDir, file)).catch(() => {});
  }

  let port = 0;
  let child: Deno.ChildProcess | null = null;
  let exited: Promise<Deno.CommandStatus> | null = null;
  let pumps: Promise<unknown> = Promise.resolve();
  let feature: number | null = null;

  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? dataDir,
    LANG: "C.UTF-8",
    // The server reads .env files from its folders' parents; these win over anything found there.
    DB_CONNECTION: "sqlite",
    DATABASE_URL: `sqlite:///${path.join(dataDir, "hpm.db")}`,
    API_KEY: apiKey,
    API_KEY_HEADLESS_PM: apiKey,
    HEADLESS_PM_API_KEY: apiKey,
    // Production mode: only the API key is accepted (development mode also takes "development-key").
    ENVIRONMENT: "production",
    HEADLESS_PM_AUTO_DASHBOARD: "false",
    // It keeps a process registry in the temp dir; keep it with this instance.
    TMPDIR: dataDir,
    PYTHONUNBUFFERED: "1",
    // Byte code goes to the cache, not into the source checkout.
    PYTHONPYCACHEPREFIX: path.join(testCache(), "headless-pm-pycache"),
  };

  async function launch(): Promise<void> {
    const proc = new Deno.Command(prepared.python, {
      args: [launcher, prepared.source, "127.0.0.1", String(port), String(Deno.pid)],
      cwd: dataDir,
      env: { ...env, SERVICE_PORT: String(port) },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    child = proc;
    exited = proc.status;
    const sink = async (stream: ReadableStream<Uint8Array>) =>
      stream.pipeTo((await Deno.open(logFile, { create: true, append: true })).writable);
    pumps = Promise.all([sink(proc.stdout), sink(proc.stderr)]);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const status = await within(exited!, 100);
      if (status) {
        await pumps.catch(() => {});
        child = null;
        throw new ServerExited(`Headless PM exited with code ${status.code} on start:\n${await tail()}`);
      }
      try {
        const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
        await response.body?.cancel();
        if (response.ok) return;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) {
        await stop({ kill: true });
        throw new Error(`Headless PM did not answer /health within 60 s:\n${await tail()}`);
      }
    }
  }

  async function tail(): Promise<string> {
    return ((await readText(logFile)) ?? "").trim().split("\n").slice(-20).join("\n");
  }

  async function stop(stopOptions: StopOptions = {}): Promise<void> {
    const proc = child;
    if (!proc || !exited) return;
    proc.kill(stopOptions.kill ? "SIGKILL" : "SIGTERM");
    // uvicorn finishes open requests (a long poll can hold one for minutes) before it exits.
    const done = await within(exited, stopOptions.graceMs ?? 5000);
    if (!done) {
      try {
        proc.kill("SIGKILL");
      } catch { /* exited meanwhile */ }
      await exited;
    }
    await pumps.catch(() => {});
    child = null;
  }

  async function request<T>(method: string, apiPath: string, body?: unknown): Promise<HpmResponse<T>> {
    const response = await fetch(`http://127.0.0.1:${port}/api/v1${apiPath}`, {
      method,
      headers: { "X-API-KEY": apiKey, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch { /* not JSON: keep the text */ }
    return { status: response.status, body: parsed as T };
  }

  async function ok<T>(method: string, apiPath: string, body?: unknown): Promise<T> {
    const response = await request<T>(method, apiPath, body);
    if (response.status !== 200) {
      throw new Error(
        `Headless PM answered ${response.status} to ${method} ${apiPath}: ${JSON.stringify(response.body)}`,
      );
    }
    return response.body;
  }

  const q = (agentId: string) => `agent_id=${encodeURIComponent(agentId)}`;

  async function pmFeature(): Promise<number> {
    if (feature !== null) return feature;
    await ok("POST", "/register", { agent_id: pmAgentId, role: "pm", level: "principal" });
    const epics = await ok<{ id: number }[]>("GET", "/epics");
    const epic = epics[0]?.id ??
      (await ok<{ id: number }>("POST", `/epics?${q(pmAgentId)}`, { name: "Tests", description: "prj tests" })).id;
    const features = await ok<{ id: number }[]>("GET", `/features/${epic}`);
    feature = features[0]?.id ??
      (await ok<{ id: number }>("POST", `/features?${q(pmAgentId)}`, {
        epic_id: epic,
        name: "Tests",
        description: "prj tests",
      })).id;
    return feature;
  }

  async function getTask(id: number | string): Promise<HpmTask> {
    const task = (await ok<HpmTask[]>("GET", "/tasks")).find((t) => t.id === Number(id));
    if (!task) throw new Error(`Headless PM has no task ${id}`);
    return task;
  }

  async function setStatus(id: number | string, agentId: string, status: HpmStatus, notes?: string) {
    const body = notes === undefined ? { status } : { status, notes };
    return (await ok<{ task: HpmTask }>("PUT", `/tasks/${id}/status?${q(agentId)}`, body)).task;
  }

  for (let attempt = 1;; attempt++) {
    port = freePort();
    try {
      await launch();
      break;
    } catch (error) {
      // Another process took the port between our probe and the server's bind: try another one.
      if (error instanceof ServerExited && /address already in use/i.test(error.message) && attempt < 5) continue;
      if (ownDataDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      throw error;
    }
  }

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    dataDir,
    pmAgentId,
    get pid() {
      return (child as Deno.ChildProcess | null)?.pid ?? null;
    },
    request,
    async register(agentId, role, level) {
      await ok("POST", "/register", { agent_id: agentId, role, level });
    },
    async createTask(title, taskOptions = {}) {
      const task = await ok<HpmTask>("POST", `/tasks/create?${q(pmAgentId)}`, {
        feature_id: await pmFeature(),
        title,
        description: taskOptions.description ?? title,
        target_role: taskOptions.role ?? "backend_dev",
        difficulty: taskOptions.difficulty ?? "senior",
        complexity: taskOptions.complexity ?? "major",
        branch: taskOptions.branch ?? `task/${slug(title)}`,
      });
      return taskOptions.approve === false ? task : await setStatus(task.id, pmAgentId, "created");
    },
    getTask,
    async tasks() {
      return await ok<HpmTask[]>("GET", "/tasks");
    },
    lock(id, agentId) {
      return request<HpmTask>("POST", `/tasks/${id}/lock?${q(agentId)}`);
    },
    setStatus,
    async comment(id, agentId, text) {
      await ok("POST", `/tasks/${id}/comment?${q(agentId)}`, { comment: text });
    },
    async log() {
      return (await readText(logFile)) ?? "";
    },
    stop,
    async restart(stopOptions) {
      await stop(stopOptions);
      await launch();
    },
    async [Symbol.asyncDispose]() {
      await stop();
      if (ownDataDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

class ServerExited extends Error {}

/**
 * Registers a test that needs the real Headless PM server. Without `PRJ_TEST_HPM_SRC` (a Headless PM checkout) the
 * test is reported as ignored, never passed; CI sets the variable and fails when any test was ignored.
 */
export function hpmTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  Deno.test({ name, ignore: !Deno.env.get("PRJ_TEST_HPM_SRC"), fn });
}
