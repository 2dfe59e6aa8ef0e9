/**
 * Finds the links in a step's granted folders that would let it act outside its grant, and
 * says what to deny so that they cannot.
 *
 * Deno checks a path as the step wrote it, not where a symlink that already exists leads,
 * and a step may rename anything it can write. So prj looks at every symlink and every
 * multiply-linked file in the granted folders before the step starts:
 *
 * - a link that is not in a writable folder cannot move: it is denied (read and write)
 *   when it leads outside the read grant, or onto something else that is denied;
 * - a link in a writable folder can be moved by the step, so every place it could lead
 *   after a move counts (a relative target that climbs with `..` can lead anywhere above
 *   the folder). When one of them is outside the grant, prj pins the link: it denies
 *   writing the top-level entry of the writable folder that holds it (so neither the link
 *   nor any folder above it can be renamed), and denies the link itself when where it
 *   leads now is outside;
 * - a file with more hard links than prj finds inside the writable folders shares its
 *   content with a file outside: it is pinned the same way (writing it would write there);
 * - a `.git` entry below a writable folder (a submodule's) is pinned and denied for writing.
 *
 * Denying only the link's own path would not be enough: renaming a folder above it gives
 * the same link a path that no rule names.
 */
import * as path from "../util/path.ts";
import { PrjError } from "../util/errors.ts";

/** A symlink found in a granted folder. */
export interface FoundLink {
  /** Where it is (its folder canonical, its own name kept). */
  path: string;
  /** Its target as stored (`readlink`). */
  target: string;
}

/** A regular file with more than one hard link, found in a writable folder. */
export interface FoundHardLink {
  /** Where it is (canonical). */
  path: string;
  /** Device and inode: the file's identity. */
  dev: number;
  ino: number;
  /** How many names the file has in all. */
  nlink: number;
}

/** What the scan of the granted folders found. */
export interface LinkScan {
  links: FoundLink[];
  hardLinks: FoundHardLink[];
  /** `.git` entries below the top of a writable folder (submodules). */
  gitEntries: string[];
}

/** The grant as canonical folders; `"all"` when the kind is granted without paths. */
export interface CanonicalGrant {
  read: string[] | "all";
  write: string[] | "all";
}

/** What prj denies so that the links found cannot be used, and why (for the step's log). */
export interface LinkDenials {
  /** Paths to deny reading (and writing). */
  denyRead: string[];
  /** Paths to deny writing: pinned top-level entries, denied links, hard links, `.git` entries. */
  denyWrite: string[];
  /** One line per link or file that caused a rule. */
  notes: string[];
  /** Why each denied path is denied, for the message a step gets when it runs into one. */
  why: Record<string, string>;
}

/** Whether `p` is `dir` or inside it (both absolute and normalised). */
export function within(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith("/") ? dir : dir + "/");
}

/** Whether one path is inside the other, or they are the same. */
function overlaps(a: string, b: string): boolean {
  return within(a, b) || within(b, a);
}

/** Drops the folders that are inside another one of the list. */
export function outermost(dirs: readonly string[]): string[] {
  const sorted = [...new Set(dirs)].sort((a, b) => a.length - b.length);
  const out: string[] = [];
  for (const d of sorted) if (!out.some((o) => within(d, o))) out.push(d);
  return out;
}

/** A relative link target, split into how far it climbs above its folder and the rest. */
export function climb(target: string): { up: number; rest: string } {
  let up = 0;
  const rest: string[] = [];
  for (const part of target.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (rest.length > 0) rest.pop();
      else up++;
    } else rest.push(part);
  }
  return { up, rest: rest.join("/") };
}

/**
 * Decides what to deny for the links a scan found.
 *
 * @param grant the canonical read and write folders
 * @param scan what the scan found
 * @param resolve where a path leads now: symlinks followed as far as they exist, the rest lexical
 * @param protectedWrite paths that are denied for writing whatever the grant (they count as denied
 *   when a link leads onto them)
 */
