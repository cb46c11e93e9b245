// Long use in one page: 1,000 STOMP connect/disconnect cycles against RabbitMQ (each one
// connects, subscribes, sends with a receipt, receives, disconnects), half of them on fresh
// StompClient objects and half on one client reused throughout. The wasm memory size and the
// count of live JavaScript callbacks (socket handlers, timers, network/visibility listeners,
// drivers, wasm client objects) are printed at the start and the end and must stay flat.
//
// Environment: STOMP_WS_URL (scripts/with-servers.sh); FULLDUPLEX_DIST (default dist/).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { serve, launch, openPage } from "./harness.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
const DIST = process.env.FULLDUPLEX_DIST ?? join(ROOT, "dist");
const WS_URL = process.env.STOMP_WS_URL ?? "ws://127.0.0.1:15674/ws";
const CYCLES = 1000;
const WARMUP = 50;
// Growth allowed over the measured cycles, in 64 KiB wasm pages. The allocator keeps freed
// blocks for reuse, so a flat workload stops growing after warm-up; one page of slack covers
// fragmentation from the varying sizes of ids and frames. A leak of even 64 bytes a cycle
// would grow the memory by 15 pages over 950 cycles.
const PAGES_TOLERANCE = 1;

const PAGE = `<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>leaks</title>
<script type="module">
  import { StompClient } from "/dist/index.js";
  window.StompClient = StompClient;
  window.ready = true;
</script>
`;

let dir, server, browser;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "fullduplex-leaks-"));
  writeFileSync(join(dir, "page.html"), PAGE);
  server = await serve({ "/dist/": DIST, "/": dir });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test(`${CYCLES} connect/disconnect cycles in one page: wasm memory and live callbacks stay flat`, { timeout: 240_000 }, async (t) => {
  const page = await openPage(browser);
  try {
    await page.goto(`${server.url}/page.html`);
    await page.waitForFunction(() => window.ready === true, null, { timeout: 5000 });
    const cdp = await page.context().newCDPSession(page);
    const gc = () => cdp.send("HeapProfiler.collectGarbage");
    const jsHeap = async () => (await cdp.send("Runtime.getHeapUsage")).usedSize;

    await page.evaluate(
      ({ url }) => {
        const reused = new window.StompClient();
        /** One cycle on `client`: connect, subscribe, send (receipt), receive, disconnect. */
        window.cycle = async (i, client) => {
          const c = client || new window.StompClient();
          const dest = "/topic/leak-" + (i % 7);
          let opened = false, closed = false, got = null;
          c.onopen = () => (opened = true);
          c.onclose = () => (closed = true);
          c.onerror = (h) => { throw new Error("onerror: " + h.message); };
          c.connect(url, { login: "guest", passcode: "guest" });
          const sub = c.subscribe(dest, (h, body) => (got = body), { receipt: "s" + i });
          await sub.receipt;
          await c.send("cycle " + i, dest, { receipt: "m" + i });
          const end = performance.now() + 5000;
          while (got === null && performance.now() < end) await new Promise((r) => setTimeout(r, 1));
          if (got !== "cycle " + i) throw new Error("cycle " + i + ": got " + got);
          await c.disconnect();
          while (!closed && performance.now() < end) await new Promise((r) => setTimeout(r, 1));
          if (!opened || !closed) throw new Error("cycle " + i + ": opened " + opened + ", closed " + closed);
          // Let the client release its wasm object (a microtask after onclose).
          await Promise.resolve();
        };
        window.run = async (from, to) => {
          for (let i = from; i < to; i++) await window.cycle(i, i % 2 ? reused : null);
          // JS-side bookkeeping of the reused client: nothing pending, no handlers kept.
          return { pending: reused._h.pending.size + reused._h.early.size, subs: reused._subs.size };
        };
        window.stats = () => window.StompClient.__stats();
      },
      { url: WS_URL },
    );

    const t0 = Date.now();
    const initial = await page.evaluate(async (url) => {
      await window.StompClient.__setTicker("auto"); // loads the wasm module
      const before = window.stats();
      // While a session is open the counters do count: 4 socket handlers, 3 listeners, a timer.
      const c = new window.StompClient();
      c.connect(url);
      while (!c.connected) await new Promise((r) => setTimeout(r, 5));
      const during = window.stats();
      await c.disconnect();
      return { before, during };
    }, WS_URL);
    t.diagnostic(`before any session: ${JSON.stringify(initial.before)}`);
    t.diagnostic(`during one session: ${JSON.stringify(initial.during)}`);
    assert.equal(initial.during.socketHandlers, 4);
    assert.equal(initial.during.listeners, 3);
    assert.equal(initial.during.drivers, 1);
    assert.ok(initial.during.timers >= 1);
    await page.evaluate((n) => window.run(0, n), WARMUP);
    await gc();
    const start = { ...(await page.evaluate(() => window.stats())), jsHeap: await jsHeap() };
    const mid = await page.evaluate((r) => window.run(r[0], r[1]), [WARMUP, CYCLES]);
    await gc();
    const end = { ...(await page.evaluate(() => window.stats())), jsHeap: await jsHeap() };
    const secs = (Date.now() - t0) / 1000;
    const show = (s) =>
      `wasm memory ${s.wasmMemory} B, socket handlers ${s.socketHandlers}, timers ${s.timers}, ` +
      `listeners ${s.listeners}, drivers ${s.drivers}, wasm clients ${s.stompCores}, JS heap ${s.jsHeap} B`;
    t.diagnostic(`start (after ${WARMUP} warm-up cycles): ${show(start)}`);
    t.diagnostic(`end (after ${CYCLES} cycles, ${secs.toFixed(1)} s): ${show(end)}`);
    t.diagnostic(`reused client's JS bookkeeping at the end: ${JSON.stringify(mid)}`);

    // Every callback of a finished session is gone, at the start as at the end.
    for (const k of ["socketHandlers", "timers", "listeners", "drivers"]) {
      assert.equal(start[k], 0, `${k} at start`);
      assert.equal(end[k], 0, `${k} at end`);
    }
    // The reused client keeps no wasm object between sessions; fresh clients leave none.
    assert.equal(end.stompCores, 0);
    assert.deepEqual(mid, { pending: 0, subs: 0 });
    // Wasm memory: flat within the tolerance explained above.
    const grown = (end.wasmMemory - start.wasmMemory) / 65536;
    assert.ok(grown <= PAGES_TOLERANCE, `wasm memory grew by ${grown} pages`);
    // JS heap (after a forced GC): no per-cycle growth (1 KiB a cycle would be ~1 MB).
    assert.ok(end.jsHeap - start.jsHeap < 1_000_000, `JS heap grew by ${end.jsHeap - start.jsHeap} B`);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});
