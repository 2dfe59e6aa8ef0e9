/** `.prj/config.yaml`: validated against its schema, cached by file size and mtime. */
import * as path from "../util/path.ts";
import { fingerprint, readCache, writeCache } from "../util/cache.ts";
import { loadParser } from "../definitions/lazy_parser.ts";
import type { ProjectConfig } from "../definitions/schema.ts";

/** Loads `.prj/config.yaml` (missing file: all defaults). */
export async function loadConfig(prjDir: string): Promise<ProjectConfig> {
  const file = path.join(prjDir, "config.yaml");
  const key = fingerprint([file]);
  const cached = readCache<ProjectConfig>(prjDir, "config", key);
  if (cached) return cached;
  const { ProjectConfigSchema, readYamlFile, validate } = await loadParser();
  let config: ProjectConfig;
  try {
    await Deno.lstat(file); // a missing file means defaults; a broken link is an error below
    const source = await readYamlFile(file, ".prj/config.yaml");
    config = source.data === null || source.data === undefined
      ? ProjectConfigSchema.parse({})
      : validate(ProjectConfigSchema, source);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    config = ProjectConfigSchema.parse({});
  }
  writeCache(prjDir, "config", key, config);
  return config;
}
