/** Asking before destructive work: on a TTY a yes/no prompt; without one, a refusal that names --yes. */
import type { PrjContext } from "../cli.ts";
import type { Io } from "./io.ts";

/** Asks a yes/no question on a TTY (default no). Without a TTY it refuses and says to pass --yes. */
export async function confirm(io: Io, question: string): Promise<boolean> {
  if (!io.interactive) {
    io.err(`${io.paint("red", "error:")} refusing without confirmation: no terminal to ask on; pass --yes`);
    return false;
  }
  const { confirm: ask } = await import("npm:@inquirer/prompts@8.8.0");
  try {
    return await ask({ message: question, default: false });
  } catch {
    return false; // Ctrl-C at the prompt
  }
}

/** A destructive command's work: what it would do, and how to do it. */
export interface Sweep<T> {
  /** The things it would remove. */
  items: T[];
  /** With `--json`: the key the items are listed under, how each is shown, and more keys. */
  json?: { key: string; item: (t: T) => unknown; extra?: () => Record<string, unknown> };
  /** Printed when there is nothing to do. */
  nothing: string;
  /** Prints what would be done (or what is about to be done). */
  show(items: T[], dryRun: boolean): void;
  /** The question asked on a TTY. */
  question: string;
  /** Does it (it may drop from `items` what it did not do after all). */
  apply(items: T[]): Promise<void>;
  /** Printed when done. */
  done: string | (() => string);
  /** Printed after the list of a dry run. */
  dryRunNote?: string;
}

/**
 * The one flow of `prune`, `cleanup` and `session cleanup`: show what would be done; stop
 * there with `--dry-run`; ask unless `--yes` (a refusal exits 1 on a TTY, 2 without one);
 * then apply.
 */
export async function sweep<T>(
  ctx: PrjContext,
  flags: { dryRun?: boolean; yes?: boolean; json?: boolean },
  work: Sweep<T>,
): Promise<void> {
  const { io } = ctx;
  const json = flags.json ? work.json : undefined;
  const report = (items: T[], dryRun: boolean) =>
    io.json({ [json!.key]: items.map(json!.item), ...json!.extra?.(), dryRun });
  if (work.items.length === 0) return json ? report([], flags.dryRun ?? false) : io.out(work.nothing);
  // Before a question (or a refusal without a terminal) the list is what would be done, not what is done.
  if (!json) work.show(work.items, (flags.dryRun ?? false) || !flags.yes);
  if (flags.dryRun) return json ? report(work.items, true) : work.dryRunNote ? io.out(work.dryRunNote) : undefined;
  if (!flags.yes && !(await confirm(io, work.question))) {
    ctx.exit.code = io.interactive ? 1 : 2;
    return;
  }
  await work.apply(work.items);
  if (json) report(work.items, false);
  else io.out(typeof work.done === "string" ? work.done : work.done());
}
