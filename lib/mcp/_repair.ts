/**
 * Before a tool acts, what a prj process that died (kill -9, a crash) left half-made is finished
 * or undone, as the CLI does before each command that touches runs or worktrees: `prj mcp` can
 * serve for hours while prj processes beside it come and go. One line per repair on stderr.
 */
import type { CallToolResult } from "npm:@modelcontextprotocol/sdk@1.32.2/types.js";
import type { Project } from "../project/project.ts";
import { hasJournalEntries } from "../state/journal.ts";
import { openStore } from "../state/store.ts";
import { reconcile } from "../workspace/reconcile.ts";
import { guarded } from "./_tools.ts";

/** What a server's tools and resources call first. */
export interface Repairs {
  /** Repairs (one at a time: concurrent calls wait for the one going), then nothing more. */
  repair(): Promise<void>;
  /** {@link guarded}, after {@link Repairs.repair}; a repair that cannot be made is the tool's error. */
  guarded(fn: () => CallToolResult | Promise<CallToolResult>): Promise<CallToolResult>;
}

/**
 * The repairs of a server's project.
 *
 * @param project the project served
 * @param report told each repair as one line (stderr by default: stdout is the protocol's)
 */
export function repairsFor(project: Project, report: (line: string) => void = (line) => console.error(line)): Repairs {
  let last: Promise<void> = Promise.resolve();
  const once = async () => {
    if (!hasJournalEntries(project.prjDir)) return;
    const store = openStore(project.prjDir);
    try {
      await reconcile(
        project,
        store,
        (r) => report(`${r.outcome === "failed" ? "not repaired:" : "repaired:"} ${r.message}`),
      );
    } finally {
      store.close();
    }
  };
  const repair = () => last = last.catch(() => {}).then(once);
  return {
    repair,
    guarded: (fn) =>
      guarded(async () => {
        await repair();
        return await fn();
      }),
  };
}
