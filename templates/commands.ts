/** The shipped command definitions (YAML), embedded as strings so a compiled binary carries them. */

/** `analyze-issue`: context and an analysis prompt for an issue; optionally the agent runs it. */
export const analyzeIssue: string = `# Gather the repository's context and a prompt to analyze an issue.
name: analyze-issue
description: Collect repo context and an analysis prompt for an issue (agent=true runs the agent on it)
category: analysis
arguments:
  - name: issue
    required: true
    description: The issue to analyze (a number, a URL or a sentence)
  - name: agent
    type: boolean
    default: false
    description: Run the configured agent headless on the prompt
prompt_file: prompts/analyze-issue.md
timeout: 3600
steps:
  - name: check
    uses: validate-prerequisites
    with:
      tools: [git]
  - gather-context
  - render-prompt
  - name: agent
    uses: launch-agent
    if: "{{ args.agent }}"
    with:
      headless: true
`;

/** `code-review`: the diff against a base, context and a review prompt; optionally the agent reviews. */
export const codeReview: string = `# Review what changed: context, the diff and a review prompt.
name: code-review
description: Collect the diff against a base branch and a review prompt (agent=true runs the agent on it)
category: review
arguments:
  - name: base
    default: ""
    description: Branch or commit to review against (default - uncommitted changes against HEAD)
  - name: agent
    type: boolean
    default: false
    description: Run the configured agent headless on the prompt
prompt_file: prompts/code-review.md
timeout: 3600
steps:
  - name: check
    uses: validate-prerequisites
    with:
      tools: [git]
  - name: context
    uses: gather-context
    with:
      base: "{{ args.base }}"
      diff: true
  - render-prompt
  - name: agent
    uses: launch-agent
    if: "{{ args.agent }}"
    with:
      headless: true
`;

/** `feature-branch`: a worktree, a tmux session and the agent working there. */
export const featureBranch: string =
  `# One feature: its own branch and worktree, its own tmux session, an agent at work in it.
name: feature-branch
description: Create a worktree and tmux session for a feature and start the coding agent there
category: development
arguments:
  - name: feature_name
    required: true
    description: Name of the feature; also the worktree and branch name
  - name: base
    default: ""
    description: Branch to start from (default - the repository's default branch)
  - name: task
    default: ""
    description: Optional task label, added to the session name
  - name: headless
    type: boolean
    default: false
    description: Run the agent to completion instead of in the tmux session
prompt_file: prompts/feature-branch.md
steps:
  - name: check
    uses: validate-prerequisites
    with:
      tools: [git, tmux]
  - name: worktree
    uses: create-worktree
    with:
      name: "{{ args.feature_name }}"
      from: "{{ args.base }}"
  - name: session
    uses: start-session
    with:
      task: "{{ args.task }}"
  - gather-context
  - name: agent
    uses: launch-agent
    with:
      headless: "{{ args.headless }}"
`;

/** `parallel`: one worktree, session and agent per task, all at once. */
export const parallel: string = `# Fan out: one feature-branch run per task, all at once.
name: parallel
description: Start one worktree, tmux session and agent per task, all at once (tasks=a,b,c)
category: development
arguments:
  - name: tasks
    required: true
    description: Comma-separated task names; each becomes a worktree, branch and session
  - name: base
    default: ""
    description: Branch to start from (default - the repository's default branch)
  - name: headless
    type: boolean
    default: false
    description: Run each agent to completion instead of in its tmux session
steps:
  - name: fan-out
    uses: fan-out
    with:
      command: feature-branch
      over: "{{ args.tasks }}"
      as: feature_name
      args:
        base: "{{ args.base }}"
        headless: "{{ args.headless }}"
`;

/** `example`: runs the example TypeScript step in the sandbox. */
export const example: string = `# A small command around the example TypeScript step in .prj/steps/example.ts.
name: example
description: Run the example sandboxed TypeScript step and a program step
category: examples
arguments:
  - name: greeting
    default: hello
    description: What the example step says
steps:
  - name: example
    uses: example
    with:
      greeting: "{{ args.greeting }}"
    timeout: 30
  - name: show
    run: [git, status, --short]
`;
