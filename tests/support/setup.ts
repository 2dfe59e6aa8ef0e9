/**
 * Installs what the end-to-end tests drive, once, into the test cache (see agent_clis.ts): the pinned agent CLIs
 * from npm, and the Headless PM server's venv when PRJ_TEST_HPM_SRC names its checkout. Safe to run again (a warm cache costs a few stats) and from several processes at once.
 *
 *   deno run -A tests/support/setup.ts
 *
 * @module
 */
import { agentCli, PINNED, testCache } from "./agent_clis.ts";
import { prepareHeadlessPm } from "./headless_pm.ts";

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
  if (Deno.env.get("PRJ_TEST_HPM_SRC")) {
    const t = Date.now();
    try {
      await prepareHeadlessPm();
    } catch (error) {
      console.error(`error: ${(error as Error).message}`);
      Deno.exit(1);
    }
    console.error(`  Headless PM server ready (${Date.now() - t} ms)`);
  } else {
    console.error("  PRJ_TEST_HPM_SRC is not set: the tests against the real Headless PM server will be ignored");
  }
  console.error(`test dependencies ready in ${Date.now() - started} ms`);
}
