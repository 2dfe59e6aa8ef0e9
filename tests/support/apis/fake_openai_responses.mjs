// A local stand-in for the OpenAI Responses API (streaming SSE) for driving the REAL Codex CLI offline, with a control file.
//   node fake_openai_responses.mjs --port 18131 --log /tmp/oa.jsonl [--control /tmp/oa_control.json]
// Codex config (CODEX_HOME/config.toml or -c overrides):
//   model = "gpt-fake"; model_provider = "fake"
//   [model_providers.fake] name = "fake"; base_url = "http://127.0.0.1:PORT/v1"; env_key = "OPENAI_API_KEY"; wire_api = "responses"
// Listens on 127.0.0.1 only; logs every request as a JSON line (and the full body of /responses calls to <log>.full.jsonl).
// POST /v1/responses: when the last input item is not a tool output -> a function call (control.tool), else a text answer.
// Control file (JSON, re-read on every request):
//   { "delay_ms": 4000,            // sleep before answering (a 'working' window)
//     "tool": "exec_command"|"request_user_input"|"none",
//     "command": "echo hi > X.md",  // the shell command (default writes CODEX_WORK.md)
//     "escalate": true,             // ask for sandbox escalation (sandbox_permissions=require_escalated) -> approval prompt
//     "fail_status": 401,           // answer /responses with this HTTP error (OpenAI error JSON)
//     "final_delay_ms": 0 }         // sleep before the final text answer only
import http from "node:http";
import fs from "node:fs";

