// Public types of fullduplex (hand-checked; `tsc --strict` runs over them in the tests).

/** Loads the wasm module (done automatically on first use); resolves when ready. */
export function init(): Promise<unknown>;

/** The talk's `if (window.WebSocket)`: true when the page can open WebSockets. */
export function isSupported(): Promise<boolean>;
