/**
 * The `prj` command line: the table of its commands (plain data: names, flags, arguments, and
 * the loader of each body), and `main`, which prints the bare table itself (`prj`, `prj --help`;
 * cli/help.ts) and hands every other invocation to stricli (cli/app.ts), which parses, loads the
 * command's code lazily, and chooses the exit code (0 ok, 1 run failed, 2 usage, 130 cancelled).
 * Subcommand bodies live in cli/ (presentation only); the engine is in lib/.
 *
 * @module
 */
import type { CommandContext } from "npm:@stricli/core@1.3.0";
import { PrjError } from "./lib/util/errors.ts";
import { importLazy } from "./lib/util/lazy.ts";
import { type Io, processIo } from "./cli/io.ts";
import { rootHelp } from "./cli/help.ts";

/** What every CLI command receives as `this`. */
export interface PrjContext extends CommandContext {
  /** Output. */
  io: Io;
  /** The exit code a command chose. */
  exit: { code: number | undefined };
  /** The help to read for this invocation (`see \`prj run --help\``), for a usage mistake that names none. */
  helpHint?: () => Promise<string>;
}

// deno-lint-ignore no-explicit-any
type Fn = (this: PrjContext, flags: any, ...args: any[]) => void | Promise<void>;

/**
 * Wraps a command body: a PrjError becomes one red line (plus hint) and its exit code; so does
 * what the machine refused (a full disk, a locked or damaged database); a bug keeps its stack.
 */
function guard(fn: Fn): Fn {
  return async function (this: PrjContext, flags, ...args) {
    try {
      await fn.call(this, flags, ...args);
    } catch (caught) {
      const error = caught instanceof PrjError ? caught : await explained(caught);
      if (error instanceof PrjError) {
        this.io.err(`${this.io.paint("red", "error:")} ${error.message}`);
        // A usage mistake always says what to read next: its own hint, else the command's help.
        const hint = error.hint ?? (error.name === "UsageError" ? await this.helpHint?.() : undefined);
        if (hint) this.io.err(`${this.io.paint("gray", "hint:")} ${hint}`);
        this.exit.code = error.exitCode;
        return;
      }
      throw error;
    }
  };
}

/** An error of the database or the operating system as a PrjError (the modules load only on this path). */
async function explained(error: unknown): Promise<unknown> {
  const { stateError } = await importLazy<typeof import("./lib/state/errors.ts")>(
    "./lib/state/errors.ts",
    import.meta.url,
  );
  const { osError } = await importLazy<typeof import("./lib/util/os_errors.ts")>(
    "./lib/util/os_errors.ts",
    import.meta.url,
  );
  return stateError(error) ?? osError(error) ?? error;
}

function lazy(load: () => Promise<Fn>): () => Promise<Fn> {
  return async () => guard(await load());
}

/**
 * Loads a command body from cli/<file>.ts. The specifier is computed on purpose: Deno walks
 * literal dynamic imports when it starts, so literal ones here would load the whole engine
 * (yaml, zod, sqlite...) before `prj --help` could answer. `deno task compile` includes cli/.
 */
async function body(file: string, name: string): Promise<Fn> {
  const mod = await importLazy<Record<string, unknown>>(`./cli/${file}.ts`, import.meta.url);
  const fn = mod[name] as Fn;
  if (!TOUCHING.has(file)) return fn;
  // First, what a prj process that died left half-made is finished or undone (one line each).
  const { reconcileFirst } = await importLazy<typeof import("./cli/reconcile.ts")>(
    "./cli/reconcile.ts",
    import.meta.url,
  );
  return async function (this: PrjContext, flags, ...args) {
    await reconcileFirst(this);
    await fn.call(this, flags, ...args);
  };
}

/** The command groups that touch worktrees or runs: each reconciles first (see cli/reconcile.ts). */
const TOUCHING = new Set(["run", "history", "worktree", "session", "agent", "fleet", "conflicts"]);

/**
 * A command of the table: what stricli's `buildCommand` takes. The table is plain data, so
 * `prj --help` prints it (cli/help.ts) without loading the parser; cli/app.ts builds stricli's
 * application from it for everything else.
 */
