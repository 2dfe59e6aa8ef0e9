/**
 * The table of commands that `prj` and `prj --help` print, written from prj's own table
 * (cli.ts) in the parser's layout, without loading the parser: it is the first thing a newcomer
 * runs, and loading stricli from npm would triple its cost. `prj <command> --help` and every
 * other invocation go through the parser (cli/app.ts). A test holds the two outputs equal.
 *
 * @module
 */
import type { GroupSpec, Route } from "../cli.ts";
import { table } from "./io.ts";

/** `maxAgents` -> `max-agents`, as the parser shows a name. */
function kebab(name: string): string {
  return Array.from(name).map((char, i) => {
    const upper = char.toUpperCase();
    return i === 0 || upper !== char || upper === char.toLowerCase() ? char : `-${char.toLowerCase()}`;
  }).join("");
}

interface Flag {
  kind: string;
  optional?: boolean;
  default?: unknown;
  hidden?: boolean;
  variadic?: boolean | string;
  placeholder?: string;
  values?: readonly string[];
}

interface Positional {
  placeholder?: string;
  optional?: boolean;
  default?: unknown;
}

const optionalFlag = (flag: Flag) => flag.optional ?? flag.default !== undefined;

/** One command's usage line: `prj run [--dry-run] [--model model] <command>...`. */
function usageLine(route: Route, prefix: string[]): string {
  if (route.kind === "group") return `${prefix.join(" ")} ${Object.keys(route.routes).map(kebab).join("|")} ...`;
  const parameters = route.parameters as {
    flags?: Record<string, Flag>;
    positional?:
      | { kind: "array"; parameter: Positional }
      | { kind: "tuple"; parameters: Positional[] };
  };
  const flags = Object.entries(parameters.flags ?? {}).filter(([, flag]) => !flag.hidden).map(([name, flag]) => {
    let usage = `--${kebab(name)}`;
    if (flag.kind === "enum" && typeof flag.placeholder !== "string") usage += ` ${flag.values!.join("|")}`;
    else if (flag.kind !== "boolean") usage += ` ${flag.placeholder ?? "value"}`;
    usage = optionalFlag(flag) ? `[${usage}]` : `(${usage})`;
    return flag.kind === "parsed" && flag.variadic ? `${usage}...` : usage;
  });
  const positional = parameters.positional;
  const args = positional === undefined
    ? []
    : positional.kind === "array"
    ? [`<${positional.parameter.placeholder ?? "args"}>...`]
    : positional.parameters.map((p, i) => {
      const name = p.placeholder ?? `arg${i + 1}`;
      return p.optional || p.default !== undefined ? `[<${name}>]` : `<${name}>`;
    });
  return [...prefix, ...flags, ...args].join(" ");
}

/**
 * The help of a table of commands, as the parser prints it for the bare program.
 *
 * @param root the table
 * @param program the program's name
 */
export function rootHelp(root: GroupSpec, program: string): string {
  const lines = ["USAGE"];
  for (const [name, route] of Object.entries(root.routes)) lines.push(`  ${usageLine(route, [program, kebab(name)])}`);
  lines.push(`  ${program} --help`, `  ${program} --version`, "", root.docs.brief, "", "FLAGS");
  const builtin = [
    ["-h", "--help", "Print help information and exit", ""],
    ["-v", "--version", "Print version information and exit", ""],
  ];
  const indent = (text: string) => text.split("\n").map((row) => `  ${row}`);
  lines.push(...indent(table(builtin, (s) => s.length, [" ", "  ", " "])));
  lines.push("", "COMMANDS");
  const commands = Object.entries(root.routes).map(([name, route]) => [kebab(name), route.docs.brief]);
  lines.push(...indent(table(commands, (s) => s.length)));
  return lines.join("\n") + "\n";
}
