/**
 * The SQLite connection behind a {@link Store}, for the table modules of lib/state/ only:
 * nothing outside this folder sees the handle or writes SQL.
 */
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import type { Store } from "./store.ts";
import { MIGRATIONS, SCHEMA_VERSION } from "./migrations.ts";
import { noteDatabaseFile, stateError } from "./errors.ts";
import { PrjError } from "../util/errors.ts";

/** A row as node:sqlite returns it. */
export type Row = Record<string, SQLInputValue>;

const handles = new WeakMap<Store, DatabaseSync>();

/** How long a statement waits for another prj process's write lock before it fails (15 s; `PRJ_DB_WAIT` seconds). */
export function busyTimeoutMs(): number {
  let seconds = 15;
  try {
    const env = Deno.env.get("PRJ_DB_WAIT");
    if (env !== undefined && env !== "" && Number.isFinite(Number(env)) && Number(env) >= 0) seconds = Number(env);
  } catch { /* no env permission: the default */ }
  return Math.round(seconds * 1000);
}

/**
 * Opens (creating or migrating) the database file, with a busy timeout and foreign keys.
 * A file that is not a usable database is refused with one line that names it, says what is
 * wrong and what to do; nothing is written to it.
 *
 * @throws {PrjError} when the file is a folder, a FIFO or a device, unreadable, not a SQLite
 *   database, truncated, damaged, of a newer schema, or locked for longer than the busy timeout
 */
export function openDatabase(store: Store, file: string): void {
  noteDatabaseFile(file, busyTimeoutMs());
  checkDatabaseFile(file);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file);
  } catch (error) {
    throw stateError(error, file, busyTimeoutMs()) ?? error;
  }
  try {
    db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs()}`);
    db.exec("PRAGMA foreign_keys = ON");
    const version = userVersion(db);
    if (version > SCHEMA_VERSION) {
      throw new PrjError(
        `${file} was written by a newer prj (schema version ${version}; this prj knows up to ${SCHEMA_VERSION}); ` +
          `upgrade prj, or move the file aside (\`mv ${file} ${file}.newer\`) and prj starts a new one`,
      );
    }
    if (version < SCHEMA_VERSION) migrateWithRetry(db);
    // WAL: a commit is safe from a crash of prj (kill -9) at once; only a power cut may lose the
    // last commits. It saves an fsync per statement, which makes long runs linear and fast.
    db.exec("PRAGMA synchronous = NORMAL");
  } catch (error) {
    db.close();
    throw stateError(error, file, busyTimeoutMs()) ?? error;
  }
  handles.set(store, db);
}

/**
 * Refuses, before SQLite opens it, a state file that is not a regular file SQLite could use:
 * a folder, a FIFO (opening it would hang), a device, an unreadable file, a file that is not a
 * SQLite database (SQLite would take a short one for an empty database and write over it), or
 * one shorter than its header says (truncated).
 */
function checkDatabaseFile(file: string): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      if (isLink(file)) {
        throw badFile(file, "is a symbolic link to a file that does not exist", "remove the link");
      }
      return; // a new project: SQLite creates it
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw badFile(file, "cannot be reached (permission denied)", "give prj's user access to .prj/ (chmod u+rwx)");
    }
    throw badFile(file, `cannot be read (${(error as Error).message})`, "move it aside");
  }
  if (!info.isFile) {
    const what = info.isDirectory
      ? "is a folder"
      : info.isFifo
      ? "is a FIFO (named pipe)"
      : info.isCharDevice || info.isBlockDevice
      ? "is a device"
      : info.isSocket
      ? "is a socket"
      : "is not a regular file";
    throw badFile(file, `${what}, not prj's database`, "move it aside");
  }
  let header = new Uint8Array(0);
  let f: Deno.FsFile | undefined;
  try {
    f = Deno.openSync(file, { read: true });
    const buf = new Uint8Array(100);
    let n = 0;
    while (n < 100) {
      const got = f.readSync(buf.subarray(n));
      if (got === null || got === 0) break;
      n += got;
    }
    header = buf.subarray(0, n);
  } catch (error) {
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new PrjError(
        `${file} cannot be read (permission denied); give prj's user read and write access: chmod u+rw ${file}`,
      );
    }
    throw badFile(file, `cannot be read (${(error as Error).message})`, "move it aside");
  } finally {
    f?.close();
  }
  if (info.size === 0) return; // an empty file is an empty database
  if (new TextDecoder().decode(header.subarray(0, 16)) !== "SQLite format 3\0") {
    throw badFile(
      file,
      info.size < 100 ? "is not a SQLite database (truncated?)" : "is not a SQLite database",
      "move it aside",
    );
  }
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const rawPage = view.getUint16(16);
  const pageSize = rawPage === 1 ? 65536 : rawPage;
  const pages = view.getUint32(28);
  // The page count in the header is valid when the change counter matches "version valid for".
  if (pages > 0 && view.getUint32(24) === view.getUint32(92) && info.size < pages * pageSize) {
    throw badFile(
      file,
      `is truncated (${info.size} bytes of the ${pages * pageSize} its header names)`,
      "move it aside",
    );
  }
}

