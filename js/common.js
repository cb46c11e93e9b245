// Helpers shared by the client classes: lazy wasm start-up, op-id → Promise bookkeeping and
// header conversions. No protocol logic: the wasm core decides what goes on the wire.
import { load, loadedModule } from "./loader.js";

/**
 * Owns one wasm core object for a JS client: creates it once the module is loaded, runs
 * calls made before then in order, and turns op ids into Promises.
 */
export class CoreHandle {
  constructor(create) {
    this.create = create;
    this.core = null;
    this.pending = new Map(); // op id → { resolve, reject, map }
    this.early = new Map(); // op id → [ok, value] settled before the caller registered it
    const wasm = loadedModule();
    if (wasm) {
      this.core = create(wasm);
      this.ready = Promise.resolve();
    } else {
      this.ready = load().then((w) => {
        if (!this.core) this.core = create(w);
      });
    }
  }

  /** The core, made anew if an earlier one was released; null until the wasm is loaded. */
  get() {
    if (!this.core) {
      const wasm = loadedModule();
      if (wasm) this.core = this.create(wasm);
    }
    return this.core;
  }

  /** Runs `fn(core)` now if the core exists, else once it does. */
  run(fn) {
    const core = this.get();
    if (core) return fn(core);
    this.ready.then(() => fn(this.get()));
    return undefined;
  }

  /**
   * Frees the wasm object once the stack has unwound, if its session is still over then
   * (`finished()`); the next call makes a new one. This breaks the cycle page object → wasm
   * object → event callback → page object, so a client that is done leaves nothing behind.
   */
  release() {
    const core = this.core;
    if (!core) return;
    queueMicrotask(() => {
      if (this.core === core && core.finished()) {
        this.core = null;
        core.free();
      }
    });
  }

  /** Runs `fn(core)` → op id, and returns a Promise settled by that op's events. */
  op(fn, map = (v) => v) {
    return new Promise((resolve, reject) => {
      this.run((core) => {
        const id = fn(core);
        const done = this.early.get(id);
        if (done) {
          this.early.delete(id);
          if (done[0]) resolve(map(done[1]));
          else reject(done[1]);
        } else {
          this.pending.set(id, { resolve, reject, map });
        }
      });
    });
  }

  settle(id, ok, value) {
    const p = this.pending.get(id);
    if (!p) {
      this.early.set(id, [ok, value]);
      return;
    }
    this.pending.delete(id);
    if (ok) p.resolve(p.map(value));
    else p.reject(value);
  }
}

/** Calls a page handler; an exception there is reported, never breaks the client. */
export function call(handler, self, ...args) {
  if (typeof handler !== "function") return;
  try {
    handler.apply(self, args);
  } catch (e) {
    setTimeout(() => {
      throw e;
    });
  }
}
