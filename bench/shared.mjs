// Shared mode vs one connection per page, five pages of one origin against real RabbitMQ
// web-STOMP: broker connections and consumers (rabbitmqctl list_channels / list_consumers),
// memory (CDP Runtime.getHeapUsage of each page and of the SharedWorker, plus wasm linear
// memory from the test hooks) and messages/s received across all pages (one page publishes
// N messages to a topic all five subscribe to; the clock stops when every page has all N).
//
// Usage: node bench/shared.mjs [--messages=N] [--rounds=R]
// Environment: STOMP_WS_URL, SERVERS_DIR (scripts/with-servers.sh or a servers env file);
// the package from FULLDUPLEX_DIST (default dist/). Prints a Markdown table.
import { execFileSync } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { serve, launch } from "../tests/js/harness.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..");
const WS_URL = process.env.STOMP_WS_URL ?? "ws://127.0.0.1:15674/ws";
const SERVERS_DIR = process.env.SERVERS_DIR;
const arg = (name, dflt) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split("=")[1]) : dflt;
};
const MESSAGES = arg("messages", 2000);
const ROUNDS = arg("rounds", 3);
const PAGES = 5;

const ctl = (...args) =>
  execFileSync("bash", [join(ROOT, "scripts", "servers.sh"), "rabbitmqctl", SERVERS_DIR, "-q", "--no-table-headers", ...args], {
    encoding: "utf8",
    timeout: 60000,
  })
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => l.split("\t"));
const connections = (vhost) =>
  new Set(ctl("list_channels", "vhost", "name").filter((r) => r[0] === vhost).map((r) => r[1].replace(/ \(\d+\)$/, ""))).size;
const consumers = (vhost) => ctl("list_consumers", "-p", vhost, "queue_name").length;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Heap of every target of the browser (pages and the SharedWorker), via the browser CDP session. */
async function heaps(browser) {
  const cdp = await browser.newBrowserCDPSession();
  const { targetInfos } = await cdp.send("Target.getTargets");
  const out = { page: 0, worker: 0, workerWasm: 0 };
  for (const t of targetInfos) {
    if (t.type !== "page" && t.type !== "shared_worker") continue;
    const { sessionId } = await cdp.send("Target.attachToTarget", { targetId: t.targetId, flatten: false });
    const sub = await rawSession(cdp, sessionId);
    const { usedSize } = await sub("Runtime.getHeapUsage");
    if (t.type === "page") out.page += usedSize;
    else {
      out.worker += usedSize;
      const r = await sub("Runtime.evaluate", {
        expression: "JSON.stringify(self.__fullduplexShared ? self.__fullduplexShared() : null)",
        returnByValue: true,
      });
      const s = JSON.parse(r.result.value || "null");
      if (s && s.wasm) out.workerWasm += s.wasm.wasmMemory;
    }
    await cdp.send("Target.detachFromTarget", { sessionId }).catch(() => {});
  }
  await cdp.detach();
  return out;
}

/** Commands to an attached target through Target.sendMessageToTarget (works on every Chromium). */
async function rawSession(cdp, sessionId) {
  let next = 1;
  const waiting = new Map();
  cdp.on("Target.receivedMessageFromTarget", (e) => {
    if (e.sessionId !== sessionId) return;
    const m = JSON.parse(e.message);
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.error) w.reject(new Error(m.error.message));
    else w.resolve(m.result);
  });
  return (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      cdp.send("Target.sendMessageToTarget", { sessionId, message: JSON.stringify({ id, method, params }) }).catch(reject);
    });
}

async function run(browser, server, shared) {
  const vhost = `fd-bench-${shared ? "shared" : "dedicated"}-${Date.now().toString(36)}`;
  execFileSync("bash", [join(ROOT, "scripts", "servers.sh"), "rabbitmqctl", SERVERS_DIR, "add_vhost", vhost]);
  execFileSync("bash", [join(ROOT, "scripts", "servers.sh"), "rabbitmqctl", SERVERS_DIR, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"]);
  const context = await browser.newContext();
  try {
    const pages = [];
    for (let i = 0; i < PAGES; i++) {
      const page = await context.newPage();
      if (!shared) await page.addInitScript(() => delete window.SharedWorker);
      await page.goto(`${server.url}/shared-page.html`);
      await page.waitForFunction(() => window.ready === true, null, { timeout: 5000 });
      await page.evaluate(({ url, vhost }) => window.startStomp(url, vhost, "/topic/bench", true), { url: WS_URL, vhost });
      pages.push(page);
    }
    await sleep(1000);
    const conns = connections(vhost);
    const cons = consumers(vhost);
    const rates = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (const p of pages) await p.evaluate(() => (window.got = []));
      const t0 = Date.now();
      const sending = pages[0].evaluate(async (n) => {
        const body = "x".repeat(100);
        // In batches: the outbox is bounded (maxOutbox).
        for (let i = 0; i < n; i += 100) {
          const ps = [];
          for (let j = i; j < Math.min(n, i + 100); j++) ps.push(window.stomp.send(body, "/topic/bench"));
          await Promise.all(ps);
        }
      }, MESSAGES);
      await Promise.all(
        pages.map((p) =>
          p.evaluate(
            (n) => window.until(() => window.got.length >= n, 30000, "all messages").catch((e) => {
              throw new Error(`${e.message}: ${window.got.length} of ${n}`);
            }),
            MESSAGES,
          ),
        ),
      );
      await sending;
      rates.push((MESSAGES * PAGES) / ((Date.now() - t0) / 1000));
    }
    for (const p of pages) await p.evaluate(() => (window.got = []));
    await pages[0].evaluate(() => new Promise((r) => setTimeout(r, 200)));
    const pageWasm = (
      await Promise.all(pages.map((p) => p.evaluate(() => (window.fd.StompClient.__stats() || { wasmMemory: 0 }).wasmMemory)))
    ).reduce((a, b) => a + b, 0);
    const h = await heaps(browser);
    return { shared, conns, cons, rate: median(rates), ...h, pageWasm };
  } finally {
    await context.close();
    execFileSync("bash", [join(ROOT, "scripts", "servers.sh"), "rabbitmqctl", SERVERS_DIR, "delete_vhost", vhost]);
  }
}

const server = await serve({
  "/dist/": process.env.FULLDUPLEX_DIST ?? join(ROOT, "dist"),
  "/": join(ROOT, "tests", "js", "fixtures"),
});
const browser = await launch();
try {
  const results = [await run(browser, server, true), await run(browser, server, false)];
  const kb = (b) => `${(b / 1024).toFixed(0)} KiB`;
  console.log(`\n${PAGES} pages, ${MESSAGES} messages of 100 B per round, median of ${ROUNDS} rounds\n`);
  console.log("| mode | broker connections | consumers | JS heap, pages | JS heap, worker | wasm memory (pages + worker) | messages/s received (all pages) |");
  console.log("|---|---|---|---|---|---|---|");
  for (const r of results) {
    console.log(
      `| ${r.shared ? "shared" : "one per page"} | ${r.conns} | ${r.cons} | ${kb(r.page)} | ${kb(r.worker)} | ${kb(r.pageWasm + r.workerWasm)} | ${Math.round(r.rate)} |`,
    );
  }
} finally {
  await browser.close();
  await server.close();
}
