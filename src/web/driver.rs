//! Runs a sans-IO protocol core over a browser [`Socket`] and one [`Timeout`].
//!
//! [`Driver`] feeds socket events, the time and the page's environment (network `online` /
//! `offline`, page visibility) into the core, then drains it: frames to the socket, requests
//! to open a new socket (reconnection: the core decides when and where, the driver only
//! opens it), events to the client's handler, and its next deadline into the single timer
//! (re-armed only when the deadline comes earlier: a timer that fires early is harmless to
//! the cores). A client may take WebSocket messages itself ([`Driver::on_data`]) and batch
//! what the core hands out ([`Driver::on_drained`]). Events are handed out only after the core is released, so a JavaScript handler may call
//! straight back into the client. The socket's, the timer's and the listeners' closures hold
//! only weak references, so dropping the client frees everything; [`stats`] counts what is
//! alive, for leak tests.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::socket::{Socket, SocketEvent};
use super::timer::Timeout;
use crate::time::Millis;

/// One thing a core asks the socket to do.
pub enum Wire {
    /// Send one message, as a text frame when `text` (the bytes are then valid UTF-8).
    Frame { data: Vec<u8>, text: bool },
    /// Close the socket.
    Close { code: u16, reason: &'static str },
    /// Open a new socket to `url` offering `protocols`, replacing the current one.
    Open {
        url: String,
        protocols: Vec<&'static str>,
    },
}

/// What the driver needs of a sans-IO core.
pub trait Protocol: 'static {
    type Event;
    fn handle_open(&mut self, now: Millis, protocol: &str);
    fn handle_data(&mut self, now: Millis, data: &[u8]);
    fn handle_close(&mut self, now: Millis, code: u16, reason: &str, clean: bool);
    fn handle_timeout(&mut self, now: Millis);
    fn poll_wire(&mut self) -> Option<Wire>;
    fn poll_event(&mut self) -> Option<Self::Event>;
    fn poll_timeout(&self) -> Option<Millis>;
    /// The browser refused to create the socket (bad URL, blocked port): by default a close.
    fn handle_open_failed(&mut self, now: Millis, reason: &str) {
        self.handle_close(now, 1006, reason, false);
    }
    /// The network went away (`false`) or came back (`true`).
    fn handle_network(&mut self, _now: Millis, _online: bool) {}
    /// The page became visible (`true`) or hidden.
    fn handle_visibility(&mut self, _now: Millis, _visible: bool) {}
}

/// Receives each event, with the driver so it can issue commands in reply.
pub type EventHandler<P> = Rc<dyn Fn(&Driver<P>, <P as Protocol>::Event)>;
/// Receives each frame in (`false`) and out (`true`), when debugging is on.
pub type DebugHook = Rc<dyn Fn(bool, &[u8])>;
/// Takes over a WebSocket message from `Protocol::handle_data` (see [`Driver::on_data`]).
pub type DataHook<P> = Rc<dyn Fn(&mut P, Millis, &Incoming<'_>)>;

/// One WebSocket message, for a [`DataHook`].
pub struct Incoming<'a> {
    /// Its bytes (a text message's as UTF-8).
    pub data: &'a [u8],
    /// Whether it arrived as a binary frame.
    pub binary: bool,
    /// Whether it arrived as a text frame of ASCII characters only: then a byte offset into
    /// `data` is also an offset into the string that `source` gives.
    pub ascii: bool,
    /// Gives the browser's own data: the string, or the `ArrayBuffer` that `data` was copied
    /// from (a call into JavaScript: ask only when needed).
    pub source: &'a dyn Fn() -> JsValue,
}

thread_local! {
    static LIVE_DRIVERS: Cell<usize> = const { Cell::new(0) };
    static LIVE_LISTENERS: Cell<usize> = const { Cell::new(0) };
}

fn count(cell: &'static std::thread::LocalKey<Cell<usize>>, up: bool) {
    cell.with(|c| {
        c.set(if up {
            c.get().saturating_add(1)
        } else {
            c.get().saturating_sub(1)
        });
    });
}

#[wasm_bindgen]
extern "C" {
    /// Any `EventTarget` (the global scope, `document`).
    type Target;
    #[wasm_bindgen(method, js_name = addEventListener)]
    fn add_event_listener(this: &Target, kind: &str, listener: &js_sys::Function);
    #[wasm_bindgen(method, js_name = removeEventListener)]
    fn remove_event_listener(this: &Target, kind: &str, listener: &js_sys::Function);
}

fn global_get(name: &str) -> Option<JsValue> {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str(name))
        .ok()
        .filter(JsValue::is_object)
}

fn property_bool(target: &JsValue, name: &str) -> Option<bool> {
    js_sys::Reflect::get(target, &JsValue::from_str(name))
        .ok()?
        .as_bool()
}