export interface CommandSpec {
  /** A command. */
  kind: "command";
  /** Loads the command's body. */
  loader: () => Promise<Fn>;
  /** Its flags and arguments, in stricli's form. */
  // deno-lint-ignore no-explicit-any
  parameters: any;
  /** Its one-line description. */
  docs: { brief: string; customUsage?: string[] };
}

/** A group of commands (`prj worktree ...`): what stricli's `buildRouteMap` takes. */
export interface GroupSpec {
  /** A group. */
  kind: "group";
  /** Its commands and groups, by name. */
  routes: Record<string, Route>;
  /** Other names for some of them. */
  aliases?: Record<string, string>;
  /** The command run when the group is named alone. */
  defaultCommand?: string;
  /** Its one-line description. */
  docs: { brief: string };
}

/** A command or a group. */
export type Route = CommandSpec | GroupSpec;

/** A command of the table; flag and argument types are checked by each command body's signature instead. */
function command(spec: Omit<CommandSpec, "kind">): CommandSpec {
  return { kind: "command", ...spec };
}

/** A group of the table. */
function group(spec: Omit<GroupSpec, "kind">): GroupSpec {
  return { kind: "group", ...spec };
}

const text = { kind: "parsed", parse: String } as const;
const json = { kind: "boolean", brief: "Print JSON for scripts", optional: true } as const;
const yes = { kind: "boolean", brief: "Do not ask for confirmation", optional: true } as const;
const dryRun = { kind: "boolean", brief: "Show what would be done, change nothing", optional: true } as const;
const maxAgents = {
  kind: "parsed",
  parse: (input: string) => positiveInt(input),
  brief: "At most this many agents live at once; the rest wait in order (default: agent.max_agents)",
  optional: true,
  placeholder: "n",
} as const;

/** Proposes names for shell completion; cli/complete.ts loads only when a shell asks. */
function complete(kind: "commands" | "worktrees" | "sessions"): (partial: string) => Promise<string[]> {
  return async (partial) => {
    const names = await importLazy<typeof import("./cli/complete.ts")>("./cli/complete.ts", import.meta.url);
    return names[kind](partial);
  };
}

const commandName = {
  ...text,
  brief: "Command name",
  placeholder: "command",
  proposeCompletions: complete("commands"),
};
/** An existing worktree, by name (completed from prj's records). */
const worktreeName = {
  ...text,
  brief: "Worktree name",
  placeholder: "name",
  proposeCompletions: complete("worktrees"),
};
/** An existing session, by name or unique prefix (completed from tmux). */
const sessionName = {
  ...text,
  brief: "Session name or unique prefix",
  placeholder: "name",
  proposeCompletions: complete("sessions"),
};