const args = process.argv.slice(2);
const opt = (n, d) => (args.indexOf(`--${n}`) >= 0 ? args[args.indexOf(`--${n}`) + 1] : d);
const PORT = Number(opt("port", "18131"));
const LOG = opt("log", "/tmp/fake_openai.jsonl");
const CONTROL = opt("control", "");
let n = 0;
const id = (p) => `${p}_${Date.now().toString(36)}${(n++).toString(36)}`;
const log = (e) => fs.appendFileSync(LOG, JSON.stringify({ at: new Date().toISOString(), ...e }) + "\n");
const sse = (res, type, data) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
const control = () => {
  try {
    return CONTROL ? JSON.parse(fs.readFileSync(CONTROL, "utf8")) : {};
  } catch {
    return {};
  }
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const isOutput = (i) => /_output$/.test(i?.type ?? "");

async function respond(res, body) {
  const c = control();
  if (c.fail_status) {
    log({ kind: "answer", error: c.fail_status });
    res.writeHead(c.fail_status, { "content-type": "application/json" });
    return res.end(
      JSON.stringify({
        error: {
          message: c.fail_message ?? `fake error ${c.fail_status}`,
          type: c.fail_status === 401 ? "invalid_request_error" : "server_error",
          param: null,
          code: c.fail_status === 401 ? "invalid_api_key" : null,
        },
      }),
    );
  }
  const input = Array.isArray(body.input) ? body.input : [];
  const last = input.at(-1);
  const tools = (body.tools ?? []).map((t) => t.name ?? t.type);
  const users = input.filter((i) => i.type === "message" && i.role === "user").length;
  const isMain = tools.includes("exec_command") || tools.includes("shell") || tools.includes("shell_command");
  let item;
  const msg = (text) => ({
    id: id("msg"),
    type: "message",
    status: "completed",
    role: "assistant",
    content: [{ type: "output_text", text, annotations: [] }],
  });
  const tool = c.tool ?? "exec_command";
  if (!isMain) item = msg("Fake side answer");
  else if (!isOutput(last) && tool !== "none") {
    if (tool === "request_user_input") {
      const a = {
        questions: [{
          id: "file_name",
          header: "File name",
          question: "Which file name should I use?",
          options: [{ label: "CODEX_WORK.md", description: "The name from the task" }, {
            label: "NOTES.md",
            description: "A generic notes file",
          }],
        }],
      };
      item = {
        id: id("fc"),
        type: "function_call",
        status: "completed",
        call_id: id("call"),
        name: "request_user_input",
        arguments: JSON.stringify(a),
      };
    } else {
      const shell = tools.find((t) => ["exec_command", "shell_command", "shell"].includes(t));
      const cmd = c.command ?? "echo written by real codex > CODEX_WORK.md";
      let a = shell === "exec_command"
        ? { cmd }
        : shell === "shell_command"
        ? { command: cmd }
        : { command: ["bash", "-lc", cmd] };
      if (c.escalate) {
        a = { ...a, sandbox_permissions: "require_escalated", justification: "Write the file the task asks for" };
      }
      item = {
        id: id("fc"),
        type: "function_call",
        status: "completed",
        call_id: id("call"),
        name: shell,
        arguments: JSON.stringify(a),
      };
    }
  } else {
    item = msg(`Done: the work is finished (fake API saw ${input.length} input items, ${users} user messages).`);
  }
  const delay = item.type === "message" && isMain
    ? (c.final_delay_ms ?? c.delay_ms ?? 0)
    : isMain
    ? (c.delay_ms ?? 0)
    : 0;
  log({ kind: "answer", tools, item_type: item.type, name: item.name, delay });
  if (delay) await sleep(delay);
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const response = {
    id: id("resp"),
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status: "in_progress",
    model: body.model,
    output: [],
  };
  sse(res, "response.created", { response });
  sse(res, "response.in_progress", { response });
  sse(res, "response.output_item.added", { output_index: 0, item: { ...item, status: "in_progress" } });
  if (item.type === "message") {
    const t = item.content[0].text;
    sse(res, "response.content_part.added", {
      item_id: item.id,
      output_index: 0,
      content_index: 0,
      part: { type: "output_text", text: "", annotations: [] },
    });
    sse(res, "response.output_text.delta", { item_id: item.id, output_index: 0, content_index: 0, delta: t });
    sse(res, "response.output_text.done", { item_id: item.id, output_index: 0, content_index: 0, text: t });
    sse(res, "response.content_part.done", {
      item_id: item.id,
      output_index: 0,
      content_index: 0,
      part: item.content[0],
    });
  } else {
    sse(res, "response.function_call_arguments.delta", { item_id: item.id, output_index: 0, delta: item.arguments });
    sse(res, "response.function_call_arguments.done", { item_id: item.id, output_index: 0, arguments: item.arguments });
  }
  sse(res, "response.output_item.done", { output_index: 0, item });
  sse(res, "response.completed", {
    response: {
      ...response,
      status: "completed",
      output: [item],
      usage: {
        input_tokens: 100,
        input_tokens_details: { cached_tokens: 10 },
        output_tokens: 20,
        output_tokens_details: { reasoning_tokens: 5 },
        total_tokens: 120,
      },
    },
  });
  res.end();
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    const raw = Buffer.concat(chunks).toString("utf8");
    let body = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = { unparsed: raw.slice(0, 500) };
    }
    log({
      kind: "request",
      method: req.method,
      url: req.url,
      ua: req.headers["user-agent"],
      model: body?.model,
      stream: body?.stream,
      tools: (body?.tools ?? []).map((t) => t.name ?? t.type),
      input: Array.isArray(body?.input)
        ? body.input.map((i) => ({
          type: i.type,
          role: i.role,
          text: JSON.stringify(i.content ?? i.output ?? i.arguments ?? "").slice(0, 160),
        }))
        : undefined,
    });
    const path = new URL(req.url, "http://x").pathname;
    if (req.method === "POST" && path.endsWith("/responses")) {
      fs.appendFileSync(
        LOG.replace(/\.jsonl$/, "") + ".full.jsonl",
        JSON.stringify({ at: new Date().toISOString(), url: req.url, body }) + "\n",
      );
      try {
        return await respond(res, body ?? {});
      } catch (e) {
        log({ kind: "error", error: String(e?.stack ?? e) });
        try {
          res.writeHead(500);
          res.end();
        } catch { /* sent */ }
        return;
      }
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(path.endsWith("/models") ? JSON.stringify({ object: "list", data: [], models: [] }) : "{}");
  });
});
server.listen(PORT, "127.0.0.1", () => {
  const port = server.address().port; // --port 0 picks a free one; the line below tells which
  console.log(`fake openai responses api on http://127.0.0.1:${port}/v1 (log ${LOG})`);
});