export function analyseLinks(
  grant: CanonicalGrant,
  scan: LinkScan,
  resolve: (p: string) => string,
  protectedWrite: readonly string[] = [],
): LinkDenials {
  const writeRoots = grant.write === "all" ? [] : outermost(grant.write);
  const readRoots = grant.read === "all" ? [] : outermost(grant.read);
  const readable = (p: string) => grant.read === "all" || readRoots.some((r) => within(p, r));
  const writable = (p: string) => grant.write === "all" || writeRoots.some((w) => within(p, w));
  const denyRead = new Set<string>();
  const denyWrite = new Set<string>();
  const pinned = new Set<string>();
  const notes: string[] = [];
  const why: Record<string, string> = {};
  /** The top-level entry of the writable folder that holds `p` (undefined outside them, or for the folder itself). */
  const topOf = (p: string): string | undefined => {
    const root = writeRoots.find((w) => within(p, w));
    return root === undefined || p === root ? undefined : path.join(root, path.relative(root, p).split("/")[0]!);
  };
  /** Makes `p` and every folder above it (inside the writable folder) impossible to rename or write. */
  const pin = (p: string): void => {
    const top = topOf(p);
    if (top !== undefined && !pinned.has(top)) {
      pinned.add(top);
      denyWrite.add(top);
      why[top] ??= `it holds ${p}, which must stay where it is`;
    }
  };
  /** Why reaching `p` through a link would get past a rule, if it would. */
  const badFor = (p: string, viaReadable: boolean, viaWritable: boolean): string | undefined => {
    if (viaReadable && !readable(p)) return "outside the read grant";
    if (viaWritable && !writable(p)) return "outside the write grant";
    if (viaReadable && [...denyRead].some((d) => overlaps(p, d))) return "onto a denied path";
    if (viaWritable && [...denyWrite, ...protectedWrite].some((d) => overlaps(p, d))) {
      return "onto a path steps may not write";
    }
    return undefined;
  };

  for (const entry of scan.gitEntries) {
    pin(entry);
    denyWrite.add(entry);
    why[entry] = "it is a .git entry: git would run what its config says";
    notes.push(`${entry}: a .git entry, not writable`);
  }
  // Every name of a multiply-linked file must be inside the writable folders, or writing it writes outside.
  const names = new Map<string, number>();
  for (const h of scan.hardLinks) names.set(`${h.dev}:${h.ino}`, (names.get(`${h.dev}:${h.ino}`) ?? 0) + 1);
  for (const h of scan.hardLinks) {
    if ((names.get(`${h.dev}:${h.ino}`) ?? 0) >= h.nlink) continue;
    pin(h.path);
    denyWrite.add(h.path);
    why[h.path] = "it is a hard link to a file outside the write grant";
    notes.push(`${h.path}: shares its content with a file outside the write grant (hard link), not writable`);
  }

  // A denial can make another link bad (one that leads onto it), so repeat until nothing changes.
  const denied = new Set<string>();
  for (let changed = true; changed;) {
    changed = false;
    for (const link of scan.links) {
      if (denied.has(link.path)) continue;
      const viaReadable = readable(link.path);
      const top = topOf(link.path);
      // Inside a pinned entry the link's own path cannot be written, so it cannot be written through.
      const viaWritable = writable(link.path) && (top === undefined || !pinned.has(top));
      if (top !== undefined && !pinned.has(top)) {
        // The step may move this link: every place a move could make it lead counts.
        let moved: string | undefined;
        if (!path.isAbsolute(link.target)) {
          const { up, rest } = climb(link.target);
          if (up > 0) moved = `its target "${link.target}" climbs out of its folder`;
          else {
            moved = writeRoots.map((root) => badFor(resolve(path.join(root, rest)), viaReadable, viaWritable))
              .find((v) => v !== undefined);
          }
        }
        if (moved !== undefined) {
          pin(link.path);
          changed = true;
          notes.push(`${link.path} -> ${link.target}: a move could make it lead elsewhere (${moved}); ${top} pinned`);
        }
      }
      const bad = badFor(resolve(link.path), viaReadable, viaWritable && !pinned.has(top ?? ""));
      if (bad !== undefined) {
        denied.add(link.path);
        denyRead.add(link.path);
        denyWrite.add(link.path);
        why[link.path] = `it is a link that leads ${bad} (to "${link.target}")`;
        pin(link.path);
        changed = true;
        notes.push(`${link.path} -> ${link.target}: leads ${bad}; denied`);
      }
    }
  }
  return { denyRead: [...denyRead].sort(), denyWrite: [...denyWrite].sort(), notes, why };
}

