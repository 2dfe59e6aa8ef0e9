/**
 * A repo with prj set up for one of the real agent CLIs (pinned in agent_clis.ts), its API stand-in, a private tmux
 * server, the CLI's own configuration in a temp folder (never the user's), and a notify log: what the tests of real
 * agents share.
 *
 * ```ts ignore
 * await using lab = await agentLab("claude", { agent: ["interactive_args: [--permission-mode, default]"] });
 * const run = await lab.run("feature-branch", "feature_name=ask");
 * const [row] = await lab.fleet();
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { FleetRow } from "@prunejuice/cli/agents";
import { agentCli, type AgentCliName, type FakeApi, startFakeApi, testCache } from "./agent_clis.ts";
import { prj, setConfig, tempRepo, tempTmux, tmux, waitFor } from "../helpers.ts";

/** A row of `prj fleet --json`. */
export type Row = FleetRow & { stateLabel: string };

/** The parts of `prj run --json` the tests read. */
export interface RunJson {
  status?: string;
  steps: { name: string; status: string; output?: string | null; error?: string | null }[];
  shared: { agent?: { sessionId: string | null; argv: string[] } };
}

/** A lab for one agent CLI. */
export interface AgentLab extends AsyncDisposable {
  /** The repository (prj init-ed, agent configured). */
  repo: string;
  /** Where its worktrees go. */
  worktrees: string;
  /** The API stand-in. */
  api: FakeApi;
  /** The private tmux server's socket. */
  socket: string;
  /** The environment prj runs with. */
  env: Record<string, string>;
  /** `prj run <command> <args...> --json`. */
  run(command: string, ...args: string[]): Promise<{ code: number; json: RunJson; stderr: string }>;
  /** `prj fleet --json`, one call. */
  fleet(): Promise<Row[]>;
  /** The visible text of a session's pane. */
  pane(session: string): Promise<string>;
  /** Waits until the pane shows `text`; returns when it did (ms since the epoch). */
  shown(session: string, text: string | RegExp, ms?: number): Promise<number>;
  /** Sends keys to a session. */
  keys(session: string, ...keys: string[]): Promise<void>;
  /** Types a line into a session's agent and submits it. */
  type(session: string, text: string): Promise<void>;
  /** The states notify ran for, in order. */
  notified(): Promise<string[]>;
}

/** Options of a lab. */
export interface LabOptions {
  /** Trust the repository in the CLI's configuration (default true): false shows its trust dialog. */
  trust?: boolean;
  /** The stand-in's first control object. */
  control?: Record<string, unknown>;
  /** Extra lines under `agent:` in .prj/config.yaml. */
  agent?: string[];
  /**
   * Make the repository outside the temp folder (in the test cache), where an agent's sandbox does not let it write
   * (Codex's workspace-write lets it write anywhere under /tmp).
   */
  outsideTmp?: boolean;
  /** Claude Code's user settings (`settings.json` in its configuration folder), besides prj's own. */
  claudeSettings?: Record<string, unknown>;
}

