// The XMPP API of the built package (dist/) in headless Chromium, against the real Prosody
// (XMPP_WS_URL, XMPP_DOMAIN, XMPP_AUTH from scripts/with-servers.sh) and against a hostile
// loopback server (hostile-xmpp.mjs). The contract is the XMPP section of js/index.d.ts.
//
// Pages: fixtures/xmpp-slide-{classic,module}.html run the talk's code verbatim;
// fixtures/xmpp-page.html loads dist/index.js and fixtures/xmpp-harness.js (window.H), which
// records every callback of named clients so these tests can wait for exact events.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { serve, launch, openPage } from "./harness.mjs";
import { startHostileXmpp } from "./hostile-xmpp.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
const WS = process.env.XMPP_WS_URL ?? "ws://127.0.0.1:5280/xmpp-websocket";
const DOMAIN = process.env.XMPP_DOMAIN ?? "localhost";
const AUTH = process.env.XMPP_AUTH ?? "internal_hashed";
const SERVERS_DIR = process.env.SERVERS_DIR ?? "";
/** Bound on every wait. */
const T = 10000;
/** Bound on "within a few seconds". */
const FEW = 5000;
const PING = "<ping xmlns='urn:xmpp:ping'/>";
const SUPPORTED = ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"];

let server, browser, hostile;
const pages = [];
const createdUsers = [];

before(async () => {
  server = await serve({
    // FULLDUPLEX_DIST: serve another build of the package (default: dist/).
    "/dist/": process.env.FULLDUPLEX_DIST ?? join(ROOT, "dist"),
    "/fixtures/": join(HERE, "fixtures"),
  });
  browser = await launch();
  hostile = await startHostileXmpp();
});

after(async () => {
  for (const p of pages) await p.context().close().catch(() => {});
  await browser?.close();
  await server?.close();
  await hostile?.close();
  if (SERVERS_DIR) {
    for (const u of createdUsers) {
      try {
        prosodyctl("deluser", `${u}@${DOMAIN}`);
      } catch {
        // already gone (the registration test unregisters its own)
      }
    }
  }
});

// ------------------------------------------------------------------------------- helpers

function prosodyctl(...args) {
  return execFileSync(
    "bash",
    [join(ROOT, "scripts", "servers.sh"), "prosodyctl", SERVERS_DIR, ...args],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: T },
  );
}

