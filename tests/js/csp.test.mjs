// Security defaults in headless Chromium: the package runs under a strict Content-Security-
// Policy that allows nothing but 'self' scripts plus 'wasm-unsafe-eval' (no 'unsafe-eval', no
// inline script, no blob: workers), both as an ES module and as the classic global script,
// and exchanges a STOMP message with RabbitMQ there; the background-timer Worker, which such
// a policy forbids, falls back to setTimeout and heart-beats keep flowing. The shipped JS
// (wasm-bindgen glue included) contains no eval / new Function. The STOMP passcode never
// shows up in debug output, errors, close reasons or rejected Promises.
//
// Environment: STOMP_WS_URL (scripts/with-servers.sh); FULLDUPLEX_DIST (default dist/).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { serve, launch, openPage } from "./harness.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
const DIST = process.env.FULLDUPLEX_DIST ?? join(ROOT, "dist");
const WS_URL = process.env.STOMP_WS_URL ?? "ws://127.0.0.1:15674/ws";

const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' ws://127.0.0.1:*";

// The page's own script must come from 'self' too: no inline code under this policy.
const SHARED_JS = `
window.violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.violations.push({ directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample }));
window.sleep = (ms) => new Promise((r) => setTimeout(r, ms));
window.until = async (fn, ms, what) => {
  const end = performance.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (performance.now() > end) throw new Error("timed out after " + ms + " ms waiting for " + what);
    await window.sleep(10);
  }
};
/** Connects, subscribes, sends with a receipt and waits for the message; idles for 3.2 s
 * (RabbitMQ rounds heart-beats up to 1 s), then sends again. */
window.roundTrip = async (url, dest, ticker) => {
  const { StompClient } = window.api;
  if (ticker) await StompClient.__setTicker(ticker);
  const c = new StompClient();
  const log = { open: 0, errors: [], closes: [], got: [], beatsOut: 0 };
  c.onopen = () => log.open++;
  c.onerror = (h, b) => log.errors.push(h.message);
  c.onclose = (e) => log.closes.push(e.code);
  c.connect(url, {
    heartbeatOutgoing: 500,
    heartbeatIncoming: 500,
    debug: (dir, frame) => { if (dir === "out" && frame === "\\n") log.beatsOut++; },
  });
  const sub = c.subscribe(dest, (h, body) => log.got.push(body), { receipt: "s" });
  await sub.receipt;
  await c.send("under CSP", dest, { receipt: "r1" });
  await window.until(() => log.got.length >= 1, 5000, "the message");
  await window.sleep(3200);
  await c.send("still there", dest, { receipt: "r2" });
  await window.until(() => log.got.length >= 2, 5000, "the second message");
  const stats = StompClient.__stats();
  await c.disconnect();
  return { log, ticker: stats.ticker, timersWhileOpen: stats.timers };
};
window.ready = true;
`;

// (No `data:` favicon link here: the policy would refuse that; /favicon.ico is served.)
const MODULE_PAGE = `<!doctype html><meta charset="utf-8">
<title>CSP, ES module</title>
<script type="module" src="/module.js"></script>`;
const MODULE_JS = `import * as api from "/dist/index.js";\nwindow.api = api;\n${SHARED_JS}`;

const CLASSIC_PAGE = `<!doctype html><meta charset="utf-8">
<title>CSP, classic script</title>
<script src="/dist/fullduplex.global.js"></script>
<script src="/classic.js"></script>`;
const CLASSIC_JS = `window.api = window.fullduplex;\n${SHARED_JS}`;

