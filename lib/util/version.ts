/** prj's version (kept equal to deno.json's by a test).
 * @example
 * ```ts
 * import { VERSION } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * assert.match(VERSION, /^\d+\.\d+\.\d+$/);
 * ```
 */
export const VERSION = "0.1.0";
