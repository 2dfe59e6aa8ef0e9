/** `prj worktree create|list|status|remove|prune|merge|diff`. */
import type { PrjContext } from "../cli.ts";
import { UsageError } from "../lib/util/errors.ts";
import { type Io, table } from "./io.ts";
import { openProject } from "../lib/project/project.ts";
import { listSessions } from "../lib/workspace/sessions.ts";
import { createWorktree } from "../lib/workspace/worktrees/create.ts";
import { getWorktree, listWorktrees, type WorktreeInfo } from "../lib/workspace/worktrees/list.ts";
import { removeWorktree } from "../lib/workspace/worktrees/remove.ts";
import { planPrune, type PruneRefusal, pruneWorktrees } from "../lib/workspace/worktrees/prune.ts";
import { mergeWorktree } from "../lib/workspace/worktrees/merge.ts";
import { runMergeQueue } from "../lib/workspace/worktrees/merge_queue.ts";
import { diffWorktree } from "../lib/workspace/worktrees/diff.ts";
import { sweep } from "./confirm.ts";

async function project() {
  return await openProject();
}

/** Adds session names to worktrees when tmux is there (silently none when it is not). */
async function withSessions(p: Awaited<ReturnType<typeof project>>, list: WorktreeInfo[]): Promise<WorktreeInfo[]> {
  let sessions: Awaited<ReturnType<typeof listSessions>> = [];
  try {
    sessions = await listSessions(p);
  } catch { /* no tmux */ }
  return list.map((w) => ({ ...w, sessions: sessions.filter((s) => s.path === w.path).map((s) => s.name) }));
}

function rows(io: Io, list: WorktreeInfo[]): string {
  return table([
    ["NAME", "BRANCH", "STATE", "AHEAD/BEHIND", "PORT", "SESSION", "PATH"].map((h) => io.paint("gray", h)),
    ...list.map((w) => [
      io.paint("bold", w.name),
      w.branch ?? "(detached)",
      !w.exists ? io.paint("red", "missing") : w.dirty ? io.paint("yellow", "dirty") : io.paint("green", "clean"),
      w.ahead === null ? "-" : `+${w.ahead}/-${w.behind}`,
      w.port === null ? "-" : String(w.port),
      w.sessions?.join(",") || "-",
      w.path,
    ]),
  ]);
}

/** `prj worktree create <name>`. */
export async function create(
  this: PrjContext,
  flags: { from?: string; branch?: string; noCopy?: boolean; session?: boolean; dryRun?: boolean; json?: boolean },
  name: string,
): Promise<void> {
  const p = await project();
  const { io } = this;
  const log = flags.json ? () => {} : (line: string) => io.err(io.paint("gray", line));
  // With --session, the worktree and its session are made as one (both or neither, also when
  // prj is killed part way: the next command undoes a half-made one).
  const created = await createWorktree(p, name, {
    from: flags.from,
    refuseIgnoredFrom: true,
    branch: flags.branch,
    noCopy: flags.noCopy,
    dryRun: flags.dryRun,
    session: flags.session && !flags.dryRun,
    onProgress: log,
  });
  const session = created.session;
  if (flags.json) return io.json({ ...created, dryRun: flags.dryRun ?? false, session: session?.name ?? null });
  if (flags.dryRun) {
    io.out(`would create worktree ${name} at ${created.path}`);
    io.out(`  branch ${created.branch} (${created.createdBranch ? `new, from ${created.base}` : "existing"})`);
    if (created.copied.length) io.out(`  copy ${created.copied.join(", ")}`);
    for (const s of created.setup) io.out(`  setup: ${s}`);
    return;
  }
  if (session) io.err(io.paint("gray", `tmux session ${session.name}${session.created ? "" : " (already existed)"}`));
  io.out(created.path);
}

