/**
 * Before a command that touches worktrees or runs: what a prj process that died (kill -9, a
 * crash, a second Ctrl-C) left half-made is finished or undone, one line each on stderr.
 */
import type { PrjContext } from "../cli.ts";
import { findProjectRoot, openProject } from "../lib/project/project.ts";
import { openStore } from "../lib/state/store.ts";
import { journalDir } from "../lib/state/journal.ts";
import { importLazy } from "../lib/util/lazy.ts";
import * as path from "../lib/util/path.ts";

/** Whether the journal holds anything (the reconciler loads only then). */
function journalHasEntries(prjDir: string): boolean {
  try {
    for (const _ of Deno.readDirSync(journalDir(prjDir))) return true;
  } catch { /* no journal yet */ }
  return false;
}

/** Repairs what dead prj processes left, telling the user in one line per repair. */
export async function reconcileFirst(ctx: PrjContext): Promise<void> {
  const found = findProjectRoot(Deno.cwd());
  if (!found || !journalHasEntries(path.join(found.root, ".prj"))) return;
  let project;
  try {
    project = await openProject();
  } catch {
    return; // the command itself says what is wrong with the project
  }
  const { reconcile } = await importLazy<typeof import("../lib/workspace/reconcile.ts")>(
    "../lib/workspace/reconcile.ts",
    import.meta.url,
  );
  const store = openStore(project.prjDir);
  try {
    await reconcile(project, store, (r) => {
      const label = r.outcome === "failed" ? ctx.io.paint("red", "not repaired:") : ctx.io.paint("yellow", "repaired:");
      ctx.io.err(`${label} ${r.message}`);
    });
  } finally {
    store.close();
  }
}
