/** `prj worktree create`: a branch, a worktree, copied files, setup commands and a port slot, or nothing at all. */
import * as path from "../../util/path.ts";
import type { Project } from "../../project/project.ts";
import { openStore, type Store } from "../../state/store.ts";
import { insertWorktree } from "../../state/worktrees.ts";
import { addResource } from "../../state/resources.ts";
import { Intent } from "../../state/journal.ts";
import { PrjError, UsageError } from "../../util/errors.ts";
import { exists, isDirectory, isFile } from "../../util/fs.ts";
import { runStreaming } from "../../util/process.ts";
import { processStartTime } from "../../util/liveness.ts";
import { branchExists, git, hasCommits, isValidBranchName, startPointOf } from "../git.ts";
import { portFor } from "../ports.ts";
import { createSession } from "../sessions.ts";
import { withWorktreeLock } from "./lock.ts";
import { baseBranch, checkWorktreeName, worktreeDir } from "./names.ts";
import { undoCreate } from "./undo.ts";

/** What `createWorktree` did. */
export interface CreatedWorktree {
  /** Its name. */
  name: string;
  /** Its absolute path. */
  path: string;
  /** Its branch. */
  branch: string;
  /** The branch or commit it was made from. */
  base: string;
  /** Its port slot (0 for a dry run). */
  slot: number;
  /** Its port, `PRJ_PORT` (0 for a dry run). */
  port: number;
  /** Whether the branch was created (false: an existing branch was checked out). */
  createdBranch: boolean;
  /** The untracked files copied into it. */
  copied: string[];
  /** The setup commands run in it. */
  setup: string[];
  /** The tmux session made there (with `session`). */
  session?: { name: string; created: boolean } | undefined;
}

/** Options for {@link createWorktree}. */
export interface CreateWorktreeOptions {
  /** Base to branch from (default: config, then the repo's default branch). */
  from?: string | undefined;
  /**
   * Refuse `from` when the branch exists already (it is checked out as it is, so `from` would not
   * apply): `prj worktree create --from` says so rather than ignore the flag.
   */
  refuseIgnoredFrom?: boolean | undefined;
  /** Branch name (default: `<branch_prefix><name>`). Checked out if it exists. */
  branch?: string | undefined;
  /** Do not copy untracked files (.worktreeinclude / config `copy`). */
  noCopy?: boolean | undefined;
  /** Only compute what would happen. */
  dryRun?: boolean | undefined;
  /** Progress lines. */
  onProgress?: ((line: string) => void) | undefined;
  /** The run that creates it. */
  runId?: string | undefined;
  /** The run removes it when it does not succeed: recorded as the run's resource before it is made. */
  ownedByRun?: boolean | undefined;
  /** Also start a tmux session there, as part of the same creation (both or neither). */
  session?: boolean | { task?: string | undefined } | undefined;
  /** Stops the creation (a setup command is stopped) and undoes what was made. */
  signal?: AbortSignal | undefined;
  /** An open store. */
  store?: Store | undefined;
}

async function filesToCopy(project: Project): Promise<string[]> {
  const patterns = project.config.worktree.copy;
  const include = path.join(project.root, ".worktreeinclude");
  const hasInclude = isFile(include);
  if (!hasInclude && patterns.length === 0) return [];
  // git matches the patterns with gitignore semantics against untracked files.
  const args = ["ls-files", "-z", "--others", "--ignored"];
  if (hasInclude) args.push(`--exclude-from=${include}`);
  for (const p of patterns) args.push(`--exclude=${p}`);
  const out = await git(project.root, args, "listing files to copy");
  return out.split("\0").filter((f) => f !== "" && !f.startsWith(".prj/"));
}