/// A listener added to an `EventTarget`, removed when dropped.
struct Listener {
    target: Target,
    kind: &'static str,
    closure: Closure<dyn FnMut(JsValue)>,
}

impl Listener {
    fn add(target: &JsValue, kind: &'static str, f: impl FnMut(JsValue) + 'static) -> Listener {
        let target: Target = target.clone().unchecked_into();
        let closure = Closure::<dyn FnMut(JsValue)>::new(f);
        target.add_event_listener(kind, closure.as_ref().unchecked_ref());
        count(&LIVE_LISTENERS, true);
        Listener {
            target,
            kind,
            closure,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.target
            .remove_event_listener(self.kind, self.closure.as_ref().unchecked_ref());
        count(&LIVE_LISTENERS, false);
    }
}

struct Shared<P: Protocol> {
    core: P,
    socket: Option<Socket>,
    timer: Option<(Millis, Timeout)>,
    on_event: EventHandler<P>,
    debug: Option<DebugHook>,
    /// Called after each run of events has been handed out (see [`Driver::on_drained`]).
    drained: Option<Rc<dyn Fn()>>,
    /// Takes WebSocket messages instead of `handle_data` (see [`Driver::on_data`]).
    on_data: Option<DataHook<P>>,
    /// Whether the last socket message was a binary frame.
    binary_input: bool,
    listeners: Vec<Listener>,
}

impl<P: Protocol> Drop for Shared<P> {
    fn drop(&mut self) {
        count(&LIVE_DRIVERS, false);
    }
}

/// A core bound to its socket and timer. Cloning gives another handle to the same session.
pub struct Driver<P: Protocol> {
    shared: Rc<RefCell<Shared<P>>>,
}

impl<P: Protocol> Clone for Driver<P> {
    fn clone(&self) -> Self {
        Driver {
            shared: self.shared.clone(),
        }
    }
}

impl<P: Protocol> Driver<P> {
    /// Wraps `core` and starts watching the network and the page's visibility; nothing is
    /// opened yet.
    pub fn new(core: P, on_event: EventHandler<P>, debug: Option<DebugHook>) -> Driver<P> {
        count(&LIVE_DRIVERS, true);
        let driver = Driver {
            shared: Rc::new(RefCell::new(Shared {
                core,
                socket: None,
                timer: None,
                on_event,
                debug,
                drained: None,
                on_data: None,
                binary_input: false,
                listeners: Vec::new(),
            })),
        };
        driver.watch_environment();
        driver
    }

    fn watch_environment(&self) {
        let mut listeners = Vec::new();
        let global = js_sys::global();
        for (kind, online) in [("online", true), ("offline", false)] {
            let weak = Rc::downgrade(&self.shared);
            listeners.push(Listener::add(&global, kind, move |_e| {
                if let Some(driver) = upgrade(&weak) {
                    driver.with(|c| c.handle_network(super::now(), online));
                }
            }));
        }
        if let Some(doc) = global_get("document") {
            let weak = Rc::downgrade(&self.shared);
            let doc_for_state = doc.clone();
            listeners.push(Listener::add(&doc, "visibilitychange", move |_e| {
                let Some(driver) = upgrade(&weak) else { return };
                let visible = !property_bool(&doc_for_state, "hidden").unwrap_or(false);
                // Re-arm so the timer moves to (or off) the background-proof ticker.
                driver.shared.borrow_mut().timer = None;
                driver.with(|c| c.handle_visibility(super::now(), visible));
            }));
        }
        let offline = global_get("navigator")
            .and_then(|n| property_bool(&n, "onLine"))
            .is_some_and(|on| !on);
        let mut shared = self.shared.borrow_mut();
        shared.listeners = listeners;
        if offline {
            shared.core.handle_network(super::now(), false);
        }
    }

    /// Opens a WebSocket to `url` (replacing any current one). A URL the browser refuses is
    /// reported to the core at once (`handle_open_failed`), so queued commands fail instead
    /// of hanging.
    pub fn open(&self, url: &str, protocols: &[&str]) {
        {
            let mut shared = self.shared.borrow_mut();
            let now = super::now();
            if let Err(reason) = open_socket(&self.shared, &mut shared, url, protocols) {
                shared.core.handle_open_failed(now, &reason);
            }
        }
        self.pump();
    }

    /// Sets `hook`, called once each time the core has been drained (after the events of a
    /// run were handed to the event handler, and also when there were none): a client that
    /// batches what it receives (STOMP MESSAGEs) delivers the batch there, so one WebSocket
    /// message carrying many frames makes one call into JavaScript.
    pub fn on_drained(&self, hook: Rc<dyn Fn()>) {
        self.shared.borrow_mut().drained = Some(hook);
    }

