/** The built-in steps by name, each imported only when a run uses it. */
import type { BuiltinStep } from "./types.ts";

/** Built-in step name -> lazy module loader (literal specifiers, so `deno compile` embeds them). */
export const BUILTIN_STEPS: Readonly<Record<string, () => Promise<{ default: BuiltinStep }>>> = {
  "setup-environment": () => import("../steps/setup_environment.ts"),
  "validate-prerequisites": () => import("../steps/validate_prerequisites.ts"),
  "gather-context": () => import("../steps/gather_context.ts"),
  "store-artifacts": () => import("../steps/store_artifacts.ts"),
  "cleanup": () => import("../steps/cleanup.ts"),
  "create-worktree": () => import("../steps/create_worktree.ts"),
  "start-session": () => import("../steps/start_session.ts"),
  "launch-agent": () => import("../steps/launch_agent.ts"),
  "remove-worktree": () => import("../steps/remove_worktree.ts"),
  "kill-session": () => import("../steps/kill_session.ts"),
  "fan-out": () => import("../steps/fan_out.ts"),
  "render-prompt": () => import("../steps/render_prompt.ts"),
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
