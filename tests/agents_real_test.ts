/**
 * prj driving the real Claude Code CLI (pinned in tests/support/agent_clis.ts and the README), talking to a local
 * stand-in of the Anthropic API: what `prj fleet` reads on one call, what notify hears, when a headless run fails.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { FleetRow } from "@prunejuice/cli/agents";
import { agentCli, type FakeApi, startFakeApi } from "./support/agent_clis.ts";
import { prj, query, setConfig, spawnPrj, tempRepo, tempTmux, tmux, waitFor, writeCommand } from "./helpers.ts";

type Row = FleetRow & { stateLabel: string };

/** A repo with prj set up for the real Claude Code, its API stand-in, a private tmux server and a notify log. */
interface ClaudeLab extends AsyncDisposable {
  repo: string;
  api: FakeApi;
  socket: string;
  env: Record<string, string>;
  /** `prj fleet --json`, one call. */
  fleet(): Promise<Row[]>;
  /** The visible text of a session's pane. */
  pane(session: string): Promise<string>;
  /** Sends keys to a session. */
  keys(session: string, ...keys: string[]): Promise<void>;
  /** The states notify ran for. */
  notified(): Promise<string[]>;
}

async function claudeLab(
  o: { trust?: boolean; control?: Record<string, unknown>; agent?: string[] } = {},
): Promise<ClaudeLab> {
  const claude = await agentCli("claude");
  const fixture = await tempRepo();
  const repo = fixture.path;
  const server = tempTmux();
  const api = await startFakeApi("anthropic", o.control ?? {});
  const configDir = path.join(path.dirname(repo), "claude-config");
  await Deno.mkdir(configDir);
  // What Claude Code writes itself after onboarding, approving the key and (unless untrusted) trusting the repo;
  // a worktree inherits its repository's trust.
  await Deno.writeTextFile(
    path.join(configDir, ".claude.json"),
    JSON.stringify({
      hasCompletedOnboarding: true,
      customApiKeyResponses: { approved: ["sk-ant-fake-0000"], rejected: [] },
      projects: o.trust === false ? {} : { [repo]: { hasTrustDialogAccepted: true } },
    }),
  );
  const log = path.join(path.dirname(repo), "notify.log");
  // `claude` by name: prj finds it on its own PATH; the session's login shell would not.
  await setConfig(
    repo,
    [
      "agent:",
      "  command: claude",
      ...(o.agent ?? []).map((l) => `  ${l}`),
      `notify: 'echo "$PRJ_AGENT_STATE" >> ${log}'`,
    ]
      .join("\n") + "\n",
  );
  const env = {
    ...server.env,
    PATH: `${path.dirname(claude)}:${Deno.env.get("PATH")}`,
    CLAUDE_CONFIG_DIR: configDir,
    ANTHROPIC_BASE_URL: api.url,
    ANTHROPIC_API_KEY: "sk-ant-fake-0000",
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_MAX_RETRIES: "1",
  };
  return {
    repo,
    api,
    socket: server.socket,
    env,
    async fleet() {
      const r = await prj(repo, ["fleet", "--json"], { env });
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    },
    async pane(session) {
      return (await tmux(server.socket, "capture-pane", "-p", "-J", "-t", `=${session}:`)).stdout;
    },
    async keys(session, ...keys) {
      await tmux(server.socket, "send-keys", "-t", `=${session}:`, ...keys);
    },
    async notified() {
      try {
        return (await Deno.readTextFile(log)).trim().split("\n");
      } catch {
        return [];
      }
    },
    async [Symbol.asyncDispose]() {
      await server[Symbol.asyncDispose]();
      await api[Symbol.asyncDispose]();
      await fixture[Symbol.asyncDispose]();
    },
  };
}

/** Runs `prj run feature-branch` and returns the run's JSON. */
async function launch(lab: ClaudeLab, name: string, ...args: string[]) {
  const r = await prj(lab.repo, ["run", "feature-branch", `feature_name=${name}`, ...args, "--json"], { env: lab.env });
  return { code: r.code, json: JSON.parse(r.stdout), stderr: r.stderr };
}

/** Waits until the pane shows `text`, and returns when it did. */
async function shown(lab: ClaudeLab, session: string, text: string | RegExp): Promise<number> {
  await waitFor(
    async () => {
      const screen = await lab.pane(session);
      return typeof text === "string" ? screen.includes(text) : text.test(screen);
    },
    20000,
    `${text} on screen`,
  );
  return Date.now();
}

