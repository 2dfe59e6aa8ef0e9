/** `prj task add|list|show|comment|set-status|release`: the configured task source (the built-in queue or Headless PM). */
import type { PrjContext } from "../cli.ts";
import { PrjError, UsageError } from "../lib/util/errors.ts";
import { table } from "./io.ts";
import { openProject } from "../lib/project/project.ts";
import { openStore } from "../lib/state/store.ts";
import { type Level, type Task, TASK_STATUSES, type TaskSource, type TaskStatus } from "../lib/agents/tasks/source.ts";
import { TaskQueue } from "../lib/agents/tasks/queue.ts";
import { taskSource } from "../lib/agents/tasks/configured.ts";
import { deleteTaskLocks, locksOnTask } from "../lib/state/agent_locks.ts";
import { didYouMean } from "../lib/util/suggest.ts";

async function open() {
  const project = await openProject();
  const store = openStore(project.prjDir);
  try {
    return { project, store, source: taskSource(project, store) };
  } catch (error) {
    store.close();
    throw error;
  }
}

function checkStatus(status: string, flag = "status"): TaskStatus {
  if (!(TASK_STATUSES as readonly string[]).includes(status)) {
    throw new UsageError(`Unknown ${flag} "${status}"${didYouMean(status, TASK_STATUSES)}`, {
      hint: `one of: ${TASK_STATUSES.join(", ")}`,
    });
  }
  return status as TaskStatus;
}

async function find(source: TaskSource, id: string): Promise<Task> {
  if (source instanceof TaskQueue) return source.require(id);
  const task = await source.get(id);
  if (!task) throw new UsageError(`No task ${id} in ${source.describe()}`, { hint: "see `prj task list`" });
  return task;
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
  const { store, source } = await open();
  try {
    if (!(source instanceof TaskQueue)) {
      throw new PrjError(
        `prj task add adds to the built-in queue, but this project takes its tasks from ${source.describe()} ` +
          "(task_source: headless-pm): create the task there, in an epic and feature, and approve it",
      );
    }
    const task = source.add({
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
  const status = flags.status === undefined ? undefined : checkStatus(flags.status, "--status");
  const { store, source } = await open();
  try {
    const tasks = (await source.list(status)).sort((a, b) => Number(a.id) - Number(b.id));
    if (flags.json) return this.io.json(tasks);
    if (tasks.length > 0) return this.io.out(rows(this, tasks));
    this.io.out(
      source instanceof TaskQueue
        ? "no tasks; add one with `prj task add <title>`"
        : `no tasks${status ? ` with status ${status}` : ""} in ${source.describe()}`,
    );
  } finally {
    store.close();
  }
}

/** `prj task show <id>`. */
export async function show(this: PrjContext, flags: { json?: boolean }, id: string): Promise<void> {
  const { store, source } = await open();
  try {
    const task = await find(source, id);
    const events = source instanceof TaskQueue ? source.events(id) : undefined;
    if (flags.json) return this.io.json(events ? { ...task, events } : task);
    const { io } = this;
    io.out(`${io.paint("bold", `task ${task.id}`)}: ${task.title}`);
    io.out(
      `status ${task.status}  role ${
        task.role ?? "any"
      }  difficulty ${task.difficulty}  complexity ${task.complexity}` +
        (task.branch ? `  branch ${task.branch}` : ""),
    );
    if (task.locked_by) io.out(`locked by ${task.locked_by} since ${task.locked_at}`);
    if (task.description) io.out(`\n${task.description}\n`);
    if (events) io.out(table(events.map((e) => [e.at, e.agent_id ?? "-", e.kind, e.detail ?? ""])));
    else if (task.notes) io.out(`${io.paint("gray", "notes")}\n${task.notes}`);
  } finally {
    store.close();
  }
}

/**
 * The agent a change to a Headless PM task is made as (the server records who changed what):
 * `--as`, else the task's holder, else the local agent that holds a lock on it.
 */
function actingAgent(source: TaskSource, store: ReturnType<typeof openStore>, task: Task, as?: string): string | null {
  if (as) return as;
  if (source instanceof TaskQueue) return null;
  const agent = task.locked_by ?? locksOnTask(store, task.id, source.kind)[0]?.agent_id;
  if (!agent) {
    throw new UsageError(
      `Task ${task.id} is not locked: say which registered agent makes the change with --as <agent-id>`,
      { hint: `${source.describe()} records who changed a task` },
    );
  }
  return agent;
}

/** `prj task comment <id> <text>`: added to the task's notes, which the next agent's prompt shows. */
export async function comment(this: PrjContext, flags: { as?: string }, id: string, text: string): Promise<void> {
  if (text.trim() === "") throw new UsageError("The comment is empty");
  const { store, source } = await open();
  try {
    const task = await find(source, id);
    if (source instanceof TaskQueue) await source.comment(task.id, flags.as ?? null, text);
    else await source.comment(task.id, flags.as ?? "prj", text);
    this.io.out(`task ${id}: comment added`);
  } finally {
    store.close();
  }
}

/** `prj task set-status <id> <status>`. */
export async function setStatus(
  this: PrjContext,
  flags: { as?: string },
  id: string,
  status: string,
): Promise<void> {
  const checked = checkStatus(status);
  const { store, source } = await open();
  try {
    const task = await find(source, id);
    const agent = actingAgent(source, store, task, flags.as);
    if (source instanceof TaskQueue) await source.setStatus(task.id, agent, checked);
    else await source.setStatus(task.id, agent!, checked);
    this.io.out(`task ${id}: ${status}`);
  } finally {
    store.close();
  }
}

/** `prj task release <id>`: a comment, the lock cleared, and the task back to where it was taken from. */
export async function release(this: PrjContext, flags: { as?: string; to?: string }, id: string): Promise<void> {
  const { store, source } = await open();
  try {
    const task = await find(source, id);
    const local = locksOnTask(store, task.id, source.kind)[0];
    const back = checkStatus(flags.to ?? local?.from_status ?? "created", "--to");
    const agent = actingAgent(source, store, task, flags.as);
    if (source instanceof TaskQueue) await source.release(task.id, agent, "released by hand", back);
    else await source.release(task.id, agent!, "released by hand", back);
    deleteTaskLocks(store, task.id, source.kind);
    this.io.out(`task ${id} released (status ${back}, no lock)`);
  } finally {
    store.close();
  }
}
