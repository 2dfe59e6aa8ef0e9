/** Finds command definitions (.prj/commands, then the shipped templates), resolves `extends` and validates them. */
import * as path from "../util/path.ts";
import { loadParser } from "./lazy_parser.ts";
import { filesIn, fingerprint, readCache, writeCache } from "../util/cache.ts";
import { definitionCache } from "./definition_cache.ts";
import { TEMPLATE_FILES } from "../../templates/mod.ts";
import { DefinitionError, UsageError } from "../util/errors.ts";
import type { Project } from "../project/project.ts";
import type { CommandDefinition, CommandFile, CommandSource, Permissions, StepDef } from "./schema.ts";
import { didYouMean } from "../util/suggest.ts";
import { isFile } from "../util/fs.ts";
import { BUILTIN_STEP_NAMES, userStepPath } from "./steps.ts";
import { isPlainObject, mergeDefinitions } from "./extends.ts";
import { checkPlaceholder, placeholdersIn } from "./placeholders.ts";
import type { YamlSource } from "./yaml_source.ts";

const STEP_LISTS = ["pre_steps", "steps", "post_steps", "cleanup_on_failure"] as const;

/** A command as `prj list` shows it; `error` is set when its definition is invalid. */
export interface CommandSummary {
  /** The command's name. */
  name: string;
  /** One line on what it does. */
  description: string;
  /** Its group. */
  category: string;
  /** Where it comes from. */
  source: { kind: "project" | "template"; file: string };
  /** Whether a project command of the same name hides this template. */
  shadows?: boolean;
  /** The definition error, when it does not load. */
  error?: string;
  /** Whether its file is in the original PruneJuice's form (it works; `prj migrate` rewrites it). */
  legacy?: boolean;
}

interface Located {
  kind: "project" | "template";
  file: string; // display
  read: () => Promise<YamlSource>;
}

function projectCommandFiles(project: Project): Map<string, string> {
  const dir = path.join(project.prjDir, "commands");
  const out = new Map<string, string>();
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (!entry.isFile && !entry.isSymlink) continue;
      const m = /^(.+)\.ya?ml$/.exec(entry.name);
      if (m && !out.has(m[1]!)) out.set(m[1]!, path.join(dir, entry.name));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return out;
}

function templateCommandNames(): string[] {
  return Object.keys(TEMPLATE_FILES)
    .map((f) => /^commands\/(.+)\.yaml$/.exec(f)?.[1])
    .filter((n): n is string => n !== undefined);
}

function locate(project: Project, name: string, templatesOnly: boolean): Located | undefined {
  if (!templatesOnly) {
    const file = projectCommandFiles(project).get(name);
    if (file) {
      const display = path.relative(project.root, file);
      return {
        kind: "project",
        file: display,
        read: async () => (await loadParser()).readYamlFile(file, display),
      };
    }
  }
  const text = TEMPLATE_FILES[`commands/${name}.yaml`];
  if (text === undefined) return undefined;
  const display = `templates/commands/${name}.yaml`;
  return {
    kind: "template",
    file: display,
    read: async () => (await loadParser()).parseYamlBytes(new TextEncoder().encode(text), display),
  };
}

/** Every command name available: project commands and templates. */
export function commandNames(project: Project): string[] {
  return [...new Set([...projectCommandFiles(project).keys(), ...templateCommandNames()])].sort();
}

interface Resolved {
  data: CommandFile;
  chain: string[];
  kind: "project" | "template";
  file: string;
  sources: Map<string, YamlSource>; // file -> source, to locate errors after merging
  legacy: string[]; // what the old form of its own file was read as
}

