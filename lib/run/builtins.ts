/** The built-in steps by name, each imported only when a run uses it. */
import type { BuiltinStep } from "./contract.ts";
import { importLazy } from "../util/lazy.ts";

const step = (file: string) => importLazy<{ default: BuiltinStep }>(`../../steps/${file}.ts`, import.meta.url);

/** Built-in step name -> lazy module loader (computed specifiers, see _lazy.ts; `deno compile` includes steps/). */
export const BUILTIN_STEPS: Readonly<Record<string, () => Promise<{ default: BuiltinStep }>>> = {
  "setup-environment": () => step("setup_environment"),
  "validate-prerequisites": () => step("validate_prerequisites"),
  "gather-context": () => step("gather_context"),
  "store-artifacts": () => step("store_artifacts"),
  "cleanup": () => step("cleanup"),
  "create-worktree": () => step("create_worktree"),
  "start-session": () => step("start_session"),
  "launch-agent": () => step("launch_agent"),
  "remove-worktree": () => step("remove_worktree"),
  "kill-session": () => step("kill_session"),
  "fan-out": () => step("fan_out"),
  "render-prompt": () => step("render_prompt"),
};
