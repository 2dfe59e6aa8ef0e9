/** Turns zod issues into positioned, one-line definition errors. */
import type { z } from "npm:zod@4.6.7";
import { DefinitionError } from "../util/errors.ts";
import { didYouMean } from "../util/suggest.ts";
import { formatPath, type YamlSource } from "./yaml_source.ts";

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") {
    return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  }
  return `${typeof value} ${String(value)}`;
}

function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  // Walk the schema along the path to find the object whose keys were expected.
  // deno-lint-ignore no-explicit-any
  let node: any = schema;
  for (const segment of [...path, null]) {
    for (let guard = 0; guard < 10; guard++) {
      const def = node?._zod?.def;
      if (!def) break;
      if (def.type === "optional" || def.type === "default" || def.type === "nullable") node = def.innerType;
      else if (def.type === "pipe") node = def.out?._zod?.def?.type === "transform" ? def.in : def.out;
      else if (def.type === "union") {
        node = def.options.find((o: { _zod: { def: { type: string } } }) =>
          ["object", "array", "record"].includes(o._zod.def.type)
        ) ?? def.options[0];
      } else break;
    }
    if (segment === null) break;
    const def = node?._zod?.def;
    if (def?.type === "object") node = def.shape[segment as string];
    else if (def?.type === "array") node = def.element;
    else if (def?.type === "record") node = def.valueType;
    else return [];
  }
  const def = node?._zod?.def;
  return def?.type === "object" ? Object.keys(def.shape) : [];
}

/**
 * Validates parsed YAML against a schema.
 *
 * @returns the parsed value
 * @throws {DefinitionError} naming file:line:column, the field path, what was expected and what was found
 */
export function validate<T extends z.ZodType>(schema: T, source: YamlSource): z.output<T> {
  const result = schema.safeParse(source.data ?? {}, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path;
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0]!;
    const keyPath = [...path, key];
    const { line, column } = source.locate(keyPath, true);
    throw new DefinitionError(
      source.file,
      line,
      column,
      `${formatPath(keyPath)}: unknown field${didYouMean(key, knownKeys(schema, path))}`,
    );
  }
  const { line, column } = source.locate(path);
  const found = describe(issue.input);
  let detail: string;
  switch (issue.code) {
    case "invalid_type":
      detail = issue.input === undefined
        ? `required field is missing; expected ${issue.expected}`
        : path.some((p) => p === "steps" || p === "pre_steps" || p === "post_steps" || p === "cleanup_on_failure") &&
            issue.expected === "object"
        ? `expected a step name or a step mapping, found ${found}`
        : `expected ${
          issue.expected === "object" ? "a mapping" : issue.expected === "array" ? "a list" : issue.expected
        }, found ${found}`;
      break;
    case "invalid_value":
      detail = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, found ${found}`;
      break;
    case "invalid_union":
      detail = `expected ${unionExpectation(issue)}, found ${found}`;
      break;
    case "too_small":
      detail = issue.origin === "array"
        ? `expected at least ${issue.minimum} item(s), found ${found}`
        : issue.origin === "string"
        ? `expected a non-empty string, found ${found}`
        : `expected a number ${issue.inclusive ? ">=" : ">"} ${issue.minimum}, found ${found}`;
      break;
    case "invalid_format":
      detail = `expected ${
        issue.message.replace(/^Invalid string: must match pattern .*$/, "a valid value")
      }, found ${found}`;
      break;
    default:
      detail = `${issue.message}, found ${found}`;
  }
  throw new DefinitionError(source.file, line, column, `${formatPath(path)}: ${detail}`);
}

function unionExpectation(issue: z.core.$ZodIssueInvalidUnion): string {
  const kinds = new Set<string>();
  for (const branch of issue.errors) {
    for (const inner of branch) {
      if (inner.code === "invalid_type") kinds.add(inner.expected === "array" ? "a list" : inner.expected);
    }
  }
  return kinds.size > 0 ? [...kinds].join(" or ") : "a valid value";
}
