/** prj's git worktrees: create (with branch, copied files, setup, port slot), list, remove, prune, merge, diff. */
import * as path from "node:path";
import { PrjError, UsageError } from "../util/errors.ts";
import { git, gitMaybe } from "./git.ts";
import { gitInvocation, worktreeGitDir } from "./safe_git.ts";
import type { Project } from "../project/project.ts";
import { openStore, type Store } from "../state/store.ts";
import {
  deleteWorktreeRecord,
  findWorktreeRecord,
  insertWorktree,
  listWorktreeRecords,
  type WorktreeRecord,
} from "../state/worktrees.ts";
import { supersedeLaunchesIn } from "../state/launches.ts";
import { capture, runStreaming } from "../util/process.ts";
import { didYouMean } from "../util/suggest.ts";
import { killSessionsOfWorktree } from "./sessions.ts";

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

/** What `createWorktree` did. */
export interface CreatedWorktree {
  /** Its name. */
  name: string;
  /** Its absolute path. */
  path: string;
  /** Its branch. */
  branch: string;
  /** The branch or commit it was made from. */
  base: string;
  /** Its port slot (0 for a dry run). */
  slot: number;
  /** Its port, `PRJ_PORT` (0 for a dry run). */
  port: number;
  /** Whether the branch was created (false: an existing branch was checked out). */
  createdBranch: boolean;
  /** The untracked files copied into it. */
  copied: string[];
  /** The setup commands run in it. */
  setup: string[];
}

/** Options for {@link createWorktree}. */
export interface CreateWorktreeOptions {
  /** Base to branch from (default: config, then the repo's default branch). */
  from?: string | undefined;
  /** Branch name (default: `<branch_prefix><name>`). Checked out if it exists. */
  branch?: string | undefined;
  /** Do not copy untracked files (.worktreeinclude / config `copy`). */
  noCopy?: boolean | undefined;
  /** Only compute what would happen. */
  dryRun?: boolean | undefined;
  /** Progress lines. */
  onProgress?: ((line: string) => void) | undefined;
  /** The run that creates it. */
  runId?: string | undefined;
  /** An open store. */
  store?: Store | undefined;
}

/**
 * Checks a worktree name: no path separators, no `..`, usable as a git ref component.
 *
 * @throws {UsageError} naming what is wrong
 */
export function checkWorktreeName(name: string): void {
  if (name === "") throw new UsageError("Worktree name is empty");
  if (name.includes("/") || name.includes("\\")) {
    throw new UsageError(`Worktree name "${name}" contains a path separator; use a plain name like "login-form"`);
  }
  if (name.includes("..")) throw new UsageError(`Worktree name "${name}" contains ".."; use a plain name`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name.endsWith(".lock") || name.endsWith(".")) {
    throw new UsageError(
      `Worktree name "${name}" is not valid; use letters, digits, ".", "_" and "-", starting with a letter or digit`,
    );
  }
}

/** The folder worktrees go in: config `worktree.dir`, else the sibling `<repo>.worktrees`. */
export function worktreeDir(project: Project): string {
  const configured = project.config.worktree.dir;
  if (configured) return path.resolve(project.root, configured);
  return path.join(path.dirname(project.root), `${path.basename(project.root)}.worktrees`);
}