    /// Sets `hook` to receive each WebSocket message with the core instead of
    /// `Protocol::handle_data`, along with the browser's own data (see [`Incoming`]). It runs
    /// while the core is borrowed: it must not call into JavaScript.
    pub fn on_data(&self, hook: DataHook<P>) {
        self.shared.borrow_mut().on_data = Some(hook);
    }

    /// Whether the last WebSocket message in was a binary frame (events made from it are
    /// handed out before the next one arrives).
    #[must_use]
    pub fn binary_input(&self) -> bool {
        self.shared.borrow().binary_input
    }

    /// Runs `f` on the core (a command), then delivers what it produced.
    pub fn with<R>(&self, f: impl FnOnce(&mut P) -> R) -> R {
        let r = f(&mut self.shared.borrow_mut().core);
        self.pump();
        r
    }

    /// Reads the core without driving it.
    pub fn peek<R>(&self, f: impl FnOnce(&P) -> R) -> R {
        f(&self.shared.borrow().core)
    }

    /// Drains the core: frames to the socket, the deadline to the timer, events to the handler.
    fn pump(&self) {
        loop {
            let (events, on_event, drained) = {
                let mut guard = self.shared.borrow_mut();
                let shared = &mut *guard;
                while let Some(wire) = shared.core.poll_wire() {
                    match wire {
                        Wire::Frame { data, text } => {
                            if let Some(hook) = &shared.debug {
                                hook(true, &data);
                            }
                            if let Some(socket) = &shared.socket {
                                // A failed send means the socket is closing; its close event
                                // follows and the core decides then about what is pending.
                                let _ = match core::str::from_utf8(&data) {
                                    Ok(s) if text => socket.send_text(s),
                                    _ => socket.send_binary(&data),
                                };
                            }
                        }
                        Wire::Close { code, reason } => {
                            if let Some(socket) = &shared.socket {
                                socket.close(code, reason);
                            }
                        }
                        Wire::Open { url, protocols } => {
                            let now = super::now();
                            if let Err(reason) = open_socket(&self.shared, shared, &url, &protocols)
                            {
                                shared.core.handle_open_failed(now, &reason);
                            }
                        }
                    }
                }
                let mut events = Vec::new();
                while let Some(e) = shared.core.poll_event() {
                    events.push(e);
                }
                self.arm_timer(shared);
                (events, shared.on_event.clone(), shared.drained.clone())
            };
            let idle = events.is_empty();
            for e in events {
                on_event(self, e);
            }
            if let Some(hook) = drained {
                hook();
            }
            if idle {
                return;
            }
        }
    }

