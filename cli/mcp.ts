/** `prj mcp`: serve the project over MCP on stdio. */
import type { PrjContext } from "../cli.ts";
import { openProject } from "../lib/project/project.ts";

/** Serves until stdin closes. Nothing else may write to stdout while serving. */
export async function mcp(this: PrjContext): Promise<void> {
  const { serveMcp } = await import("../lib/mcp/server.ts");
  await serveMcp(await openProject());
}
