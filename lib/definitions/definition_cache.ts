/**
 * Loaded command definitions, kept in `.prj/cache/definitions.json` and keyed by the size and
 * modification time of every file they can depend on, so `prj run` neither parses YAML nor
 * loads the schema library when no definition changed.
 *
 * A definition is kept only when the files are older than a few seconds (a file written in the
 * same tick of the file system's clock as the one read could keep its time and size) and when
 * it survives JSON unchanged; a kept definition whose step module has gone is loaded again, so
 * the missing module is reported as before.
 */
import * as path from "../util/path.ts";
import { filesIn, fingerprint, readCache, writeCache } from "../util/cache.ts";
import { isFile } from "../util/fs.ts";
import type { Project } from "../project/project.ts";
import type { CommandDefinition } from "./schema.ts";
import { BUILTIN_STEP_NAMES, userStepPath } from "./steps.ts";

const NAME = "definitions";

/** Files changed less than this long ago are not trusted to show a later change in their time and size. */
const SETTLE_MS = 3000;

/** The definitions cached for the files as they are now. */
export interface DefinitionCache {
  /** The cached definition of a command, if there is one and its step modules are still there. */
  get(name: string): CommandDefinition | undefined;
  /** Keeps a definition that was just loaded (when its files have settled). */
  set(name: string, def: CommandDefinition): void;
}

/**
 * The project's definition cache. The key is taken before any definition is read, so a file
 * that changes while a command loads makes the next load miss.
 *
 * @param project the project
 */
export function definitionCache(project: Project): DefinitionCache {
  const files = [...filesIn(path.join(project.prjDir, "commands")), ...filesIn(path.join(project.prjDir, "steps"))];
  // Run from source, prj's own definition code and templates count too (they change without a new version).
  const code = import.meta.url.startsWith("file:")
    ? [
      ...filesIn(path.dirname(path.fileURLToPath(import.meta.url))),
      path.fileURLToPath(new URL("../../templates/commands.ts", import.meta.url)),
    ]
    : [];
  const key = fingerprint([...files, ...code]);
  let entries: Record<string, CommandDefinition> | undefined;
  const all = () => (entries ??= readCache<Record<string, CommandDefinition>>(project.prjDir, NAME, key) ?? {});
  return {
    get(name) {
      const def = Object.hasOwn(all(), name) ? all()[name] : undefined;
      if (def === undefined) return undefined;
      // The steps folder is in the key; a module in a folder below it is not.
      for (const file of stepModules(project, def)) if (!isFile(file)) return undefined;
      return def;
    },
    set(name, def) {
      if (!settled(files)) return;
      const copy = JSON.parse(JSON.stringify(def));
      if (!sameJson(copy, def)) return; // a value JSON would change (.inf, .nan, a date): not kept
      all()[name] = copy;
      writeCache(project.prjDir, NAME, key, all());
    },
  };
}

function settled(files: readonly string[]): boolean {
  const now = Date.now();
  for (const file of files) {
    try {
      if ((Deno.statSync(file).mtime?.getTime() ?? now) > now - SETTLE_MS) return false;
    } catch { /* gone: the key says so */ }
  }
  return true;
}

function stepModules(project: Project, def: CommandDefinition): string[] {
  return [...def.pre_steps, ...def.steps, ...def.post_steps, ...def.cleanup_on_failure]
    .flatMap((s) => (s.uses !== undefined && !BUILTIN_STEP_NAMES.includes(s.uses) ? [s.uses] : []))
    .map((uses) => userStepPath(project.prjDir, uses));
}

/** Whether `b` is what `a` (parsed from JSON) was made from: the same values, and no value JSON changes. */
function sameJson(a: unknown, b: unknown): boolean {
  if (typeof b === "number") return Object.is(a, b);
  if (b === null || typeof b !== "object") return a === b;
  if (a === null || typeof a !== "object" || Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(b)) {
    const list = a as unknown[];
    return b.length === list.length && b.every((v, i) => sameJson(list[i], v));
  }
  if (Object.getPrototypeOf(b) !== Object.prototype) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(y).filter((k) => y[k] !== undefined);
  return keys.length === Object.keys(x).length && keys.every((k) => sameJson(x[k], y[k]));
}