let dir, server, browser;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "fullduplex-csp-"));
  writeFileSync(join(dir, "module.html"), MODULE_PAGE);
  writeFileSync(join(dir, "module.js"), MODULE_JS);
  writeFileSync(join(dir, "classic.html"), CLASSIC_PAGE);
  writeFileSync(join(dir, "classic.js"), CLASSIC_JS);
  writeFileSync(join(dir, "favicon.ico"), "");
  server = await serve({ "/dist/": DIST, "/": dir }, { headers: { "content-security-policy": CSP } });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const unique = (name) => `${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

test("the shipped JavaScript (wasm-bindgen glue included) has no eval or new Function", () => {
  const files = readdirSync(DIST).filter((f) => f.endsWith(".js"));
  assert.ok(files.length >= 2, `no JS files in ${DIST}`);
  for (const f of files) {
    const text = readFileSync(join(DIST, f), "utf8");
    for (const bad of [/\beval\s*\(/, /\bnew\s+Function\b/, /\bFunction\s*\(\s*["'`]/, /setTimeout\s*\(\s*["'`]/]) {
      assert.doesNotMatch(text, bad, `${f} contains ${bad}`);
    }
  }
});

for (const kind of ["module", "classic"]) {
  test(`under a strict CSP (${kind} script): connects, exchanges STOMP messages, no violation but the refused blob: Worker`, { timeout: 30_000 }, async (t) => {
    const page = await openPage(browser);
    try {
      await page.goto(`${server.url}/${kind}.html`);
      await page.waitForFunction(() => window.ready === true, null, { timeout: 5000 });
      // The page really is under the policy: inline script is refused.
      const inlineBlocked = await page.evaluate(() => {
        const s = document.createElement("script");
        s.textContent = "window.inlineRan = true";
        document.head.appendChild(s);
        return window.inlineRan !== true;
      });
      assert.equal(inlineBlocked, true);
      // Force the background ticker on: the policy forbids blob: workers, so it must fall back.
      const r = await page.evaluate(
        ({ url, dest }) => window.roundTrip(url, dest, "worker"),
        { url: WS_URL, dest: `/topic/${unique("csp")}` },
      );
      const violations = await page.evaluate(() => window.violations);
      t.diagnostic(`ticker: ${r.ticker}; heart-beats sent in ~3 s: ${r.log.beatsOut}; violations: ${JSON.stringify(violations)}`);
      assert.deepEqual(r.log.got, ["under CSP", "still there"]);
      assert.deepEqual(r.log.errors, []);
      assert.equal(r.log.open, 1);
      assert.equal(r.ticker, "fallback");
      // Timers still run (setTimeout): ~3 heart-beats in 3.2 s at RabbitMQ's 1 s.
      assert.ok(r.log.beatsOut >= 2, `only ${r.log.beatsOut} heart-beats`);
      // Nothing was refused but the Worker (no eval, no inline code of ours, no fetch).
      for (const v of violations) {
        assert.ok(
          v.blocked === "inline" || (v.blocked === "blob" && /^(worker-src|script-src)/.test(v.directive)),
          `unexpected violation ${JSON.stringify(v)}`,
        );
      }
      const other = page.problems.filter(
        (p) => !/^(Creating a worker from 'blob:.*|Executing inline script .*)violates/.test(p),
      );
      assert.deepEqual(other, []);
    } finally {
      await page.context().close();
    }
  });
}

test("without a CSP, the background ticker runs timers on its Worker", { timeout: 30_000 }, async (t) => {
  const open = await serve({ "/dist/": DIST, "/": dir });
  const page = await openPage(browser);
  try {
    await page.goto(`${open.url}/module.html`);
    await page.waitForFunction(() => window.ready === true, null, { timeout: 5000 });
    const r = await page.evaluate(
      ({ url, dest }) => window.roundTrip(url, dest, "worker"),
      { url: WS_URL, dest: `/topic/${unique("ticker")}` },
    );
    t.diagnostic(`ticker: ${r.ticker}; heart-beats sent in ~3 s: ${r.log.beatsOut}`);
    assert.equal(r.ticker, "worker");
    assert.deepEqual(r.log.got, ["under CSP", "still there"]);
    assert.ok(r.log.beatsOut >= 2, `only ${r.log.beatsOut} heart-beats`);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
    await open.close();
  }
});

test("a page that turns hidden moves the session's timer to the Worker", { timeout: 30_000 }, async () => {
  const open = await serve({ "/dist/": DIST, "/": dir });
  const page = await openPage(browser);
  try {
    // Headless Chromium never hides a page, so the test plays the browser: it reports the page
    // hidden and fires visibilitychange, as a background tab would.
    await page.addInitScript(() => {
      window.fakeHidden = false;
      Object.defineProperty(Document.prototype, "hidden", { get: () => window.fakeHidden, configurable: true });
      Object.defineProperty(Document.prototype, "visibilityState", {
        get: () => (window.fakeHidden ? "hidden" : "visible"),
        configurable: true,
      });
    });
    await page.goto(`${open.url}/module.html`);
    await page.waitForFunction(() => window.ready === true, null, { timeout: 5000 });
    const r = await page.evaluate(async (url) => {
      const { StompClient } = window.api;
      await StompClient.__setTicker("auto");
      const c = new StompClient();
      let beats = 0;
      c.connect(url, {
        heartbeatOutgoing: 300,
        heartbeatIncoming: 300,
        debug: (dir, f) => { if (dir === "out" && f === "\n") beats++; },
      });
      await window.until(() => c.connected, 5000, "connected");
      const visible = StompClient.__stats().ticker;
      window.fakeHidden = true;
      document.dispatchEvent(new Event("visibilitychange"));
      const before = beats;
      await window.sleep(3500);
      const hidden = { ticker: StompClient.__stats().ticker, beats: beats - before, connected: c.connected };
      window.fakeHidden = false;
      document.dispatchEvent(new Event("visibilitychange"));
      await c.disconnect();
      return { visible, hidden };
    }, WS_URL);
    // Visible: plain setTimeout (no Worker started); hidden: the Worker keeps the beat.
    assert.equal(r.visible, "idle");
    assert.equal(r.hidden.ticker, "worker");
    assert.ok(r.hidden.beats >= 3, `only ${r.hidden.beats} heart-beats in 3.5 s hidden`);
    assert.equal(r.hidden.connected, true);
  } finally {
    await page.context().close();
    await open.close();
  }
});

test("the passcode never appears in debug output, errors, close events or rejections", { timeout: 30_000 }, async () => {
  const SECRET = "s3cret-Passcode-" + Math.random().toString(36).slice(2);
  const page = await openPage(browser);
  const consoleText = [];
  page.on("console", (m) => consoleText.push(m.text()));
  try {
    await page.goto(`${server.url}/module.html`);
    await page.waitForFunction(() => window.ready === true, null, { timeout: 5000 });
    const r = await page.evaluate(
      async ({ url, secret }) => {
        const { StompClient } = window.api;
        const seen = [];
        const c = new StompClient();
        c.onerror = (h, b) => seen.push(JSON.stringify(h), b);
        c.onclose = (e) => seen.push(JSON.stringify(e), e.reason);
        c.onreconnecting = (i) => seen.push(JSON.stringify(i));
        c.connect(url, {
          login: "guest",
          passcode: secret,
          headers: { "x-note": "ok" },
          debug: (dir, frame) => seen.push(dir + " " + frame),
        });
        const p = c.send("x", "/queue/never", { receipt: "r" });
        await p.then(
          () => seen.push("resolved"),
          (e) => seen.push(String(e), e.message, e.stack || ""),
        );
        await window.until(() => seen.some((s) => s.startsWith("{\"code\"")), 5000, "onclose");
        const connectFrame = seen.find((s) => s.startsWith("out CONNECT"));
        return { seen, connectFrame };
      },
      { url: WS_URL, secret: SECRET },
    );
    // The CONNECT frame is shown, with the passcode masked.
    assert.match(r.connectFrame, /\npasscode:\*\*\*\n/);
    assert.match(r.connectFrame, /\nlogin:guest\n/);
    for (const s of [...r.seen, ...consoleText]) {
      assert.ok(!s.includes(SECRET), `the passcode leaked into: ${s}`);
    }
    // The broker refused the login (it never repeats the passcode either).
    assert.ok(r.seen.some((s) => s.includes("Access refused")));
  } finally {
    await page.context().close();
  }
});
