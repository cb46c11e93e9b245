// StompClient against a hostile server (tests/js/hostile-stomp.mjs) in headless Chromium: a
// malformed frame (unknown command, header without colon), a WebSocket frame cut off by the
// TCP close, an oversized frame (in one message and streamed), a slow drip (one byte every
// 50 ms: must decode), invalid UTF-8 in a text frame (the browser kills the socket), a binary
// frame with a non-UTF-8 body (delivered intact), a huge content-length, an endless header line
// and an ERROR frame mid-session; also, not hostile, several frames per WebSocket message (text
// and binary, non-ASCII, repeated headers: every body and header exact). Every case must end with onerror and/or onclose within 5 s,
// reject the SEND still waiting for its receipt, never panic the wasm module, and stop reading
// (and buffering) soon after a limit is hit. Afterwards the same page still talks to RabbitMQ.
//
// Environment: STOMP_WS_URL (the real broker, scripts/with-servers.sh exports it);
// FULLDUPLEX_DIST moves the package under test (default dist/).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { serve, launch, openPage } from "./harness.mjs";
import { startHostileStomp, DRIP_BODY, BINARY_BODY, SEVERAL } from "./hostile-stomp.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
const DIST = process.env.FULLDUPLEX_DIST ?? join(ROOT, "dist");
const WS_URL = process.env.STOMP_WS_URL ?? "ws://127.0.0.1:15674/ws";
const MAX_FRAME = 65536;
const LINE_LIMIT = 8 * 1024; // the decoder's default max_line_len

const PAGE = `<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>hostile STOMP</title>
<script type="module">
  import { StompClient } from "/dist/index.js";
  window.StompClient = StompClient;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const until = async (fn, ms, what) => {
    const end = performance.now() + ms;
    for (;;) {
      const v = fn();
      if (v) return v;
      if (performance.now() > end) throw new Error("timed out after " + ms + " ms waiting for " + what);
      await sleep(10);
    }
  };
  /** Connects to url, subscribes (id "h"), sends with a receipt (which sets the server off),
   * then waits for the end (or, with benign, for one message and disconnects). */
  window.hostile = async (url, { benign = false, maxFrameSize, expect = 1 } = {}) => {
    const mem0 = StompClient.__stats()?.wasmMemory ?? null;
    const c = new StompClient();
    const log = { open: 0, errors: [], closes: [], messages: [] };
    c.onopen = () => log.open++;
    c.onerror = (h, body) => log.errors.push({ headers: h, body });
    c.onclose = (e) => log.closes.push({ code: e.code, reason: e.reason, wasClean: e.wasClean, at: performance.now() });
    c.connect(url, { reconnect: false, heartbeatIncoming: 0, heartbeatOutgoing: 0, connectTimeout: 4000, maxFrameSize });
    await until(() => log.open || log.closes.length, 5000, "onopen");
    c.subscribe("/queue/hostile", (h, body, m) => log.messages.push({
      headers: { ...h }, body, bytes: Array.from(m.binaryBody), view: m.binaryBody.byteOffset > 0,
      own: Object.keys(h).length,
    }), { id: "h" });
    let t0 = performance.now();
    let settled = "pending";
    c.send("set it off", "/queue/hostile", { receipt: "r-1" }).then(
      () => (settled = "resolved"),
      (e) => (settled = "rejected: " + e.message),
    );
    if (benign) {
      await until(() => log.messages.length >= expect || log.closes.length, 8000, "messages");
      // The bound applies from here: the drip itself takes a few seconds.
      t0 = performance.now();
      await c.disconnect();
    }
    await until(() => log.closes.length, 5000, "onclose").catch(() => {});
    // The receipt can never come: the Promise must settle (reject) with the close.
    await until(() => settled !== "pending", 1000, "the SEND to settle").catch(() => {});
    await sleep(0);
    const mem1 = StompClient.__stats()?.wasmMemory ?? null;
    return {
      log,
      settled,
      elapsed: log.closes.length ? log.closes[0].at - t0 : null,
      connected: c.connected,
      mem0,
      mem1,
    };
  };
  window.ready = true;
</script>
`;

let dir, server, hostile, browser, page;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "fullduplex-hostile-stomp-"));
  writeFileSync(join(dir, "page.html"), PAGE);
  server = await serve({ "/dist/": DIST, "/": dir });
  hostile = await startHostileStomp();
  browser = await launch();
  page = await openPage(browser);
  await page.goto(`${server.url}/page.html`);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 10_000 });
});

