/**
 * `deno task bench`: medians of repeated runs, each beside a baseline measured in the same
 * run, printed as a table. Nothing here asserts a time; the table is for reading.
 *
 * Usage: deno task bench [--quick]   (--quick: fewer repetitions)
 */
import * as path from "node:path";
import { runSandboxed } from "../../lib/sandbox/sandbox.ts";
import { resolvePermissions } from "../../lib/sandbox/permissions.ts";

const ROOT = path.resolve(import.meta.dirname!, "../..");
const MOD = path.join(ROOT, "cli.ts"); // the entry of `deno task prj` and the compiled binary
const AGENT = path.join(ROOT, "tests", "fixtures", "agent.sh");
const quick = Deno.args.includes("--quick");
const onlyIndex = Deno.args.indexOf("--only");
const only = onlyIndex >= 0 ? Deno.args[onlyIndex + 1] : undefined;
const want = (group: string) => only === undefined || only === group;
const N = quick ? 5 : 15;
const ENV = {
  NO_COLOR: "1",
  SHELL: "/bin/sh",
  GIT_AUTHOR_NAME: "b",
  GIT_AUTHOR_EMAIL: "b@b",
  GIT_COMMITTER_NAME: "b",
  GIT_COMMITTER_EMAIL: "b@b",
};

