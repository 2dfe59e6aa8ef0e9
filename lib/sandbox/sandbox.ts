/**
 * Runs a user step module in a `deno run` process of its own whose permission flags are only
 * its grant, with no prompt, no remote or npm import, no config or lock file and a heap limit.
 *
 * One process per step: however the step ends (return, throw, an error nobody caught,
 * `Deno.exit`, `self.close`, out of memory, SIGKILL, an endless loop), only that process ends,
 * and nothing a step changes in its process (globals, cwd, env) reaches the next step. As a step
 * starts, processes with the same flags are started for the sandboxed steps like it that follow
 * (spares), so those find their process ready.
 */
import * as path from "../util/path.ts";
import { PrjError } from "../util/errors.ts";
import type { StepResult } from "../run/contract.ts";
import { git } from "../workspace/git.ts";
import { explainDenial, type ResolvedPermissions } from "./permissions.ts";
import { HOST_URL } from "./_host.ts";
import { waitAtMost, whenElapsed } from "../util/time.ts";
import { protectedPaths, sandboxArgs, withAliases } from "./flags.ts";
import { analyseLinks, resolveLoose, scanLinks } from "./links.ts";

/** Why a sandboxed step stopped early. */
export class StepStopped extends Error {
  /** `timeout` or `cancelled`. */
  readonly reason: "timeout" | "cancelled";
  /** @param reason why it stopped */
  constructor(reason: "timeout" | "cancelled", message: string) {
    super(message);
    this.name = "StepStopped";
    this.reason = reason;
  }
}

/** The V8 heap limit of a step's process, in MB, unless the caller sets one. */
export const DEFAULT_HEAP_MB = 1024;

/** How to run one sandboxed step. */
export interface SandboxOptions {
  /** Absolute path of the step module. */
  moduleFile: string;
  /** How the module is named in messages (relative to the project). */
  display: string;
  /** The YAML file that grants its permissions, for denial messages. */
  commandFile: string;
  /** The grant. */
  permissions: ResolvedPermissions;
  /**
   * The serialisable part of the step context. Its `paths` say where the step runs (`cwd`) and
   * which checkouts hold entries no step may write (`project`, `worktree`).
   */
  ctx: Record<string, unknown>;
  /** Milliseconds before the step's process is killed. */
  timeoutMs: number | undefined;
  /** Cancels the step (kills its process). */
  signal: AbortSignal;
  /** A line the step logged or printed (`[stderr] ` before what it wrote to stderr). */
  onLog: (line: string) => void;
  /** A shared value the step set. */
  onShared: (key: string, value: unknown) => void;
  /** Stores an artifact for the step, returning its path. */
  onArtifact: (name: string, content: string | Uint8Array) => Promise<string>;
  /** `hook`: call the default export with `ctx.payload` first (agent runner hooks). */
  mode?: "step" | "hook";
  /**
   * How many processes with the same flags to start ahead for the steps that follow (default 1):
   * the sandboxed steps after this one with the same grant, up to a few.
   */
  spares?: number | undefined;
  /** V8 heap limit of the step's process in MB (default {@link DEFAULT_HEAP_MB}). */
  heapMb?: number | undefined;
  /**
   * The worktree the grant names (the run's, else the linked worktree prj was started in), whose entries
   * no step may write; default `ctx.paths.worktree`.
   */
  worktree?: string | undefined;
  /** Placeholders a denial's hint may use for a path (`{{ cwd }}` -> its folder), so the hint fits every run. */
  places?: Readonly<Record<string, string | undefined>> | undefined;
}

/** What the sandbox denies a step besides what its grant leaves out, and why. */
export interface SandboxDenials {
  /** Paths the step may not read. */
  denyRead: string[];
  /** Paths the step may not write. */
  denyWrite: string[];
  /** Why each denied path is denied. */
  why: Record<string, string>;
  /** One line per link or file that caused a rule, for the step's log. */
  notes: string[];
}

