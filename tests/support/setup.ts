/**
 * Installs what the end-to-end tests drive, once, into the test cache (see agent_clis.ts): the pinned agent CLIs
 * from npm. Safe to run again (a warm cache costs a few stats) and from several processes at once.
 *
 *   deno run -A tests/support/setup.ts
 *
 * @module
 */
import { agentCli, PINNED, testCache } from "./agent_clis.ts";

if (import.meta.main) {
  const started = Date.now();
  console.error(`test dependencies in ${testCache()}`);
  for (const name of Object.keys(PINNED) as (keyof typeof PINNED)[]) {
    const { pkg, version } = PINNED[name];
    const t = Date.now();
    try {
      await agentCli(name);
    } catch (error) {
      console.error(`error: ${(error as Error).message}`);
      Deno.exit(1);
    }
    console.error(`  ${pkg}@${version} ready (${Date.now() - t} ms)`);
  }
  console.error(`test dependencies ready in ${Date.now() - started} ms`);
}
