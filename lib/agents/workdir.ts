/**
 * What an agent kind needs to know of the checkout a launch runs in: its git folders (a
 * headless Codex gets the ones a commit writes as writable roots of its sandbox) and the
 * author identity git resolves there (Gemini CLI's shell blanks the user's git config).
 */
import * as path from "../util/path.ts";
import { gitMaybe } from "../workspace/git.ts";
import { gitInvocation } from "../workspace/safe_git.ts";
import type { Workdir } from "./kinds.ts";

function hasGitEntry(dir: string): boolean {
  try {
    Deno.lstatSync(path.join(dir, ".git"));
    return true;
  } catch {
    return false;
  }
}

/**
 * The checkout of the project that holds `cwd` (the main checkout or a linked worktree), its
 * git folders and identity; undefined when `cwd` is in none prj can trust.
 *
 * @param projectRoot the project's main checkout
 * @param cwd where the agent runs
 */
export async function workdirOf(projectRoot: string, cwd: string): Promise<Workdir | undefined> {
  let dir = path.resolve(cwd);
  while (!hasGitEntry(dir)) {
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  const main = path.resolve(dir) === path.resolve(projectRoot);
  const place = main ? projectRoot : { project: projectRoot, worktree: dir };
  let gitDir: string;
  let commonDir: string;
  try {
    commonDir = gitInvocation(projectRoot).env.GIT_DIR!;
    gitDir = gitInvocation(place).env.GIT_DIR!;
  } catch {
    return undefined;
  }
  const config = async (key: string) => (await gitMaybe(place, ["config", "--get", key]))?.trim() || undefined;
  const [name, email] = await Promise.all([config("user.name"), config("user.email")]);
  return { checkout: dir, gitDir, commonDir, identity: { name, email } };
}
