/** Human durations: `30s`, `5m`, `12h`, `30d`, `2w`. */
import { UsageError } from "./errors.ts";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Parses a duration like `30d` or `90s` into milliseconds.
 *
 * @throws {UsageError} for anything else, naming the flag
 */
export function parseDuration(text: string, what = "duration"): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!m) {
    throw new UsageError(`${what}: expected a duration like 30s, 5m, 12h, 30d or 2w, found "${text}"`, {
      hint: "write a number and one unit: ms, s, m, h, d or w",
    });
  }
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  if (ms > MAX_MS) {
    throw new UsageError(`${what}: "${text}" is longer than a thousand years`, { hint: "give a shorter duration" });
  }
  return ms;
}

/** The longest duration taken: a thousand years, well inside what a date can hold. */
const MAX_MS = 1000 * 365.25 * 86_400_000;
