// Types of the STOMP-only entry, `fullduplex/stomp`.
export { init, isSupported, StompClient } from "./index.js";
export type * from "./index.js";
