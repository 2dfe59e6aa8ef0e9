/** prj's tmux sessions: one per worktree (and task), marked so prj never touches a user's other sessions. */
import * as path from "../util/path.ts";
import { PrjError, UsageError } from "../util/errors.ts";
import { isDirectory } from "../util/fs.ts";
import { SESSION_SLUG, slug } from "../util/slug.ts";
import type { Project } from "../project/project.ts";
import { requireTmux, tmux, tmuxMaybe } from "./tmux.ts";

/** A prj session as listed. */
export interface SessionInfo {
  /** tmux session name. */
  name: string;
  /** The worktree name it belongs to. */
  worktree: string;
  /** Its working directory (the worktree's path). */
  path: string;
  /** When it was created (ISO time). */
  created: string;
  /** How many clients are attached. */
  attached: number;
  /** Whether its worktree folder still exists. */
  worktreeExists: boolean;
}

/** `<project>-<worktree>-<task>`, lowercase, `[a-z0-9-]` only, dashes collapsed.
 *
 * @example
 * ```ts
 * import { sessionName } from "@prunejuice/cli/workspace";
 * import assert from "node:assert/strict";
 *
 * assert.equal(sessionName("Shop", "login", "Fix Bug #12!"), "shop-login-fix-bug-12");
 * ```
 */
export function sessionName(project: string, worktree: string, task?: string): string {
  return slug([project, worktree, task].filter((p) => p !== undefined && p !== "").join("-"), SESSION_SLUG);
}

const FORMAT =
  "#{session_name}\t#{session_created}\t#{session_attached}\t#{@prj_project}\t#{@prj_worktree}\t#{@prj_worktree_path}";

/** Lists this project's sessions (optionally those whose name contains `pattern`).
 *
 * @example
 * ```ts
 * import { initProject, openProject } from "@prunejuice/cli";
 * import { listSessions } from "@prunejuice/cli/workspace";
 * import assert from "node:assert/strict";
 *
 * Deno.env.set("PRJ_TMUX_SOCKET", `prj-doc-${Deno.pid}`);
 * const dir = await Deno.makeTempDir();
 * await initProject(dir);
 * assert.deepEqual(await listSessions(await openProject(dir)), []);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function listSessions(project: Project, pattern?: string): Promise<SessionInfo[]> {
  await requireTmux();
  const out = await tmuxMaybe(["list-sessions", "-F", FORMAT]);
  if (out === undefined) return []; // no server running: no sessions
  const sessions: SessionInfo[] = [];
  for (const line of out.split("\n")) {
    const [name, created, attached, owner, worktree, wtPath] = line.split("\t");
    if (!name || owner !== project.root) continue;
    if (pattern && !name.includes(pattern)) continue;
    sessions.push({
      name,
      worktree: worktree ?? "",
      path: wtPath ?? "",
      created: new Date(Number(created) * 1000).toISOString(),
      attached: Number(attached),
      worktreeExists: isDirectory(wtPath ?? ""),
    });
  }
  return sessions.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Creates a detached session in a worktree, or reports the existing one.
 *
 * @returns the session name and whether it was created now
 * @throws {UsageError} when the worktree does not exist
 * @example
 * ```ts
 * import { initProject, openProject } from "@prunejuice/cli";
 * import { createSession, killSession, listSessions } from "@prunejuice/cli/workspace";
 * import assert from "node:assert/strict";
 *
 * Deno.env.set("PRJ_TMUX_SOCKET", `prj-doc-${Deno.pid}`);
 * Deno.env.set("SHELL", "/bin/sh");
 * const dir = await Deno.makeTempDir();
 * await initProject(dir);
 * const project = await openProject(dir);
 * const session = await createSession(project, { name: "main", path: dir }, "docs");
 * assert.equal(session.created, true);
 * assert.equal((await listSessions(project))[0]?.path, dir);
 * await killSession(project, session.name);
 * await new Deno.Command("tmux", { args: ["-L", `prj-doc-${Deno.pid}`, "kill-server"] }).output();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function createSession(
  project: Project,
  worktree: { name: string; path: string; port?: number | undefined },
  task?: string,
  exactName?: string,
  options: {
    /** Called with the chosen name just before the session is made (to record it first). */
    beforeCreate?: ((name: string) => void) | undefined;
  } = {},
): Promise<{ name: string; created: boolean }> {
  await requireTmux();
  if (!isDirectory(worktree.path)) {
    throw new UsageError(`Worktree "${worktree.name}" has no folder at "${worktree.path}"`);
  }
  const base = exactName ?? sessionName(project.name, worktree.name, task);
  if (base === "") throw new UsageError("Session name would be empty; give the worktree a name with letters or digits");
  // Names are slugs, so two worktrees can want the same one (`a-b`, `a.b`): a session that
  // belongs to another worktree (or is not prj's) is left alone and this one gets a suffix.
  let name = base;
  for (let n = 2;; n++) {
    const owner = await sessionOwner(name);
    if (owner === undefined) break;
    if (owner.project === project.root && path.resolve(owner.worktreePath) === path.resolve(worktree.path)) {
      return { name, created: false };
    }
    if (n > 100) throw new PrjError(`Every session name from "${base}" to "${name}" is taken by another worktree`);
    name = `${base}-${n}`;
  }
  options.beforeCreate?.(name);
  const env = ["-e", `PRJ_WORKTREE=${worktree.path}`, "-e", `PRJ_PROJECT=${project.root}`];
  if (worktree.port !== undefined) env.push("-e", `PRJ_PORT=${worktree.port}`);
  // One tmux command line makes the session and marks it prj's: the tmux server runs the whole
  // list, so a prj process killed at any moment leaves either no session or a marked one (never
  // an unmarked session that nothing would clean up).
  const target = `=${name}:`;
  await tmux(
    [
      "new-session",
      "-d",
      "-s",
      name,
      "-c",
      worktree.path,
      ...env,
      ";",
      "set-option",
      "-t",
      target,
      "@prj_project",
      project.root,
      ";",
      "set-option",
      "-t",
      target,
      "@prj_worktree",
      worktree.name,
      ";",
      "set-option",
      "-t",
      target,
      "@prj_worktree_path",
      worktree.path,
    ],
    `tmux new-session ${name}`,
  );
  if ((await sessionOwner(name))?.project !== project.root) {
    await tmuxMaybe(["kill-session", "-t", `=${name}`]);
    throw new PrjError(`tmux made session "${name}" but did not keep prj's marks on it; it was removed`);
  }
  return { name, created: true };
}

