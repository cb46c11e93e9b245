// Smoke test of one built variant under Node with a fake WebSocket and window (run.sh calls
// it after each build): node smoke.mjs <variant> <output folder>. Exits non-zero on a mismatch.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [variant, dir] = process.argv.slice(2);
const sent = [];
const got = [];
globalThis.fetch = async () =>
  new Response(readFileSync(`${dir}/floor_bg.wasm`), { headers: { "content-type": "application/wasm" } });
globalThis.WebSocket = class {
  constructor(url) { globalThis.lastWs = this; this.url = url; }
  send(s) { sent.push(s); }
  close() {}
};
globalThis.Window = class {};
Object.setPrototypeOf(globalThis, Window.prototype);
globalThis.window = globalThis;

const m = await import(pathToFileURL(`${dir}/floor.js`).href);
const url = new URL("file:///floor_bg.wasm");
await m.init(variant === "raw" ? url : { module_or_path: url });
let want;
if (variant === "empty") {
  const f = new m.Floor();
  f.feed("héllo");
  got.push(f.feed("abc"));
  want = [[9], []];
} else {
  const f = new m.Floor("ws://x", (s) => got.push(s));
  const ws = globalThis.lastWs;
  if (variant === "collections") f.subscribe("/q");
  ws.onopen({});
  ws.onmessage({ data: "héllo" });
  ws.onmessage({ data: new TextEncoder().encode("bin\0").buffer });
  if (variant === "timer") f.heartbeat(10);
  f.send("body");
  await new Promise((r) => setTimeout(r, 35));
  ws.onclose({ wasClean: true });
  f.free();
  want = {
    collections: [["open", "héllobin", "close"], ["SEND\ndestination:/q\n\nbody\0"]],
    timer: [["open", "héllo", "bin\0", "close"], ["body", "\n", "\n"]],
  }[variant] ?? [["open", "héllo", "bin\0", "close"], ["body"]];
}
const ok = JSON.stringify([got, sent.slice(0, want[1].length)]) === JSON.stringify(want);
if (!ok) {
  console.error(`smoke ${variant}: got ${JSON.stringify([got, sent])}, want ${JSON.stringify(want)}`);
  process.exit(1);
}