interface Row {
  what: string;
  median: number;
  baselineName: string;
  baseline: number;
  unit: string;
  target: string;
  ratio?: boolean;
}
const rows: Row[] = [];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function run(argv: string[], cwd: string, env: Record<string, string> = {}): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    cwd,
    env: { ...ENV, ...env },
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t0;
  if (out.code !== 0) throw new Error(`${argv.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  return ms;
}

async function timeMany(n: number, fn: () => Promise<number>): Promise<number> {
  await fn(); // warm the cache
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(await fn());
  return median(xs);
}

/** Peak RSS (VmHWM) of a process, read from /proc until it exits. */
async function peakRss(argv: string[], cwd: string): Promise<number> {
  const child = new Deno.Command(argv[0]!, { args: argv.slice(1), cwd, env: ENV, stdout: "null", stderr: "null" })
    .spawn();
  let peak = 0;
  let done = false;
  child.status.then(() => (done = true));
  while (!done) {
    try {
      const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      peak = Math.max(peak, kb);
    } catch { /* exited */ }
    await new Promise((r) => setTimeout(r, 2));
  }
  return peak / 1024;
}

async function sh(cwd: string, ...argv: string[]): Promise<void> {
  const out = await new Deno.Command(argv[0]!, { args: argv.slice(1), cwd, env: ENV, stdout: "null", stderr: "piped" })
    .output();
  if (out.code !== 0) throw new Error(`${argv.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

const prj = (...args: string[]) => [Deno.execPath(), "run", "-A", MOD, ...args];
const tmp = await Deno.makeTempDir({ prefix: "prj-bench-" });
const socket = `prj-bench-${Deno.pid}`;
try {
  // --- start-up: --help and list against an empty script
  const empty = path.join(tmp, "empty.ts");
  await Deno.writeTextFile(empty, "");
  const base = await timeMany(N, () => run([Deno.execPath(), "run", empty], tmp));
  const repo = path.join(tmp, "repo");
  await Deno.mkdir(repo);
  await sh(repo, "git", "init", "-q", "-b", "main");
  await Deno.writeTextFile(path.join(repo, "README.md"), "bench\n");
  await sh(repo, "git", "add", "-A");
  await sh(repo, "git", "commit", "-q", "-m", "init");
  await sh(repo, ...prj("init"));
  await Deno.writeTextFile(path.join(repo, ".prj", "config.yaml"), `agent:\n  command: ${AGENT}\n`);
  for (let i = 0; i < 20; i++) {
    await Deno.writeTextFile(
      path.join(repo, ".prj", "commands", `cmd-${i}.yaml`),
      `description: generated ${i}\narguments:\n  - name: a\n    default: x\nsteps:\n  - gather-context\n  - name: echo\n    run: [echo, "{{ args.a }}"]\n`,
    );
  }
  await Deno.writeTextFile(path.join(repo, ".prj", "steps", "noop.ts"), "export default () => {};\n");
  await Deno.writeTextFile(
    path.join(repo, ".prj", "commands", "ten.yaml"),
    `steps:\n${Array(10).fill("  - noop").join("\n")}\n`,
  );
  if (want("startup")) {
    console.error("measuring start-up ...");
    rows.push({
      what: "prj --help",
      median: await timeMany(N, () => run(prj("--help"), repo)),
      baselineName: "deno run empty.ts",
      baseline: base,
      unit: "ms",
      target: "<= 1.5x",
      ratio: true,
    });
    rows.push({
      what: "prj --help via mod.ts (the JSR entry)",
      median: await timeMany(N, () => run([Deno.execPath(), "run", "-A", path.join(ROOT, "mod.ts"), "--help"], repo)),
      baselineName: "deno run empty.ts",
      baseline: base,
      unit: "ms",
      target: "-",
      ratio: true,
    });
    rows.push({
      what: "prj list (5 templates + 20 commands)",
      median: await timeMany(N, () => run(prj("list"), repo)),
      baselineName: "deno run empty.ts",
      baseline: base,
      unit: "ms",
      target: "<= 3x",
      ratio: true,
    });
    rows.push({
      what: "prj run ten (10 sandboxed no-op steps)",
      median: await timeMany(N, () => run(prj("run", "ten"), repo)),
      baselineName: "deno run empty.ts",
      baseline: base,
      unit: "ms",
      target: "-",
      ratio: true,
    });
  }
  if (want("sandbox")) {
    // --- a sandboxed no-op step against a no-op in-process call
    console.error("measuring the sandbox ...");
    const noop = path.join(repo, ".prj", "steps", "noop.ts");
    const grant = resolvePermissions([], { project: repo, worktree: undefined, artifacts: tmp });
    const ctx = {
      run: { id: "b", command: "b" },
      step: { name: "noop", index: 0, phase: "main" },
      args: {},
      with: {},
      paths: {},
      env: {},
      shared: {},
      history: [],
    };
    const sandboxed = async () => {
      const t0 = performance.now();
      await runSandboxed({
        moduleFile: noop,
        display: "noop.ts",
        commandFile: "b.yaml",
        permissions: grant,
        ctx,
        timeoutMs: undefined,
        signal: new AbortController().signal,
        onLog() {},
        onShared() {},
        onArtifact: () => Promise.resolve(""),
      });
      return performance.now() - t0;
    };
    const fn = (await import(`file://${noop}`)).default as () => void;
    const inProcess = () => {
      const t0 = performance.now();
      fn();
      return Promise.resolve(performance.now() - t0);
    };
    const sb = await timeMany(N * 2, sandboxed);
    const ip = await timeMany(N * 2, inProcess);
    rows.push({
      what: "sandboxed no-op step (Worker)",
      median: sb,
      baselineName: "in-process no-op call",
      baseline: ip,
      unit: "ms",
      target: "overhead < 25 ms",
    });
  }
  if (want("memory")) {
    // --- peak RSS of prj run
    console.error("measuring memory ...");
    const rss = median(await Promise.all(Array.from({ length: 3 }, () => peakRss(prj("run", "ten"), repo))));
    const rssBase = median(
      await Promise.all(Array.from({ length: 3 }, () => peakRss([Deno.execPath(), "run", empty], tmp))),
    );
    rows.push({
      what: "peak RSS of prj run ten",
      median: rss,
      baselineName: "deno run empty.ts",
      baseline: rssBase,
      unit: "MB",
      target: "< 120 MB",
    });
  }
  if (want("worktrees")) {
    // --- worktree + session on a 5,000-file repo against raw git worktree add + tmux new-session
    console.error("measuring worktrees on a 5,000-file repo ...");
    const big = path.join(tmp, "big");
    await Deno.mkdir(big);
    await sh(big, "git", "init", "-q", "-b", "main");
    for (let d = 0; d < 50; d++) {
      await Deno.mkdir(path.join(big, `dir${d}`));
      for (let f = 0; f < 100; f++) {
        await Deno.writeTextFile(path.join(big, `dir${d}`, `file${f}.ts`), `export const v${f} = ${d * 100 + f};\n`);
      }
    }
    await sh(big, "git", "add", "-A");
    await sh(big, "git", "commit", "-q", "-m", "5000 files");
    await sh(big, ...prj("init"));
    await Deno.writeTextFile(path.join(big, ".prj", "config.yaml"), `agent:\n  command: ${AGENT}\n`);
    const reps = quick ? 3 : 7;
    const prjTimes: number[] = [];
    const rawTimes: number[] = [];
    for (let i = 0; i < reps; i++) {
      prjTimes.push(await run(prj("worktree", "create", `p${i}`, "--session"), big, { PRJ_TMUX_SOCKET: socket }));
      const wt = path.join(tmp, "raw", `r${i}`);
      const t0 = performance.now();
      await sh(big, "git", "worktree", "add", "-q", "-b", `r${i}`, wt, "main");
      await sh(big, "tmux", "-L", socket, "new-session", "-d", "-s", `raw-${i}`, "-c", wt);
      rawTimes.push(performance.now() - t0);
    }
    rows.push({
      what: "prj worktree create --session (5,000 files)",
      median: median(prjTimes),
      baselineName: "git worktree add + tmux new-session",
      baseline: median(rawTimes),
      unit: "ms",
      target: "<= 1.5x",
      ratio: true,
    });

    // --- 10 worktrees + sessions + agents: fan-out at once against one after another
    console.error("measuring 10 agents: fan-out against sequential ...");
    const tasks = Array.from({ length: 10 }, (_, i) => `fan${i}`);
    const fan = await run(prj("run", "parallel", `tasks=${tasks.join(",")}`), big, { PRJ_TMUX_SOCKET: socket });
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) {
      await run(prj("run", "feature-branch", `feature_name=seq${i}`), big, { PRJ_TMUX_SOCKET: socket });
    }
    const seq = performance.now() - t0;
    rows.push({
      what: "10 worktrees+sessions+agents, prj run parallel",
      median: fan,
      baselineName: "10 x prj run feature-branch in a row",
      baseline: seq,
      unit: "ms",
      target: "faster",
      ratio: true,
    });
  }
  if (want("fleet")) {
    // --- prj fleet with 20 live sessions (agents waiting at a permission prompt)
    console.error("measuring prj fleet with 20 live sessions ...");
    const fleetRepo = path.join(tmp, "fleet");
    await Deno.mkdir(fleetRepo);
    await sh(fleetRepo, "git", "init", "-q", "-b", "main");
    await Deno.writeTextFile(path.join(fleetRepo, "README.md"), "fleet\n");
    await sh(fleetRepo, "git", "add", "-A");
    await sh(fleetRepo, "git", "commit", "-q", "-m", "init");
    await sh(fleetRepo, ...prj("init"));
    const fake = path.join(ROOT, "tests", "fixtures", "fake_claude.sh");
    await Deno.writeTextFile(path.join(fleetRepo, ".prj", "config.yaml"), `agent:\n  command: ${fake}\n`);
    const fleetSocket = `${socket}-fleet`;
    const tasks20 = Array.from({ length: 20 }, (_, i) => `agent${i}`).join(",");
    await run(prj("run", "parallel", `tasks=${tasks20}`), fleetRepo, { PRJ_TMUX_SOCKET: fleetSocket });
    await new Promise((r) => setTimeout(r, 1000));
    const fleetMedian = await timeMany(N, () => run(prj("fleet"), fleetRepo, { PRJ_TMUX_SOCKET: fleetSocket }));
    await new Deno.Command("tmux", { args: ["-L", fleetSocket, "kill-server"], stdout: "null", stderr: "null" })
      .output();
    rows.push({
      what: "prj fleet, 20 live sessions",
      median: fleetMedian,
      baselineName: "deno run empty.ts",
      baseline: base,
      unit: "ms",
      target: "< 300 ms",
      ratio: true,
    });
  }
} finally {
  await new Deno.Command("tmux", { args: ["-L", socket, "kill-server"], stdout: "null", stderr: "null" }).output()
    .catch(() => {});
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}

const fmt = (v: number, unit: string) => `${v.toFixed(unit === "MB" ? 1 : v < 10 ? 2 : 0)} ${unit}`;
const table = [
  ["what", "median", "baseline", "baseline median", "ratio", "target"],
  ...rows.map((r) => [
    r.what,
    fmt(r.median, r.unit),
    r.baselineName,
    fmt(r.baseline, r.unit),
    r.ratio
      ? `${(r.median / r.baseline).toFixed(2)}x`
      : r.unit === "ms"
      ? `+${(r.median - r.baseline).toFixed(1)} ms`
      : `${(r.median / r.baseline).toFixed(2)}x`,
    r.target,
  ]),
];
const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
console.log(table.map((row) => "| " + row.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |").join("\n"));
console.log(`(${quick ? "quick: " : ""}medians of ${N} runs after one warm-up; worktree rows: ${quick ? 3 : 7} runs)`);
