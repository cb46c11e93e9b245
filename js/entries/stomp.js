// The STOMP-only ES module entry (`fullduplex/stomp`): a smaller wasm without XMPP.
import init, * as glue from "fullduplex-glue/stomp/fullduplex_stomp.js";
import { configure, load } from "../loader.js";

configure(init, glue);
export { load as init };
export { isSupported } from "../loader.js";
export { StompClient } from "../stomp.js";
