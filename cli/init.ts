/** `prj init`. */
import type { PrjContext } from "../cli.ts";
import { initProject } from "../lib/project/init.ts";
import { repositoryRoot } from "../lib/project/project.ts";

/** Creates .prj/ in a folder. */
export async function init(this: PrjContext, flags: { force?: boolean }, dir?: string): Promise<void> {
  const { io } = this;
  // With no folder, the project is the repository prj was started in (its root, from any folder of it).
  const root = dir ?? repositoryRoot(Deno.cwd()) ?? Deno.cwd();
  if (dir === undefined && root !== Deno.cwd()) {
    io.out(`${io.paint("gray", "project")}  ${root} (the repository's root)`);
  }
  const result = await initProject(root, { force: flags.force ?? false });
  for (const f of result.created) io.out(`${io.paint("green", "created")}  ${f}`);
  for (const f of result.overwritten) io.out(`${io.paint("yellow", "replaced")} ${f}`);
  if (result.kept.length > 0) {
    io.out(
      `${io.paint("gray", "kept")}     ${result.kept.length} existing file(s)${
        flags.force ? "" : " (--force replaces them)"
      }`,
    );
  }
  if (result.gitignoreUpdated) io.out(`${io.paint("green", "updated")}  .gitignore (state and artifacts)`);
  io.out(`prj project ready in ${result.root}; try: prj list`);
}
