/** Turns the YAML `permissions:` layers into the Deno permissions a step's process gets, and explains denials. */
import * as path from "../util/path.ts";
import type { Permissions } from "../definitions/schema.ts";
import { PrjError } from "../util/errors.ts";

/** The permission kinds a step may be granted. */
export const PERMISSION_KINDS = ["read", "write", "net", "env", "run", "sys", "ffi"] as const;
/** One permission kind. */
export type PermissionKind = typeof PERMISSION_KINDS[number];

/** The permissions a step runs with: per kind, all (`true`), none (`false`) or a list. */
export type ResolvedPermissions = Record<PermissionKind, boolean | string[]>;

/**
 * Resolves the grant of one step: the default (read the project and worktree; write the
 * worktree and the run's artifacts; nothing else), then config, command and step layers;
 * a later layer replaces a kind it names.
 *
 * @param layers config, command and step `permissions:` (later wins per kind)
 * @param base the paths the default refers to
 * @param render resolves placeholders in paths
 */
export function resolvePermissions(
  layers: ReadonlyArray<Permissions | undefined>,
  base: { project: string; worktree: string | undefined; artifacts: string },
  render: (s: string) => string = (s) => s,
): ResolvedPermissions {
  const out: ResolvedPermissions = {
    read: [base.project, ...(base.worktree ? [base.worktree] : [])],
    write: [...(base.worktree ? [base.worktree] : []), base.artifacts],
    net: false,
    env: false,
    run: false,
    sys: false,
    ffi: false,
  };
  for (const layer of layers) {
    if (!layer) continue;
    for (const kind of PERMISSION_KINDS) {
      const value = layer[kind];
      if (value === undefined) continue;
      if (typeof value === "boolean") out[kind] = value;
      else {
        out[kind] = value.map((v) => {
          // Shared values are what earlier steps set: they never choose a grant.
          if (/\{\{\s*shared\./.test(v)) {
            throw new PrjError(`The grant "${v}" uses a shared value; grants never come from run-time data`, {
              hint: "name the paths in permissions:, or use {{ args.* }}, {{ env.* }}, {{ worktree }}",
            });
          }
          const s = render(v);
          return kind === "read" || kind === "write" || kind === "ffi" ? path.resolve(base.project, s) : s;
        });
      }
    }
  }
  return out;
}

/** A short description of a grant, for `--dry-run` and logs: `read=[...] write=[...] net=no`. */
export function describePermissions(p: ResolvedPermissions, shorten: (s: string) => string = (s) => s): string {
  return PERMISSION_KINDS.map((k) => {
    const v = p[k];
    if (v === true) return `${k}=all`;
    if (v === false || v.length === 0) return null;
    return `${k}=${v.map(shorten).join(",")}`;
  }).filter((s) => s !== null).join(" ") || "none";
}

/**
 * Rewrites Deno's "Requires X access" error as a message naming the permission and how to grant
 * it, or, for a path the sandbox denies whatever the grant, why it is denied.
 *
 * @param message the error message
 * @param stepName the step, for the message
 * @param commandFile the file that grants the step's permissions
 * @param why the paths the sandbox denies whatever the grant, each with its reason
 * @param places placeholders for folders (`{{ cwd }}` -> its path): a path inside one is suggested through it,
 *   so the grant fits every run and worktree, not only this one
 * @param cwd the step's folder, against which a relative path in the error is resolved
 * @returns the message, or undefined when the error is not a permission denial
 * @example
 * ```ts
 * import { explainDenial } from "./permissions.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   explainDenial('Requires env access to "HOME", run again with the --allow-env flag', "s", "c.yaml"),
 *   'step "s" was denied env access to "HOME"; grant it in c.yaml with `permissions: { env: ["HOME"] }` on the step',
 * );
 * assert.equal(
 *   explainDenial('Requires read access to "/w/app/data"', "s", "c.yaml", {}, { "{{ cwd }}": "/w/app" }),
 *   'step "s" was denied read access to "/w/app/data"; grant it in c.yaml with `permissions: { read: ["{{ cwd }}/data"] }` on the step',
 * );
 * ```
 */
export function explainDenial(
  message: string,
  stepName: string,
  commandFile: string,
  why: Readonly<Record<string, string>> = {},
  places: Readonly<Record<string, string | undefined>> = {},
  cwd?: string,
): string | undefined {
  const m = /Requires (\w+) access(?: to "?([^",]*)"?)?/.exec(message);
  if (!m) return undefined;
  const kind = m[1]!;
  const isPath = kind === "read" || kind === "write";
  const what = m[2] && isPath && cwd ? path.resolve(cwd, m[2]) : m[2];
  if (what && isPath) {
    // The longest denied path that holds it explains it best.
    const rule = Object.keys(why).filter((d) => what === d || what.startsWith(d + "/"))
      .sort((a, b) => b.length - a.length)[0];
    if (rule !== undefined) {
      return `step "${stepName}" was denied ${kind} access to "${what}": the sandbox never lets a step ` +
        `${kind === "read" ? "read" : "write"} "${rule}": ${why[rule]}`;
    }
  }
  const value = what ? `["${isPath ? throughPlaceholder(what, places) : what}"]` : "true";
  return `step "${stepName}" was denied ${kind} access${what ? ` to "${what}"` : ""}; ` +
    `grant it in ${commandFile} with \`permissions: { ${kind}: ${value} }\` on the step`;
}

/** A path written through the placeholder of the innermost folder that holds it (`{{ cwd }}/data`), else as is. */
function throughPlaceholder(target: string, places: Readonly<Record<string, string | undefined>>): string {
  let best: [string, string] | undefined;
  for (const [name, dir] of Object.entries(places)) {
    if (!dir || !(target === dir || target.startsWith(dir.endsWith("/") ? dir : dir + "/"))) continue;
    if (!best || dir.length > best[1].length) best = [name, dir];
  }
  return best ? best[0] + target.slice(best[1].length) : target;
}
