/** The .prj/config.yaml that `prj init` writes. */

/** Source of .prj/config.yaml. */
export const configYaml: string = `# prj project configuration. Every field is optional; see the README's reference.

# name: my-project            # used in tmux session names (default: the folder name)

# Default grant for sandboxed TypeScript steps (commands and steps may override per kind).
# The built-in default: read the project and worktree, write the worktree and artifacts.
# permissions:
#   net: ["api.example.com"]

agent:
  kind: claude                # claude | codex | gemini | generic (any other program): how prj starts it,
                              # learns its state (hooks, headless output) and resumes its conversation
  command: claude             # the agent program, found on prj's PATH and started by its absolute path
  # args: []                  # fixed arguments for every launch
  # model: sonnet             # default model, passed as --model <model>
  # strongest_model: opus     # for principal-level tasks
  # prompt_mode: argument     # argument | stdin | file
  # timeout: 3600             # seconds, for headless runs
  # max_agents: 4             # at most this many agents live at once (working, waiting or idle);
                              # further launches wait in order, shown as queued in prj fleet
  # prices:                   # USD per million tokens, for costs an agent does not report (prj cost)
  #   gpt-5: { input: 1.25, output: 10, cache_read: 0.125 }
  # Headless runs (launch-agent with headless: true, prj agent run) have nobody to ask, so they get
  # their permissions up front. acceptEdits lets Claude Code edit files and run plain file commands
  # in its worktree without asking; --allowedTools adds the git commands a task ends with (add your
  # test command, e.g. "Bash(npm test:*)"). A tool call that is still refused fails the run and is
  # named in the error. Not 'auto' (it asks Anthropic's classifier, which a gateway may not serve)
  # and not 'bypassPermissions' (it allows everything, and refuses to run as root).
  headless_args: [--permission-mode, acceptEdits, --allowedTools, "Bash(git add:*)", "Bash(git commit:*)", "Bash(git status:*)", "Bash(git diff:*)"]
  # With kind codex or gemini, delete the line above (those are Claude Code's flags); unset, codex
  # gets [-c, 'sandbox_mode="workspace-write"']: Codex's sandbox, writable in the worktree, and prj
  # adds, per launch, the git folders a commit in a linked worktree writes (its index and HEAD, the
  # objects, refs and logs; never the repository's config or hooks). gemini gets
  # [--approval-mode, auto_edit] and --allowed-tools for "run_shell_command(git add)",
  # "(git commit)", "(git status)" and "(git diff)": edits, and those git commands and no other
  # (its shell reads no global git config: prj passes your user.name and user.email as
  # GIT_AUTHOR_*/GIT_COMMITTER_*).
  # In a tmux session you answer the agent yourself. Default: Claude Code's own mode (auto in
  # 2.1.329: it asks only about risky commands); [--permission-mode, default] asks before every
  # edit and command, [--permission-mode, acceptEdits] never about edits.
  # interactive_args: []

worktree:
  # dir: ../my-repo.worktrees # where worktrees go (default: a sibling <repo>.worktrees folder)
  # base: main                # base branch (default: the repository's default branch)
  branch_prefix: ""           # e.g. "feature/"
  copy: []                    # untracked files to copy into new worktrees, e.g. [".env"]
  setup: []                   # commands run in a new worktree, e.g. ["npm ci"]
  port_base: 3000             # PRJ_PORT = port_base + slot * port_stride
  port_stride: 10
  # merge_check: deno task test # prj worktree merge --queue runs it in each worktree (rebased onto the base)
                              # before the base takes it; a failure stops the queue

# Run when an agent starts waiting for input or exits (the prj fleet call that notices it runs it once).
# notify: 'notify-send "$PRJ_MESSAGE"'
# fleet:
#   idle_after: 5             # for kind generic (no busy marker): seconds of unchanged screen before idle

# prj agent run: where tasks come from (builtin: prj task add ...; or a Headless PM server)
# task_source: builtin
# headless_pm:
#   url: http://localhost:6969
#   api_key_env: HEADLESS_PM_API_KEY
# agent_runner:
#   max_attempts: 3
#   on_hook_failure: release  # release | skip | stop (without a TTY)
#   budget_usd: 20            # take no new task once today's recorded agent spend reaches this (USD)
`;