/** Every command of `prj`. */
export const routes: GroupSpec = group({
  routes: {
    init: command({
      loader: lazy(() => body("init", "init")),
      parameters: {
        flags: {
          force: { kind: "boolean", brief: "Overwrite files prj wrote before, even if changed", optional: true },
        },
        positional: {
          kind: "tuple",
          parameters: [{ ...text, brief: "Project folder (default: here)", placeholder: "dir", optional: true }],
        },
      },
      docs: { brief: "Create .prj/ with the templates, an example step and config" },
    }),
    list: command({
      loader: lazy(() => body("commands", "list")),
      parameters: { flags: { json } },
      docs: { brief: "List the commands of this project and where each comes from" },
    }),
    show: command({
      loader: lazy(() => body("commands", "show")),
      parameters: { flags: { json }, positional: { kind: "tuple", parameters: [commandName] } },
      docs: { brief: "Show a command's definition after extends" },
    }),
    migrate: command({
      loader: lazy(() => body("migrate", "migrate")),
      parameters: {
        flags: { dryRun: { ...dryRun, brief: "Show what would change; write nothing" }, yes, json },
        positional: {
          kind: "array",
          parameter: { ...commandName, brief: "Only these commands (default: every one)", placeholder: "command" },
        },
      },
      docs: { brief: "Rewrite command files of the original PruneJuice (script:, args:...) in today's form" },
    }),
    run: command({
      loader: lazy(() => body("run", "runCli")),
      parameters: {
        flags: {
          dryRun: { ...dryRun, brief: "Print the resolved plan; create no run, no artifacts" },
          json,
          model: { ...text, brief: "The agent model for launch-agent", optional: true, placeholder: "model" },
          maxAgents,
        },
        positional: {
          kind: "array",
          parameter: {
            ...commandName,
            brief: "The command, then its key=value arguments",
            placeholder: "command",
          },
          minimum: 1,
        },
      },
      docs: {
        brief: "Run a command: prj run <command> key=value...",
        customUsage: ["<command> [key=value...] [--dry-run] [--json] [--model m] [--max-agents n]"],
      },
    }),
    status: command({
      loader: lazy(() => body("history", "status")),
      parameters: { flags: { json } },
      docs: { brief: "Show the project, active runs and recent runs" },
    }),
    history: command({
      loader: lazy(() => body("history", "history")),
      parameters: {
        flags: {
          limit: {
            kind: "parsed",
            parse: positiveInt,
            brief: "How many runs (default 20)",
            optional: true,
            placeholder: "n",
          },
          status: {
            kind: "enum",
            values: ["running", "succeeded", "failed", "cancelled", "timed_out", "interrupted"],
            brief: "Only runs with this status",
            optional: true,
          },
          command: { ...text, brief: "Only runs of this command", optional: true, placeholder: "command" },
          json,
        },
      },
      docs: { brief: "List past runs, newest first" },
    }),
    logs: command({
      loader: lazy(() => body("history", "logs")),
      parameters: {
        flags: { follow: { kind: "boolean", brief: "Keep printing as the run writes", optional: true } },
        positional: {
          kind: "tuple",
          parameters: [
            { ...text, brief: "Run id (or unique prefix)", placeholder: "run-id" },
            { ...text, brief: "Step name or number", placeholder: "step", optional: true },
          ],
        },
      },
      docs: { brief: "Print a run's log, or one step's" },
    }),
    cleanup: command({
      loader: lazy(() => body("history", "cleanup")),
      parameters: {
        flags: {
          olderThan: {
            ...text,
            brief: "Age of runs to delete, e.g. 30d, 12h (default 30d)",
            optional: true,
            placeholder: "age",
          },
          yes,
          dryRun,
        },
      },
      docs: { brief: "Delete old finished runs, their artifacts and agent launch folders" },
    }),
    completions: command({
      loader: lazy(() => body("completions", "completions")),
      parameters: {
        positional: {
          kind: "tuple",
          parameters: [{ kind: "parsed", parse: shellName, brief: "bash, zsh or fish", placeholder: "shell" }],
        },
      },
      docs: { brief: "Print a shell completion script (bash, zsh or fish)" },
    }),
    task: group({
      routes: {
        add: command({
          loader: lazy(() => body("task", "add")),
          parameters: {
            flags: {
              description: { ...text, brief: "What to do", optional: true, placeholder: "text" },
              file: { ...text, brief: "Read the description from a file", optional: true, placeholder: "file" },
              role: {
                ...text,
                brief: "The role that should take it (default: any)",
                optional: true,
                placeholder: "role",
              },
              difficulty: {
                kind: "enum",
                values: ["junior", "senior", "principal"],
                brief: "Skill level needed (default senior)",
                optional: true,
              },
              complexity: {
                kind: "enum",
                values: ["minor", "major"],
                brief: "minor or major (default minor)",
                optional: true,
              },
              branch: {
                ...text,
                brief: "Branch to work on (default: task-<id>-<title>)",
                optional: true,
                placeholder: "branch",
              },
              json,
            },
            positional: { kind: "tuple", parameters: [{ ...text, brief: "Task title", placeholder: "title" }] },
          },
          docs: { brief: "Add a task to the built-in queue (Headless PM tasks are made there)" },
        }),
        list: command({
          loader: lazy(() => body("task", "list")),
          parameters: {
            flags: {
              status: { ...text, brief: "Only tasks with this status", optional: true, placeholder: "status" },
              json,
            },
          },
          docs: { brief: "List tasks" },
        }),
        show: command({
          loader: lazy(() => body("task", "show")),
          parameters: {
            flags: { json },
            positional: { kind: "tuple", parameters: [{ ...text, brief: "Task id", placeholder: "id" }] },
          },
          docs: { brief: "Show a task and its history" },
        }),
        comment: command({
          loader: lazy(() => body("task", "comment")),
          parameters: {
            flags: { as: { ...text, brief: "Who comments (default: prj)", optional: true, placeholder: "agent" } },
            positional: {
              kind: "tuple",
              parameters: [{ ...text, brief: "Task id", placeholder: "id" }, {
                ...text,
                brief: "The comment",
                placeholder: "text",
              }],
            },
          },
          docs: { brief: "Comment on a task (the next agent's prompt shows its notes)" },
        }),
        "set-status": command({
          loader: lazy(() => body("task", "setStatus")),
          parameters: {
            flags: {
              as: {
                ...text,
                brief: "Headless PM: the agent making the change (default: the holder)",
                optional: true,
                placeholder: "agent",
              },
            },
            positional: {
              kind: "tuple",
              parameters: [{ ...text, brief: "Task id", placeholder: "id" }, {
                ...text,
                brief: "New status",
                placeholder: "status",
              }],
            },
          },
          docs: { brief: "Set a task's status" },
        }),
        release: command({
          loader: lazy(() => body("task", "release")),
          parameters: {
            flags: {
              as: {
                ...text,
                brief: "Headless PM: the agent making the change (default: the holder)",
                optional: true,
                placeholder: "agent",
              },
              to: {
                ...text,
                brief: "The status it goes back to (default: the one it was taken at, else created)",
                optional: true,
                placeholder: "status",
              },
            },
            positional: { kind: "tuple", parameters: [{ ...text, brief: "Task id", placeholder: "id" }] },
          },
          docs: { brief: "Give a task back: a comment, its lock cleared, its status back to created" },
        }),
      },
      docs: { brief: "Tasks of the configured source (the built-in queue, or Headless PM)" },
    }),
    agent: group({
      routes: {
        run: command({
          loader: lazy(() => body("agent", "run")),
          parameters: {
            flags: {
              role: { ...text, brief: "Take tasks for this role", placeholder: "role" },
              agentId: { ...text, brief: "This agent's id (keep it across restarts to resume)", placeholder: "id" },
              level: {
                kind: "enum",
                values: ["junior", "senior", "principal"],
                brief: "Highest difficulty to take (default senior)",
                optional: true,
              },
              singleTask: { kind: "boolean", brief: "Stop after one task", optional: true },
              exitWhenEmpty: {
                kind: "boolean",
                brief: "Stop when there is no task instead of polling",
                optional: true,
              },
              hooksDir: {
                ...text,
                brief: "Folder with pre-task, post-task and health-check hooks",
                optional: true,
                placeholder: "dir",
              },
              poll: {
                ...text,
                brief: "Wait between polls of an empty queue (default 30s)",
                optional: true,
                placeholder: "30s",
              },
              budget: {
                kind: "parsed",
                parse: usd,
                brief: "Take no new task once today's recorded agent spend reaches this many USD (then exit 3)",
                optional: true,
                placeholder: "usd",
              },
              json: { kind: "boolean", brief: "One JSON event per line", optional: true },
              maxAgents,
            },
          },
          docs: { brief: "Work through tasks: each in its own worktree, resumed after a crash" },
        }),
        resume: command({
          loader: lazy(() => body("agent", "resume")),
          parameters: {
            positional: {
              kind: "tuple",
              parameters: [{ ...worktreeName, brief: "The worktree the agent worked in", placeholder: "worktree" }],
            },
          },
          docs: { brief: "Restart an agent in its session with its conversation (after a reboot or a killed tmux)" },
        }),
        status: command({
          loader: lazy(() => body("agent", "status")),
          parameters: { flags: { json } },
          docs: { brief: "Show each local agent: task, phase, since when, last heartbeat" },
        }),
      },
      docs: { brief: "Run coding agents against a task queue" },
    }),
    fleet: group({
      routes: {
        show: command({
          loader: lazy(() => body("fleet", "fleet")),
          parameters: {
            flags: {
              watch: {
                kind: "boolean",
                brief: "Refresh in place (TTY; keys 1-9 attach, q quit) or print snapshots",
                optional: true,
              },
              json,
              interval: {
                ...text,
                brief: "Refresh interval for --watch (default 2s)",
                optional: true,
                placeholder: "2s",
              },
              attach: {
                ...text,
                brief: "Attach to the agent in this row number, worktree or session",
                optional: true,
                placeholder: "row",
              },
            },
          },
          docs: {
            brief: "Every agent at a glance: state (working, waiting for input, idle, exited, gone), branch, port",
          },
        }),
        restore: command({
          loader: lazy(() => body("fleet", "restore")),
          parameters: {
            flags: { dryRun: { ...dryRun, brief: "Only say what would be restored; start nothing" }, json },
          },
          docs: {
            brief: "After a reboot or a killed tmux server: every agent that was live, back in its session, resumed",
          },
        }),
      },
      defaultCommand: "show",
      docs: { brief: "Every agent at a glance: state (working, waiting for input, idle, exited, gone), branch, port" },
    }),
    conflicts: command({
      loader: lazy(() => body("conflicts", "conflictsCommand")),
      parameters: {
        flags: { json },
        positional: {
          kind: "tuple",
          parameters: [{
            ...worktreeName,
            brief: "Only this worktree's overlaps",
            placeholder: "worktree",
            optional: true,
          }],
        },
      },
      docs: {
        brief: "Worktrees that change the same files, and where merging them would conflict (exit 1 if so)",
      },
    }),
    doctor: command({
      loader: lazy(() => body("doctor", "doctor")),
      parameters: { flags: { json } },
      docs: {
        brief: "Check the project's state (config, database, worktrees, sessions) and repair what a crash left",
      },
    }),
    cost: command({
      loader: lazy(() => body("cost", "cost")),
      parameters: {
        flags: {
          by: {
            kind: "enum",
            values: ["day", "run", "agent", "task"],
            brief: "Group by day (default), run, agent or task",
            optional: true,
          },
          since: { ...text, brief: "From: a duration back (7d, 12h), a day (2026-11-01) or today", optional: true },
          json,
        },
      },
      docs: { brief: "What the agents used and cost, as they reported it, per day, run, agent or task" },
    }),
    mcp: command({
      loader: lazy(() => body("mcp", "mcp")),
      parameters: {},
      docs: { brief: "Serve this project over MCP (stdio) for editors and agent hosts" },
    }),
    worktree: group({
      routes: {
        create: command({
          loader: lazy(() => body("worktree", "create")),
          parameters: {
            flags: {
              from: {
                ...text,
                brief: "Base branch or commit (default: the repo's default branch)",
                optional: true,
                placeholder: "base",
              },
              branch: {
                ...text,
                brief: "Branch name (an existing branch is checked out)",
                optional: true,
                placeholder: "branch",
              },
              noCopy: {
                kind: "boolean",
                brief: "Do not copy .worktreeinclude / config files",
                optional: true,
                withNegated: false,
              },
              session: { kind: "boolean", brief: "Also start a tmux session there", optional: true },
              dryRun,
              json,
            },
            positional: { kind: "tuple", parameters: [{ ...text, brief: "Worktree name", placeholder: "name" }] },
          },
          docs: { brief: "Create a branch and worktree, copy files, run setup" },
        }),
        list: command({
          loader: lazy(() => body("worktree", "list")),
          parameters: { flags: { json } },
          docs: { brief: "List worktrees: branch, path, head, dirty, ahead/behind, session" },
        }),
        status: command({
          loader: lazy(() => body("worktree", "status")),
          parameters: {
            flags: { json },
            positional: { kind: "tuple", parameters: [worktreeName] },
          },
          docs: { brief: "Show one worktree" },
        }),
        remove: command({
          loader: lazy(() => body("worktree", "remove")),
          parameters: {
            flags: {
              force: { kind: "boolean", brief: "Remove even if dirty or unmerged", optional: true },
              keepBranch: { kind: "boolean", brief: "Keep the branch", optional: true },
              json,
            },
            positional: { kind: "tuple", parameters: [worktreeName] },
          },
          docs: { brief: "Remove a worktree, its sessions and its branch" },
        }),
        prune: command({
          loader: lazy(() => body("worktree", "prune")),
          parameters: { flags: { dryRun, yes, json } },
          docs: { brief: "Remove worktrees whose folder is gone or whose branch is merged" },
        }),
        merge: command({
          loader: lazy(() => body("worktree", "merge")),
          parameters: {
            flags: {
              squash: { kind: "boolean", brief: "One squashed commit", optional: true },
              rebase: { kind: "boolean", brief: "Rebase the branch, then fast-forward", optional: true },
              remove: { kind: "boolean", brief: "Remove the worktree after merging", optional: true },
              queue: {
                kind: "boolean",
                brief: "Merge every finished worktree (or the named ones, in order) one by one, rebasing and " +
                  "checking each; stop at the first conflict or failing check",
                optional: true,
              },
              dryRun: { ...dryRun, brief: "With --queue: show the order and where it would conflict" },
              force: { kind: "boolean", brief: "Merge even if the worktree's agent is still working", optional: true },
              json,
            },
            positional: {
              kind: "array",
              parameter: { ...worktreeName, brief: "Worktree name (with --queue: any number, in merge order)" },
            },
          },
          docs: { brief: "Merge a worktree's branch into its base, or the finished ones in a queue" },
        }),
        diff: command({
          loader: lazy(() => body("worktree", "diff")),
          parameters: {
            flags: { stat: { kind: "boolean", brief: "Only the summary", optional: true } },
            positional: { kind: "tuple", parameters: [worktreeName] },
          },
          docs: { brief: "Show what a worktree changed against its base" },
        }),
      },
      docs: { brief: "Manage git worktrees" },
    }),
    session: group({
      routes: {
        create: command({
          loader: lazy(() => body("session", "create")),
          parameters: {
            flags: {
              task: { ...text, brief: "Task label for the session name", optional: true, placeholder: "task" },
              attach: { kind: "boolean", brief: "Attach after creating", optional: true },
              json,
            },
            positional: { kind: "tuple", parameters: [{ ...worktreeName, placeholder: "worktree" }] },
          },
          docs: { brief: "Start a detached tmux session in a worktree" },
        }),
        list: command({
          loader: lazy(() => body("session", "list")),
          parameters: {
            flags: { json },
            positional: {
              kind: "tuple",
              parameters: [{ ...text, brief: "Only names containing this", placeholder: "pattern", optional: true }],
            },
          },
          docs: { brief: "List this project's tmux sessions" },
        }),
        attach: command({
          loader: lazy(() => body("session", "attach")),
          parameters: {
            positional: {
              kind: "tuple",
              parameters: [sessionName],
            },
          },
          docs: { brief: "Attach to a session" },
        }),
        kill: command({
          loader: lazy(() => body("session", "kill")),
          parameters: {
            flags: { yes },
            positional: {
              kind: "tuple",
              parameters: [sessionName],
            },
          },
          docs: { brief: "Kill a session (asks first on a TTY)" },
        }),
        cleanup: command({
          loader: lazy(() => body("session", "cleanup")),
          parameters: { flags: { dryRun, yes, json } },
          docs: { brief: "Kill prj's sessions whose worktree is gone" },
        }),
      },
      docs: { brief: "Manage tmux sessions" },
    }),
  },
  aliases: { ps: "fleet" },
  docs: {
    brief: "prj - parallel agentic coding: worktrees, tmux sessions, sandboxed TypeScript steps, SQLite history",
  },
});

