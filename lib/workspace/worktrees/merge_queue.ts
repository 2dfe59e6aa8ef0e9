/**
 * `prj worktree merge --queue`: the finished worktrees (agent exited or idle, nothing
 * uncommitted, commits to merge) merged into the base one by one. Each is rebased onto the
 * base as it is by then, the configured check runs on it there, and only then does the base
 * move; the first conflict or failing check stops the queue with the repository clean. After
 * the last merge, the other worktrees nobody is working in are rebased onto the new base.
 */
import type { Project } from "../../project/project.ts";
import { openStore } from "../../state/store.ts";
import { PrjError, UsageError } from "../../util/errors.ts";
import { capture } from "../../util/process.ts";
import { didYouMean } from "../../util/suggest.ts";
import { conflictFiles, parseMergeTree } from "../conflicts.ts";
import { changedPaths, gitCapture, isMerged } from "../git.ts";
import { worktreeAgents } from "./agent_states.ts";
import { listWorktrees, type WorktreeInfo } from "./list.ts";
import { checkMainCheckout, mergeIntoMain, type MergeMode, withMergeLock } from "./merge.ts";
import { baseBranch } from "./names.ts";
import { removeWorktree } from "./remove.ts";

/** A worktree as the queue sees it. */
export interface QueueEntry {
  /** The worktree's name. */
  name: string;
  /** Its branch. */
  branch: string | null;
  /** Its path. */
  path: string;
  /** Commits on its branch not on the base. */
  ahead: number | null;
  /** Commits on the base not on its branch. */
  behind: number | null;
  /** Its agent's state (`exited (0)`, `idle`...), null without one. */
  agent: string | null;
  /** Whether its agent is still at work (working or waiting for input). */
  busy: boolean;
  /** When its branch was last committed to (ISO), the queue's order. */
  lastCommit: string | null;
  /** Why it is not in the queue (null: it is). */
  reason: string | null;
}

/** What the queue did (or, on a dry run, would do). */
export interface MergeQueueResult {
  /** The branch merged into. */
  base: string;
  /** How each branch was brought in. */
  mode: MergeMode;
  /** Whether nothing was changed. */
  dryRun: boolean;
  /** The check command, as configured (null: none). */
  check: string | null;
  /** The finished worktrees, in merge order. */
  queue: QueueEntry[];
  /** The others, each with why it waits. */
  waiting: QueueEntry[];
  /** Dry run: where merging the queue in order would first conflict (null: nowhere). */
  wouldConflict: { name: string; files: string[] } | null;
  /** The worktrees merged, in order. */
  merged: {
    name: string;
    branch: string;
    commit: string;
    rebased: boolean;
    checkMs: number | null;
    removed: boolean;
  }[];
  /** The other worktrees rebased onto the new base (or left as they were, and why). */
  rebased: { name: string; ok: boolean; detail: string | null }[];
  /** Where and why the queue stopped (null: it went through). */
  stopped: {
    name: string;
    why: "conflict" | "check" | "changed" | "error";
    message: string;
    files: string[];
    output: string | null;
  } | null;
}

/** How the queue runs. */
export interface MergeQueueOptions {
  /** Only these worktrees, in this order (default: every finished one, oldest last commit first). */
  names?: string[] | undefined;
  /** Merge commit (default), squash, or rebase (fast-forward). */
  mode?: MergeMode | undefined;
  /** Remove each worktree (and its branch) once merged. */
  remove?: boolean | undefined;
  /** Show the order and where it would first conflict; change nothing. */
  dryRun?: boolean | undefined;
  /** A line per step, as it happens. */
  onProgress?: ((line: string) => void) | undefined;
}

function checkLabel(check: string | string[] | undefined): string | null {
  if (check === undefined) return null;
  return Array.isArray(check) ? check.join(" ") : check;
}

function tail(text: string, lines = 20): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

function lastLine(text: string): string {
  return text.trim().split("\n").filter((l) => l.trim() !== "").at(-1)?.replace(/^(fatal|error): /, "") ??
    "no output";
}