/**
 * Creates a branch and a worktree for it, copies the untracked files named by
 * `.worktreeinclude` and config `copy`, runs the setup commands, and records a port slot.
 * On any failure it leaves nothing behind (no folder, no branch, no database row).
 * It never touches the current checkout or stash.
 *
 * @throws {UsageError} for a bad name, an existing worktree or folder, an unknown base
 * @throws {PrjError} when git or a setup command fails (after rolling back)
 * @example
 * ```ts
 * import { initProject, openProject } from "@prunejuice/cli";
 * import { createWorktree, removeWorktree } from "@prunejuice/cli/workspace";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const git = (...args: string[]) => new Deno.Command("git", { args: ["-c", "user.name=d", "-c", "user.email=d@d", ...args], cwd: `${dir}/repo` }).output();
 * await Deno.mkdir(`${dir}/repo`);
 * await git("init", "-q", "-b", "main");
 * await git("commit", "-q", "--allow-empty", "-m", "init");
 * await initProject(`${dir}/repo`);
 * const project = await openProject(`${dir}/repo`);
 * const created = await createWorktree(project, "login");
 * assert.equal(created.path, `${dir}/repo.worktrees/login`);
 * assert.equal(created.port, 3010);
 * await removeWorktree(project, "login");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function createWorktree(
  project: Project,
  name: string,
  options: CreateWorktreeOptions = {},
): Promise<CreatedWorktree> {
  checkWorktreeName(name);
  await git(project.root, ["rev-parse", "--git-dir"]); // outside a repository: one line saying so
  const progress = options.onProgress ?? (() => {});
  const branch = options.branch ?? `${project.config.worktree.branch_prefix}${name}`;
  if (!(await isValidBranchName(project.root, branch))) {
    throw new UsageError(`Branch name "${branch}" is not a valid git branch name`);
  }
  const dir = worktreeDir(project);
  const wtPath = path.join(dir, name);
  const wanted = options.from ?? await baseBranch(project);
  const existingBranch = await branchExists(project.root, branch);
  if (existingBranch && options.from !== undefined && options.refuseIgnoredFrom) {
    throw new UsageError(`Branch "${branch}" exists already, so --from ${options.from} would not apply`, {
      hint: "drop --from to check the branch out as it is, or name a new branch (--branch)",
    });
  }
  // A clone may have origin's default branch only as origin/<name>: start from there.
  const base = existingBranch ? wanted : await startPointOf(project.root, wanted);
  if (base === undefined) {
    throw await (async () => {
      if (!(await hasCommits(project.root))) {
        return new UsageError("This repository has no commits yet; a worktree starts from one", {
          hint: 'make a first commit (git commit --allow-empty -m "initial"), then try again',
        });
      }
      return new UsageError(`Base "${wanted}" is not a branch or commit of this repository, nor origin's`, {
        hint: options.from !== undefined
          ? "pass --from with a branch or commit that exists (git branch -a lists them)"
          : "pass --from <branch>, or set worktree.base in .prj/config.yaml",
      });
    })();
  }
  if (exists(wtPath)) {
    throw new UsageError(`Folder "${wtPath}" already exists`, {
      hint: "choose another name, or `prj worktree remove` the old one",
    });
  }
  const copies = options.noCopy ? [] : await filesToCopy(project);
  const setup = project.config.worktree.setup;
  if (options.dryRun) {
    return {
      name,
      path: wtPath,
      branch,
      base,
      slot: 0,
      port: 0,
      createdBranch: !existingBranch,
      copied: copies,
      setup: setup.map((s) => (Array.isArray(s) ? s.join(" ") : s)),
    };
  }
  const store = options.store ?? openStore(project.prjDir);
  // In the journal before anything is made: a prj killed at any point below leaves a record of
  // what it was making, which the next prj command undoes (see undo.ts).
  let intent: Intent;
  let slot: number;
  try {
    intent = Intent.begin(project.prjDir, {
      kind: "worktree-create",
      stage: "recorded",
      name,
      path: wtPath,
      branch,
      newBranch: !existingBranch,
      runId: options.runId,
    });
  } catch (error) {
    if (!options.store) store.close();
    throw error;
  }
  try {
    const runId = options.runId;
    slot = insertWorktree(
      store,
      { name, path: wtPath, branch, base, runId },
      runId && options.ownedByRun
        ? () => addResource(store, { runId, kind: "worktree", name, path: wtPath, branch })
        : undefined,
    );
  } catch (error) {
    intent.done();
    if (!options.store) store.close();
    throw error;
  }
  const port = portFor(project, slot);
  const dirExisted = isDirectory(dir);
  let session: { name: string; created: boolean } | undefined;
  try {
    await Deno.mkdir(dir, { recursive: true });
    progress(
      `git worktree add ${wtPath} (${
        existingBranch ? `existing branch ${branch}` : `new branch ${branch} from ${base}`
      })`,
    );
    const addArgs = existingBranch
      ? ["worktree", "add", wtPath, branch]
      : ["worktree", "add", "--no-track", "-b", branch, wtPath, base];
    const stopped = () => {
      if (options.signal?.aborted) throw new PrjError(`Creating worktree "${name}" was stopped; nothing is left of it`);
    };
    stopped();
    intent.update({ stage: "adding" });
    await withWorktreeLock(project, () => git(project.root, addArgs, "git worktree add"));
    intent.update({ stage: "setup" });
    for (const file of copies) {
      const target = path.join(wtPath, file);
      await Deno.mkdir(path.dirname(target), { recursive: true });
      await Deno.copyFile(path.join(project.root, file), target);
    }
    if (copies.length > 0) {
      progress(
        `copied ${copies.length} untracked file(s): ${copies.slice(0, 5).join(", ")}${
          copies.length > 5 ? ", ..." : ""
        }`,
      );
    }
    for (const command of setup) {
      const argv = Array.isArray(command) ? command : ["sh", "-c", command];
      progress(`setup: ${Array.isArray(command) ? command.join(" ") : command}`);
      const exit = await runStreaming(argv, {
        cwd: wtPath,
        env: { ...Deno.env.toObject(), PRJ_PORT: String(port), PRJ_WORKTREE: wtPath, PRJ_PROJECT: project.root },
        onLine: (line) => progress(`  ${line}`),
        // Its process group is recorded, so a setup command a killed prj started is stopped too.
        onSpawn: (pid) => intent.update({ child: { pid, start: processStartTime(pid) ?? null } }),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      intent.update({ child: null });
      stopped();
      if (exit.code !== 0) {
        throw new PrjError(
          `Setup command "${
            Array.isArray(command) ? command.join(" ") : command
          }" exited with code ${exit.code} in ${wtPath}`,
        );
      }
    }
    stopped();
    if (options.session) {
      const task = typeof options.session === "object" ? options.session.task : undefined;
      session = await createSession(project, { name, path: wtPath, port }, task, undefined, {
        beforeCreate: (chosen) => intent.update({ stage: "session", session: chosen }),
      });
    }
  } catch (error) {
    // Roll back everything this call made (the same undo the next prj command would do).
    try {
      await undoCreate(project, store, { ...intent.record, session: session?.created ? session.name : undefined });
      if (!dirExisted) {
        try {
          Deno.removeSync(dir);
        } catch { /* not empty or gone */ }
      }
      intent.done();
    } catch {
      intent.abandon(); // the next prj command finishes the undo
    }
    if (!options.store) store.close();
    throw error;
  }
  intent.done();
  if (!options.store) store.close();
  return {
    name,
    path: wtPath,
    branch,
    base,
    slot,
    port,
    createdBranch: !existingBranch,
    copied: copies,
    setup: setup.map(String),
    ...(session ? { session } : {}),
  };
}
