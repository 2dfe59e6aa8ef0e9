/** Ports: each worktree prj makes gets a slot, and `PRJ_PORT = port_base + slot * port_stride`. */
import type { Project } from "../project/project.ts";
import type { Store } from "../state/store.ts";
import { findWorktreeRecord } from "../state/worktrees.ts";

/**
 * `PRJ_PORT` for a slot.
 *
 * @example
 * ```ts
 * import { portOf } from "./ports.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(portOf({ port_base: 3000, port_stride: 10 }, 2), 3020);
 * ```
 */
export function portOf(config: { port_base: number; port_stride: number }, slot: number): number {
  return config.port_base + slot * config.port_stride;
}

/** `PRJ_PORT` for a slot of this project. */
export function portFor(project: Project, slot: number): number {
  return portOf(project.config.worktree, slot);
}

/** The port of a prj worktree (by name or path), from the database alone (no git), or null when prj did not create it. */
export function worktreePort(
  project: Project,
  store: Store,
  worktree: { name: string } | { path: string },
): number | null {
  const row = findWorktreeRecord(store, worktree);
  return row ? portFor(project, row.port_slot) : null;
}
