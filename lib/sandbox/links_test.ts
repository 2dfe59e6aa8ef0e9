import assert from "node:assert/strict";
import * as path from "node:path";
import { analyseLinks, climb, type LinkScan, outermost, resolveLoose, scanLinks } from "./links.ts";

const P = "/p"; // project (read)
const W = "/w"; // worktree (read, write)
const grant = { read: [P, W], write: [W] };

/** Resolves through the given links only, lexically otherwise (what the file system would do). */
function resolver(links: Record<string, string>): (p: string) => string {
  return (p) => {
    let out = "/";
    for (const part of p.split("/").filter(Boolean)) {
      out = path.join(out, part);
      for (let hops = 0; hops < 20 && links[out] !== undefined; hops++) {
        out = path.resolve(path.dirname(out), links[out]!);
      }
    }
    return out;
  };
}

function analyse(links: Record<string, string>, extra: Partial<LinkScan> = {}, protectedWrite: string[] = []) {
  const scan: LinkScan = {
    links: Object.entries(links).map(([p, target]) => ({ path: p, target })),
    hardLinks: extra.hardLinks ?? [],
    gitEntries: extra.gitEntries ?? [],
  };
  return analyseLinks(grant, scan, resolver(links), protectedWrite);
}

Deno.test("climb() splits a relative target into how far it climbs and the rest", () => {
  assert.deepEqual(climb("../../a/b"), { up: 2, rest: "a/b" });
  assert.deepEqual(climb("a/../../b"), { up: 1, rest: "b" });
  assert.deepEqual(climb("./a/b"), { up: 0, rest: "a/b" });
});

Deno.test("outermost() drops folders inside another", () => {
  assert.deepEqual(outermost(["/a/b", "/a", "/c", "/ab"]), ["/a", "/c", "/ab"]);
});

Deno.test("a link in a read-only folder that leads outside the grant is denied; one inside is left alone", () => {
  const out = analyse({ "/p/docs-root": "/", "/p/readme": "docs/README.md" });
  assert.deepEqual(out.denyRead, ["/p/docs-root"]);
  assert.deepEqual(out.denyWrite, ["/p/docs-root"]);
  assert.match(out.why["/p/docs-root"]!, /outside the read grant/);
});

Deno.test("a link onto a folder that holds a denied link is denied too (it would be another way to it)", () => {
  const out = analyse({ "/p/a/secret": "/etc", "/p/b/alias": "../a" });
  assert.deepEqual(out.denyRead, ["/p/a/secret", "/p/b/alias"]);
});

Deno.test("a link in a writable folder whose target climbs is pinned: its top-level entry becomes read-only", () => {
  const out = analyse({ "/w/docs/README.md": "../README.md" });
  assert.deepEqual(out.denyWrite, ["/w/docs"]);
  assert.deepEqual(out.denyRead, []); // it leads inside the grant where it is, and cannot move now
});

Deno.test("a writable link that leads outside is denied and pinned", () => {
  const out = analyse({ "/w/docs/hooks": "/p/.git/hooks", "/w/up": "../../etc" });
  assert.deepEqual(out.denyRead, ["/w/docs/hooks", "/w/up"]);
  assert.deepEqual(out.denyWrite, ["/w/docs", "/w/docs/hooks", "/w/up"]);
});

Deno.test("a writable link that does not climb is pinned when a move to the top would lead onto a protected entry", () => {
  const out = analyse({ "/w/src/g": ".git" }, {}, ["/w/.git"]);
  assert.deepEqual(out.denyWrite, ["/w/src"]);
  assert.deepEqual(analyse({ "/w/src/g": "lib/x.ts" }, {}, ["/w/.git"]).denyWrite, []);
});

Deno.test("links inside a pinned entry that lead inside the grant need nothing more (node_modules)", () => {
  const out = analyse({
    "/w/node_modules/.bin/tsc": "../typescript/bin/tsc",
    "/w/node_modules/.pnpm/a@1/node_modules/b": "../../b@2/node_modules/b",
  });
  assert.deepEqual(out.denyWrite, ["/w/node_modules"]);
  assert.deepEqual(out.denyRead, []);
});

Deno.test("a hard link with a name outside the writable folders is pinned and not writable", () => {
  const out = analyse({}, {
    hardLinks: [
      { path: "/w/node_modules/x/index.js", dev: 1, ino: 9, nlink: 2 },
      { path: "/w/a.txt", dev: 1, ino: 7, nlink: 2 },
      { path: "/w/b.txt", dev: 1, ino: 7, nlink: 2 },
    ],
  });
  assert.deepEqual(out.denyWrite, ["/w/node_modules", "/w/node_modules/x/index.js"]);
});

Deno.test("a .git entry below the top of a writable folder (a submodule) is not writable", () => {
  const out = analyse({}, { gitEntries: ["/w/vendor/lib/.git"] });
  assert.deepEqual(out.denyWrite, ["/w/vendor", "/w/vendor/lib/.git"]);
});

Deno.test("scanLinks() finds links, hard links and nested .git entries; resolveLoose() follows what exists", async () => {
  const dir = Deno.realPathSync(Deno.makeTempDirSync());
  try {
    Deno.mkdirSync(`${dir}/p/docs`, { recursive: true });
    Deno.mkdirSync(`${dir}/w/sub/.git`, { recursive: true });
    Deno.symlinkSync("/", `${dir}/p/docs/root`);
    Deno.writeTextFileSync(`${dir}/outside.txt`, "x");
    Deno.linkSync(`${dir}/outside.txt`, `${dir}/w/shared.txt`);
    Deno.writeTextFileSync(`${dir}/w/.git`, "gitdir: /elsewhere\n");
    const scan = await scanLinks([`${dir}/p`, `${dir}/w`], [`${dir}/w`]);
    assert.deepEqual(scan.links, [{ path: `${dir}/p/docs/root`, target: "/" }]);
    assert.deepEqual(scan.hardLinks.map((h) => [h.path, h.nlink]), [[`${dir}/w/shared.txt`, 2]]);
    assert.deepEqual(scan.gitEntries, [`${dir}/w/sub/.git`]);
    assert.equal(resolveLoose(`${dir}/p/docs/root/etc/no-such`), "/etc/no-such");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