/** A started `deno run` process waiting for (or running) a step. */
interface Host {
  key: string;
  child: Deno.ChildProcess;
  token: string;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  onStdout: (line: string) => void;
  onStderr: (line: string) => void;
  /** Reading its output; settles when both streams end. */
  pumps: Promise<void>;
  /** Set when the process has ended. */
  exited?: boolean;
}

/**
 * Started processes waiting for a step, oldest first. None outlives the run that started it
 * (releaseSpares), so a prj that runs for hours (`prj mcp`, the agent runner) keeps none idle;
 * and none keeps prj running (unref'd; it leaves when prj's end of its stdin closes).
 */
let spares: Host[] = [];

/** The first regular file `name` in PATH's folders. */
function onPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, name);
    try {
      if (Deno.statSync(candidate).isFile) return candidate;
    } catch { /* next */ }
  }
  return undefined;
}

let deno: string | undefined;

/** The deno executable: this one, or for a compiled prj the `deno` on PATH. */
function denoExecutable(): string {
  if (deno !== undefined) return deno;
  if (!(Deno.build as { standalone?: boolean }).standalone) return deno = Deno.execPath();
  const found = onPath("deno");
  if (found === undefined) {
    throw new PrjError("Sandboxed steps need the `deno` executable on PATH, which was not found", {
      hint: "install Deno, or run prj itself with `deno run`",
    });
  }
  return deno = found;
}

let setsid: string | null | undefined;

/**
 * `setsid` (util-linux, busybox), which starts the step's process in a session and process group
 * of its own without forking prj: Deno's `detached` does the same by forking prj's whole process
 * first, which costs milliseconds per step. Null where there is none (macOS): then `detached`.
 */
function setsidProgram(): string | null {
  return setsid ??= onPath("setsid") ?? null;
}

/** prj's environment minus Deno's own settings, which could change how the sandbox behaves. */
function hostEnv(): Record<string, string> {
  const keep = new Set(["DENO_DIR", "DENO_CERT", "DENO_TLS_CA_STORE"]);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (!k.startsWith("DENO_") || keep.has(k)) env[k] = v;
  }
  return { ...env, DENO_NO_UPDATE_CHECK: "1", DENO_NO_PACKAGE_JSON: "1", NO_COLOR: "1" };
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, nl).replace(/\r$/, "");
      buffer = buffer.slice(nl + 1);
    }
  }
  buffer += decoder.decode();
  if (buffer !== "") yield buffer;
}

function spawnHost(key: string, args: readonly string[], cwd: string): Host {
  const token = crypto.randomUUID();
  const argv = [denoExecutable(), "run", ...args, HOST_URL];
  // A session and process group of its own, so whatever the step starts is stopped with it. setsid(1)
  // makes it the leader of both and then runs deno in the same process (prj spawns it in prj's own
  // group, so it is not a leader already and never forks): the process prj waits for is the step's.
  const leader = setsidProgram();
  const child = new Deno.Command(leader ?? argv[0]!, {
    args: leader ? argv : argv.slice(1),
    cwd,
    clearEnv: true,
    env: hostEnv(),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    detached: leader === null,
  }).spawn();
  const writer = child.stdin.getWriter();
  writer.write(new TextEncoder().encode(token + "\n")).catch(() => {});
  return { key, child, token, writer, onStdout: () => {}, onStderr: () => {}, pumps: Promise.resolve() };
}

/** Starts reading a host's output (a spare's is read only once it is taken, so it never keeps prj running). */
function attach(host: Host): void {
  const ready = `${host.token} {"type":"ready"}`;
  host.pumps = Promise.all([
    (async () => {
      for await (const line of lines(host.child.stdout)) if (line !== ready) host.onStdout(line);
    })(),
    (async () => {
      for await (const line of lines(host.child.stderr)) host.onStderr(line);
    })(),
  ]).then(() => {}, () => {});
}

function kill(host: Host): void {
  try {
    Deno.kill(-host.child.pid, "SIGKILL");
  } catch {
    try {
      host.child.kill("SIGKILL");
    } catch { /* gone */ }
  }
}

