/** Finds the project (.prj/ at the main worktree, also from inside a linked worktree) and loads its config. */
import * as path from "node:path";
import { importLazy } from "./_lazy.ts";
import { fingerprint, readCache, writeCache } from "./_cache.ts";

type Schemas = typeof import("./_schemas.ts");
type YamlSourceModule = typeof import("./yaml_source.ts");
import { UsageError } from "./errors.ts";
import type { ProjectConfig } from "./schema.ts";

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

function isDir(p: string): boolean {
  try {
    return Deno.statSync(p).isDirectory;
  } catch {
    return false;
  }
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
 * assert.equal(findProjectRoot(`${dir}/src/deep`)?.root, dir);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function findProjectRoot(cwd: string): { root: string; currentWorktree: string | undefined } | undefined {
  let dir = path.resolve(cwd);
  for (;;) {
    const main = mainWorktreeOf(dir);
    if (main !== undefined && isDir(path.join(main, ".prj"))) return { root: main, currentWorktree: dir };
    if (main === undefined && isDir(path.join(dir, ".prj"))) return { root: dir, currentWorktree: undefined };
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
 * assert.equal(project.root, dir);
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
    cwd: path.resolve(cwd),
    currentWorktree: found.currentWorktree,
  };
}

/** Loads `.prj/config.yaml` (missing file: all defaults). */
export async function loadConfig(prjDir: string): Promise<ProjectConfig> {
  const file = path.join(prjDir, "config.yaml");
  const key = fingerprint([file]);
  const cached = readCache<ProjectConfig>(prjDir, "config", key);
  if (cached) return cached;
  const { ProjectConfigSchema } = await importLazy<Schemas>("./_schemas.ts", import.meta.url);
  let config: ProjectConfig;
  try {
    await Deno.stat(file);
    const { readYamlFile } = await importLazy<YamlSourceModule>("./yaml_source.ts", import.meta.url);
    const { validate } = await import("./validate.ts");
    const source = await readYamlFile(file, ".prj/config.yaml");
    config = source.data === null || source.data === undefined
      ? ProjectConfigSchema.parse({})
      : validate(ProjectConfigSchema, source);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    config = ProjectConfigSchema.parse({});
  }
  writeCache(prjDir, "config", key, config);
  return config;
}
