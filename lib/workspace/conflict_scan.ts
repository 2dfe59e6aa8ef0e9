/**
 * The conflict scan: what each active worktree changed (committed since it left its base, and
 * uncommitted), which worktrees change the same files, and whether merging them (with each
 * other, or into the base) really conflicts, asked of `git merge-tree` only for pairs that
 * share a file. Reading a worktree never touches its index or files: uncommitted work is
 * snapshotted through a copy of its index into a commit no ref points at.
 */
import * as path from "node:path";
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
import { parseStatusZ } from "./porcelain.ts";
import { worktreeGitDir } from "./safe_git.ts";
import { baseBranch } from "./worktrees/names.ts";

/** A worktree as the scan read it. */
export interface ScannedWorktree extends WorktreeChanges {
  /** Its commit. */
  head: string | null;
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

/**
 * Scans the project's active worktrees (every linked worktree whose folder exists) for
 * overlapping changes and real conflicts. Per worktree: `git status` and one `git diff
 * --name-only` (two with the base view); `git merge-tree` only for pairs that share a file.
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
  const [entries, defaultBase] = await Promise.all([gitWorktrees(root), baseBranch(project)]);
  const active = entries.filter((e) => path.resolve(e.path) !== main && !e.prunable && isDirectory(e.path));

  const worktrees = await Promise.all(active.map(async (e): Promise<ScannedWorktree> => {
    const p = path.resolve(e.path);
    const row = records.get(p);
    const w: ScannedWorktree = {
      name: row?.name ?? path.basename(p),
      path: p,
      branch: e.branch,
      base: row?.base ?? defaultBase,
      head: e.head,
      committed: [],
      uncommitted: [],
      baseChanged: [],
      error: null,
    };
    if (!e.head) return { ...w, error: "it has no commit yet" };
    try {
      const [status, committed, onBase] = await Promise.all([
        limit(() =>
          gitCapture({ project: root, worktree: p }, [
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--no-renames",
          ])
        ),
        limit(() => gitCapture(root, ["diff", "--name-only", "-z", "--no-renames", `${w.base}...${e.head}`, "--"])),
        withBase
          ? limit(() => gitCapture(root, ["diff", "--name-only", "-z", "--no-renames", `${e.head}...${w.base}`, "--"]))
          : Promise.resolve({ code: 0, stdout: "", stderr: "" }),
      ]);
      for (const r of [status, committed, onBase]) if (r.code !== 0) return { ...w, error: lastLine(r.stderr) };
      w.uncommitted = [...new Set(parseStatusZ(status.stdout).map((x) => x.path))].sort();
      w.committed = nulList(committed.stdout).sort();
      w.baseChanged = nulList(onBase.stdout).sort();
      return w;
    } catch (error) {
      if (error instanceof PrjError) return { ...w, error: error.message };
      throw error;
    }
  }));
  worktrees.sort((x, y) => x.name.localeCompare(y.name));
  const byName = new Map(worktrees.map((w) => [w.name, w]));

  // The commit that stands for a worktree's work: its head, or a snapshot of its uncommitted changes.
  const commits = new Map<string, Promise<string>>();
  const commitOf = (w: ScannedWorktree): Promise<string> => {
    let c = commits.get(w.path);
    if (!c) {
      commits.set(w.path, c = w.uncommitted.length === 0 ? Promise.resolve(w.head!) : snapshot(project, w, limit));
    }
    return c;
  };
  const mergeTree = async (one: string, two: string): Promise<ConflictFile[]> => {
    const r = await limit(() => gitCapture(root, ["merge-tree", "--write-tree", "-z", "--name-only", one, two]));
    if (r.code === 0) return [];
    if (r.code === 1) return conflictFiles(parseMergeTree(r.stdout));
    throw new PrjError(`git merge-tree failed: ${lastLine(r.stderr)}`);
  };
  const readable = worktrees.filter((w) => w.error === null);
  const overlaps = overlappingPairs(readable.map((w) => ({ name: w.name, files: changedFiles(w) })));
  const pairs = await Promise.all(overlaps.map(async (o): Promise<PairReport> => {
    const a = byName.get(o.a)!;
    const b = byName.get(o.b)!;
    const report: PairReport = { ...o, aPath: a.path, bPath: b.path, conflicts: [], error: null };
    try {
      report.conflicts = await mergeTree(await commitOf(a), await commitOf(b));
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
        report.conflicts = await mergeTree(w.base, await commitOf(w));
      } catch (error) {
        if (!(error instanceof PrjError)) throw error;
        report.error = error.message;
      }
      base.push(report);
    }));
    base.sort((x, y) => x.worktree.localeCompare(y.worktree));
  }
  return { worktrees, pairs, base };
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
