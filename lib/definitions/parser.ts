/**
 * Reading and validating definition files: the heavy part of loading (the yaml parser and
 * the zod schemas), imported only when a file is not in the cache (see lib/util/lazy.ts).
 */
export { parseYamlBytes, readYamlFile } from "./yaml_source.ts";
export { validate } from "./validate.ts";
export { CommandFileSchema, ProjectConfigSchema } from "./_schemas.ts";
export { upgradeLegacy } from "./legacy.ts";