async function rev(project: Project, ref: string): Promise<string> {
  const r = await gitCapture(project.root, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
  if (r.code !== 0) throw new PrjError(`"${ref}" does not name a commit`);
  return r.stdout.trim();
}

/** Why a worktree cannot be merged now (null: it is finished). */
function whyWaiting(w: WorktreeInfo, base: string, agent: { busy: boolean; label: string } | undefined): string | null {
  if (!w.exists) return "its folder is missing";
  if (!w.branch) return "it has no branch (detached HEAD)";
  if (w.base !== base) return `it is based on "${w.base}", not "${base}"`;
  if (agent?.busy) return `its agent is ${agent.label}`;
  if (w.dirty === null) return "git cannot read it";
  if (w.dirty) return "it has uncommitted changes";
  if (!w.ahead) return "it has no commits to merge";
  return null;
}

/**
 * Plans the queue: the finished worktrees in merge order, and why each other one waits.
 *
 * @throws {UsageError} for a name that is no worktree
 */
export async function planMergeQueue(
  project: Project,
  names?: string[],
): Promise<{ base: string; queue: QueueEntry[]; waiting: QueueEntry[] }> {
  const store = openStore(project.prjDir);
  let all: WorktreeInfo[];
  let agents;
  try {
    [all, agents] = await Promise.all([listWorktrees(project, store), worktreeAgents(project, store)]);
  } finally {
    store.close();
  }
  const base = await baseBranch(project);
  for (const n of names ?? []) {
    if (!all.some((w) => w.name === n)) {
      throw new UsageError(`No worktree "${n}"${didYouMean(n, all.map((w) => w.name))}`, {
        hint: "see `prj worktree list`",
      });
    }
  }
  const picked = names ? names.map((n) => all.find((w) => w.name === n)!) : all;
  const entries = await Promise.all(picked.map(async (w): Promise<QueueEntry> => {
    const agent = agents.get(w.path);
    const reason = whyWaiting(w, base, agent);
    let lastCommit: string | null = null;
    if (w.branch && reason === null) {
      const r = await gitCapture(project.root, ["log", "-1", "--format=%cI", w.branch, "--"]);
      lastCommit = r.code === 0 ? r.stdout.trim() || null : null;
    }
    return {
      name: w.name,
      branch: w.branch,
      path: w.path,
      ahead: w.ahead,
      behind: w.behind,
      agent: agent?.label ?? null,
      busy: agent?.busy ?? false,
      lastCommit,
      reason,
    };
  }));
  const queue = entries.filter((e) => e.reason === null);
  if (!names) {
    queue.sort((a, b) => (a.lastCommit ?? "").localeCompare(b.lastCommit ?? "") || a.name.localeCompare(b.name));
  }
  return { base, queue, waiting: entries.filter((e) => e.reason !== null) };
}

/**
 * Where merging the queue in order would first conflict, found with `git merge-tree` and
 * commits no ref points at: nothing in the repository changes.
 */
async function firstConflict(
  project: Project,
  base: string,
  queue: QueueEntry[],
): Promise<{ name: string; files: string[] } | null> {
  let current = await rev(project, base);
  const env = {
    GIT_AUTHOR_NAME: "prj",
    GIT_AUTHOR_EMAIL: "prj@localhost",
    GIT_COMMITTER_NAME: "prj",
    GIT_COMMITTER_EMAIL: "prj@localhost",
    GIT_AUTHOR_DATE: "@0 +0000",
    GIT_COMMITTER_DATE: "@0 +0000",
  };
  for (const e of queue) {
    const r = await gitCapture(project.root, ["merge-tree", "--write-tree", "-z", "--name-only", current, e.branch!]);
    if (r.code === 1) return { name: e.name, files: conflictFiles(parseMergeTree(r.stdout)).map((c) => c.path) };
    if (r.code !== 0) throw new PrjError(`git merge-tree failed: ${lastLine(r.stderr)}`);
    const tree = parseMergeTree(r.stdout).tree;
    const c = await gitCapture(project.root, ["commit-tree", tree, "-p", current, "-p", e.branch!, "-m", "preview"], {
      env,
    });
    if (c.code !== 0) throw new PrjError(`git commit-tree failed: ${lastLine(c.stderr)}`);
    current = c.stdout.trim();
  }
  return null;
}

/**
 * Rebases a worktree's branch onto `base` in the worktree; on any failure the rebase is
 * aborted, so the worktree is as it was.
 *
 * @returns null when it worked, else the conflicting files (maybe none) and git's last line
 */
async function rebaseOnto(
  project: Project,
  w: { path: string },
  base: string,
): Promise<{ files: string[]; message: string } | null> {
  const place = { project: project.root, worktree: w.path };
  const r = await gitCapture(place, ["rebase", base]);
  if (r.code === 0) return null;
  const unmerged = await gitCapture(place, ["diff", "--name-only", "-z", "--diff-filter=U"]);
  const files = unmerged.code === 0 ? unmerged.stdout.split("\0").filter(Boolean) : [];
  await gitCapture(place, ["rebase", "--abort"]);
  return { files, message: lastLine(r.stderr || r.stdout) };
}

/**
 * Merges the finished worktrees into the base one by one (see the module). Stops at the
 * first conflict or failing check, leaving no rebase or merge half-done: the base holds what
 * was merged before, the stopping worktree its own commits.
 *
 * @throws {PrjError} when the main checkout is not on the base or has uncommitted changes
 * @throws {UsageError} for a name that is no worktree
 */
export async function runMergeQueue(project: Project, options: MergeQueueOptions = {}): Promise<MergeQueueResult> {
  const mode = options.mode ?? "merge";
  const progress = options.onProgress ?? (() => {});
  const checkCommand = project.config.worktree.merge_check;
  const start = async () => {
    // Planned under the lock (but for a dry run): a queue that waited for another sees its merges.
    const plan = await planMergeQueue(project, options.names);
    await checkMainCheckout(project, plan.base);
    const result: MergeQueueResult = {
      base: plan.base,
      mode,
      dryRun: options.dryRun ?? false,
      check: checkLabel(checkCommand),
      queue: plan.queue,
      waiting: plan.waiting,
      wouldConflict: null,
      merged: [],
      rebased: [],
      stopped: null,
    };
    return { plan, result };
  };
  if (options.dryRun) {
    const { plan, result } = await start();
    result.wouldConflict = await firstConflict(project, plan.base, plan.queue);
    return result;
  }
  return await withMergeLock(project, async () => {
    const { plan, result } = await start();
    const { base } = plan;
    const stop = (s: NonNullable<MergeQueueResult["stopped"]>) => (result.stopped = s, result);
    for (const [i, e] of plan.queue.entries()) {
      const branch = e.branch!;
      progress(`${i + 1}/${plan.queue.length} ${e.name} (${branch})`);
      // Time passes while earlier checks run: the worktree must still be as planned.
      const changed = await changedPaths({ project: project.root, worktree: e.path });
      if (changed === undefined || changed.length > 0) {
        return stop({
          name: e.name,
          why: "changed",
          message: `${e.name} has uncommitted changes now (${(changed ?? []).slice(0, 3).join(", ")})`,
          files: changed ?? [],
          output: null,
        });
      }
      let rebased = false;
      if (!(await isMerged(project.root, base, branch))) {
        const pre = await gitCapture(project.root, ["merge-tree", "--write-tree", "-z", "--name-only", base, branch]);
        if (pre.code === 1) {
          const files = conflictFiles(parseMergeTree(pre.stdout)).map((c) => c.path);
          return stop({
            name: e.name,
            why: "conflict",
            message: `${e.name} conflicts with ${base} in ${files.join(", ")}`,
            files,
            output: null,
          });
        }
        const failed = await rebaseOnto(project, e, base);
        if (failed) {
          return stop({
            name: e.name,
            why: "conflict",
            message: `rebasing ${e.name} onto ${base} stops at a conflict${
              failed.files.length ? ` in ${failed.files.join(", ")}` : `: ${failed.message}`
            }`,
            files: failed.files,
            output: null,
          });
        }
        rebased = true;
        progress(`  rebased onto ${base}`);
      }
      let checkMs: number | null = null;
      if (checkCommand !== undefined) {
        const argv = Array.isArray(checkCommand) ? checkCommand : ["sh", "-c", checkCommand];
        const t0 = performance.now();
        const out = await capture(argv, {
          cwd: e.path,
          env: { PRJ_WORKTREE: e.path, PRJ_BRANCH: branch, PRJ_BASE: base },
        }).catch((error) => ({ code: 127, stdout: "", stderr: (error as Error).message }));
        checkMs = Math.round(performance.now() - t0);
        if (out.code !== 0) {
          return stop({
            name: e.name,
            why: "check",
            message: `the check \`${result.check}\` failed (exit ${out.code}) on ${e.name} rebased onto ${base}`,
            files: [],
            output: tail(`${out.stdout}${out.stderr}`),
          });
        }
        progress(`  check passed (${(checkMs / 1000).toFixed(1)}s)`);
      }
      let commit: string;
      try {
        commit = await mergeIntoMain(project, branch, mode);
      } catch (error) {
        if (!(error instanceof PrjError)) throw error;
        return stop({ name: e.name, why: "error", message: error.message, files: [], output: null });
      }
      let removed = false;
      if (options.remove) {
        await removeWorktree(project, e.name, { force: mode === "squash" });
        removed = true;
      }
      progress(`  merged at ${commit.slice(0, 12)}${removed ? "; worktree removed" : ""}`);
      result.merged.push({ name: e.name, branch, commit, rebased, checkMs, removed });
    }
    if (result.merged.length > 0) result.rebased = await rebaseTheRest(project, base, plan.waiting, progress);
    return result;
  });
}

/** The waiting worktrees nobody is working in, rebased onto the new base (a conflict leaves one as it was). */
async function rebaseTheRest(
  project: Project,
  base: string,
  waiting: QueueEntry[],
  progress: (line: string) => void,
): Promise<MergeQueueResult["rebased"]> {
  const out: MergeQueueResult["rebased"] = [];
  const store = openStore(project.prjDir);
  let fresh: WorktreeInfo[];
  try {
    fresh = await listWorktrees(project, store);
  } finally {
    store.close();
  }
  for (const e of waiting) {
    const w = fresh.find((x) => x.name === e.name);
    // Only worktrees that are clean, on this base and not at work.
    if (!w || !w.branch || w.base !== base || w.dirty !== false || e.busy) continue;
    if (!w.behind) continue;
    const failed = await rebaseOnto(project, w, base);
    const detail = failed
      ? `left as it was: rebasing conflicts${failed.files.length ? ` in ${failed.files.join(", ")}` : ""}`
      : null;
    progress(`rebased ${w.name} onto ${base}${detail ? ` (${detail})` : ""}`);
    out.push({ name: w.name, ok: failed === null, detail });
  }
  return out;
}
