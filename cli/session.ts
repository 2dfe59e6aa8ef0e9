/** `prj session create|list|attach|kill|cleanup`. */
import type { PrjContext } from "../cli.ts";
import { PrjError } from "../lib/util/errors.ts";
import { ago, table } from "./io.ts";
import { openProject } from "../lib/project/project.ts";
import { getWorktree } from "../lib/workspace/worktrees/list.ts";
import {
  createSession,
  findSession,
  killSession,
  listSessions,
  planSessionCleanup,
} from "../lib/workspace/sessions.ts";
import { serverArgs } from "../lib/workspace/tmux.ts";
import { confirm, sweep } from "./confirm.ts";

async function project() {
  return await openProject();
}

/** `prj session create <worktree>`. */
export async function create(
  this: PrjContext,
  flags: { task?: string; attach?: boolean; json?: boolean },
  worktree: string,
): Promise<void> {
  const p = await project();
  const wt = await getWorktree(p, worktree);
  const session = await createSession(p, { name: wt.name, path: wt.path, port: wt.port ?? undefined }, flags.task);
  if (flags.json) this.io.json(session);
  else this.io.out(session.created ? `created session ${session.name}` : `session ${session.name} already exists`);
  if (flags.attach) await attachTo(this, session.name);
}

/** `prj session list [pattern]`. */
export async function list(this: PrjContext, flags: { json?: boolean }, pattern?: string): Promise<void> {
  const p = await project();
  const sessions = await listSessions(p, pattern);
  const { io } = this;
  if (flags.json) return io.json(sessions);
  if (sessions.length === 0) return io.out("no prj sessions; start one with `prj session create <worktree>`");
  io.out(table([
    ["SESSION", "WORKTREE", "CREATED", "ATTACHED", "PATH"].map((h) => io.paint("gray", h)),
    ...sessions.map((s) => [
      io.paint("bold", s.name),
      s.worktreeExists ? s.worktree : io.paint("red", `${s.worktree} (gone)`),
      ago(s.created),
      s.attached > 0 ? "yes" : "no",
      s.path,
    ]),
  ]));
}

/** Attaches this terminal to a session (switches the client when already inside tmux). */
export async function attachTo(ctx: PrjContext, name: string): Promise<void> {
  const inside = Deno.env.get("TMUX") !== undefined;
  if (!inside && !Deno.stdin.isTerminal()) {
    // tmux would only say "open terminal failed: not a terminal".
    throw new PrjError(`Cannot attach to session "${name}" here: this is not a terminal`, {
      hint: `run it in a terminal, or attach later with \`${
        ["tmux", ...serverArgs(), "attach", "-t", name].join(" ")
      }\``,
    });
  }
  const args = [...serverArgs(), inside ? "switch-client" : "attach-session", "-t", `=${name}`];
  const status = await new Deno.Command("tmux", { args, stdin: "inherit", stdout: "inherit", stderr: "inherit" })
    .spawn().status;
  ctx.exit.code = status.code;
}

/** `prj session attach <name-or-prefix>`. */
export async function attach(this: PrjContext, _flags: Record<string, never>, name: string): Promise<void> {
  const p = await project();
  const session = await findSession(p, name);
  await attachTo(this, session.name);
}

/** `prj session kill <name>`. */
export async function kill(this: PrjContext, flags: { yes?: boolean }, name: string): Promise<void> {
  const p = await project();
  const session = await findSession(p, name, { exact: true });
  if (!flags.yes && this.io.interactive) {
    if (!(await confirm(this.io, `Kill tmux session ${session.name}?`))) {
      this.exit.code = 1;
      return;
    }
  }
  await killSession(p, session.name);
  this.io.out(`killed session ${session.name}`);
}

/** `prj session cleanup`. */
export async function cleanup(
  this: PrjContext,
  flags: { dryRun?: boolean; yes?: boolean; json?: boolean },
): Promise<void> {
  const p = await project();
  const { kill: orphans, refused } = await planSessionCleanup(p);
  const { io } = this;
  if (!flags.json) { for (const r of refused) io.out(`keep ${r.name}: ${r.why}`); }
  await sweep(this, flags, {
    items: orphans,
    json: { key: "killed", item: (s) => s.name, extra: () => ({ refused }) },
    nothing: "no orphaned prj sessions",
    show: (items, dryRun) => {
      for (const s of items) io.out(`${dryRun ? "would kill" : "kill"} ${s.name} (worktree ${s.worktree} is gone)`);
    },
    question: `Kill ${orphans.length} session(s)?`,
    apply: async (items) => {
      for (const s of items) await killSession(p, s.name);
    },
    done: `killed ${orphans.length} session(s)`,
  });
}
