/**
 * The conflict scan: what each active worktree changed (committed since it left its base, and
 * uncommitted), which worktrees change the same files, and whether merging them (with each
 * other, or into the base) really conflicts, asked of `git merge-tree` only for pairs that
 * share a file. Reading a worktree never touches its index or files: uncommitted work is
 * snapshotted through a copy of its index into a commit no ref points at.
 *
 * What only depends on commits (a branch's files and ahead/behind against its base, the
 * result of merging two commits) and a snapshot of work that has not changed since (the same
 * head, status and file times) are kept in `.prj/cache/conflict_scan.json`, so a repeated
 * scan (`prj fleet --watch`) runs `git status` per worktree and little else.
 */
import * as path from "../util/path.ts";
import type { Project } from "../project/project.ts";
import { openStore, type Store } from "../state/store.ts";
import { listWorktreeRecords } from "../state/worktrees.ts";
import { PrjError } from "../util/errors.ts";
import { isDirectory } from "../util/fs.ts";
import {
  baseOverlap,
  changedFiles,
  type ConflictFile,
  conflictFiles,
  overlappingPairs,
  type PairReport,
  parseMergeTree,
  type WorktreeChanges,
} from "./conflicts.ts";
import { gitCapture, gitWorktrees } from "./git.ts";
import { parseAheadBehind, parseStatusZ } from "./porcelain.ts";
import { worktreeGitDir } from "./safe_git.ts";
import { baseBranch } from "./worktrees/names.ts";

/** A worktree as the scan read it. */
export interface ScannedWorktree extends WorktreeChanges {
  /** Its commit. */
  head: string | null;
  /** Commits on it that are not on its base (null when unknown). */
  ahead: number | null;
  /** Commits on its base that are not on it (null when unknown). */
  behind: number | null;
  /** Why it could not be read (null when it was). */
  error: string | null;
}

/** A worktree against its base: the paths both changed since they parted, and where merging conflicts. */
export interface BaseReport {
  /** The worktree's name. */
  worktree: string;
  /** Its path. */
  path: string;
  /** Its base branch. */
  base: string;
  /** Paths the worktree and the base both changed since they parted. */
  files: string[];
  /** Where merging the worktree (with its uncommitted work) into the base conflicts. */
  conflicts: ConflictFile[];
  /** Why merge-tree could not tell (null when it could). */
  error: string | null;
}

/** What a scan found. */
export interface ConflictScan {
  /** Every active worktree, by name. */
  worktrees: ScannedWorktree[];
  /** The pairs of worktrees that change the same files. */
  pairs: PairReport[];
  /** Each worktree whose changes meet changes on its base since they parted. */
  base: BaseReport[];
}

/** How a scan runs. */
export interface ConflictScanOptions {
  /** Also compare each worktree with its base (default true). */
  base?: boolean;
  /** git processes at once (default 8). */
  concurrency?: number;
}

// A snapshot commit is the same object for the same work, so repeated scans add nothing to
// the object store: a fixed identity and time.
const SNAPSHOT_ENV = {
  GIT_AUTHOR_NAME: "prj",
  GIT_AUTHOR_EMAIL: "prj@localhost",
  GIT_COMMITTER_NAME: "prj",
  GIT_COMMITTER_EMAIL: "prj@localhost",
  GIT_AUTHOR_DATE: "@0 +0000",
  GIT_COMMITTER_DATE: "@0 +0000",
};

function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

function lastLine(text: string): string {
  return text.trim().split("\n").filter((l) => l.trim() !== "").at(-1)?.replace(/^(fatal|error): /, "") ??
    "no output";
}

function nulList(out: string): string[] {
  return out.split("\0").filter((p) => p !== "");
}

/** What a scan keeps between runs (see the module): entries nobody used are dropped on write. */
interface ScanCache {
  version: 1;
  /** By `<base tip> <head>`: the branch's files, the base's files since they parted, ahead and behind. */
  commits: Record<string, { committed: string[]; baseChanged: string[]; ahead: number; behind: number }>;
  /** By worktree path: the snapshot commit of its uncommitted work, and what that work looked like. */
  snapshots: Record<string, { fingerprint: string; commit: string }>;
  /** By `<commit> <commit>`: where merging the two conflicts. */
  merges: Record<string, ConflictFile[]>;
}

function cacheFile(project: Project): string {
  return path.join(project.prjDir, "cache", "conflict_scan.json");
}