/** `prj worktree list`. */
export async function list(this: PrjContext, flags: { json?: boolean }): Promise<void> {
  const p = await project();
  const all = await withSessions(p, await listWorktrees(p));
  if (flags.json) return this.io.json(all);
  this.io.out(all.length === 0 ? "no worktrees; create one with `prj worktree create <name>`" : rows(this.io, all));
}

/** `prj worktree status <name>`. */
export async function status(this: PrjContext, flags: { json?: boolean }, name: string): Promise<void> {
  const p = await project();
  const [w] = await withSessions(p, [await getWorktree(p, name)]);
  if (flags.json) return this.io.json(w);
  const { io } = this;
  const fields: [string, string][] = [
    ["name", w!.name],
    ["path", w!.path + (w!.exists ? "" : " (missing)")],
    ["branch", w!.branch ?? "(detached)"],
    ["head", w!.head?.slice(0, 12) ?? "-"],
    ["state", w!.dirty ? "dirty" : "clean"],
    ["base", `${w!.base ?? "-"} (ahead ${w!.ahead ?? "-"}, behind ${w!.behind ?? "-"})`],
    ["port", w!.port === null ? "-" : `${w!.port} (slot ${w!.slot})`],
    ["sessions", w!.sessions?.join(", ") || "-"],
  ];
  io.out(table(fields.map(([k, v]) => [io.paint("gray", k), v])));
}

/** `prj worktree remove <name>`. */
export async function remove(
  this: PrjContext,
  flags: { force?: boolean; keepBranch?: boolean; json?: boolean },
  name: string,
): Promise<void> {
  const p = await project();
  const removed = await removeWorktree(p, name, { force: flags.force ?? false, keepBranch: flags.keepBranch ?? false });
  if (flags.json) return this.io.json(removed);
  this.io.out(`removed worktree ${removed.name} (${removed.path})`);
  if (removed.deletedBranch) this.io.out(`deleted branch ${removed.branch}`);
  for (const s of removed.killedSessions) this.io.out(`killed session ${s}`);
}

/** `prj worktree prune`. */
export async function prune(
  this: PrjContext,
  flags: { dryRun?: boolean; yes?: boolean; json?: boolean },
): Promise<void> {
  const p = await project();
  const plan = await planPrune(p);
  const { io } = this;
  const refused: PruneRefusal[] = [...plan.refused];
  const showRefused = (list: PruneRefusal[]) => {
    for (const r of list) io.out(`keep ${r.name}: ${r.why}`);
  };
  if (!flags.json) showRefused(plan.refused);
  await sweep(this, flags, {
    items: plan.prune,
    json: { key: "pruned", item: (a) => a, extra: () => ({ refused }) },
    nothing: "nothing to prune",
    show: (items, dryRun) => {
      for (const a of items) io.out(`${dryRun ? "would prune" : "prune"} ${a.name} (${a.reason}) ${a.path}`);
    },
    question: `Prune ${plan.prune.length} worktree(s)?`,
    apply: async (items) => {
      const done = await pruneWorktrees(p, items);
      // Whatever changed meanwhile (an agent started) is left alone and named.
      refused.push(...done.refused);
      if (!flags.json) {
        showRefused(done.refused);
        for (const a of done.prune) {
          if (a.keptBranch) {
            io.out(`kept branch ${a.branch}: ${a.keptBranch}; \`git branch -D ${a.branch}\` deletes it`);
          }
        }
      }
      items.splice(0, items.length, ...done.prune);
    },
    done: () => `pruned ${plan.prune.length} worktree(s)`,
  });
}