/** Starts a lab for a real agent CLI (installed from npm on first use). */
export async function agentLab(kind: AgentCliName, o: LabOptions = {}): Promise<AgentLab> {
  const program = await agentCli(kind);
  const fixture = await tempRepo(o.outsideTmp ? { dir: path.join(testCache(), "labs") } : {});
  const repo = fixture.path;
  const root = path.dirname(repo);
  // The user's git identity (the repository has none of its own), which prj hands to agents that lose it.
  const gitConfig = path.join(root, "gitconfig");
  await Deno.writeTextFile(gitConfig, "[user]\n\tname = Lab User\n\temail = lab@example.com\n");
  const server = tempTmux();
  const api = await startFakeApi(kind === "claude" ? "anthropic" : kind === "codex" ? "openai" : "gemini", o.control);
  const trust = o.trust !== false;
  let own: Record<string, string>;
  if (kind === "claude") {
    const dir = path.join(root, "claude-config");
    await Deno.mkdir(dir);
    // What Claude Code writes itself after onboarding, approving the key and trusting the repo (its
    // worktrees inherit the trust).
    await Deno.writeTextFile(
      path.join(dir, ".claude.json"),
      JSON.stringify({
        hasCompletedOnboarding: true,
        customApiKeyResponses: { approved: ["sk-ant-fake-0000"], rejected: [] },
        projects: trust ? { [repo]: { hasTrustDialogAccepted: true } } : {},
      }),
    );
    if (o.claudeSettings) await Deno.writeTextFile(path.join(dir, "settings.json"), JSON.stringify(o.claudeSettings));
    own = {
      CLAUDE_CONFIG_DIR: dir,
      ANTHROPIC_BASE_URL: api.url,
      ANTHROPIC_API_KEY: "sk-ant-fake-0000",
      DISABLE_AUTOUPDATER: "1",
      CLAUDE_CODE_MAX_RETRIES: "1",
    };
  } else if (kind === "codex") {
    const dir = path.join(root, "codex-home");
    await Deno.mkdir(dir);
    // The stand-in as Codex's model provider, no retries; trusting the repository covers its worktrees.
    await Deno.writeTextFile(
      path.join(dir, "config.toml"),
      [
        'model = "gpt-fake"',
        'model_provider = "fake"',
        "[model_providers.fake]",
        'name = "fake"',
        `base_url = "${api.url}/v1"`,
        'env_key = "OPENAI_API_KEY"',
        'wire_api = "responses"',
        "stream_max_retries = 0",
        "request_max_retries = 0",
        ...(trust ? [`[projects."${repo}"]`, 'trust_level = "trusted"'] : []),
      ].join("\n") + "\n",
    );
    own = { CODEX_HOME: dir, OPENAI_API_KEY: "sk-fake-0000" };
  } else {
    const home = path.join(root, "gemini-home");
    await Deno.mkdir(path.join(home, ".gemini"), { recursive: true });
    // An API key as the auth type (a base URL alone selects a gateway, which headless runs refuse).
    await Deno.writeTextFile(
      path.join(home, ".gemini", "settings.json"),
      JSON.stringify({ security: { auth: { selectedType: "gemini-api-key" } } }),
    );
    own = {
      // The identity only in the user's git config (which Gemini CLI's shell does not read): none in the environment.
      GIT_AUTHOR_NAME: "",
      GIT_AUTHOR_EMAIL: "",
      GIT_COMMITTER_NAME: "",
      GIT_COMMITTER_EMAIL: "",
      GEMINI_CLI_HOME: home,
      GEMINI_API_KEY: "fake-key-0000",
      GOOGLE_GEMINI_BASE_URL: api.url,
      ...(trust ? { GEMINI_CLI_TRUST_WORKSPACE: "true" } : {}),
    };
  }
  const log = path.join(root, "notify.log");
  // The agent by name: prj finds it on its own PATH (the session's login shell would not).
  await setConfig(
    repo,
    [
      "agent:",
      `  kind: ${kind}`,
      `  command: ${path.basename(program)}`,
      ...(o.agent ?? []).map((l) => `  ${l}`),
      `notify: 'echo "$PRJ_AGENT_STATE" >> ${log}'`,
    ].join("\n") + "\n",
  );
  const env = {
    ...server.env,
    PATH: `${path.dirname(program)}:${Deno.env.get("PATH")}`,
    GIT_CONFIG_GLOBAL: gitConfig,
    ...own,
  };
  const lab: AgentLab = {
    repo,
    worktrees: path.join(root, "repo.worktrees"),
    api,
    socket: server.socket,
    env,
    async run(command, ...args) {
      const r = await prj(repo, ["run", command, ...args, "--json"], { env });
      let json: RunJson = { steps: [], shared: {} };
      try {
        json = JSON.parse(r.stdout);
      } catch { /* no JSON: see stderr */ }
      return { code: r.code, json, stderr: r.stderr };
    },
    async fleet() {
      const r = await prj(repo, ["fleet", "--json"], { env });
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    },
    async pane(session) {
      return (await tmux(server.socket, "capture-pane", "-p", "-J", "-t", `=${session}:`)).stdout;
    },
    async shown(session, text, ms = 20000) {
      let screen = "";
      try {
        await waitFor(
          async () => {
            screen = await lab.pane(session);
            return typeof text === "string" ? screen.includes(text) : text.test(screen);
          },
          ms,
          `${text} on screen`,
        );
      } catch (error) {
        throw new Error(`${(error as Error).message}; the screen was:\n${screen}`);
      }
      return Date.now();
    },
    async keys(session, ...keys) {
      await tmux(server.socket, "send-keys", "-t", `=${session}:`, ...keys);
    },
    async type(session, text) {
      // A terminal UI that is still starting can drop keys: type again until the text shows, then submit.
      for (let i = 0; i < 3; i++) {
        await tmux(server.socket, "send-keys", "-t", `=${session}:`, "-l", text);
        try {
          await waitFor(async () => (await lab.pane(session)).includes(text), 5000, "the typed text");
          break;
        } catch {
          await tmux(server.socket, "send-keys", "-t", `=${session}:`, "C-u");
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      await tmux(server.socket, "send-keys", "-t", `=${session}:`, "Enter");
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
  return lab;
}