    fn arm_timer(&self, shared: &mut Shared<P>) {
        let deadline = shared.core.poll_timeout();
        // A timer that fires no later than the new deadline is kept: the cores ignore a
        // timeout that comes early, and the pump after it arms the next one. So a deadline
        // that moves on with every message (heart-beats) costs one wake-up per period, not a
        // clearTimeout and setTimeout per message.
        let armed = shared.timer.as_ref().map(|(d, _)| *d);
        if armed.is_some_and(|a| deadline.is_some_and(|d| a <= d)) {
            return;
        }
        shared.timer = None;
        let Some(deadline) = deadline else { return };
        let weak = Rc::downgrade(&self.shared);
        let wait = deadline.since(super::now());
        let fire = move || {
            if let Some(driver) = upgrade(&weak) {
                driver.shared.borrow_mut().timer = None;
                driver.with(|core| core.handle_timeout(super::now()));
            }
        };
        if let Ok(t) = Timeout::new(wait, fire) {
            shared.timer = Some((deadline, t));
        }
    }
}

fn upgrade<P: Protocol>(weak: &Weak<RefCell<Shared<P>>>) -> Option<Driver<P>> {
    weak.upgrade().map(|shared| Driver { shared })
}

/// Replaces the driver's socket with a new one to `url`; the browser's message on refusal.
fn open_socket<P: Protocol>(
    rc: &Rc<RefCell<Shared<P>>>,
    shared: &mut Shared<P>,
    url: &str,
    protocols: &[&str],
) -> Result<(), String> {
    // The old socket's handlers go with it, so its close never reaches the core.
    shared.socket = None;
    let weak = Rc::downgrade(rc);
    let handler = Rc::new(move |e: SocketEvent<'_>| on_socket_event(&weak, e));
    let socket = Socket::open(url, protocols, handler).map_err(|e| {
        // The browser's message quotes the URL: never hand its user:password@ to the page.
        let masked = crate::reconnect::redact_url(url);
        replace_all(e.message(), url, &masked)
    })?;
    shared.socket = Some(socket);
    Ok(())
}

/// `text` with each `from` replaced by `to` (`str::replace` would pull the two-way string
/// searcher, with its panic paths, into the wasm).
fn replace_all(text: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    if !from.is_empty() && from != to {
        while let Some(at) = rest
            .as_bytes()
            .windows(from.len())
            .position(|w| w == from.as_bytes())
        {
            let (head, tail) = rest.split_at_checked(at).unwrap_or((rest, ""));
            out.push_str(head);
            out.push_str(to);
            rest = tail.get(from.len()..).unwrap_or("");
        }
    }
    out.push_str(rest);
    out
}

fn on_socket_event<P: Protocol>(weak: &Weak<RefCell<Shared<P>>>, event: SocketEvent<'_>) {
    let Some(driver) = upgrade(weak) else { return };
    let now = match &event {
        SocketEvent::Message { at, .. } => *at,
        _ => super::now(),
    };
    match event {
        SocketEvent::Open { protocol } => driver.with(|c| c.handle_open(now, &protocol)),
        SocketEvent::Message {
            data,
            binary,
            ascii,
            source,
            ..
        } => {
            let (hook, on_data) = {
                let mut shared = driver.shared.borrow_mut();
                shared.binary_input = binary;
                (shared.debug.clone(), shared.on_data.clone())
            };
            if let Some(hook) = hook {
                hook(false, data);
            }
            match on_data {
                Some(f) => driver.with(|c| {
                    f(
                        c,
                        now,
                        &Incoming {
                            data,
                            binary,
                            ascii,
                            source,
                        },
                    );
                }),
                None => driver.with(|c| c.handle_data(now, data)),
            }
        }
        // Always followed by a close event, which carries what there is to know.
        SocketEvent::Error => {}
        SocketEvent::Close {
            code,
            reason,
            clean,
        } => {
            let socket = driver.shared.borrow_mut().socket.take();
            // The core may schedule a reconnect here: the timer is re-armed by the pump.
            driver.with(|c| c.handle_close(now, code, &reason, clean));
            drop(socket);
        }
    }
}

/// Live resources, for leak tests: `{ wasmMemory, socketHandlers, timers, listeners,
/// drivers, ticker, stompCores }` (bytes of wasm memory; socket event closures; armed
/// timeouts; network/visibility listeners; sessions with a driver; the background ticker's
/// state; `StompCore` objects not yet freed).
#[wasm_bindgen(js_name = __stats)]
#[must_use]
pub fn stats() -> js_sys::Object {
    let o = js_sys::Object::new();
    let memory = js_sys::Reflect::get(&wasm_bindgen::memory(), &JsValue::from_str("buffer"))
        .and_then(|b| js_sys::Reflect::get(&b, &JsValue::from_str("byteLength")))
        .unwrap_or(JsValue::UNDEFINED);
    let set = |k: &str, v: JsValue| {
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &v);
    };
    let num = |n: usize| JsValue::from(u32::try_from(n).unwrap_or(u32::MAX));
    set("wasmMemory", memory);
    set("socketHandlers", num(super::socket::live_handlers()));
    set("timers", num(super::timer::live_timeouts()));
    set("listeners", num(LIVE_LISTENERS.with(Cell::get)));
    set("drivers", num(LIVE_DRIVERS.with(Cell::get)));
    set("ticker", JsValue::from_str(super::timer::ticker_state()));
    #[cfg(feature = "stomp")]
    set("stompCores", num(super::stomp_client::live_cores()));
    o
}

/// Test hook: `"worker"` sends every timeout through the background ticker, `"timeout"`
/// none, anything else (`"auto"`) only while the page is hidden.
#[wasm_bindgen(js_name = __setTicker)]
pub fn set_ticker(mode: &str) {
    super::timer::set_ticker_mode(match mode {
        "worker" => super::timer::TickerMode::Always,
        "timeout" => super::timer::TickerMode::Never,
        _ => super::timer::TickerMode::WhenHidden,
    });
}

#[cfg(test)]
mod tests {
    use super::replace_all;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn replace_all_masks_every_occurrence() {
        let url = "ws://u:p@h/ws";
        let msg = "The URL 'ws://u:p@h/ws' is invalid (ws://u:p@h/ws)";
        assert_eq!(
            replace_all(msg, url, "ws://***@h/ws"),
            "The URL 'ws://***@h/ws' is invalid (ws://***@h/ws)"
        );
        assert_eq!(replace_all("abc", "", "x"), "abc");
        assert_eq!(replace_all("abc", "abcd", "x"), "abc");
        assert_eq!(replace_all("aaa", "a", "b"), "bbb");
        assert_eq!(replace_all("é-é", "é", "e"), "e-e");
    }
}
