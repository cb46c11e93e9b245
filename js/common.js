// Helpers shared by the client classes: lazy wasm start-up, op-id → Promise bookkeeping and
// header conversions. No protocol logic: the wasm core decides what goes on the wire.
import { load, loadedModule } from "./loader.js";

/**
 * Owns one wasm core object for a JS client: creates it once the module is loaded, runs
 * calls made before then in order, and turns op ids into Promises.
 */
export class CoreHandle {
  constructor(create) {
    this.core = null;
    this.pending = new Map(); // op id → { resolve, reject, map }
    this.early = new Map(); // op id → [ok, value] settled before the caller registered it
    const wasm = loadedModule();
    if (wasm) {
      this.core = create(wasm);
      this.ready = Promise.resolve();
    } else {
      this.ready = load().then((w) => {
        this.core = create(w);
      });
    }
  }

  /** Runs `fn(core)` now if the core exists, else once it does. */
  run(fn) {
    if (this.core) return fn(this.core);
    this.ready.then(() => fn(this.core));
    return undefined;
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
