// The example pages (examples/), served as `npm run demo` serves them (scripts/serve.mjs:
// examples/, the package from FULLDUPLEX_DIST or dist/, and the bundler example built from the
// packed tarball), in headless Chromium against the real RabbitMQ and Prosody
// (STOMP_WS_URL, STOMP_TCP_PORT, STOMP_WS_FRAME, XMPP_WS_URL, XMPP_DOMAIN, SERVERS_DIR from
// scripts/with-servers.sh). Every page must load without console errors; the chats must work
// between two browser contexts; the ticker must count; the Vite and webpack builds and the
// classic no-build page must connect and receive. A screenshot of each page is saved in
// FULLDUPLEX_BUILD/screenshots (default build/screenshots).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { serve, launch, openPage } from "./harness.mjs";
import { demoMounts } from "../../scripts/serve.mjs";
import { buildBundlerExample } from "../../examples/bundler/build.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const STOMP_WS = process.env.STOMP_WS_URL ?? "ws://127.0.0.1:15674/ws";
const STOMP_TCP_PORT = process.env.STOMP_TCP_PORT ?? "61613";
/** RabbitMQ's web_stomp.ws_frame: "text" (its default) or "binary" (--stomp-binary). */
const FRAME = process.env.STOMP_WS_FRAME ?? "text";
const XMPP_WS = process.env.XMPP_WS_URL ?? "ws://127.0.0.1:5280/xmpp-websocket";
const DOMAIN = process.env.XMPP_DOMAIN ?? "localhost";
const SERVERS_DIR = process.env.SERVERS_DIR ?? "";
const SHOTS = resolve(process.env.FULLDUPLEX_BUILD ?? join(ROOT, "build"), "screenshots");
/** Bound on every wait. */
const T = 15000;

let server, browser, bundlerDir, bundlerBuild;
const contexts = [];
const createdUsers = [];

before(async () => {
  bundlerDir = mkdtempSync(join(tmpdir(), "fullduplex-bundler-"));
  const t = Date.now();
  bundlerBuild = buildBundlerExample(bundlerDir);
  bundlerBuild.times.total = Date.now() - t;
  server = await serve(demoMounts({ bundler: bundlerDir }));
  browser = await launch();
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await server?.close();
  if (bundlerDir) rmSync(bundlerDir, { recursive: true, force: true });
  if (SERVERS_DIR) {
    for (const u of createdUsers) {
      try {
        execFileSync("bash", [join(ROOT, "scripts", "servers.sh"), "prosodyctl", SERVERS_DIR, "deluser", `${u}@${DOMAIN}`], {
          stdio: "ignore",
          timeout: T,
        });
      } catch {
        // already gone
      }
    }
  }
});

// ------------------------------------------------------------------------------- helpers

const fresh = (prefix) => `${prefix}${randomBytes(4).toString("hex")}`;

/** The query string that points a page at this run's servers. */
function servers(extra = {}) {
  const q = new URLSearchParams({ stomp: STOMP_WS, xmpp: XMPP_WS, domain: DOMAIN, ...extra });
  return `?${q}`;
}

