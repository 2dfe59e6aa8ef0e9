/**
 * Imports a module of this package by a computed specifier. Deno loads every module that a
 * literal `import("...")` names when it starts, so the heavy parts (yaml, zod) are reached
 * only through this, keeping `prj --help` and library imports fast. The compiled binary
 * includes lib/ (see the compile task), so these modules are embedded there too.
 *
 * @param relative the module, relative to `base`
 * @param base the importing module's `import.meta.url`
 */
export function importLazy<T>(relative: string, base: string): Promise<T> {
  return import(new URL(relative, base).href) as Promise<T>;
}
