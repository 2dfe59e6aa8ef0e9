/**
 * `deno task ok` runs this: it fails when the modules of prj import each other in a cycle
 * (static or literal dynamic imports; type-only imports do not count), or when code outside
 * lib/state/ reaches the database directly (node:sqlite, or the connection in lib/state/_db.ts).
 *
 * Usage: deno run -A scripts/check_imports.ts
 */
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = path.resolve(import.meta.dirname!, "..");
const FOLDERS = ["lib", "cli", "steps", "templates"];

function sources(dir: string): string[] {
  return [...Deno.readDirSync(dir)].flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory) return sources(p);
    return e.name.endsWith(".ts") && !e.name.endsWith("_test.ts") ? [p] : [];
  });
}

const files = [
  path.join(ROOT, "mod.ts"),
  path.join(ROOT, "cli.ts"),
  ...FOLDERS.flatMap((f) => sources(path.join(ROOT, f))),
];
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
  const problems: string[] = [];
  for (const m of info.modules) {
    if (!local(m.specifier)) continue;
    const file = path.relative(ROOT, fileURLToPath(m.specifier));
    const deps = (m.dependencies ?? []).flatMap((d) => (d.code ? [d.code.specifier] : []));
    graph.set(m.specifier, deps.filter(local));
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

  if (problems.length > 0) {
    for (const p of problems) console.error(`error: ${p}`);
    Deno.exit(1);
  }
  console.log(`imports ok: ${graph.size} modules, no cycles, no database access outside lib/state/`);
} finally {
  await Deno.remove(entry);
}