/**
 * A process for the step: the oldest spare with the same flags (a spare that died is skipped),
 * else a new one. Spares with other flags are ended: the run has moved on to another grant.
 */
function takeHost(key: string, args: readonly string[], cwd: string): Host {
  let host: Host | undefined;
  for (const other of spares.filter((h) => h.key !== key)) dropSpare(other);
  while (host === undefined && spares.length > 0) {
    const candidate = spares.shift()!;
    if (candidate.exited) continue;
    host = candidate;
    host.child.ref();
  }
  host ??= spawnHost(key, args, cwd);
  attach(host);
  return host;
}

/** Ends a spare and forgets it. */
function dropSpare(host: Host): void {
  spares = spares.filter((h) => h !== host);
  kill(host);
}

/**
 * Keeps `count` spares with these flags started, so that many steps like this one find their
 * process ready (its start-up overlaps the steps before it); spares beyond `count` are ended.
 */
function keepSpares(key: string, args: readonly string[], cwd: string, count: number): void {
  for (const other of spares.filter((h) => h.key !== key)) dropSpare(other);
  while (spares.length > count) dropSpare(spares.at(-1)!);
  while (spares.length < count) {
    let host: Host;
    try {
      host = spawnHost(key, args, cwd);
    } catch {
      return; // the step that needs it starts its own
    }
    host.child.unref(); // a spare never keeps prj running; it leaves when prj's end of stdin closes
    host.child.status.then(() => {
      host.exited = true;
      if (spares.includes(host)) dropSpare(host);
    });
    spares.push(host);
  }
}

/**
 * Ends the processes started ahead that no step took: a run calls it when it ends, as one that
 * stopped early (a step failed, Ctrl-C) leaves those of the steps it never ran. A run going on
 * beside it (`prj mcp`) only loses its spares: its next step starts its process itself.
 */
export function releaseSpares(): void {
  for (const host of [...spares]) dropSpare(host);
}

/** git's `core.hooksPath` of a project (a relative one names a folder in every checkout), per project. */
const hooksPaths = new Map<string, string | undefined>();
async function hooksPathOf(project: string): Promise<string | undefined> {
  if (!hooksPaths.has(project)) {
    let value: string | undefined;
    try {
      // Read without prj's own override of hooksPath (hooks: true), which would answer /dev/null.
      value = (await git(project, ["config", "--get", "core.hooksPath"], undefined, { hooks: true })).trim() ||
        undefined;
    } catch { /* unset, or not a git checkout */ }
    hooksPaths.set(project, value);
  }
  return hooksPaths.get(project);
}

/**
 * Works out a step's `deno run` flags: its grant (each folder under both its names, as given
 * and canonical), the entries no step may write, and what the links in its folders need denied.
 *
 * @param grant the step's grant
 * @param where the project, the run's worktree, and the step module's folder (made readable)
 * @param heapMb the V8 heap limit
 */
