/**
 * What prj knows about each kind of coding agent, in one small table: how to give it a
 * session id and resume one, how to run it headless with structured output, and which
 * screen text means it is waiting for the user or working. `agent.kind` in config picks one.
 */

/** One agent kind. */
export interface AgentKind {
  /** Arguments that give a new conversation this id (so it can be resumed), or null. */
  sessionIdArgs: ((id: string) => string[]) | null;
  /** Arguments that resume the conversation with this id, or null when it cannot. */
  resumeArgs: ((id: string) => string[]) | null;
  /** Arguments for a headless run with structured (stream-json) output. */
  headlessArgs: string[];
  /** Pane text that means the agent waits for the user (a permission prompt, a question). */
  waiting: RegExp[];
  /** Pane text that means the agent is busy even when its output pauses. */
  working: RegExp[];
}

/** The known kinds; `generic` is any other program. */
export const AGENT_KINDS: Readonly<Record<string, AgentKind>> = {
  claude: {
    sessionIdArgs: (id) => ["--session-id", id],
    resumeArgs: (id) => ["--resume", id],
    headlessArgs: ["-p", "--output-format", "stream-json", "--verbose"],
    waiting: [
      /Do you want to (proceed|make this edit|create|run|allow)/i,
      /❯\s*1\.\s*Yes/,
      /\b(Allow|Deny)\b.*\?\s*$/,
      /Press Enter to continue/i,
    ],
    working: [/esc to interrupt/i, /\besc to cancel\b/i],
  },
  generic: {
    sessionIdArgs: null,
    resumeArgs: null,
    headlessArgs: [],
    waiting: [/\[y\/n\]/i, /\(y\/n\)/i, /\? \[Y\/n\]/, /press enter/i],
    working: [],
  },
};

/** The kind for a config value (unknown names are `generic`). */
export function agentKind(name: string): AgentKind {
  return AGENT_KINDS[name] ?? AGENT_KINDS.generic!;
}

/** What a headless agent's stream-json `result` line said. */
export interface AgentResult {
  /** `success`, or the error subtype. */
  subtype: string;
  /** Whether the agent reported an error. */
  is_error: boolean;
  /** Conversation turns. */
  num_turns: number | null;
  /** Cost in USD, when reported. */
  total_cost_usd: number | null;
  /** The conversation's id. */
  session_id: string | null;
}

/** Reads the final `result` object from stream-json output lines (Claude Code's `--output-format stream-json`). */
export function parseStreamResult(lines: readonly string[]): AgentResult | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trim();
    if (!line.startsWith("{")) continue;
    try {
      const json = JSON.parse(line);
      if (json?.type !== "result") continue;
      return {
        subtype: String(json.subtype ?? (json.is_error ? "error" : "success")),
        is_error: json.is_error === true,
        num_turns: typeof json.num_turns === "number" ? json.num_turns : null,
        total_cost_usd: typeof json.total_cost_usd === "number" ? json.total_cost_usd : null,
        session_id: typeof json.session_id === "string" ? json.session_id : null,
      };
    } catch { /* not JSON */ }
  }
  return undefined;
}