function isLink(file: string): boolean {
  try {
    return Deno.lstatSync(file).isSymlink;
  } catch {
    return false;
  }
}

/** One line: the file, what is wrong, and what to do. */
function badFile(file: string, what: string, todo: string): PrjError {
  const action = todo === "move it aside"
    ? `move it aside (\`mv ${file} ${file}.broken\`) and prj starts a new, empty one`
    : todo;
  return new PrjError(`${file} ${what}; ${action}`);
}

/** The connection of an open store. */
export function sql(store: Store): DatabaseSync {
  const db = handles.get(store);
  if (!db) throw new Error(`the state database ${store.file} is not open`);
  return db;
}

/** Closes the connection (a second close does nothing). */
export function closeDatabase(store: Store): void {
  const db = handles.get(store);
  if (db?.isOpen) db.close();
}

/** Runs `fn` in one write transaction. */
export function transaction<T>(store: Store, fn: () => T): T {
  return inTransaction(sql(store), fn);
}

/**
 * `fn` inside BEGIN IMMEDIATE ... COMMIT. On any error (also a COMMIT that failed on a full
 * disk) the transaction is rolled back if SQLite still has it open (it may have rolled it back
 * itself), so the connection is always usable again and the first error is the one reported.
 */
function inTransaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    if (db.isTransaction) {
      try {
        db.exec("ROLLBACK");
      } catch { /* rolled back already */ }
    }
    throw error;
  }
}

/** Parses a JSON column, falling back when it is empty or not JSON. */
export function parseJson<T>(text: unknown, fallback: T): T {
  if (typeof text !== "string") return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** A LIKE pattern that matches `prefix` literally, for `LIKE ? ESCAPE '\'`. */
export function likePrefix(prefix: string): string {
  return prefix.replace(/[\\%_]/g, (c) => `\\${c}`) + "%";
}

function userVersion(db: DatabaseSync): number {
  return Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
}

function migrateWithRetry(db: DatabaseSync): void {
  // Several processes may create the database at once; switching to WAL does not wait
  // on the busy timeout, so retry for a while (the busy timeout in all) instead of failing.
  const deadline = Date.now() + Math.max(busyTimeoutMs(), 2000);
  for (;;) {
    try {
      migrate(db);
      return;
    } catch (error) {
      if (!String(error).includes("locked") && !String(error).includes("busy") || Date.now() > deadline) throw error;
      const until = Date.now() + 10 + Math.random() * 40;
      while (Date.now() < until) { /* brief wait; opening is synchronous */ }
    }
  }
}

function migrate(db: DatabaseSync): void {
  // WAL first (it persists in the file), then migrate under a write lock so that
  // several prj processes opening a new project at once agree on one schema.
  const mode = (db.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode;
  if (mode !== "wal") db.exec("PRAGMA journal_mode = WAL");
  inTransaction(db, () => {
    const version = userVersion(db);
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  });
}
