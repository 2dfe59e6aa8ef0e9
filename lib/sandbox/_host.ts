/**
 * The program that runs one user step inside its own `deno run` process. prj starts it as a
 * `data:` URL built from {@link hostMain}'s source, so it works the same whether prj runs from
 * files, from JSR or compiled; the process has only the step's grant as permission flags.
 *
 * It talks to prj over stdin (a secret token, then the start message, then replies) and
 * stdout (lines that begin with the token). A step cannot forge a message: it never sees the
 * token (read before the step is imported); whatever else it prints is its output.
 */

/**
 * The host's whole program. It must stay self-contained (no imports, nothing from outside the
 * function), because only its source text reaches the sandbox.
 */
export async function hostMain(): Promise<void> {
  // Keep what the host needs before a step can replace it.
  const exit = Deno.exit;
  const out = Deno.stdout;
  const encoder = new TextEncoder();
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  let token = "";
  const send = (message: Record<string, unknown>) => {
    const bytes = encoder.encode(`${token} ${stringify(message)}\n`);
    let written = 0;
    while (written < bytes.length) written += out.writeSync(bytes.subarray(written));
  };
  const describe = (error: unknown) =>
    error instanceof Error ? { name: error.name, message: error.message } : { name: "Error", message: String(error) };

  // Read with Deno.stdin.read and a TextDecoder, not the web streams: they (and any timer) add
  // several milliseconds to the start of every step's process.
  const stdin = Deno.stdin;
  const decoder = new TextDecoder();
  const chunk = new Uint8Array(64 * 1024);
  let buffer = "";
  const nextLine = async (): Promise<string | undefined> => {
    for (;;) {
      const nl = buffer.indexOf("\n");
      if (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        return line;
      }
      const n = await stdin.read(chunk);
      if (n === null) return undefined;
      buffer += decoder.decode(chunk.subarray(0, n), { stream: true });
    }
  };
  // A spare process waits for its step; it leaves when prj goes away (stdin closes), or when prj
  // ends it after a minute unused.
  token = (await nextLine()) ?? exit(0);
  send({ type: "ready" });
  const startLine = await nextLine();
  if (startLine === undefined) exit(0);
  const start = parse(startLine!) as {
    moduleUrl: string;
    mode: "step" | "hook";
    // deno-lint-ignore no-explicit-any
    ctx: Record<string, any>;
  };

  const controller = new AbortController();
  const pending = new Map<number, { resolve: (p: string) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  (async () => {
    for (;;) {
      const line = await nextLine();
      if (line === undefined) exit(0); // prj is gone: so is this step
      const message = parse(line!);
      if (message.type === "artifact-done") {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(message.error));
        else waiter?.resolve(message.path);
      } else if (message.type === "abort") controller.abort(message.reason);
    }
  })();

  const data = start.ctx;
  const shared: Record<string, unknown> = { ...data.shared };
  const format = (part: unknown) => {
    if (typeof part === "string") return part;
    try {
      return stringify(part);
    } catch {
      return String(part);
    }
  };
  const ctx = {
    run: data.run,
    step: data.step,
    args: data.args,
    with: data.with,
    paths: data.paths,
    env: data.env,
    history: data.history,
    signal: controller.signal,
    shared: {
      get: (key: string) => shared[key],
      set: (key: string, value: unknown) => {
        const json = value === undefined ? null : parse(stringify(value));
        shared[key] = json;
        send({ type: "shared", key, value: json });
      },
      all: () => ({ ...shared }),
    },
    log: (...parts: unknown[]) => send({ type: "log", line: parts.map(format).join(" ") }),
    artifact: (name: string, content: string | Uint8Array) =>
      new Promise<string>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        if (typeof content === "string") send({ type: "artifact", id, name, text: content });
        else {send({
            type: "artifact",
            id,
            name,
            base64: btoa(Array.from(content, (b) => String.fromCharCode(b)).join("")),
          });}
      }),
  };
  // An error the step left behind (a rejected promise nobody awaited, a throw in a timer) ends the step.
  const uncaught = (error: unknown) => {
    send({ type: "error", phase: "uncaught", error: describe(error) });
    exit(1);
  };
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    uncaught(event.reason);
  });
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    uncaught(event.error ?? event.message);
  });

  let mod: Record<string, unknown>;
  try {
    mod = await import(start.moduleUrl);
  } catch (error) {
    send({ type: "error", phase: "import", error: describe(error) });
    return exit(0);
  }
  if (typeof mod.default !== "function") {
    send({
      type: "error",
      phase: "shape",
      error: {
        name: "TypeError",
        message: `default export is ${mod.default === undefined ? "missing" : typeof mod.default}`,
      },
    });
    return exit(0);
  }
  try {
    // A hook receives its payload (the task) and the context; a step receives the context.
    const result = start.mode === "hook"
      ? await (mod.default as (p: unknown, c: unknown) => unknown)(data.payload, ctx)
      : await (mod.default as (c: unknown) => unknown)(ctx);
    let json: unknown = null;
    try {
      json = result === undefined ? null : parse(stringify(result));
    } catch (error) {
      send({ type: "error", phase: "result", error: describe(error) });
      return exit(0);
    }
    send({ type: "done", result: json });
  } catch (error) {
    send({ type: "error", phase: "run", error: describe(error) });
  }
  exit(0);
}

/** The host as a `data:` URL module. */
export const HOST_URL: string = `data:application/javascript;base64,${
  btoa(String.fromCharCode(...new TextEncoder().encode(`(${hostMain.toString()})();\n`)))
}`;
