import assert from "node:assert/strict";
import { parseDuration } from "./duration.ts";
import { UsageError } from "./errors.ts";

Deno.test("parseDuration() reads ms, s, m, h, d and w, with fractions", () => {
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("1.5m"), 90_000);
  assert.equal(parseDuration(" 12h "), 43_200_000);
  assert.equal(parseDuration("30d"), 2_592_000_000);
  assert.equal(parseDuration("2w"), 1_209_600_000);
});

Deno.test("parseDuration() refuses anything else, naming the flag", () => {
  for (const bad of ["30", "d", "-5s", "5 s", "1y"]) {
    assert.throws(
      () => parseDuration(bad, "--older-than"),
      (e) => e instanceof UsageError && e.message.startsWith("--older-than: expected a duration"),
      bad,
    );
  }
});
