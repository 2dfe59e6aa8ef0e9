/** The shipped prompt files, embedded as strings. */

/** Prompt of `analyze-issue`. */
export const analyzeIssuePrompt: string = `# Analyze an issue

Issue: {{ args.issue }}

You are working in {{ cwd }} (project {{ project_name }}). The repository's current state
(branch, head, changed files) is in {{ artifacts }}/context.json.

1. Restate the issue in one paragraph.
2. Find the code involved and list the files with one line each on their role.
3. Propose a fix or a design, with the risks and the tests that would prove it.
Write your analysis to ANALYSIS.md. Do not change other files.
`;

/** Prompt of `code-review`. */
export const codeReviewPrompt: string = `# Review a change

Review the change in {{ cwd }} (project {{ project_name }}). The diff is in
{{ artifacts }}/outputs/diff.patch and the context in {{ artifacts }}/context.json.

For each problem give the file and line, what is wrong, and a concrete fix. Look for
bugs, missing tests, unclear names, and behaviour a user would not expect. End with a
one-line verdict: approve, or request changes. Write the review to REVIEW.md.
`;

/** Prompt of `feature-branch`. */
export const featureBranchPrompt: string = `# Build a feature: {{ args.feature_name }}

You are in the worktree {{ worktree }} on branch {{ branch }}, made for this feature
alone; other agents work in other worktrees. The dev server port reserved for you is in
$PRJ_PORT.

Implement "{{ args.feature_name }}". Keep the change focused, add tests, run them, and
commit your work on this branch with a clear message when it passes.
`;