/** A page in a fresh browser context (its own cookies and storage: another user). */
async function open(path) {
  const page = await openPage(browser);
  contexts.push(page.context());
  await page.setViewportSize({ width: 1280, height: 800 });
  const response = await page.goto(`${server.url}${path}`);
  assert.equal(response.status(), 200, `${path}: HTTP ${response.status()}`);
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

function noProblems(page, what) {
  assert.deepEqual(page.problems, [], `${what}: console errors or uncaught exceptions`);
}

/** Waits until `selector`'s text matches `re`. */
async function waitText(page, selector, re, what = selector) {
  try {
    await page.waitForFunction(
      ([s, src, flags]) => {
        const e = document.querySelector(s);
        return !!e && new RegExp(src, flags).test(e.textContent);
      },
      [selector, re.source, re.flags],
      { timeout: T, polling: 50 },
    );
  } catch {
    const text = await page.locator(selector).first().textContent().catch(() => "(none)");
    assert.fail(`${what}: ${JSON.stringify(text)} never matched ${re}; problems: ${JSON.stringify(page.problems)}`);
  }
}

async function supportSays(page, yes = true) {
  await waitText(page, "#support", yes ? /supports WebSocket/ : /does not support WebSocket/, "support check");
}

// ------------------------------------------------------------------------------- index

const PAGES = ["/", "/stomp-chat/", "/ticker/", "/xmpp-chat/", "/classic/", "/shared/", "/bundler/vite/", "/bundler/webpack/"];

test("the index page checks WebSocket support and links to every example", async () => {
  const page = await open(`/${servers()}`);
  await supportSays(page);
  const links = await page.$$eval(".cards a", (as) => as.map((a) => a.getAttribute("href")));
  assert.deepEqual(links, ["stomp-chat/", "ticker/", "xmpp-chat/", "classic/", "shared/", "bundler/"]);
  for (const href of links) {
    const r = await fetch(`${server.url}/${href}`);
    assert.equal(r.status, 200, `${href}: HTTP ${r.status}`);
  }
  await shot(page, "index");
  noProblems(page, "index");
});

test("every page says so where the browser has no WebSocket, without errors", async () => {
  for (const path of PAGES) {
    const page = await openPage(browser);
    contexts.push(page.context());
    await page.addInitScript(() => {
      delete window.WebSocket;
    });
    await page.goto(`${server.url}${path}${servers()}`);
    await supportSays(page, false);
    await page.waitForTimeout(200);
    noProblems(page, `${path} without WebSocket`);
    await page.context().close();
  }
});

// ------------------------------------------------------------------------------- shared mode

test("shared: two tabs of one browser share the connection; a message from one reaches both", async () => {
  const first = await open(`/shared/${servers()}`);
  await supportSays(first);
  await waitText(first, "#mode", /shared/);
  await waitText(first, "#status", /connected/);
  // A second tab of the same browser (same context: same origin, same SharedWorker).
  const second = await first.context().newPage();
  await second.goto(`${server.url}/shared/${servers()}`);
  await waitText(second, "#status", /connected/);
  const text = `hello from tab two ${Date.now()}`;
  // The second tab's subscription is the worker's; give its subscribe a moment to land.
  await second.waitForTimeout(300);
  await second.fill("#text", text);
  await second.press("#text", "Enter");
  await waitText(first, "#log", new RegExp(text), "the first tab receives");
  await waitText(second, "#log", new RegExp(text), "the second tab receives");
  await shot(first, "shared");
  noProblems(first, "shared, first tab");
});

// ------------------------------------------------------------------------------- STOMP chat

test("stomp-chat: two browsers talk through a RabbitMQ topic", async () => {
  const room = fresh("room");
  const ada = await open(`/stomp-chat/${servers({ room, nick: "ada" })}`);
  await supportSays(ada);
  await ada.click("#join-button");
  await waitText(ada, "#status", /connected as ada to \/topic\/chat\.room/);
  // Her own join notice proves her subscription is active before Bob comes in.
  await waitText(ada, "#log", /ada\s*joined the room/);

  const bob = await open(`/stomp-chat/${servers({ room, nick: "bob" })}`);
  await bob.click("#join-button");
  await waitText(bob, "#log", /bob\s*joined the room/);
  await waitText(ada, "#log", /bob\s*joined the room/, "Ada sees Bob join");

  await ada.fill("#message", "Hello Bob! ünïcødé ✓ <b>not bold</b>");
  await ada.click("#send");
  await waitText(bob, "#log", /ada\s*Hello Bob! ünïcødé ✓ <b>not bold<\/b>/, "Bob gets Ada's message");
  await bob.fill("#message", "Hi Ada, loud and clear.");
  await bob.press("#message", "Enter");
  await waitText(ada, "#log", /bob\s*Hi Ada, loud and clear\./, "Ada gets Bob's reply");
  // Text stays text: no element was made from the message.
  assert.equal(await bob.locator("#log b").count(), 0);
  await shot(ada, "stomp-chat");

  await bob.click("#leave");
  await waitText(ada, "#log", /bob\s*left the room/, "Ada sees Bob leave");
  await waitText(bob, "#status", /disconnected/);
  noProblems(ada, "stomp-chat (Ada)");
  noProblems(bob, "stomp-chat (Bob)");
});

// ------------------------------------------------------------------------------- ticker

/** The packing that survives this broker's frames (see examples/ticker/packing.js). */
const PACKING = FRAME === "binary" ? "raw" : "7bit";

async function received(page) {
  return Number(await page.evaluate(() => document.body.dataset.received ?? 0));
}

async function waitCount(page, min, what) {
  try {
    await page.waitForFunction((n) => Number(document.body.dataset.received ?? 0) >= n, min, { timeout: T, polling: 100 });
  } catch {
    assert.fail(`${what}: fewer than ${min} messages (${await received(page)}); status ` +
      `${await page.textContent("#status")}; problems ${JSON.stringify(page.problems)}`);
  }
}

test(`ticker: the in-page publisher's packed quotes arrive, the count rises (${PACKING} packing)`, async (t) => {
  const topic = `/topic/${fresh("ticker")}`;
  const page = await open(`/ticker/${servers({ topic, packing: PACKING, rate: "2000" })}`);
  await supportSays(page);
  await waitText(page, "#status", /connected/);
  await waitText(page, "#pub-status", /publishing/);
  await waitCount(page, 200, "first quotes");
  const c1 = await received(page);
  const t1 = Date.now();
  await page.waitForTimeout(2000);
  const c2 = await received(page);
  const rate = Math.round(((c2 - c1) * 1000) / (Date.now() - t1));
  assert.ok(c2 > c1, `the count did not rise (${c1} → ${c2})`);
  // The page's own figure, over its last second.
  const shown = Number((await page.textContent("#rate-now")).replace(/,/g, ""));
  assert.ok(shown > 0, `messages per second shows ${shown}`);
  // Every symbol got quotes, with prices.
  const prices = await page.$$eval("#quotes tr td:nth-child(2)", (tds) => tds.map((td) => td.textContent));
  assert.equal(prices.length, 8);
  for (const p of prices) assert.match(p, /^\d+\.\d\d$/);
  t.diagnostic(`ticker (${PACKING} packing, ${FRAME} frames): ${rate} messages/s received over 2 s, page shows ${shown}/s`);
  await page.waitForTimeout(1100); // one more point on the chart
  await shot(page, "ticker");
  await page.click("#toggle");
  await waitText(page, "#pub-status", /off/);
  noProblems(page, "ticker");
});

test("ticker: quotes from the Node publisher (STOMP over TCP) arrive in the page", async () => {
  const topic = `/topic/${fresh("tcp")}`;
  const page = await open(`/ticker/${servers({ topic, packing: PACKING, publisher: "off" })}`);
  await waitText(page, "#status", /connected/);
  const publisher = spawn(
    process.execPath,
    [join(ROOT, "examples", "ticker", "publisher.mjs"), "--port", STOMP_TCP_PORT, "--topic", topic,
      "--rate", "2000", "--packing", PACKING, "--seconds", "4"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  publisher.stdout.on("data", (d) => (output += d));
  publisher.stderr.on("data", (d) => (output += d));
  const exited = new Promise((r) => publisher.on("exit", r));
  try {
    await waitCount(page, 100, `Node publisher (${output.trim()})`);
    const c1 = await received(page);
    await page.waitForTimeout(1000);
    assert.ok((await received(page)) > c1, "the count did not rise");
    assert.equal(await page.textContent("#sent"), "0", "the page published itself");
  } finally {
    const code = await exited;
    assert.equal(code, 0, `publisher exited with ${code}: ${output}`);
  }
  assert.match(output, /quotes sent in/);
  noProblems(page, "ticker with the Node publisher");
});

if (FRAME === "text") {
  test("ticker: raw binary bodies through a text-frame broker end with the page's explanation", async () => {
    const topic = `/topic/${fresh("raw")}`;
    const page = await open(`/ticker/${servers({ topic, packing: "raw", rate: "1000" })}`);
    await waitText(page, "#hint", /web_stomp\.ws_frame = binary/, "the hint");
    // Chromium itself reports the broken frame; nothing else went wrong.
    assert.ok(page.problems.length > 0 && page.problems.every((p) => /WebSocket|UTF-8/i.test(p)), JSON.stringify(page.problems));
  });
}

// ------------------------------------------------------------------------------- XMPP chat

async function xmppSignUp(page, username, password) {
  await supportSays(page);
  await page.fill("#username", username);
  await page.fill("#password", password);
  await page.check("#register");
  await page.click("#login-button");
  createdUsers.push(username);
  await waitText(page, "#me", new RegExp(`^${username}@${DOMAIN.replace(/\./g, "\\.")}/`), `${username} online`);
}

function contact(page, jid) {
  return page.locator(`#roster li[data-jid="${jid}"]`);
}

async function waitAttr(page, selector, attr, value, what) {
  try {
    await page.waitForFunction(
      ([s, a, v]) => document.querySelector(s)?.getAttribute(a) === v,
      [selector, attr, value],
      { timeout: T, polling: 50 },
    );
  } catch {
    const html = await page.locator("#roster").innerHTML().catch(() => "");
    assert.fail(`${what}: ${selector} [${attr}] never became ${value}; roster: ${html}; status: ${await page.textContent("#status")}`);
  }
}

test("xmpp-chat: register in the page, add a contact, see presence and status, chat", async () => {
  const a = fresh("ana");
  const b = fresh("ben");
  const aJid = `${a}@${DOMAIN}`;
  const bJid = `${b}@${DOMAIN}`;
  const pw = `pw-${randomBytes(6).toString("hex")}`;
  const ana = await open(`/xmpp-chat/${servers()}`);
  const ben = await open(`/xmpp-chat/${servers()}`);
  await xmppSignUp(ana, a, pw);
  await xmppSignUp(ben, b, pw);
  await waitText(ana, "#status", /online/);

  // Ana adds Ben: he is asked, accepts, and asks back; she accepts.
  await ana.fill("#add-jid", b); // the page adds @domain
  await ana.click("#add-button");
  await waitAttr(ana, `#roster li[data-jid="${bJid}"]`, "data-subscription", "none", "Ben in Ana's roster");
  await waitText(ben, `#requests li[data-jid="${aJid}"]`, /wants to see your presence/, "Ben is asked");
  await ben.click(`#requests li[data-jid="${aJid}"] .accept`);
  await waitText(ana, `#requests li[data-jid="${bJid}"]`, /wants to see your presence/, "Ana is asked back");
  await ana.click(`#requests li[data-jid="${bJid}"] .accept`);

  // Each sees the other online.
  await waitAttr(ana, `#roster li[data-jid="${bJid}"]`, "data-show", "available", "Ana sees Ben online");
  await waitAttr(ben, `#roster li[data-jid="${aJid}"]`, "data-show", "available", "Ben sees Ana online");
  await waitAttr(ana, `#roster li[data-jid="${bJid}"]`, "data-subscription", "both", "mutual subscription");

  // Ben sets his status; Ana sees show and text.
  await ben.selectOption("#show", "away");
  await ben.fill("#status-text", "In a meeting");
  await ben.click("#set-status");
  await waitAttr(ana, `#roster li[data-jid="${bJid}"]`, "data-show", "away", "Ana sees Ben away");
  await waitText(ana, `#roster li[data-jid="${bJid}"] .presence`, /away — In a meeting/);

  // They chat.
  await contact(ana, bJid).click();
  await ana.fill("#chat-input", "Hi Ben, got a minute? ✓");
  await ana.click("#chat-send");
  await waitText(ben, `#roster li[data-jid="${aJid}"] .unread`, /^1$/, "Ben's unread badge");
  await contact(ben, aJid).click();
  await waitText(ben, "#chat-log", /Hi Ben, got a minute\? ✓/, "Ben reads Ana's message");
  await ben.fill("#chat-input", "After the meeting!");
  await ben.press("#chat-input", "Enter");
  await waitText(ana, "#chat-log", /After the meeting!/, "Ana reads Ben's reply");
  await shot(ana, "xmpp-chat");
  await shot(ben, "xmpp-chat-contact");

  // Ben logs out: Ana sees him offline.
  await ben.click("#logout");
  await waitAttr(ana, `#roster li[data-jid="${bJid}"]`, "data-show", "offline", "Ana sees Ben leave");
  await waitText(ben, "#status", /disconnected/);
  noProblems(ana, "xmpp-chat (Ana)");
  noProblems(ben, "xmpp-chat (Ben)");
});

test("xmpp-chat: a wrong password is reported on the page", async () => {
  const page = await open(`/xmpp-chat/${servers()}`);
  await page.fill("#username", "alice");
  await page.fill("#password", "not-her-password");
  await page.click("#login-button");
  await waitText(page, "#status", /not-authorized/);
  assert.equal(await page.isVisible("#login"), true);
  noProblems(page, "xmpp-chat, wrong password");
});

// ------------------------------------------------------------------------------- no build, bundlers

test("classic page (one <script src>, no build): the talk's STOMP and XMPP code connect and receive", async () => {
  const topic = `/topic/${fresh("classic")}`;
  const page = await open(`/classic/${servers({ topic })}`);
  await supportSays(page);
  assert.equal(await page.evaluate(() => typeof StompClient + typeof XmppClient + typeof fullduplex), "functionfunctionobject");
  await waitText(page, "#stomp-status", /connected \(STOMP 1\.2\)/);
  await waitText(page, "#stomp-log", /Hello Stomp!/, "the message sent before the connection opened");
  await page.click("#stomp-form button");
  await waitText(page, "#stomp-log", /Hello again!/);
  await page.click("#xmpp-login"); // alice/alicepw, which scripts/servers.sh creates
  await waitText(page, "#xmpp-status", new RegExp(`online as alice@${DOMAIN.replace(/\./g, "\\.")}/`));
  await waitText(page, "#xmpp-log", /Hello XMPP!/, "her own presence");
  await page.click("#xmpp-echo");
  await waitText(page, "#xmpp-log", /message: Hello me!/);
  await shot(page, "classic");
  noProblems(page, "classic");
});

for (const bundler of ["vite", "webpack"]) {
  test(`bundler example built by ${bundler} from the packed tarball connects and receives`, async () => {
    const topic = `/topic/${fresh(bundler)}`;
    const page = await open(`/bundler/${bundler}/${servers({ topic })}`);
    await supportSays(page);
    const name = bundler === "vite" ? "Vite" : "webpack 5";
    await waitText(page, "#status", /connected \(STOMP 1\.2\)/);
    await waitText(page, "#received", new RegExp(`${topic}: Hello from ${name}!`));
    // The .wasm was emitted as a file next to the bundle, and only the combined one.
    const files = readdirSync(join(bundlerDir, bundler), { recursive: true }).map(String);
    assert.deepEqual(files.filter((f) => f.endsWith(".wasm")).length, 1, files.join(", "));
    await shot(page, `bundler-${bundler}`);
    noProblems(page, `bundler ${bundler}`);
  });
}

test("bundler build times", (t) => {
  t.diagnostic(`bundler example build (ms): ${JSON.stringify(bundlerBuild.times)}`);
  assert.ok(bundlerBuild.times.vite > 0 && bundlerBuild.times.webpack > 0);
});
