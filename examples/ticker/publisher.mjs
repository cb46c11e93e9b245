#!/usr/bin/env node
// The ticker's publisher as a separate process: plain STOMP 1.2 over TCP to the broker (RabbitMQ
// listens on 61613), sending the same packed quotes as the page's own publisher (packing.js).
// A second, non-browser peer: the page only sees the messages.
//
// Usage: node examples/ticker/publisher.mjs [--rate N|max] [--packing raw|7bit] [--seconds S]
//          [--topic /topic/ticker] [--host 127.0.0.1] [--port 61613] [--login guest --passcode guest]
// Defaults: rate 2000/s, raw packing, forever (Ctrl-C sends DISCONNECT and exits).
// The port defaults to $STOMP_TCP_PORT when set (scripts/with-servers.sh exports it).
import { connect } from "node:net";
import { encode, makeMarket } from "./packing.js";

const opts = {
  rate: "2000",
  packing: "raw",
  seconds: "0",
  topic: "/topic/ticker",
  host: "127.0.0.1",
  port: process.env.STOMP_TCP_PORT ?? "61613",
  login: "guest",
  passcode: "guest",
  vhost: "/",
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, "");
  if (!(key in opts) || argv[i + 1] === undefined) {
    console.error(`unknown or incomplete option ${argv[i]}; see the usage at the top of this file`);
    process.exit(2);
  }
  opts[key] = argv[i + 1];
}
const max = opts.rate === "max";
const rate = max ? Infinity : Number(opts.rate);
const packing = opts.packing === "7bit" ? "7bit" : "raw";

// STOMP 1.2 header escaping (the values here are plain, but a topic could hold a colon).
const esc = (v) => String(v).replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/:/g, "\\c").replace(/\r/g, "\\r");
const frame = (command, headers, body = Buffer.alloc(0)) =>
  Buffer.concat([
    Buffer.from(`${command}\n${Object.entries(headers).map(([k, v]) => `${k}:${esc(v)}\n`).join("")}\n`),
    body,
    Buffer.from([0]),
  ]);

const socket = connect({ host: opts.host, port: Number(opts.port) });
socket.setNoDelay(true);
let connected = false;
let sent = 0;
let buffered = Buffer.alloc(0);
const started = Date.now();

socket.on("connect", () => {
  socket.write(
    frame("CONNECT", {
      "accept-version": "1.2",
      host: opts.vhost,
      login: opts.login,
      passcode: opts.passcode,
      "heart-beat": "0,0",
    }),
  );
});

socket.on("data", (chunk) => {
  buffered = Buffer.concat([buffered, chunk]);
  let end;
  while ((end = buffered.indexOf(0)) >= 0) {
    const text = buffered.subarray(0, end).toString("utf8").replace(/^\n+/, "");
    buffered = buffered.subarray(end + 1);
    const command = text.split("\n", 1)[0];
    if (command === "CONNECTED" && !connected) {
      connected = true;
      console.log(`publisher: connected to ${opts.host}:${opts.port}, ${opts.rate}/s to ${opts.topic} (${packing})`);
      publish();
    } else if (command === "ERROR") {
      console.error(`publisher: broker ERROR\n${text}`);
      process.exit(1);
    }
  }
});
socket.on("error", (e) => {
  console.error(`publisher: ${e.message} (is RabbitMQ's STOMP listener on ${opts.host}:${opts.port}?)`);
  process.exit(1);
});
socket.on("close", () => {
  if (!stopping) {
    console.error("publisher: the broker closed the connection");
    process.exit(1);
  }
});

const market = makeMarket();
let stopping = false;
let credit = 0;
let last = Date.now();

function publish() {
  if (stopping) return;
  const now = Date.now();
  let n = max ? 1000 : 0;
  if (!max) {
    credit = Math.min(credit + ((now - last) * rate) / 1000, rate / 5);
    n = Math.floor(credit);
    credit -= n;
  }
  last = now;
  const time = now >>> 0;
  const parts = [];
  for (let i = 0; i < n; i++) {
    const [s, price, seq] = market.next();
    const body = Buffer.from(encode(s, price, seq, time, packing));
    parts.push(frame("SEND", { destination: opts.topic, "content-length": body.length }, body));
  }
  sent += n;
  const more = () => setTimeout(publish, max ? 0 : 10);
  if (parts.length && !socket.write(Buffer.concat(parts))) socket.once("drain", more);
  else more();
}

const report = setInterval(() => {
  const s = (Date.now() - started) / 1000;
  console.log(`publisher: ${sent} sent, ${Math.round(sent / s)}/s`);
}, 5000);
report.unref();

function stop() {
  if (stopping) return;
  stopping = true;
  console.log(`publisher: ${sent} quotes sent in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  socket.end(frame("DISCONNECT", {}), () => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
if (Number(opts.seconds) > 0) setTimeout(stop, Number(opts.seconds) * 1000);
