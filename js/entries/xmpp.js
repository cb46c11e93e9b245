// The XMPP-only ES module entry (`fullduplex/xmpp`): a smaller wasm without STOMP.
import init, * as glue from "fullduplex-glue/xmpp/fullduplex_xmpp.js";
import { configure, load } from "../loader.js";

configure(init, glue);
export { load as init };
export { isSupported } from "../loader.js";
export { XmppClient } from "../xmpp.js";
