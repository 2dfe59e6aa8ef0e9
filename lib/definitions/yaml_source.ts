/** Reads YAML files with positions, so every definition error can name file:line:column. */
import { type Document, isMap, isNode, isPair, isSeq, LineCounter, parseDocument } from "npm:yaml@2.9.1";
import { DefinitionError } from "../util/errors.ts";

/** Definition files larger than this are refused. */
export const MAX_DEFINITION_BYTES = 1024 * 1024;

/** A parsed YAML file that remembers where each value came from. */
export interface YamlSource {
  /** The file name used in messages. */
  file: string;
  /** The parsed data. */
  data: unknown;
  /** Finds the line and column of the value (or, with `key`, the key) at a path. */
  locate(path: readonly PropertyKey[], key?: boolean): { line: number; column: number };
  /**
   * Changes the document in place (what the change leaves alone keeps its position), then reads
   * `data` from it again; returns what `change` returns.
   */
  edit<T>(change: (doc: Document) => T): T;
}

/** Formats a field path the way users write it: `steps[2].timeout`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out === "" ? "(top level)" : out;
}

/**
 * Reads and parses a YAML file, refusing oversized, non-UTF-8 and malformed input.
 *
 * @param path the file to read
 * @param display the name to use in messages (usually relative to the project)
 * @throws {DefinitionError} for any problem with the file, positioned where possible
 */
export async function readYamlFile(path: string, display: string): Promise<YamlSource> {
  let bytes: Uint8Array;
  try {
    // The type first: reading a FIFO would wait forever, a device may never end.
    const info = await Deno.stat(path);
    if (!info.isFile) throw new DefinitionError(display, 0, 0, notAFile(info));
    if (info.size > MAX_DEFINITION_BYTES) {
      throw new DefinitionError(
        display,
        0,
        0,
        `file is ${info.size} bytes; definitions are limited to 1 MiB (${MAX_DEFINITION_BYTES} bytes)`,
      );
    }
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof DefinitionError) throw error;
    throw new DefinitionError(display, 0, 0, unreadable(path, error));
  }
  return parseYamlBytes(bytes, display);
}

function notAFile(info: Deno.FileInfo): string {
  const what = info.isDirectory
    ? "a folder"
    : info.isFifo
    ? "a FIFO (named pipe)"
    : info.isCharDevice || info.isBlockDevice
    ? "a device"
    : info.isSocket
    ? "a socket"
    : "not a regular file";
  return `is ${what}, not a YAML file; remove it or put a YAML file there`;
}

/** Why a definition file could not be read, and what to do, in one line. */
function unreadable(path: string, error: unknown): string {
  let link: string | undefined;
  try {
    if (Deno.lstatSync(path).isSymlink) link = Deno.readLinkSync(path);
  } catch { /* not a link, or gone */ }
  if (error instanceof Deno.errors.NotFound) {
    return link === undefined
      ? "file not found"
      : `is a symbolic link to "${link}", which does not exist; fix or remove the link`;
  }
  if (error instanceof Deno.errors.FilesystemLoop || /os error 40\b/.test(String(error))) {
    return `is a symbolic link that leads back to itself ("${link ?? "?"}"); fix or remove the link`;
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return `cannot be read (permission denied${
      link === undefined ? "" : ` on "${link}", where the link leads`
    }); give prj's user read access (chmod u+r)`;
  }
  return `cannot be read (${(error as Error).message}); check the file`;
}

/**
 * Parses YAML bytes (see {@link readYamlFile}).
 *
 * @throws {DefinitionError} for non-UTF-8 bytes, syntax errors, duplicate keys and alias bombs
 */
export function parseYamlBytes(bytes: Uint8Array, display: string): YamlSource {
  if (bytes.length > MAX_DEFINITION_BYTES) {
    throw new DefinitionError(display, 0, 0, "file is larger than 1 MiB; definitions are limited to 1 MiB");
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    const before = new TextDecoder().decode(bytes.subarray(0, offset));
    const lines = before.split("\n");
    throw new DefinitionError(
      display,
      lines.length,
      lines[lines.length - 1]!.length + 1,
      `invalid UTF-8 byte 0x${bytes[offset]!.toString(16).padStart(2, "0")}; save the file as UTF-8`,
    );
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, version: "1.2" });
  const locateOffset = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  const firstError = doc.errors[0];
  if (firstError) {
    const { line, column } = locateOffset(firstError.pos[0]);
    const message = firstError.code === "DUPLICATE_KEY"
      ? "duplicate key; each key may appear once in a mapping"
      : `YAML syntax error: ${firstError.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`;
    throw new DefinitionError(display, line, column, message);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new DefinitionError(
      display,
      0,
      0,
      `YAML aliases expand too far (${(error as Error).message}); remove the repeated aliases`,
    );
  }
  const locate = (path: readonly PropertyKey[], key = false) => {
    let node: unknown = doc.contents;
    let range: readonly number[] | null | undefined = (doc.contents as { range?: number[] } | null)?.range;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) =>
          isPair(p) && (isNode(p.key) ? (p.key as { value?: unknown }).value : p.key) === segment
        );
        if (!pair) break;
        if (last && key && isNode(pair.key)) {
          range = pair.key.range;
          break;
        }
        node = pair.value;
        if (isNode(node)) range = node.range;
      } else if (isSeq(node) && typeof segment === "number") {
        node = node.items[segment];
        if (isNode(node)) range = node.range;
        else break;
      } else break;
    }
    return range ? locateOffset(range[0]!) : { line: 1, column: 1 };
  };
  const source: YamlSource = {
    file: display,
    data,
    locate,
    edit: (change) => {
      const result = change(doc);
      source.data = doc.toJS({ maxAliasCount: 100 });
      return result;
    },
  };
  return source;
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  let lo = 0;
  let hi = bytes.length;
  // Binary search for the shortest failing prefix; streaming mode lets a prefix end in
  // the middle of a valid sequence without failing.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, mid + 1), { stream: true });
      lo = mid + 1;
    } catch {
      hi = mid;
    }
  }
  let at = Math.min(lo, bytes.length - 1);
  // The failing byte may end a sequence whose lead byte came earlier (e.g. 0xe9 then
  // "\n"): point at the lead byte, where the bad sequence starts.
  let k = at - 1;
  while (k >= 0 && at - k <= 3 && (bytes[k]! & 0xc0) === 0x80) k--;
  if (k >= 0 && at - k <= 3 && bytes[k]! >= 0xc0) at = k;
  return at;
}
