/** `key=value` pairs -> typed argument values, checked against a command's declarations. */
import * as path from "../util/path.ts";
import { UsageError } from "../util/errors.ts";
import type { ArgumentDef, CommandDefinition } from "./schema.ts";
import { didYouMean } from "../util/suggest.ts";

const TRUE = new Set(["true", "yes", "on", "1"]);
const FALSE = new Set(["false", "no", "off", "0"]);

function coerce(def: ArgumentDef, raw: string | number | boolean, command: string, cwd: string): unknown {
  const where = `argument "${def.name}" of "${command}"`;
  let value: unknown;
  switch (def.type) {
    case "number": {
      const n = typeof raw === "number" ? raw : String(raw).trim() === "" ? NaN : Number(raw);
      if (!Number.isFinite(n)) throw new UsageError(`${where}: expected a number, found "${raw}"`);
      value = n;
      break;
    }
    case "boolean": {
      if (typeof raw === "boolean") value = raw;
      else if (TRUE.has(String(raw).toLowerCase())) value = true;
      else if (FALSE.has(String(raw).toLowerCase())) value = false;
      else throw new UsageError(`${where}: expected true or false, found "${raw}"`);
      break;
    }
    case "path":
      value = path.resolve(cwd, String(raw));
      break;
    default:
      value = String(raw);
  }
  if (def.choices && !def.choices.some((c) => String(c) === String(value))) {
    throw new UsageError(
      `${where}: "${raw}" is not one of ${def.choices.map((c) => `"${c}"`).join(", ")}${
        didYouMean(String(raw), def.choices.map(String))
      }`,
    );
  }
  return value;
}

/**
 * Parses `key=value` pairs against a command's arguments.
 *
 * @param command the command definition
 * @param pairs the `key=value` strings as typed
 * @param cwd the directory `path` arguments are relative to
 * @returns every declared argument that has a value (given or default)
 * @throws {UsageError} for a malformed pair, an unknown key, a bad value, or missing required arguments (all listed)
 * @example
 * ```ts
 * import { initProject, loadCommand, openProject, parseArguments } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await initProject(dir);
 * const command = await loadCommand(await openProject(dir), "feature-branch");
 * const args = parseArguments(command, ["feature_name=login", "headless=yes"], dir);
 * assert.equal(args.feature_name, "login");
 * assert.equal(args.headless, true);
 * assert.throws(() => parseArguments(command, [], dir), /Missing required argument/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function parseArguments(
  command: CommandDefinition,
  pairs: readonly string[],
  cwd: string,
): Record<string, unknown> {
  const defs = new Map(command.arguments.map((a) => [a.name, a]));
  const given = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      throw new UsageError(`Expected key=value, found "${pair}"`, {
        hint: `arguments of "${command.name}": ${[...defs.keys()].join(", ") || "(none)"}`,
      });
    }
    const key = pair.slice(0, eq);
    if (!defs.has(key)) {
      throw new UsageError(
        `Unknown argument "${key}" for "${command.name}"${didYouMean(key, defs.keys())}`,
        { hint: `its arguments: ${[...defs.keys()].join(", ") || "(none)"}; see \`prj show ${command.name}\`` },
      );
    }
    if (given.has(key)) throw new UsageError(`Argument "${key}" is given twice`);
    given.set(key, pair.slice(eq + 1));
  }
  const values: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const def of command.arguments) {
    const raw = given.get(def.name);
    if (raw !== undefined) values[def.name] = coerce(def, raw, command.name, cwd);
    else if (def.default !== undefined) values[def.name] = coerce(def, def.default, command.name, cwd);
    else if (def.required) missing.push(def.name);
  }
  if (missing.length > 0) {
    throw new UsageError(
      `Missing required argument${missing.length > 1 ? "s" : ""} for "${command.name}": ${missing.join(", ")}`,
      { hint: `pass them as ${missing.map((m) => `${m}=...`).join(" ")}` },
    );
  }
  return values;
}
