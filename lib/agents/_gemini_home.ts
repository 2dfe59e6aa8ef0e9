/**
 * Gemini CLI reads hooks only from settings files, and a system settings file must belong to
 * root: so, per launch, prj gives it a home of its own (`GEMINI_CLI_HOME`) in the launch's
 * folder. Its `.gemini/settings.json` is the user's settings plus prj's hooks; every other entry
 * of the user's `~/.gemini` is a symlink, so logins, history, trusted folders and chats stay the
 * user's (and `gemini --resume` outside prj finds the conversation).
 */
import * as path from "../util/path.ts";

/** Drops `//` and `/* *\/` comments outside strings (Gemini CLI's settings may have them). */
function stripComments(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      out += text.slice(start, i + 1);
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (c === "/" && text[i + 1] === "*") {
      i = text.indexOf("*/", i + 2);
      if (i < 0) break;
      i++;
    } else out += c;
  }
  return out;
}

/**
 * Builds the launch's Gemini home and returns the environment that points Gemini CLI at it,
 * or undefined (no hooks) when the user's settings cannot be read.
 *
 * @param launchDir the launch's folder
 * @param hookCommand the command each hook runs
 * @param events the hook events to install
 */
export function geminiHookHome(
  launchDir: string,
  hookCommand: string,
  events: readonly string[],
): Record<string, string> | undefined {
  const userHome = Deno.env.get("GEMINI_CLI_HOME") || Deno.env.get("HOME");
  if (!userHome || events.length === 0) return undefined;
  const real = path.join(userHome, ".gemini");
  let settings: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(stripComments(Deno.readTextFileSync(path.join(real, "settings.json"))));
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) settings = parsed;
    else return undefined;
  } catch (error) {
    // Settings prj cannot read are not replaced by prj's (the agent runs without hooks instead).
    if (!(error instanceof Deno.errors.NotFound)) return undefined;
  }
  // A link to a missing folder would break Gemini CLI; it creates this one itself anyway.
  Deno.mkdirSync(path.join(real, "tmp"), { recursive: true });
  const home = path.join(launchDir, "gemini-home");
  const dir = path.join(home, ".gemini");
  Deno.mkdirSync(dir, { recursive: true });
  for (const entry of Deno.readDirSync(real)) {
    if (entry.name === "settings.json") continue;
    try {
      Deno.symlinkSync(path.join(real, entry.name), path.join(dir, entry.name));
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
  const hooks = { ...(settings.hooks as Record<string, unknown[]> | undefined) };
  for (const event of events) {
    const own = Array.isArray(hooks[event]) ? hooks[event] : [];
    hooks[event] = [...own, {
      matcher: "*",
      hooks: [{ type: "command", name: `prj-${event}`, command: hookCommand }],
    }];
  }
  const general = (settings.general ?? {}) as Record<string, unknown>;
  const merged = {
    ...settings,
    hooks,
    // Gemini CLI 0.61.0's session cleanup deletes a conversation resumed in a later minute, which
    // would break `prj agent resume`: no cleanup during prj's launches.
    general: { ...general, sessionRetention: { ...(general.sessionRetention as object | undefined), enabled: false } },
  };
  Deno.writeTextFileSync(path.join(dir, "settings.json"), JSON.stringify(merged, null, 2));
  return { GEMINI_CLI_HOME: home };
}
