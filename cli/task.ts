/** `prj task add|list|show|set-status|release`: the built-in task queue. */
import type { PrjContext } from "../cli.ts";
import { UsageError } from "../lib/util/errors.ts";
import { table } from "./io.ts";
import { openProject } from "../lib/project/project.ts";
import { openStore } from "../lib/state/store.ts";
import { type Level, type Task, TASK_STATUSES, type TaskStatus } from "../lib/agents/tasks/source.ts";
import { TaskQueue } from "../lib/agents/tasks/queue.ts";
import { deleteTaskLocks } from "../lib/state/agent_locks.ts";
import { didYouMean } from "../lib/util/suggest.ts";

async function queue() {
  const project = await openProject();
  const store = openStore(project.prjDir);
  return { project, store, queue: new TaskQueue(store) };
}

/** `prj task add <title>`. */
export async function add(
  this: PrjContext,
  flags: {
    description?: string;
    file?: string;
    role?: string;
    difficulty?: Level;
    complexity?: "minor" | "major";
    branch?: string;
    json?: boolean;
  },
  title: string,
): Promise<void> {
  if (flags.description !== undefined && flags.file !== undefined) {
    throw new UsageError("Give --description or --file, not both");
  }
  let description = flags.description ?? "";
  if (flags.file !== undefined) {
    try {
      description = await Deno.readTextFile(flags.file);
    } catch {
      throw new UsageError(`--file: cannot read "${flags.file}"`);
    }
  }
  const { store, queue: q } = await queue();
  try {
    const task = q.add({
      title,
      description,
      ...(flags.role ? { role: flags.role } : {}),
      ...(flags.difficulty ? { difficulty: flags.difficulty } : {}),
      ...(flags.complexity ? { complexity: flags.complexity } : {}),
      ...(flags.branch ? { branch: flags.branch } : {}),
    });
    if (flags.json) this.io.json(task);
    else this.io.out(`added task ${task.id}: ${task.title}`);
  } finally {
    store.close();
  }
}

function rows(ctx: PrjContext, tasks: Task[]): string {
  const { io } = ctx;
  return table([
    ["ID", "STATUS", "ROLE", "DIFFICULTY", "LOCKED BY", "TITLE"].map((h) => io.paint("gray", h)),
    ...tasks.map((t) => [t.id, t.status, t.role ?? "any", t.difficulty, t.locked_by ?? "-", t.title]),
  ]);
}

/** `prj task list`. */
export async function list(this: PrjContext, flags: { status?: string; json?: boolean }): Promise<void> {
  const { store, queue: q } = await queue();
  try {
    const tasks = q.list(flags.status);
    if (flags.json) return this.io.json(tasks);
    this.io.out(tasks.length === 0 ? "no tasks; add one with `prj task add <title>`" : rows(this, tasks));
  } finally {
    store.close();
  }
}

/** `prj task show <id>`. */
export async function show(this: PrjContext, flags: { json?: boolean }, id: string): Promise<void> {
  const { store, queue: q } = await queue();
  try {
    const task = q.require(id);
    const events = q.events(id);
    if (flags.json) return this.io.json({ ...task, events });
    const { io } = this;
    io.out(`${io.paint("bold", `task ${task.id}`)}: ${task.title}`);
    io.out(
      `status ${task.status}  role ${task.role ?? "any"}  difficulty ${task.difficulty}  complexity ${task.complexity}`,
    );
    if (task.locked_by) io.out(`locked by ${task.locked_by} since ${task.locked_at}`);
    if (task.description) io.out(`\n${task.description}\n`);
    io.out(table(events.map((e) => [e.at, e.agent_id ?? "-", e.kind, e.detail ?? ""])));
  } finally {
    store.close();
  }
}

/** `prj task set-status <id> <status>`. */
export async function setStatus(
  this: PrjContext,
  _flags: Record<string, never>,
  id: string,
  status: string,
): Promise<void> {
  if (!(TASK_STATUSES as readonly string[]).includes(status)) {
    throw new UsageError(`Unknown status "${status}"${didYouMean(status, TASK_STATUSES)}`, {
      hint: `one of: ${TASK_STATUSES.join(", ")}`,
    });
  }
  const { store, queue: q } = await queue();
  try {
    await q.setStatus(q.require(id).id, null, status as TaskStatus);
    this.io.out(`task ${id}: ${status}`);
  } finally {
    store.close();
  }
}

/** `prj task release <id>`: clears the lock and puts the task back to created. */
export async function release(this: PrjContext, _flags: Record<string, never>, id: string): Promise<void> {
  const { store, queue: q } = await queue();
  try {
    const task = q.require(id);
    await q.release(task.id, null, "released by hand");
    deleteTaskLocks(store, task.id, "builtin");
    this.io.out(`task ${id} released (status created, no lock)`);
  } finally {
    store.close();
  }
}