export async function planSandbox(
  grant: ResolvedPermissions,
  where: { project: string; worktree?: string | undefined; moduleDir: string },
  heapMb: number = DEFAULT_HEAP_MB,
): Promise<{ args: string[]; denials: SandboxDenials }> {
  const aliases = new Map<string, string>();
  const canonical = (p: string) => {
    const c = resolveLoose(p);
    if (c !== p) aliases.set(c, p);
    return c;
  };
  const read = typeof grant.read === "boolean" ? grant.read : grant.read.map(canonical);
  const write = typeof grant.write === "boolean" ? grant.write : grant.write.map(canonical);
  const moduleDir = canonical(where.moduleDir);
  const project = canonical(where.project);
  const hooksPath = hooksPathOf(where.project); // git answers (once per project) while the folders are scanned
  const readRoots = read === true ? [] : [...(read || []), moduleDir];
  const writeRoots = write === true ? [] : write || [];
  // Other runs' artifacts are not a step's to read (they grow with every run, and would be scanned
  // for links before every step); its own run's folder, which it may write, it may read too.
  const artifacts = path.join(project, ".prj", "artifacts");
  const ownArtifacts = writeRoots.filter((w) => w.startsWith(artifacts + "/"));
  const hideArtifacts = read !== true && write !== true &&
    !(read || []).some((r) => r === artifacts || r.startsWith(artifacts + "/")) &&
    !writeRoots.some((w) => w === artifacts || artifacts.startsWith(w + "/"));
  // With read: true only writable folders matter; with write: true the project's links still do.
  const scan = await scanLinks(
    read === true ? writeRoots : readRoots,
    write === true ? [project] : writeRoots,
    hideArtifacts ? [artifacts] : [],
  );
  const protectedWrite = protectedPaths(
    { project, worktree: where.worktree ? canonical(where.worktree) : undefined },
    await hooksPath,
  );
  checkGrantPaths(grant, { project: where.project, worktree: where.worktree }, protectedWrite, project);
  const found = analyseLinks(
    { read: read === true ? "all" : readRoots, write: write === true ? "all" : writeRoots },
    scan,
    resolveLoose,
    protectedWrite,
  );
  const why: Record<string, string> = { ...found.why };
  if (hideArtifacts) {
    found.denyRead.push(artifacts);
    why[artifacts] =
      "other runs' artifacts are read only by a grant that names .prj/artifacts (a step's own run's are at {{ artifacts }})";
  }
  for (const p of protectedWrite) {
    why[p] ??= "programs prj starts later act on it (git, the coding agent, prj itself)";
  }
  const denyRead = withAliases(found.denyRead, aliases);
  const denyWrite = withAliases([...protectedWrite, ...found.denyWrite], aliases);
  for (const [c, given] of aliases) {
    for (const [p, reason] of Object.entries(why)) if (p.startsWith(c + "/")) why[given + p.slice(c.length)] = reason;
  }
  const both = (given: boolean | string[], canon: boolean | string[]) =>
    typeof given === "boolean" || typeof canon === "boolean" ? given : [...new Set([...given, ...canon])];
  const args = sandboxArgs({
    grant: { ...grant, read: both(grant.read, read), write: both(grant.write, write) },
    readExtra: [
      ...new Set([where.moduleDir, moduleDir, ...(hideArtifacts ? withAliases(ownArtifacts, aliases) : [])]),
    ],
    denyRead,
    denyWrite,
    heapMb,
  });
  return { args, denials: { denyRead, denyWrite, why, notes: found.notes } };
}

/**
 * Refuses grants the flags could not hold: a path through a link inside the project or worktree
 * (it would grant wherever the link leads), or a write grant inside an entry no step may write
 * (a more specific grant would win over the denial).
 */
function checkGrantPaths(
  grant: ResolvedPermissions,
  where: { project: string; worktree?: string | undefined },
  protectedWrite: readonly string[],
  project: string,
): void {
  const checkouts = [where.project, ...(where.worktree ? [where.worktree] : [])].map((p) => path.resolve(p));
  for (const kind of ["read", "write"] as const) {
    const value = grant[kind];
    if (typeof value === "boolean") continue;
    for (const given of value) {
      const parts = path.resolve(given).split("/").filter(Boolean);
      for (let i = 1; i <= parts.length; i++) {
        const prefix = "/" + parts.slice(0, i).join("/");
        if (!checkouts.some((c) => prefix.startsWith(c + "/"))) continue;
        let link = false;
        try {
          link = Deno.lstatSync(prefix).isSymlink;
        } catch { /* does not exist (yet) */ }
        if (link) {
          throw new PrjError(
            `the ${kind} grant "${given}" goes through the link "${prefix}" (to "${Deno.readLinkSync(prefix)}")`,
            { hint: "grant the folder the link leads to by its own path, if it should be granted" },
          );
        }
      }
    }
  }
  const artifacts = path.join(project, ".prj", "artifacts");
  const write = grant.write;
  if (typeof write === "boolean") return;
  for (const given of write) {
    const c = resolveLoose(given);
    const inside = protectedWrite.find((p) => c !== p && c.startsWith(p + "/"));
    if (inside !== undefined && !c.startsWith(artifacts + "/") && c !== artifacts) {
      throw new PrjError(`the write grant "${given}" is inside "${inside}", which no step may write`, {
        hint: "programs prj starts (git, the coding agent, prj) act on what is there; grant another folder",
      });
    }
  }
}

