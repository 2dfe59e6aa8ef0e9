/**
 * Where and how prj runs git so that nothing a step or an agent wrote can make git run a
 * program: git is pointed at the repository prj knows (`GIT_DIR`, `GIT_WORK_TREE`) instead of
 * discovering it from the folder, a linked worktree's `.git` file must still be the one git
 * made for it, and fsmonitor and hooks are off except for prj's own commits in the main checkout.
 */
import * as path from "../util/path.ts";
import { PrjError } from "../util/errors.ts";

/**
 * Where git runs: the project's main checkout (its root as a string), or a linked worktree of
 * the project, optionally from a folder inside it.
 */
export type GitPlace = string | {
  /** The project root (the main checkout). */
  project: string;
  /** A linked worktree of the project; the main checkout when absent. */
  worktree?: string | undefined;
  /** The folder git runs in (inside the checkout); its root when absent. */
  cwd?: string | undefined;
};

/** How to start git for a place. */
export interface GitInvocation {
  /** Working directory. */
  cwd: string;
  /** Environment additions (`GIT_DIR`, `GIT_WORK_TREE`, no prompts, no optional locks). */
  env: Record<string, string>;
  /** Options before the git subcommand (`-c core.fsmonitor=false ...`). */
  options: string[];
}

function readGitFile(file: string): string | undefined {
  let text: string;
  try {
    if (!Deno.lstatSync(file).isFile) return undefined;
    text = Deno.readTextFileSync(file);
  } catch {
    return undefined;
  }
  const m = /^gitdir: (.+)$/m.exec(text);
  return m ? path.resolve(path.dirname(file), m[1]!.trim()) : undefined;
}

function real(p: string): string {
  try {
    return Deno.realPathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** The git folder of the main checkout: `.git` itself, or where its `.git` file points (never a worktree's). */
function mainGitDir(root: string): string {
  const dotGit = path.join(root, ".git");
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(dotGit);
  } catch {
    throw new PrjError(`"${root}" is not a git repository (it has no .git); worktrees, sessions and agents need one`, {
      hint: "run prj from your repository, or `git init` and make a first commit here",
    });
  }
  if (info.isDirectory) return dotGit;
  const target = info.isFile ? readGitFile(dotGit) : undefined;
  let linked = false;
  try {
    linked = target !== undefined && Deno.statSync(path.join(target, "commondir")).isFile;
  } catch { /* a plain git folder */ }
  if (target === undefined || linked) {
    throw new PrjError(`"${root}/.git" is not a git folder prj can trust`, {
      hint: "run prj from the main checkout of the repository",
    });
  }
  return target;
}

/**
 * The folder git keeps for a linked worktree (`<common>/worktrees/<id>`), found from the main
 * repository's own records, after checking that the worktree's `.git` file still points there.
 *
 * @throws {PrjError} when the worktree is not one of the project's, or its `.git` entry was changed
 */
export function worktreeGitDir(project: string, worktree: string): string {
  const common = mainGitDir(project);
  const dotGit = path.join(worktree, ".git");
  const want = real(dotGit);
  let admin: string | undefined;
  try {
    for (const entry of Deno.readDirSync(path.join(common, "worktrees"))) {
      const dir = path.join(common, "worktrees", entry.name);
      try {
        const recorded = Deno.readTextFileSync(path.join(dir, "gitdir")).trim();
        if (real(path.resolve(dir, recorded)) === want || path.resolve(dir, recorded) === dotGit) {
          admin = dir;
          break;
        }
      } catch { /* not a worktree record */ }
    }
  } catch { /* no linked worktrees */ }
  if (admin === undefined) {
    throw new PrjError(`"${worktree}" is not a worktree of the repository at "${project}"`);
  }
  const pointed = readGitFile(dotGit);
  if (pointed === undefined || real(pointed) !== real(admin)) {
    throw new PrjError(
      `The .git entry of worktree "${worktree}" is not the file git made for it; prj will not run git there`,
      {
        hint: "something replaced it (a step, the agent, a program); if that was you, run " +
          `\`git worktree repair "${worktree}"\` in the project, else remove the worktree with --force`,
      },
    );
  }
  return admin;
}

/**
 * How to run git at a place, after checking the place.
 *
 * @param where the main checkout (a path) or a linked worktree of the project
 * @param hooks run hooks (prj's own merge commits in the main checkout); off otherwise
 * @throws {PrjError} when the checkout's `.git` entry cannot be trusted
 * @example
 * ```ts
 * import { gitInvocation } from "./safe_git.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${dir}/.git`);
 * const git = gitInvocation(dir);
 * assert.equal(git.env.GIT_DIR, `${dir}/.git`);
 * assert.ok(git.options.includes("core.fsmonitor=false"));
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function gitInvocation(where: GitPlace, hooks = false): GitInvocation {
  const place = typeof where === "string" ? { project: where } : where;
  const root = place.worktree ?? place.project;
  const gitDir = place.worktree === undefined || path.resolve(place.worktree) === path.resolve(place.project)
    ? mainGitDir(place.project)
    : worktreeGitDir(place.project, place.worktree);
  return {
    cwd: place.cwd ?? root,
    env: { GIT_DIR: gitDir, GIT_WORK_TREE: root, GIT_TERMINAL_PROMPT: "0", GIT_OPTIONAL_LOCKS: "0" },
    options: ["-c", "core.fsmonitor=false", ...(hooks ? [] : ["-c", "core.hooksPath=/dev/null"])],
  };
}
