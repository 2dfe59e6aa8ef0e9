/** `prj migrate`: command files of the original PruneJuice, rewritten in today's form. */
import type { PrjContext } from "../cli.ts";
import { openProject } from "../lib/project/project.ts";
import { applyMigration, type Migration, planMigrations } from "../lib/definitions/migrate.ts";
import { sweep } from "./confirm.ts";

/** Shows what would change, asks (or takes `--yes`), then rewrites the files. */
export async function migrate(
  this: PrjContext,
  flags: { dryRun?: boolean; yes?: boolean; json?: boolean },
  ...names: string[]
): Promise<void> {
  const project = await openProject();
  const plan = await planMigrations(project, names);
  const { io } = this;
  if (!flags.json) {
    for (const f of plan.failed) io.err(`${io.paint("yellow", "skipped")} ${f.display}: ${f.error}`);
  }
  await sweep<Migration>(this, flags, {
    items: plan.migrations,
    json: {
      key: "migrated",
      item: (m) => ({ command: m.name, file: m.display, changes: m.changes }),
      extra: () => ({ skipped: plan.failed }),
    },
    nothing: plan.failed.length > 0
      ? "no other command file is in the old form"
      : "every command file is in today's form; nothing to migrate",
    show: (items, dryRun) => {
      io.out(
        `${items.length} command file(s) in the original PruneJuice's form${dryRun ? " would be rewritten" : ""}:`,
      );
      for (const m of items) {
        io.out(`  ${io.paint("bold", m.display)}`);
        for (const change of m.changes) io.out(`    ${change}`);
      }
    },
    question: `Rewrite ${plan.migrations.length} file(s) in today's form (comments are kept)?`,
    apply: async (items) => {
      for (const m of items) await applyMigration(m);
    },
    done: `rewrote ${plan.migrations.length} file(s) in today's form`,
    dryRunNote: "dry run: nothing written",
  });
  if (plan.failed.length > 0 && this.exit.code === undefined) this.exit.code = 1;
}
