/**
 * The official MCP SDK client connected to `prj mcp` over stdio, as an editor would start it: with this process's
 * whole environment (DENO_DIR, the TLS settings, HOME...), since a hand-picked one would send Deno to another cache
 * and onto the network.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { GIT_ENV, prjArgv } from "../helpers.ts";

/** `prj mcp` in a repository, with this process's environment plus `env`. */
export async function connectMcp(repo: string, env: Record<string, string> = {}): Promise<Client> {
  const [command, ...args] = prjArgv();
  const transport = new StdioClientTransport({
    command: command!,
    args: [...args, "mcp"],
    cwd: repo,
    env: { ...Deno.env.toObject(), ...GIT_ENV, NO_COLOR: "1", ...env },
    stderr: "pipe",
  });
  const client = new Client({ name: "prj-test", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

// deno-lint-ignore no-explicit-any
export type Json = any;

/** A tool call's result: whether it is an error, its text, and the text as JSON when it is JSON (2 minutes at most). */
export async function callTool(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
  onprogress?: (p: { progress: number; total?: number; message?: string }) => void,
): Promise<{ isError: boolean; text: string; json: Json }> {
  const result = await client.callTool({ name, arguments: args }, undefined, {
    ...(onprogress ? { onprogress } : {}),
    timeout: 120_000,
  }) as { isError?: boolean; content: { text: string }[] };
  const text = result.content[0]?.text ?? "";
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch { /* not JSON */ }
  return { isError: result.isError === true, text, json };
}
