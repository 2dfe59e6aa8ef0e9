/**
 * Conflicts before they happen, the pure part: which worktrees change the same files, what
 * `git merge-tree --write-tree -z` says about merging two of them, and what each worktree
 * overlaps with. The git calls are in conflict_scan.ts; this module only decides.
 *
 * @module
 */

/** What one worktree changed, as the scan read it. */
export interface WorktreeChanges {
  /** The worktree's name. */
  name: string;
  /** Its absolute path. */
  path: string;
  /** Its branch (null when detached). */
  branch: string | null;
  /** The branch it will be merged into. */
  base: string;
  /** Paths changed by commits on its branch since the merge base with the base. */
  committed: string[];
  /** Paths with uncommitted changes in the worktree (tracked or not). */
  uncommitted: string[];
  /** Paths changed on the base since the merge base (what the base did meanwhile). */
  baseChanged: string[];
}

/** One path where a merge conflicts, and how (`contents`, `modify/delete`, `rename/delete`, `binary`...). */
export interface ConflictFile {
  /** The path. */
  path: string;
  /** git's conflict type, without `CONFLICT (` and `)`. */
  kind: string;
}

/** Two worktrees that change the same files. */
export interface PairOverlap {
  /** The first worktree's name (the pair is sorted by name). */
  a: string;
  /** The second worktree's name. */
  b: string;
  /** The paths both change, sorted. */
  files: string[];
}

/** One informational message of `git merge-tree -z`. */
export interface MergeTreeMessage {
  /** The paths it is about. */
  paths: string[];
  /** Its stable type (`Auto-merging`, `CONFLICT (contents)`, `CONFLICT (modify/delete)`...). */
  type: string;
  /** The message for people. */
  message: string;
}

/** What `git merge-tree --write-tree -z --name-only` printed. */
export interface MergeTreeResult {
  /** The merged tree (with conflict markers where it conflicts). */
  tree: string;
  /** The paths that conflict, in git's order. */
  conflicted: string[];
  /** Its informational messages (present only when it conflicts). */
  messages: MergeTreeMessage[];
}

/**
 * Every path a worktree changed: committed since the merge base, and uncommitted, sorted.
 *
 * @example
 * ```ts
 * import { changedFiles } from "./conflicts.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(changedFiles({ committed: ["b", "a"], uncommitted: ["a", "c"] }), ["a", "b", "c"]);
 * ```
 */
export function changedFiles(w: Pick<WorktreeChanges, "committed" | "uncommitted">): string[] {
  return [...new Set([...w.committed, ...w.uncommitted])].sort();
}

/**
 * The pairs of worktrees that change at least one same path, each with those paths. Each
 * path is looked at once, so the cost grows with the files changed, not with the square of
 * the worktrees.
 *
 * @param worktrees each worktree's name and the paths it changes
 * @returns the pairs, sorted by their names
 *
 * @example
 * ```ts
 * import { overlappingPairs } from "./conflicts.ts";
 * import assert from "node:assert/strict";
 *
 * const pairs = overlappingPairs([
 *   { name: "b", files: ["src/app.ts", "README.md"] },
 *   { name: "a", files: ["src/app.ts"] },
 *   { name: "c", files: ["docs/x.md"] },
 * ]);
 * assert.deepEqual(pairs, [{ a: "a", b: "b", files: ["src/app.ts"] }]);
 * ```
 */
export function overlappingPairs(worktrees: readonly { name: string; files: readonly string[] }[]): PairOverlap[] {
  const byFile = new Map<string, Set<string>>();
  for (const w of worktrees) {
    for (const f of w.files) {
      let names = byFile.get(f);
      if (!names) byFile.set(f, names = new Set());
      names.add(w.name);
    }
  }
  const pairs = new Map<string, PairOverlap>();
  for (const [file, set] of byFile) {
    if (set.size < 2) continue;
    const names = [...set].sort();
    for (let i = 0; i < names.length; i++) {
      for (let j = i + 1; j < names.length; j++) {
        const key = `${names[i]}\0${names[j]}`;
        let pair = pairs.get(key);
        if (!pair) pairs.set(key, pair = { a: names[i]!, b: names[j]!, files: [] });
        pair.files.push(file);
      }
    }
  }
  return [...pairs.values()]
    .map((p) => ({ ...p, files: p.files.sort() }))
    .sort((x, y) => x.a.localeCompare(y.a) || x.b.localeCompare(y.b));
}

/**
 * The paths a worktree changed that its base changed too since they parted: where merging it
 * into the base may conflict.
 *
 * @example
 * ```ts
 * import { baseOverlap } from "./conflicts.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(baseOverlap({ committed: ["a"], uncommitted: ["b"], baseChanged: ["b", "z"] }), ["b"]);
 * ```
 */
