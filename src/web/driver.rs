//! Runs a sans-IO protocol core over a browser [`Socket`] and one [`Timeout`].
//!
//! [`Driver`] feeds socket events and the time into the core, then drains it: frames to the
//! socket, events to the client's handler, and its next deadline into the single timer. Events
//! are handed out only after the core is released, so a JavaScript handler may call straight
//! back into the client. The socket's and the timer's closures hold only weak references, so
//! dropping the client frees everything.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use super::socket::{Socket, SocketEvent};
use super::timer::Timeout;
use crate::time::Millis;

/// One thing a core asks the socket to do.
pub enum Wire {
    /// Send one message, as a text frame when `text` (the bytes are then valid UTF-8).
    Frame { data: Vec<u8>, text: bool },
    /// Close the socket.
    Close { code: u16, reason: &'static str },
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
}

/// Receives each event, with the driver so it can issue commands in reply.
pub type EventHandler<P> = Rc<dyn Fn(&Driver<P>, <P as Protocol>::Event)>;
/// Receives each frame in (`false`) and out (`true`), when debugging is on.
pub type DebugHook = Rc<dyn Fn(bool, &[u8])>;

struct Shared<P: Protocol> {
    core: P,
    socket: Option<Socket>,
    timer: Option<(Millis, Timeout)>,
    on_event: EventHandler<P>,
    debug: Option<DebugHook>,
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
    /// Wraps `core`; nothing is opened yet.
    pub fn new(core: P, on_event: EventHandler<P>, debug: Option<DebugHook>) -> Driver<P> {
        Driver {
            shared: Rc::new(RefCell::new(Shared {
                core,
                socket: None,
                timer: None,
                on_event,
                debug,
            })),
        }
    }

    /// Opens the WebSocket. A URL the browser refuses closes the session at once (code 1006,
    /// with the browser's message as reason), so queued commands fail instead of hanging.
    pub fn open(&self, url: &str, protocols: &[&str]) {
        let weak = Rc::downgrade(&self.shared);
        let handler = Rc::new(move |e: SocketEvent| on_socket_event(&weak, e));
        match Socket::open(url, protocols, handler) {
            Ok(socket) => self.shared.borrow_mut().socket = Some(socket),
            Err(e) => {
                let now = super::now();
                self.shared
                    .borrow_mut()
                    .core
                    .handle_close(now, 1006, e.message(), false);
            }
        }
        self.pump();
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
            let (events, on_event) = {
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
                                // follows and the core fails what is still pending then.
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
                    }
                }
                let mut events = Vec::new();
                while let Some(e) = shared.core.poll_event() {
                    events.push(e);
                }
                self.arm_timer(shared);
                (events, shared.on_event.clone())
            };
            if events.is_empty() {
                return;
            }
            for e in events {
                on_event(self, e);
            }
        }
    }

    fn arm_timer(&self, shared: &mut Shared<P>) {
        let deadline = shared.core.poll_timeout();
        if shared.timer.as_ref().map(|(d, _)| *d) == deadline {
            return;
        }
        shared.timer = None;
        let Some(deadline) = deadline else { return };
        let weak = Rc::downgrade(&self.shared);
        let wait = deadline.since(super::now());
        let fire = move || {
            if let Some(shared) = weak.upgrade() {
                let driver = Driver { shared };
                driver.shared.borrow_mut().timer = None;
                driver.with(|core| core.handle_timeout(super::now()));
            }
        };
        if let Ok(t) = Timeout::new(wait, fire) {
            shared.timer = Some((deadline, t));
        }
    }
}

fn on_socket_event<P: Protocol>(weak: &Weak<RefCell<Shared<P>>>, event: SocketEvent) {
    let Some(shared) = weak.upgrade() else { return };
    let driver = Driver { shared };
    let now = super::now();
    match event {
        SocketEvent::Open { protocol } => driver.with(|c| c.handle_open(now, &protocol)),
        SocketEvent::Message { data, .. } => {
            let hook = driver.shared.borrow().debug.clone();
            if let Some(hook) = hook {
                hook(false, &data);
            }
            driver.with(|c| c.handle_data(now, &data));
        }
        // Always followed by a close event, which carries what there is to know.
        SocketEvent::Error => {}
        SocketEvent::Close {
            code,
            reason,
            clean,
        } => {
            let socket = driver.shared.borrow_mut().socket.take();
            driver.with(|c| c.handle_close(now, code, &reason, clean));
            drop(socket);
            driver.shared.borrow_mut().timer = None;
        }
    }
}
