// The ES module entry of fullduplex: `import { StompClient, XmppClient } from "fullduplex"`.
//
// Nothing here speaks a protocol: the classes wrap the wasm exports in the callback-style API
// (onopen, onmessage, …) and Promises. The wasm loads on first use, so code may construct
// clients and call methods straight away; calls made before it is ready run once it is.
import { load } from "./loader.js";

export { load as init };
export { StompClient } from "./stomp.js";
export { XmppClient } from "./xmpp.js";

/** The talk's `if (window.WebSocket)`, answered by the wasm module. */
export async function isSupported() {
  const wasm = await load();
  return wasm.isSupported();
}