/** The repo's default branch: origin's HEAD, else the main worktree's branch, else init.defaultBranch, else "main". */
export async function defaultBranch(project: Project): Promise<string> {
  if (project.config.worktree.base) return project.config.worktree.base;
  const origin = (await gitMaybe(project.root, ["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"]))
    ?.trim();
  if (origin) return origin.replace(/^origin\//, "");
  const current = (await gitMaybe(project.root, ["symbolic-ref", "--quiet", "--short", "HEAD"]))?.trim();
  if (current) return current;
  const configured = (await gitMaybe(project.root, ["config", "init.defaultBranch"]))?.trim();
  return configured || "main";
}

async function branchExists(project: Project, branch: string): Promise<boolean> {
  return (await gitMaybe(project.root, ["show-ref", "--verify", "--quiet", `refs/heads/${branch}`])) !== undefined;
}

/**
 * Runs `fn` holding the project's worktree lock (an flock on `.prj/worktrees.lock`, freed
 * by the OS if the process dies). git's own `worktree add` reads the other worktrees'
 * admin files and fails when another process is half-way through adding one, so prj
 * processes (parallel agents) take turns for the short git part.
 */
export async function withWorktreeLock<T>(project: Project, fn: () => Promise<T>): Promise<T> {
  const file = await Deno.open(path.join(project.prjDir, "worktrees.lock"), { create: true, write: true });
  try {
    await file.lock(true);
    return await fn();
  } finally {
    try {
      await file.unlock();
    } catch { /* closing releases it too */ }
    file.close();
  }
}

/** The port of a prj worktree, from the database alone (no git), or null when prj did not create it. */
export function worktreePort(project: Project, store: Store, name: string): number | null {
  const row = findWorktreeRecord(store, { name });
  return row ? portFor(project, row.port_slot) : null;
}

/** `PRJ_PORT` for a slot. */
export function portFor(project: Project, slot: number): number {
  return project.config.worktree.port_base + slot * project.config.worktree.port_stride;
}

async function filesToCopy(project: Project): Promise<string[]> {
  const patterns = project.config.worktree.copy;
  const include = path.join(project.root, ".worktreeinclude");
  let hasInclude = false;
  try {
    hasInclude = Deno.statSync(include).isFile;
  } catch { /* none */ }
  if (!hasInclude && patterns.length === 0) return [];
  // git matches the patterns with gitignore semantics against untracked files.
  const args = ["ls-files", "-z", "--others", "--ignored"];
  if (hasInclude) args.push(`--exclude-from=${include}`);
  for (const p of patterns) args.push(`--exclude=${p}`);
  const out = await git(project.root, args, "listing files to copy");
  return out.split("\0").filter((f) => f !== "" && !f.startsWith(".prj/"));
}

/**
 * Creates a branch and a worktree for it, copies the untracked files named by
 * `.worktreeinclude` and config `copy`, runs the setup commands, and records a port slot.
 * On any failure it leaves nothing behind (no folder, no branch, no database row).
 * It never touches the current checkout or stash.
 *
 * @throws {UsageError} for a bad name, an existing worktree or folder, an unknown base
 * @throws {PrjError} when git or a setup command fails (after rolling back)
 * @example
 * ```ts
 * import { initProject, openProject } from "@prunejuice/cli";
 * import { createWorktree, removeWorktree } from "@prunejuice/cli/workspace";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const git = (...args: string[]) => new Deno.Command("git", { args: ["-c", "user.name=d", "-c", "user.email=d@d", ...args], cwd: `${dir}/repo` }).output();
 * await Deno.mkdir(`${dir}/repo`);
 * await git("init", "-q", "-b", "main");
 * await git("commit", "-q", "--allow-empty", "-m", "init");
 * await initProject(`${dir}/repo`);
 * const project = await openProject(`${dir}/repo`);
 * const created = await createWorktree(project, "login");
 * assert.equal(created.path, `${dir}/repo.worktrees/login`);
 * assert.equal(created.port, 3010);
 * await removeWorktree(project, "login");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function createWorktree(
  project: Project,
  name: string,
  options: CreateWorktreeOptions = {},
): Promise<CreatedWorktree> {
  checkWorktreeName(name);
  const progress = options.onProgress ?? (() => {});
  const branch = options.branch ?? `${project.config.worktree.branch_prefix}${name}`;
  if ((await gitMaybe(project.root, ["check-ref-format", "--branch", branch])) === undefined) {
    throw new UsageError(`Branch name "${branch}" is not a valid git branch name`);
  }
  const dir = worktreeDir(project);
  const wtPath = path.join(dir, name);
  const base = options.from ?? await defaultBranch(project);
  const existingBranch = await branchExists(project, branch);
  if (
    !existingBranch &&
    (await gitMaybe(project.root, ["rev-parse", "--verify", "--quiet", `${base}^{commit}`])) === undefined
  ) {
    throw new UsageError(`Base "${base}" is not a branch or commit of this repository`, {
      hint: "pass --from <branch>, or make a first commit",
    });
  }
  let folderExisted = false;
  try {
    Deno.statSync(wtPath);
    folderExisted = true;
  } catch { /* good */ }
  if (folderExisted) {
    throw new UsageError(`Folder "${wtPath}" already exists`, {
      hint: "choose another name, or `prj worktree remove` the old one",
    });
  }
  const copies = options.noCopy ? [] : await filesToCopy(project);
  const setup = project.config.worktree.setup;
  if (options.dryRun) {
    return {
      name,
      path: wtPath,
      branch,
      base,
      slot: 0,
      port: 0,
      createdBranch: !existingBranch,
      copied: copies,
      setup: setup.map((s) => (Array.isArray(s) ? s.join(" ") : s)),
    };
  }
  const store = options.store ?? openStore(project.prjDir);
  let slot: number;
  try {
    slot = insertWorktree(store, { name, path: wtPath, branch, base, runId: options.runId });
  } catch (error) {
    if (!options.store) store.close();
    throw error;
  }
  const port = portFor(project, slot);
  let addedWorktree = false;
  const dirExisted = (() => {
    try {
      return Deno.statSync(dir).isDirectory;
    } catch {
      return false;
    }
  })();
  try {
    await Deno.mkdir(dir, { recursive: true });
    progress(
      `git worktree add ${wtPath} (${
        existingBranch ? `existing branch ${branch}` : `new branch ${branch} from ${base}`
      })`,
    );
    const addArgs = existingBranch
      ? ["worktree", "add", wtPath, branch]
      : ["worktree", "add", "-b", branch, wtPath, base];
    await withWorktreeLock(project, () => git(project.root, addArgs, "git worktree add"));
    addedWorktree = true;
    for (const file of copies) {
      const target = path.join(wtPath, file);
      await Deno.mkdir(path.dirname(target), { recursive: true });
      await Deno.copyFile(path.join(project.root, file), target);
    }
    if (copies.length > 0) {
      progress(
        `copied ${copies.length} untracked file(s): ${copies.slice(0, 5).join(", ")}${
          copies.length > 5 ? ", ..." : ""
        }`,
      );
    }
    for (const command of setup) {
      const argv = Array.isArray(command) ? command : ["sh", "-c", command];
      progress(`setup: ${Array.isArray(command) ? command.join(" ") : command}`);
      const exit = await runStreaming(argv, {
        cwd: wtPath,
        env: { ...Deno.env.toObject(), PRJ_PORT: String(port), PRJ_WORKTREE: wtPath, PRJ_PROJECT: project.root },
        onLine: (line) => progress(`  ${line}`),
      });
      if (exit.code !== 0) {
        throw new PrjError(
          `Setup command "${
            Array.isArray(command) ? command.join(" ") : command
          }" exited with code ${exit.code} in ${wtPath}`,
        );
      }
    }
  } catch (error) {
    // Roll back everything this call made.
    await withWorktreeLock(project, async () => {
      if (addedWorktree) await gitMaybe(project.root, ["worktree", "remove", "--force", wtPath]);
      try {
        Deno.removeSync(wtPath, { recursive: true });
      } catch { /* not there */ }
      if (!dirExisted) {
        try {
          Deno.removeSync(dir);
        } catch { /* not empty or gone */ }
      }
      await gitMaybe(project.root, ["worktree", "prune"]);
      if (!existingBranch) await gitMaybe(project.root, ["branch", "-D", branch]);
    });
    deleteWorktreeRecord(store, name);
    if (!options.store) store.close();
    throw error;
  }
  if (!options.store) store.close();
  return {
    name,
    path: wtPath,
    branch,
    base,
    slot,
    port,
    createdBranch: !existingBranch,
    copied: copies,
    setup: setup.map(String),
  };
}