Deno.test("a real permission question reads waiting for input on one fleet call, notifies once; then working, then idle", async () => {
  await using lab = await claudeLab({ agent: ["interactive_args: [--permission-mode, default]"] });
  const run = await launch(lab, "ask");
  assert.equal(run.code, 0, run.stderr);
  const appeared = await shown(lab, "repo-ask", "Esc to cancel · Tab to amend");
  const [row] = await lab.fleet();
  assert.ok(Date.now() - appeared < 2000, `read in ${Date.now() - appeared} ms`);
  assert.deepEqual([row!.stateLabel, row!.stateSource, row!.detail], [
    "waiting for input",
    "hook",
    "permission: Write",
  ]);
  assert.equal(row!.agentSessionId, run.json.shared.agent.sessionId, "the id prj gave the conversation");
  assert.deepEqual([row!.worktree, row!.branch, row!.session, row!.port], ["ask", "ask", "repo-ask", 3010]);
  assert.equal((await lab.fleet())[0]!.state, "waiting for input");
  assert.deepEqual(await lab.notified(), ["waiting for input"], "notify ran once for the change");
  // Yes; the stand-in holds its next answer back: working meanwhile.
  await lab.api.control({ delay_ms: 4000 });
  await lab.keys("repo-ask", "1");
  await waitFor(async () => (await lab.fleet())[0]!.state === "working", 5000, "working");
  assert.ok(await Deno.stat(path.join(path.dirname(lab.repo), "repo.worktrees", "ask", "REAL_CLAUDE.md")));
  await waitFor(async () => (await lab.fleet())[0]!.state === "idle", 15000, "idle after the turn");
  const idle = (await lab.fleet())[0]!;
  assert.deepEqual([idle.stateSource, idle.detail], ["hook", "turn ended"]);
  assert.deepEqual(await lab.notified(), ["waiting for input"]);
  const events = await query<{ state: string; source: string }>(
    lab.repo,
    "SELECT state, source FROM agent_state_events WHERE launch_id = ? ORDER BY id",
    idle.id,
  );
  assert.deepEqual(events.map((e) => e.state), ["working", "waiting for input", "working", "idle"]);
  // After the answer the screen may show work a moment before the next hook says so: either source then.
  assert.deepEqual([events[1]!.source, events[3]!.source], ["hook", "hook"]);
});

Deno.test("kill -9 of prj run while a real headless agent works: fleet finds it working, no second agent, its result is read when it ends", async () => {
  await using lab = await claudeLab({ control: { delay_ms: 5000 } });
  await writeCommand(
    lab.repo,
    "again",
    [
      "name: again",
      "prompt_file: prompts/feature-branch.md",
      "arguments: [{ name: feature_name, required: true }]",
      "steps:",
      "  - { uses: create-worktree, with: { name: '{{ args.feature_name }}', reuse: true } }",
      "  - { uses: launch-agent, with: { headless: true } }",
    ].join("\n"),
  );
  const child = spawnPrj(lab.repo, ["run", "again", "feature_name=long"], lab.env);
  await waitFor(async () => (await lab.api.log()).some((e) => e.kind === "plan"), 20000, "the agent's first turn");
  child.kill("SIGKILL");
  await child.status;
  await child.stdout.cancel();
  await child.stderr.cancel();
  const [row] = await lab.fleet();
  assert.deepEqual([row!.worktree, row!.state, row!.stateSource], ["long", "working", "process"]);
  const second = await prj(lab.repo, ["run", "again", "feature_name=long", "--json"], { env: lab.env });
  assert.equal(second.code, 1);
  assert.match(
    JSON.parse(second.stdout).steps.at(-1).error,
    /^An agent is already working in ".*long" \(claude, headless, pid \d+/,
  );
  await waitFor(async () => (await lab.fleet())[0]!.state === "exited", 20000, "the agent to end");
  const done = (await lab.fleet())[0]!;
  assert.deepEqual([done.stateLabel, done.result?.subtype, done.changedFiles], ["exited (0)", "success", 1]);
  const firstTurns = (await lab.api.log()).filter((e) => e.kind === "plan" && String(e.plan).startsWith("tool_use"));
  assert.equal(firstTurns.length, 1, "one agent worked");
});

Deno.test("resume brings back a real conversation: the stand-in receives the earlier messages; one fleet row per worktree", async () => {
  await using lab = await claudeLab();
  const first = await launch(lab, "again", "headless=true");
  assert.equal(first.code, 0, first.stderr);
  const id = first.json.shared.agent.sessionId;
  const r = await prj(lab.repo, ["agent", "resume", "again"], { env: lab.env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split("\n")[0], `resumed conversation ${id} in session repo-again`);
  await shown(lab, "repo-again", "I will write REAL_CLAUDE.md.");
  await lab.api.control({ file: "SECOND.md" });
  const before = (await lab.api.log()).length;
  await tmux(lab.socket, "send-keys", "-t", "=repo-again:", "-l", "now a second file");
  await new Promise((resolve) => setTimeout(resolve, 300)); // the prompt box takes typed text a moment later
  await lab.keys("repo-again", "Enter");
  await waitFor(
    async () => (await lab.fleet())[0]?.state === "idle" && (await lab.api.log()).length > before,
    20000,
    "the resumed turn",
  );
  const resumed = (await lab.api.log()).slice(before).filter((e) => e.kind === "request" && e.summary);
  const main = resumed.map((e) => e.summary as { messages: { role: string; text: string }[] })
    .find((s) => s.messages.some((m) => m.text.includes("now a second file")))!;
  assert.ok(main.messages.some((m) => m.role === "assistant" && m.text.includes("I will write REAL_CLAUDE.md.")));
  const rows = await lab.fleet();
  assert.deepEqual(rows.map((x) => [x.worktree, x.headless, x.agentSessionId]), [["again", false, id]]);
});
