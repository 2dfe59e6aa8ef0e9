/** Built-in step `fan-out`: runs one command per item at once (one worktree, session and agent each). */
import type { BuiltinContext, StepResult } from "../lib/run/contract.ts";
import { loadCommand } from "../lib/definitions/loader.ts";
import { parseArguments } from "../lib/definitions/arguments.ts";
import { runCommand } from "../lib/run/executor.ts";
import { newRunId } from "../lib/run/run_id.ts";

/**
 * Runs `with.command` once per item of `with.over` (a list, or a comma-separated string),
 * all at once, passing each item as the argument named `with.as` plus `with.args`.
 * Each child is a run of its own, recorded with this run as its parent. Fails (after all
 * have finished) when any child failed, naming them.
 */
export default async function fanOut(ctx: BuiltinContext): Promise<StepResult> {
  const command = ctx.with.command;
  const as = ctx.with.as;
  if (typeof command !== "string" || typeof as !== "string") {
    throw new Error(
      'fan-out needs with.command and with.as, e.g. `with: { command: feature-branch, over: "{{ args.tasks }}", as: feature_name }`',
    );
  }
  const over = ctx.with.over;
  const items = (Array.isArray(over) ? over.map(String) : String(over ?? "").split(","))
    .map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 0) throw new Error("with.over: no items to fan out over");
  if (new Set(items).size !== items.length) throw new Error(`with.over: items repeat (${items.join(", ")})`);
  const extra = (ctx.with.args ?? {}) as Record<string, unknown>;
  const def = await loadCommand(ctx.project, command);
  const argSets = items.map((item) =>
    parseArguments(def, [
      ...Object.entries(extra).filter(([, v]) => v !== undefined && v !== "").map(([k, v]) =>
        `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`
      ),
      `${as}=${item}`,
    ], ctx.paths.cwd)
  );
  ctx.log(`starting ${items.length} run(s) of ${command}: ${items.join(", ")}`);
  const results = await Promise.all(items.map((item, i) =>
    runCommand(ctx.project, def, {
      args: argSets[i]!,
      model: ctx.model,
      signal: ctx.signal,
      parentId: ctx.run.id,
      runId: newRunId(),
      store: ctx.store,
      onEvent: (event) => {
        if (event.type === "step-end") {
          ctx.log(`[${item}] ${event.name} ${event.status}${event.error ? `: ${event.error}` : ""}`);
        } else if (event.type === "run-end") ctx.log(`[${item}] run ${event.runId} ${event.status}`);
        else if (event.type === "notice") ctx.log(`[${item}] ${event.message}`);
      },
    })
  ));
  const children = results.map((r, i) => ({
    item: items[i]!,
    runId: r.runId,
    status: r.status,
    worktree: r.worktree?.path ?? null,
    branch: r.worktree?.branch ?? null,
    session: r.session ?? null,
  }));
  ctx.shared.set("children", children);
  const failed = children.filter((c) => c.status !== "succeeded");
  if (failed.length > 0) {
    throw new Error(
      `${failed.length} of ${children.length} run(s) did not succeed: ${
        failed.map((f) => `${f.item} (${f.status}, run ${f.runId})`).join(", ")
      }`,
    );
  }
  return {
    output: `${children.length} run(s) succeeded: ${children.map((c) => c.item).join(", ")}`,
    data: { children },
  };
}
