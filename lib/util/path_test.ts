import assert from "node:assert/strict";
import * as nodePath from "node:path";
import * as nodeUrl from "node:url";
import * as path from "./path.ts";

const posix = nodePath.posix;

/** Paths that trip up path code: empty, dots, roots, repeated and trailing separators, odd characters. */
const TRICKY = [
  "",
  ".",
  "..",
  "./",
  "../",
  "/",
  "//",
  "///",
  "/.",
  "/..",
  "/../..",
  "../..",
  "../../",
  "a",
  "a/",
  "a//",
  "/a",
  "//a",
  "///a",
  "//a/b",
  "/a/",
  "/a//",
  "a/b",
  "a//b",
  "/a//b/",
  "a/./b/../c",
  "/a/./b/../c/",
  "a/../..",
  "/a/../../b",
  "./a",
  "../a/b",
  "a/..",
  "a/../",
  "...",
  ".a",
  "a.",
  "a..b",
  "/.../a",
  "..a/b",
  "ä/ö",
  "/日本/語",
  "😀/x",
  "a b/c d",
  " /a",
  "/a ",
  "%",
  "/a%2Fb",
  "/a%25b",
  "a#b",
  "/a?b",
  "/a?b#c",
  "a\nb",
  "/a\rb\tc",
  "a\\b",
  "/C:/x",
  "/C|/x",
  "/a\u0001b",
  "/a\u007fb",
  '/[]^|{}`"<>',
  "/a;b=c&d+e,f@g$h!i'j(k)l*m~n",
];

/** Segments the generated paths are made of. */
const SEGMENTS = [
  "",
  ".",
  "..",
  "a",
  "b",
  "foo",
  ".hidden",
  "...",
  "a b",
  "ä",
  "日本",
  "%",
  "%2F",
  "%zz",
  "#",
  "?",
  "\n",
  "\t",
  "\\",
  "x.ts",
  "C:",
  "C|",
  "~",
  "[x]",
  "a^b|c",
  "\u0000",
];

/** A small seeded PRNG (mulberry32) so a failure can be reproduced. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generated(count: number, seed: number): string[] {
  const random = prng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
  return Array.from({ length: count }, () => {
    const segments = Array.from({ length: Math.floor(random() * 6) }, () => pick(SEGMENTS));
    let p = segments.join(pick(["/", "/", "/", "//"]));
    if (random() < 0.4) p = "/" + p;
    if (random() < 0.2) p += "/";
    return p;
  });
}

const INPUTS = [...TRICKY, ...generated(3000, 20240611)];

/** Pairs of inputs for the functions that take two or more paths. */
function pairs(): [string, string][] {
  const random = prng(7);
  const pick = () => INPUTS[Math.floor(random() * INPUTS.length)]!;
  const out: [string, string][] = [];
  for (const a of TRICKY.slice(0, 34)) for (const b of TRICKY.slice(0, 34)) out.push([a, b]);
  for (let i = 0; i < 3000; i++) out.push([pick(), pick()]);
  return out;
}

/** The outcome of `f`: its result, or the class, code and message of what it threw. */
function outcome<T>(f: () => T): T | string {
  try {
    return f();
  } catch (e) {
    const code = (e as { code?: string }).code;
    return `threw ${(e as Error).name} ${code ?? ""} ${(e as Error).message}`;
  }
}

function same<T>(name: string, input: unknown, ours: () => T, node: () => T) {
  assert.deepEqual(outcome(ours), outcome(node), `${name}(${JSON.stringify(input)})`);
}

Deno.test("the inputs cover the tricky cases and thousands of generated paths", () => {
  assert.ok(INPUTS.length > 3000);
  assert.ok(new Set(INPUTS).size > 2000, "the generated paths are mostly different");
});

Deno.test("sep and delimiter are the POSIX ones of node:path", () => {
  assert.equal(path.sep, posix.sep);
  assert.equal(path.delimiter, posix.delimiter);
});

