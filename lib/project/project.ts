/** Finds the project (.prj/ at the main worktree, also from inside a linked worktree) and loads its config. */
import * as path from "../util/path.ts";
import { loadConfig } from "./config.ts";
import { UsageError } from "../util/errors.ts";
import { isDirectory } from "../util/fs.ts";
import type { ProjectConfig } from "../definitions/schema.ts";

/** A prj project: the main worktree that holds `.prj/`. */
export interface Project {
  /** The main worktree's root (the folder holding `.prj/`). */
  root: string;
  /** `<root>/.prj`. */
  prjDir: string;
  /** The project's name (config `name`, else the folder name). */
  name: string;
  /** The validated `.prj/config.yaml`. */
  config: ProjectConfig;
  /** The folder prj was started in. */
  cwd: string;
  /** The linked worktree prj was started in, if any. */
  currentWorktree: string | undefined;
}

/** The main worktree of the git checkout that `dir` (a worktree root) belongs to, read without spawning git. */
function mainWorktreeOf(dir: string): string | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(path.join(dir, ".git"));
  } catch {
    return undefined; // `.git` is a folder (main worktree) or absent
  }
  const match = /^gitdir:\s*(.+)$/m.exec(text);
  if (!match) return undefined;
  const gitDir = path.resolve(dir, match[1]!.trim());
  try {
    const common = path.resolve(gitDir, Deno.readTextFileSync(path.join(gitDir, "commondir")).trim());
    return path.dirname(common);
  } catch {
    return undefined;
  }
}

/**
 * The folder a project for `dir` belongs in: the main worktree of the git checkout holding `dir`
 * (from a subfolder or a linked worktree alike), or undefined outside git. Read without spawning git.
 *
 * @param dir any folder
 * @example
 * ```ts
 * import { repositoryRoot } from "./project.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/.git`);
 * await Deno.mkdir(`${dir}/src/deep`, { recursive: true });
 * assert.equal(repositoryRoot(`${dir}/src/deep`), dir);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function repositoryRoot(dir: string): string | undefined {
  let at = path.resolve(dir);
  for (;;) {
    try {
      const info = Deno.statSync(path.join(at, ".git"));
      // A linked worktree's `.git` is a file naming the main checkout; a submodule's is its own root.
      return info.isFile ? mainWorktreeOf(at) ?? at : at;
    } catch { /* not here */ }
    const parent = path.dirname(at);
    if (parent === at) return undefined;
    at = parent;
  }
}

/** A path's real path (links resolved), or the path itself when it does not exist. */
function realOr(p: string): string {
  try {
    return Deno.realPathSync(p);
  } catch {
    return p;
  }
}

/**
 * Finds the project root from a directory: the nearest folder with `.prj/`, or, inside a
 * linked git worktree, the main worktree's.
 *
 * @param cwd where to start
 * @returns the root and, when started inside a linked worktree, that worktree
 * @example
 * ```ts
 * import { findProjectRoot, initProject } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await initProject(dir);
 * await Deno.mkdir(`${dir}/src/deep`, { recursive: true });
 * assert.equal(findProjectRoot(`${dir}/src/deep`)?.root, Deno.realPathSync(dir));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function findProjectRoot(cwd: string): { root: string; currentWorktree: string | undefined } | undefined {
  // By its real path, as `Deno.cwd()` gives it to the CLI: a step's grant and the paths in its context are
  // then the same paths, with no link in them for Deno's permission checks to weigh differently.
  let dir = realOr(path.resolve(cwd));
  for (;;) {
    const main = mainWorktreeOf(dir);
    if (main !== undefined && isDirectory(path.join(main, ".prj"))) return { root: main, currentWorktree: dir };
    if (main === undefined && isDirectory(path.join(dir, ".prj"))) return { root: dir, currentWorktree: undefined };
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Opens the project containing `cwd` and validates its config.
 *
 * @throws {UsageError} when there is no project here, or the config is invalid
 * @example
 * ```ts
 * import { initProject, openProject } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await initProject(dir);
 * const project = await openProject(dir);
 * assert.equal(project.root, Deno.realPathSync(dir));
 * assert.equal(project.config.agent.command, "claude");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openProject(cwd: string = Deno.cwd()): Promise<Project> {
  const found = findProjectRoot(cwd);
  if (!found) {
    throw new UsageError(`No prj project found in "${cwd}" or its parents`, {
      hint: "run `prj init` in your repository first",
    });
  }
  const prjDir = path.join(found.root, ".prj");
  const config = await loadConfig(prjDir);
  return {
    root: found.root,
    prjDir,
    name: config.name ?? path.basename(found.root),
    config,
    cwd: realOr(path.resolve(cwd)),
    currentWorktree: found.currentWorktree,
  };
}