interface GitWorktree {
  path: string;
  head: string | null;
  branch: string | null;
  prunable: boolean;
}

async function gitWorktrees(project: Project): Promise<GitWorktree[]> {
  // Another prj process may be half-way through `git worktree add`, which makes git fail
  // to read that worktree's admin files for a moment; read again rather than fail.
  let out: string | undefined;
  for (let attempt = 0; out === undefined; attempt++) {
    out = await gitMaybe(project.root, ["worktree", "list", "--porcelain"]);
    if (out === undefined) {
      if (attempt >= 20) out = await git(project.root, ["worktree", "list", "--porcelain"], "git worktree list");
      else await new Promise((r) => setTimeout(r, 25));
    }
  }
  const list: GitWorktree[] = [];
  for (const block of out.split("\n\n")) {
    const lines = block.split("\n").filter(Boolean);
    const wt = lines.find((l) => l.startsWith("worktree "));
    if (!wt) continue;
    list.push({
      path: wt.slice(9),
      head: lines.find((l) => l.startsWith("HEAD "))?.slice(5) ?? null,
      branch: lines.find((l) => l.startsWith("branch "))?.slice(7).replace(/^refs\/heads\//, "") ?? null,
      prunable: lines.some((l) => l.startsWith("prunable")),
    });
  }
  return list;
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
    const fromGit = await gitWorktrees(project);
    const main = path.resolve(project.root);
    const defaultBase = await defaultBranch(project);
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
  let exists = false;
  try {
    exists = Deno.statSync(w.path).isDirectory;
  } catch { /* gone */ }
  let dirty: boolean | null = null;
  let ahead: number | null = null;
  let behind: number | null = null;
  if (exists) {
    const status = await gitMaybe({ project: project.root, worktree: w.path }, ["status", "--porcelain"]);
    dirty = status === undefined ? null : status.trim() !== "";
  }
  if (w.branch && w.base) {
    const counts = await gitMaybe(project.root, ["rev-list", "--left-right", "--count", `${w.base}...${w.branch}`]);
    if (counts) {
      const [b, a] = counts.trim().split(/\s+/).map(Number);
      behind = b ?? null;
      ahead = a ?? null;
    }
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

async function isMerged(project: Project, branch: string, base: string): Promise<boolean> {
  return (await gitMaybe(project.root, ["merge-base", "--is-ancestor", branch, base])) !== undefined;
}

/**
 * Removes a worktree, its sessions and (unless kept) its branch, and frees its port slot.
 *
 * @throws {PrjError} for a dirty worktree or an unmerged branch without `force`, naming which
 *
 * @example
 * ```ts
 * import { initProject, openProject } from "@prunejuice/cli";
 * import { createWorktree, removeWorktree } from "@prunejuice/cli/workspace";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const git = (...args: string[]) => new Deno.Command("git", { args: ["-c", "user.name=d", "-c", "user.email=d@d", ...args], cwd: `${dir}/repo` }).output();
 * await Deno.mkdir(`${dir}/repo`);
 * await git("init", "-q", "-b", "main");
 * await git("commit", "-q", "--allow-empty", "-m", "init");
 * await initProject(`${dir}/repo`);
 * const project = await openProject(`${dir}/repo`);
 * const { path } = await createWorktree(project, "tmp");
 * await Deno.writeTextFile(`${path}/wip.txt`, "wip");
 * await assert.rejects(() => removeWorktree(project, "tmp"), /uncommitted changes: wip\.txt/);
 * assert.equal((await removeWorktree(project, "tmp", { force: true })).deletedBranch, true);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function removeWorktree(
  project: Project,
  name: string,
  options: { force?: boolean; keepBranch?: boolean; store?: Store } = {},
): Promise<{ name: string; path: string; branch: string | null; deletedBranch: boolean; killedSessions: string[] }> {
  const store = options.store ?? openStore(project.prjDir);
  try {
    const wt = await getWorktree(project, name, store);
    if (!options.force) {
      if (wt.dirty) {
        const status = (await gitMaybe({ project: project.root, worktree: wt.path }, ["status", "--porcelain"])) ?? "";
        const files = status.split("\n").filter(Boolean).map((l) => l.slice(3));
        throw new PrjError(
          `Worktree "${name}" has uncommitted changes: ${files.slice(0, 5).join(", ")}${
            files.length > 5 ? ", ..." : ""
          }`,
          { hint: "commit or stash them, or pass --force to discard them", exitCode: 1 },
        );
      }
      if (!options.keepBranch && wt.branch && wt.base && !(await isMerged(project, wt.branch, wt.base))) {
        throw new PrjError(
          `Branch "${wt.branch}" of worktree "${name}" has ${
            wt.ahead ?? "some"
          } commit(s) not merged into "${wt.base}"`,
          { hint: "merge it (`prj worktree merge`), pass --keep-branch to keep the branch, or --force to delete it" },
        );
      }
    }
    const killedSessions = await killSessionsOfWorktree(project, wt.path);
    let deletedBranch = false;
    await withWorktreeLock(project, async () => {
      // `git worktree remove` reads the worktree's .git entry: only when it is still git's own.
      let trusted = true;
      try {
        if (wt.exists) worktreeGitDir(project.root, wt.path);
      } catch (error) {
        if (!options.force) throw error;
        trusted = false;
      }
      if (wt.exists && trusted) {
        const force = options.force ? ["--force", "--force"] : [];
        await git(project.root, ["worktree", "remove", ...force, wt.path], "git worktree remove");
      } else if (wt.exists) {
        Deno.removeSync(wt.path, { recursive: true }); // then prune forgets it
      }
      await gitMaybe(project.root, ["worktree", "prune"]);
      try {
        Deno.removeSync(wt.path, { recursive: true });
      } catch { /* removed by git */ }
      if (!options.keepBranch && wt.branch && wt.managed) {
        deletedBranch = (await gitMaybe(project.root, ["branch", "-D", wt.branch])) !== undefined;
      }
    });
    deleteWorktreeRecord(store, wt.name);
    supersedeLaunchesIn(store, wt.path);
    return { name: wt.name, path: wt.path, branch: wt.branch, deletedBranch, killedSessions };
  } finally {
    if (!options.store) store.close();
  }
}

