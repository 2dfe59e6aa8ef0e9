/** A command's `prompt_file`: from `.prj/`, else the shipped templates. */
import * as path from "../util/path.ts";
import type { Project } from "../project/project.ts";
import type { CommandDefinition } from "./schema.ts";
import { UsageError } from "../util/errors.ts";
import { TEMPLATE_FILES } from "../../templates/mod.ts";

/**
 * Loads the command's prompt file, so a missing prompt fails before the run starts.
 *
 * @returns the file (as shown) and its text, or undefined when the command has none
 * @throws {UsageError} when the file is neither in `.prj/` nor a shipped template
 */
export async function loadPrompt(
  project: Project,
  def: CommandDefinition,
): Promise<{ file: string; text: string } | undefined> {
  if (!def.prompt_file) return undefined;
  const file = path.resolve(project.prjDir, def.prompt_file);
  try {
    return { file, text: await Deno.readTextFile(file) };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const text = TEMPLATE_FILES[def.prompt_file.replace(/^\.\//, "")];
  if (text !== undefined) return { file: `templates/${def.prompt_file}`, text };
  throw new UsageError(
    `${def.source.file}: prompt_file: "${def.prompt_file}" not found in .prj/ or the shipped templates`,
  );
}
