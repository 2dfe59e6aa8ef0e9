/**
 * The parser: stricli's application, built from prj's table of commands (cli.ts), runs every
 * `prj` invocation but the bare table of commands (`prj`, `prj --help`), and answers shell
 * completion. Loaded only then, so printing the table never loads an npm package.
 *
 * @module
 */
import {
  type Application,
  buildApplication,
  buildCommand,
  buildRouteMap,
  type Command,
  ExitCode,
  proposeCompletions,
  type RouteMap,
  run,
} from "npm:@stricli/core@1.3.0";
import type { GroupSpec, PrjContext, Route } from "../cli.ts";
import { importLazy } from "../lib/util/lazy.ts";
import { VERSION } from "../lib/util/version.ts";
import type { Io } from "./io.ts";

/** A command or group of the table as stricli's. */
function built(route: Route): Command<PrjContext> | RouteMap<PrjContext> {
  if (route.kind === "command") {
    const { kind: _, ...spec } = route;
    // deno-lint-ignore no-explicit-any
    return buildCommand<any, any, PrjContext>(spec as any);
  }
  return builtGroup(route);
}

function builtGroup(group: GroupSpec): RouteMap<PrjContext> {
  const { kind: _, routes, ...rest } = group;
  // deno-lint-ignore no-explicit-any
  return buildRouteMap<any, PrjContext>({
    ...rest,
    routes: Object.fromEntries(Object.entries(routes).map(([name, route]) => [name, built(route)])),
  });
}

/** The stricli application of a table of commands. */
export function application(routes: GroupSpec): Application<PrjContext> {
  return buildApplication(builtGroup(routes), {
    name: "prj",
    versionInfo: { currentVersion: VERSION },
    scanner: { caseStyle: "allow-kebab-for-camel" },
    documentation: { caseStyle: "convert-camel-to-kebab" },
  });
}

/**
 * Parses the arguments and runs what they name; returns the exit code (0 ok, 1 failed, 2 a
 * usage mistake, said in one line with the help to read).
 *
 * @param routes the table of commands
 * @param args the arguments after `prj`
 * @param io where to print
 */
export async function runCli(routes: GroupSpec, args: readonly string[], io: Io): Promise<number> {
  const exit: { code: number | undefined } = { code: undefined };
  // The parser's own messages are held until it is known whether they are a usage mistake (said
  // again in prj's voice) or a bug (printed as they are, with the stack).
  const parserErrors: string[] = [];
  const proc = {
    stdout: { write: (s: string) => io.raw(s) },
    stderr: { write: (s: string) => void parserErrors.push(s) },
    env: { STRICLI_SKIP_VERSION_CHECK: "1", ...(io.tty ? {} : { STRICLI_NO_COLOR: "1" }) },
    exitCode: null as number | string | null,
  };
  const app = application(routes);
  const helpHint = async () => {
    const { helpFor } = await importLazy<typeof import("./usage.ts")>("./usage.ts", import.meta.url);
    return helpFor(args, (words) => isRoute(app, words));
  };
  const context = { process: proc, io, exit, helpHint };
  if (args[0] === "__complete") {
    const proposals = await proposeCompletions(app, args.slice(1), context);
    for (const p of proposals) io.out(p.completion);
    return 0;
  }
  await run(app, args, context);
  const code = Number(proc.exitCode ?? 0);
  if (exit.code === undefined && (code === ExitCode.InvalidArgument || code === ExitCode.UnknownCommand)) {
    // An unknown command or flag, a missing or bad value: one line and the help to read; exit 2.
    const { usageMessage, helpFor } = await importLazy<typeof import("./usage.ts")>("./usage.ts", import.meta.url);
    io.err(`${io.paint("red", "error:")} ${usageMessage(parserErrors.join(""), args)}`);
    io.err(`${io.paint("gray", "hint:")} ${helpFor(args, (words) => isRoute(app, words))}`);
    return 2;
  }
  for (const text of parserErrors) io.err(text.endsWith("\n") ? text.slice(0, -1) : text);
  if (exit.code !== undefined) return exit.code;
  // Any other failure of the parser's own (a command that did not load or threw) is a bug: 1.
  return code < 0 ? 1 : code;
}

/** Whether words name a command or group of `prj` (`["worktree", "create"]`). */
function isRoute(app: Application<PrjContext>, words: string[]): boolean {
  // deno-lint-ignore no-explicit-any
  let at: any = app.root;
  for (const word of words) {
    at = typeof at?.getRoutingTargetForInput === "function" ? at.getRoutingTargetForInput(word) : undefined;
    if (at === undefined) return false;
  }
  return true;
}
