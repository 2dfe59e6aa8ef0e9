import assert from "node:assert/strict";
import { portOf } from "./ports.ts";

Deno.test("portOf() spaces worktrees by the stride from the base, slot 1 first", () => {
  const config = { port_base: 3000, port_stride: 10 };
  assert.deepEqual([1, 2, 3].map((slot) => portOf(config, slot)), [3010, 3020, 3030]);
  assert.equal(portOf({ port_base: 8000, port_stride: 100 }, 4), 8400);
});
