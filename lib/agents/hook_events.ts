/**
 * Receiving an agent's hook events. The hook prj installs for a launch is a /bin/sh one-liner
 * (cheap: it runs before the agent goes on) that saves the event's JSON payload as one file in
 * the launch's `events/` folder under `.prj/launch/`, where no sandboxed step can write, named
 * by the time it ran and its process id. prj reads those files when it samples the fleet,
 * stores the events in SQLite and removes the files.
 */
import * as path from "../util/path.ts";
import type { Store } from "../state/store.ts";
import { addHookEvents, getLaunch, type LaunchRecord, type NewHookEvent } from "../state/launches.ts";
import { shellQuote } from "../util/shell.ts";
import type { AgentKind } from "./kinds.ts";

/** One hook event as the hook saved it. */
export interface SavedHookEvent {
  /** The file's name (unique per launch; ingestion is keyed on it). */
  key: string;
  /** When the hook ran (ms since the epoch). */
  at: number;
  /** The payload, or undefined when it was not JSON. */
  payload: Record<string, unknown> | undefined;
}

/** The events folder of a launch folder. */
export function eventsDir(launchDir: string): string {
  return path.join(launchDir, "events");
}

/**
 * The shell command each hook runs: it writes the payload (stdin) to a temporary file and
 * renames it to `<ns since epoch>-<pid>.json`, so a reader never sees half an event and
 * concurrent hooks never mix. It always exits 0 (exit 2 would block the agent) and prints
 * nothing (a hook's output can be shown to the model).
 *
 * @param dir the events folder (created by the launcher)
 */
export function hookCommand(dir: string): string {
  const d = shellQuote(dir);
  return `t=$(date +%s%N); f=${d}/.$$.part; cat > "$f" && mv -f "$f" ${d}/"$t-$$.json"; exit 0`;
}

/** The events saved in a folder and not yet removed, oldest first. */
export function readHookEvents(dir: string): SavedHookEvent[] {
  const events: SavedHookEvent[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!entry.isFile || !entry.name.endsWith(".json")) continue;
    const file = path.join(dir, entry.name);
    let text: string;
    let at: number;
    try {
      text = Deno.readTextFileSync(file);
      // GNU date gives nanoseconds; where `%N` is not supported the file's time is used.
      const stamp = entry.name.match(/^(\d{19})-/)?.[1];
      at = stamp ? Number(BigInt(stamp) / 1_000_000n) : (Deno.statSync(file).mtime?.getTime() ?? Date.now());
    } catch {
      continue; // removed by another prj process meanwhile
    }
    let payload: Record<string, unknown> | undefined;
    try {
      const json = JSON.parse(text);
      if (json && typeof json === "object" && !Array.isArray(json)) payload = json;
    } catch { /* kept as an unreadable event */ }
    events.push({ key: entry.name, at, payload });
  }
  return events.sort((a, b) => a.at - b.at || a.key.localeCompare(b.key));
}

/** Removes event files once they are stored (a file already removed is fine). */
export function removeHookEvents(dir: string, keys: readonly string[]): void {
  for (const key of keys) {
    try {
      Deno.removeSync(path.join(dir, key));
    } catch { /* gone */ }
  }
}

/**
 * Stores the hook events a launch's agent reported since the last look (each once, however
 * many prj processes look at the same time) and removes their files.
 *
 * @returns the launch as stored now
 */
export function ingestHookEvents(store: Store, launch: LaunchRecord, kind: AgentKind): LaunchRecord {
  if (!launch.launch_dir) return launch;
  const dir = eventsDir(launch.launch_dir);
  const saved = readHookEvents(dir);
  if (saved.length === 0) return launch;
  const events: NewHookEvent[] = saved.map((e) => {
    const reading = e.payload ? kind.readHook(e.payload) : undefined;
    return {
      key: e.key,
      at: new Date(e.at).toISOString(),
      event: reading?.event ?? (e.payload ? String(e.payload.hook_event_name ?? "?") : "unreadable"),
      state: reading?.state ?? null,
      sessionId: reading?.sessionId ?? null,
      transcriptPath: reading?.transcriptPath ?? null,
      detail: reading?.detail ?? null,
      background: reading?.background ?? false,
    };
  });
  addHookEvents(store, launch.id, events);
  removeHookEvents(dir, saved.map((e) => e.key));
  return getLaunch(store, launch.id) ?? launch;
}
