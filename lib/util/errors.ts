/** Typed errors: user mistakes carry an exit code and a one-line message; bugs keep their stack. */

/** A mistake the user can fix; shown as one line (plus an optional hint), never a stack.
 * @example A failed operation with a hint and exit code 1
 * ```ts
 * import { PrjError } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * const error = new PrjError("Worktree \"x\" has uncommitted changes: a.ts", { hint: "commit them" });
 * assert.equal(error.exitCode, 1);
 * assert.equal(error.hint, "commit them");
 * ```
 */
export class PrjError extends Error {
  /** The process exit code the CLI uses for this error. */
  readonly exitCode: number;
  /** What to do about it, shown under the message. */
  readonly hint: string | undefined;
  /**
   * A user-facing error.
   *
   * @param message one line: what was wrong, where, what to do
   * @param options exit code (default 1), hint and cause
   */
  constructor(
    message: string,
    options: { exitCode?: number; hint?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PrjError";
    this.exitCode = options.exitCode ?? 1;
    this.hint = options.hint;
  }
}

/** A usage mistake: bad argument, bad definition, unknown name. Exit code 2.
 * @example
 * ```ts
 * import { PrjError, UsageError } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * const error = new UsageError("Unknown argument \"wh\"");
 * assert.equal(error.exitCode, 2);
 * assert.ok(error instanceof PrjError);
 * ```
 */
export class UsageError extends PrjError {
  /**
   * A usage error (exit code 2).
   *
   * @param message one line: what was wrong, where, what to do
   * @param options hint and cause
   */
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { ...options, exitCode: 2 });
    this.name = "UsageError";
  }
}

/** An error in a command definition or config file, with its position. Exit code 2.
 * @example
 * ```ts
 * import { DefinitionError } from "@prunejuice/cli";
 * import assert from "node:assert/strict";
 *
 * const error = new DefinitionError(".prj/commands/review.yaml", 7, 5, "steps[2].timout: unknown field");
 * assert.equal(error.message, ".prj/commands/review.yaml:7:5: steps[2].timout: unknown field");
 * ```
 */
export class DefinitionError extends UsageError {
  /** The file, as given (relative to the project when inside it). */
  readonly file: string;
  /** 1-based line, 0 when unknown. */
  readonly line: number;
  /** 1-based column, 0 when unknown. */
  readonly column: number;
  /**
   * An error at a position in a definition file.
   *
   * @param file the file the error is in
   * @param line 1-based line (0 when unknown)
   * @param column 1-based column (0 when unknown)
   * @param detail the field path and what was wrong
   */
  constructor(file: string, line: number, column: number, detail: string) {
    super(line > 0 ? `${file}:${line}:${column}: ${detail}` : `${file}: ${detail}`);
    this.name = "DefinitionError";
    this.file = file;
    this.line = line;
    this.column = column;
  }
}
