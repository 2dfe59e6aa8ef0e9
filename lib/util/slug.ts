/**
 * Slugs: text made safe for a file name, a branch or a tmux session name. Each use has its
 * own explicit rules (which characters survive, how long, what an empty result becomes), so
 * changing one never changes the others.
 */

/** The rules of one kind of slug. */
export interface SlugRules {
  /** Characters kept besides `a-z` and `0-9` (everything else becomes `-`). */
  keep: string;
  /** Longest result, if limited. */
  max?: number;
  /** The result when nothing is left. */
  fallback: string;
}

/** Step log files: `logs/<nn>-<slug>.log`. */
export const STEP_LOG_SLUG: SlugRules = { keep: "._-", max: 60, fallback: "step" };
/** Task branches: `task-<id>-<slug>`. */
export const BRANCH_SLUG: SlugRules = { keep: "", max: 40, fallback: "task" };
/** tmux session names: `<project>-<worktree>-<task>`; tmux treats `.` and `:` specially. */
export const SESSION_SLUG: SlugRules = { keep: "-", fallback: "" };

/**
 * Lowercases `text`, turns every run of other characters into one `-`, and trims dashes
 * at both ends.
 *
 * @example
 * ```ts
 * import { BRANCH_SLUG, slug } from "./slug.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(slug("Fix Bug #12!", BRANCH_SLUG), "fix-bug-12");
 * assert.equal(slug("!!!", BRANCH_SLUG), "task");
 * ```
 */
export function slug(text: string, rules: SlugRules): string {
  const keep = rules.keep.replace(/[\\\]^-]/g, (c) => `\\${c}`);
  const s = text.toLowerCase().replace(new RegExp(`[^a-z0-9${keep}]+`, "g"), "-").replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "");
  return (rules.max === undefined ? s : s.slice(0, rules.max)) || rules.fallback;
}
