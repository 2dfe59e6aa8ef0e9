/**
 * Work in flight, recorded before it makes anything, so that what a dead prj process left
 * half-made is found and finished or undone by the next one (see lib/workspace/reconcile.ts).
 *
 * Each piece of work (creating or removing a worktree, a run) is two files in
 * `.prj/journal/`: `<id>.json`, what it is about to make (names, paths, branch, how far it
 * got), replaced atomically as it goes; and `<id>.lock`, which the process doing the work holds
 * an exclusive lock on for as long as it lives. The kernel drops that lock when the process
 * ends in any way (exit, crash, kill -9; a zombie holds no lock), so "its lock can be taken"
 * is exactly "the process that did this is gone", with no pid that could be reused. Whoever
 * takes the lock owns the leftover work until it is done; if that process dies too, the next
 * one takes it over.
 */
import * as path from "../util/path.ts";
import { thisProcess } from "../util/liveness.ts";
import { now } from "../util/time.ts";

/** What a journal entry is about. */
export type IntentKind = "worktree-create" | "worktree-remove" | "run";

/** A journal entry: what a process is about to make, and how far it got. */
export interface IntentRecord {
  /** The entry's id (its file names). */
  id: string;
  /** What it is about. */
  kind: IntentKind;
  /** The process that started it. */
  pid: number;
  /** That process's start time. */
  pidStart: string | null;
  /** Its host. */
  host: string;
  /** ISO time it started. */
  startedAt: string;
  /** How far it got (each kind names its own stages). */
  stage: string;
  /** The worktree's name. */
  name?: string | undefined;
  /** The worktree's folder. */
  path?: string | undefined;
  /** The worktree's branch. */
  branch?: string | undefined;
  /** Whether the branch is made by this work (so undoing it deletes the branch). */
  newBranch?: boolean | undefined;
  /** The tmux session it makes (recorded before it is made). */
  session?: string | undefined;
  /** A removal: whether the branch goes too. */
  deleteBranch?: boolean | undefined;
  /** A program started for it (a setup command): the leader of its process group. */
  child?: { pid: number; start: string | null } | null | undefined;
  /** The run it belongs to (a run entry, or a worktree the run makes). */
  runId?: string | undefined;
}

/** The fields a new entry is given (the process fields are filled in). */
export type NewIntent = Omit<IntentRecord, "id" | "pid" | "pidStart" | "host" | "startedAt">;

/** The journal folder of a project. */
export function journalDir(prjDir: string): string {
  return path.join(prjDir, "journal");
}

/** Whether the journal holds anything at all (cheap: one listing; most of the time it is empty). */
export function hasJournalEntries(prjDir: string): boolean {
  try {
    for (const _ of Deno.readDirSync(journalDir(prjDir))) return true;
  } catch { /* no journal yet */ }
  return false;
}

