/**
 * `deno task bench`: medians of repeated runs, each beside a baseline measured in the same
 * run, printed as a table. Nothing here asserts a time; the table is for reading.
 *
 * Start-up rows are measured in rounds (the baseline, then each command, again and again), so
 * a machine that gets busier slows all of them alike; they also show the CPU time each run
 * used (user + system, with the processes it started), which a busy machine changes much less
 * than the wall time.
 *
 * Usage: deno task bench [--quick] [--only startup|sandbox|memory|worktrees|fleet|conflicts]
 */
import * as path from "node:path";
import { planSandbox, runSandboxed } from "../../lib/sandbox/sandbox.ts";
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
  /** Mean CPU time of one run and of one baseline run (ms), when measured. */
  cpu?: { run: number; baseline: number };
}
const rows: Row[] = [];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * CPU time (ms, user + system) of this process's children that have ended, from /proc (Linux;
 * undefined elsewhere). Counted in clock ticks of 10 ms, so it is read around many runs at once.
 */
function childrenCpuMs(): number | undefined {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from the 3rd (state) on
    return (Number(fields[13]) + Number(fields[14])) * 10; // cutime, cstime (USER_HZ is 100 on Linux)
  } catch {
    return undefined;
  }
}

/** One command of a round: its argv, where it runs, and its environment. */
interface Case {
  argv: string[];
  cwd: string;
  env?: Record<string, string>;
}

/**
 * Runs the cases in `n` rounds (each once per round, in order) after one warm-up round.
 * Returns each case's median wall time and mean CPU time per run.
 */
