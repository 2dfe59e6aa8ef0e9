/**
 * What the operating system refused (a full disk, a read-only file system, a file prj may not
 * read) as one line with what to do: these are the machine's state, not prj's bugs.
 */
import { PrjError } from "./errors.ts";

const KNOWN: { test: RegExp; what: string; hint: string }[] = [
  {
    test: /No space left on device|os error 28\b/,
    what: "the disk is full",
    hint: "free some space and run the command again; `prj doctor` repairs what was left half-done",
  },
  {
    test: /Disk quota exceeded|os error 122\b/,
    what: "the disk quota is used up",
    hint: "free some space and run the command again; `prj doctor` repairs what was left half-done",
  },
  {
    test: /Read-only file system|os error 30\b/,
    what: "the file system is read-only",
    hint: "run prj where it can write .prj/ and the worktrees folder",
  },
  {
    test: /Input\/output error|os error 5\b/,
    what: "the disk reported an I/O error",
    hint: "check the disk, then run `prj doctor`",
  },
  {
    test: /Not a directory|os error 20\b/,
    what: "a path prj needs as a folder is a file",
    hint: "move that file out of the way (its name is in the message), then run the command again",
  },
  {
    test: /Is a directory|os error 21\b/,
    what: "a path prj needs as a file is a folder",
    hint: "move that folder out of the way (its name is in the message), then run the command again",
  },
  {
    test: /File exists|os error 17\b/,
    what: "a path prj had to create is already there (a file, or a link to nowhere)",
    hint: "move it out of the way (its name is in the message), then run the command again",
  },
  {
    test: /Permission denied|os error 13\b/,
    what: "permission denied",
    hint: "give prj's user access to that path (chmod / chown), or run prj as the user who owns the project",
  },
];

/**
 * The one-line error for an error the operating system raised, or undefined for anything else.
 *
 * @example
 * ```ts
 * import { osError } from "./os_errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = osError(new Error("No space left on device (os error 28): write '/p/.prj/x'"));
 * assert.match(error!.message, /^the disk is full: /);
 * assert.equal(osError(new TypeError("x is undefined")), undefined);
 * ```
 */
export function osError(error: unknown): PrjError | undefined {
  if (!(error instanceof Error) || error instanceof PrjError) return undefined;
  const isOs = error instanceof Deno.errors.PermissionDenied || /\(os error \d+\)/.test(error.message);
  if (!isOs) return undefined;
  for (const known of KNOWN) {
    if (known.test.test(error.message)) {
      return new PrjError(`${known.what}: ${error.message}`, { hint: known.hint, cause: error });
    }
  }
  return undefined;
}