async function resolve(project: Project, name: string, templatesOnly: boolean, seen: string[]): Promise<Resolved> {
  const found = locate(project, name, templatesOnly);
  if (!found) throw new UsageError(`Unknown command "${name}"`);
  const key = `${found.kind}:${name}`;
  if (seen.includes(key)) {
    const chain = [...seen, key].map((k) => k.split(":")[1]).join(" -> ");
    throw new UsageError(`${found.file}: extends: cycle ${chain}; remove one of the extends`);
  }
  const source = await found.read();
  const { validate, CommandFileSchema, upgradeLegacy } = await loadParser();
  // A file of the original PruneJuice works as it is: read in today's form (`prj migrate` writes it so).
  const legacy = found.kind === "project" ? source.edit((doc) => upgradeLegacy(doc, { prjDir: project.prjDir })) : [];
  const data = validate(CommandFileSchema, source);
  if (data.name !== undefined && data.name !== name) {
    const { line, column } = source.locate(["name"]);
    throw new DefinitionError(
      found.file,
      line,
      column,
      `name: "${data.name}" does not match the file name "${name}"; rename one of them`,
    );
  }
  const sources = new Map([[found.file, source]]);
  if (data.extends === undefined) {
    return { data, chain: [found.file], kind: found.kind, file: found.file, sources, legacy };
  }
  // A project command that extends its own name extends the template it shadows.
  const parentTemplatesOnly = data.extends === name && found.kind === "project";
  let parent: Resolved;
  try {
    parent = await resolve(project, data.extends, parentTemplatesOnly, [...seen, key]);
  } catch (error) {
    if (error instanceof UsageError && error.message === `Unknown command "${data.extends}"`) {
      const { line, column } = source.locate(["extends"]);
      throw new DefinitionError(
        found.file,
        line,
        column,
        `extends: unknown command "${data.extends}"${didYouMean(data.extends, commandNames(project))}`,
      );
    }
    throw error;
  }
  const { extends: _parentExtends, ...parentData } = parent.data;
  const merged = mergeDefinitions(parentData, data as Record<string, unknown>) as CommandFile;
  for (const [f, s] of parent.sources) sources.set(f, s);
  return { data: merged, chain: [found.file, ...parent.chain], kind: found.kind, file: found.file, sources, legacy };
}

/** Finds where a step list came from in the extends chain (the nearest file that has the field). */
function sourceFor(resolved: Resolved, field: string): YamlSource {
  for (const file of resolved.chain) {
    const source = resolved.sources.get(file)!;
    if (isPlainObject(source.data) && field in source.data) return source;
  }
  return resolved.sources.get(resolved.file)!;
}

/**
 * A grant must never come from run-time data: `{{ shared.* }}` is what earlier steps set, so
 * in `permissions:` it would let one step choose another's grant.
 */
function runTimeGrant(
  permissions: Permissions | undefined,
): { path: (string | number)[]; message: string } | undefined {
  for (const [kind, value] of Object.entries(permissions ?? {})) {
    for (const [i, entry] of (Array.isArray(value) ? value : []).entries()) {
      const expr = placeholdersIn(String(entry)).find((e) => e.startsWith("shared."));
      if (expr !== undefined) {
        return {
          path: ["permissions", kind, i],
          message: `"{{ ${expr} }}" in a grant: grants never come from what steps share at run time; ` +
            "name the paths, or use {{ args.* }}, {{ env.* }}, {{ worktree }}",
        };
      }
    }
  }
  return undefined;
}

