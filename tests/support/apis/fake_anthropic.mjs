// A local stand-in of the Anthropic Messages API for driving the REAL Claude Code CLI offline.
//   node fake_anthropic.mjs --port 18123 --log /tmp/fake_api.jsonl [--control /tmp/fake_control.json]
//   then: ANTHROPIC_BASE_URL=http://127.0.0.1:18123 ANTHROPIC_API_KEY=sk-ant-fake-0000 claude ...
// Listens on 127.0.0.1 only. Logs every request (method, path, selected headers, parsed body) as one JSON
// line to --log. Script for the main agent conversation (a request whose `tools` include Write/Bash):
//   - last user message has no tool_result  -> a tool_use (Write by default; "Bash" via control.tool)
//   - last user message holds a tool_result -> a short text "Done: ..." with stop_reason end_turn
// Other calls (title / topic / quota checks, requests without tools) get a short text answer;
// /v1/messages/count_tokens gets {input_tokens}; anything else gets 200 {} (and is logged).
// The control file (JSON, re-read on every request) can set:
//   { "delay_ms": 4000,        // sleep before answering a main-conversation turn (a 'working' window)
//     "tool": "Write"|"Bash"|"AskUserQuestion", // which tool the first turn uses
//     "file": "REAL_CLAUDE.md", // relative file name to write (Write gets an absolute path from the cwd in the prompt)
//     "fail_status": 401       // answer every /v1/messages with this HTTP error (the real API's error JSON)
//   }
// Stream responses follow the real API's SSE: message_start, content_block_start, ping,
// content_block_delta (text_delta / input_json_delta), content_block_stop, message_delta, message_stop.
import http from "node:http";
import fs from "node:fs";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const PORT = Number(opt("port", "18123"));
const LOG = opt("log", "/tmp/fake_anthropic.jsonl");
const CONTROL = opt("control", "");

let counter = 0;
const id = (p) => `${p}_fake${Date.now().toString(36)}${(counter++).toString(36)}`;

function control() {
  if (!CONTROL) return {};
  try {
    return JSON.parse(fs.readFileSync(CONTROL, "utf8"));
  } catch {
    return {};
  }
}

function log(entry) {
  fs.appendFileSync(LOG, JSON.stringify({ at: new Date().toISOString(), ...entry }) + "\n");
}

function textOf(content) {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((
    b,
  ) => (b.type === "text" ? b.text : b.type === "tool_result" ? `[tool_result ${b.tool_use_id}]` : `[${b.type}]`)).join(
    " ",
  );
}

// The user's own words in a message: its last text block that is not a <system-reminder>.
function promptOf(content) {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  const texts = content.filter((b) => b.type === "text" && !/^\s*<system-reminder>/.test(b.text)).map((b) => b.text);
  return texts.at(-1) ?? "";
}

function systemText(system) {
  if (typeof system === "string") return system;
  if (Array.isArray(system)) return system.map((b) => b.text ?? "").join("\n");
  return "";
}

