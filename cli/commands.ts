/** `prj list` and `prj show`. */
import type { PrjContext } from "../cli.ts";
import { table } from "./io.ts";
import { openProject } from "../lib/project/project.ts";
import { listCommands, loadCommand } from "../lib/definitions/loader.ts";

/** Lists commands. */
export async function list(this: PrjContext, flags: { json?: boolean }): Promise<void> {
  const commands = await listCommands(await openProject());
  const { io } = this;
  if (flags.json) return io.json(commands);
  const rows = commands.map((c) => [
    io.paint("bold", c.name),
    c.error ? io.paint("red", "invalid") : c.category,
    c.source.kind === "project"
      ? `${c.source.file}${c.shadows ? " (shadows template)" : ""}${
        c.legacy ? io.paint("yellow", " (old PruneJuice form; prj migrate)") : ""
      }`
      : "template",
    c.error ? io.paint("red", c.error) : c.description,
  ]);
  io.out(table([["COMMAND", "CATEGORY", "SOURCE", "DESCRIPTION"].map((h) => io.paint("gray", h)), ...rows]));
}

/** Shows one command after `extends`. */
export async function show(this: PrjContext, flags: { json?: boolean }, name: string): Promise<void> {
  const def = await loadCommand(await openProject(), name);
  const { io } = this;
  if (flags.json) return io.json(def);
  const { stringify } = await import("npm:yaml@2.9.1");
  const { source, ...rest } = def;
  io.out(io.paint("gray", `# ${def.name} from ${source.chain.join(" <- extends ")}`));
  if (source.legacy) {
    io.out(
      io.paint("gray", `# ${source.file} is in the original PruneJuice's form, read as (prj migrate writes it so):`),
    );
    for (const change of source.legacy) io.out(io.paint("gray", `#   ${change}`));
  }
  io.raw(stringify(rest, { lineWidth: 100 }));
}
