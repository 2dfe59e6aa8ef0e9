/** The `deno run` command line of a sandboxed step: its grant as flags, plus what is always denied. */
import * as path from "../util/path.ts";
import type { ResolvedPermissions } from "./permissions.ts";

/**
 * Entries of a checkout that programs prj starts later read as instructions: git's own folder
 * or file, prj's definitions, and the settings folders of coding agents (hooks, MCP servers).
 * A step may never write them, whatever its grant.
 */
export const PROTECTED_NAMES: readonly string[] = [
  ".git",
  ".prj",
  ".claude",
  ".mcp.json",
  ".codex",
  ".gemini",
  ".cursor",
  ".vscode",
];

/**
 * The paths no step may write: the protected entries of the project and of the worktree, and
 * git's hooks folder when it is set relative to the checkout (`core.hooksPath`).
 *
 * @example
 * ```ts
 * import { protectedPaths } from "./flags.ts";
 * import assert from "node:assert/strict";
 *
 * const paths = protectedPaths({ project: "/p", worktree: "/w" }, ".husky");
 * assert.ok(paths.includes("/p/.git") && paths.includes("/w/.claude") && paths.includes("/w/.husky"));
 * ```
 */
export function protectedPaths(
  where: { project: string; worktree?: string | undefined },
  hooksPath?: string | undefined,
): string[] {
  const roots = [where.project, ...(where.worktree ? [where.worktree] : [])];
  const names = [...PROTECTED_NAMES];
  if (hooksPath && !path.isAbsolute(hooksPath)) names.push(path.normalize(hooksPath).replace(/\/$/, ""));
  const out = roots.flatMap((root) => names.map((n) => path.join(root, n)));
  if (hooksPath && path.isAbsolute(hooksPath)) out.push(path.normalize(hooksPath));
  return [...new Set(out)];
}

/** The same paths under every name a granted folder has (as given, and canonical). */
export function withAliases(paths: readonly string[], aliases: ReadonlyMap<string, string>): string[] {
  const out = new Set(paths);
  for (const p of paths) {
    for (const [canonical, given] of aliases) {
      if (p === canonical || p.startsWith(canonical + "/")) out.add(given + p.slice(canonical.length));
    }
  }
  return [...out];
}

/** Everything {@link sandboxArgs} needs. */
export interface SandboxFlags {
  /** The grant (paths as given and canonical). */
  grant: ResolvedPermissions;
  /** Extra readable paths (the step module's folder). */
  readExtra: readonly string[];
  /** Paths denied for reading (links that lead outside). */
  denyRead: readonly string[];
  /** Paths denied for writing (protected entries, pinned entries, links). */
  denyWrite: readonly string[];
  /** V8 heap limit in MB. */
  heapMb: number;
}

function list(flag: string, value: boolean | readonly string[]): string[] {
  if (value === true) return [flag];
  if (value === false || value.length === 0) return [];
  return [`${flag}=${[...new Set(value)].join(",")}`];
}

/**
 * The flags of `deno run` for a step: no prompt, nothing fetched, no config or lock file, a heap
 * limit, the grant, and the denials.
 *
 * @example
 * ```ts
 * import { sandboxArgs } from "./flags.ts";
 * import assert from "node:assert/strict";
 *
 * const args = sandboxArgs({
 *   grant: { read: ["/p"], write: ["/w"], net: false, env: ["HOME"], run: false, sys: false, ffi: false },
 *   readExtra: ["/p/.prj/steps"],
 *   denyRead: [],
 *   denyWrite: ["/w/.git"],
 *   heapMb: 512,
 * });
 * assert.deepEqual(args.slice(0, 2), ["--no-prompt", "--no-remote"]);
 * assert.ok(args.includes("--allow-read=/p,/p/.prj/steps"));
 * assert.ok(args.includes("--deny-write=/w/.git"));
 * assert.ok(args.includes("--allow-env=HOME"));
 * ```
 */
export function sandboxArgs(flags: SandboxFlags): string[] {
  const g = flags.grant;
  const read = g.read === true ? true : [...(g.read === false ? [] : g.read), ...flags.readExtra];
  return [
    "--no-prompt",
    "--no-remote",
    "--no-npm",
    "--cached-only",
    "--no-config",
    "--no-lock",
    `--v8-flags=--max-old-space-size=${flags.heapMb}`,
    ...list("--allow-read", read),
    ...list("--allow-write", g.write),
    ...list("--allow-net", g.net),
    ...list("--allow-env", g.env),
    ...list("--allow-run", g.run),
    ...list("--allow-sys", g.sys),
    ...list("--allow-ffi", g.ffi),
    ...list("--deny-read", flags.denyRead),
    ...list("--deny-write", flags.denyWrite),
  ];
}
