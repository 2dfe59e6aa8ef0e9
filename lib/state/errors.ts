/**
 * SQLite's errors as one line each: which file, what is wrong, what to do. A damaged, locked,
 * full or read-only database is the user's to fix, never a stack trace.
 */
import { PrjError } from "../util/errors.ts";

// SQLite's primary result codes (https://sqlite.org/rescode.html).
const BUSY = 5;
const LOCKED = 6;
const READONLY = 8;
const IOERR = 10;
const CORRUPT = 11;
const FULL = 13;
const CANTOPEN = 14;
const NOTADB = 26;

/** SQLite's message for each result code (sqlite3_errstr). */
const MESSAGES: [RegExp, number][] = [
  [/database is locked/, BUSY],
  [/database table is locked/, LOCKED],
  [/attempt to write a readonly database/, READONLY],
  [/disk I\/O error/, IOERR],
  [/database disk image is malformed/, CORRUPT],
  [/database or disk is full/, FULL],
  [/unable to open database file/, CANTOPEN],
  [/file is not a database/, NOTADB],
];

let noted: { file: string; waitMs: number } | undefined;

/** @internal Remembers the database being opened, for errors that surface later. */
export function noteDatabaseFile(file: string, waitMs: number): void {
  noted = { file, waitMs };
}

/** Whether `error` is an error of node:sqlite. */
export function isSqliteError(error: unknown): error is Error & { errcode?: number; errstr?: string } {
  return error instanceof Error && (error as { code?: string }).code === "ERR_SQLITE_ERROR";
}

/** SQLite's primary result code of an error (the low byte of the extended code), if it has one. */
export function sqliteCode(error: unknown): number | undefined {
  if (!isSqliteError(error)) return undefined;
  const code = error.errcode;
  if (typeof code === "number") return code & 0xff;
  // Not every error node:sqlite throws carries its code: SQLite's own messages say which it is.
  const text = error.message;
  for (const [pattern, c] of MESSAGES) if (pattern.test(text)) return c;
  return undefined;
}

/**
 * Whether the error means the disk (or the quota) is full. SQLite reports a write that the
 * disk refused as a full database or as an I/O error, depending on which file it was writing.
 */
export function isDiskFull(error: unknown): boolean {
  const code = sqliteCode(error);
  if (code === FULL || code === IOERR) return true;
  const text = error instanceof Error ? error.message : String(error);
  return /No space left on device|os error 28|Disk quota exceeded|os error 122/.test(text);
}

/**
 * The one-line error for a SQLite error on `file`, or undefined when `error` is not SQLite's.
 *
 * @param error what node:sqlite threw
 * @param file the database file (default: the one opened last)
 * @param waitMs the busy timeout, to say how long prj waited for a lock
 */
export function stateError(
  error: unknown,
  file: string | undefined = noted?.file,
  waitMs: number | undefined = noted?.waitMs,
): PrjError | undefined {
  if (error instanceof PrjError) return error;
  if (!isSqliteError(error)) return undefined;
  const where = file ?? ".prj/state.db";
  const detail = error.errstr ?? error.message;
  const aside = `move it aside (\`mv ${where} ${where}.broken\`) and prj starts a new, empty one`;
  const line = (text: string, hint?: string) => new PrjError(text, { cause: error, ...(hint ? { hint } : {}) });
  switch (sqliteCode(error)) {
    case BUSY:
    case LOCKED:
      return line(
        `${where} is locked by another process${
          waitMs === undefined ? "" : ` (prj waited ${Math.round(waitMs / 1000)} s)`
        }; nothing was changed: run the command again when the other one is done`,
        `\`fuser ${where}\` shows which process holds it; PRJ_DB_WAIT=<seconds> waits longer`,
      );
    case FULL:
      return line(
        `${where} cannot be written: the disk is full (${detail}); free some space and run the command again`,
        "`prj doctor` then repairs what was left half-done",
      );
    case READONLY:
      return line(`${where} cannot be written (${detail}); give prj's user write access: chmod u+rw ${where}`);
    case IOERR:
      return line(
        `${where} cannot be read or written: disk I/O error (${detail}); the disk may be full or failing: ` +
          "free some space or check it, and run the command again",
        "`prj doctor` then repairs what was left half-done",
      );
    case CORRUPT:
    case NOTADB:
      return line(`${where} is damaged (${detail}); ${aside}`);
    case CANTOPEN:
      return line(`${where} cannot be opened (${detail}); check that .prj/ is a folder prj's user can write`);
    default:
      return line(`${where}: ${detail}`, "run `prj doctor`");
  }
}
