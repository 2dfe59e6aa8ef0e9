/** `prj worktree list` and `status`: the project's worktrees as git and the database know them. */
import * as path from "../../util/path.ts";
import type { Project } from "../../project/project.ts";
import { openStore, type Store } from "../../state/store.ts";
import { listWorktreeRecords, type WorktreeRecord } from "../../state/worktrees.ts";
import { UsageError } from "../../util/errors.ts";
import { isDirectory } from "../../util/fs.ts";
import { didYouMean } from "../../util/suggest.ts";
import { aheadBehind, changedPaths, gitWorktrees } from "../git.ts";
import { portFor } from "../ports.ts";
import { baseBranch } from "./names.ts";

/** A worktree as prj reports it. */
export interface WorktreeInfo {
  /** Its name (folder name under the worktree dir). */
  name: string;
  /** Its branch (null when detached). */
  branch: string | null;
  /** Absolute path. */
  path: string;
  /** The commit it is at. */
  head: string | null;
  /** Whether it has uncommitted changes (null when its folder is gone). */
  dirty: boolean | null;
  /** The base branch it was created from. */
  base: string | null;
  /** Commits on its branch that are not on the base. */
  ahead: number | null;
  /** Commits on the base that are not on its branch. */
  behind: number | null;
  /** Its port slot. */
  slot: number | null;
  /** Its port (`PRJ_PORT`). */
  port: number | null;
  /** Whether prj created it (it is in the database). */
  managed: boolean;
  /** Whether its folder exists. */
  exists: boolean;
  /** tmux sessions in it (filled by the CLI when tmux is there). */
  sessions?: string[];
}

/** Lists the project's linked worktrees (the main worktree is not listed).
 *
 * @example
 * ```ts
 * import { initProject, openProject } from "@prunejuice/cli";
 * import { createWorktree, listWorktrees } from "@prunejuice/cli/workspace";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const git = (...args: string[]) => new Deno.Command("git", { args: ["-c", "user.name=d", "-c", "user.email=d@d", ...args], cwd: `${dir}/repo` }).output();
 * await Deno.mkdir(`${dir}/repo`);
 * await git("init", "-q", "-b", "main");
 * await git("commit", "-q", "--allow-empty", "-m", "init");
 * await initProject(`${dir}/repo`);
 * const project = await openProject(`${dir}/repo`);
 * await createWorktree(project, "a");
 * const [a] = await listWorktrees(project);
 * assert.equal(a?.branch, "a");
 * assert.equal(a?.dirty, false);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function listWorktrees(project: Project, store?: Store): Promise<WorktreeInfo[]> {
  const s = store ?? openStore(project.prjDir);
  try {
    const known = new Map<string, WorktreeRecord>(listWorktreeRecords(s).map((r) => [path.resolve(r.path), r]));
    const fromGit = await gitWorktrees(project.root);
    const main = path.resolve(project.root);
    const defaultBase = await baseBranch(project);
    const out: WorktreeInfo[] = [];
    const seen = new Set<string>();
    for (const wt of fromGit) {
      const p = path.resolve(wt.path);
      if (p === main) continue;
      seen.add(p);
      const row = known.get(p);
      out.push(
        await describe(project, {
          name: row?.name ?? path.basename(p),
          path: p,
          branch: wt.branch,
          head: wt.head,
          base: row?.base ?? defaultBase,
          slot: row?.port_slot ?? null,
          managed: !!row,
        }),
      );
    }
    for (const [p, row] of known) {
      if (seen.has(p)) continue;
      out.push(
        await describe(project, {
          name: row.name,
          path: p,
          branch: row.branch,
          head: null,
          base: row.base,
          slot: row.port_slot,
          managed: true,
        }),
      );
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  } finally {
    if (!store) s.close();
  }
}

async function describe(
  project: Project,
  w: {
    name: string;
    path: string;
    branch: string | null;
    head: string | null;
    base: string | null;
    slot: number | null;
    managed: boolean;
  },
): Promise<WorktreeInfo> {
  const exists = isDirectory(w.path);
  let dirty: boolean | null = null;
  let ahead: number | null = null;
  let behind: number | null = null;
  if (exists) {
    const changed = await changedPaths({ project: project.root, worktree: w.path });
    dirty = changed === undefined ? null : changed.length > 0;
  }
  if (w.branch && w.base) {
    const counts = await aheadBehind(project.root, w.base, w.branch);
    if (counts) ({ ahead, behind } = counts);
  }
  return {
    name: w.name,
    branch: w.branch,
    path: w.path,
    head: w.head,
    dirty,
    base: w.base,
    ahead,
    behind,
    slot: w.slot,
    port: w.slot === null ? null : portFor(project, w.slot),
    managed: w.managed,
    exists,
  };
}

/**
 * Finds one worktree by name.
 *
 * @throws {UsageError} when there is none (with a suggestion)
 *
 * @example
 * ```ts
 * import { initProject, openProject } from "@prunejuice/cli";
 * import { createWorktree, getWorktree } from "@prunejuice/cli/workspace";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const git = (...args: string[]) => new Deno.Command("git", { args: ["-c", "user.name=d", "-c", "user.email=d@d", ...args], cwd: `${dir}/repo` }).output();
 * await Deno.mkdir(`${dir}/repo`);
 * await git("init", "-q", "-b", "main");
 * await git("commit", "-q", "--allow-empty", "-m", "init");
 * await initProject(`${dir}/repo`);
 * const project = await openProject(`${dir}/repo`);
 * await createWorktree(project, "b");
 * assert.equal((await getWorktree(project, "b")).ahead, 0);
 * await assert.rejects(() => getWorktree(project, "c"), /No worktree "c"/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function getWorktree(project: Project, name: string, store?: Store): Promise<WorktreeInfo> {
  const all = await listWorktrees(project, store);
  const hit = all.find((w) => w.name === name);
  if (hit) return hit;
  throw new UsageError(`No worktree "${name}"${didYouMean(name, all.map((w) => w.name))}`, {
    hint: "see `prj worktree list`",
  });
}