export function baseOverlap(w: Pick<WorktreeChanges, "committed" | "uncommitted" | "baseChanged">): string[] {
  const onBase = new Set(w.baseChanged);
  return changedFiles(w).filter((f) => onBase.has(f));
}

/**
 * Parses `git merge-tree --write-tree -z --name-only` (git 2.38 or newer): the tree, NUL;
 * the conflicted paths, each NUL-terminated, and an empty field; then each message as a
 * count of paths, the paths, a stable type and the text, all NUL-terminated.
 *
 * @throws {Error} when the output does not start with a tree id
 *
 * @example
 * ```ts
 * import { parseMergeTree } from "./conflicts.ts";
 * import assert from "node:assert/strict";
 *
 * const out = "2c3d25ac4bc9c57d5fef9d689bafdddb36553cda\0f.txt\0\0" +
 *   "1\0f.txt\0Auto-merging\0Auto-merging f.txt\n\0" +
 *   "1\0f.txt\0CONFLICT (contents)\0CONFLICT (content): Merge conflict in f.txt\n\0";
 * const parsed = parseMergeTree(out);
 * assert.deepEqual(parsed.conflicted, ["f.txt"]);
 * assert.equal(parsed.messages[1]?.type, "CONFLICT (contents)");
 * assert.deepEqual(parseMergeTree(`${"a".repeat(40)}\0`).conflicted, []);
 * ```
 */
export function parseMergeTree(out: string): MergeTreeResult {
  const fields = out.split("\0");
  const tree = fields[0]?.trim() ?? "";
  if (!/^[0-9a-f]{40,64}$/.test(tree)) throw new Error(`git merge-tree printed no tree id: "${out.slice(0, 80)}"`);
  const conflicted: string[] = [];
  let i = 1;
  for (; i < fields.length && fields[i] !== ""; i++) conflicted.push(fields[i]!);
  i++; // the empty field that ends the conflicted paths
  const messages: MergeTreeMessage[] = [];
  while (i < fields.length) {
    const count = Number(fields[i]);
    if (!Number.isInteger(count) || count < 0 || i + count + 2 >= fields.length) break;
    const paths = fields.slice(i + 1, i + 1 + count);
    const type = fields[i + 1 + count]!;
    const message = fields[i + 2 + count]!.replace(/\n$/, "");
    messages.push({ paths, type, message });
    i += count + 3;
  }
  return { tree, conflicted, messages };
}

/**
 * Each conflicted path with its conflict type, from a parsed merge-tree result (a path with
 * no `CONFLICT` message is `contents`). A path is listed once, with its first type.
 *
 * @example
 * ```ts
 * import { conflictFiles } from "./conflicts.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   conflictFiles({
 *     tree: "0".repeat(40),
 *     conflicted: ["del.txt", "f.txt", "f.txt"],
 *     messages: [{ paths: ["del.txt"], type: "CONFLICT (modify/delete)", message: "..." }],
 *   }),
 *   [{ path: "del.txt", kind: "modify/delete" }, { path: "f.txt", kind: "contents" }],
 * );
 * ```
 */
export function conflictFiles(result: MergeTreeResult): ConflictFile[] {
  const kinds = new Map<string, string>();
  for (const m of result.messages) {
    const kind = /^CONFLICT \((.+)\)$/.exec(m.type)?.[1];
    if (!kind) continue;
    for (const p of m.paths) if (!kinds.has(p)) kinds.set(p, kind);
  }
  const seen = new Set<string>();
  const out: ConflictFile[] = [];
  for (const p of result.conflicted) {
    if (seen.has(p)) continue;
    seen.add(p);
    out.push({ path: p, kind: kinds.get(p) ?? "contents" });
  }
  return out;
}

/** One other worktree a worktree overlaps with, as `prj fleet` shows it. */
export interface WorktreeOverlap {
  /** The other worktree's name. */
  worktree: string;
  /** Its path. */
  path: string;
  /** The paths both change. */
  files: string[];
  /** The paths where merging the two conflicts (empty: they merge cleanly, or that was not checked). */
  conflicts: string[];
}

/** A pair as the scan reports it (names, paths, overlapping files and real conflicts). */
export interface PairReport extends PairOverlap {
  /** The first worktree's path. */
  aPath: string;
  /** The second worktree's path. */
  bPath: string;
  /** Where merging both conflicts. */
  conflicts: ConflictFile[];
  /** Why merge-tree could not tell (null when it could). */
  error: string | null;
}

