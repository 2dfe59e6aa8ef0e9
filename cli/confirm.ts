/** Asking before destructive work: on a TTY a yes/no prompt; without one, a refusal that names --yes. */
import type { Io } from "./io.ts";

/** Asks a yes/no question on a TTY (default no). Without a TTY it refuses and says to pass --yes. */
export async function confirm(io: Io, question: string): Promise<boolean> {
  if (!io.interactive) {
    io.err(`${io.paint("red", "error:")} refusing without confirmation: no terminal to ask on; pass --yes`);
    return false;
  }
  const { confirm: ask } = await import("@inquirer/prompts");
  try {
    return await ask({ message: question, default: false });
  } catch {
    return false; // Ctrl-C at the prompt
  }
}
