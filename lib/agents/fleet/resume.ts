/** `prj agent resume`: restarts an agent in its tmux session with its recorded conversation. */
import * as path from "node:path";
import type { Project } from "../../project/project.ts";
import type { Store } from "../../state/store.ts";
import { latestResumableLaunch } from "../../state/launches.ts";
import { findWorktreeRecord } from "../../state/worktrees.ts";
import { PrjError } from "../../util/errors.ts";
import { exists } from "../../util/fs.ts";
import { createSession, sendLine } from "../../workspace/sessions.ts";
import { portFor } from "../../workspace/ports.ts";
import { agentKind } from "../kinds.ts";
import { agentBaseArgv, agentEnv, launchDir, shellQuote, writeLauncher } from "../launcher.ts";
import { recordLaunch } from "./record.ts";

/**
 * Restarts an agent in its tmux session with its conversation (`--resume <session id>` for
 * Claude Code): after a reboot or a killed tmux server the session is created again, in the
 * agent's worktree.
 *
 * @param worktree the worktree name (or path) the agent worked in
 * @throws {PrjError} when no resumable launch is recorded there, or its worktree is gone
 */
export async function resumeAgent(
  project: Project,
  store: Store,
  worktree: string,
): Promise<{ session: string; agentSessionId: string; created: boolean }> {
  const l = latestResumableLaunch(store, worktree);
  if (!l) {
    throw new PrjError(`No resumable agent recorded for worktree "${worktree}"`, {
      hint: "only agents started by prj with a session id (agent.kind claude) can be resumed; see `prj fleet`",
    });
  }
  const kind = agentKind(l.kind);
  if (!kind.resumeArgs) throw new PrjError(`Agent kind "${l.kind}" cannot resume a conversation`);
  if (!exists(l.worktree_path)) throw new PrjError(`The worktree of that agent is gone: "${l.worktree_path}"`);
  const slot = findWorktreeRecord(store, { path: l.worktree_path })?.port_slot;
  const portValue = slot === undefined ? undefined : portFor(project, slot);
  const session = await createSession(
    project,
    { name: l.worktree ?? path.basename(l.worktree_path), path: l.worktree_path, port: portValue },
    undefined,
    l.session ?? undefined,
  );
  const argv = agentBaseArgv(project);
  if (l.model && project.config.agent.model_flag) argv.push(project.config.agent.model_flag, l.model);
  argv.push(...kind.resumeArgs(l.agent_session_id!));
  const dir = await launchDir(project, `resume-${l.id}-${Date.now()}`);
  const exitFile = path.join(dir, "agent.exit");
  const script = path.join(dir, "agent.sh");
  await writeLauncher(script, {
    cwd: l.worktree_path,
    env: agentEnv(project, { worktree: l.worktree_path, port: portValue, model: l.model ?? undefined }),
    invocation: { argv, stdin: undefined },
    exitFile,
  });
  recordLaunch(store, {
    runId: l.run_id,
    worktree: l.worktree,
    worktreePath: l.worktree_path,
    branch: l.branch,
    session: session.name,
    kind: l.kind,
    model: l.model,
    agentSessionId: l.agent_session_id,
    headless: false,
    exitFile,
  });
  await sendLine(session.name, `sh ${shellQuote(script)}`, { project: project.root, worktreePath: l.worktree_path });
  return { session: session.name, agentSessionId: l.agent_session_id!, created: session.created };
}
