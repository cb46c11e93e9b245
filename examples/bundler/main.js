// The same small app for every bundler: import the package by its name, as an application
// would, and let the bundler find the .wasm beside the module (no plugin, no config).
import { StompClient, isSupported } from "fullduplex";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const url = params.get("stomp") ?? "ws://127.0.0.1:15674/ws";
const topic = params.get("topic") ?? "/topic/bundler";

$("bundler").textContent = location.pathname.includes("webpack") ? "webpack 5" : "Vite";

// The talk's first step: check the browser before anything else.
if (!window.WebSocket) {
  $("support").textContent = "This browser does not support WebSocket.";
  $("support").className = "support no";
} else {
  $("support").textContent = "This browser supports WebSocket.";
  start();
}

function start() {
  const client = new StompClient();
  client.onopen = function (headers) {
    $("status").textContent = `connected (STOMP ${headers.version ?? "1.0"})`;
    client.subscribe(topic);
    client.send(`Hello from ${$("bundler").textContent}!`, topic);
  };
  client.onmessage = function (headers, body) {
    const li = document.createElement("li");
    li.textContent = `${headers.destination}: ${body}`;
    $("received").append(li);
  };
  client.onclose = function (e) {
    $("status").textContent = `closed (${e.code})`;
  };
  client.connect(url);
  // The wasm module loads on first use; isSupported() waits for it.
  isSupported().then((ok) => (document.body.dataset.wasm = ok ? "ready" : "no-websocket"));
}