function freshName(prefix) {
  return `${prefix}${randomBytes(5).toString("hex")}`;
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function bare(jid) {
  return jid.split("/")[0];
}

/** Creates a fresh account on the real server (prosodyctl, or raw in-band registration). */
async function freshUser(page, prefix) {
  const username = freshName(prefix);
  const password = `pw-${randomBytes(6).toString("hex")}`;
  if (SERVERS_DIR) {
    prosodyctl("register", username, DOMAIN, password);
  } else {
    const type = await page.evaluate(([u, d, n, p]) => H.rawRegister(u, d, n, p), [
      WS,
      DOMAIN,
      username,
      password,
    ]);
    assert.equal(type, "result", `raw registration of ${username} failed`);
  }
  createdUsers.push(username);
  return { username, password };
}

function summarize(events) {
  return JSON.stringify(
    events,
    (k, v) => (typeof v === "string" && v.length > 300 ? v.slice(0, 300) + "…" : v),
  );
}

/** Opens the driver page (dist/index.js + window.H); fails clearly without XmppClient. */
async function xmppPage() {
  const page = await openPage(browser);
  pages.push(page);
  await page.goto(`${server.url}/fixtures/xmpp-page.html`);
  try {
    await page.waitForFunction(() => window.moduleLoaded === true, null, { timeout: T });
  } catch {
    assert.fail(`dist/index.js did not load; page problems: ${JSON.stringify(page.problems)}`);
  }
  assert.equal(
    await page.evaluate(() => typeof window.XmppClient),
    "function",
    "dist/index.js exports no XmppClient",
  );
  return page;
}

/** Waits for an event of type `t` on client `name` whose fields equal `match`. */
async function waitEvent(page, name, t, match = {}, timeout = T) {
  try {
    const h = await page.waitForFunction(([n, ty, m]) => H.find(n, ty, m), [name, t, match], {
      timeout,
      polling: 25,
    });
    return await h.jsonValue();
  } catch (e) {
    const evs = await page.evaluate((n) => H.events(n), name).catch(() => "(page gone)");
    assert.fail(
      `${name}: no "${t}" event matching ${JSON.stringify(match)} within ${timeout} ms ` +
        `(${e.message.split("\n")[0]}); events: ${summarize(evs)}; ` +
        `page problems: ${JSON.stringify(page.problems)}`,
    );
  }
}

async function waitRosterItem(page, name, match, timeout = T) {
  try {
    const h = await page.waitForFunction(([n, m]) => H.findRosterItem(n, m), [name, match], {
      timeout,
      polling: 25,
    });
    return await h.jsonValue();
  } catch {
    const evs = await page.evaluate((n) => H.events(n), name).catch(() => "(page gone)");
    assert.fail(
      `${name}: no roster push with an item matching ${JSON.stringify(match)} within ` +
        `${timeout} ms; events: ${summarize(evs)}`,
    );
  }
}

async function events(page, name) {
  return page.evaluate((n) => H.events(n), name);
}

async function debugLines(page, name) {
  return page.evaluate((n) => H.debugLines(n), name);
}

async function make(page, name) {
  await page.evaluate((n) => H.make(n), name);
}

async function connect(page, name, url, domain, options) {
  await page.evaluate(([n, u, d, o]) => H.connect(n, u, d, o), [name, url, domain, options]);
}

async function prop(page, name, p) {
  return page.evaluate(([n, q]) => H.prop(n, q), [name, p]);
}

/** Runs client[method](...args) in the page: {ok, value} or {ok: false, error}. */
async function call(page, name, method, ...args) {
  return page.evaluate(([n, m, a]) => H.call(n, m, a), [name, method, args]);
}

/** Runs a method that must succeed; returns its value ("(undefined)" for undefined). */
async function ok(page, name, method, ...args) {
  const r = await call(page, name, method, ...args);
  assert.equal(
    r.ok,
    true,
    `${name}.${method}(${JSON.stringify(args).slice(0, 200)}) failed: ${JSON.stringify(r.error)}`,
  );
  return r.value;
}

/** Runs a method that must fail (throw or reject, not time out); returns the error info. */
async function fails(page, name, method, ...args) {
  const r = await call(page, name, method, ...args);
  assert.equal(r.ok, false, `${name}.${method} succeeded with ${JSON.stringify(r.value)}`);
  assert.notEqual(r.timeout, true, `${name}.${method} neither resolved nor rejected in ${T} ms`);
  return r.error;
}

/** Makes client `name`, connects it with credentials and waits for onopen(jid). */
async function online(page, name, username, password, extra = {}) {
  await make(page, name);
  await connect(page, name, WS, DOMAIN, { username, password, ...extra });
  const ev = await waitEvent(page, name, "open");
  assert.match(ev.jid, new RegExp(`^${escapeRe(username)}@${escapeRe(DOMAIN)}/.+$`));
  assert.equal(await prop(page, name, "jid"), ev.jid);
  assert.equal(await prop(page, name, "connected"), true);
  return ev.jid;
}

/** Base64 tokens in `text`, decoded at each of the four alignments. */
function decodedTokens(text) {
  const out = [];
  for (const tok of text.match(/[A-Za-z0-9+/]{8,}={0,2}/g) ?? []) {
    for (let skip = 0; skip < 4; skip++) {
      out.push({ tok, skip, s: Buffer.from(tok.slice(skip), "base64").toString("latin1") });
    }
  }
  return out;
}

/** Debug lines must show neither `password` (plain or base64) nor a SASL payload. */
function assertNoSecrets(lines, username, password) {
  assert.ok(lines.length > 0, "debug was never called");
  for (const [dir, xml] of lines) {
    assert.ok(dir === "in" || dir === "out", `debug direction ${JSON.stringify(dir)}`);
    assert.equal(typeof xml, "string");
    assert.ok(!xml.includes(password), `debug line shows the password: ${xml}`);
    for (const { tok, skip, s } of decodedTokens(xml)) {
      assert.ok(!s.includes(password), `debug line shows the password in base64 (${tok}): ${xml}`);
      if (skip !== 0) continue;
      const sasl =
        s.includes(`\0${username}\0`) ||
        /^n,,n=/.test(s) ||
        /^r=[^,]+,s=/.test(s) ||
        /^c=[A-Za-z0-9+/=]+,r=/.test(s) ||
        /^v=[A-Za-z0-9+/=]{8,}$/.test(s);
      assert.ok(!sasl, `debug line shows a SASL payload (${tok} = ${JSON.stringify(s)}): ${xml}`);
    }
  }
}

// ---------------------------------------------------------------------------------- tests

for (const kind of ["classic", "module"]) {
  test(`the talk's XmppClient code runs verbatim (${kind} script page): onopen fires`, async () => {
    const page = await openPage(browser);
    pages.push(page);
    await page.goto(`${server.url}/fixtures/xmpp-slide-${kind}.html?ws=${encodeURIComponent(WS)}`);
    try {
      await page.waitForFunction(() => window.log.includes("open"), null, { timeout: T });
    } catch {
      assert.fail(
        `onopen did not fire; log: ${JSON.stringify(await page.evaluate(() => window.log))}; ` +
          `page problems: ${JSON.stringify(page.problems)}`,
      );
    }
    const jid = await page.evaluate(() => window.client.jid);
    assert.match(jid, /^alice@localhost\/.+$/);
    assert.equal(await page.evaluate(() => window.client.connected), true);
    // The slide's other handlers are wired: a message to itself arrives in onmessage.
    await page.evaluate(() => window.client.sendMessage(window.client.jid, "hello from the slide"));
    await page.waitForFunction(() => window.log.includes("message:hello from the slide"), null, {
      timeout: T,
    });
    // onclose fires after disconnect().
    await page.evaluate(() => window.client.disconnect());
    await page.waitForFunction(() => window.log.includes("close"), null, { timeout: T });
    const log = await page.evaluate(() => window.log);
    assert.equal(log[0], "open");
    assert.equal(log.filter((l) => l === "open").length, 1);
    assert.equal(log.filter((l) => l === "close").length, 1);
    assert.deepEqual(page.problems, []);
  });
}

test("each offered SASL mechanism logs in; debug never shows the password or SASL payloads", async () => {
  const page = await xmppPage();
  const offered = await page.evaluate(([u, d]) => H.probeMechanisms(u, d), [WS, DOMAIN]);
  const expected =
    AUTH === "internal_plain" ? ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"] : ["SCRAM-SHA-1", "PLAIN"];
  for (const m of expected) {
    assert.ok(offered.includes(m), `Prosody (${AUTH}) should offer ${m}; offers ${offered}`);
  }
  const testable = SUPPORTED.filter((m) => offered.includes(m));
  for (const m of testable) {
    const name = `sasl-${m}`;
    const jid = await online(page, name, "alice", "alicepw", { mechanisms: [m], debug: true });
    assert.match(jid, new RegExp(`^alice@${escapeRe(DOMAIN)}/`));
    const lines = await debugLines(page, name);
    const auths = lines.filter(([d, x]) => d === "out" && /^<auth[\s>/]/.test(x));
    assert.equal(auths.length, 1, `${m}: one <auth> expected, debug: ${summarize(lines)}`);
    assert.match(auths[0][1], new RegExp(`mechanism=["']${m}["']`));
    assert.ok(
      lines.some(([d, x]) => d === "in" && /^<success[\s>/]/.test(x)),
      `${m}: no <success> in debug: ${summarize(lines)}`,
    );
    if (m.startsWith("SCRAM")) {
      assert.ok(lines.some(([d, x]) => d === "in" && /^<challenge[\s>/]/.test(x)));
      assert.ok(lines.some(([d, x]) => d === "out" && /^<response[\s>/]/.test(x)));
    }
    assertNoSecrets(lines, "alice", "alicepw");
    assert.equal(await ok(page, name, "disconnect"), "(undefined)");
  }
  // A mechanism the server does not offer, forced: no login with another mechanism.
  for (const m of SUPPORTED.filter((x) => !offered.includes(x))) {
    const name = `unoffered-${m}`;
    await make(page, name);
    await connect(page, name, WS, DOMAIN, {
      username: "alice",
      password: "alicepw",
      mechanisms: [m],
      debug: true,
    });
    await waitEvent(page, name, "close", {}, T);
    const evs = await events(page, name);
    assert.equal(evs.filter((e) => e.t === "open").length, 0, `${m} not offered, yet onopen fired`);
    const lines = await debugLines(page, name);
    assert.equal(
      lines.filter(([d, x]) => d === "out" && /^<auth[\s>/]/.test(x)).length,
      0,
      `${m} not offered, yet the client sent <auth>: ${summarize(lines)}`,
    );
    assertNoSecrets(lines, "alice", "alicepw");
  }
  assert.deepEqual(page.problems, []);
});

test("SCRAM's PBKDF2 runs in WebCrypto; without crypto.subtle (an insecure context) the core derives the key", async () => {
  const page = await xmppPage();
  await page.evaluate(() => {
    const subtle = crypto.subtle;
    const derive = subtle.deriveBits.bind(subtle);
    window.__pbkdf2 = [];
    subtle.deriveBits = (params, key, bits) => {
      window.__pbkdf2.push([params.name, params.hash, params.iterations, bits]);
      return derive(params, key, bits);
    };
  });
  await online(page, "webcrypto", "alice", "alicepw", { mechanisms: ["SCRAM-SHA-1"] });
  const calls = await page.evaluate(() => window.__pbkdf2);
  assert.equal(calls.length, 1, `one WebCrypto derivation expected: ${JSON.stringify(calls)}`);
  assert.deepEqual([calls[0][0], calls[0][1], calls[0][3]], ["PBKDF2", "SHA-1", 160]);
  assert.ok(calls[0][2] >= 4096, `iterations ${calls[0][2]}`);
  assert.equal(await ok(page, "webcrypto", "disconnect"), "(undefined)");
  await page.evaluate(() => Object.defineProperty(crypto, "subtle", { get: () => undefined, configurable: true }));
  await online(page, "software", "alice", "alicepw", { mechanisms: ["SCRAM-SHA-1"] });
  assert.equal((await page.evaluate(() => window.__pbkdf2)).length, 1);
  assert.equal(await ok(page, "software", "disconnect"), "(undefined)");
  assert.deepEqual(page.problems, []);
});

test("a wrong password: onerror not-authorized, then onclose with condition not-authorized", async () => {
  const page = await xmppPage();
  await make(page, "w");
  await connect(page, "w", WS, DOMAIN, { username: "alice", password: freshName("wrong-") });
  const err = await waitEvent(page, "w", "error", {}, FEW);
  assert.equal(err.condition, "not-authorized");
  assert.equal(err.isError, true);
  const close = await waitEvent(page, "w", "close", {}, FEW);
  assert.equal(close.condition, "not-authorized");
  const evs = await events(page, "w");
  assert.deepEqual(
    evs.map((e) => e.t),
    ["error", "close"],
    `events: ${summarize(evs)}`,
  );
  assert.equal(await prop(page, "w", "connected"), false);
  assert.equal(await prop(page, "w", "jid"), null);

  // The same through login(): the Promise rejects with not-authorized.
  await make(page, "l");
  await connect(page, "l", WS, DOMAIN);
  const open = await waitEvent(page, "l", "open");
  assert.equal(open.jid, null);
  const e = await fails(page, "l", "login", "alice", freshName("wrong-"));
  assert.equal(e.condition, "not-authorized");
  assert.equal(e.isError, true);
  assert.equal(await prop(page, "l", "jid"), null);
  assert.deepEqual(page.problems, []);
});

test("in-band registration, password change, log in again, unregister", async () => {
  const page = await xmppPage();
  const u = freshName("reg");
  const p1 = `first-${randomBytes(6).toString("hex")}`;
  const p2 = `second-${randomBytes(6).toString("hex")}`;
  createdUsers.push(u);

  // Connect without credentials: onopen(null) once the stream is ready.
  await make(page, "r");
  await page.evaluate(() => H.debugProperty("r"));
  await connect(page, "r", WS, DOMAIN);
  const open = await waitEvent(page, "r", "open");
  assert.equal(open.jid, null);
  assert.equal(open.argc, 1);
  assert.equal(await prop(page, "r", "jid"), null);

  // An existing name is refused with conflict (XEP-0077).
  const conflict = await fails(page, "r", "register", "alice", p1);
  assert.equal(conflict.condition, "conflict");
  assert.equal(conflict.isError, true);

  assert.equal(await ok(page, "r", "register", u, p1), "(undefined)");
  const jid = await ok(page, "r", "login", u, p1);
  assert.match(jid, new RegExp(`^${u}@${escapeRe(DOMAIN)}/.+$`));
  assert.equal(await prop(page, "r", "jid"), jid);
  assert.equal(await prop(page, "r", "connected"), true);
  assert.equal(await ok(page, "r", "changePassword", p2), "(undefined)");
  assert.equal(await ok(page, "r", "disconnect"), "(undefined)");
  await waitEvent(page, "r", "close");
  assertNoSecrets(await debugLines(page, "r"), u, p1);
  assertNoSecrets(await debugLines(page, "r"), u, p2);

  // The old password no longer works.
  await make(page, "old");
  await connect(page, "old", WS, DOMAIN, { username: u, password: p1 });
  assert.equal((await waitEvent(page, "old", "error", {}, FEW)).condition, "not-authorized");
  await waitEvent(page, "old", "close", {}, FEW);

  // The new one does (credentials through the properties this time), then unregister.
  await make(page, "new");
  await page.evaluate(() => H.debugProperty("new"));
  await page.evaluate(([n, p]) => {
    H.set("new", "username", n);
    H.set("new", "password", p);
  }, [u, p2]);
  await connect(page, "new", WS, DOMAIN);
  const open2 = await waitEvent(page, "new", "open");
  assert.match(open2.jid, new RegExp(`^${u}@${escapeRe(DOMAIN)}/.+$`));
  assert.equal(await ok(page, "new", "unregister"), "(undefined)");
  assertNoSecrets(await debugLines(page, "new"), u, p2);

  // The account is gone.
  await make(page, "gone");
  await connect(page, "gone", WS, DOMAIN, { username: u, password: p2 });
  assert.equal((await waitEvent(page, "gone", "error", {}, FEW)).condition, "not-authorized");
  await waitEvent(page, "gone", "close", {}, FEW);
  assert.deepEqual(page.problems, []);
});

test("two users: subscriptions both ways, presence with show/status, roster, messages intact", async () => {
  const page = await xmppPage();
  const A = await freshUser(page, "usera");
  const B = await freshUser(page, "userb");
  const aJid = await online(page, "a", A.username, A.password);
  const bJid = await online(page, "b", B.username, B.password);
  const aBare = bare(aJid);
  const bBare = bare(bJid);
  assert.equal(aBare, `${A.username}@${DOMAIN}`);
  assert.equal(bBare, `${B.username}@${DOMAIN}`);

  // Fetch the rosters (Prosody pushes roster changes only to sessions that did), go online.
  assert.deepEqual(await ok(page, "a", "getRoster"), []);
  assert.deepEqual(await ok(page, "b", "getRoster"), []);
  await ok(page, "a", "setStatus");
  await ok(page, "b", "setStatus");

  // A adds B and asks to see B's presence; B approves and asks back; A approves.
  assert.equal(await ok(page, "a", "addContact", bBare, "Bob B", ["Friends"]), "(undefined)");
  await waitRosterItem(page, "a", { jid: bBare, name: "Bob B", groups: ["Friends"] });
  await ok(page, "a", "subscribe", bBare);
  await waitEvent(page, "b", "presence", { type: "subscribe", from: aBare });
  await ok(page, "b", "approve", aBare);
  await ok(page, "b", "subscribe", aBare);
  await waitEvent(page, "a", "presence", { type: "subscribe", from: bBare });
  await ok(page, "a", "approve", bBare);
  await waitRosterItem(page, "a", { jid: bBare, subscription: "both" });
  await waitRosterItem(page, "b", { jid: aBare, subscription: "both" });

  const rosterA = await ok(page, "a", "getRoster");
  assert.deepEqual(rosterA, [
    { jid: bBare, name: "Bob B", subscription: "both", ask: null, groups: ["Friends"] },
  ]);
  const rosterB = await ok(page, "b", "getRoster");
  assert.deepEqual(rosterB, [
    { jid: aBare, name: null, subscription: "both", ask: null, groups: [] },
  ]);

  // Status with show and status text (and a priority) reaches the other side.
  await ok(page, "a", "setStatus", "away", "at lunch");
  await ok(page, "b", "setStatus", "chat", "hi", 3);
  const pa = await waitEvent(page, "b", "presence", { from: aJid, show: "away" });
  assert.equal(pa.type, null);
  assert.equal(pa.status, "at lunch");
  assert.equal(pa.priority, null);
  assert.match(pa.xml, /^<presence[\s>/]/);
  const pb = await waitEvent(page, "a", "presence", { from: bJid, show: "chat" });
  assert.equal(pb.type, null);
  assert.equal(pb.status, "hi");
  assert.equal(pb.priority, 3);

  // Messages both ways: non-ASCII and XML-special characters arrive exactly.
  const text1 = "héllo 🌍 日本 <&'\"> ]]> &amp; &#60; \u00e9\u0301 tab\there";
  const id1 = await ok(page, "a", "sendMessage", bJid, text1, { type: "chat", id: true });
  assert.equal(typeof id1, "string");
  assert.ok(id1.length > 0);
  const m1 = await waitEvent(page, "b", "message", { from: aJid, id: id1 });
  assert.equal(m1.body, text1);
  assert.equal(m1.to, bJid);
  assert.equal(m1.type, "chat");
  assert.equal(m1.subject, null);
  assert.equal(m1.thread, null);
  assert.match(m1.xml, /^<message[\s>]/);

  const text2 = "<b>bold?</b> & 'quotes' \"double\" — 🌍🌏 日本語 ✓";
  // Without `id: true` (or a receipt request) a chat message carries no id: fewer bytes.
  const id2 = await ok(page, "b", "sendMessage", aBare, text2, {
    type: "chat",
    subject: "sub <&> ject",
    thread: "thread-1",
  });
  assert.equal(id2, null);
  const m2 = await waitEvent(page, "a", "message", { from: bJid, thread: "thread-1" });
  assert.equal(m2.id, null);
  assert.doesNotMatch(m2.xml, /^<message[^>]*\sid=/);
  assert.equal(m2.body, text2);
  assert.equal(m2.type, "chat");
  assert.equal(m2.subject, "sub <&> ject");
  assert.equal(m2.thread, "thread-1");

  const errors = (await events(page, "a")).concat(await events(page, "b")).filter(
    (e) => e.t === "error" || e.t === "close",
  );
  assert.deepEqual(errors, []);
  await ok(page, "a", "disconnect");
  await ok(page, "b", "disconnect");
  assert.deepEqual(page.problems, []);
});

/** alice and bob online in one page, both available. */
async function alicebob(page) {
  const aJid = await online(page, "a", "alice", "alicepw");
  const bJid = await online(page, "b", "bob", "bobpw");
  await ok(page, "a", "setStatus");
  await ok(page, "b", "setStatus");
  return { aJid, bJid };
}

test("pings: client to server, and a server-routed ping to a client is answered", async () => {
  const page = await xmppPage();
  const { aJid } = await alicebob(page);
  const r1 = await ok(page, "a", "iq", "get", DOMAIN, PING);
  assert.equal(typeof r1, "string");
  assert.match(r1, /^<iq[\s>]/);
  assert.match(r1, /\stype=["']result["']/);
  assert.match(r1, new RegExp(`\\sfrom=["']${escapeRe(DOMAIN)}["']`));
  // bob pings alice's full JID: alice's client answers by itself.
  const r2 = await ok(page, "b", "iq", "get", aJid, PING);
  assert.match(r2, /^<iq[\s>]/);
  assert.match(r2, /\stype=["']result["']/);
  assert.match(r2, new RegExp(`\\sfrom=["']${escapeRe(aJid)}["']`));
  const aEvents = (await events(page, "a")).filter((e) => e.t !== "open" && e.t !== "presence");
  assert.deepEqual(aEvents, []);
  assert.deepEqual(page.problems, []);
});

test("an unknown IQ to a client is answered with service-unavailable", async () => {
  const page = await xmppPage();
  const { aJid } = await alicebob(page);
  for (const type of ["get", "set"]) {
    const e = await fails(page, "b", "iq", type, aJid, "<query xmlns='urn:example:unknown:0'/>");
    assert.equal(e.condition, "service-unavailable", `${type}: ${JSON.stringify(e)}`);
    assert.equal(e.isError, true);
  }
  // Both sessions are still up.
  assert.equal(await prop(page, "a", "connected"), true);
  assert.equal(await prop(page, "b", "connected"), true);
  assert.match(await ok(page, "b", "iq", "get", aJid, PING), /\stype=["']result["']/);
  assert.deepEqual(page.problems, []);
});

test("disconnect() performs the close handshake: resolves, onclose wasClean", async () => {
  const page = await xmppPage();
  await make(page, "d");
  await page.evaluate(() => H.debugProperty("d"));
  await connect(page, "d", WS, DOMAIN, { username: "alice", password: "alicepw" });
  await waitEvent(page, "d", "open");
  assert.equal(await ok(page, "d", "disconnect"), "(undefined)");
  const close = await waitEvent(page, "d", "close", {}, FEW);
  assert.equal(close.wasClean, true);
  assert.equal(close.code, 1000);
  assert.equal(close.condition, null);
  assert.equal(await prop(page, "d", "connected"), false);
  const lines = await debugLines(page, "d");
  const closeRe = /^<close\s[^>]*xmlns=["']urn:ietf:params:xml:ns:xmpp-framing["']/;
  assert.ok(
    lines.some(([dir, x]) => dir === "out" && closeRe.test(x)),
    `no <close/> sent: ${summarize(lines)}`,
  );
  assert.ok(
    lines.some(([dir, x]) => dir === "in" && closeRe.test(x)),
    `no <close/> received: ${summarize(lines)}`,
  );
  const evs = await events(page, "d");
  assert.deepEqual(
    evs.map((e) => e.t),
    ["open", "close"],
    `events: ${summarize(evs)}`,
  );
  assert.deepEqual(page.problems, []);
});

test("hostile server: oversized stanza, billion laughs, deep nesting close the stream, page survives", async () => {
  const page = await xmppPage();
  for (const mode of ["big", "bomb", "deep"]) {
    const name = `hostile-${mode}`;
    const n0 = hostile.connections.length;
    await make(page, name);
    await connect(page, name, `${hostile.url}/${mode}`, "localhost", {
      username: "mallory",
      password: "secret",
    });
    await waitEvent(page, name, "open", { jid: "mallory@localhost/hostile" });
    const err = await waitEvent(page, name, "error", {}, FEW);
    assert.equal(typeof err.condition, "string", `${mode}: ${JSON.stringify(err)}`);
    assert.ok(err.condition.length > 0, `${mode}: empty condition`);
    await waitEvent(page, name, "close", {}, FEW);
    const evs = await events(page, name);
    assert.deepEqual(
      evs.filter((e) => e.t === "message"),
      [],
      `${mode}: the hostile stanza was delivered`,
    );
    assert.equal(await prop(page, name, "connected"), false);
    // The client, not the server, closed the connection.
    const conn = hostile.connections.slice(n0).find((c) => c.path === `/${mode}`);
    assert.ok(conn, `${mode}: the hostile server saw no connection`);
    const deadline = Date.now() + FEW;
    while (!conn.events.some((e) => e.t === "ws-close" || e.t === "end" || e.t === "tcp-close")) {
      assert.ok(Date.now() < deadline, `${mode}: the client did not close the connection`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const fatal = page.problems.filter((p) =>
      /unreachable|RuntimeError|panicked|out of bounds|recursion|stack/i.test(p),
    );
    assert.deepEqual(fatal, [], `${mode}: the wasm module crashed`);
  }
  // The page (and the wasm module) still works: a new client logs in to the real server.
  await online(page, "after", "alice", "alicepw");
  await ok(page, "after", "disconnect");
  assert.deepEqual(page.problems, []);
});
