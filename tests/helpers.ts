/** Test helpers: real git repos in temp dirs, prj run as a subprocess, a private tmux server per test. */
import * as path from "node:path";
import { exists } from "../lib/util/fs.ts";

/** The repository root. */
export const ROOT: string = path.resolve(import.meta.dirname!, "..");
/** The test agent program. */
export const AGENT: string = path.join(ROOT, "tests", "fixtures", "agent.sh");

/** What a prj process did. */
export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs git in a folder, throwing on failure. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", {
    args: ["-c", "user.name=Test", "-c", "user.email=test@example.com", ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

let counter = 0;

/** A unique tmux socket name for one test. */
export function tmuxSocket(): string {
  return `prj-test-${Deno.pid}-${++counter}-${Math.random().toString(36).slice(2, 7)}`;
}

/** Runs tmux against a private server; panes get a plain /bin/sh (see GIT_ENV). */
export async function tmux(
  socket: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command("tmux", {
    args: ["-L", socket, ...args],
    env: { SHELL: "/bin/sh" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout), stderr: new TextDecoder().decode(out.stderr) };
}

/** Kills a private tmux server. */
export async function killTmux(socket: string): Promise<void> {
  await tmux(socket, "kill-server");
}

/** The session names on a private tmux server (none when it is not running). */
export async function tmuxSessions(socket: string): Promise<string[]> {
  const out = await tmux(socket, "list-sessions", "-F", "#{session_name}");
  return out.code === 0 ? out.stdout.split("\n").filter(Boolean) : [];
}

/** prj as one shell command line, for typing into a tmux pane. */
export function prjCommandLine(...args: string[]): string {
  return [...prjArgv(), ...args].join(" ");
}

/** A temp git repo with one commit, optionally `prj init`-ed with the test agent configured. */
export async function makeRepo(
  options: { init?: boolean; files?: Record<string, string>; dir?: string } = {},
): Promise<string> {
  if (options.dir) await Deno.mkdir(options.dir, { recursive: true });
  const parent = await Deno.makeTempDir({ prefix: "prj-test-", ...(options.dir ? { dir: options.dir } : {}) });
  const dir = path.join(parent, "repo");
  await Deno.mkdir(dir);
  await git(dir, "init", "-q", "-b", "main");
  const files = options.files ?? { "README.md": "# test repo\n", "src/app.ts": "export const x = 1;\n" };
  for (const [name, content] of Object.entries(files)) {
    await Deno.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await Deno.writeTextFile(path.join(dir, name), content);
  }
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "-m", "initial");
  if (options.init !== false) {
    const r = await prj(dir, ["init"]);
    if (r.code !== 0) throw new Error(`prj init failed: ${r.stderr}`);
    await setConfig(dir, `agent:\n  command: ${AGENT}\n`);
    await git(dir, "add", "-A");
    await git(dir, "commit", "-q", "-m", "prj init");
  }
  return dir;
}

/** A temp repo (see {@link makeRepo}) that is removed, with its worktrees folder, when the test ends. */
export interface TempRepo extends AsyncDisposable {
  /** The repository's folder. */
  readonly path: string;
}

/**
 * `await using fixture = await tempRepo(); const repo = fixture.path;` (`dir`: the folder to make it in, instead of
 * the temp folder)
 */
export async function tempRepo(
  options: { init?: boolean; files?: Record<string, string>; dir?: string } = {},
): Promise<TempRepo> {
  const repo = await makeRepo(options);
  return { path: repo, [Symbol.asyncDispose]: () => removeRepo(repo) };
}

/** A private tmux server for one test, killed when the test ends. */
export interface TempTmux extends AsyncDisposable {
  /** The server's socket name (`tmux -L <socket>`). */
  readonly socket: string;
  /** The environment that points prj at it. */
  readonly env: { PRJ_TMUX_SOCKET: string };
}

/** `await using server = tempTmux();` */
export function tempTmux(): TempTmux {
  const socket = tmuxSocket();
  return { socket, env: { PRJ_TMUX_SOCKET: socket }, [Symbol.asyncDispose]: () => killTmux(socket) };
}

/** A temp folder for one test, removed when it ends. */
export async function tempDir(
  options: { prefix?: string } = {},
): Promise<{ readonly path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: options.prefix ?? "prj-test-" });
  return { path: dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }).catch(() => {}) };
}

