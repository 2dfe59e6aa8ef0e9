/**
 * The SQLite connection behind a {@link Store}, for the table modules of lib/state/ only:
 * nothing outside this folder sees the handle or writes SQL.
 */
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import type { Store } from "./store.ts";
import { MIGRATIONS, SCHEMA_VERSION } from "./migrations.ts";

/** A row as node:sqlite returns it. */
export type Row = Record<string, SQLInputValue>;

const handles = new WeakMap<Store, DatabaseSync>();

/**
 * Opens (creating or migrating) the database file, with a busy timeout and foreign keys.
 *
 * @throws {Error} when the file has a newer schema than this build understands
 */
export function openDatabase(store: Store, file: string): void {
  const db = new DatabaseSync(file);
  db.exec("PRAGMA busy_timeout = 30000");
  db.exec("PRAGMA foreign_keys = ON");
  const version = userVersion(db);
  if (version > SCHEMA_VERSION) {
    db.close();
    throw new Error(
      `${file} has schema version ${version}, newer than this prj understands (${SCHEMA_VERSION}); upgrade prj`,
    );
  }
  if (version < SCHEMA_VERSION) migrateWithRetry(db);
  handles.set(store, db);
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
  const db = sql(store);
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    db.exec("ROLLBACK");
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
  // on the busy timeout, so retry for a while instead of failing.
  for (let attempt = 0;; attempt++) {
    try {
      migrate(db);
      return;
    } catch (error) {
      if (!String(error).includes("locked") && !String(error).includes("busy") || attempt >= 200) throw error;
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
  db.exec("BEGIN IMMEDIATE");
  try {
    const version = userVersion(db);
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}
