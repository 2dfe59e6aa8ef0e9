/** Run ids: sortable by time, unique enough for many prj processes at once. */

const ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789";

/**
 * A new sortable run id: `20261120-215600-x7k2`.
 *
 * @param date the run's start (default: now)
 * @returns the id: date, time (UTC) and four random letters or digits
 * @example
 * ```ts
 * import { newRunId } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * assert.match(newRunId(new Date("2026-11-20T21:56:00Z")), /^20261120-215600-[a-z2-9]{4}$/);
 * ```
 */
export function newRunId(date: Date = new Date()): string {
  const iso = date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const rand = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => ALPHABET[b % 32]).join("");
  return `${iso.slice(0, 8)}-${iso.slice(8)}-${rand}`;
}
