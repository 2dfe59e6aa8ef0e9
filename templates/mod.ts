/** The files `prj init` writes and the templates prj falls back to, keyed by their path under .prj/. */
import { analyzeIssue, codeReview, example, featureBranch, parallel } from "./commands.ts";
import { analyzeIssuePrompt, codeReviewPrompt, featureBranchPrompt } from "./prompts.ts";
import { exampleStep } from "./example_step.ts";
import { stepTypes } from "./step_types.ts";
import { configYaml } from "./config.ts";

/** Template files by path under `.prj/`. */
export const TEMPLATE_FILES: Readonly<Record<string, string>> = {
  "commands/analyze-issue.yaml": analyzeIssue,
  "commands/code-review.yaml": codeReview,
  "commands/feature-branch.yaml": featureBranch,
  "commands/parallel.yaml": parallel,
  "commands/example.yaml": example,
  "prompts/analyze-issue.md": analyzeIssuePrompt,
  "prompts/code-review.md": codeReviewPrompt,
  "prompts/feature-branch.md": featureBranchPrompt,
  "steps/example.ts": exampleStep,
  "steps/types.d.ts": stepTypes,
  "config.yaml": configYaml,
};
