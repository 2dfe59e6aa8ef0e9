/** Terminal output for the CLI: plain when piped, coloured on a TTY (NO_COLOR honoured). */

/** The styles prj uses (names as in node:util styleText). */
export type Style = "red" | "green" | "yellow" | "cyan" | "gray" | "bold";

type StyleText = (format: Style, text: string, options: { validateStream: boolean }) => string;

/** What a CLI command writes with. */
export interface Io {
  /** Writes a line (or text with a trailing newline) to stdout. */
  out(text: string): void;
  /** Writes a line to stderr. */
  err(text: string): void;
  /** Writes raw text to stdout (no newline added). */
  raw(text: string): void;
  /** Whether stdout is a terminal. */
  tty: boolean;
  /** Whether stdin is a terminal (prompts may be asked). */
  interactive: boolean;
  /** Colours text when colour is on. */
  paint(style: Style, text: string): string;
  /** Prints a value as pretty JSON. */
  json(value: unknown): void;
}

const encoder = new TextEncoder();

/** Streams whose reader has gone (`prj history | head`): later writes are dropped, the command goes on. */
const closed = new Set<unknown>();

function writeAll(file: { writeSync(p: Uint8Array): number }, text: string): void {
  if (closed.has(file)) return;
  let bytes = encoder.encode(text);
  try {
    while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
  } catch (error) {
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
    closed.add(file);
  }
}

/**
 * The process's Io. node:util (for styleText) is imported only when colour is on, which
 * keeps piped runs of `prj` a few milliseconds faster to start.
 */
export async function processIo(): Promise<Io> {
  const tty = Deno.stdout.isTerminal();
  let noColor = false;
  try {
    noColor = Deno.env.get("NO_COLOR") !== undefined && Deno.env.get("NO_COLOR") !== "";
  } catch { /* no env permission: keep colour off only by TTY */ }
  const color = tty && !noColor;
  const styleText: StyleText | undefined = color ? (await import("node:util")).styleText as StyleText : undefined;
  return {
    out: (text) => writeAll(Deno.stdout, text.endsWith("\n") ? text : text + "\n"),
    err: (text) => writeAll(Deno.stderr, text.endsWith("\n") ? text : text + "\n"),
    raw: (text) => writeAll(Deno.stdout, text),
    tty,
    interactive: Deno.stdin.isTerminal(),
    paint: (style, text) => (styleText ? styleText(style, text, { validateStream: false }) : text),
    json: (value) => writeAll(Deno.stdout, JSON.stringify(value, null, 2) + "\n"),
  };
}

/**
 * Pads a table of cells into aligned columns, two spaces apart unless `separators` says what goes
 * before each column after the first; each row's trailing blanks are trimmed.
 */
export function table(
  rows: string[][],
  visibleLength: (s: string) => number = stripLength,
  separators: readonly string[] = [],
): string {
  if (rows.length === 0) return "";
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell))));
  return rows.map((row) =>
    row.map((cell, i) =>
      (i === 0 ? "" : separators[i - 1] ?? "  ") +
      (i === row.length - 1 ? cell : cell + " ".repeat(widths[i]! - visibleLength(cell)))
    ).join("").trimEnd()
  ).join("\n");
}

function stripLength(s: string): number {
  // deno-lint-ignore no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, "").length;
}

/** A duration as `850ms`, `12.3s`, `4m05s`. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "-";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, "0")}s`;
}

/** How long ago an ISO time was: `3m ago`. */
export function ago(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return "-";
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** The colour of a run or step status. */
export function statusStyle(status: string): Style {
  switch (status) {
    case "succeeded":
      return "green";
    case "running":
      return "cyan";
    case "skipped":
      return "gray";
    case "cancelled":
    case "interrupted":
      return "yellow";
    default:
      return "red";
  }
}

/**
 * Cuts each line of text to `columns` visible characters (colour codes kept, a reset added where a
 * line is cut), so a refreshing screen never wraps in a narrow terminal.
 */
export function fitWidth(text: string, columns: number): string {
  return text.split("\n").map((line) => {
    if (stripLength(line) <= columns) return line;
    let out = "";
    let visible = 0;
    // deno-lint-ignore no-control-regex
    for (const part of line.split(/(\x1b\[[0-9;]*m)/)) {
      if (part.startsWith("\x1b[")) out += part;
      else {
        const room = columns - 1 - visible;
        if (room <= 0) continue;
        out += part.slice(0, room);
        visible += Math.min(part.length, room);
      }
    }
    return out + "…" + (line.includes("\x1b[") ? "\x1b[0m" : "");
  }).join("\n");
}
