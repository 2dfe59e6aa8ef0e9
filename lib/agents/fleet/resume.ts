/** `prj agent resume`: restarts an agent in its tmux session with its recorded conversation. */
import * as path from "../../util/path.ts";
import type { Project } from "../../project/project.ts";
import type { Store } from "../../state/store.ts";
import { latestResumableLaunch, type LaunchRecord } from "../../state/launches.ts";
import { findWorktreeRecord } from "../../state/worktrees.ts";
import { PrjError } from "../../util/errors.ts";
import { exists } from "../../util/fs.ts";
import { createSession } from "../../workspace/sessions.ts";
import { portFor } from "../../workspace/ports.ts";
import { agentKind } from "../kinds.ts";
import { agentEnv, launchInSession, prepareAgent } from "../launcher.ts";
import { assertNoLiveAgent } from "../headless.ts";

/** A resumed agent. */
export interface Resumed {
  /** Its tmux session. */
  session: string;
  /** The conversation it continues. */
  agentSessionId: string;
  /** Whether the session had to be created again. */
  created: boolean;
  /** The new launch (it replaces the old one in the fleet). */
  launchId: number;
}

/**
 * Restarts an agent in a tmux session with its conversation (Claude Code `--resume <id>`,
 * Codex `resume <id>`, Gemini CLI `--resume <id>`), in its worktree: an interactive agent in
 * its session (created again after a reboot or a killed tmux server), a headless one in a new
 * session, so the user can take the conversation over. The new launch replaces the old row
 * in the fleet.
 *
 * @param worktree the worktree name (or path) the agent worked in
 * @throws {PrjError} when no resumable launch is recorded there, its worktree is gone, or an
 *   agent works there now
 */
export async function resumeAgent(project: Project, store: Store, worktree: string): Promise<Resumed> {
  const launch = latestResumableLaunch(store, worktree);
  if (!launch) {
    throw new PrjError(`No resumable agent recorded for worktree "${worktree}"`, {
      hint: "only agents started by prj whose conversation id is known can be resumed; see `prj fleet`",
    });
  }
  return await resumeLaunch(project, store, launch);
}

/**
 * Resumes one recorded launch (see {@link resumeAgent}).
 *
 * @throws {PrjError} as {@link resumeAgent}
 */
export async function resumeLaunch(project: Project, store: Store, l: LaunchRecord): Promise<Resumed> {
  const kind = agentKind(l.kind);
  if (!kind.resumes || !l.agent_session_id) {
    throw new PrjError(`Agent kind "${l.kind}" cannot resume a conversation`);
  }
  if (!exists(l.worktree_path)) throw new PrjError(`The worktree of that agent is gone: "${l.worktree_path}"`);
  assertNoLiveAgent(store, l.worktree_path);
  const slot = findWorktreeRecord(store, { path: l.worktree_path })?.port_slot;
  const port = slot === undefined ? undefined : portFor(project, slot);
  const name = l.worktree ?? path.basename(l.worktree_path);
  const session = await createSession(
    project,
    { name, path: l.worktree_path, port },
    undefined,
    l.session ?? undefined,
  );
  const prepared = prepareAgent(project, {
    model: l.model ?? undefined,
    headless: false,
    resumeId: l.agent_session_id,
  });
  const launchId = await launchInSession(project, store, prepared, {
    session: session.name,
    cwd: l.worktree_path,
    env: agentEnv(project, { worktree: l.worktree_path, port, model: l.model ?? undefined }),
    model: l.model ?? undefined,
    runId: l.run_id,
    worktree: { name, branch: l.branch, path: l.worktree_path },
  });
  return { session: session.name, agentSessionId: l.agent_session_id, created: session.created, launchId };
}
