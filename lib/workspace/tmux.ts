/** tmux access: one place that knows the binary, the server socket and the "not installed" message. */
import { PrjError } from "../util/errors.ts";
import { capture } from "../util/process.ts";

/** The hint shown when tmux is missing. */
export const TMUX_HINT =
  "install tmux (`apt-get install tmux` or `brew install tmux`); worktree commands work without it";

/**
 * The server arguments: `PRJ_TMUX_SOCKET=<name>` selects a private server (`tmux -L <name>`),
 * as the tests do; otherwise the user's default server.
 */
export function serverArgs(): string[] {
  const socket = Deno.env.get("PRJ_TMUX_SOCKET");
  return socket ? ["-L", socket] : [];
}

/** Runs tmux with the server arguments; returns stdout, or throws with tmux's message. */
export async function tmux(args: readonly string[], what?: string): Promise<string> {
  const out = await capture(["tmux", ...serverArgs(), ...args], { missingHint: TMUX_HINT });
  if (out.code !== 0) {
    throw new PrjError(`${what ?? `tmux ${args[0]}`} failed: ${out.stderr.trim() || `exit code ${out.code}`}`);
  }
  return out.stdout;
}

/** Like {@link tmux} but returns undefined on a non-zero exit (e.g. no server running). */
export async function tmuxMaybe(args: readonly string[]): Promise<string | undefined> {
  const out = await capture(["tmux", ...serverArgs(), ...args], { missingHint: TMUX_HINT });
  return out.code === 0 ? out.stdout : undefined;
}

/** Throws the one-line "tmux is not installed" error when tmux cannot be started. */
export async function requireTmux(): Promise<void> {
  await capture(["tmux", "-V"], { missingHint: TMUX_HINT });
}