/** `prj worktree merge <name>`, or `--queue [names...]`: every finished worktree, one by one. */
export async function merge(
  this: PrjContext,
  flags: {
    squash?: boolean;
    rebase?: boolean;
    remove?: boolean;
    queue?: boolean;
    dryRun?: boolean;
    force?: boolean;
    json?: boolean;
  },
  ...names: string[]
): Promise<void> {
  if (flags.squash && flags.rebase) throw new UsageError("Choose one of --squash and --rebase");
  const mode = flags.squash ? "squash" : flags.rebase ? "rebase" : "merge";
  if (flags.queue) {
    if (flags.force) throw new UsageError("--force is for one worktree; the queue never merges a busy agent's work");
    return await mergeQueue(this, flags, mode, names);
  }
  if (names.length !== 1) {
    throw new UsageError(
      names.length === 0 ? "Name the worktree to merge" : `Merge one worktree at a time, or use --queue`,
      { hint: "`prj worktree merge <name>`, or `prj worktree merge --queue` for every finished worktree" },
    );
  }
  if (flags.dryRun) throw new UsageError("--dry-run goes with --queue");
  const p = await project();
  const result = await mergeWorktree(p, names[0]!, {
    mode,
    remove: flags.remove ?? false,
    force: flags.force ?? false,
  });
  if (flags.json) return this.io.json(result);
  this.io.out(
    `merged ${result.branch} into ${result.base} (${result.mode}) at ${result.commit.slice(0, 12)}${
      result.removed ? "; worktree removed" : ""
    }`,
  );
}

async function mergeQueue(
  ctx: PrjContext,
  flags: { remove?: boolean; dryRun?: boolean; json?: boolean },
  mode: "merge" | "squash" | "rebase",
  names: string[],
): Promise<void> {
  const { io } = ctx;
  const p = await project();
  const result = await runMergeQueue(p, {
    names: names.length > 0 ? names : undefined,
    mode,
    remove: flags.remove ?? false,
    dryRun: flags.dryRun ?? false,
    onProgress: flags.json ? undefined : (line) => io.err(io.paint("gray", line)),
  });
  if (result.stopped) ctx.exit.code = 1;
  if (flags.json) return io.json(result);
  if (result.dryRun) {
    if (result.queue.length === 0) io.out(`nothing to merge into ${result.base}: no worktree is finished`);
    else {
      io.out(`would merge into ${result.base} (${mode}), in this order:`);
      io.out(table(result.queue.map((e, i) => {
        const stopsHere = result.wouldConflict?.name === e.name;
        return [
          `${i + 1}.`,
          io.paint("bold", e.name),
          e.branch ?? "-",
          `+${e.ahead ?? 0}`,
          e.agent ? `agent ${e.agent}` : "no agent",
          stopsHere ? io.paint("red", `would conflict in ${result.wouldConflict!.files.join(", ")}: stops here`) : "",
        ];
      })));
      io.out(result.check ? `check after each: ${result.check}` : "no check configured (worktree.merge_check)");
    }
  } else {
    for (const m of result.merged) {
      io.out(
        `merged ${m.name} into ${result.base}${m.rebased ? " (rebased first)" : ""}${
          m.checkMs === null ? "" : ", check passed"
        } at ${m.commit.slice(0, 12)}${m.removed ? "; worktree removed" : ""}`,
      );
    }
    for (const r of result.rebased) {
      io.out(r.ok ? `rebased ${r.name} onto ${result.base}` : `${r.name}: ${r.detail}`);
    }
    if (result.merged.length === 0 && !result.stopped) {
      io.out(`nothing to merge into ${result.base}: no worktree is finished`);
    }
  }
  for (const w of result.waiting) io.out(io.paint("gray", `waiting: ${w.name}: ${w.reason}`));
  if (result.stopped) {
    if (result.stopped.output) io.err(io.paint("gray", result.stopped.output));
    const merged = result.merged.length;
    io.err(
      `${io.paint("red", "stopped at")} ${result.stopped.name}: ${result.stopped.message} ` +
        `(${merged} merged before it; no merge or rebase is left half-done)`,
    );
  }
}

/** `prj worktree diff <name>`. */
export async function diff(this: PrjContext, flags: { stat?: boolean }, name: string): Promise<void> {
  const p = await project();
  const patch = await diffWorktree(p, name, flags.stat ?? false);
  this.io.raw(patch === "" ? "no changes against its base\n" : patch);
}