/** One thing `prune` does or would do. */
export interface PruneAction {
  name: string;
  path: string;
  branch: string | null;
  reason: "folder gone" | "branch merged";
}

/** Worktrees whose folder is gone, and clean managed worktrees whose branch is merged into its base. */
export async function pruneCandidates(project: Project): Promise<PruneAction[]> {
  const out: PruneAction[] = [];
  for (const wt of await listWorktrees(project)) {
    if (!wt.exists) out.push({ name: wt.name, path: wt.path, branch: wt.branch, reason: "folder gone" });
    else if (
      wt.managed && wt.dirty === false && wt.branch && wt.base && wt.ahead === 0 &&
      await isMerged(project, wt.branch, wt.base)
    ) {
      out.push({ name: wt.name, path: wt.path, branch: wt.branch, reason: "branch merged" });
    }
  }
  return out;
}

/** Carries out {@link pruneCandidates}. */
export async function pruneWorktrees(project: Project, actions: PruneAction[]): Promise<void> {
  const store = openStore(project.prjDir);
  try {
    for (const a of actions) {
      if (a.reason === "folder gone") {
        await gitMaybe(project.root, ["worktree", "prune"]);
        if (a.branch && (await isMerged(project, a.branch, await defaultBranch(project)))) {
          await gitMaybe(project.root, ["branch", "-d", a.branch]);
        }
        deleteWorktreeRecord(store, a.name);
      } else {
        await removeWorktree(project, a.name, { store });
      }
    }
  } finally {
    store.close();
  }
}