async function readCache(project: Project): Promise<ScanCache> {
  try {
    const c = JSON.parse(await Deno.readTextFile(cacheFile(project))) as ScanCache;
    if (c.version === 1 && c.commits && c.snapshots && c.merges) return c;
  } catch { /* none yet, or unreadable: start afresh */ }
  return { version: 1, commits: {}, snapshots: {}, merges: {} };
}

/** Writes the cache through a temporary file and a rename, so a reader never sees half of it. */
async function writeCache(project: Project, cache: ScanCache): Promise<void> {
  const file = cacheFile(project);
  try {
    await Deno.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${Deno.pid}.tmp`;
    await Deno.writeTextFile(tmp, JSON.stringify(cache));
    await Deno.rename(tmp, file);
  } catch { /* a cache: the next scan computes again */ }
}

/**
 * What a worktree's uncommitted work looks like without reading it: the head, the status, and
 * each changed file's size, time and inode. Undefined when a file changed in the last two
 * seconds: a change within the clock's resolution could keep the same look (git's "racy" case).
 */
async function fingerprint(w: ScannedWorktree, status: string): Promise<string | undefined> {
  const parts = [w.head ?? "", status];
  const recent = Date.now() - 2000;
  for (const f of w.uncommitted) {
    try {
      const info = await Deno.lstat(path.join(w.path, f));
      const mtime = info.mtime?.getTime() ?? 0;
      if (mtime > recent) return undefined;
      parts.push(`${f}\0${info.size}\0${mtime}\0${info.ino ?? ""}`);
    } catch {
      parts.push(`${f}\0gone`);
    }
  }
  return parts.join("\n");
}

/**
 * Scans the project's active worktrees (every linked worktree whose folder exists) for
 * overlapping changes and real conflicts. Per worktree: `git status`; for a head not seen
 * before, two `git diff --name-only` and a `git rev-list --count`; for uncommitted work that
 * changed, a snapshot; `git merge-tree` only for pairs that share a file and were not merged
 * before.
 *
 * @param store the open store (one is opened and closed when absent)
 *
 * @example
 * ```ts
 * import { initProject, openProject } from "@prunejuice/cli";
 * import { createWorktree, scanConflicts } from "@prunejuice/cli/workspace";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const git = (...args: string[]) => new Deno.Command("git", { args: ["-c", "user.name=d", "-c", "user.email=d@d", ...args], cwd: `${dir}/repo` }).output();
 * await Deno.mkdir(`${dir}/repo`);
 * await git("init", "-q", "-b", "main");
 * await Deno.writeTextFile(`${dir}/repo/app.ts`, "one\ntwo\n");
 * await git("add", "app.ts");
 * await git("commit", "-q", "-m", "init");
 * await initProject(`${dir}/repo`);
 * const project = await openProject(`${dir}/repo`);
 * const a = await createWorktree(project, "a");
 * const b = await createWorktree(project, "b");
 * await Deno.writeTextFile(`${a.path}/app.ts`, "one (a)\ntwo\n");
 * await Deno.writeTextFile(`${b.path}/app.ts`, "one (b)\ntwo\n");
 * const scan = await scanConflicts(project);
 * assert.deepEqual(scan.pairs.map((p) => [p.a, p.b, p.files, p.conflicts.map((c) => c.path)]), [
 *   ["a", "b", ["app.ts"], ["app.ts"]],
 * ]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function scanConflicts(
  project: Project,
  store?: Store,
  options: ConflictScanOptions = {},
): Promise<ConflictScan> {
  const s = store ?? openStore(project.prjDir);
  let records;
  try {
    records = new Map(listWorktreeRecords(s).map((r) => [path.resolve(r.path), r]));
  } finally {
    if (!store) s.close();
  }
  const withBase = options.base !== false;
  const limit = limiter(options.concurrency ?? 8);
  const root = project.root;
  const main = path.resolve(root);
  const [entries, defaultBase, cache] = await Promise.all([
    gitWorktrees(root),
    baseBranch(project),
    readCache(project),
  ]);
  const used: ScanCache = { version: 1, commits: {}, snapshots: {}, merges: {} };
  let changed = false;
  const active = entries.filter((e) => path.resolve(e.path) !== main && !e.prunable && isDirectory(e.path));
  const bases = [...new Set(active.map((e) => records.get(path.resolve(e.path))?.base ?? defaultBase))];
  const tips = new Map<string, string>();
  if (bases.length > 0) {
    const r = await gitCapture(root, ["rev-parse", ...bases.map((b) => `${b}^{commit}`), "--"]);
    const ids = r.stdout.split("\n").filter((l) => /^[0-9a-f]{40,64}$/.test(l));
    if (r.code === 0 && ids.length === bases.length) bases.forEach((b, i) => tips.set(b, ids[i]!));
  }

  const statuses = new Map<string, string>();
  const worktrees = await Promise.all(active.map(async (e): Promise<ScannedWorktree> => {
    const p = path.resolve(e.path);
    const row = records.get(p);
    const w: ScannedWorktree = {
      name: row?.name ?? path.basename(p),
      path: p,
      branch: e.branch,
      base: row?.base ?? defaultBase,
      head: e.head,
      ahead: null,
      behind: null,
      committed: [],
      uncommitted: [],
      baseChanged: [],
      error: null,
    };
    if (!e.head) return { ...w, error: "it has no commit yet" };
    const tip = tips.get(w.base);
    if (!tip) return { ...w, error: `its base "${w.base}" names no commit` };
    try {
      const key = `${tip} ${e.head}`;
      const known = cache.commits[key];
      const [status, commits] = await Promise.all([
        limit(() =>
          gitCapture({ project: root, worktree: p }, [
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--no-renames",
          ])
        ),
        known ?? readCommits(root, tip, e.head, limit),
      ]);
      if (status.code !== 0) return { ...w, error: lastLine(status.stderr) };
      if (typeof commits === "string") return { ...w, error: commits };
      if (!known) changed = true;
      used.commits[key] = commits;
      statuses.set(p, status.stdout);
      w.uncommitted = [...new Set(parseStatusZ(status.stdout).map((x) => x.path))].sort();
      ({ committed: w.committed, baseChanged: w.baseChanged, ahead: w.ahead, behind: w.behind } = commits);
      return w;
    } catch (error) {
      if (error instanceof PrjError) return { ...w, error: error.message };
      throw error;
    }
  }));
  worktrees.sort((x, y) => x.name.localeCompare(y.name));
  const byName = new Map(worktrees.map((w) => [w.name, w]));

  // The commit that stands for a worktree's work: its head, or a snapshot of its uncommitted
  // changes (the one made before, while they look the same).
  const commits = new Map<string, Promise<string>>();
  const fromCache = new Set<string>();
  const commitOf = (w: ScannedWorktree): Promise<string> => {
    let c = commits.get(w.path);
    if (!c) {
      c = w.uncommitted.length === 0 ? Promise.resolve(w.head!) : (async () => {
        const look = await fingerprint(w, statuses.get(w.path) ?? "");
        const kept = cache.snapshots[w.path];
        if (look !== undefined && kept?.fingerprint === look) {
          used.snapshots[w.path] = kept;
          fromCache.add(w.path);
          return kept.commit;
        }
        const commit = await snapshot(project, w, limit);
        if (look !== undefined) used.snapshots[w.path] = { fingerprint: look, commit };
        changed = true;
        return commit;
      })();
      commits.set(w.path, c);
    }
    return c;
  };
  const mergeTreeOnce = async (one: string, two: string): Promise<ConflictFile[]> => {
    const key = `${one} ${two}`;
    const kept = cache.merges[key];
    if (kept) return used.merges[key] = kept;
    const r = await limit(() => gitCapture(root, ["merge-tree", "--write-tree", "-z", "--name-only", one, two]));
    if (r.code !== 0 && r.code !== 1) throw new PrjError(`git merge-tree failed: ${lastLine(r.stderr)}`);
    changed = true;
    return used.merges[key] = r.code === 0 ? [] : conflictFiles(parseMergeTree(r.stdout));
  };
  // A kept snapshot may be gone (`git gc` prunes commits no ref points at): make it again, once.
  const mergeTree = async (one: string | ScannedWorktree, two: ScannedWorktree): Promise<ConflictFile[]> => {
    const sides = [one, two].filter((x): x is ScannedWorktree => typeof x !== "string");
    const commitsOf = async () => await Promise.all([typeof one === "string" ? one : commitOf(one), commitOf(two)]);
    try {
      const [a, b] = await commitsOf();
      return await mergeTreeOnce(a, b);
    } catch (error) {
      const stale = sides.filter((w) => fromCache.has(w.path));
      if (!(error instanceof PrjError) || stale.length === 0) throw error;
      for (const w of stale) {
        fromCache.delete(w.path);
        delete cache.snapshots[w.path];
        commits.delete(w.path);
      }
      const [a, b] = await commitsOf();
      return await mergeTreeOnce(a, b);
    }
  };
  const readable = worktrees.filter((w) => w.error === null);
  const overlaps = overlappingPairs(readable.map((w) => ({ name: w.name, files: changedFiles(w) })));
  const pairs = await Promise.all(overlaps.map(async (o): Promise<PairReport> => {
    const a = byName.get(o.a)!;
    const b = byName.get(o.b)!;
    const report: PairReport = { ...o, aPath: a.path, bPath: b.path, conflicts: [], error: null };
    try {
      report.conflicts = await mergeTree(a, b);
    } catch (error) {
      if (!(error instanceof PrjError)) throw error;
      report.error = error.message;
    }
    return report;
  }));
  const base: BaseReport[] = [];
  if (withBase) {
    await Promise.all(readable.map(async (w) => {
      const files = baseOverlap(w);
      if (files.length === 0) return;
      const report: BaseReport = { worktree: w.name, path: w.path, base: w.base, files, conflicts: [], error: null };
      try {
        report.conflicts = await mergeTree(tips.get(w.base)!, w);
      } catch (error) {
        if (!(error instanceof PrjError)) throw error;
        report.error = error.message;
      }
      base.push(report);
    }));
    base.sort((x, y) => x.worktree.localeCompare(y.worktree));
  }
  // Keep what this scan used, and the snapshots of worktrees it did not need to merge.
  for (const [p, snap] of Object.entries(cache.snapshots)) {
    if (!used.snapshots[p] && worktrees.some((w) => w.path === p)) used.snapshots[p] = snap;
  }
  const size = (c: ScanCache) => Object.keys(c.commits).length + Object.keys(c.merges).length;
  if (changed || size(used) !== size(cache)) await writeCache(project, used);
  return { worktrees, pairs, base };
}

/**
 * What commits say of a worktree against its base: its files and the base's files since they
 * parted, and ahead/behind (three git calls, made once per head and base tip).
 *
 * @returns the answer, or why git could not give it
 */
async function readCommits(
  root: string,
  tip: string,
  head: string,
  limit: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<ScanCache["commits"][string] | string> {
  const [committed, onBase, counts] = await Promise.all([
    limit(() => gitCapture(root, ["diff", "--name-only", "-z", "--no-renames", `${tip}...${head}`, "--"])),
    limit(() => gitCapture(root, ["diff", "--name-only", "-z", "--no-renames", `${head}...${tip}`, "--"])),
    limit(() => gitCapture(root, ["rev-list", "--left-right", "--count", `${tip}...${head}`, "--"])),
  ]);
  for (const r of [committed, onBase, counts]) if (r.code !== 0) return lastLine(r.stderr);
  const ab = parseAheadBehind(counts.stdout);
  if (!ab) return `git rev-list printed "${counts.stdout.trim()}"`;
  return { committed: nulList(committed.stdout).sort(), baseChanged: nulList(onBase.stdout).sort(), ...ab };
}

/**
 * A commit of a worktree's work as it is now, uncommitted changes and new files included,
 * made through a copy of its index so the agent's own index is never touched.
 */
async function snapshot(
  project: Project,
  w: ScannedWorktree,
  limit: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<string> {
  const place = { project: project.root, worktree: w.path };
  const index = path.join(await Deno.makeTempDir({ prefix: "prj-scan-" }), "index");
  try {
    try {
      await Deno.copyFile(path.join(worktreeGitDir(project.root, w.path), "index"), index);
    } catch (error) {
      if (error instanceof PrjError) throw error;
      // No index yet: git builds one.
    }
    // Paths taken literally (a file named `*.ts` is that file); only the changed ones, so git
    // looks at them and not at the whole tree (the copied index knows the rest is unchanged).
    const env = { GIT_INDEX_FILE: index, GIT_LITERAL_PATHSPECS: "1" };
    const run = async (where: typeof place | string, args: string[], extra: Record<string, string> = {}) => {
      const r = await limit(() => gitCapture(where, args, { env: { ...env, ...extra } }));
      if (r.code !== 0) throw new PrjError(`reading the uncommitted work of "${w.name}" failed: ${lastLine(r.stderr)}`);
      return r.stdout.trim();
    };
    await run(place, w.uncommitted.length <= 500 ? ["add", "-A", "--", ...w.uncommitted] : ["add", "-A"]);
    const tree = await run(place, ["write-tree"]);
    return await run(project.root, ["commit-tree", tree, "-p", w.head!, "-m", "uncommitted work"], SNAPSHOT_ENV);
  } finally {
    await Deno.remove(path.dirname(index), { recursive: true }).catch(() => {});
  }
}
