/**
 * `deno task ok` runs this: it fails when the modules of prj import each other in a cycle
 * (static or literal dynamic imports; type-only imports do not count), when code outside
 * lib/state/ reaches the database directly (node:sqlite, or the connection in lib/state/_db.ts),
 * or when a module names a package by a bare specifier (`"zod"`) instead of `npm:name@version` with
 * the version of deno.json's import map: a bare one resolves only through this repository's
 * deno.json, so importing mod.ts from a clone into another project would fail. It also fails
 * when prj's own code imports a `node:` module other than node:sqlite (outside the MCP server),
 * and when a test file changes its process's environment or working folder.
 *
 * Usage: deno run -A scripts/check_imports.ts
 */
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = path.resolve(import.meta.dirname!, "..");
const FOLDERS = ["lib", "cli", "steps", "templates"];

/** The files below `dir` whose name `keep` accepts (by default the modules that are not tests). */
function sources(
  dir: string,
  keep: (name: string) => boolean = (n) => n.endsWith(".ts") && !n.endsWith("_test.ts"),
): string[] {
  return [...Deno.readDirSync(dir)].flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory) return sources(p, keep);
    return keep(e.name) ? [p] : [];
  });
}

const files = [
  path.join(ROOT, "mod.ts"),
  path.join(ROOT, "cli.ts"),
  ...FOLDERS.flatMap((f) => sources(path.join(ROOT, f))),
];

/**
 * Test files run side by side in one process (`deno test --parallel`): one that changes the
 * process's environment or working folder changes them for every test running beside it.
 */
function sharedStateProblems(): string[] {
  const problems: string[] = [];
  const tests = (dir: string) => sources(dir, (n) => n.endsWith("_test.ts"));
  for (const file of ["tests", "lib"].flatMap((f) => tests(path.join(ROOT, f)))) {
    const text = Deno.readTextFileSync(file);
    for (const [i, line] of text.split("\n").entries()) {
      if (/Deno\.(env\.(set|delete)|chdir)\(/.test(line)) {
        problems.push(
          `${path.relative(ROOT, file)}:${
            i + 1
          } changes the test process's environment or folder, which tests running beside it share; pass env or cwd to the program it starts`,
        );
      }
    }
  }
  return problems;
}

/** Package specifiers that resolve without this repository's import map, with one version each. */
function packageProblems(): string[] {
  const { imports } = JSON.parse(Deno.readTextFileSync(path.join(ROOT, "deno.json"))) as {
    imports: Record<string, string>;
  };
  const pinned = new Map(
    Object.values(imports).map((v) => {
      const m = /^npm:(@?[^@]+)@(.+)$/.exec(v)!;
      return [m[1]!, m[2]!] as const;
    }),
  );
  const problems: string[] = [];
  // Import statements (`import ... from "x"`, `} from "x"`, `import "x"`) and literal dynamic imports; not
  // comments (the JSDoc examples import the published package by name).
  const patterns = [
    /^\s*(?:import|export)\s[^"'`]*?\bfrom\s*"([^"]+)"/,
    /^\s*\}\s*from\s*"([^"]+)"/,
    /^\s*import\s*"([^"]+)"/,
  ];
  const dynamic = /\bimport\(\s*"([^"$]+)"\s*\)/g;
  for (const file of files) {
    const rel = path.relative(ROOT, file);
    const specs = Deno.readTextFileSync(file).split("\n").flatMap((line) => {
      if (/^\s*(\*|\/\/)/.test(line)) return [];
      const found = patterns.map((p) => p.exec(line)?.[1]).filter((x) => x !== undefined);
      return [...found, ...[...line.matchAll(dynamic)].map((m) => m[1]!)];
    });
    for (const spec of specs) {
      if (/^(\.|\/|node:|file:|data:|jsr:|https?:)/.test(spec!)) continue;
      const npm = /^npm:(@?[^@/]+(?:\/[^@/]+)?)@([^/]+)/.exec(spec!);
      const name = npm?.[1] ?? spec!.split("/").slice(0, spec!.startsWith("@") ? 2 : 1).join("/");
      if (!npm) {
        problems.push(
          `${rel} imports "${spec}": write npm:${name}@${pinned.get(name) ?? "<version>"}${
            spec!.slice(name.length)
          } (a bare name needs this repository's deno.json)`,
        );
      } else if (pinned.get(name) !== npm[2]) {
        problems.push(`${rel} imports ${name}@${npm[2]}, but deno.json pins ${pinned.get(name) ?? "no version"}`);
      }
    }
  }
  return problems;
}
// One entry that imports every module, so a single `deno info` sees the whole graph
// (cli/ and steps/ are otherwise reached only through computed specifiers).
const entry = await Deno.makeTempFile({ suffix: ".ts" });
try {
  await Deno.writeTextFile(entry, files.map((f) => `import ${JSON.stringify(pathToFileURL(f).href)};`).join("\n"));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", path.join(ROOT, "deno.json"), entry],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`deno info failed: ${new TextDecoder().decode(out.stderr)}`);
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string; dependencies?: { specifier: string; code?: { specifier: string } }[] }[];
  };

  const local = (s: string) => s.startsWith("file://") && s !== pathToFileURL(entry).href;
  const graph = new Map<string, string[]>();
  const problems: string[] = packageProblems();
  for (const m of info.modules) {
    if (!local(m.specifier)) continue;
    const file = path.relative(ROOT, fileURLToPath(m.specifier));
    const deps = (m.dependencies ?? []).flatMap((d) => (d.code ? [d.code.specifier] : []));
    graph.set(m.specifier, deps.filter(local));
    // The first node: module a process loads starts Deno's Node layer (about 10 ms of CPU): prj's
    // own code has lib/util/path.ts. Allowed: the database (node:sqlite, which does not), the MCP
    // server, and the colours of a terminal (cli/io.ts loads node:util only then).
    const allowed = (d: string) =>
      d === "node:sqlite" || file.startsWith(`lib${path.sep}mcp${path.sep}`) ||
      (d === "node:util" && file === path.join("cli", "io.ts"));
    for (const d of deps) {
      if (d.startsWith("node:") && !allowed(d)) {
        problems.push(
          `${file} imports ${d}, which loads Deno's Node layer in every prj process (about 10 ms); for paths use lib/util/path.ts`,
        );
      }
    }
    if (file.startsWith(`lib${path.sep}state${path.sep}`)) continue;
    for (const d of deps) {
      if (d === "node:sqlite") problems.push(`${file} imports node:sqlite; only lib/state/ talks to the database`);
      if (local(d) && fileURLToPath(d) === path.join(ROOT, "lib", "state", "_db.ts")) {
        problems.push(`${file} imports lib/state/_db.ts; use the table modules of lib/state/`);
      }
    }
  }

  // Tarjan's strongly connected components: every component with more than one module is a cycle.
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(path.relative(ROOT, fileURLToPath(w)));
      } while (w !== v);
      if (component.length > 1) problems.push(`import cycle: ${component.sort().join(" <-> ")}`);
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);

  problems.push(...sharedStateProblems());
  if (problems.length > 0) {
    for (const p of problems) console.error(`error: ${p}`);
    Deno.exit(1);
  }
  console.log(
    `imports ok: ${graph.size} modules, no cycles, no database access outside lib/state/, packages as npm:name@version, no test changes its process's env or folder`,
  );
} finally {
  await Deno.remove(entry);
}
