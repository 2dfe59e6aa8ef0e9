/**
 * `prj migrate`: rewrites the project's command files that are in the original PruneJuice's form
 * (see legacy.ts) in today's form, keeping their comments and untouched parts.
 */
import * as path from "../util/path.ts";
import { parseDocument } from "npm:yaml@2.9.1";
import type { Project } from "../project/project.ts";
import { DefinitionError, UsageError } from "../util/errors.ts";
import { upgradeLegacy } from "./legacy.ts";
import { commandNames, loadCommand } from "./loader.ts";

/** One command file to rewrite. */
export interface Migration {
  /** The command's name. */
  name: string;
  /** The file (absolute). */
  file: string;
  /** The file, relative to the project. */
  display: string;
  /** What changes, one line each. */
  changes: string[];
  /** The file's text in today's form. */
  text: string;
}

/** The project's command files in the old form, and those that could not be read. */
export interface MigrationPlan {
  /** Files to rewrite. */
  migrations: Migration[];
  /** Files in the old form that do not load even once read in today's form: left alone, with why. */
  failed: { display: string; error: string }[];
}

/**
 * Finds the project's command files in the original PruneJuice's form and what each becomes.
 * Nothing is written.
 *
 * @param project the project
 * @param names only these commands (default: every project command)
 * @throws {UsageError} for a name that is not a project command
 */
export async function planMigrations(project: Project, names?: readonly string[]): Promise<MigrationPlan> {
  const dir = path.join(project.prjDir, "commands");
  const files = new Map<string, string>();
  try {
    for (const entry of Deno.readDirSync(dir)) {
      const m = /^(.+)\.ya?ml$/.exec(entry.name);
      if (m && (entry.isFile || entry.isSymlink) && !files.has(m[1]!)) files.set(m[1]!, path.join(dir, entry.name));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  for (const name of names ?? []) {
    if (!files.has(name)) {
      throw new UsageError(`"${name}" is not a command file of this project (.prj/commands/${name}.yaml)`, {
        hint: commandNames(project).includes(name)
          ? "templates are in today's form already"
          : "see `prj list` for the project's commands",
      });
    }
  }
  const plan: MigrationPlan = { migrations: [], failed: [] };
  for (const [name, file] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    if (names && names.length > 0 && !names.includes(name)) continue;
    const display = path.relative(project.root, file);
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (error) {
      plan.failed.push({ display, error: `cannot be read: ${(error as Error).message}` });
      continue;
    }
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, version: "1.2" });
    if (doc.errors.length > 0) continue; // not YAML: `prj list` shows why; nothing to migrate
    const changes = upgradeLegacy(doc, { prjDir: project.prjDir });
    if (changes.length === 0) continue;
    try {
      // The loader reads the old form the same way: if it does not load so, writing it would not help.
      await loadCommand(project, name);
    } catch (error) {
      if (!(error instanceof DefinitionError) && !(error instanceof UsageError)) throw error;
      plan.failed.push({ display, error: error.message });
      continue;
    }
    plan.migrations.push({
      name,
      file,
      display,
      changes,
      text: doc.toString({ lineWidth: 0, flowCollectionPadding: false }),
    });
  }
  return plan;
}

/**
 * Writes a migration: the new text replaces the file at once (a crash leaves the old or the new
 * file, never half of one), with the file's permissions.
 */
export async function applyMigration(migration: Migration): Promise<void> {
  const target = await Deno.realPath(migration.file); // through a link, rewrite what it leads to
  const mode = (await Deno.stat(target)).mode;
  const tmp = `${target}.prj-migrate-${Deno.pid}`;
  await Deno.writeTextFile(tmp, migration.text, mode === null ? {} : { mode: mode & 0o7777 });
  try {
    await Deno.rename(tmp, target);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}
