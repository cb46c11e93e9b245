// The TypeScript declarations, as an application gets them: the packed tarball (built from
// FULLDUPLEX_DIST or dist/) installed into an empty folder, then `tsc --strict --noEmit`
//   - on examples/typescript/app.ts, which uses every public function, member, callback and
//     option: must compile;
//   - on a file of misuses, each marked `@ts-expect-error`: must compile too, which proves every
//     misuse is an error (were the types `any`, tsc would report the directives as unused);
//   - on a deliberately wrong file: must fail, with the expected diagnostics.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { pack, install } from "../../examples/bundler/pack.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const TSC = join(ROOT, "node_modules", ".bin", "tsc");
const FLAGS = ["--strict", "--noEmit", "--target", "es2022", "--module", "esnext",
  "--moduleResolution", "bundler", "--lib", "es2022,dom", "--types", ""];

let dir;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "fullduplex-types-"));
  install(pack(dir), join(dir, "app"));
  for (const f of ["app.ts", "tsconfig.json"]) {
    copyFileSync(join(ROOT, "examples", "typescript", f), join(dir, "app", f));
  }
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function tsc(...args) {
  const r = spawnSync(TSC, args, { cwd: join(dir, "app"), encoding: "utf8", timeout: 60000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Compiles one file with the strict flags (not the folder's tsconfig). */
function tscFile(name, source, ...extra) {
  writeFileSync(join(dir, "app", name), source);
  return tsc("--ignoreConfig", ...FLAGS, ...extra, name);
}

test("examples/typescript/app.ts compiles with tsc --strict against the packed types", () => {
  const r = tsc("-p", "tsconfig.json", "--strict", "--noEmit", "--explainFiles");
  assert.equal(r.status, 0, r.out);
  // It was checked against the installed package, all three entries.
  for (const f of ["index.d.ts", "stomp.d.ts", "xmpp.d.ts"]) {
    assert.match(r.out, new RegExp(`node_modules/fullduplex/dist/${f.replace(".", "\\.")}`), r.out);
  }
});

/**
 * The public names of a declaration file: exported functions, and the members of every
 * exported class and interface (two-space indented lines of their bodies).
 */
function publicNames(dts) {
  const names = new Map(); // name → where it is declared
  for (const m of dts.matchAll(/^export (?:declare )?function (\w+)/gm)) names.set(m[1], "function");
  for (const block of dts.matchAll(/^export (?:declare )?(?:class|interface) (\w+)[^{]*\{([\s\S]*?)^\}/gm)) {
    for (const m of block[2].matchAll(/^ {2}(?:readonly )?(\w+)\??\s*[:(]/gm)) {
      if (m[1] !== "constructor") names.set(m[1], block[1]);
    }
  }
  return names;
}

test("app.ts uses every public function, member, callback and option of the declarations", () => {
  const dts = readFileSync(join(dir, "app", "node_modules", "fullduplex", "dist", "index.d.ts"), "utf8");
  const app = readFileSync(join(ROOT, "examples", "typescript", "app.ts"), "utf8");
  const names = publicNames(dts);
  assert.ok(names.size > 60, `only ${names.size} names found: the parser no longer matches index.d.ts`);
  for (const n of ["connect", "onmessage", "heartbeatOutgoing", "binaryBody", "mechanisms", "onpresence"]) {
    assert.ok(names.has(n), `the parser missed ${n}`);
  }
  const missing = [...names].filter(([n]) => !new RegExp(`\\b${n}\\b`).test(app)).map(([n, where]) => `${where}.${n}`);
  assert.deepEqual(missing, [], "examples/typescript/app.ts does not use these (add them to the tour)");
});

const MISUSES = `import { StompClient, XmppClient, type StompHeaders, type StompMessage } from "fullduplex";
import * as stompEntry from "fullduplex/stomp";
import * as xmppEntry from "fullduplex/xmpp";
import { XmppClient as NotInStomp } from "fullduplex/stomp";

type IsAny<T> = 0 extends 1 & T ? true : false;
export const notAny: [
  IsAny<StompClient>, IsAny<StompClient["send"]>, IsAny<StompMessage>,
  IsAny<XmppClient>, IsAny<XmppClient["onmessage"]>, IsAny<typeof stompEntry.StompClient>,
] = [false, false, false, false, false, false];

const s = new StompClient();
// @ts-expect-error a number is not a body
s.send(42, "/topic/x");
// @ts-expect-error the destination is required
s.send("hi");
// @ts-expect-error body is a string, not a number
s.onmessage = (headers: StompHeaders, body: number) => {};
// @ts-expect-error unknown option
s.connect("ws://x", { heartbeat: 5 });
// @ts-expect-error heartbeatOutgoing is a number
s.connect("ws://x", { heartbeatOutgoing: "10000" });
// @ts-expect-error connected is read-only
s.connected = true;
// @ts-expect-error version is a string or null
export const v: number = s.version;
// @ts-expect-error no such method
s.publish("x", "/topic/x");
// @ts-expect-error ack takes a message
s.ack("message-id");
// @ts-expect-error header values are strings
s.send("x", "/topic/x", { priority: 5 });

const x = new XmppClient();
// @ts-expect-error the domain is required (connect(url, domain))
x.connect("ws://x");
// @ts-expect-error show is a string or null
x.setStatus(3);
// @ts-expect-error sendMessage returns the id, not a Promise
x.sendMessage("a@b", "hi").then(() => {});
// @ts-expect-error iq type is get or set
x.iq("result", null, "<x/>");
// @ts-expect-error an unknown SASL mechanism
x.connect("ws://x", "d", { mechanisms: ["DIGEST-MD5"] });
// @ts-expect-error message fields may be null
x.onmessage = (m) => m.body.toUpperCase();
// @ts-expect-error login resolves with the JID
x.login("u", "p").then((jid: number) => jid);
// @ts-expect-error jid is read-only
x.jid = "a@b";

// @ts-expect-error the STOMP entry has no XmppClient value
new NotInStomp();
// @ts-expect-error nor on its namespace
stompEntry.XmppClient;
// @ts-expect-error the XMPP entry has no StompClient value
new xmppEntry.StompClient();
`;

test("every misuse is a type error (the declarations are not any)", () => {
  const r = tscFile("misuses.ts", MISUSES, "--explainFiles");
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /node_modules\/fullduplex\/dist\/stomp\.d\.ts/);
});

test("tsc --strict fails on a deliberately wrong file", () => {
  const r = tscFile(
    "wrong.ts",
    `import { StompClient, XmppClient } from "fullduplex";
const client = new StompClient();
client.send(42, "/topic/prices");
client.onmessage = (headers, body) => body.toFixed(2);
new XmppClient().connect("ws://127.0.0.1:5280/xmpp-websocket");
`,
  );
  assert.notEqual(r.status, 0, `tsc accepted the wrong file:\n${r.out}`);
  assert.match(r.out, /wrong\.ts\(3,13\): error TS2345: Argument of type 'number'/, r.out);
  assert.match(r.out, /wrong\.ts\(4,44\): error TS2551: Property 'toFixed' does not exist on type 'string'/, r.out);
  assert.match(r.out, /wrong\.ts\(5,18\): error TS2554: Expected 2-3 arguments, but got 1/, r.out);
  assert.equal((r.out.match(/error TS/g) ?? []).length, 3, r.out);
});
