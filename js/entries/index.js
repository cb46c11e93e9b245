// The combined ES module entry: `import { StompClient, XmppClient } from "fullduplex"`.
//
// Nothing here speaks a protocol: the classes wrap the wasm exports in the callback-style API
// (onopen, onmessage, …) and Promises. The wasm loads on first use, so code may construct
// clients and call methods straight away; calls made before it is ready run once it is.
import init, * as glue from "fullduplex-glue/all/fullduplex.js";
import { configure, load } from "../loader.js";

configure(init, glue);
export { load as init };
export { isSupported } from "../loader.js";
export { StompClient } from "../stomp.js";
export { XmppClient } from "../xmpp.js";
