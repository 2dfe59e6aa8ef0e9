/**
 * What prj knows about each kind of coding agent, in one table: how to start it (interactive
 * or headless, a new conversation or a resumed one), how it reports its state (hooks and the
 * events they mean), which screen text means it waits for the user or works, and how to read
 * the result of a headless run. `agent.kind` in config picks one. Everything here was read
 * from the real CLIs at the versions the README pins.
 */
import * as path from "../util/path.ts";
import { geminiHookHome } from "./_gemini_home.ts";

/** A state an agent itself can report (through a hook or its output). */
export type ReportedState = "working" | "waiting for input" | "idle" | "exited";

/** What one hook event says. */
export interface HookReading {
  /** The hook event's name (`PermissionRequest`, `Stop`...). */
  event: string;
  /** The state it means; undefined when it says nothing about the state. */
  state: ReportedState | undefined;
  /** A short note for the record: the tool, the notification, the error, the reason. */
  detail: string | null;
  /** The conversation's id, when the event carries it. */
  sessionId: string | null;
  /** Where the agent keeps the conversation's transcript, when the event says. */
  transcriptPath: string | null;
  /** Work goes on in the background (a subagent) although the turn is over: stays `working`. */
  background: boolean;
  /** A tool call the agent's sandbox refused (`Tool: input`), for kinds whose headless output does not say. */
  refused: string | null;
}

/** The screen rules of a kind: which text at the bottom of its pane means what. */
export interface PaneRules {
  /** How many non-empty lines, counted from the bottom, the rules look at. */
  tail: number;
  /** Text that means the agent waits for the user (a dialog, a permission question). Checked first. */
  waiting: RegExp[];
  /** Text that means the agent is busy. */
  working: RegExp[];
  /**
   * A line drawn only while no dialog is open (an input box), for agents that leave answered
   * dialogs on screen: waiting text above its last occurrence is not read.
   */
  prompt?: RegExp;
  /**
   * Whether the agent shows `working` text for as long as it is busy. Then a screen with
   * neither kind of text is idle at once; otherwise (an unknown program) only a screen that
   * has not changed for `fleet.idle_after` seconds is.
   */
  busyMarker: boolean;
}

/** The checkout a launch runs in, as far as a kind needs to know it. */
export interface Workdir {
  /** The checkout's folder (the main checkout or a linked worktree). */
  checkout: string;
  /** Its own git folder: a linked worktree's `<common>/worktrees/<id>`, else the common one. */
  gitDir: string;
  /** The repository's git folder, shared by its worktrees (objects, refs, config, hooks). */
  commonDir: string;
  /** `user.name` and `user.email` as git resolves them in the checkout. */
  identity: { name: string | undefined; email: string | undefined };
}

/** The parts of a launch a kind turns into its command line. */
export interface LaunchSpec {
  /** The program (absolute path). */
  program: string;
  /** `agent.args` (and words after the program in `agent.command`). */
  args: string[];
  /** `agent.interactive_args` or `agent.headless_args`. */
  extra: string[];
  /** Arguments for this launch's checkout ({@link AgentKind.workdirArgs}); before `args`, so those win. */
  workdir: string[];
  /** The model, if any, and the flag that passes it (`agent.model_flag`). */
  model: { flag: string; name: string } | undefined;
  /** Run to completion with structured output instead of in a terminal. */
  headless: boolean;
  /** Start a new conversation with this id (kinds whose `newSessionArgs` is set). */
  sessionId: string | undefined;
  /** Continue this conversation. */
  resumeId: string | undefined;
  /** The shell command each hook runs (kinds with hooks), or undefined for none. */
  hookCommand: string | undefined;
  /** Hook events to install (from {@link AgentKind.hookEvents} for the agent's version). */
  hookEvents: readonly string[];
  /** The prompt as an argument, or undefined (given on stdin, or none when resuming). */
  prompt: string | undefined;
}

