/** What `prj doctor` asks of the database: its schema, journal mode, integrity and size. */
import { sql } from "./_db.ts";
import { SCHEMA_VERSION } from "./migrations.ts";
import type { Store } from "./store.ts";

/** The database's state, as `prj doctor` reports it. */
export interface DatabaseHealth {
  /** Its schema version (PRAGMA user_version). */
  version: number;
  /** The version this prj writes. */
  expected: number;
  /** `wal` when several prj processes can write at once. */
  journalMode: string;
  /** SQLite's quick integrity check: `["ok"]`, or what is damaged. */
  integrity: string[];
  /** How many runs it records. */
  runs: number;
}

/** Checks the database (SQLite's quick_check reads every page: milliseconds for a few MB). */
export function databaseHealth(store: Store): DatabaseHealth {
  const db = sql(store);
  const version = Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
  const journalMode = String((db.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode);
  const integrity = (db.prepare("PRAGMA quick_check(20)").all() as { quick_check: string }[]).map((r) =>
    String(r.quick_check)
  );
  const runs = Number((db.prepare("SELECT COUNT(*) AS n FROM runs").get() as { n: number }).n);
  return { version, expected: SCHEMA_VERSION, journalMode, integrity, runs };
}

/** Whether a run with this exact id is recorded. */
export function runRecorded(store: Store, id: string): boolean {
  return sql(store).prepare("SELECT 1 FROM runs WHERE id = ?").get(id) !== undefined;
}