function stepCheck(
  project: Project,
  resolved: Resolved,
  list: typeof STEP_LISTS[number],
  index: number,
  step: StepDef,
  argNames: string[],
): void {
  const fail = (field: string | undefined, detail: string) => {
    const source = sourceFor(resolved, list);
    const p = field === undefined ? [list, index] : [list, index, field];
    const { line, column } = source.locate(p);
    throw new DefinitionError(source.file, line, column, `${list}[${index}]${field ? "." + field : ""}: ${detail}`);
  };
  if (step.uses === undefined && step.run === undefined) fail(undefined, 'a step needs "uses" or "run"');
  if (step.uses !== undefined && step.run !== undefined) fail("run", 'a step has either "uses" or "run", not both');
  if (typeof step.run === "string" && !step.shell) {
    fail("run", "a string runs through a shell only with `shell: true`; write an argv list instead");
  }
  if (Array.isArray(step.run) && step.shell) fail("shell", "`shell: true` takes `run` as one string");
  if (step.uses !== undefined && !BUILTIN_STEP_NAMES.includes(step.uses)) {
    const file = userStepPath(project.prjDir, step.uses);
    // A step may always read its module's folder; outside .prj/steps that would widen its grant unseen.
    const stepsDir = path.join(project.prjDir, "steps");
    if (!file.startsWith(stepsDir + path.sep)) {
      fail(
        "uses",
        `"${step.uses}" is outside .prj/steps/; step modules live there (a step may read its own folder)`,
      );
    }
    if (!isFile(file)) {
      let names: string[] = [...BUILTIN_STEP_NAMES];
      try {
        names = names.concat(
          [...Deno.readDirSync(path.join(project.prjDir, "steps"))].filter((e) =>
            e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")
          ).map((e) => e.name.slice(0, -3)),
        );
      } catch { /* no steps folder */ }
      fail(
        "uses",
        `unknown step "${step.uses}": not a built-in step and no file ${path.relative(project.root, file)}${
          didYouMean(step.uses, names)
        }`,
      );
    }
  }
  const strings: string[] = [];
  const collect = (v: unknown) => {
    if (typeof v === "string") strings.push(v);
    else if (Array.isArray(v)) v.forEach(collect);
    else if (isPlainObject(v)) Object.values(v).forEach(collect);
  };
  const grantProblem = runTimeGrant(step.permissions);
  if (grantProblem) {
    const { line, column } = sourceFor(resolved, list).locate([list, index, ...grantProblem.path]);
    const where = `${list}[${index}].${grantProblem.path[0]}.${grantProblem.path[1]}[${grantProblem.path[2]}]`;
    throw new DefinitionError(sourceFor(resolved, list).file, line, column, `${where}: ${grantProblem.message}`);
  }
  collect([step.with, step.run, step.env, step.working_directory, step.permissions, step.if]);
  for (const s of strings) {
    for (const expr of placeholdersIn(s)) {
      const problem = checkPlaceholder(expr, argNames);
      if (problem) fail(undefined, problem);
    }
  }
}