/**
 * Resolves a session by exact name or unique prefix among this project's sessions (only by its
 * whole name with `exact`).
 *
 * @throws {UsageError} when none or several match
 */
export async function findSession(
  project: Project,
  nameOrPrefix: string,
  options: { exact?: boolean } = {},
): Promise<SessionInfo> {
  const sessions = await listSessions(project);
  const exact = sessions.find((s) => s.name === nameOrPrefix);
  if (exact) return exact;
  const matches = nameOrPrefix === "" ? [] : sessions.filter((s) => s.name.startsWith(nameOrPrefix));
  if (options.exact) {
    // What kills takes a whole name: a prefix could name another session than the one meant.
    throw new UsageError(`No prj session named "${nameOrPrefix}" in this project`, {
      hint: matches.length > 0
        ? `give the whole name: ${matches.map((m) => m.name).join(", ")}`
        : "see `prj session list`",
    });
  }
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new UsageError(
      `Session prefix "${nameOrPrefix}" matches ${matches.length} sessions: ${matches.map((m) => m.name).join(", ")}`,
    );
  }
  throw new UsageError(`No prj session "${nameOrPrefix}" in this project`, { hint: "see `prj session list`" });
}

/** Kills a session by its whole name (only one of this project's; never a prefix match).
 *
 * @example
 * ```ts
 * import { initProject, openProject } from "@prunejuice/cli";
 * import { createSession, killSession, listSessions } from "@prunejuice/cli/workspace";
 * import assert from "node:assert/strict";
 *
 * Deno.env.set("PRJ_TMUX_SOCKET", `prj-doc-${Deno.pid}`);
 * Deno.env.set("SHELL", "/bin/sh");
 * const dir = await Deno.makeTempDir();
 * await initProject(dir);
 * const project = await openProject(dir);
 * const { name } = await createSession(project, { name: "w", path: dir });
 * await killSession(project, name);
 * assert.deepEqual(await listSessions(project), []);
 * await new Deno.Command("tmux", { args: ["-L", `prj-doc-${Deno.pid}`, "kill-server"] }).output();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function killSession(project: Project, name: string): Promise<void> {
  const session = await findSession(project, name, { exact: true });
  await tmux(["kill-session", "-t", `=${session.name}`], `tmux kill-session ${session.name}`);
}

/**
 * Kills this project's session with exactly this name (never a prefix match), if it is there.
 *
 * @returns whether a session was killed
 */
export async function killSessionExact(project: Project, name: string): Promise<boolean> {
  const owner = await sessionOwner(name).catch(() => undefined);
  if (owner === undefined || owner.project !== project.root) return false;
  return (await tmuxMaybe(["kill-session", "-t", `=${name}`])) !== undefined;
}

/**
 * What runs in a session besides its shell: the first program found below a pane's shell
 * (an agent, a dev server, a build), or undefined when every pane sits at its prompt.
 */
