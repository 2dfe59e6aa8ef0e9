/**
 * Command files of the original PruneJuice (its Python and shell versions) in today's form. The
 * old forms, and what each becomes:
 *
 * - a step with an inline `script:` (shell, reading `PRUNEJUICE_*` variables) -> `run: [bash, -c, <script>]`
 *   with `env:` giving each `PRUNEJUICE_*` variable the script reads its value (`{{ project }}`, `{{ args.x }}`...);
 * - `args:` on a step -> `with:`;
 * - a step object with only a `name` (and `timeout`...) -> `uses: <name>`;
 * - a step typed the documented way (`type: builtin|shell|script`, `action:`) -> `uses:` or `run:`;
 * - a step naming a shell or Python step file (`.prj/steps/<name>.sh`, `.py`) -> `run:` of that file, with its
 *   `PRUNEJUICE_*` variables;
 * - an argument of `type: integer` -> `type: number`; a placeholder naming an argument bare
 *   (`{{ feature_name }}`) -> `{{ args.feature_name }}`.
 *
 * The change is made on the YAML document itself, so comments and the untouched parts stay as they
 * were: the loader runs it in memory (a file in the old form works as it is), `prj migrate` writes it.
 */
import * as path from "../util/path.ts";
import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Node,
  type Pair,
  Scalar,
  type YAMLMap,
} from "npm:yaml@2.9.1";
import { BUILTIN_STEP_NAMES } from "./steps.ts";
import { PLAIN_PLACEHOLDERS } from "./placeholders.ts";

const STEP_LISTS = ["pre_steps", "steps", "post_steps", "cleanup_on_failure"] as const;

/** What the old runners exported, as today's placeholders (`PRUNEJUICE_ARG_<NAME>` is added per argument). */
const LEGACY_VARIABLES: Readonly<Record<string, string>> = {
  PRUNEJUICE_PROJECT_PATH: "{{ project }}",
  PRUNEJUICE_PROJECT_NAME: "{{ project_name }}",
  PRUNEJUICE_ARTIFACT_DIR: "{{ artifacts }}",
  PRUNEJUICE_SESSION_ID: "{{ run.id }}",
  PRUNEJUICE_EVENT_ID: "{{ run.id }}",
  PRUNEJUICE_COMMAND_NAME: "{{ run.command }}",
  PRUNEJUICE_COMMAND: "{{ run.command }}",
  PRUNEJUICE_WORKING_DIR: "{{ cwd }}",
  PRUNEJUICE_WORKING_DIRECTORY: "{{ cwd }}",
  PRUNEJUICE_WORKTREE_PATH: "{{ worktree }}",
  PRUNEJUICE_BRANCH_NAME: "{{ branch }}",
  PRUNEJUICE_TMUX_SESSION: "{{ session }}",
};

/** Where the upgrade looks for old step files. */
export interface LegacyContext {
  /** The project's `.prj/` folder (old step files are `.prj/steps/<name>.sh` or `.py`). */
  prjDir?: string | undefined;
}

function key(pair: Pair): unknown {
  return isScalar(pair.key) ? pair.key.value : pair.key;
}

function pairOf(map: YAMLMap, name: string): Pair | undefined {
  return map.items.find((p) => isPair(p) && key(p) === name) as Pair | undefined;
}

function has(map: YAMLMap, name: string): boolean {
  return pairOf(map, name) !== undefined;
}

function rename(map: YAMLMap, from: string, to: string): void {
  const pair = pairOf(map, from)!;
  if (isScalar(pair.key)) pair.key.value = to;
  else pair.key = new Scalar(to);
}

/** The `PRUNEJUICE_*` variables a script reads that prj can give it, with their values. */
function variablesFor(script: string, argNames: readonly string[]): [string, string][] {
  const used = new Set(script.match(/PRUNEJUICE_[A-Z0-9_]+/g) ?? []);
  const out: [string, string][] = [];
  for (const name of [...used].sort()) {
    if (LEGACY_VARIABLES[name]) out.push([name, LEGACY_VARIABLES[name]]);
    else if (name.startsWith("PRUNEJUICE_ARG_")) {
      const arg = argNames.find((a) => a.toUpperCase() === name.slice("PRUNEJUICE_ARG_".length));
      if (arg) out.push([name, `{{ args.${arg} }}`]);
    }
  }
  return out;
}