function refuseCommas(grant: ResolvedPermissions, stepName: string, commandFile: string): void {
  for (const kind of ["read", "write", "ffi"] as const) {
    const value = grant[kind];
    const bad = typeof value === "boolean" ? undefined : value.find((p) => p.includes(","));
    if (bad !== undefined) {
      throw new PrjError(
        `Cannot sandbox step "${stepName}": the ${kind} grant "${bad}" contains a comma, which Deno's permission flags cannot carry`,
        { hint: `grant a folder without a comma in its path in ${commandFile}` },
      );
    }
  }
}

/**
 * Runs a step module in a `deno run` process with only its granted permissions.
 *
 * @returns the step's result
 * @throws {PrjError} when the step fails (a denial explained), ends its process, runs out of memory, has no
 *   default function, or does not load
 * @throws {StepStopped} on timeout or cancellation
 */
export async function runSandboxed(options: SandboxOptions): Promise<StepResult> {
  const stepName = String((options.ctx.step as { name: string }).name);
  const paths = (options.ctx.paths ?? {}) as { project?: string; worktree?: string; cwd?: string };
  const moduleDir = path.dirname(options.moduleFile);
  const project = paths.project ?? path.dirname(path.dirname(moduleDir)); // <project>/.prj/steps/x.ts
  const cwd = paths.cwd ?? project;
  const heapMb = options.heapMb ?? DEFAULT_HEAP_MB;
  refuseCommas(options.permissions, stepName, options.commandFile);
  if (options.signal.aborted) throw new StepStopped("cancelled", `step "${stepName}" was cancelled`);
  let planned: Awaited<ReturnType<typeof planSandbox>>;
  try {
    planned = await planSandbox(
      options.permissions,
      { project, worktree: options.worktree ?? paths.worktree, moduleDir },
      heapMb,
    );
  } catch (error) {
    if (!(error instanceof PrjError)) throw error;
    throw new PrjError(`Cannot sandbox step "${stepName}": ${error.message}`, {
      hint: `${error.hint ?? "change its grant"} (in ${options.commandFile})`,
    });
  }
  const { args, denials } = planned;
  for (const note of denials.notes) options.onLog(`sandbox: ${note}`);
  const key = JSON.stringify([args, cwd]);
  const host = takeHost(key, args, cwd);
  keepSpares(key, args, cwd, options.spares ?? 1);
  try {
    return await drive(host, options, stepName, heapMb, denials);
  } finally {
    kill(host);
  }
}