export async function sessionBusy(name: string): Promise<{ pid: number; command: string } | undefined> {
  const out = await tmuxMaybe(["list-panes", "-s", "-t", `=${name}`, "-F", "#{pane_pid}"]);
  for (const line of (out ?? "").split("\n")) {
    const pane = Number(line.trim());
    if (!Number.isInteger(pane) || pane <= 0) continue;
    const child = firstChild(pane);
    if (child) return child;
  }
  return undefined;
}

function firstChild(pid: number): { pid: number; command: string } | undefined {
  let children: number[] = [];
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const text = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`).trim();
      if (text) children = children.concat(text.split(/\s+/).map(Number));
    }
  } catch {
    return undefined; // no /proc, or the pane is gone
  }
  for (const child of children) {
    let command = "?";
    try {
      command = Deno.readTextFileSync(`/proc/${child}/comm`).trim();
      const state = Deno.readTextFileSync(`/proc/${child}/stat`);
      if (/^\S+ \(.*\) [ZX]/s.test(state)) continue; // a zombie runs nothing
    } catch {
      continue; // it just ended
    }
    return { pid: child, command };
  }
  return undefined;
}

/** The sessions `cleanup` would kill: this project's whose worktree folder is gone. */
export async function orphanSessions(project: Project): Promise<SessionInfo[]> {
  return (await listSessions(project)).filter((s) => !s.worktreeExists);
}

/**
 * What `prj session cleanup` kills (this project's sessions whose worktree folder is gone),
 * and the orphans it leaves alone because a program (an agent) still runs in them.
 */
export async function planSessionCleanup(
  project: Project,
): Promise<{ kill: SessionInfo[]; refused: { name: string; why: string }[] }> {
  const kill: SessionInfo[] = [];
  const refused: { name: string; why: string }[] = [];
  for (const s of await orphanSessions(project)) {
    const running = await sessionBusy(s.name);
    if (running) {
      refused.push({
        name: s.name,
        why: `${running.command} (pid ${running.pid}) still runs in it; \`prj session kill ${s.name}\` if it should go`,
      });
    } else kill.push(s);
  }
  return { kill, refused };
}

/** Kills every session of a worktree (used when the worktree is removed). */
export async function killSessionsOfWorktree(project: Project, worktreePath: string): Promise<string[]> {
  let sessions: SessionInfo[];
  try {
    sessions = await listSessions(project);
  } catch (error) {
    if (error instanceof PrjError) return []; // no tmux: nothing to kill
    throw error;
  }
  const killed: string[] = [];
  for (const s of sessions) {
    if (path.resolve(s.path) !== path.resolve(worktreePath)) continue;
    await tmuxMaybe(["kill-session", "-t", `=${s.name}`]);
    killed.push(s.name);
  }
  return killed;
}

/** The project and worktree prj recorded on a session; empty strings for a session prj did not make; undefined when none. */
async function sessionOwner(name: string): Promise<{ project: string; worktreePath: string } | undefined> {
  // display-message answers even for a session that does not exist, so ask has-session first.
  if ((await tmuxMaybe(["has-session", "-t", `=${name}`])) === undefined) return undefined;
  const out = await tmuxMaybe(["display-message", "-p", "-t", `=${name}:`, "#{@prj_project}\t#{@prj_worktree_path}"]);
  if (out === undefined) return undefined;
  const [project, worktreePath] = out.replace(/\n$/, "").split("\t");
  return { project: project ?? "", worktreePath: worktreePath ?? "" };
}

/**
 * Sends a command line to a session's first pane, as if typed, only when the session is the
 * one prj made for that worktree of that project.
 *
 * @param owner the project root and worktree path the session must belong to
 * @param options `settleMs`: a pause between the text and Enter (a terminal UI such as a coding
 *   agent's takes typed text a moment before Enter submits it)
 * @throws {PrjError} when the session is not prj's session for that worktree
 */
export async function sendLine(
  session: string,
  line: string,
  owner: { project: string; worktreePath: string },
  options: { settleMs?: number } = {},
): Promise<void> {
  const found = await sessionOwner(session);
  if (
    found === undefined || found.project !== owner.project ||
    path.resolve(found.worktreePath) !== path.resolve(owner.worktreePath)
  ) {
    throw new PrjError(
      `tmux session "${session}" is not the session prj made for "${owner.worktreePath}"; prj will not type into it`,
    );
  }
  await tmux(["send-keys", "-t", `=${session}:`, "-l", line], `tmux send-keys ${session}`);
  if (options.settleMs) await new Promise((resolve) => setTimeout(resolve, options.settleMs));
  await tmux(["send-keys", "-t", `=${session}:`, "Enter"], `tmux send-keys ${session}`);
}