/**
 * Loads one command: finds it, resolves `extends`, validates every field and step.
 *
 * @param project the project
 * @param name the command's name
 * @returns the resolved definition
 * @throws {UsageError} for an unknown command (with a suggestion)
 * @throws {DefinitionError} for any problem in its files, with file:line:column
 * @example
 * ```ts
 * import { initProject, loadCommand, openProject } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await initProject(dir);
 * const command = await loadCommand(await openProject(dir), "feature-branch");
 * assert.equal(command.arguments[0]?.name, "feature_name");
 * assert.equal(command.source.kind, "project");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadCommand(project: Project, name: string): Promise<CommandDefinition> {
  const cache = definitionCache(project);
  const cached = cache.get(name);
  if (cached) return cached;
  const def = await loadFresh(project, name);
  cache.set(name, def);
  return def;
}

async function loadFresh(project: Project, name: string): Promise<CommandDefinition> {
  let resolved: Resolved;
  try {
    resolved = await resolve(project, name, false, []);
  } catch (error) {
    if (error instanceof UsageError && error.message === `Unknown command "${name}"`) {
      throw new UsageError(`Unknown command "${name}"${didYouMean(name, commandNames(project))}`, {
        hint: "see `prj list` for the commands of this project",
      });
    }
    throw error;
  }
  const d = resolved.data;
  const argNames = (d.arguments ?? []).map((a) => a.name);
  for (const list of STEP_LISTS) {
    (d[list] ?? []).forEach((step, i) => stepCheck(project, resolved, list, i, step, argNames));
  }
  if ((d.pre_steps ?? []).length + (d.steps ?? []).length + (d.post_steps ?? []).length === 0) {
    throw new DefinitionError(resolved.file, 1, 1, "steps: the command has no steps; add at least one");
  }
  const grantProblem = runTimeGrant(d.permissions);
  if (grantProblem) {
    const source = sourceFor(resolved, "permissions");
    const { line, column } = source.locate(grantProblem.path);
    const where = `${grantProblem.path[0]}.${grantProblem.path[1]}[${grantProblem.path[2]}]`;
    throw new DefinitionError(source.file, line, column, `${where}: ${grantProblem.message}`);
  }
  for (const field of ["environment", "working_directory", "prompt_file"] as const) {
    const strings = field === "environment" ? Object.values(d.environment ?? {}) : [d[field] ?? ""];
    for (const s of strings) {
      for (const expr of placeholdersIn(s)) {
        const problem = checkPlaceholder(expr, argNames);
        if (problem) {
          const source = sourceFor(resolved, field);
          const { line, column } = source.locate([field]);
          throw new DefinitionError(source.file, line, column, `${field}: ${problem}`);
        }
      }
    }
  }
  const source: CommandSource = { kind: resolved.kind, file: resolved.file, chain: resolved.chain };
  if (resolved.legacy.length > 0) source.legacy = resolved.legacy;
  const def: CommandDefinition = {
    name,
    description: d.description ?? "",
    category: d.category ?? "general",
    arguments: d.arguments ?? [],
    environment: d.environment ?? {},
    pre_steps: d.pre_steps ?? [],
    steps: d.steps ?? [],
    post_steps: d.post_steps ?? [],
    cleanup_on_failure: d.cleanup_on_failure ?? [],
    source,
  };
  if (d.extends !== undefined) def.extends = d.extends;
  if (d.prompt_file !== undefined) def.prompt_file = d.prompt_file;
  if (d.working_directory !== undefined) def.working_directory = d.working_directory;
  if (d.timeout !== undefined) def.timeout = d.timeout;
  if (d.permissions !== undefined) def.permissions = d.permissions;
  if (d.model !== undefined) def.model = d.model;
  return def;
}

/**
 * Lists every command of a project (project commands shadow templates of the same name).
 * A command whose definition is invalid is listed with its error instead of failing the list.
 * @example
 * ```ts
 * import { initProject, listCommands, openProject } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await initProject(dir);
 * const names = (await listCommands(await openProject(dir))).map((c) => c.name);
 * assert.ok(names.includes("code-review"));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function listCommands(project: Project): Promise<CommandSummary[]> {
  // Every definition, step module and the config can change what list shows.
  const key = fingerprint([
    ...filesIn(path.join(project.prjDir, "commands")),
    ...filesIn(path.join(project.prjDir, "steps")),
    ...filesIn(path.join(project.prjDir, "prompts")),
    path.join(project.prjDir, "config.yaml"),
    ...(import.meta.url.startsWith("file:")
      ? [path.fileURLToPath(new URL("../../templates/commands.ts", import.meta.url))]
      : []),
  ]);
  const cached = readCache<CommandSummary[]>(project.prjDir, "commands", key);
  if (cached) return cached;
  const list = await summarize(project);
  writeCache(project.prjDir, "commands", key, list);
  return list;
}

async function summarize(project: Project): Promise<CommandSummary[]> {
  const own = projectCommandFiles(project);
  const templates = new Set(templateCommandNames());
  const out: CommandSummary[] = [];
  for (const name of commandNames(project)) {
    try {
      const def = await loadCommand(project, name);
      const summary: CommandSummary = {
        name,
        description: def.description,
        category: def.category,
        source: { kind: def.source.kind, file: def.source.file },
      };
      if (own.has(name) && templates.has(name)) summary.shadows = true;
      if (def.source.legacy) summary.legacy = true;
      out.push(summary);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      out.push({
        name,
        description: "",
        category: "invalid",
        source: own.has(name)
          ? { kind: "project", file: path.relative(project.root, own.get(name)!) }
          : { kind: "template", file: `templates/commands/${name}.yaml` },
        error: error.message,
      });
    }
  }
  return out;
}

/**
 * Loads every command of a project.
 *
 * @throws {DefinitionError} for the first invalid definition
 * @example
 * ```ts
 * import { initProject, loadCommands, openProject } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await initProject(dir);
 * const commands = await loadCommands(await openProject(dir));
 * assert.ok(commands.every((c) => c.steps.length + c.pre_steps.length > 0));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadCommands(project: Project): Promise<CommandDefinition[]> {
  const out: CommandDefinition[] = [];
  for (const name of commandNames(project)) out.push(await loadCommand(project, name));
  return out;
}