async function drive(
  host: Host,
  options: SandboxOptions,
  stepName: string,
  heapMb: number,
  denials: SandboxDenials,
): Promise<StepResult> {
  const prefix = host.token + " ";
  const encoder = new TextEncoder();
  const send = (message: unknown) => host.writer.write(encoder.encode(JSON.stringify(message) + "\n")).catch(() => {});
  const stderr: string[] = [];
  let settled = false;
  let settle!: (outcome: { result: StepResult } | { error: Error }) => void;
  const outcome = new Promise<{ result: StepResult } | { error: Error }>((r) => (settle = r));
  const finish = (o: { result: StepResult } | { error: Error }) => {
    if (settled) return;
    settled = true;
    settle(o);
  };
  const fail = (error: { name: string; message: string }, phase: string) => {
    const first = String(error.message).split("\n")[0]!;
    const denial = phase === "import" ? undefined : explainDenial(
      first,
      stepName,
      options.commandFile,
      denials.why,
      options.places,
      (options.ctx.paths as { cwd?: string } | undefined)?.cwd,
    );
    let message: string;
    if (denial) message = denial;
    else if (phase === "import") {
      message = `step module ${options.display} failed to load: ${first}`;
    } else if (phase === "shape") {
      message = `step module ${options.display} has no default function (${first}); ` +
        "export one: `export default function (ctx) { ... }`";
    } else if (phase === "uncaught") {
      message = `step "${stepName}" failed: an error nobody caught: ${
        error.name === "Error" ? "" : error.name + ": "
      }${first}`;
    } else if (phase === "result") {
      message = `step "${stepName}" returned a value that is not JSON: ${first}`;
    } else message = `step "${stepName}" failed: ${error.name === "Error" ? "" : error.name + ": "}${first}`;
    if (/--no-remote|--no-npm|remote specifier|npm specifiers/.test(first)) {
      message += "; steps import only local files (put the code beside the step in .prj/steps/)";
    }
    finish({ error: new PrjError(message) });
  };
  const onMessage = (message: Record<string, unknown>) => {
    switch (message.type) {
      case "log":
        options.onLog(String(message.line));
        break;
      case "shared":
        options.onShared(String(message.key), message.value);
        break;
      case "artifact": {
        const content = typeof message.text === "string"
          ? message.text
          : Uint8Array.from(atob(String(message.base64)), (c) => c.charCodeAt(0));
        options.onArtifact(String(message.name), content).then(
          (p) => send({ type: "artifact-done", id: message.id, path: p }),
          (e) => send({ type: "artifact-done", id: message.id, error: String(e?.message ?? e) }),
        );
        break;
      }
      case "done": {
        const result = message.result as Record<string, unknown> | null;
        if (result !== null && (typeof result !== "object" || Array.isArray(result))) {
          fail({ name: "TypeError", message: `returned ${typeof result}; return nothing or { output, data }` }, "run");
          break;
        }
        const out: StepResult = {};
        if (result?.output !== undefined) out.output = String(result.output);
        if (result?.data !== undefined) out.data = result.data as Record<string, unknown>;
        finish({ result: out });
        break;
      }
      case "error":
        fail(message.error as { name: string; message: string }, String(message.phase));
        break;
    }
  };
  host.onStdout = (line) => {
    // Only lines that begin with the token are the host's; anything else the step printed.
    if (!line.startsWith(prefix)) return options.onLog(line);
    try {
      onMessage(JSON.parse(line.slice(prefix.length)));
    } catch {
      options.onLog(line);
    }
  };
  host.onStderr = (line) => {
    stderr.push(line);
    options.onLog(`[stderr] ${line}`);
  };

  const cancelTimer = options.timeoutMs === undefined ? undefined : whenElapsed(options.timeoutMs, () => {
    finish({ error: new StepStopped("timeout", `step "${stepName}" timed out after ${options.timeoutMs! / 1000}s`) });
  });
  const onAbort = () => finish({ error: new StepStopped("cancelled", `step "${stepName}" was cancelled`) });
  options.signal.addEventListener("abort", onAbort, { once: true });
  await send({
    moduleUrl: path.pathToFileURL(options.moduleFile).href,
    mode: options.mode ?? "step",
    ctx: options.ctx,
  });
  // The process ending before it reported means the step ended it, or the system did.
  host.child.status.then(async (status) => {
    await waitAtMost(host.pumps, 200);
    if (settled) return;
    const text = stderr.join("\n");
    let message: string;
    if (/out of memory|heap limit|Allocation failed/i.test(text)) {
      message = `step "${stepName}" ran out of memory (its limit is ${heapMb} MB)`;
    } else if (status.signal) message = `step "${stepName}" was killed (${status.signal})`;
    else {
      message = `step "${stepName}" ended its process (exit code ${status.code}) before returning; ` +
        "a step returns or throws, it does not call Deno.exit() or self.close()";
    }
    finish({ error: new PrjError(message) });
  });
  try {
    const o = await outcome;
    if ("error" in o) throw o.error;
    return o.result;
  } finally {
    cancelTimer?.();
    options.signal.removeEventListener("abort", onAbort);
  }
}