/** Replaces .prj/config.yaml. */
export async function setConfig(repo: string, yaml: string): Promise<void> {
  await Deno.writeTextFile(path.join(repo, ".prj", "config.yaml"), yaml);
}

/** Writes a project command file. */
export async function writeCommand(repo: string, name: string, yaml: string): Promise<string> {
  const file = path.join(repo, ".prj", "commands", `${name}.yaml`);
  await Deno.writeTextFile(file, yaml);
  return file;
}

/** Writes a user step module. */
export async function writeStep(repo: string, name: string, source: string): Promise<void> {
  await Deno.writeTextFile(path.join(repo, ".prj", "steps", `${name}.ts`), source);
}

/** Options for running prj. */
export interface PrjOptions {
  env?: Record<string, string>;
  stdin?: string;
}

/** The argv that starts prj from source, as `deno task prj` does. */
export function prjArgv(): string[] {
  return [Deno.execPath(), "run", "-A", path.join(ROOT, "mod.ts")];
}

/**
 * Environment for prj in tests: a git identity for the commits prj makes (merges) on a
 * machine with no global git config, and a plain /bin/sh as the shell of the private tmux
 * servers, so a slow login profile (pyenv, nvm) cannot delay what tests type into panes.
 */
export const GIT_ENV: Record<string, string> = {
  SHELL: "/bin/sh",
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.com",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.com",
};

/** Runs prj as a subprocess in `cwd`. */
export async function prj(cwd: string, args: string[], options: PrjOptions = {}): Promise<Result> {
  const [cmd, ...rest] = prjArgv();
  const child = new Deno.Command(cmd!, {
    args: [...rest, ...args],
    cwd,
    env: { NO_COLOR: "1", ...GIT_ENV, ...options.env },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout), stderr: new TextDecoder().decode(out.stderr) };
}

/** Starts prj without waiting (for Ctrl-C and kill tests). */
export function spawnPrj(cwd: string, args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  const [cmd, ...rest] = prjArgv();
  return new Deno.Command(cmd!, {
    args: [...rest, ...args],
    cwd,
    env: { NO_COLOR: "1", ...GIT_ENV, ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Reads the state database with node:sqlite. */
export async function query<T = Record<string, unknown>>(
  repo: string,
  sql: string,
  ...params: (string | number)[]
): Promise<T[]> {
  const { DatabaseSync } = await import("node:sqlite");
  const file = path.join(repo, ".prj", "state.db");
  if (!exists(file)) return [];
  // Read-only, so a test never creates or locks the database prj is about to create.
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    db.exec("PRAGMA busy_timeout = 10000");
    return db.prepare(sql).all(...params) as T[];
  } catch (error) {
    if (String(error).includes("no such table")) return [];
    throw error;
  } finally {
    db.close();
  }
}

/** Waits until `check` returns true, polling (fails after `ms`). */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 15000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Whether a path exists. */
export { exists };

/** Removes a test repo and its sibling worktrees folder. */
export async function removeRepo(repo: string): Promise<void> {
  await Deno.remove(path.dirname(repo), { recursive: true }).catch(() => {});
}

let cachedDenoDir: string | undefined;

/** The Deno cache this test process uses (`DENO_DIR`, else Deno's default), as `deno info` reports it. */
export async function denoDir(): Promise<string> {
  if (cachedDenoDir) return cachedDenoDir;
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped", stderr: "null" })
    .output();
  cachedDenoDir = (JSON.parse(new TextDecoder().decode(out.stdout)) as { denoDir: string }).denoDir;
  return cachedDenoDir;
}

/**
 * A user's environment that differs from Deno's defaults: `HOME` is a fresh folder (so Deno's default
 * cache there is empty), `DENO_DIR` names the cache the packages are in, and every proxy variable points
 * at a closed port, so a process that lost `DENO_DIR` fails at once instead of reaching the network.
 */
export async function customDenoEnv(): Promise<{ readonly env: Record<string, string> } & AsyncDisposable> {
  const home = await Deno.makeTempDir({ prefix: "prj-test-home-" });
  const closed = "http://127.0.0.1:9";
  return {
    env: {
      HOME: home,
      DENO_DIR: await denoDir(),
      HTTP_PROXY: closed,
      HTTPS_PROXY: closed,
      http_proxy: closed,
      https_proxy: closed,
      NO_PROXY: "",
      no_proxy: "",
    },
    [Symbol.asyncDispose]: () => Deno.remove(home, { recursive: true }).catch(() => {}),
  };
}
