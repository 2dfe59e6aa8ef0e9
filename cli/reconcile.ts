/**
 * Before a command that touches worktrees or runs: what a prj process that died (kill -9, a
 * crash, a second Ctrl-C) left half-made is finished or undone, one line each on stderr.
 */
import type { PrjContext } from "../cli.ts";
import { findProjectRoot, openProject } from "../lib/project/project.ts";
import { openStore } from "../lib/state/store.ts";
import { hasJournalEntries } from "../lib/state/journal.ts";
import { importLazy } from "../lib/util/lazy.ts";
import * as path from "../lib/util/path.ts";

/** Repairs what dead prj processes left, telling the user in one line per repair. */
export async function reconcileFirst(ctx: PrjContext): Promise<void> {
  const found = findProjectRoot(Deno.cwd());
  if (!found || !hasJournalEntries(path.join(found.root, ".prj"))) return;
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
