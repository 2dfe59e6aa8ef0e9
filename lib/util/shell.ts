/** Quoting for POSIX shells. */

/**
 * Quotes one word for a POSIX shell: as it is when it holds only safe characters, else in
 * single quotes (a `'` inside becomes `'\''`), so the shell reads it as one word, literally.
 *
 * @example
 * ```ts
 * import { shellQuote } from "./shell.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(shellQuote("src/a.ts"), "src/a.ts");
 * assert.equal(shellQuote("a; touch F"), "'a; touch F'");
 * assert.equal(shellQuote("it's"), "'it'\\''s'");
 * assert.equal(shellQuote(""), "''");
 * ```
 */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_\/.,:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
