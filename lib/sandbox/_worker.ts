/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/** Worker entry for user steps: imports the step module under the Worker's permissions and runs it. */

interface StartMessage {
  type: "start";
  moduleUrl: string;
  display: string;
  mode?: "step" | "hook";
  // deno-lint-ignore no-explicit-any
  ctx: Record<string, any>;
}

const post = (message: unknown) => self.postMessage(message);
const controller = new AbortController();
const pending = new Map<number, { resolve: (p: string) => void; reject: (e: Error) => void }>();
let nextRequest = 1;

function format(part: unknown): string {
  if (typeof part === "string") return part;
  try {
    return JSON.stringify(part);
  } catch {
    return String(part);
  }
}

function describeError(error: unknown): { name: string; message: string; stack?: string } {
  if (error instanceof Error) {
    const out: { name: string; message: string; stack?: string } = { name: error.name, message: error.message };
    if (error.stack !== undefined) out.stack = error.stack;
    return out;
  }
  return { name: "Error", message: String(error) };
}

async function start(message: StartMessage): Promise<void> {
  const data = message.ctx;
  const shared: Record<string, unknown> = { ...data.shared };
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
        const json = value === undefined ? null : JSON.parse(JSON.stringify(value));
        shared[key] = json;
        post({ type: "shared", key, value: json });
      },
      all: () => ({ ...shared }),
    },
    log: (...parts: unknown[]) => post({ type: "log", line: parts.map(format).join(" ") }),
    artifact: (name: string, content: string | Uint8Array) =>
      new Promise<string>((resolve, reject) => {
        const id = nextRequest++;
        pending.set(id, { resolve, reject });
        post({ type: "artifact", id, name, content });
      }),
  };
  // console output of a step goes to its log, never to prj's stdout (which may be an MCP stream).
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    console[method] = (...parts: unknown[]) => ctx.log(...parts);
  }
  let mod: Record<string, unknown>;
  try {
    mod = await import(message.moduleUrl);
  } catch (error) {
    post({ type: "error", phase: "import", error: describeError(error) });
    return;
  }
  if (typeof mod.default !== "function") {
    post({
      type: "error",
      phase: "shape",
      error: {
        name: "TypeError",
        message: `default export is ${mod.default === undefined ? "missing" : typeof mod.default}`,
      },
    });
    return;
  }
  try {
    // A hook receives its payload (the task) and the context; a step receives the context.
    const result = message.mode === "hook"
      ? await (mod.default as (p: unknown, c: unknown) => unknown)(data.payload, ctx)
      : await (mod.default as (c: unknown) => unknown)(ctx);
    post({ type: "done", result: result === undefined ? null : JSON.parse(JSON.stringify(result)) });
  } catch (error) {
    post({ type: "error", phase: "run", error: describeError(error) });
  }
}

self.onmessage = (event: MessageEvent) => {
  const message = event.data;
  if (message?.type === "start") void start(message as StartMessage);
  else if (message?.type === "abort") controller.abort(message.reason);
  else if (message?.type === "artifact-done") {
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) waiter?.reject(new Error(message.error));
    else waiter?.resolve(message.path);
  }
};
