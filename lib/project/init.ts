/** `prj init`: creates .prj/ with the templates, an example step and config; idempotent, never clobbers. */
import * as path from "../util/path.ts";
import { UsageError } from "../util/errors.ts";
import { TEMPLATE_FILES } from "../../templates/mod.ts";
import { repositoryRoot } from "./project.ts";

/** What init did to each file. */
export interface InitResult {
  /** The project root. */
  root: string;
  /** Files written now (relative to the root). */
  created: string[];
  /** Files that existed and were left alone. */
  kept: string[];
  /** Files overwritten because of `force`. */
  overwritten: string[];
  /** Whether .gitignore was changed. */
  gitignoreUpdated: boolean;
}

/** The step contract's declarations under .prj/ (a step imports its types from there, offline). */
const STEP_TYPES = "steps/types.d.ts";

const IGNORE_LINES = [
  ".prj/state.db",
  ".prj/state.db-*",
  ".prj/artifacts/",
  ".prj/launch/",
  ".prj/cache/",
  ".prj/worktrees.lock",
  ".prj/journal/",
];

/**
 * Initialises a project folder.
 *
 * @param dir the folder (created if missing)
 * @param options `force` overwrites existing template files
 * @throws {UsageError} when `dir` exists and is not a folder, or is a subfolder (or linked worktree) of a git
 *   repository (the project belongs at its main worktree's root)
 * @example
 * ```ts
 * import { initProject } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const first = await initProject(dir);
 * assert.ok(first.created.includes(".prj/steps/example.ts"));
 * const again = await initProject(dir);
 * assert.deepEqual(again.created, []);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function initProject(dir: string, options: { force?: boolean } = {}): Promise<InitResult> {
  const root = path.resolve(dir);
  // A project is a whole repository: .prj/ in a subfolder would put worktrees (`<folder>.worktrees/`)
  // inside the repository and be missed from its other worktrees.
  const repository = repositoryRoot(root);
  if (repository !== undefined && repository !== root) {
    throw new UsageError(
      `"${root}" is inside the git repository "${repository}"; a prj project is a repository's root`,
      {
        hint: `run \`prj init\` with no folder from anywhere inside it, or \`prj init ${repository}\``,
      },
    );
  }
  try {
    if (!(await Deno.stat(root)).isDirectory) throw new UsageError(`"${root}" exists and is not a folder`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    await Deno.mkdir(root, { recursive: true });
  }
  const result: InitResult = { root, created: [], kept: [], overwritten: [], gitignoreUpdated: false };
  for (const sub of ["commands", "steps", "prompts", "artifacts"]) {
    await Deno.mkdir(path.join(root, ".prj", sub), { recursive: true });
  }
  for (const [rel, content] of Object.entries(TEMPLATE_FILES)) {
    const file = path.join(root, ".prj", rel);
    const display = path.join(".prj", rel);
    let exists = false;
    try {
      await Deno.stat(file);
      exists = true;
    } catch { /* new */ }
    // The step types are prj's, not the user's: brought up to date whenever they differ.
    const refresh = rel === STEP_TYPES && exists && (await Deno.readTextFile(file)) !== content;
    if (exists && !options.force && !refresh) {
      result.kept.push(display);
      continue;
    }
    // Write to a temporary file, then rename: a crash never leaves a half-written file.
    const tmp = `${file}.tmp-${Deno.pid}`;
    await Deno.writeTextFile(tmp, content);
    await Deno.rename(tmp, file);
    (exists ? result.overwritten : result.created).push(display);
  }
  const gitignore = path.join(root, ".gitignore");
  let current = "";
  try {
    current = await Deno.readTextFile(gitignore);
  } catch { /* none yet */ }
  const have = new Set(current.split("\n").map((l) => l.trim()));
  const missing = IGNORE_LINES.filter((l) => !have.has(l));
  if (missing.length > 0) {
    const prefix = current === "" || current.endsWith("\n") ? "" : "\n";
    await Deno.writeTextFile(gitignore, `${current}${prefix}# prj state and run artifacts\n${missing.join("\n")}\n`);
    result.gitignoreUpdated = true;
  }
  return result;
}