/**
 * Brings a worktree's branch into its base in the main worktree: a merge commit (default),
 * `squash` (one commit), or `rebase` (rebases the branch, then fast-forwards the base).
 *
 * @throws {PrjError} for a dirty tree or conflicts, naming the files; nothing is left half-merged
 *
 * @example
 * ```ts
 * import { initProject, openProject } from "@prunejuice/cli";
 * import { createWorktree, mergeWorktree } from "@prunejuice/cli/workspace";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const git = (...args: string[]) => new Deno.Command("git", { args: ["-c", "user.name=d", "-c", "user.email=d@d", ...args], cwd: `${dir}/repo` }).output();
 * await Deno.mkdir(`${dir}/repo`);
 * await git("init", "-q", "-b", "main");
 * await git("commit", "-q", "--allow-empty", "-m", "init");
 * await initProject(`${dir}/repo`);
 * const project = await openProject(`${dir}/repo`);
 * await git("add", ".gitignore");
 * await git("commit", "-q", "-m", "ignore prj state");
 * const { path } = await createWorktree(project, "feat");
 * await Deno.writeTextFile(`${path}/f.txt`, "f");
 * const commit = (...a: string[]) => new Deno.Command("git", { args: ["-c", "user.name=d", "-c", "user.email=d@d", ...a], cwd: path }).output();
 * await commit("add", "f.txt");
 * await commit("commit", "-q", "-m", "f");
 * Deno.env.set("GIT_AUTHOR_NAME", "d"); Deno.env.set("GIT_AUTHOR_EMAIL", "d@d");
 * Deno.env.set("GIT_COMMITTER_NAME", "d"); Deno.env.set("GIT_COMMITTER_EMAIL", "d@d");
 * const merged = await mergeWorktree(project, "feat", { mode: "squash", remove: true });
 * assert.equal(merged.removed, true);
 * assert.equal(await Deno.readTextFile(`${dir}/repo/f.txt`), "f");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function mergeWorktree(
  project: Project,
  name: string,
  options: { mode?: "merge" | "squash" | "rebase"; remove?: boolean } = {},
): Promise<{ name: string; branch: string; base: string; mode: string; commit: string; removed: boolean }> {
  const wt = await getWorktree(project, name);
  if (!wt.branch || !wt.base) throw new PrjError(`Worktree "${name}" has no branch to merge`);
  const mode = options.mode ?? "merge";
  const mainStatus = (await git(project.root, ["status", "--porcelain", "--untracked-files=no"])).trim();
  if (mainStatus) {
    throw new PrjError(
      `The main worktree has uncommitted changes: ${
        mainStatus.split("\n").map((l) => l.slice(3)).slice(0, 5).join(", ")
      }`,
      {
        hint: "commit or stash them first",
      },
    );
  }
  // Untracked files (a copied .env, build output) stay in the worktree and do not affect
  // the merge; uncommitted changes to tracked files would be left behind, so refuse those.
  const tracked = ((await gitMaybe({ project: project.root, worktree: wt.path }, [
    "status",
    "--porcelain",
    "--untracked-files=no",
  ])) ?? "")
    .split("\n").filter(Boolean).map((l) => l.slice(3));
  if (tracked.length > 0) {
    throw new PrjError(`Worktree "${name}" has uncommitted changes: ${tracked.slice(0, 5).join(", ")}`, {
      hint: "commit them first",
    });
  }

  const current = (await gitMaybe(project.root, ["symbolic-ref", "--quiet", "--short", "HEAD"]))?.trim();
  if (current !== wt.base) {
    throw new PrjError(`The main worktree is on "${current ?? "a detached HEAD"}", not the base "${wt.base}"`, {
      hint: `run \`git checkout ${wt.base}\` in ${project.root} first`,
    });
  }
  const mergeTree = gitInvocation(project.root);
  const check = await capture(
    ["git", ...mergeTree.options, "merge-tree", "--write-tree", "--name-only", "--no-messages", wt.base, wt.branch],
    { cwd: mergeTree.cwd, env: mergeTree.env },
  );
  if (check.code === 1) {
    const files = check.stdout.split("\n").slice(1).filter(Boolean);
    throw new PrjError(`Merging "${wt.branch}" into "${wt.base}" conflicts in: ${files.join(", ")}`, {
      hint: `resolve them in the worktree (e.g. \`git -C ${wt.path} merge ${wt.base}\`), then merge again`,
    });
  }
  if (mode === "squash") {
    await git(project.root, ["merge", "--squash", wt.branch], "git merge --squash", { hooks: true });
    const staged = (await git(project.root, ["diff", "--cached", "--name-only"])).trim();
    if (staged) {
      await git(project.root, ["commit", "-m", `Squashed merge of ${wt.branch}`], "git commit", { hooks: true });
    }
  } else if (mode === "rebase") {
    const inWorktree = { project: project.root, worktree: wt.path };
    const rebase = await gitMaybe(inWorktree, ["rebase", wt.base]);
    if (rebase === undefined) {
      await gitMaybe(inWorktree, ["rebase", "--abort"]);
      throw new PrjError(`Rebasing "${wt.branch}" onto "${wt.base}" failed; nothing was changed`);
    }
    await git(project.root, ["merge", "--ff-only", wt.branch], "git merge --ff-only", { hooks: true });
  } else {
    await git(project.root, ["merge", "--no-ff", "-m", `Merge ${wt.branch}`, wt.branch], "git merge", { hooks: true });
  }
  const commit = (await git(project.root, ["rev-parse", "HEAD"])).trim();
  let removed = false;
  if (options.remove) {
    await removeWorktree(project, name, { force: mode === "squash" });
    removed = true;
  }
  return { name, branch: wt.branch, base: wt.base, mode, commit, removed };
}

/** What a worktree changed against its base (committed and uncommitted), as a patch. */
export async function diffWorktree(project: Project, name: string, stat = false): Promise<string> {
  const wt = await getWorktree(project, name);
  if (!wt.exists) throw new PrjError(`Worktree "${name}" has no folder at "${wt.path}"`);
  const base = wt.base ?? await defaultBranch(project);
  const where = { project: project.root, worktree: wt.path };
  const mergeBase = (await git(where, ["merge-base", base, "HEAD"], "git merge-base")).trim();
  return await git(where, ["diff", "--no-ext-diff", ...(stat ? ["--stat"] : []), mergeBase], "git diff");
}
