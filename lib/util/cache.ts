/**
 * A small file cache under `.prj/cache/` for parsed definitions, keyed by the size and
 * modification time of the files they came from (and prj's version), so `prj list` and
 * config loading skip the YAML parser and schema checks when nothing changed.
 */
import * as path from "./path.ts";
import { VERSION } from "./version.ts";

/** A fingerprint of files: name, size and mtime of each (missing files count too). */
export function fingerprint(files: readonly string[]): string {
  const parts = [VERSION];
  for (const file of files) {
    try {
      const info = Deno.statSync(file);
      parts.push(`${file}:${info.size}:${info.mtime?.getTime() ?? 0}`);
    } catch {
      parts.push(`${file}:-`);
    }
  }
  return parts.join("|");
}

/** The files of a folder (sorted, full paths); empty when it does not exist. */
export function filesIn(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].filter((e) => e.isFile || e.isSymlink).map((e) => path.join(dir, e.name)).sort();
  } catch {
    return [];
  }
}

/** The cached value for `name` if its key matches. */
export function readCache<T>(prjDir: string, name: string, key: string): T | undefined {
  try {
    const entry = JSON.parse(Deno.readTextFileSync(path.join(prjDir, "cache", `${name}.json`)));
    return entry?.key === key ? entry.value as T : undefined;
  } catch {
    return undefined;
  }
}

/** Stores a value (atomically; a failure to write is ignored: the cache is only a speed-up). */
export function writeCache(prjDir: string, name: string, key: string, value: unknown): void {
  try {
    const dir = path.join(prjDir, "cache");
    Deno.mkdirSync(dir, { recursive: true });
    const tmp = path.join(dir, `${name}.json.${Deno.pid}.tmp`);
    Deno.writeTextFileSync(tmp, JSON.stringify({ key, value }));
    Deno.renameSync(tmp, path.join(dir, `${name}.json`));
  } catch { /* read-only project, full disk: run without the cache */ }
}