/**
 * For each worktree path, the other worktrees it overlaps with (conflicting ones first, then
 * by name): what `prj fleet` puts in its column.
 *
 * @example
 * ```ts
 * import { overlapsByPath } from "./conflicts.ts";
 * import assert from "node:assert/strict";
 *
 * const by = overlapsByPath([
 *   { a: "a", b: "b", aPath: "/w/a", bPath: "/w/b", files: ["f"], conflicts: [{ path: "f", kind: "contents" }], error: null },
 *   { a: "a", b: "c", aPath: "/w/a", bPath: "/w/c", files: ["g"], conflicts: [], error: null },
 * ]);
 * assert.deepEqual(by.get("/w/a")?.map((o) => o.worktree), ["b", "c"]);
 * assert.deepEqual(by.get("/w/c"), [{ worktree: "a", path: "/w/a", files: ["g"], conflicts: [] }]);
 * ```
 */
export function overlapsByPath(pairs: readonly PairReport[]): Map<string, WorktreeOverlap[]> {
  const by = new Map<string, WorktreeOverlap[]>();
  const add = (at: string, o: WorktreeOverlap) => {
    let list = by.get(at);
    if (!list) by.set(at, list = []);
    list.push(o);
  };
  for (const p of pairs) {
    const conflicts = p.conflicts.map((c) => c.path);
    add(p.aPath, { worktree: p.b, path: p.bPath, files: p.files, conflicts });
    add(p.bPath, { worktree: p.a, path: p.aPath, files: p.files, conflicts });
  }
  for (const list of by.values()) {
    list.sort((x, y) =>
      Number(y.conflicts.length > 0) - Number(x.conflicts.length > 0) || x.worktree.localeCompare(y.worktree)
    );
  }
  return by;
}

/**
 * A short label for a worktree's overlaps: the other worktrees' names, a `!` after those it
 * really conflicts with (`b!, c`), or `-` for none.
 *
 * @example
 * ```ts
 * import { overlapLabel } from "./conflicts.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(overlapLabel([{ worktree: "b", conflicts: ["f"] }, { worktree: "c", conflicts: [] }]), "b!, c");
 * assert.equal(overlapLabel(undefined), "-");
 * ```
 */
export function overlapLabel(overlaps: readonly Pick<WorktreeOverlap, "worktree" | "conflicts">[] | undefined): string {
  if (!overlaps || overlaps.length === 0) return "-";
  return overlaps.map((o) => `${o.worktree}${o.conflicts.length > 0 ? "!" : ""}`).join(", ");
}

/** What notifying is about: two worktrees (by path, sorted) and a path both change. */
export interface OverlapNotice {
  /** The first worktree's path. */
  a: string;
  /** The second worktree's path. */
  b: string;
  /** The path both change. */
  path: string;
  /** `conflict` when merging the two conflicts there, else `overlap`. */
  level: "overlap" | "conflict";
}

/**
 * The notices a scan implies: one per pair and shared path.
 *
 * @example
 * ```ts
 * import { noticesOf } from "./conflicts.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   noticesOf([{ a: "x", b: "y", aPath: "/y", bPath: "/x", files: ["f", "g"], conflicts: [{ path: "g", kind: "contents" }], error: null }]),
 *   [{ a: "/x", b: "/y", path: "f", level: "overlap" }, { a: "/x", b: "/y", path: "g", level: "conflict" }],
 * );
 * ```
 */
export function noticesOf(pairs: readonly PairReport[]): OverlapNotice[] {
  const out: OverlapNotice[] = [];
  for (const p of pairs) {
    const [a, b] = [p.aPath, p.bPath].sort() as [string, string];
    const conflicting = new Set(p.conflicts.map((c) => c.path));
    for (const f of p.files) out.push({ a, b, path: f, level: conflicting.has(f) ? "conflict" : "overlap" });
  }
  return out;
}

/**
 * The remembered notices that no longer hold: their pair was scanned (both worktrees were
 * read) and no longer shares the path. Forgetting them lets a later overlap notify again;
 * pairs the scan could not read are kept, so a passing failure never notifies twice.
 *
 * @example
 * ```ts
 * import { staleNotices } from "./conflicts.ts";
 * import assert from "node:assert/strict";
 *
 * const known = [{ a: "/x", b: "/y", path: "f" }, { a: "/x", b: "/z", path: "f" }, { a: "/x", b: "/y", path: "g" }];
 * const current = [{ a: "/x", b: "/y", path: "g", level: "overlap" as const }];
 * assert.deepEqual(staleNotices(known, current, new Set(["/x", "/y"])), [{ a: "/x", b: "/y", path: "f" }]);
 * ```
 */
export function staleNotices<T extends { a: string; b: string; path: string }>(
  known: readonly T[],
  current: readonly OverlapNotice[],
  scanned: ReadonlySet<string>,
): T[] {
  const now = new Set(current.map((n) => `${n.a}\0${n.b}\0${n.path}`));
  return known.filter((k) => scanned.has(k.a) && scanned.has(k.b) && !now.has(`${k.a}\0${k.b}\0${k.path}`));
}