after(async () => {
  await browser?.close();
  await hostile?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const PANIC = /unreachable|RuntimeError|panicked/i;

function assertNoPanic() {
  const bad = page.problems.filter((p) => PANIC.test(p));
  assert.deepEqual(bad, [], "the wasm module panicked");
}

/** Runs one case; checks what every case must show and returns the page's result. */
async function run(mode, { benign = false, error = true, maxFrameSize, expect } = {}) {
  const before = hostile.connections.length;
  const r = await page.evaluate(
    ([url, opts]) => window.hostile(url, opts),
    [`${hostile.url}/${mode}`, { benign, maxFrameSize, expect }],
  );
  const conn = hostile.connections[before];
  r.server = conn;
  assertNoPanic();
  if (!benign) assert.ok(conn.hostileAt !== null, `${mode}: the server misbehaved`);
  assert.equal(r.log.open, 1, `${mode}: connected once`);
  assert.equal(r.log.closes.length, 1, `${mode}: one onclose (${JSON.stringify(r.log)})`);
  assert.ok(r.elapsed !== null && r.elapsed < 5000, `${mode}: closed after ${r.elapsed} ms`);
  assert.equal(r.connected, false);
  if (error) assert.ok(r.log.errors.length >= 1, `${mode}: onerror (${JSON.stringify(r.log)})`);
  if (!benign) assert.match(r.settled, /^rejected: /, `${mode}: the pending SEND settled: ${r.settled}`);
  // The server saw exactly one connection (reconnect: false).
  await new Promise((res) => setTimeout(res, 50));
  assert.equal(hostile.connections.length, before + 1, `${mode}: no reconnect`);
  return r;
}

const mib = (n) => (n === null ? "?" : (n / 1048576).toFixed(2) + " MiB");

test("unknown command: onerror, then close", { timeout: 15_000 }, async () => {
  const r = await run("unknown-command");
  assert.equal(r.log.closes[0].code, 4000, JSON.stringify(r.log.closes[0]));
});

test("header line without ':': onerror, then close", { timeout: 15_000 }, async () => {
  const r = await run("missing-colon");
  assert.equal(r.log.closes[0].code, 4000);
  assert.equal(r.log.messages.length, 0);
});

test("WebSocket frame cut off by the TCP close: onclose 1006", { timeout: 15_000 }, async () => {
  const r = await run("truncated", { error: false });
  assert.equal(r.log.closes[0].code, 1006);
  assert.equal(r.log.closes[0].wasClean, false);
  assert.equal(r.log.messages.length, 0);
});

test("1 MiB frame over maxFrameSize 64 KiB: onerror, then close", { timeout: 15_000 }, async () => {
  const r = await run("oversized", { maxFrameSize: MAX_FRAME });
  assert.equal(r.log.closes[0].code, 4000);
  assert.equal(r.log.messages.length, 0);
  console.log(`# oversized: wasm memory ${mib(r.mem0)} → ${mib(r.mem1)}`);
});

test("frame without content-length streamed past maxFrameSize: cut at the limit", { timeout: 15_000 }, async () => {
  const r = await run("oversized-stream", { maxFrameSize: MAX_FRAME });
  assert.equal(r.log.closes[0].code, 4000);
  const sent = r.server.hostileBytes;
  console.log(`# oversized-stream: server sent ${sent} B before the close; wasm ${mib(r.mem0)} → ${mib(r.mem1)}`);
  assert.ok(sent < 8 * MAX_FRAME, `server sent ${sent} B before the client stopped`);
  if (r.mem0 !== null) assert.ok(r.mem1 - r.mem0 <= 4 * 1048576, `wasm memory grew ${r.mem1 - r.mem0} B`);
});

test("slow drip, one byte per message every 50 ms: decoded intact", { timeout: 20_000 }, async () => {
  const r = await run("drip", { benign: true, error: false });
  assert.equal(r.log.messages.length, 1, JSON.stringify(r.log));
  assert.equal(r.log.messages[0].body, DRIP_BODY);
  assert.equal(r.log.messages[0].headers["message-id"], "m-1");
  assert.equal(r.log.errors.length, 0);
  assert.equal(r.log.closes[0].code, 1000);
  assert.equal(r.log.closes[0].wasClean, true);
  // disconnect() fails what still waits for a receipt.
  assert.match(r.settled, /^rejected: /);
});

test("invalid UTF-8 in a text frame: the browser drops the socket, onclose 1006", { timeout: 15_000 }, async () => {
  const r = await run("bad-utf8-text", { error: false });
  assert.equal(r.log.closes[0].code, 1006);
  assert.equal(r.log.messages.length, 0);
});

test("binary frame with a non-UTF-8 body: delivered intact as binaryBody", { timeout: 15_000 }, async () => {
  const r = await run("binary-body", { benign: true, error: false });
  assert.equal(r.log.messages.length, 1, JSON.stringify(r.log));
  assert.deepEqual(r.log.messages[0].bytes, BINARY_BODY);
  assert.equal(r.log.errors.length, 0);
  assert.equal(r.log.closes[0].code, 1000);
});

test("several frames per WebSocket message, text and binary: every body and header exact", { timeout: 15_000 }, async () => {
  const r = await run("several", { benign: true, error: false, expect: 7 });
  const m = r.log.messages;
  assert.equal(m.length, 7, JSON.stringify(r.log));
  const utf8 = (s) => Array.from(Buffer.from(s));
  assert.deepEqual(m.slice(0, 3).map((x) => x.body), SEVERAL.text);
  assert.deepEqual(m.slice(0, 3).map((x) => x.bytes), SEVERAL.text.map(utf8));
  assert.deepEqual(m.slice(3, 5).map((x) => x.bytes), SEVERAL.binary);
  assert.equal(m[3].body, Buffer.from(SEVERAL.binary[0]).toString("utf8"));
  assert.equal(m[4].body, "\ufffd\0A");
  // A binary message's bodies are views of the received ArrayBuffer, not copies.
  assert.deepEqual(m.map((x) => x.view), [false, false, false, true, true, true, true]);
  // A binary message that is all ASCII: strings and bodies are parts of its text, except an
  // escaped value.
  assert.deepEqual(m.slice(5).map((x) => x.body), SEVERAL.ascii);
  assert.deepEqual(m.slice(5).map((x) => x.bytes), SEVERAL.ascii.map(utf8));
  assert.equal(m[5].headers["x-esc"], "a:b\\c");
  assert.equal(m[5].headers["x-dup"], "one", "the first of repeated headers wins");
  assert.equal(m[5].headers["message-id"], "m-1");
  assert.equal(m[6].headers["content-length"], String(SEVERAL.ascii[1].length));
  assert.equal(m[6].headers["x-esc"], undefined);
  assert.equal(m[6].own, 4);
  const h = m[0].headers;
  assert.equal(h["x-name"], "välue");
  assert.equal(h["x-dup"], "first", "the first of repeated headers wins");
  assert.equal(h.constructor, "yes", "a header named like an inherited property is kept");
  assert.equal(m[0].own, 6);
  assert.equal(m[2].headers["x-name"], "other");
  assert.equal(m[1].headers["content-length"], String(Buffer.byteLength(SEVERAL.text[1])));
  assert.equal(r.log.errors.length, 0);
});

test("content-length 99999999999 with a short body: refused at once, no buffering", { timeout: 15_000 }, async () => {
  const r = await run("huge-length", { maxFrameSize: MAX_FRAME });
  assert.equal(r.log.closes[0].code, 4000);
  const sent = r.server.hostileBytes;
  console.log(`# huge-length: server sent ${sent} B before the close; wasm ${mib(r.mem0)} → ${mib(r.mem1)}`);
  assert.ok(sent < 4 * MAX_FRAME, `server sent ${sent} B before the client stopped`);
  if (r.mem0 !== null) assert.ok(r.mem1 - r.mem0 <= 4 * 1048576, `wasm memory grew ${r.mem1 - r.mem0} B`);
});

test("content-length 99999999999 with the default maxFrameSize: refused too", { timeout: 15_000 }, async () => {
  const r = await run("huge-length");
  assert.equal(r.log.closes[0].code, 4000);
  assert.ok(r.server.hostileBytes < 1048576, `server sent ${r.server.hostileBytes} B`);
});

test("endless header line: cut at the line limit", { timeout: 15_000 }, async () => {
  const r = await run("endless-header");
  assert.equal(r.log.closes[0].code, 4000);
  const sent = r.server.hostileBytes;
  console.log(`# endless-header: server sent ${sent} B before the close; wasm ${mib(r.mem0)} → ${mib(r.mem1)}`);
  assert.ok(sent < 16 * LINE_LIMIT, `server sent ${sent} B before the client stopped`);
  if (r.mem0 !== null) assert.ok(r.mem1 - r.mem0 <= 4 * 1048576, `wasm memory grew ${r.mem1 - r.mem0} B`);
});

test("ERROR frame mid-session: onerror with its headers and body, then close", { timeout: 15_000 }, async () => {
  const r = await run("error");
  assert.equal(r.log.errors[0].headers.message, "hostile error");
  assert.equal(r.log.errors[0].body, "bad things!");
  assert.equal(r.log.closes[0].code, 1000);
});

test("the same page still talks to RabbitMQ afterwards", { timeout: 20_000 }, async () => {
  const dest = `/queue/hostile-after-${Date.now().toString(36)}`;
  const r = await page.evaluate(
    async ([url, dest]) => {
      const c = new StompClient();
      const got = [];
      const opened = new Promise((res, rej) => {
        c.onopen = res;
        c.onclose = (e) => rej(new Error("closed " + e.code + " " + e.reason));
      });
      c.connect(url, { reconnect: false });
      await opened;
      const received = new Promise((res) => c.subscribe(dest, (h, body) => (got.push(body), res())));
      await c.send("still alive ✓", dest, { receipt: "alive" });
      await Promise.race([received, new Promise((_, rej) => setTimeout(() => rej(new Error("no message")), 5000))]);
      await c.disconnect();
      return { got, stats: StompClient.__stats() };
    },
    [WS_URL, dest],
  );
  assert.deepEqual(r.got, ["still alive ✓"]);
  console.log(`# after the hostile cases: ${JSON.stringify(r.stats)}`);
  // Nothing of the hostile sessions (or this one) is left alive on the wasm side.
  assert.equal(r.stats.socketHandlers, 0);
  assert.equal(r.stats.drivers, 0);
  assert.equal(r.stats.stompCores, 0);
  assertNoPanic();
});
