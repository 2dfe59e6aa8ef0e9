/**
 * The end-to-end demo: makes a throwaway git repo, runs `prj init`, then starts three
 * agents in parallel (one worktree, tmux session and agent each) with `prj run parallel`,
 * waits for them to commit their work, and shows the fleet, worktrees, sessions and history.
 *
 * The agent is tests/fixtures/agent.sh (kind `generic`), a small real program that edits a file and
 * commits it, so the demo needs no network and no API key. Run: `deno task demo`.
 * Pass --keep to leave the demo's tmux server running so you can attach.
 */
import * as path from "node:path";

const ROOT = path.resolve(import.meta.dirname!, "..");
const AGENT = path.join(ROOT, "tests", "fixtures", "agent.sh");
const keep = Deno.args.includes("--keep");

async function sh(cwd: string, argv: string[], env: Record<string, string> = {}): Promise<number> {
  const status = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    cwd,
    env,
    stdout: "inherit",
    stderr: "inherit",
  })
    .spawn().status;
  return status.code;
}

async function quiet(cwd: string, argv: string[]): Promise<string> {
  const out = await new Deno.Command(argv[0]!, { args: argv.slice(1), cwd, stdout: "piped", stderr: "piped" }).output();
  if (out.code !== 0) throw new Error(`${argv.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

async function hasTmux(): Promise<boolean> {
  try {
    return (await new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" }).output()).success;
  } catch {
    return false;
  }
}

const parent = await Deno.makeTempDir({ prefix: "prj-demo-" });
const repo = path.join(parent, "shop");
await Deno.mkdir(path.join(repo, "src"), { recursive: true });
await Deno.writeTextFile(path.join(repo, "README.md"), "# shop\n\nA tiny app for the prj demo.\n");
await Deno.writeTextFile(path.join(repo, "src", "app.ts"), 'export function hello() {\n  return "hello";\n}\n');
const gitId = ["-c", "user.name=prj demo", "-c", "user.email=demo@example.com"];
await quiet(repo, ["git", "init", "-q", "-b", "main"]);
await quiet(repo, ["git", "add", "-A"]);
await quiet(repo, ["git", ...gitId, "commit", "-q", "-m", "initial commit"]);

const socket = `prj-demo-${Deno.pid}`;
// A private tmux server with a plain shell, so a slow login profile cannot stall the agents.
const env: Record<string, string> = { PRJ_TMUX_SOCKET: socket, SHELL: "/bin/sh" };
const prj = (...args: string[]) => {
  console.log(`\n$ prj ${args.join(" ")}`);
  return sh(repo, [Deno.execPath(), "run", "-A", path.join(ROOT, "cli.ts"), ...args], env);
};

console.log(`demo repository: ${repo}`);
await prj("init");
// The small test agent instead of Claude Code: a program of no kind prj knows (`generic`: no hooks, no
// conversation; its state read from its screen), without Claude Code's headless permissions.
const config = path.join(repo, ".prj", "config.yaml");
await Deno.writeTextFile(
  config,
  (await Deno.readTextFile(config))
    .replace(/^( {2}kind: )claude\b/m, "$1generic")
    .replace(/^( {2}command: )claude.*/m, `$1${AGENT}`)
    .replace(/^ {2}headless_args: .*\n/m, ""),
);
await quiet(repo, ["git", "add", "-A"]);
await quiet(repo, ["git", ...gitId, "commit", "-q", "-m", "prj init"]);
await prj("list");

const tmux = await hasTmux();
if (!tmux) console.log("\ntmux is not installed: the agents run headless (install tmux to see them in sessions)");
const code = await prj("run", "parallel", "tasks=login,search,profile", ...(tmux ? [] : ["headless=true"]));
if (code !== 0) {
  console.error(`prj run parallel exited with ${code}`);
  Deno.exit(code);
}

// The agents work in their sessions; wait until each has committed on its own branch.
const worktrees = ["login", "search", "profile"].map((t) => path.join(`${repo}.worktrees`, t));
const deadline = Date.now() + 30_000;
for (const wt of worktrees) {
  while (!(await quiet(wt, ["git", "log", "--oneline", "-1"])).includes("agent: work on")) {
    if (Date.now() > deadline) throw new Error(`the agent in ${wt} did not commit within 30s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
console.log("\nall three agents committed their work on their own branches");

await prj("fleet");
await prj("worktree", "list");
if (tmux) await prj("session", "list");
await prj("history", "--limit", "5");
await prj("worktree", "diff", "login", "--stat");

if (tmux && !keep) {
  await new Deno.Command("tmux", { args: ["-L", socket, "kill-server"], stdout: "null", stderr: "null" }).output();
  console.log(
    `\ndemo done. The repo stays at ${repo}; the demo's tmux server was stopped (run with --keep to attach).`,
  );
} else if (tmux) {
  console.log(
    `\ndemo done. Attach to an agent: cd ${repo} && PRJ_TMUX_SOCKET=${socket} deno run -A ${
      path.join(ROOT, "mod.ts")
    } session attach shop-login`,
  );
} else console.log(`\ndemo done. The repo stays at ${repo}.`);
