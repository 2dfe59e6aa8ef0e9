/** The .prj/config.yaml that `prj init` writes. */

/** Source of .prj/config.yaml. */
export const configYaml: string = `# prj project configuration. Every field is optional; see the README's reference.

# name: my-project            # used in tmux session names (default: the folder name)

# Default grant for sandboxed TypeScript steps (commands and steps may override per kind).
# The built-in default: read the project and worktree, write the worktree and artifacts.
# permissions:
#   net: ["api.example.com"]

agent:
  command: claude             # the coding agent program (a list for arguments: [my-agent, --flag])
  # args: []                  # fixed arguments after the program
  # model: sonnet             # default model, passed as --model <model>
  # strongest_model: opus     # for principal-level tasks
  # prompt_mode: argument     # argument | stdin | file
  # timeout: 3600             # seconds, for headless runs
  # kind: claude              # claude (session ids, resume, stream-json) or generic

worktree:
  # dir: ../my-repo.worktrees # where worktrees go (default: a sibling <repo>.worktrees folder)
  # base: main                # base branch (default: the repository's default branch)
  branch_prefix: ""           # e.g. "feature/"
  copy: []                    # untracked files to copy into new worktrees, e.g. [".env"]
  setup: []                   # commands run in a new worktree, e.g. ["npm ci"]
  port_base: 3000             # PRJ_PORT = port_base + slot * port_stride
  port_stride: 10

# Run when an agent starts waiting for input or exits (prj fleet notices it).
# notify: 'notify-send "$PRJ_MESSAGE"'
# fleet:
#   idle_after: 5             # seconds of unchanged output before an agent reads as idle

# prj agent run: where tasks come from (builtin: prj task add ...; or a Headless PM server)
# task_source: builtin
# headless_pm:
#   url: http://localhost:6969
#   api_key_env: HEADLESS_PM_API_KEY
# agent_runner:
#   max_attempts: 3
#   on_hook_failure: release  # release | skip | stop (without a TTY)
`;
