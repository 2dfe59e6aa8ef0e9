/**
 * The argument parser's complaints in prj's voice: one `error:` line saying what was wrong, in the
 * words of the command line (`--dry-run`, `<run-id>`), and a hint naming the help to read.
 */

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * Rewrites one message of stricli's parser.
 *
 * @param raw what the parser printed (colour codes are removed)
 * @param args the command line, to tell a flag from a positional argument
 * @returns the line after `error: `
 * @example
 * ```ts
 * import { usageMessage } from "./usage.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   usageMessage("No flag registered for --dry-rn, did you mean --dryRun?", ["run", "--dry-rn"]),
 *   'unknown flag --dry-rn; did you mean --dry-run?',
 * );
 * assert.equal(usageMessage("Expected argument for run-id", ["logs"]), "missing argument <run-id>");
 * ```
 */
export function usageMessage(raw: string, args: readonly string[]): string {
  // deno-lint-ignore no-control-regex
  const text = raw.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "";
  let m: RegExpExecArray | null;
  if ((m = /^No command registered for `([^`]*)`(?:, did you mean `([^`]*)`\?)?$/.exec(text))) {
    const what = m[1]!.startsWith("-") ? `unknown flag ${m[1]}` : `unknown command "${m[1]}"`;
    return `${what}${m[2] ? `; did you mean "${m[2]}"?` : ""}`;
  }
  if ((m = /^No flag registered for (--?[\w-]+)(?:, did you mean (--?[\w-]+)\?)?$/.exec(text))) {
    return `unknown flag ${m[1]}${
      m[2] ? `; did you mean ${m[2].startsWith("--") ? `--${kebab(m[2].slice(2))}` : m[2]}?` : ""
    }`;
  }
  if ((m = /^Expected at least \d+ argument\(s\) for (.+) but found none$/.exec(text))) {
    return `missing argument <${m[1]}>`;
  }
  if ((m = /^Expected argument for (.+)$/.exec(text))) return `missing argument <${m[1]}>`;
  if ((m = /^Failed to parse "(.*)" for (\w+): (.+)$/.exec(text))) {
    const flag = `--${kebab(m[2]!)}`;
    return `${args.some((a) => a === flag || a.startsWith(`${flag}=`)) ? flag : `<${m[2]}>`}: ${m[3]}`;
  }
  if ((m = /^Expected "(.*)" to be one of \((.+)\)$/.exec(text))) {
    const value = m[1]!;
    const at = args.findIndex((a, i) => a.endsWith(`=${value}`) || (a === value && args[i - 1]?.startsWith("--")));
    const flag = at < 0 ? undefined : args[at]!.includes("=") ? args[at]!.split("=")[0] : args[at - 1];
    return `${flag ? `${flag}: ` : ""}"${value}" is not one of ${m[2]!.split("|").join(", ")}`;
  }
  if ((m = /^Too many arguments, expected (\d+) but encountered "(.*)"$/.exec(text))) {
    return `unexpected argument "${m[2]}" (it takes ${m[1]})`;
  }
  if ((m = /^Flag (--?[\w-]+) .*/.exec(text))) return text.replace(m[1]!, `--${kebab(m[1]!.replace(/^--?/, ""))}`);
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/**
 * The help to point at after a usage mistake: the deepest command the arguments name.
 *
 * @param args the command line
 * @param isRoute whether a path of words names a command or group (`["worktree", "create"]`)
 */
export function helpFor(args: readonly string[], isRoute: (path: string[]) => boolean): string {
  const path: string[] = [];
  for (const arg of args) {
    if (arg.startsWith("-") || !isRoute([...path, arg])) break;
    path.push(arg);
  }
  return `see \`prj ${[...path, "--help"].join(" ")}\``;
}
