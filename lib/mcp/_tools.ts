/** What every prj MCP tool body shares: its text result, its error result, and progress notifications. */
import type { CallToolResult, ServerNotification, ServerRequest } from "npm:@modelcontextprotocol/sdk@1.32.2/types.js";
import type { RequestHandlerExtra } from "npm:@modelcontextprotocol/sdk@1.32.2/shared/protocol.js";
import { PrjError } from "../util/errors.ts";

/** What a tool handler receives beside its arguments. */
export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** A tool result of one text part (JSON, pretty-printed, for anything but a string). */
export function text(value: unknown): CallToolResult {
  return { content: [{ type: "text", text: typeof value === "string" ? value : JSON.stringify(value, null, 2) }] };
}

/** Runs a tool body; a user mistake becomes an MCP tool error naming what was wrong, never a crash. */
export async function guarded(fn: () => CallToolResult | Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await fn();
  } catch (error) {
    const message = error instanceof PrjError
      ? error.message + (error.hint ? ` (${error.hint})` : "")
      : `internal error: ${(error as Error)?.message ?? String(error)}`;
    return { isError: true, content: [{ type: "text", text: message }] };
  }
}

/** A progress notification, when the client sent a progress token. */
export function progress(extra: Extra, value: number, total: number | undefined, message: string): void {
  const token = extra._meta?.progressToken;
  if (token === undefined) return;
  void extra.sendNotification({
    method: "notifications/progress",
    params: { progressToken: token, progress: value, ...(total === undefined ? {} : { total }), message },
  }).catch(() => {});
}