/** Adds variables to a step's `env:` (keeping any it has). */
function addEnv(doc: Document, step: YAMLMap, variables: [string, string][]): void {
  if (variables.length === 0) return;
  const existing = step.get("env", true);
  if (isMap(existing)) {
    for (const [name, value] of variables) if (!existing.has(name)) existing.set(name, value);
  } else step.set("env", doc.createNode(Object.fromEntries(variables)));
}

function oldStepFile(context: LegacyContext, name: string): { file: string; program: string } | undefined {
  if (!context.prjDir || BUILTIN_STEP_NAMES.includes(name) || !/^[\w.-]+$/.test(name)) return undefined;
  const steps = path.join(context.prjDir, "steps");
  if (isFileSync(path.join(steps, `${name}.ts`))) return undefined;
  for (const [ext, program] of [[".sh", "bash"], [".py", "python3"]] as const) {
    if (isFileSync(path.join(steps, name + ext))) return { file: path.join(steps, name + ext), program };
  }
  return undefined;
}

/** A built-in step, or a module in `.prj/steps/` (else a name-only step stays as it is, and its error says why). */
function knownStep(context: LegacyContext, name: string): boolean {
  if (BUILTIN_STEP_NAMES.includes(name)) return true;
  return !!context.prjDir && /^[\w.-]+$/.test(name) && isFileSync(path.join(context.prjDir, "steps", `${name}.ts`));
}

function isFileSync(file: string): boolean {
  try {
    return Deno.statSync(file).isFile;
  } catch {
    return false;
  }
}

function readSync(file: string): string {
  try {
    return Deno.readTextFileSync(file);
  } catch {
    return "";
  }
}

/** A step that runs an old step file: `run: [bash, {{ project }}/.prj/steps/x.sh]` and its variables. */
function fileStep(
  doc: Document,
  step: YAMLMap,
  found: { file: string; program: string },
  argNames: readonly string[],
): void {
  const shown = `{{ project }}/.prj/steps/${path.basename(found.file)}`;
  step.set("run", doc.createNode([found.program, shown], { flow: true }));
  addEnv(doc, step, variablesFor(readSync(found.file), argNames));
}

/** Upgrades one step in place; returns what changed. */
function upgradeStep(
  doc: Document,
  list: Node,
  index: number,
  where: string,
  argNames: readonly string[],
  context: LegacyContext,
): string[] {
  if (!isSeq(list)) return [];
  const item = list.items[index];
  if (isScalar(item) && typeof item.value === "string") {
    const found = oldStepFile(context, item.value);
    if (!found) return [];
    const step = doc.createNode({ name: item.value }) as YAMLMap;
    fileStep(doc, step, found, argNames);
    list.items[index] = step;
    return [`${where}: the step file ${path.basename(found.file)} -> run: [${found.program}, ...]`];
  }
  if (!isMap(item)) return [];
  const changes: string[] = [];
  const label = `${where}${item.has("name") ? ` "${String(item.get("name"))}"` : ""}`;
  if (has(item, "args") && !has(item, "with")) {
    rename(item, "args", "with");
    changes.push(`${label}: args -> with`);
  }
  if (has(item, "script") && !has(item, "run") && !has(item, "uses")) {
    const script = String(item.get("script") ?? "");
    // In its place, so the step reads as it did.
    rename(item, "script", "run");
    pairOf(item, "run")!.value = doc.createNode(["bash", "-c", script]);
    const variables = variablesFor(script, argNames);
    addEnv(doc, item, variables);
    changes.push(
      `${label}: script -> run: [bash, -c, ...]${
        variables.length > 0 ? ` with env ${variables.map(([n]) => n).join(", ")}` : ""
      }`,
    );
  }
  if (has(item, "action") && !has(item, "run") && !has(item, "uses")) {
    const type = String(item.get("type") ?? "builtin");
    const action = String(item.get("action") ?? "");
    item.delete("type");
    item.delete("action");
    if (type === "shell") {
      item.set("run", doc.createNode(["bash", "-c", action]));
      addEnv(doc, item, variablesFor(action, argNames));
      changes.push(`${label}: type: shell, action -> run: [bash, -c, ...]`);
    } else if (type === "script") {
      const program = action.endsWith(".py") ? "python3" : "bash";
      item.set("run", doc.createNode([program, action], { flow: true }));
      changes.push(`${label}: type: script, action -> run: [${program}, ${action}]`);
    } else {
      item.set("uses", action);
      changes.push(`${label}: type: builtin, action -> uses: ${action}`);
    }
  }
  if (has(item, "name") && !has(item, "uses") && !has(item, "run")) {
    const name = String(item.get("name"));
    const found = oldStepFile(context, name);
    if (found) {
      fileStep(doc, item, found, argNames);
      changes.push(`${label}: the step file ${path.basename(found.file)} -> run: [${found.program}, ...]`);
    } else if (knownStep(context, name)) {
      // `name:` first, `uses:` right after it.
      const at = item.items.findIndex((p) => isPair(p) && key(p) === "name");
      item.items.splice(at + 1, 0, doc.createPair("uses", name));
      changes.push(`${label}: a step with only a name -> uses: ${name}`);
    }
  }
  return changes;
}

