/** `prj mcp`: serve the project over MCP on stdio. */
import type { PrjContext } from "../cli.ts";

/** Serves until stdin closes. Nothing else may write to stdout while serving. */
export async function mcp(this: PrjContext): Promise<void> {
  const { openProject } = await import("../lib/project.ts");
  const { serveMcp } = await import("../lib/mcp.ts");
  await serveMcp(await openProject());
}
