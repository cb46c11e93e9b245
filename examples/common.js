// Shared by the example pages: the server addresses (overridable in the query string) and the
// talk's first step, the WebSocket support check. Plain ES module, no build step.

/** Query-string parameters, e.g. ?stomp=ws://host:15674/ws&xmpp=ws://host:5280/xmpp-websocket */
export const params = new URLSearchParams(location.search);

/** RabbitMQ's web-STOMP endpoint (the demo's server; ?stomp=… for another one). */
export const STOMP_URL = params.get("stomp") ?? "ws://127.0.0.1:15674/ws";
/** Prosody's XMPP-over-WebSocket endpoint (?xmpp=…). */
export const XMPP_URL = params.get("xmpp") ?? "ws://127.0.0.1:5280/xmpp-websocket";
/** The XMPP domain, connect()'s second argument (?domain=…). */
export const XMPP_DOMAIN = params.get("domain") ?? "localhost";

/**
 * The talk's `if (window.WebSocket)`: says on the page whether WebSocket is there, and
 * returns the answer. Run it before anything else.
 */
export function checkSupport(id = "support") {
  const out = document.getElementById(id);
  const ok = !!window.WebSocket;
  out.textContent = ok
    ? "This browser supports WebSocket."
    : "This browser does not support WebSocket: these examples cannot run here.";
  out.className = ok ? "support yes" : "support no";
  return ok;
}

/** document.createElement with properties and children (text is set as text, never as HTML). */
export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

/** hh:mm:ss of now. */
export function clock() {
  return new Date().toTimeString().slice(0, 8);
}
