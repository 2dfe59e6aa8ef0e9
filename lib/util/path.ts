/**
 * POSIX path helpers and file: URL conversions with the behaviour of `node:path` (its posix
 * flavour) and `node:url`, for the parts prj uses. They exist because importing `node:path` or
 * `node:url` loads Deno's Node compatibility layer, about 10 ms of CPU at the start of every prj
 * process. prj runs only where tmux does (Linux, macOS), so POSIX paths are all it needs.
 *
 * lib/util/path_test.ts checks every function against `node:path` and `node:url`.
 */

/** The separator between the segments of a path: `/`. */
export const sep = "/";

/** The separator between the entries of a list of paths such as `PATH`: `:`. */
export const delimiter = ":";

/**
 * Resolves `.` and `..` segments and repeated separators of `p` without leaving it absolute or
 * relative: `..` stops at the root of an absolute path and is kept at the start of a relative one.
 * Returns the segments, with no empty ones.
 */
function collapse(p: string, absolute: boolean): string[] {
  const out: string[] = [];
  for (const segment of p.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!absolute) out.push("..");
    } else {
      out.push(segment);
    }
  }
  return out;
}

/** Whether `p` is absolute, that is starts with `/`. */
export function isAbsolute(p: string): boolean {
  return p.startsWith("/");
}

/**
 * `p` with `.` and `..` segments resolved and repeated separators made one, keeping one trailing
 * separator if `p` had one. The empty path becomes `.`.
 */
export function normalize(p: string): string {
  if (p === "") return ".";
  const absolute = isAbsolute(p);
  const body = collapse(p, absolute).join("/");
  const trailing = p.endsWith("/");
  if (absolute) return "/" + body + (trailing && body !== "" ? "/" : "");
  if (body === "") return trailing ? "./" : ".";
  return trailing ? body + "/" : body;
}

/** The non-empty `parts` joined by `/` and normalized; `.` when none is left. */
export function join(...parts: string[]): string {
  const joined = parts.filter((p) => p !== "").join("/");
  return joined === "" ? "." : normalize(joined);
}

/**
 * The absolute, normalized path `parts` lead to, read from right to left until one is absolute,
 * starting from `Deno.cwd()` if none is. Has no trailing separator except for the root.
 */
export function resolve(...parts: string[]): string {
  let joined = "";
  for (let i = parts.length - 1; i >= 0 && !isAbsolute(joined); i--) {
    const part = parts[i]!;
    if (part !== "") joined = joined === "" ? part : `${part}/${joined}`;
  }
  // The working folder only when needed: Deno.cwd() needs read permission.
  if (!isAbsolute(joined)) joined = joined === "" ? Deno.cwd() : `${Deno.cwd()}/${joined}`;
  return "/" + collapse(joined, true).join("/");
}

/**
 * The path from `from` to `to` (both resolved first): `..` for each segment of `from` beyond
 * what they share, then the rest of `to`. The empty string when they are the same.
 */
export function relative(from: string, to: string): string {
  if (from === to) return "";
  const a = collapse(resolve(from), true);
  const b = collapse(resolve(to), true);
  let shared = 0;
  while (shared < a.length && shared < b.length && a[shared] === b[shared]) shared++;
  return [...a.slice(shared).map(() => ".."), ...b.slice(shared)].join("/");
}

/**
 * The folder part of `p`: everything before its last segment (trailing separators ignored),
 * `/` for a segment at the root and `.` for a bare name.
 */
export function dirname(p: string): string {
  if (p === "") return ".";
  let end = p.length;
  while (end > 1 && p[end - 1] === "/") end--;
  const slash = p.lastIndexOf("/", end - 1);
  if (slash === -1) return ".";
  if (slash === 0) return "/";
  // Like Node, separators before the last segment are kept except the one that ends the folder,
  // and a path that begins with exactly `//name` keeps `//`.
  if (slash === 1 && p[0] === "/") return "//";
  return p.slice(0, slash);
}

/** The last segment of `p`, trailing separators ignored; the empty string for `/` or ``. */
export function basename(p: string): string {
  let end = p.length;
  while (end > 0 && p[end - 1] === "/") end--;
  if (end === 0) return "";
  return p.slice(p.lastIndexOf("/", end - 1) + 1, end);
}

/** A TypeError with the `code` Node gives the same error. */
function nodeTypeError(code: string, message: string): TypeError {
  return Object.assign(new TypeError(message), { code });
}

/**
 * The path of a file: URL, percent-escapes decoded. Throws a TypeError for a URL of another
 * scheme, with a host other than `localhost`, or with an encoded `/` (`%2F`), and a URIError for
 * a malformed escape, as `node:url` does.
 */
export function fileURLToPath(url: string | URL): string {
  const u = typeof url === "string" ? new URL(url) : url;
  if (u.protocol !== "file:") throw nodeTypeError("ERR_INVALID_URL_SCHEME", "The URL must be of scheme file");
  if (u.hostname !== "") {
    throw nodeTypeError(
      "ERR_INVALID_FILE_URL_HOST",
      `File URL host must be "localhost" or empty on ${Deno.build.os}`,
    );
  }
  if (/%2f/i.test(u.pathname)) {
    throw nodeTypeError("ERR_INVALID_FILE_URL_PATH", "File URL path must not include encoded / characters");
  }
  return decodeURIComponent(u.pathname);
}

/**
 * Characters escaped before the URL parser sees the path: `%`, which would start an escape; `\`,
 * which it reads as a separator; newline, CR and tab, which it drops; and `[`, `]`, `^`, `|`, `~`,
 * which it keeps but `node:url` escapes.
 */
const ESCAPED = /[%\\\n\r\t[\]^|~]/g;

/**
 * The file: URL of `p`, resolved against `Deno.cwd()` if relative, keeping a trailing separator.
 * Characters a URL path cannot hold (`%`, `\`, `?`, `#`, spaces, controls, non-ASCII, ...) are
 * percent-encoded, as `node:url` does.
 */
export function pathToFileURL(p: string): URL {
  let resolved = resolve(p);
  if (p.endsWith("/") && !resolved.endsWith("/")) resolved += "/";
  const url = new URL("file://");
  // The pathname setter encodes the rest (spaces, `?`, `#`, non-ASCII, ...).
  url.pathname = resolved.replace(ESCAPED, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0"));
  return url;
}
