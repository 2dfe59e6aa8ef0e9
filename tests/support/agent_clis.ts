/**
 * The real coding-agent CLIs prj drives, pinned, installed from npm into a cache outside the repository, and the
 * local stand-ins of their cloud APIs (the only parts that cannot run offline).
 *
 * ```ts ignore
 * const claude = await agentCli("claude");            // installs @anthropic-ai/claude-code@<pinned> once
 * await using api = await startFakeApi("anthropic", { delay_ms: 3000 });
 * const env = await claudeEnv(api, repo);             // a temp HOME, onboarding done, the repo trusted
 * ```
 *
 * @module
 */
import * as path from "node:path";

/** The agent CLIs prj is tested against, at the versions the README names. */
export const PINNED = {
  claude: { pkg: "@anthropic-ai/claude-code", version: "2.1.329", bin: "claude" },
  codex: { pkg: "@openai/codex", version: "0.169.0", bin: "codex" },
  gemini: { pkg: "@google/gemini-cli", version: "0.61.0", bin: "gemini" },
} as const;

/** A pinned agent CLI's name. */
export type AgentCliName = keyof typeof PINNED;

/** Where test dependencies live between runs: $PRJ_TEST_CACHE, else the user's cache folder, else the temp dir. */
export function testCache(): string {
  const env = (name: string) => Deno.env.get(name) || undefined;
  const explicit = env("PRJ_TEST_CACHE");
  if (explicit) return path.resolve(explicit);
  const xdg = env("XDG_CACHE_HOME");
  if (xdg) return path.join(xdg, "prunejuice-test");
  const home = env("HOME");
  if (home) return path.join(home, ".cache", "prunejuice-test");
  return path.join(env("TMPDIR") ?? "/tmp", "prunejuice-test");
}

/** Holds an exclusive lock file while `fn` runs, so two test processes never install into one folder at once. */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  await Deno.mkdir(path.dirname(lockPath), { recursive: true });
  const file = await Deno.open(lockPath, { create: true, write: true });
  try {
    await file.lock(true);
    return await fn();
  } finally {
    file.close();
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.stat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * The absolute path of a pinned agent CLI's executable, installing it with npm on first use (about 10-30 s; later
 * calls cost one stat). Throws one clear line when npm is missing or the install fails.
 */
export async function agentCli(name: AgentCliName): Promise<string> {
  const { pkg, version, bin } = PINNED[name];
  const dir = path.join(testCache(), "agents", `${name}@${version}`);
  const exe = path.join(dir, "node_modules", ".bin", bin);
  if (await exists(exe)) return exe;
  return await withLock(path.join(testCache(), "agents", `${name}.lock`), async () => {
    if (await exists(exe)) return exe;
    await Deno.mkdir(dir, { recursive: true });
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command("npm", {
        args: ["install", "--prefix", dir, "--no-audit", "--no-fund", "--loglevel=error", `${pkg}@${version}`],
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch (error) {
      throw new Error(`cannot install ${pkg}@${version}: npm is not available (${(error as Error).message})`);
    }
    if (out.code !== 0 || !await exists(exe)) {
      const tail = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" | ");
      throw new Error(`npm install ${pkg}@${version} into ${dir} failed: ${tail}`);
    }
    return exe;
  });
}

/** Which cloud API a stand-in imitates. */
export type FakeApiKind = "anthropic" | "openai" | "gemini";

const FAKE_API_FILES: Record<FakeApiKind, string> = {
  anthropic: "fake_anthropic.mjs",
  openai: "fake_openai_responses.mjs",
  gemini: "fake_gemini.mjs",
};

/** A running API stand-in: its URL, the requests it saw, and a control file that scripts its next answers. */
export interface FakeApi extends AsyncDisposable {
  /** Which API it imitates. */
  kind: FakeApiKind;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Its folder (log and control file). */
  dir: string;
  /** Replaces the control object (delay_ms, tool, file, fail_status...: see the stand-in's header). */
  control(value: Record<string, unknown>): Promise<void>;
  /** Every logged entry so far (one object per line of its log). */
  log(): Promise<Record<string, unknown>[]>;
}

/** Starts an API stand-in on a free 127.0.0.1 port (node runs it); stopped when disposed. */
export async function startFakeApi(kind: FakeApiKind, control: Record<string, unknown> = {}): Promise<FakeApi> {
  const dir = await Deno.makeTempDir({ prefix: `prj-fake-${kind}-` });
  const logPath = path.join(dir, "requests.jsonl");
  const controlPath = path.join(dir, "control.json");
  await Deno.writeTextFile(controlPath, JSON.stringify(control));
  const script = path.join(import.meta.dirname!, "apis", FAKE_API_FILES[kind]);
  const child = new Deno.Command("node", {
    args: [script, "--port", "0", "--log", logPath, "--control", controlPath],
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  let port: string | undefined;
  const deadline = Date.now() + 10_000;
  while (port === undefined && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += value;
    port = seen.match(/127\.0\.0\.1:(\d+)/)?.[1];
  }
  // Keep draining its stdout so it never blocks on a full pipe.
  (async () => {
    try {
      while (!(await reader.read()).done) { /* drain */ }
    } catch { /* closed */ }
  })();
  if (port === undefined) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await child.status;
    throw new Error(`the ${kind} API stand-in did not start: ${seen.trim() || "(no output)"}`);
  }
  return {
    kind,
    url: `http://127.0.0.1:${port}`,
    dir,
    async control(value) {
      const tmp = `${controlPath}.tmp`;
      await Deno.writeTextFile(tmp, JSON.stringify(value));
      await Deno.rename(tmp, controlPath);
    },
    async log() {
      let text = "";
      try {
        text = await Deno.readTextFile(logPath);
      } catch { /* nothing logged yet */ }
      return text.split("\n").filter(Boolean).map((line) => JSON.parse(line));
    },
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
