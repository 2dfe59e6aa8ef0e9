/** The time as prj stores it: ISO 8601 in UTC. */

/** The current time as an ISO string (`2026-11-20T21:56:00.000Z`). */
export function now(): string {
  return new Date().toISOString();
}
