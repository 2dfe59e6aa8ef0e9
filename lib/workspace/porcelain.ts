/** Parsers for git's machine-readable ("porcelain") output: pure functions, one per format. */

/** One entry of `git worktree list --porcelain`. */
export interface GitWorktreeEntry {
  /** The worktree's path. */
  path: string;
  /** Its commit (null for a bare or not-yet-born head). */
  head: string | null;
  /** Its branch without `refs/heads/` (null when detached). */
  branch: string | null;
  /** Whether git says its folder is gone. */
  prunable: boolean;
}

/** Parses `git worktree list --porcelain` (blank-line separated blocks). */
export function parseWorktreeList(out: string): GitWorktreeEntry[] {
  const list: GitWorktreeEntry[] = [];
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

/** One changed path from `git status`. */
export interface StatusEntry {
  /** The path (the new name for a rename or copy). */
  path: string;
  /** The two-letter state (`M`, `A`, `??`, `R`...), trimmed when one side is blank. */
  state: string;
}

/** Parses `git status --porcelain=v1 -z` (NUL-separated; renames and copies carry their old name next). */
export function parseStatusZ(out: string): StatusEntry[] {
  const status: StatusEntry[] = [];
  const parts = out.split("\0").filter((p) => p !== "");
  for (let i = 0; i < parts.length; i++) {
    const entry = parts[i]!;
    const state = entry.slice(0, 2);
    status.push({ path: entry.slice(3), state: state.trim() || state });
    if (state[0] === "R" || state[0] === "C") i++; // the original name follows
  }
  return status;
}

/**
 * The paths in `git status --porcelain` (line form): each line is two state letters, a
 * space and the path. The first line's state may start with a space, so the output must
 * not be trimmed before this.
 */
export function statusPaths(out: string): string[] {
  return out.split("\n").filter((l) => l.trim() !== "").map((l) => l.slice(3));
}

/** Parses `git rev-list --left-right --count <base>...<branch>`: behind (left), then ahead (right). */
export function parseAheadBehind(out: string): { ahead: number; behind: number } | undefined {
  const [behind, ahead] = out.trim().split(/\s+/).map(Number);
  if (behind === undefined || ahead === undefined || Number.isNaN(behind) || Number.isNaN(ahead)) return undefined;
  return { ahead, behind };
}

/** The conflicting paths from `git merge-tree --write-tree --name-only --no-messages` (after the tree id). */
export function parseMergeTreeConflicts(out: string): string[] {
  return out.split("\n").slice(1).filter(Boolean);
}
