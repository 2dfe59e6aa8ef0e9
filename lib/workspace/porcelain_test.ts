import assert from "node:assert/strict";
import {
  parseAheadBehind,
  parseMergeTreeConflicts,
  parseStatusZ,
  parseWorktreeList,
  statusPaths,
} from "./porcelain.ts";

Deno.test("parseWorktreeList() reads paths, heads, branches, detached and prunable worktrees", () => {
  const out = [
    "worktree /repo",
    "HEAD 1111111111111111111111111111111111111111",
    "branch refs/heads/main",
    "",
    "worktree /repo.worktrees/login",
    "HEAD 2222222222222222222222222222222222222222",
    "branch refs/heads/feature/login",
    "",
    "worktree /repo.worktrees/gone",
    "HEAD 3333333333333333333333333333333333333333",
    "detached",
    "prunable gitdir file points to non-existent location",
    "",
  ].join("\n");
  assert.deepEqual(parseWorktreeList(out), [
    { path: "/repo", head: "1111111111111111111111111111111111111111", branch: "main", prunable: false },
    {
      path: "/repo.worktrees/login",
      head: "2222222222222222222222222222222222222222",
      branch: "feature/login",
      prunable: false,
    },
    { path: "/repo.worktrees/gone", head: "3333333333333333333333333333333333333333", branch: null, prunable: true },
  ]);
  assert.deepEqual(parseWorktreeList(""), []);
});

Deno.test("parseStatusZ() reads states and paths, skipping the old name of a rename", () => {
  const out = " M src/app.ts\0R  new name.ts\0old name.ts\0?? notes.md\0A  a.ts\0";
  assert.deepEqual(parseStatusZ(out), [
    { path: "src/app.ts", state: "M" },
    { path: "new name.ts", state: "R" },
    { path: "notes.md", state: "??" },
    { path: "a.ts", state: "A" },
  ]);
});

Deno.test("statusPaths() keeps the first letter of the first path when its state starts with a space", () => {
  assert.deepEqual(statusPaths(" M README.md\nM  src/a.ts\n?? x\n"), ["README.md", "src/a.ts", "x"]);
  assert.deepEqual(statusPaths(""), []);
});

Deno.test("parseAheadBehind() reads behind then ahead, and refuses anything else", () => {
  assert.deepEqual(parseAheadBehind("2\t5\n"), { ahead: 5, behind: 2 });
  assert.equal(parseAheadBehind(""), undefined);
  assert.equal(parseAheadBehind("fatal"), undefined);
});

Deno.test("parseMergeTreeConflicts() lists the paths after the tree id", () => {
  assert.deepEqual(parseMergeTreeConflicts("abc123\nREADME.md\nsrc/a.ts\n"), ["README.md", "src/a.ts"]);
  assert.deepEqual(parseMergeTreeConflicts("abc123\n"), []);
});
