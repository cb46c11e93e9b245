// Types of the XMPP-only entry, `fullduplex/xmpp`.
export { init, isSupported, XmppClient } from "./index.js";
export type * from "./index.js";
