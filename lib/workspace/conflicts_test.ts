import assert from "node:assert/strict";
import {
  baseOverlap,
  changedFiles,
  conflictFiles,
  noticesOf,
  overlapLabel,
  overlappingPairs,
  overlapsByPath,
  type PairReport,
  parseMergeTree,
  staleNotices,
} from "./conflicts.ts";

// Printed by git 2.39 for `git merge-tree --write-tree -z --name-only A B` where A deletes
// del.txt and B modifies it, both change the first line of f.txt, and both add "sp ace.txt".
const REAL_CONFLICT = "2c3d25ac4bc9c57d5fef9d689bafdddb36553cda\0del.txt\0f.txt\0sp ace.txt\0\0" +
  "1\0del.txt\0CONFLICT (modify/delete)\0CONFLICT (modify/delete): del.txt deleted in A and modified in B.  " +
  "Version B of del.txt left in tree.\n\0" +
  "1\0f.txt\0Auto-merging\0Auto-merging f.txt\n\0" +
  "1\0f.txt\0CONFLICT (contents)\0CONFLICT (content): Merge conflict in f.txt\n\0" +
  "1\0sp ace.txt\0Auto-merging\0Auto-merging sp ace.txt\n\0" +
  "1\0sp ace.txt\0CONFLICT (contents)\0CONFLICT (add/add): Merge conflict in sp ace.txt\n\0";

Deno.test("parseMergeTree reads the tree, the conflicted paths (spaces kept) and every message", () => {
  const parsed = parseMergeTree(REAL_CONFLICT);
  assert.equal(parsed.tree, "2c3d25ac4bc9c57d5fef9d689bafdddb36553cda");
  assert.deepEqual(parsed.conflicted, ["del.txt", "f.txt", "sp ace.txt"]);
  assert.equal(parsed.messages.length, 5);
  assert.deepEqual(parsed.messages[2], {
    paths: ["f.txt"],
    type: "CONFLICT (contents)",
    message: "CONFLICT (content): Merge conflict in f.txt",
  });
});

Deno.test("parseMergeTree of a clean merge has no conflicts and no messages", () => {
  const parsed = parseMergeTree("89c13c31d1ceab75fab7995bfa2510a055dc837c\0");
  assert.deepEqual(parsed, { tree: "89c13c31d1ceab75fab7995bfa2510a055dc837c", conflicted: [], messages: [] });
});

Deno.test("parseMergeTree reads a message about two paths (a rename)", () => {
  const out = `${"b".repeat(40)}\0new.txt\0\0` +
    "2\0old.txt\0new.txt\0CONFLICT (rename/delete)\0CONFLICT (rename/delete): old.txt renamed to new.txt\n\0";
  const parsed = parseMergeTree(out);
  assert.deepEqual(parsed.messages[0]?.paths, ["old.txt", "new.txt"]);
  assert.deepEqual(conflictFiles(parsed), [{ path: "new.txt", kind: "rename/delete" }]);
});

Deno.test("parseMergeTree refuses output that is not merge-tree's (an error message)", () => {
  assert.throws(() => parseMergeTree("fatal: not something we can merge\n"), /printed no tree id/);
});

Deno.test("conflictFiles names each conflicted path once with git's stable type", () => {
  assert.deepEqual(conflictFiles(parseMergeTree(REAL_CONFLICT)), [
    { path: "del.txt", kind: "modify/delete" },
    { path: "f.txt", kind: "contents" },
    { path: "sp ace.txt", kind: "contents" },
  ]);
});

Deno.test("overlappingPairs finds every pair sharing a file, with all the files they share", () => {
  const pairs = overlappingPairs([
    { name: "c", files: ["shared.ts", "only-c.ts"] },
    { name: "a", files: ["shared.ts", "ab.ts"] },
    { name: "b", files: ["ab.ts", "shared.ts"] },
    { name: "d", files: ["alone.ts"] },
  ]);
  assert.deepEqual(pairs, [
    { a: "a", b: "b", files: ["ab.ts", "shared.ts"] },
    { a: "a", b: "c", files: ["shared.ts"] },
    { a: "b", b: "c", files: ["shared.ts"] },
  ]);
});

Deno.test("overlappingPairs: different files, one worktree, or none make no pairs", () => {
  assert.deepEqual(overlappingPairs([{ name: "a", files: ["x"] }, { name: "b", files: ["y"] }]), []);
  assert.deepEqual(overlappingPairs([{ name: "a", files: ["x", "x"] }]), []);
  assert.deepEqual(overlappingPairs([]), []);
});

Deno.test("overlappingPairs stays linear in the files: 10 worktrees x 5,000 files", () => {
  const files = Array.from({ length: 5000 }, (_, i) => `dir${i % 50}/file${i}.ts`);
  const worktrees = Array.from({ length: 10 }, (_, i) => ({ name: `w${i}`, files: i < 2 ? files : [`own${i}.ts`] }));
  const pairs = overlappingPairs(worktrees);
  assert.equal(pairs.length, 1);
  assert.equal(pairs[0]!.files.length, 5000);
});

Deno.test("changedFiles and baseOverlap combine committed and uncommitted paths", () => {
  const w = { committed: ["b.ts", "a.ts"], uncommitted: ["a.ts", "new.ts"], baseChanged: ["new.ts", "z.ts"] };
  assert.deepEqual(changedFiles(w), ["a.ts", "b.ts", "new.ts"]);
  assert.deepEqual(baseOverlap(w), ["new.ts"]);
  assert.deepEqual(baseOverlap({ ...w, baseChanged: [] }), []);
});

const pair = (a: string, b: string, files: string[], conflicts: string[] = []): PairReport => ({
  a,
  b,
  aPath: `/w/${a}`,
  bPath: `/w/${b}`,
  files,
  conflicts: conflicts.map((path) => ({ path, kind: "contents" })),
  error: null,
});

Deno.test("overlapsByPath lists, per worktree, the others it overlaps (conflicts first) and overlapLabel shows them", () => {
  const by = overlapsByPath([pair("a", "c", ["f"]), pair("a", "b", ["g"], ["g"]), pair("b", "c", ["h"])]);
  assert.deepEqual(by.get("/w/a")?.map((o) => o.worktree), ["b", "c"]);
  assert.equal(overlapLabel(by.get("/w/a")), "b!, c");
  assert.equal(overlapLabel(by.get("/w/b")), "a!, c");
  assert.equal(overlapLabel(by.get("/w/c")), "a, b");
  assert.equal(overlapLabel(by.get("/w/none")), "-");
  assert.deepEqual(by.get("/w/c")?.[0], { worktree: "a", path: "/w/a", files: ["f"], conflicts: [] });
});

Deno.test("noticesOf gives one notice per pair and path, at conflict level where merging conflicts", () => {
  assert.deepEqual(noticesOf([pair("b", "a", ["f", "g"], ["g"])]), [
    { a: "/w/a", b: "/w/b", path: "f", level: "overlap" },
    { a: "/w/a", b: "/w/b", path: "g", level: "conflict" },
  ]);
});

Deno.test("staleNotices forgets only pairs that were read and no longer share the path", () => {
  const known = [
    { a: "/w/a", b: "/w/b", path: "f" }, // still shared
    { a: "/w/a", b: "/w/b", path: "g" }, // no longer shared
    { a: "/w/a", b: "/w/gone", path: "f" }, // /w/gone was not read this time
  ];
  const current = noticesOf([pair("a", "b", ["f"])]);
  assert.deepEqual(staleNotices(known, current, new Set(["/w/a", "/w/b"])), [{ a: "/w/a", b: "/w/b", path: "g" }]);
});
