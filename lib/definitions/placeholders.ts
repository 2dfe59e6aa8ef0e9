/** `{{ args.x }}`-style placeholders: checked when a definition loads, resolved before each step starts. */
import { PrjError } from "../util/errors.ts";
import { didYouMean, nearest } from "../util/suggest.ts";

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** The placeholders that need no declaration. */
export const PLAIN_PLACEHOLDERS: readonly string[] = [
  "run.id",
  "run.command",
  "project",
  "project_name",
  "worktree",
  "branch",
  "session",
  "cwd",
  "artifacts",
  "model",
];
const PREFIXES = ["args.", "env.", "shared."];

/** Values available to placeholders at one moment of a run. */
export interface PlaceholderValues {
  /** Validated arguments. */
  args: Record<string, unknown>;
  /** The command's environment. */
  env: Record<string, string>;
  /** Shared data of the run so far. */
  shared: Record<string, unknown>;
  /** Plain values (`run.id`, `worktree`, ...); undefined when not set yet. */
  plain: Record<string, string | undefined>;
}

/** Every placeholder expression in a string. */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/**
 * Checks one placeholder expression against what a command declares.
 *
 * @returns an error message, or undefined when the placeholder is known
 */
export function checkPlaceholder(expr: string, argNames: readonly string[]): string | undefined {
  if (PLAIN_PLACEHOLDERS.includes(expr)) return undefined;
  if (expr.startsWith("args.")) {
    const name = expr.slice(5);
    if (argNames.includes(name)) return undefined;
    const hit = nearest(name, argNames);
    return `unknown placeholder "{{ ${expr} }}": the command declares no argument "${name}"${
      hit === undefined ? "" : `; did you mean "{{ args.${hit} }}"?`
    }`;
  }
  if (PREFIXES.some((p) => expr.startsWith(p) && expr.length > p.length)) return undefined;
  const known = [...PLAIN_PLACEHOLDERS, ...argNames.map((a) => `args.${a}`), "env.NAME", "shared.KEY"];
  return `unknown placeholder "{{ ${expr} }}"${didYouMean(expr, known)}`;
}

/** Applies `fn` to every string inside a JSON-like value. */
export function mapStrings(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === "string") return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
  }
  return value;
}

/**
 * Replaces every `{{ expr }}` in `text` with what `value` returns for it, in one pass: a
 * value is inserted as it is, never read again for placeholders.
 */
export function replacePlaceholders(text: string, value: (expr: string) => string): string {
  return text.replace(PLACEHOLDER, (_all, expr: string) => value(expr));
}

/**
 * Replaces placeholders in a string.
 *
 * @param quote applied to each value as it goes in (`shellQuote` for a `shell: true` line, so
 *   a value is always one word, never shell syntax)
 * @throws {PrjError} for an unknown placeholder, or one whose value is not set yet
 */
export function render(text: string, values: PlaceholderValues, quote: (value: string) => string = (v) => v): string {
  return replacePlaceholders(text, (expr) => {
    let value: unknown;
    if (expr.startsWith("args.")) value = values.args[expr.slice(5)];
    else if (expr.startsWith("env.")) value = values.env[expr.slice(4)];
    else if (expr.startsWith("shared.")) value = values.shared[expr.slice(7)];
    else if (PLAIN_PLACEHOLDERS.includes(expr)) value = values.plain[expr];
    else throw new PrjError(`Unknown placeholder "{{ ${expr} }}"`);
    if (value === undefined || value === null) {
      throw new PrjError(
        `Placeholder "{{ ${expr} }}" has no value at this point of the run${
          expr === "worktree" || expr === "branch" || expr === "session" ? ": no step has created one yet" : ""
        }`,
      );
    }
    return quote(typeof value === "string" ? value : JSON.stringify(value));
  });
}

/** Like {@link render}, but leaves the text as it is when a placeholder has no value yet (for plans). */
export function tryRender(
  text: string,
  values: PlaceholderValues,
  quote: (value: string) => string = (v) => v,
): string {
  try {
    return render(text, values, quote);
  } catch {
    return text;
  }
}