function shellName(input: string): string {
  if (!["bash", "zsh", "fish"].includes(input)) throw new SyntaxError(`expected bash, zsh or fish, found "${input}"`);
  return input;
}

function usd(input: string): number {
  const n = Number(input);
  if (!/^\d+(\.\d+)?$/.test(input.trim()) || !(n > 0)) {
    throw new SyntaxError(`expected an amount in USD above 0, like 5 or 0.5, found "${input}"`);
  }
  return n;
}

function positiveInt(input: string): number {
  const n = Number(input);
  if (!Number.isSafeInteger(n) || n <= 0) throw new SyntaxError(`expected a positive whole number, found "${input}"`);
  return n;
}

/**
 * Runs the CLI with arguments and returns the exit code.
 *
 * @param args the arguments after `prj`
 * @param io where to print (the process's terminal by default)
 */
export async function main(args: readonly string[], io?: Io): Promise<number> {
  io ??= await processIo();
  if (args.length === 0 || (args.length === 1 && (args[0] === "--help" || args[0] === "-h"))) {
    // The table of commands, printed from the table itself: the parser is not needed for it.
    io.raw(rootHelp(routes, "prj"));
    return 0;
  }
  const { runCli } = await importLazy<typeof import("./cli/app.ts")>("./cli/app.ts", import.meta.url);
  return runCli(routes, args, io);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
