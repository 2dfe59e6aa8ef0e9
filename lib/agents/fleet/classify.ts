/**
 * The fleet's state rules, as one pure function: what an agent is doing, from what prj
 * observed of it (its process or session, its screen, its exit file, when its screen last
 * changed) and the screen rules of its kind.
 */
import type { AgentKind } from "../kinds.ts";

/** An agent's state. */
export type AgentState = "working" | "waiting for input" | "idle" | "exited" | "gone";

/** What prj saw of one agent at one moment. */
export type Observation =
  | {
    /** A headless agent, run by a prj process. */
    headless: true;
    /** The exit code prj recorded, once it ended. */
    exitCode: number | null;
    /** Whether the prj process running it is alive. */
    runnerAlive: boolean;
  }
  | {
    /** An agent in a tmux session. */
    headless: false;
    /** Whether its session (and worktree) still exist. */
    present: boolean;
    /** The visible text of its pane. */
    screen: string;
    /** What the launcher wrote to the exit file, if it exists. */
    exitText: string | undefined;
    /** Milliseconds since the screen last changed. */
    quietMs: number;
  };

/**
 * Which screen rule matches last: the latest line that matches a rule wins, so a
 * permission prompt scrolled above newer "esc to interrupt" lines has been answered.
 *
 * @param screen the pane's text
 * @param kind the agent kind's rules
 * @returns `waiting`, `working`, or undefined when no rule matches the last 15 non-empty lines
 */
export function screenSays(
  screen: string,
  kind: Pick<AgentKind, "waiting" | "working">,
): "waiting" | "working" | undefined {
  const tail = screen.split("\n").filter((x) => x.trim() !== "").slice(-15);
  const lastMatch = (rules: RegExp[]) => tail.findLastIndex((line) => rules.some((re) => re.test(line)));
  const waitingAt = lastMatch(kind.waiting);
  const workingAt = lastMatch(kind.working);
  if (waitingAt >= 0 && waitingAt > workingAt) return "waiting";
  if (workingAt >= 0) return "working";
  return undefined;
}

/**
 * An agent's state from an observation.
 *
 * @param seen what prj observed
 * @param kind the agent kind's screen rules
 * @param idleAfterMs a screen unchanged this long, with no rule matching, reads as idle
 * @returns the state, and the exit code when it exited
 */
export function classify(
  seen: Observation,
  kind: Pick<AgentKind, "waiting" | "working">,
  idleAfterMs: number,
): { state: AgentState; exitCode: number | null } {
  if (seen.headless) {
    if (seen.exitCode !== null) return { state: "exited", exitCode: seen.exitCode };
    return { state: seen.runnerAlive ? "working" : "gone", exitCode: null };
  }
  if (!seen.present) return { state: "gone", exitCode: null };
  if (seen.exitText !== undefined && /^\d+$/.test(seen.exitText)) {
    return { state: "exited", exitCode: Number(seen.exitText) };
  }
  switch (screenSays(seen.screen, kind)) {
    case "waiting":
      return { state: "waiting for input", exitCode: null };
    case "working":
      return { state: "working", exitCode: null };
    default:
      return { state: seen.quietMs >= idleAfterMs ? "idle" : "working", exitCode: null };
  }
}
