/** The built-in steps by name, each imported only when a run uses it. */
import type { BuiltinStep } from "./types.ts";
import { importLazy } from "./_lazy.ts";

const step = (file: string) => importLazy<{ default: BuiltinStep }>(`../steps/${file}.ts`, import.meta.url);

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

/** One-line descriptions of the built-in steps, for `--dry-run` and docs. */
export const BUILTIN_DESCRIPTIONS: Readonly<Record<string, string>> = {
  "setup-environment": "records the run's environment and prepares its artifact folders",
  "validate-prerequisites": "checks the git repo, required tools and required env vars",
  "gather-context": "writes branch, head, status and changed files to context.json",
  "store-artifacts": "copies files from the working directory into the run's outputs/",
  "cleanup": "removes temporary files the run made under its working directory",
  "create-worktree": "creates a branch and worktree; later steps run there",
  "start-session": "starts a detached tmux session in the run's worktree",
  "launch-agent": "renders the prompt and starts the coding agent",
  "remove-worktree": "removes the run's worktree (and its branch unless kept)",
  "kill-session": "kills the run's tmux session",
  "fan-out": "runs a command once per item, all at once, as child runs",
  "render-prompt": "renders the command's prompt_file into outputs/prompt.md",
};
