/** The task source a project is configured with (`task_source:`), for the runner and `prj task`. */
import type { Project } from "../../project/project.ts";
import type { Store } from "../../state/store.ts";
import { PrjError } from "../../util/errors.ts";
import { HeadlessPmClient } from "./headless_pm.ts";
import { TaskQueue } from "./queue.ts";
import type { TaskSource } from "./source.ts";

/** Where a Headless PM client connects when neither `HEADLESS_PM_API_URL` nor `headless_pm.url` says. */
export const DEFAULT_HEADLESS_PM_URL = "http://localhost:6969";
/** The environment variables tried for the API key when `headless_pm.api_key_env` is the default. */
export const HEADLESS_PM_KEY_VARIABLES = ["HEADLESS_PM_API_KEY", "API_KEY_HEADLESS_PM", "API_KEY"] as const;

/** Options for a Headless PM source. */
export interface SourceOptions {
  /** Told before each retry of a call the server did not answer. */
  onRetry?: ((message: string) => void) | undefined;
  /** Stops long polls and retries. */
  signal?: AbortSignal | undefined;
}

/**
 * The configured task source: the built-in queue, or a Headless PM client whose URL is
 * `HEADLESS_PM_API_URL`, else `headless_pm.url`, else `http://localhost:6969`, and whose key is in
 * `headless_pm.api_key_env` (by default the first set of `HEADLESS_PM_API_KEY`,
 * `API_KEY_HEADLESS_PM`, `API_KEY`).
 *
 * @throws {PrjError} when the Headless PM API key is not set
 */
export function taskSource(project: Project, store: Store, options: SourceOptions = {}): TaskSource {
  if (project.config.task_source !== "headless-pm") return new TaskQueue(store);
  const hp = project.config.headless_pm;
  const url = Deno.env.get("HEADLESS_PM_API_URL") || hp?.url || DEFAULT_HEADLESS_PM_URL;
  const urlFrom = Deno.env.get("HEADLESS_PM_API_URL")
    ? "the environment variable HEADLESS_PM_API_URL"
    : `headless_pm.url in .prj/config.yaml${hp?.url ? "" : ` (unset: ${DEFAULT_HEADLESS_PM_URL})`}`;
  const named = hp?.api_key_env;
  const candidates = named && named !== HEADLESS_PM_KEY_VARIABLES[0] ? [named] : [...HEADLESS_PM_KEY_VARIABLES];
  const variable = candidates.find((name) => Deno.env.get(name));
  if (!variable) {
    throw new PrjError(
      `The Headless PM API key is not set: environment variable ${candidates.join(", ")} ${
        candidates.length > 1 ? "are all" : "is"
      } empty`,
      { hint: `export ${candidates[0]}=<your key>` },
    );
  }
  return new HeadlessPmClient({
    url,
    apiKey: Deno.env.get(variable)!,
    apiKeyFrom: `the environment variable ${variable}`,
    urlFrom,
    longPoll: hp?.long_poll ?? 180,
    onRetry: options.onRetry,
    signal: options.signal,
  });
}