// The agent's working directory, as Claude Code states it in the system prompt or first user message.
function workingDir(body) {
  const hay = systemText(body.system) + "\n" + (body.messages ?? []).map((m) => textOf(m.content)).join("\n");
  const m = hay.match(/(?:Primary working directory|Working directory|working directory is)\s*:?\s*(\/[^\s<"'`]+)/i);
  return m ? m[1] : process.cwd();
}

function plan(body) {
  const tools = (body.tools ?? []).map((t) => t.name);
  const messages = body.messages ?? [];
  const last = messages.at(-1);
  const lastHasToolResult = Array.isArray(last?.content) && last.content.some((b) => b.type === "tool_result");
  const c = control();
  const isMain = tools.includes("Write") || tools.includes("Bash");
  if (!isMain) {
    // Side calls (titles, topic detection, quota checks): a short plain answer.
    const sys = systemText(body.system);
    if (/json/i.test(sys) && /title|topic/i.test(sys)) {
      return {
        kind: "side-json",
        blocks: [{ type: "text", text: '{"isNewTopic": false, "title": "Fake task"}' }],
        stop: "end_turn",
      };
    }
    return { kind: "side", blocks: [{ type: "text", text: "Fake task" }], stop: "end_turn" };
  }
  if (lastHasToolResult) {
    const count = messages.filter((m) => m.role === "user").length;
    return {
      kind: "final",
      delay: c.delay_ms ?? 0,
      blocks: [{
        type: "text",
        text: `Done: the file is written (fake API saw ${messages.length} messages, ${count} from the user).`,
      }],
      stop: "end_turn",
    };
  }
  const file = c.file ?? "REAL_CLAUDE.md";
  const tool = c.tool ?? (tools.includes("Write") ? "Write" : "Bash");
  const cwd = workingDir(body);
  const input = tool === "Write"
    ? {
      file_path: `${cwd}/${file}`,
      content: `written by real Claude Code via the fake API\nprompt: ${
        promptOf(messages.find((m) => m.role === "user")?.content).slice(0, 80).replace(/\n/g, " ")
      }\n`,
    }
    : tool === "AskUserQuestion"
    ? {
      questions: [{
        question: "Which file name should I use?",
        header: "File name",
        multiSelect: false,
        options: [
          { label: file, description: "The name from the task" },
          { label: "NOTES.md", description: "A generic notes file" },
        ],
      }],
    }
    : { command: `echo "written by real Claude Code via Bash" > ${file}`, description: `Write ${file}` };
  return {
    kind: `tool_use:${tool}`,
    delay: c.delay_ms ?? 0,
    blocks: [
      { type: "text", text: `I will write ${file}.` },
      { type: "tool_use", id: id("toolu"), name: tool, input },
    ],
    stop: "tool_use",
  };
}

function usage() {
  return { input_tokens: 120, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 };
}

function sse(res, event, data) {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

async function answerMessages(_req, res, body) {
  const c = control();
  if (c.fail_status) {
    // An API error, shaped as the real API sends it.
    const type = {
      400: "invalid_request_error",
      401: "authentication_error",
      403: "permission_error",
      404: "not_found_error",
      429: "rate_limit_error",
      529: "overloaded_error",
    }[c.fail_status] ?? "api_error";
    log({ kind: "plan", plan: `error:${c.fail_status}`, model: body.model });
    res.writeHead(c.fail_status, { "content-type": "application/json", "request-id": id("req") });
    return res.end(JSON.stringify({ type: "error", error: { type, message: c.fail_message ?? `fake ${type}` } }));
  }
  const p = plan(body);
  log({ kind: "plan", plan: p.kind, model: body.model, stream: !!body.stream, delay: p.delay ?? 0 });
  if (p.delay) await new Promise((r) => setTimeout(r, p.delay));
  const msgId = id("msg");
  const model = body.model ?? "claude-fake";
  if (!body.stream) {
    res.writeHead(200, { "content-type": "application/json", "request-id": id("req") });
    res.end(JSON.stringify({
      id: msgId,
      type: "message",
      role: "assistant",
      model,
      content: p.blocks,
      stop_reason: p.stop,
      stop_sequence: null,
      usage: { ...usage(), output_tokens: 20 },
    }));
    return;
  }
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "request-id": id("req"),
  });
  sse(res, "message_start", {
    type: "message_start",
    message: {
      id: msgId,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: usage(),
    },
  });
  p.blocks.forEach((b, index) => {
    if (b.type === "text") {
      sse(res, "content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "text", text: "" },
      });
      if (index === 0) sse(res, "ping", { type: "ping" });
      // two deltas, like a real stream
      const half = Math.ceil(b.text.length / 2);
      sse(res, "content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "text_delta", text: b.text.slice(0, half) },
      });
      sse(res, "content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "text_delta", text: b.text.slice(half) },
      });
    } else {
      sse(res, "content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "tool_use", id: b.id, name: b.name, input: {} },
      });
      const json = JSON.stringify(b.input);
      const half = Math.ceil(json.length / 2);
      sse(res, "content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "input_json_delta", partial_json: json.slice(0, half) },
      });
      sse(res, "content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "input_json_delta", partial_json: json.slice(half) },
      });
    }
    sse(res, "content_block_stop", { type: "content_block_stop", index });
  });
  sse(res, "message_delta", {
    type: "message_delta",
    delta: { stop_reason: p.stop, stop_sequence: null },
    usage: { output_tokens: 20 },
  });
  sse(res, "message_stop", { type: "message_stop" });
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
      body = { unparsed: raw.slice(0, 2000) };
    }
    const headers = {};
    for (
      const h of [
        "user-agent",
        "anthropic-version",
        "anthropic-beta",
        "x-api-key",
        "authorization",
        "x-app",
        "x-claude-code-session-id",
      ]
    ) {
      if (req.headers[h]) headers[h] = h === "x-api-key" || h === "authorization" ? "(set)" : req.headers[h];
    }
    const summary = body && Array.isArray(body.messages)
      ? {
        model: body.model,
        stream: body.stream,
        max_tokens: body.max_tokens,
        tools: (body.tools ?? []).map((t) => t.name),
        n_messages: body.messages.length,
        messages: body.messages.map((m) => ({ role: m.role, text: textOf(m.content).slice(0, 300) })),
        system_head: systemText(body.system).slice(0, 200),
        metadata: body.metadata,
      }
      : undefined;
    log({ kind: "request", method: req.method, url: req.url, headers, summary, body: summary ? undefined : body });
    // Keep the full body of main-conversation requests (tools included) for inspection.
    if (body && Array.isArray(body.tools) && body.tools.length) {
      fs.appendFileSync(
        LOG.replace(/\.jsonl$/, "") + ".full.jsonl",
        JSON.stringify({ at: new Date().toISOString(), url: req.url, body }) + "\n",
      );
    }
    const url = new URL(req.url, "http://x");
    try {
      if (req.method === "POST" && url.pathname === "/v1/messages") return await answerMessages(req, res, body ?? {});
      if (req.method === "POST" && url.pathname === "/v1/messages/count_tokens") {
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(JSON.stringify({ input_tokens: 1000 }));
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    } catch (e) {
      log({ kind: "error", error: String(e?.stack ?? e) });
      try {
        res.writeHead(500);
        res.end();
      } catch { /* already sent */ }
    }
  });
});
server.listen(PORT, "127.0.0.1", () => {
  const port = server.address().port; // --port 0 picks a free one; the line below tells which
  log({ kind: "listening", port });
  console.log(`fake anthropic api on http://127.0.0.1:${port} (log ${LOG})`);
});