/** How a headless run ended, as the agent reported it. */
export interface AgentResult {
  /** `success`, or the agent's error kind (`error_max_turns`, `failed`...). */
  subtype: string;
  /** Whether the agent reported an error. */
  is_error: boolean;
  /** Conversation turns. */
  num_turns: number | null;
  /** The conversation's cost so far in USD, when reported (cumulative across resumes). */
  total_cost_usd: number | null;
  /** What this run cost in USD, when reported. */
  cost_usd: number | null;
  /** This run's tokens, when reported. */
  usage: TokenUsage | null;
  /** The conversation's id. */
  session_id: string | null;
  /** Tool calls the agent's permission rules refused, as `Tool: input`. */
  permission_denials: string[];
  /** Error messages the agent reported. */
  errors: string[];
  /** The agent's final message (cut to 500 characters). */
  text: string | null;
}

/** Token counts of one run. */
export interface TokenUsage {
  /** Input tokens (for Codex and Gemini CLI, cached ones included). */
  input_tokens: number;
  /** Output tokens. */
  output_tokens: number;
  /** Input tokens read from the cache. */
  cache_read_input_tokens: number;
  /** Input tokens written to the cache. */
  cache_creation_input_tokens: number;
}

/** One agent kind. */
export interface AgentKind {
  /** The `agent.kind` name. */
  name: string;
  /** The program `agent.command` defaults to for this kind. */
  program: string;
  /** Its npm package: the installed version is read from the package's package.json. */
  npmPackage: string | null;
  /** Whether `<program> --version` is quick enough to ask when the package.json is not found. */
  asksVersion: boolean;
  /** Arguments prj adds to headless runs when `agent.headless_args` is not set (the permission mode). */
  defaultHeadlessArgs: readonly string[];
  /** Arguments prj adds to interactive launches when `agent.interactive_args` is not set. */
  defaultInteractiveArgs: readonly string[];
  /**
   * Whether prj gives a new conversation its own id (so it is known before the agent starts):
   * always, for headless runs only, or never (the agent's hooks or output tell it).
   */
  setsSessionId: boolean | "headless";
  /** Whether a conversation can be continued by id. */
  resumes: boolean;
  /** The whole command line for a launch. */
  argv(spec: LaunchSpec): string[];
  /**
   * The hook events to install for the agent's version (`--version` output), or an empty
   * list for kinds without hooks. A version that does not know an event would stop at a
   * dialog, so newer events go only to versions known to have them.
   */
  hookEvents(version: string | undefined): readonly string[];
  /**
   * Arguments a launch gets from the checkout it runs in (Codex: the git folders a commit
   * writes, writable in its sandbox), placed before `agent.args` and the kind's or configured
   * launch arguments, so a later one of those overrides them.
   */
  workdirArgs?(workdir: Workdir, headless: boolean): string[];
  /** Environment a launch gets from the checkout it runs in (Gemini CLI: the git author identity). */
  workdirEnv?(workdir: Workdir): Record<string, string>;
  /** Reads one hook payload (undefined for kinds without hooks, or a payload it does not know). */
  readHook(payload: Record<string, unknown>): HookReading | undefined;
  /**
   * For kinds whose hooks are not given on the command line: prepares them in the launch's
   * folder and returns the environment that makes the agent use them (undefined: no hooks).
   */
  hookEnv?(launchDir: string, hookCommand: string, events: readonly string[]): Record<string, string> | undefined;
  /** The screen rules. */
  pane: PaneRules;
  /** Reads a headless run's output lines; undefined when it printed no result. */
  parseHeadless(lines: readonly string[]): AgentResult | undefined;
}

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

function jsonLines(lines: readonly string[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (!line.startsWith("{")) continue;
    try {
      const json = JSON.parse(line);
      if (json && typeof json === "object" && !Array.isArray(json)) out.push(json);
    } catch { /* not JSON */ }
  }
  return out;
}

