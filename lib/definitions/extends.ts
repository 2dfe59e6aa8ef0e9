/** How `extends:` combines a command with its parent. */

/** Whether a value is a mapping (a plain object, not a list or null). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Merges a child definition over its parent: the child wins; mappings merge recursively;
 * lists (steps) are replaced; `arguments` merge by name (a child argument replaces the
 * parent's of the same name, in the parent's position; new ones are added at the end).
 *
 * @param parent the parent's fields (without its own `extends`)
 * @param child the child's fields
 * @returns a new object; neither input is changed
 */
export function mergeDefinitions(
  parent: Record<string, unknown>,
  child: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...parent };
  for (const [key, value] of Object.entries(child)) {
    const base = out[key];
    if (key === "arguments" && Array.isArray(base) && Array.isArray(value)) {
      const byName = new Map<string, unknown>(base.map((a) => [(a as { name: string }).name, a]));
      for (const a of value) byName.set((a as { name: string }).name, a);
      out[key] = [...byName.values()];
    } else if (isPlainObject(base) && isPlainObject(value)) out[key] = mergeDefinitions(base, value);
    else out[key] = value;
  }
  return out;
}