/**
 * Where a path leads now: symlinks followed as far as the path exists, the rest taken as written.
 *
 * @example
 * ```ts
 * import { resolveLoose } from "./links.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = Deno.realPathSync(Deno.makeTempDirSync());
 * Deno.symlinkSync("/", `${dir}/root`);
 * assert.equal(resolveLoose(`${dir}/root/no/such/file`), "/no/such/file");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function resolveLoose(p: string): string {
  const rest: string[] = [];
  let head = path.resolve(p);
  for (;;) {
    try {
      return path.join(Deno.realPathSync(head), ...rest.reverse());
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return path.resolve(p);
      rest.push(path.basename(head));
      head = parent;
    }
  }
}

/**
 * Walks a folder as `find -P` would (links are never followed; git's object store, which holds
 * nothing a step could use and is large, is skipped) and collects what a rule looks at: every
 * symlink, and with `writable` also every `.git` entry and every regular file with more than one
 * hard link. Folders in `skip` are not entered (they are scanned on their own). In prj's own
 * process: the file type comes with each folder's listing, so only files in writable folders are
 * stat'ed, and no program is started.
 */
function walk(dir: string, writable: boolean, skip: readonly string[], out: string[]): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return; // unreadable, or gone: as find, go on with the rest
  }
  for (const entry of entries) {
    const p = dir === "/" ? `/${entry.name}` : `${dir}/${entry.name}`;
    if (p.endsWith("/.git/objects")) continue;
    if (entry.isSymlink) {
      out.push(p);
      continue;
    }
    if (writable && entry.name === ".git") out.push(p);
    if (entry.isDirectory) {
      if (!skip.includes(p)) walk(p, writable, skip, out);
    } else if (writable && entry.isFile) {
      let nlink = 1;
      try {
        nlink = Deno.lstatSync(p).nlink ?? 1;
      } catch { /* gone */ }
      if (nlink > 1) out.push(p);
    }
  }
}

/**
 * What {@link walk} finds in writable folders, found by `find -P` in a process of its own: used
 * for writable checkouts (a worktree), where every one of thousands of files is stat'ed for its
 * link count, which find does about twice as fast, and meanwhile prj walks the other folders.
 */
async function findInWritable(roots: readonly string[]): Promise<string[]> {
  if (roots.length === 0) return [];
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("find", {
      args: [
        "-P",
        ...roots,
        "-path",
        "*/.git/objects",
        "-prune",
        "-o",
        "(",
        "-type",
        "l",
        "-o",
        "-name",
        ".git",
        "-o",
        "-type",
        "f",
        "-links",
        "+1",
        ")",
        "-print0",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new PrjError("Sandboxed steps need the `find` program (to look for links in the granted folders)", {
      hint: "install findutils",
    });
  }
  return new TextDecoder().decode(out.stdout).split("\0").filter((s) => s !== "");
}

/**
 * Lists the symlinks in the granted folders, and in the writable ones the multiply-linked
 * files and the `.git` entries below their top level.
 *
 * @param readRoots canonical read folders to look in
 * @param writeRoots canonical write folders to look in
 * @param skipRead folders in the read folders not to look in (the step may not read them)
 */
export async function scanLinks(
  readRoots: readonly string[],
  writeRoots: readonly string[],
  skipRead: readonly string[] = [],
): Promise<LinkScan> {
  const existing = (dirs: readonly string[]) =>
    outermost(dirs).filter((d) => {
      try {
        return Deno.lstatSync(d).isDirectory;
      } catch {
        return false;
      }
    });
  const writes = existing(writeRoots);
  const reads = existing(readRoots).filter((r) => !writes.some((w) => within(r, w)));
  const checkout = (dir: string) => {
    try {
      Deno.lstatSync(path.join(dir, ".git"));
      return true;
    } catch {
      return false;
    }
  };
  const finding = findInWritable(writes.filter(checkout)); // find starts now and works while prj walks the rest
  const readFound: string[] = [];
  const writeFound: string[] = [];
  for (const root of reads) walk(root, false, [...writes, ...skipRead], readFound);
  for (const root of writes.filter((w) => !checkout(w))) walk(root, true, [], writeFound);
  writeFound.push(...await finding);
  const scan: LinkScan = { links: [], hardLinks: [], gitEntries: [] };
  const inWrite = (p: string) => writes.some((w) => within(p, w));
  for (const p of [...readFound.filter((p) => !inWrite(p)), ...writeFound]) {
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(p);
    } catch {
      continue; // gone since it was seen
    }
    const root = writes.find((w) => within(p, w));
    if (root !== undefined && path.basename(p) === ".git" && path.dirname(p) !== root) scan.gitEntries.push(p);
    if (info.isSymlink) scan.links.push({ path: p, target: Deno.readLinkSync(p) });
    else if (root !== undefined && info.isFile && (info.nlink ?? 1) > 1) {
      scan.hardLinks.push({ path: p, dev: info.dev ?? 0, ino: info.ino ?? 0, nlink: info.nlink ?? 1 });
    }
  }
  return scan;
}
