/**
 * The project's state in SQLite (`.prj/state.db`): one connection, safe for many prj
 * processes at once (WAL, a busy timeout). Each table has its own module in this folder
 * (runs, steps, artifacts, resources, worktrees, tasks, agents, agent_locks, launches);
 * they are the only code that runs SQL.
 */
import * as path from "../util/path.ts";
import { closeDatabase, openDatabase } from "./_db.ts";
import { reapInterrupted } from "./runs.ts";

/**
 * An open connection to a project's state database. Reading and writing go through the
 * table modules; a library user reads runs with {@link getRun} and {@link listRuns}.
 *
 * @example
 * ```ts
 * import { initProject, listRuns, openProject, openStore } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await initProject(dir);
 * const store = openStore((await openProject(dir)).prjDir);
 * assert.deepEqual(listRuns(store), []);
 * store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Store {
  /** The database file. */
  readonly file: string;

  /**
   * Opens (and if needed creates or migrates) the database, and marks runs whose process
   * died as `interrupted`.
   *
   * @param file the database path, usually `<project>/.prj/state.db`
   */
  constructor(file: string) {
    this.file = file;
    openDatabase(this, file);
    reapInterrupted(this);
  }

  /** Closes the connection. */
  close(): void {
    closeDatabase(this);
  }
}

/**
 * Opens the project's store at `<prjDir>/state.db`.
 *
 * @param prjDir the project's `.prj` folder
 * @returns the open store; close it when done
 */
export function openStore(prjDir: string): Store {
  return new Store(path.join(prjDir, "state.db"));
}