/** Rewrites `{{ name }}` (an argument, in the old form) as `{{ args.name }}` in every string below `node`. */
function qualifyPlaceholders(node: unknown, argNames: readonly string[], where: string, changes: string[]): void {
  if (isScalar(node)) {
    if (typeof node.value !== "string") return;
    const before = node.value;
    const after = before.replace(
      /\{\{\s*([A-Za-z_][\w-]*)\s*\}\}/g,
      (whole, name: string) =>
        argNames.includes(name) && !PLAIN_PLACEHOLDERS.includes(name) ? `{{ args.${name} }}` : whole,
    );
    if (after !== before) {
      node.value = after;
      changes.push(`${where}: {{ name }} -> {{ args.name }}`);
    }
  } else if (isMap(node)) {
    for (const pair of node.items) {
      if (isPair(pair)) qualifyPlaceholders(pair.value, argNames, `${where}.${String(key(pair))}`, changes);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => qualifyPlaceholders(item, argNames, `${where}[${i}]`, changes));
  }
}

/**
 * Rewrites a command file of the original PruneJuice into today's form, in place (see the module).
 *
 * @param doc the parsed YAML document (changed in place)
 * @param context where old step files are
 * @returns what changed, one line each (empty when the file is in today's form)
 * @example
 * ```ts
 * import { parseDocument } from "npm:yaml@2.9.1";
 * import { upgradeLegacy } from "./legacy.ts";
 * import assert from "node:assert/strict";
 *
 * const doc = parseDocument("steps:\n  - name: hi # says hi\n    script: echo $PRUNEJUICE_PROJECT_PATH\n");
 * assert.deepEqual(upgradeLegacy(doc), ["steps[0] \"hi\": script -> run: [bash, -c, ...] with env PRUNEJUICE_PROJECT_PATH"]);
 * assert.deepEqual(doc.toJS().steps[0], {
 *   name: "hi",
 *   run: ["bash", "-c", "echo $PRUNEJUICE_PROJECT_PATH"],
 *   env: { PRUNEJUICE_PROJECT_PATH: "{{ project }}" },
 * });
 * assert.match(doc.toString(), /# says hi/);
 * ```
 */
export function upgradeLegacy(doc: Document, context: LegacyContext = {}): string[] {
  const root = doc.contents;
  if (!isMap(root)) return [];
  const changes: string[] = [];
  const args = root.get("arguments", true);
  const argNames: string[] = [];
  if (isSeq(args)) {
    args.items.forEach((arg, i) => {
      if (!isMap(arg)) return;
      if (typeof arg.get("name") === "string") argNames.push(arg.get("name") as string);
      if (arg.get("type") === "integer") {
        arg.set("type", "number");
        changes.push(`arguments[${i}]: type: integer -> number`);
      }
    });
  }
  for (const list of STEP_LISTS) {
    const node = root.get(list, true);
    if (!isSeq(node)) continue;
    for (let i = 0; i < node.items.length; i++) {
      changes.push(...upgradeStep(doc, node, i, `${list}[${i}]`, argNames, context));
    }
  }
  for (const pair of root.items) {
    if (isPair(pair) && key(pair) !== "arguments") {
      qualifyPlaceholders(pair.value, argNames, String(key(pair)), changes);
    }
  }
  return changes;
}