function newId(kind: IntentKind): string {
  return `${kind}-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
}

/** A journal entry held by this process: update it as the work goes, and mark it done at the end. */
export class Intent {
  #dir: string;
  #lock: Deno.FsFile | undefined;
  #record: IntentRecord;

  private constructor(dir: string, lock: Deno.FsFile, record: IntentRecord) {
    this.#dir = dir;
    this.#lock = lock;
    this.#record = record;
  }

  /**
   * Records new work before anything is made: takes the entry's lock, then writes what it is.
   *
   * @throws when the entry cannot be written (a full disk, a read-only project): nothing is made then
   */
  static begin(prjDir: string, fields: NewIntent): Intent {
    const dir = journalDir(prjDir);
    Deno.mkdirSync(dir, { recursive: true });
    const me = thisProcess();
    const record: IntentRecord = {
      ...fields,
      id: newId(fields.kind),
      pid: me.pid,
      pidStart: me.pidStart,
      host: me.host,
      startedAt: now(),
    };
    // The lock first, taken under a private name and then renamed into place (the lock stays
    // with the file): an entry is never visible without its owner holding its lock.
    const lockFile = path.join(dir, `${record.id}.lock`);
    const fresh = `${lockFile}.${Deno.pid}.new`;
    const lock = Deno.openSync(fresh, { create: true, write: true });
    try {
      lock.lockSync(true);
      Deno.renameSync(fresh, lockFile);
      const intent = new Intent(dir, lock, record);
      intent.#write();
      return intent;
    } catch (error) {
      lock.close();
      removeQuietly(fresh);
      removeQuietly(lockFile);
      throw error;
    }
  }

  /** @internal An entry whose process is gone, now held by this one. */
  static adopt(dir: string, lock: Deno.FsFile, record: IntentRecord): Intent {
    return new Intent(dir, lock, record);
  }

  /** What the entry says. */
  get record(): Readonly<IntentRecord> {
    return this.#record;
  }

  /** Records progress (written atomically: a crash leaves the old or the new record, never half of one). */
  update(fields: Partial<NewIntent>): void {
    this.#record = { ...this.#record, ...fields };
    this.#write();
  }

  /** The work is complete (or fully undone): the entry goes. */
  done(): void {
    removeQuietly(path.join(this.#dir, `${this.#record.id}.json`));
    this.#release(true);
  }

  /**
   * Lets the entry go without finishing it: the next prj command finds it and finishes or
   * undoes the work (used when this process cannot do it now, e.g. on a full disk).
   */
  abandon(): void {
    this.#release(false);
  }

  #release(remove: boolean): void {
    if (!this.#lock) return;
    // Remove the lock file while still holding it, so no other process locks a file that is about to go.
    if (remove) removeQuietly(path.join(this.#dir, `${this.#record.id}.lock`));
    try {
      this.#lock.close();
    } catch { /* closed */ }
    this.#lock = undefined;
  }

  #write(): void {
    const file = path.join(this.#dir, `${this.#record.id}.json`);
    const tmp = `${file}.${Deno.pid}.tmp`;
    try {
      Deno.writeTextFileSync(tmp, JSON.stringify(this.#record) + "\n");
      Deno.renameSync(tmp, file);
    } catch (error) {
      removeQuietly(tmp);
      throw error;
    }
  }
}

function removeQuietly(file: string): void {
  try {
    Deno.removeSync(file);
  } catch { /* gone */ }
}

/**
 * The journal entries whose process is gone, each now held by this process (finish or undo
 * the work, then call `done()`). Entries whose process still runs are left alone, as are
 * entries another process is already taking care of. Oldest first.
 *
 * @param kinds only entries of these kinds (all when absent)
 */
export function orphanIntents(prjDir: string, kinds?: readonly IntentKind[]): Intent[] {
  const dir = journalDir(prjDir);
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch {
    return [];
  }
  sweepTemporaries(dir, names);
  const out: Intent[] = [];
  const ids = new Set(names.filter((n) => n.endsWith(".lock")).map((n) => n.slice(0, -".lock".length)));
  for (const id of [...ids].sort(byTime)) {
    if (kinds && !kinds.some((k) => id.startsWith(`${k}-`))) continue;
    let lock: Deno.FsFile;
    try {
      // Never create it: a lock file that is gone belongs to work that was just completed.
      lock = Deno.openSync(path.join(dir, `${id}.lock`), { read: true, write: true });
    } catch {
      continue;
    }
    let locked = false;
    try {
      locked = lock.tryLockSync(true);
    } catch { /* treat as held */ }
    if (!locked) {
      lock.close();
      continue;
    }
    // Its process is gone: a record it was writing when it died is garbage.
    for (const name of names) {
      if (name.startsWith(`${id}.json.`) && name.endsWith(".tmp")) removeQuietly(path.join(dir, name));
    }
    let record: IntentRecord | undefined;
    try {
      record = JSON.parse(Deno.readTextFileSync(path.join(dir, `${id}.json`))) as IntentRecord;
    } catch {
      record = undefined;
    }
    if (record === undefined || record.id !== id) {
      // Its process died before it wrote what it was about to do (so it made nothing), or it
      // had just completed the work: only the lock file is left.
      removeQuietly(path.join(dir, `${id}.json`));
      removeQuietly(path.join(dir, `${id}.lock`));
      lock.close();
      continue;
    }
    out.push(Intent.adopt(dir, lock, record));
  }
  return out;
}

/** Removes what a process that died while writing an entry left: an unlocked new lock file, an old temporary record. */
function sweepTemporaries(dir: string, names: string[]): void {
  for (const name of names) {
    const file = path.join(dir, name);
    if (name.endsWith(".new")) {
      try {
        const f = Deno.openSync(file, { read: true, write: true });
        try {
          if (f.tryLockSync(true)) removeQuietly(file);
        } finally {
          f.close();
        }
      } catch { /* gone */ }
    } else if (name.endsWith(".tmp")) {
      try {
        if (Date.now() - (Deno.statSync(file).mtime?.getTime() ?? Date.now()) > 60_000) removeQuietly(file);
      } catch { /* gone */ }
    }
  }
}

/** Whether any journal entry (of these kinds) is held by a live process: work in flight. */
export function liveIntents(prjDir: string, kinds?: readonly IntentKind[]): IntentRecord[] {
  const dir = journalDir(prjDir);
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".json"));
  } catch {
    return [];
  }
  const out: IntentRecord[] = [];
  for (const name of names) {
    const id = name.slice(0, -".json".length);
    if (kinds && !kinds.some((k) => id.startsWith(`${k}-`))) continue;
    let lock: Deno.FsFile;
    try {
      lock = Deno.openSync(path.join(dir, `${id}.lock`), { read: true });
    } catch {
      continue;
    }
    try {
      let free = false;
      try {
        free = lock.tryLockSync(false);
      } catch { /* held */ }
      if (free) continue; // nobody holds it: not live (an orphan for the reconciler)
      try {
        out.push(JSON.parse(Deno.readTextFileSync(path.join(dir, name))) as IntentRecord);
      } catch { /* completed meanwhile */ }
    } finally {
      lock.close();
    }
  }
  return out;
}

function byTime(a: string, b: string): number {
  const t = (id: string) => parseInt(id.split("-").at(-2) ?? "0", 36);
  return t(a) - t(b) || a.localeCompare(b);
}