/** `1.2.3` >= `1.2.0`, comparing the leading numbers of two version strings. */
export function versionAtLeast(version: string | undefined, minimum: string): boolean {
  const parse = (v: string) => (v.match(/\d+(\.\d+)*/)?.[0] ?? "").split(".").map(Number);
  if (!version) return false;
  const a = parse(version);
  const b = parse(minimum);
  if (a.length === 0 || Number.isNaN(a[0])) return false;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

function brief(value: unknown, max = 120): string {
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? "";
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

// ---------------------------------------------------------------------------------------------
// Claude Code (npm @anthropic-ai/claude-code)

/** Hook events every Claude Code 2.x knows. */
const CLAUDE_BASE_EVENTS = [
  "SessionStart",
  "UserPromptSubmit",
  "PreToolUse",
  "PostToolUse",
  "Notification",
  "Stop",
  "SessionEnd",
  "PreCompact",
] as const;
/** The events of the pinned version (2.1.329) prj uses besides those: an older version shows a dialog for them. */
const CLAUDE_NEW_EVENTS = ["PermissionRequest", "StopFailure"] as const;
const CLAUDE_PINNED = "2.1.329";

function claudeHook(p: Record<string, unknown>): HookReading | undefined {
  const event = str(p.hook_event_name);
  if (!event) return undefined;
  const reading = (state: ReportedState | undefined, detail: string | null, background = false): HookReading => ({
    event,
    state,
    detail,
    sessionId: str(p.session_id),
    transcriptPath: str(p.transcript_path),
    background,
    refused: null,
  });
  const tool = str(p.tool_name);
  switch (event) {
    case "SessionStart":
      // `compact` keeps the conversation and happens while working; a new or resumed one starts idle.
      return reading(p.source === "compact" ? undefined : "idle", `session ${str(p.source) ?? "start"}`);
    case "UserPromptSubmit":
    case "PostToolUse":
    case "PreCompact":
      return reading("working", tool);
    case "PreToolUse":
      // AskUserQuestion is a question to the user: the agent waits for the answer.
      return tool === "AskUserQuestion" ? reading("waiting for input", "question") : reading("working", tool);
    case "PermissionRequest":
      return reading("waiting for input", tool === "AskUserQuestion" ? "question" : `permission: ${tool ?? "?"}`);
    case "Notification": {
      const type = str(p.notification_type) ?? "";
      if (type === "permission_prompt" || type.startsWith("elicitation")) return reading("waiting for input", type);
      // The reminder a minute after a turn ended: it waits for the next prompt, which is idle.
      if (type === "idle_prompt") return reading("idle", type);
      return reading(undefined, type || null);
    }
    case "Stop": {
      const running = Array.isArray(p.background_tasks) &&
        p.background_tasks.some((t) => (t as { status?: unknown })?.status === "running");
      return running ? reading("working", "background task running", true) : reading("idle", "turn ended");
    }
    case "StopFailure":
      return reading("idle", `error: ${str(p.error) ?? "unknown"}`);
    case "SessionEnd":
      // `/clear` ends one conversation and starts another in the same process.
      return reading(p.reason === "clear" ? undefined : "exited", `session end: ${str(p.reason) ?? "?"}`);
    default:
      return reading(undefined, null);
  }
}

function claudeDenial(d: unknown): string {
  const denial = d as { tool_name?: unknown; tool_input?: Record<string, unknown> };
  const input = denial.tool_input ?? {};
  const what = input.command ?? input.file_path ?? input.path ?? input.url ?? input;
  return `${str(denial.tool_name) ?? "?"}: ${brief(what)}`;
}

function parseClaude(lines: readonly string[]): AgentResult | undefined {
  const events = jsonLines(lines);
  const results = events.filter((e) => e.type === "result");
  const last = results.at(-1);
  if (!last) return undefined;
  // A run with a background subagent prints a result per turn: the last one is final, the costs add up.
  let cost: number | null = null;
  const usage: TokenUsage = {
    input_tokens: 0,
    output_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation_input_tokens: 0,
  };
  let perRun = false;
  for (const r of results) {
    const since = r.model_usage_since_last_result;
    if (!since || typeof since !== "object") continue;
    perRun = true;
    for (const m of Object.values(since as Record<string, Record<string, unknown>>)) {
      cost = (cost ?? 0) + (num(m.costUSD) ?? 0);
      usage.input_tokens += num(m.inputTokens) ?? 0;
      usage.output_tokens += num(m.outputTokens) ?? 0;
      usage.cache_read_input_tokens += num(m.cacheReadInputTokens) ?? 0;
      usage.cache_creation_input_tokens += num(m.cacheCreationInputTokens) ?? 0;
    }
  }
  const u = last.usage as Record<string, unknown> | undefined;
  const denials = results.flatMap((r) => (Array.isArray(r.permission_denials) ? r.permission_denials : []));
  const errors = Array.isArray(last.errors) ? last.errors.map((e) => brief(e, 300)) : [];
  if (typeof last.api_error_status === "number") errors.push(`API error ${last.api_error_status}`);
  // An API error ends `success` with is_error: its terminal reason says more.
  const subtype = str(last.subtype) ?? "success";
  return {
    subtype: last.is_error === true && subtype === "success" ? str(last.terminal_reason) ?? "error" : subtype,
    is_error: last.is_error === true,
    num_turns: num(last.num_turns),
    total_cost_usd: num(last.total_cost_usd),
    cost_usd: perRun ? cost : num(last.total_cost_usd),
    usage: perRun ? usage : u
      ? {
        input_tokens: num(u.input_tokens) ?? 0,
        output_tokens: num(u.output_tokens) ?? 0,
        cache_read_input_tokens: num(u.cache_read_input_tokens) ?? 0,
        cache_creation_input_tokens: num(u.cache_creation_input_tokens) ?? 0,
      }
      : null,
    session_id: str(last.session_id),
    permission_denials: [...new Set(denials.map(claudeDenial))],
    errors,
    text: str(last.result)?.slice(0, 500) ?? null,
  };
}

const claude: AgentKind = {
  name: "claude",
  program: "claude",
  npmPackage: "@anthropic-ai/claude-code",
  asksVersion: true,
  // Headless: edits and plain file commands in the worktree without asking (nothing else:
  // `auto` needs the vendor's classifier, `bypassPermissions` refuses to run as root), and
  // the git commands a task ends with. See the README's "Permissions of headless agents".
  defaultHeadlessArgs: [
    "--permission-mode",
    "acceptEdits",
    "--allowedTools",
    "Bash(git add:*)",
    "Bash(git commit:*)",
    "Bash(git status:*)",
    "Bash(git diff:*)",
  ],
  // Interactive: Claude Code's own default (the user answers its questions in the session).
  defaultInteractiveArgs: [],
  setsSessionId: true,
  resumes: true,
  argv(spec) {
    const argv = [spec.program, ...spec.workdir, ...spec.args, ...spec.extra];
    if (spec.model) argv.push(spec.model.flag, spec.model.name);
    if (spec.hookCommand !== undefined && spec.hookEvents.length > 0) {
      const hook = [{ hooks: [{ type: "command", command: spec.hookCommand }] }];
      // Flag settings outrank project and local settings: a project's `disableAllHooks` cannot silence prj.
      const settings = { disableAllHooks: false, hooks: Object.fromEntries(spec.hookEvents.map((e) => [e, hook])) };
      argv.push("--settings", JSON.stringify(settings));
    }
    if (spec.resumeId) argv.push("--resume", spec.resumeId);
    else if (spec.sessionId) argv.push("--session-id", spec.sessionId);
    if (spec.headless) argv.push("-p", "--output-format", "stream-json", "--verbose");
    if (spec.prompt !== undefined) argv.push(spec.prompt);
    return argv;
  },
  hookEvents(version) {
    return versionAtLeast(version, CLAUDE_PINNED) ? [...CLAUDE_BASE_EVENTS, ...CLAUDE_NEW_EVENTS] : CLAUDE_BASE_EVENTS;
  },
  readHook: claudeHook,
  pane: {
    tail: 3,
    // The footers of every dialog (trust, API key, settings, permission questions, AskUserQuestion).
    // Note that each says "Esc to cancel": only the prompt box's lower-case "esc to interrupt" means busy.
    waiting: [
      /Enter to confirm · Esc to cancel/,
      /Esc to cancel · Tab to amend/,
      /Enter to select · .* · Esc to cancel/,
    ],
    working: [/esc to interrupt/],
    busyMarker: true,
  },
  parseHeadless: parseClaude,
};

// ---------------------------------------------------------------------------------------------
// Codex CLI (npm @openai/codex)

/** The hook events Codex 0.169.0 fires (per launch with `-c hooks.<event>=...`). */
const CODEX_EVENTS = [
  "SessionStart",
  "UserPromptSubmit",
  "PreToolUse",
  "PermissionRequest",
  "PostToolUse",
  "Stop",
  "Interrupt",
  "SessionEnd",
] as const;
const CODEX_PINNED = "0.169.0";
/** What a command refused by Codex's sandbox prints (the refusal shows nowhere in `exec --json`). */
const SANDBOX_REFUSAL = /Read-only file system|Operation not permitted/;

function codexHook(p: Record<string, unknown>): HookReading | undefined {
  const event = str(p.hook_event_name);
  if (!event) return undefined;
  const reading = (state: ReportedState | undefined, detail: string | null, refused: string | null = null) => ({
    event,
    state,
    detail,
    sessionId: str(p.session_id),
    transcriptPath: str(p.transcript_path),
    background: false,
    refused,
  });
  const tool = str(p.tool_name);
  const input = (p.tool_input ?? {}) as Record<string, unknown>;
  switch (event) {
    case "SessionStart":
      return reading("idle", `session ${str(p.source) ?? "start"}`);
    case "UserPromptSubmit":
      return reading("working", null);
    case "PreToolUse":
      return tool === "request_user_input" ? reading("waiting for input", "question") : reading("working", tool);
    case "PostToolUse": {
      const response = typeof p.tool_response === "string" ? p.tool_response : "";
      // A git folder it could not write: a commit outside a linked worktree (or with prj's roots taken back).
      const git = /Unable to create '[^']*\/\.git\/[^']*\.lock': Read-only file system/.test(response)
        ? "; Codex's sandbox keeps .git read-only: prj makes only a linked worktree's git folders writable for a headless run, so run it in a worktree"
        : "";
      const refused = SANDBOX_REFUSAL.test(response)
        ? `${tool ?? "?"}: ${brief(input.command ?? input)} (${brief(response.match(SANDBOX_REFUSAL)![0])}${git})`
        : null;
      return reading("working", refused ? `refused: ${refused}` : tool, refused);
    }
    case "PermissionRequest":
      return reading("waiting for input", `permission: ${tool ?? "?"}`);
    case "Stop":
      return reading("idle", "turn ended");
    case "Interrupt":
      return reading("idle", "interrupted");
    case "SessionEnd":
      return reading("exited", `session end: ${str(p.reason) ?? "?"}`);
    default:
      return reading(undefined, null);
  }
}

function isDir(p: string): boolean {
  try {
    return Deno.statSync(p).isDirectory;
  } catch {
    return false;
  }
}

/** A TOML basic string (JSON's escapes are TOML's). */
const toml = (text: string) => JSON.stringify(text);

function parseCodex(lines: readonly string[]): AgentResult | undefined {
  const events = jsonLines(lines);
  if (!events.some((e) => typeof e.type === "string" && /^(thread|turn)\./.test(e.type))) return undefined;
  let sessionId: string | null = null;
  let turns = 0;
  let usage: TokenUsage | null = null;
  let failed: string | null = null;
  let text: string | null = null;
  for (const e of events) {
    if (e.type === "thread.started") sessionId = str(e.thread_id) ?? sessionId;
    if (e.type === "turn.completed") {
      turns++;
      const u = (e.usage ?? {}) as Record<string, unknown>;
      // The thread's running total (a resumed thread counts its earlier runs too).
      usage = {
        input_tokens: num(u.input_tokens) ?? 0,
        output_tokens: num(u.output_tokens) ?? 0,
        cache_read_input_tokens: num(u.cached_input_tokens) ?? 0,
        cache_creation_input_tokens: num(u.cache_write_input_tokens) ?? 0,
      };
    }
    if (e.type === "turn.failed") {
      turns++;
      failed = brief(((e.error ?? {}) as Record<string, unknown>).message ?? "turn failed", 300);
    }
    const item = e.item as Record<string, unknown> | undefined;
    if (e.type === "item.completed" && item?.type === "agent_message") text = str(item.text);
  }
  return {
    subtype: failed ? "failed" : "success",
    is_error: failed !== null,
    num_turns: turns,
    total_cost_usd: null,
    cost_usd: null,
    usage,
    session_id: sessionId,
    permission_denials: [],
    errors: failed ? [failed] : [],
    text: text?.slice(0, 500) ?? null,
  };
}

const codex: AgentKind = {
  name: "codex",
  program: "codex",
  npmPackage: "@openai/codex",
  asksVersion: true,
  // Headless: Codex's own sandbox, writable in the worktree (its default for `exec` is read-only).
  // It keeps every `.git` read-only; in a linked worktree prj makes the folders a commit writes
  // writable for the launch (workdirArgs), never the repository's config or hooks. As `-c`, not
  // `-s workspace-write`: `exec resume` refuses `-s` (and would run read-only without it).
  defaultHeadlessArgs: ["-c", 'sandbox_mode="workspace-write"'],
  defaultInteractiveArgs: [],
  setsSessionId: false,
  resumes: true,
  argv(spec) {
    const hooks = spec.hookCommand !== undefined && spec.hookEvents.length > 0
      ? [
        // prj's hooks are given per launch; Codex runs untrusted hooks only with this flag.
        "--dangerously-bypass-hook-trust",
        ...spec.hookEvents.flatMap((e) => [
          "-c",
          `hooks.${e}=[{hooks=[{type="command",command=${toml(spec.hookCommand!)}}]}]`,
        ]),
      ]
      : [];
    const model = spec.model ? [spec.model.flag, spec.model.name] : [];
    const prompt = spec.prompt !== undefined ? [spec.prompt] : [];
    if (spec.headless) {
      const resume = spec.resumeId ? ["resume"] : [];
      const id = spec.resumeId ? [spec.resumeId] : [];
      return [
        spec.program,
        "exec",
        ...resume,
        "--json",
        ...hooks,
        ...spec.workdir,
        ...spec.args,
        ...spec.extra,
        ...model,
        ...id,
        ...prompt,
      ];
    }
    // --no-daemon: the agent runs in the pane's process (by default it runs in a background
    // daemon that outlives the session, where prj cannot see it end).
    const resume = spec.resumeId ? ["resume", spec.resumeId] : [];
    return [
      spec.program,
      "--no-daemon",
      ...hooks,
      ...spec.workdir,
      ...spec.args,
      ...spec.extra,
      ...model,
      ...resume,
      ...prompt,
    ];
  },
  workdirArgs(w, headless) {
    // A commit in a linked worktree writes its index and HEAD (`<common>/worktrees/<id>`), and
    // objects, refs and their logs in the common folder: those become writable roots of
    // workspace-write (the sandbox protects `.git` folders otherwise). Not the common folder
    // itself: its config and hooks would run outside the sandbox. In the main checkout a commit
    // needs all of `.git`, so nothing is added there and a commit stays refused.
    if (!headless || w.gitDir === w.commonDir) return [];
    const roots = [w.gitDir, ...["objects", "refs", "logs"].map((d) => path.join(w.commonDir, d))]
      .filter((d) => isDir(d));
    return ["-c", `sandbox_workspace_write.writable_roots=[${roots.map(toml).join(",")}]`];
  },
  hookEvents(version) {
    return versionAtLeast(version, CODEX_PINNED) ? CODEX_EVENTS : [];
  },
  readHook: codexHook,
  pane: {
    tail: 12,
    // Command approval, the trust dialog, a question (its footer also says "esc to interrupt").
    waiting: [
      /Would you like to run the following command\?/,
      /Press enter to confirm or esc to cancel/,
      /Trust this folder\?/,
      /enter continue · esc back/,
      /Question \d+\/\d+ \(\d+ unanswered\)/,
      /enter to submit answer/,
    ],
    working: [/• esc to interrupt\)/],
    busyMarker: true,
  },
  parseHeadless: parseCodex,
};

// ---------------------------------------------------------------------------------------------
// Gemini CLI (npm @google/gemini-cli)

/** The hook events Gemini CLI 0.61.0 fires that say something about its state. */
const GEMINI_EVENTS = [
  "SessionStart",
  "BeforeAgent",
  "BeforeTool",
  "AfterTool",
  "Notification",
  "AfterAgent",
  "SessionEnd",
] as const;
const GEMINI_PINNED = "0.61.0";

function geminiHook(p: Record<string, unknown>): HookReading | undefined {
  const event = str(p.hook_event_name);
  if (!event) return undefined;
  const reading = (state: ReportedState | undefined, detail: string | null) => ({
    event,
    state,
    detail,
    sessionId: str(p.session_id),
    transcriptPath: str(p.transcript_path),
    background: false,
    refused: null,
  });
  const tool = str(p.tool_name);
  switch (event) {
    case "SessionStart":
      return reading("idle", `session ${str(p.source) ?? "start"}`);
    case "BeforeAgent":
      return reading("working", null);
    case "BeforeTool":
      return tool === "ask_user" ? reading("waiting for input", "question") : reading("working", tool);
    case "AfterTool":
      return reading("working", tool);
    case "Notification": {
      if (p.notification_type !== "ToolPermission") return reading(undefined, str(p.notification_type));
      const type = str(((p.details ?? {}) as Record<string, unknown>).type);
      return reading("waiting for input", type === "ask_user" ? "question" : `permission: ${type ?? "?"}`);
    }
    case "AfterAgent":
      return reading("idle", "turn ended");
    case "SessionEnd":
      return reading("exited", `session end: ${str(p.reason) ?? "?"}`);
    default:
      return reading(undefined, null);
  }
}

/** Tool errors that mean the call was not allowed (not a tool that merely failed). */
const GEMINI_REFUSALS = /^(tool_not_registered|invalid_tool_params|policy_violation)$/;

function parseGemini(lines: readonly string[]): AgentResult | undefined {
  const events = jsonLines(lines);
  const result = events.findLast((e) => e.type === "result");
  if (!result && !events.some((e) => e.type === "init")) return undefined;
  const tools = new Map<string, string>();
  const denials: string[] = [];
  let sessionId: string | null = null;
  let text = "";
  for (const e of events) {
    if (e.type === "init") sessionId = str(e.session_id) ?? sessionId;
    if (e.type === "tool_use") {
      const params = (e.parameters ?? {}) as Record<string, unknown>;
      tools.set(
        String(e.tool_id),
        `${str(e.tool_name) ?? "?"}: ${brief(params.file_path ?? params.command ?? params)}`,
      );
    }
    if (e.type === "tool_result" && e.status === "error") {
      const error = (e.error ?? {}) as Record<string, unknown>;
      if (GEMINI_REFUSALS.test(String(error.type))) {
        denials.push(`${tools.get(String(e.tool_id)) ?? "?"} (${brief(error.message ?? error.type, 100)})`);
      }
    }
    if (e.type === "message" && e.role === "assistant") {
      text = e.delta === true ? text + String(e.content ?? "") : String(e.content ?? "");
    }
    if (e.type === "message" && e.role === "user") text = "";
  }
  const stats = (result?.stats ?? {}) as Record<string, unknown>;
  const error = (result?.error ?? null) as Record<string, unknown> | null;
  const ok = result?.status === "success";
  return {
    subtype: result ? (ok ? "success" : str(error?.type) ?? "error") : "no result",
    is_error: !ok,
    num_turns: null,
    total_cost_usd: null,
    cost_usd: null,
    usage: result
      ? {
        input_tokens: num(stats.input_tokens) ?? 0,
        output_tokens: num(stats.output_tokens) ?? 0,
        cache_read_input_tokens: num(stats.cached) ?? 0,
        cache_creation_input_tokens: 0,
      }
      : null,
    session_id: sessionId,
    permission_denials: denials,
    errors: error ? [brief(error.message ?? error.type, 300)] : [],
    text: text ? text.slice(0, 500) : null,
  };
}

const gemini: AgentKind = {
  name: "gemini",
  program: "gemini",
  npmPackage: "@google/gemini-cli",
  // `gemini --version` takes seconds: only the package.json tells its version.
  asksVersion: false,
  // Headless: edits are approved, and the shell only for the git commands a task ends with
  // (yolo would run any command); a refused tool call fails the run, naming it.
  defaultHeadlessArgs: [
    "--approval-mode",
    "auto_edit",
    "--allowed-tools",
    "run_shell_command(git add)",
    "--allowed-tools",
    "run_shell_command(git commit)",
    "--allowed-tools",
    "run_shell_command(git status)",
    "--allowed-tools",
    "run_shell_command(git diff)",
  ],
  defaultInteractiveArgs: [],
  // Interactive: Gemini CLI restarts itself after the trust dialog with the same arguments, and
  // a --session-id that now exists ends it; its SessionStart hook tells the id instead.
  setsSessionId: "headless",
  resumes: true,
  argv(spec) {
    const argv = [spec.program, ...spec.workdir, ...spec.args, ...spec.extra];
    if (spec.model) argv.push(spec.model.flag, spec.model.name);
    // Headless runs skip the trust dialog (as Claude Code's -p does); it would end them with exit 55.
    if (spec.headless) argv.push("--skip-trust", "--output-format", "stream-json");
    if (spec.resumeId) argv.push("--resume", spec.resumeId);
    else if (spec.sessionId) argv.push("--session-id", spec.sessionId);
    if (spec.headless) argv.push("-p", spec.prompt ?? "");
    else if (spec.prompt !== undefined) argv.push("-i", spec.prompt);
    return argv;
  },
  hookEvents(version) {
    return versionAtLeast(version, GEMINI_PINNED) ? GEMINI_EVENTS : [];
  },
  readHook: geminiHook,
  hookEnv: geminiHookHome,
  workdirEnv(w) {
    // Its shell runs git with GIT_CONFIG_GLOBAL=/dev/null: without the identity from the user's
    // git config in the environment, the agent's commit fails "Author identity unknown".
    const env: Record<string, string> = {};
    const { name, email } = w.identity;
    for (const who of ["AUTHOR", "COMMITTER"]) {
      if (name && !Deno.env.get(`GIT_${who}_NAME`)) env[`GIT_${who}_NAME`] = name;
      if (email && !Deno.env.get(`GIT_${who}_EMAIL`)) env[`GIT_${who}_EMAIL`] = email;
    }
    return env;
  },
  pane: {
    tail: 20,
    // Its dialogs replace the input box; answered ones stay on screen above the next one.
    waiting: [
      /Apply this change\?/,
      /Allow execution of \[/,
      /Answer Questions/,
      /Do you trust the files in this folder\?/,
    ],
    prompt: /Type your message or @path\/to\/file/,
    // Here "esc to cancel" means busy: the spinner line "(esc to cancel, 3s)".
    working: [/\(esc to cancel, \d+[hms0-9 ]*s\)/],
    busyMarker: true,
  },
  parseHeadless: parseGemini,
};

// ---------------------------------------------------------------------------------------------
// Any other program: no hooks, no conversation ids; a few common prompts on screen.

const generic: AgentKind = {
  name: "generic",
  program: "claude",
  npmPackage: null,
  asksVersion: false,
  defaultHeadlessArgs: [],
  defaultInteractiveArgs: [],
  setsSessionId: false,
  resumes: false,
  argv(spec) {
    const argv = [spec.program, ...spec.workdir, ...spec.args, ...spec.extra];
    if (spec.model) argv.push(spec.model.flag, spec.model.name);
    if (spec.prompt !== undefined) argv.push(spec.prompt);
    return argv;
  },
  hookEvents: () => [],
  readHook: () => undefined,
  pane: {
    tail: 5,
    waiting: [/\[y\/n\]/i, /\(y\/n\)/i, /press enter/i],
    working: [],
    busyMarker: false,
  },
  parseHeadless: () => undefined,
};

/** The known kinds. */
export const AGENT_KINDS: Readonly<Record<string, AgentKind>> = { claude, codex, gemini, generic };

/** The names `agent.kind` accepts. */
export const AGENT_KIND_NAMES: readonly string[] = Object.keys(AGENT_KINDS);

/** The kind for a config value (an unknown name is `generic`). */
export function agentKind(name: string): AgentKind {
  return AGENT_KINDS[name] ?? generic;
}

/**
 * Why a headless run is not a success, or undefined when it is: an exit code other than 0,
 * an error the agent reported, or tool calls its permission rules refused (Claude Code ends
 * such a run `success` with exit 0 although the work was not done).
 *
 * @param exitCode the agent's exit code
 * @param result what it reported
 * @param stderrTail its last lines on stderr, for the message
 * @param refused tool calls its hooks saw refused (kinds whose output does not say)
 */
export function headlessFailure(
  exitCode: number,
  result: AgentResult | undefined,
  stderrTail: readonly string[] = [],
  refused: readonly string[] = [],
): string | undefined {
  const tail = stderrTail.length > 0 ? `: ${stderrTail.join(" | ")}` : "";
  if (result?.is_error || (result && result.subtype !== "success")) {
    const why = result.errors.length > 0
      ? ` (${result.errors.join("; ")})`
      : result.text
      ? ` (${brief(result.text)})`
      : "";
    return `agent reported an error: ${result.subtype}${why}`;
  }
  const denials = [...(result?.permission_denials ?? []), ...refused];
  if (denials.length > 0) {
    return `agent was refused ${denials.length} tool call(s): ${
      denials.join("; ")
    }; allow them in agent.headless_args in .prj/config.yaml`;
  }
  if (exitCode !== 0) return `agent exited with code ${exitCode}${tail}`;
  return undefined;
}
