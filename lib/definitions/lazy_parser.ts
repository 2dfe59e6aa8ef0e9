/** The one lazy door to the definition parser (yaml and zod), so loading from the cache never pays for it. */
import { importLazy } from "../util/lazy.ts";

/** The parser module (`parser.ts`), imported on first use. */
export function loadParser(): Promise<typeof import("./parser.ts")> {
  return importLazy<typeof import("./parser.ts")>("./parser.ts", import.meta.url);
}