Deno.test("normalize(), isAbsolute(), dirname() and basename() agree with node:path's posix ones", () => {
  for (const p of INPUTS) {
    same("normalize", p, () => path.normalize(p), () => posix.normalize(p));
    same("isAbsolute", p, () => path.isAbsolute(p), () => posix.isAbsolute(p));
    same("dirname", p, () => path.dirname(p), () => posix.dirname(p));
    same("basename", p, () => path.basename(p), () => posix.basename(p));
  }
});

Deno.test("join() and resolve() agree with node:path's posix ones, for none to several parts", () => {
  same("join", [], () => path.join(), () => posix.join());
  same("resolve", [], () => path.resolve(), () => posix.resolve());
  for (const p of INPUTS) {
    same("join", [p], () => path.join(p), () => posix.join(p));
    same("resolve", [p], () => path.resolve(p), () => posix.resolve(p));
  }
  for (const [a, b] of pairs()) {
    same("join", [a, b], () => path.join(a, b), () => posix.join(a, b));
    same("resolve", [a, b], () => path.resolve(a, b), () => posix.resolve(a, b));
  }
  const random = prng(99);
  for (let i = 0; i < 1000; i++) {
    const parts = Array.from(
      { length: 3 + Math.floor(random() * 3) },
      () => INPUTS[Math.floor(random() * INPUTS.length)]!,
    );
    same("join", parts, () => path.join(...parts), () => posix.join(...parts));
    same("resolve", parts, () => path.resolve(...parts), () => posix.resolve(...parts));
  }
});

Deno.test("relative() agrees with node:path's posix one", () => {
  for (const [a, b] of pairs()) {
    same("relative", [a, b], () => path.relative(a, b), () => posix.relative(a, b));
    same("relative", [b, a], () => path.relative(b, a), () => posix.relative(b, a));
    same("relative", [a, a], () => path.relative(a, a), () => posix.relative(a, a));
  }
});

Deno.test("pathToFileURL() agrees with node:url's, escapes included", () => {
  const ascii = Array.from({ length: 128 }, (_, c) => String.fromCharCode(c));
  for (const p of [...ascii.map((c) => `/a${c}b`), ...ascii.map((c) => `${c}/${c}`), "/\u00e9\u00a0\u2028\ud800x"]) {
    same("pathToFileURL", p, () => path.pathToFileURL(p).href, () => nodeUrl.pathToFileURL(p).href);
  }
  for (const p of INPUTS) {
    same("pathToFileURL", p, () => path.pathToFileURL(p).href, () => nodeUrl.pathToFileURL(p).href);
  }
  assert.equal(path.pathToFileURL("/a%b\\c\nd\re\tf?g#h i").href, "file:///a%25b%5Cc%0Ad%0De%09f%3Fg%23h%20i");
});

Deno.test("fileURLToPath() agrees with node:url's, and round-trips pathToFileURL()", () => {
  const urls = [
    "file:///",
    "file:///a/b",
    "file://localhost/a%20b",
    "file:///a%2fb",
    "file:///a%2Fb",
    "file:///a%252Fb",
    "file:///a%zz",
    "file:///a%E0%A4%A",
    "file:///a?q#h",
    "file:///%C3%A4/%F0%9F%98%80",
    "file://host/a",
    "http://example.com/a",
    "data:text/plain,a",
    "not a url",
    "FILE:///A/B",
  ];
  for (const u of urls) {
    same("fileURLToPath", u, () => path.fileURLToPath(u), () => nodeUrl.fileURLToPath(u));
    same("fileURLToPath", u, () => path.fileURLToPath(new URL(u)), () => nodeUrl.fileURLToPath(new URL(u)));
  }
  for (const p of INPUTS) {
    const href = nodeUrl.pathToFileURL(p).href;
    same("fileURLToPath", href, () => path.fileURLToPath(href), () => nodeUrl.fileURLToPath(href));
    const back = posix.resolve(p) + (p.endsWith("/") && posix.resolve(p) !== "/" ? "/" : "");
    assert.equal(path.fileURLToPath(path.pathToFileURL(p)), back, `round trip of ${JSON.stringify(p)}`);
  }
  assert.throws(() => path.fileURLToPath("http://x/a"), TypeError);
  assert.throws(() => path.fileURLToPath("file:///a%2Fb"), TypeError);
});
