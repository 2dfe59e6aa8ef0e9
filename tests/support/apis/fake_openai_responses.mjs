// A local stand-in of the OpenAI Responses API (streaming SSE) for driving the REAL Codex CLI offline.
//   node fake_openai_responses.mjs --port 18130 --log /tmp/fake_openai.jsonl
//   then: OPENAI_API_KEY=sk-fake codex exec "..." with ~/.codex/config.toml (codex 0.169 ignores OPENAI_BASE_URL and
//   tries the real endpoint over WebSockets):
//     model = "gpt-fake"
//     model_provider = "fake"
//     [model_providers.fake]
//     name = "fake"
//     base_url = "http://127.0.0.1:18130/v1"
//     env_key = "OPENAI_API_KEY"
//     wire_api = "responses"
// Listens on 127.0.0.1 only; logs every request as a JSON line. POST /v1/responses: when the last input item is not a
// function_call_output, answers with a function call to the shell tool Codex offers (writes CODEX_WORK.md), else with a
// short text. Anything else: 200 {} (GET /v1/models: an empty list).
import http from "node:http";
import fs from "node:fs";

const args = process.argv.slice(2);
const opt = (n, d) => (args.indexOf(`--${n}`) >= 0 ? args[args.indexOf(`--${n}`) + 1] : d);
const PORT = Number(opt("port", "18130"));
const LOG = opt("log", "/tmp/fake_openai.jsonl");
let n = 0;
const id = (p) => `${p}_${Date.now().toString(36)}${(n++).toString(36)}`;
const log = (e) => fs.appendFileSync(LOG, JSON.stringify({ at: new Date().toISOString(), ...e }) + "\n");
const sse = (res, type, data) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);

function respond(res, body) {
  const input = Array.isArray(body.input) ? body.input : [];
  const last = input.at(-1);
  const tools = (body.tools ?? []).map((t) => t.name ?? t.type);
  const respId = id("resp");
  let item;
  if (last?.type !== "function_call_output" && last?.type !== "custom_tool_call_output") {
    const shell = tools.find((t) => ["shell", "exec_command", "shell_command", "local_shell"].includes(t));
    const cmd = "echo written by real codex > CODEX_WORK.md";
    const argsJson = shell === "exec_command"
      ? { cmd }
      : shell === "shell_command"
      ? { command: cmd }
      : { command: ["bash", "-lc", cmd] };
    item = shell
      ? {
        id: id("fc"),
        type: "function_call",
        status: "completed",
        call_id: id("call"),
        name: shell,
        arguments: JSON.stringify(argsJson),
      }
      : {
        id: id("msg"),
        type: "message",
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text: "No shell tool offered.", annotations: [] }],
      };
  } else {
    item = {
      id: id("msg"),
      type: "message",
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: "Done: CODEX_WORK.md written.", annotations: [] }],
    };
  }
  log({ kind: "answer", tools, item_type: item.type, name: item.name });
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const response = {
    id: respId,
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
    sse(res, "response.content_part.added", {
      item_id: item.id,
      output_index: 0,
      content_index: 0,
      part: { type: "output_text", text: "", annotations: [] },
    });
    sse(res, "response.output_text.delta", {
      item_id: item.id,
      output_index: 0,
      content_index: 0,
      delta: item.content[0].text,
    });
    sse(res, "response.output_text.done", {
      item_id: item.id,
      output_index: 0,
      content_index: 0,
      text: item.content[0].text,
    });
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
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 20,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 120,
      },
    },
  });
  res.end();
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
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
    if (req.method === "POST" && path.endsWith("/responses")) return respond(res, body ?? {});
    res.writeHead(200, { "content-type": "application/json" });
    res.end(path.endsWith("/models") ? JSON.stringify({ object: "list", data: [], models: [] }) : "{}");
  });
});
server.listen(PORT, "127.0.0.1", () => {
  const port = server.address().port; // --port 0 picks a free one; the line below tells which
  console.log(`fake openai responses api on http://127.0.0.1:${port}/v1 (log ${LOG})`);
});