async function rounds(n: number, cases: Case[]): Promise<{ median: number; cpu: number | undefined }[]> {
  for (const c of cases) await run(c.argv, c.cwd, c.env);
  const walls = cases.map(() => [] as number[]);
  const cpu = cases.map(() => 0 as number | undefined);
  for (let i = 0; i < n; i++) {
    for (const [k, c] of cases.entries()) {
      const before = childrenCpuMs();
      walls[k]!.push(await run(c.argv, c.cwd, c.env));
      const after = childrenCpuMs();
      cpu[k] = before === undefined || after === undefined || cpu[k] === undefined
        ? undefined
        : cpu[k]! + after - before;
    }
  }
  return cases.map((_, k) => ({ median: median(walls[k]!), cpu: cpu[k] === undefined ? undefined : cpu[k]! / n }));
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
    // The floor of `prj run ten` on this machine: the same ten step processes (a `deno run` each, with the
    // flags the sandbox plans for the no-op step, importing it from a data: URL as the host does), two started
    // ahead as prj does, and nothing else.
    const artifacts = path.join(repo, ".prj", "artifacts", "bench-floor");
    const { args } = await planSandbox(
      resolvePermissions([], { project: repo, worktree: undefined, artifacts }),
      { project: repo, moduleDir: path.join(repo, ".prj", "steps") },
    );
    const noop = new URL(`file://${path.join(repo, ".prj", "steps", "noop.ts")}`).href;
    const host = `await Deno.stdin.read(new Uint8Array(8)); (await import(${JSON.stringify(noop)})).default(); ` +
      `Deno.stdout.writeSync(new TextEncoder().encode("done\\n"));`;
    const bare = path.join(tmp, "bare_steps.ts");
    await Deno.writeTextFile(
      bare,
      [
        `const args = ${JSON.stringify(["run", ...args, `data:application/javascript,${encodeURIComponent(host)}`])};`,
        `const start = () => new Deno.Command(Deno.execPath(), { args, stdin: "piped", stdout: "piped" }).spawn();`,
        `const ahead = [];`,
        `for (let i = 0; i < 10; i++) {`,
        `  while (ahead.length < Math.min(3, 10 - i)) ahead.push(start());`,
        `  const c = ahead.shift();`,
        `  const w = c.stdin.getWriter(); await w.write(new Uint8Array([10])); await w.close();`,
        `  const said = new TextDecoder().decode((await c.stdout.getReader().read()).value);`,
        `  if (said !== "done\\n" || !(await c.status).success) throw new Error("a step process failed: " + said);`,
        `}`,
      ].join("\n"),
    );
    const [b, help, helpMod, list, ten, floor] = await rounds(N, [
      { argv: [Deno.execPath(), "run", empty], cwd: tmp },
      { argv: prj("--help"), cwd: repo },
      { argv: [Deno.execPath(), "run", "-A", path.join(ROOT, "mod.ts"), "--help"], cwd: repo },
      { argv: prj("list"), cwd: repo },
      { argv: prj("run", "ten"), cwd: repo },
      { argv: [Deno.execPath(), "run", "-A", bare], cwd: repo },
    ]);
    const startup = (what: string, r: typeof b, target: string): Row => ({
      what,
      median: r!.median,
      baselineName: "deno run empty.ts",
      baseline: b!.median,
      unit: "ms",
      target,
      ratio: true,
      ...(r!.cpu !== undefined && b!.cpu !== undefined ? { cpu: { run: r!.cpu, baseline: b!.cpu } } : {}),
    });
    rows.push(startup("prj --help (cli.ts: deno task prj, the binary)", help, "<= 1.5x"));
    rows.push(startup("prj --help via mod.ts (deno run jsr:@prunejuice/cli)", helpMod, "<= 1.5x"));
    rows.push(startup("prj list (5 templates + 20 commands)", list, "<= 3x"));
    rows.push(startup("prj run ten (10 sandboxed no-op steps)", ten, "< 200 ms"));
    rows.push(startup("its floor: the 10 step processes alone, no prj", floor, "(for reading)"));
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
    // `ahead`: the step's process was started by the step before (as a run does for the sandboxed
    // steps that follow one with the same grant) and had time to start; else it starts on demand.
    const sandboxed = (ahead: boolean) => async () => {
      if (ahead) await new Promise((r) => setTimeout(r, 250)); // the spare the last call started is up
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
        spares: ahead ? 1 : 0,
      });
      return performance.now() - t0;
    };
    const fn = (await import(`file://${noop}`)).default as () => void;
    const inProcess = () => {
      const t0 = performance.now();
      fn();
      return Promise.resolve(performance.now() - t0);
    };
    const ip = await timeMany(N * 2, inProcess);
    rows.push({
      what: "sandboxed no-op step, its process started ahead",
      median: await timeMany(N * 2, sandboxed(true)),
      baselineName: "in-process no-op call",
      baseline: ip,
      unit: "ms",
      target: "overhead < 25 ms",
    });
    rows.push({
      what: "sandboxed no-op step, its process started on demand",
      median: await timeMany(N * 2, sandboxed(false)),
      baselineName: "in-process no-op call",
      baseline: ip,
      unit: "ms",
      target: "-",
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
    // --- prj fleet with 20 live sessions (agents at work), the overlap column included: each pair
    // of neighbours writes the same new file (ten pairs to snapshot and merge-tree)
    console.error("measuring prj fleet with 20 live sessions ...");
    const fleetRepo = path.join(tmp, "fleet");
    await Deno.mkdir(fleetRepo);
    await sh(fleetRepo, "git", "init", "-q", "-b", "main");
    await Deno.writeTextFile(path.join(fleetRepo, "README.md"), "fleet\n");
    await sh(fleetRepo, "git", "add", "-A");
    await sh(fleetRepo, "git", "commit", "-q", "-m", "init");
    await sh(fleetRepo, ...prj("init"));
    await Deno.writeTextFile(
      path.join(fleetRepo, ".prj", "config.yaml"),
      `agent:\n  command: ${AGENT}\n  kind: generic\nfleet:\n  idle_after: 600\n`,
    );
    const fleetSocket = `${socket}-fleet`;
    const tasks20 = Array.from({ length: 20 }, (_, i) => `agent${i}`);
    await run(prj("run", "parallel", `tasks=${tasks20.join(",")}`), fleetRepo, {
      PRJ_TMUX_SOCKET: fleetSocket,
      AGENT_SLEEP: "600",
    });
    for (const [i, name] of tasks20.entries()) {
      const dir = path.join(tmp, "fleet.worktrees", name);
      await Deno.writeTextFile(path.join(dir, `shared${i >> 1}.md`), `written by ${name}\n`);
    }
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
  if (want("conflicts")) {
    // --- a conflict scan of 10 active worktrees on a 5,000-file repo: each worktree has a commit
    // and uncommitted work; neighbours share a file (nine pairs to merge-tree, one real conflict)
    console.error("measuring a conflict scan of 10 worktrees on a 5,000-file repo ...");
    const scanRepo = path.join(tmp, "scan");
    await Deno.mkdir(scanRepo);
    await sh(scanRepo, "git", "init", "-q", "-b", "main");
    for (let d = 0; d < 50; d++) {
      await Deno.mkdir(path.join(scanRepo, `dir${d}`));
      for (let f = 0; f < 100; f++) {
        const lines = Array.from({ length: 20 }, (_, l) => `export const v${f}_${l} = ${d * 100 + f + l};`);
        await Deno.writeTextFile(path.join(scanRepo, `dir${d}`, `file${f}.ts`), lines.join("\n") + "\n");
      }
    }
    await sh(scanRepo, "git", "add", "-A");
    await sh(scanRepo, "git", "commit", "-q", "-m", "5000 files");
    await sh(scanRepo, ...prj("init"));
    await sh(scanRepo, "git", "add", "-A");
    await sh(scanRepo, "git", "commit", "-q", "-m", "prj init");
    const trees: string[] = [];
    for (let i = 0; i < 10; i++) {
      await run(prj("worktree", "create", `w${i}`), scanRepo);
      trees.push(path.join(tmp, "scan.worktrees", `w${i}`));
    }
    const edit = async (dir: string, file: string, line: number, text: string) => {
      const p = path.join(dir, file);
      const lines = (await Deno.readTextFile(p)).split("\n");
      lines[line] = text;
      await Deno.writeTextFile(p, lines.join("\n"));
    };
    for (const [i, dir] of trees.entries()) {
      // Committed: its own file, and a file shared with the next worktree (a different line each).
      await edit(dir, `dir${i}/file0.ts`, 0, `// w${i} own`);
      await edit(dir, `dir${i + 1}/file1.ts`, 0, `// w${i} shares`);
      await sh(dir, "git", "commit", "-q", "-am", `w${i}`);
      // Uncommitted: the shared file of the previous worktree, far from its line, and a new file.
      if (i > 0) await edit(dir, `dir${i}/file1.ts`, 15, `// w${i} too`);
      await Deno.writeTextFile(path.join(dir, `new${i}.ts`), "export {};\n");
    }
    await edit(trees[9]!, "dir0/file0.ts", 0, "// w9 collides with w0"); // the one real conflict
    const scanOnce = async (cold = false) => {
      if (cold) await Deno.remove(path.join(scanRepo, ".prj", "cache", "conflict_scan.json")).catch(() => {});
      const t0 = performance.now();
      const out = await new Deno.Command(prj("conflicts", "--json")[0]!, {
        args: prj("conflicts", "--json").slice(1),
        cwd: scanRepo,
        env: ENV,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const ms = performance.now() - t0;
      const view = JSON.parse(new TextDecoder().decode(out.stdout));
      if (out.code !== 1 || view.pairs.length !== 10 || view.conflicts !== 1) {
        throw new Error(`prj conflicts: exit ${out.code}, ${view.pairs?.length} pairs, ${view.conflicts} conflicts`);
      }
      return ms;
    };
    const statusAll = async () => {
      const t0 = performance.now();
      await Promise.all(trees.map((dir) => sh(dir, "git", "status", "--porcelain")));
      return performance.now() - t0;
    };
    const statusMedian = await timeMany(N, statusAll);
    rows.push({
      what: "prj conflicts, 10 active worktrees (5,000 files)",
      median: await timeMany(N, () => scanOnce()),
      baselineName: "git status in the 10 worktrees at once",
      baseline: statusMedian,
      unit: "ms",
      target: "< 1 s",
      ratio: true,
    });
    rows.push({
      what: "the same, nothing cached (first scan)",
      median: await timeMany(N, () => scanOnce(true)),
      baselineName: "git status in the 10 worktrees at once",
      baseline: statusMedian,
      unit: "ms",
      target: "< 1 s",
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
  ["what", "median", "baseline", "baseline median", "ratio", "target", "cpu per run (baseline)", "cpu ratio"],
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
    r.cpu ? `${fmt(r.cpu.run, "ms")} (${fmt(r.cpu.baseline, "ms")})` : "",
    r.cpu ? `${(r.cpu.run / r.cpu.baseline).toFixed(2)}x` : "",
  ]),
];
const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
console.log(table.map((row) => "| " + row.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |").join("\n"));
console.log(
  `(${quick ? "quick: " : ""}medians of ${N} runs after one warm-up; start-up rows in ${N} interleaved rounds, ` +
    `cpu = mean user + system time per run, with its child processes; worktree rows: ${quick ? 3 : 7} runs)`,
);
