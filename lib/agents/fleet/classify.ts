/**
 * The fleet's state rules, as one pure function: what an agent is doing, from what prj
 * observed of it. The agent's own word (its hooks) comes first; its process says whether it
 * runs at all (never its screen); the screen rules of its kind fill in what no hook tells
 * (dialogs before the session starts, an Esc, a "No") and correct a hook state that the
 * screen no longer shows.
 */
import type { HookReading, PaneRules } from "../kinds.ts";

/** An agent's state. */
export type AgentState = "working" | "waiting for input" | "idle" | "exited" | "gone";

/** Where a state was read: the agent's hooks or output, its process, or its screen. */
export type StateSource = "hook" | "process" | "pane";

/** A hook reading with its time. */
export interface TimedHook extends Pick<HookReading, "state" | "background" | "detail"> {
  /** When the hook ran (ms since the epoch). */
  at: number;
}

/** What prj saw of one agent at one moment. */
export type Observation =
  | {
    /** A headless agent, run as a process of its own. */
    headless: true;
    /** The exit code recorded for it, once it ended. */
    exitCode: number | null;
    /** Whether its process is running (by pid and start time). */
    alive: boolean;
  }
  | {
    /** An agent in a tmux session. */
    headless: false;
    /** Whether its session (and worktree) still exist. */
    present: boolean;
    /**
     * Its process: `running`, `ended`, or `starting` when the launcher has not yet recorded
     * it (the session's shell has not run the launcher).
     */
    process: "running" | "ended" | "starting";
    /** The exit code the launcher recorded (or tmux's, for a dead pane), once it ended. */
    exitCode: number | null;
    /** The visible text of its pane. */
    screen: string;
    /** Milliseconds since the pane last printed anything. */
    quietMs: number;
    /** The latest state its hooks reported, if any. */
    hook: TimedHook | undefined;
    /**
     * For a kind with hooks, while the agent opens: when its launch began, or (given a prompt)
     * when its session-start hook ran, until a hook reports it at work or done. Undefined otherwise.
     */
    opening?: number | undefined;
    /** Now (ms since the epoch). */
    now: number;
  };

/** The state read from an observation. */
export interface Classified {
  state: AgentState;
  /** Where it was read. */
  source: StateSource;
  /** The exit code, for `exited` (null when unknown). */
  exitCode: number | null;
  /** When the state began, when the source says (a hook's time); otherwise undefined (now, if it changed). */
  at?: number;
}

/**
 * A reported `working` or `waiting for input` that the screen does not show any more is
 * believed for this long: no hook fires for an Esc, a "No" to a permission question or a
 * cancelled question, so after this the screen (idle) wins.
 */
export const HOOK_GRACE_MS = 3000;

/**
 * How long an opening agent reads as working on a screen that shows nothing of it yet (before
 * it draws, or given a prompt, between its session-start hook and the prompt's submission):
 * past this the screen rules, as for an agent whose hooks never report.
 */
export const OPENING_GRACE_MS = 30_000;

/**
 * What the bottom of a pane says, by the kind's rules: waiting for input, working, or
 * nothing (undefined).
 *
 * @param screen the pane's text
 * @param rules the kind's screen rules
 * @example
 * ```ts
 * import { agentKind } from "../kinds.ts";
 * import assert from "node:assert/strict";
 *
 * const footer = "────\n❯ \n────\n  ⏸ manual mode on · esc to interrupt\n";
 * assert.equal(paneSays(footer, agentKind("claude").pane), "working");
 * assert.equal(paneSays("❯ 1. Yes\n\nEsc to cancel · Tab to amend\n", agentKind("claude").pane), "waiting");
 * ```
 */
export function paneSays(screen: string, rules: PaneRules): "waiting" | "working" | undefined {
  const tail = screen.split("\n").filter((line) => line.trim() !== "").slice(-rules.tail);
  const any = (lines: string[], res: RegExp[]) => lines.some((line) => res.some((re) => re.test(line)));
  // Below its input box only: an agent that draws inline leaves answered dialogs on screen.
  const open = rules.prompt ? tail.slice(tail.findLastIndex((line) => rules.prompt!.test(line)) + 1) : tail;
  if (any(open, rules.waiting)) return "waiting";
  if (any(tail, rules.working)) return "working";
  return undefined;
}

/**
 * An agent's state from an observation.
 *
 * @param seen what prj observed
 * @param rules the kind's screen rules
 * @param idleAfterMs for kinds without a busy marker: a screen unchanged this long reads as idle
 * @returns the state, its source, and the exit code when it exited
 */
export function classify(seen: Observation, rules: PaneRules, idleAfterMs: number): Classified {
  if (seen.headless) {
    if (seen.exitCode !== null) return { state: "exited", source: "process", exitCode: seen.exitCode };
    return { state: seen.alive ? "working" : "gone", source: "process", exitCode: null };
  }
  if (!seen.present) return { state: "gone", source: "process", exitCode: null };
  if (seen.exitCode !== null || seen.process === "ended") {
    return { state: "exited", source: "process", exitCode: seen.exitCode };
  }
  if (seen.process === "starting") return { state: "working", source: "process", exitCode: null };
  const hook = seen.hook?.state === "exited" ? undefined : seen.hook; // the process says when it has ended
  const fromHook = (state: AgentState): Classified | undefined =>
    hook?.state === state ? { state, source: "hook", exitCode: null, at: hook.at } : undefined;
  switch (paneSays(seen.screen, rules)) {
    case "waiting":
      return fromHook("waiting for input") ?? { state: "waiting for input", source: "pane", exitCode: null };
    case "working":
      return fromHook("working") ?? { state: "working", source: "pane", exitCode: null };
  }
  // Neither a dialog nor a busy marker on screen. An agent still opening has not drawn yet, or has a prompt to submit.
  if (seen.opening !== undefined && seen.now - seen.opening < OPENING_GRACE_MS) {
    return { state: "working", source: "process", exitCode: null };
  }
  if (hook?.state === "idle") return fromHook("idle")!;
  if (hook?.state && (hook.background || seen.now - hook.at < HOOK_GRACE_MS)) return fromHook(hook.state)!;
  if (rules.busyMarker) return { state: "idle", source: "pane", exitCode: null };
  return { state: seen.quietMs >= idleAfterMs ? "idle" : "working", source: "pane", exitCode: null };
}
