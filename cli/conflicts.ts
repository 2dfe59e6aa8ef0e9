/** `prj conflicts`: which worktrees change the same files, and where merging them (or into the base) conflicts. */
import type { PrjContext } from "../cli.ts";
import { type Io, table } from "./io.ts";
import { openProject } from "../lib/project/project.ts";
import { openStore } from "../lib/state/store.ts";
import { conflictsView } from "../lib/workspace/conflict_watch.ts";
import type { ConflictFile } from "../lib/workspace/conflicts.ts";

function files(list: string[], max = 3): string {
  if (list.length === 0) return "-";
  return list.slice(0, max).join(", ") + (list.length > max ? ` (+${list.length - max} more)` : "");
}

function conflicts(io: Io, list: ConflictFile[], error: string | null): string {
  if (error !== null) return io.paint("yellow", `unknown: ${error}`);
  if (list.length === 0) return io.paint("green", "none");
  return io.paint("red", files(list.map((c) => `${c.path} (${c.kind})`)));
}

/** `prj conflicts [worktree] [--json]`: exits 1 when merging anything would really conflict. */
export async function conflictsCommand(
  this: PrjContext,
  flags: { json?: boolean },
  worktree?: string,
): Promise<void> {
  const project = await openProject();
  const store = openStore(project.prjDir);
  const { io } = this;
  try {
    const view = await conflictsView(project, store, worktree);
    const { pairs, base, worktrees } = view;
    const conflicting = view.conflicts;
    if (conflicting > 0) this.exit.code = 1;
    if (flags.json) {
      return io.json(view);
    }
    for (const w of worktrees) {
      if (w.error) io.err(io.paint("yellow", `could not read worktree ${w.name}: ${w.error}`));
    }
    if (pairs.length === 0 && base.length === 0) {
      const n = worktrees.length;
      return io.out(
        n === 0
          ? "no active worktrees"
          : worktree !== undefined
          ? `no overlaps: ${worktree} changes no file another worktree or its base changes`
          : `no overlaps: the ${n} active worktree${n === 1 ? "" : "s"} change different files`,
      );
    }
    if (pairs.length > 0) {
      io.out(table([
        ["WORKTREES", "FILES BOTH CHANGE", "CONFLICTS"].map((h) => io.paint("gray", h)),
        ...pairs.map((
          p,
        ) => [io.paint("bold", `${p.a} <-> ${p.b}`), files(p.files), conflicts(io, p.conflicts, p.error)]),
      ]));
    }
    if (base.length > 0) {
      if (pairs.length > 0) io.out("");
      io.out(table([
        ["WORKTREE", "BASE", "FILES BOTH CHANGED SINCE THEY PARTED", "CONFLICTS"].map((h) => io.paint("gray", h)),
        ...base.map((b) => [io.paint("bold", b.worktree), b.base, files(b.files), conflicts(io, b.conflicts, b.error)]),
      ]));
    }
    const pairConflicts = pairs.filter((p) => p.conflicts.length > 0).length;
    const baseConflicts = base.filter((b) => b.conflicts.length > 0).length;
    io.out("");
    io.out(
      `${pairs.length} overlapping pair${pairs.length === 1 ? "" : "s"} (${pairConflicts} conflicting), ` +
        `${base.length} overlapping the base (${baseConflicts} conflicting)`,
    );
  } finally {
    store.close();
  }
}
