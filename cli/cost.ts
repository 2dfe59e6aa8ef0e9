/** `prj cost`: what the agents used and cost, per day, run, agent or task. */
import type { PrjContext } from "../cli.ts";
import { table } from "./io.ts";
import { type CostBy, formatUsd, projectCostReport } from "../lib/agents/cost.ts";
import { openProject } from "../lib/project/project.ts";
import { openStore } from "../lib/state/store.ts";

const HEADER: Record<CostBy, string> = { day: "DAY", run: "RUN", agent: "AGENT", task: "TASK" };

/** Token counts as `1.2k`, `3.4M`. */
function tokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** `prj cost [--by day|run|agent|task] [--since 7d] [--json]`. */
export async function cost(this: PrjContext, flags: { by?: CostBy; since?: string; json?: boolean }): Promise<void> {
  const project = await openProject();
  const store = openStore(project.prjDir);
  const { io } = this;
  try {
    const report = projectCostReport(project, store, { by: flags.by ?? "day", since: flags.since });
    if (flags.json) return io.json(report);
    if (report.lines.length === 0) {
      return io.out(`no agent usage recorded${flags.since ? ` since ${flags.since}` : ""}`);
    }
    const cells = (l: Omit<(typeof report.lines)[number], "key" | "first_at" | "last_at">) => [
      String(l.launches),
      tokens(l.input_tokens),
      tokens(l.output_tokens),
      tokens(l.cache_read),
      tokens(l.cache_write),
      formatUsd(l.cost_usd, l.unknown_costs > 0, l.priced_costs > 0),
    ];
    io.out(table([
      [HEADER[report.by], "LAUNCHES", "INPUT", "OUTPUT", "CACHE READ", "CACHE WRITE", "COST", "MODELS"].map((h) =>
        io.paint("gray", h)
      ),
      ...report.lines.map((l) => [l.key, ...cells(l), l.models.join(", ") || "-"]),
      [io.paint("bold", "total"), ...cells(report.total).map((c) => io.paint("bold", c)), ""],
    ]));
    if (report.total.priced_costs > 0) {
      io.out(io.paint("gray", "~: computed from the prices of the models (the agent reported no cost)"));
    }
    if (report.total.unknown_costs > 0) {
      io.out(io.paint(
        "gray",
        "?: cost not known (the agent reported none and its model has no price; add one under agent.prices in .prj/config.yaml)",
      ));
    }
  } finally {
    store.close();
  }
}
