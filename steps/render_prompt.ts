/** Built-in step `render-prompt`: renders the command's prompt into the run's outputs. */
import type { BuiltinContext, StepResult } from "../lib/run/contract.ts";

/** Renders `prompt_file` (or `with.prompt`) with the run's values into `outputs/prompt.md` and shares its path. */
export default async function renderPrompt(ctx: BuiltinContext): Promise<StepResult> {
  const template = typeof ctx.with.prompt === "string" ? ctx.with.prompt : ctx.prompt?.text;
  if (template === undefined) throw new Error("render-prompt needs prompt_file on the command, or with.prompt");
  const file = await ctx.artifact("prompt.md", ctx.render(template));
  ctx.shared.set("prompt_file", file);
  return { output: file };
}
