/** The example user step that `prj init` writes to .prj/steps/example.ts. */

/** Source of .prj/steps/example.ts. */
export const exampleStep: string = `// An example prj step. It runs in a sandbox: by default it may read the project and
// worktree and write the worktree and the run's artifacts; nothing else (no network,
// no env, no programs). Grant more with \`permissions:\` on the step in its command's YAML.
import type { StepContext } from "./types.d.ts"; // written by prj init: types offline, nothing to fetch

export default async function example(ctx: StepContext) {
  const greeting = String(ctx.with.greeting ?? "hello");
  ctx.log(\`\${greeting} from run \${ctx.run.id} of \${ctx.run.command}\`);

  // Reading inside the project is granted by default.
  const files: string[] = [];
  for await (const entry of Deno.readDir(ctx.paths.project)) files.push(entry.name);

  // Later steps of this run can read what this step shares.
  ctx.shared.set("greeting", greeting);

  // Files stored as artifacts land in .prj/artifacts/<run-id>/outputs/.
  await ctx.artifact("example.txt", \`\${greeting}\\n\${files.sort().join("\\n")}\\n\`);

  return { output: \`\${greeting}: \${files.length} entries in the project\`, data: { entries: files.length } };
}
`;
