//! Browser tests (wasm-bindgen-test in headless Chromium) of the browser layer against the real
//! servers on loopback: RabbitMQ web-STOMP and Prosody's XMPP WebSocket endpoint. The servers
//! are started by `scripts/with-servers.sh`; their URLs are fixed loopback addresses, or given
//! at build time in `STOMP_WS_URL` / `XMPP_WS_URL`.
#![cfg(target_arch = "wasm32")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::cell::RefCell;
use std::rc::Rc;

use fullduplex::web::socket::{Socket, SocketEvent};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const STOMP_URL: &str = match option_env!("STOMP_WS_URL") {
    Some(u) => u,
    None => "ws://127.0.0.1:15674/ws",
};
const XMPP_URL: &str = match option_env!("XMPP_WS_URL") {
    Some(u) => u,
    None => "ws://127.0.0.1:5280/xmpp-websocket",
};

/// A socket event as recorded: a message's data is only lent to the callback, so it is copied.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    Open {
        protocol: String,
    },
    Message {
        data: Vec<u8>,
    },
    Error,
    Close {
        code: u16,
        reason: String,
        clean: bool,
    },
}

impl From<&SocketEvent<'_>> for Seen {
    fn from(e: &SocketEvent<'_>) -> Seen {
        match e {
            SocketEvent::Open { protocol } => Seen::Open {
                protocol: protocol.clone(),
            },
            SocketEvent::Message { data, .. } => Seen::Message {
                data: data.to_vec(),
            },
            SocketEvent::Error => Seen::Error,
            SocketEvent::Close {
                code,
                reason,
                clean,
            } => Seen::Close {
                code: *code,
                reason: reason.clone(),
                clean: *clean,
            },
        }
    }
}

/// Records a socket's events and wakes the test when `done` says so (or after `ms`).
struct Recorder {
    events: Rc<RefCell<Vec<Seen>>>,
    wake: Rc<RefCell<Option<js_sys::Function>>>,
}

impl Recorder {
    fn new() -> Recorder {
        Recorder {
            events: Rc::new(RefCell::new(Vec::new())),
            wake: Rc::new(RefCell::new(None)),
        }
    }

    fn handler(&self, on: impl Fn(&Seen) + 'static) -> Rc<dyn Fn(SocketEvent<'_>)> {
        let events = self.events.clone();
        let wake = self.wake.clone();
        Rc::new(move |e: SocketEvent<'_>| {
            let e = Seen::from(&e);
            on(&e);
            events.borrow_mut().push(e);
            if let Some(f) = wake.borrow_mut().take() {
                let _ = f.call0(&JsValue::NULL);
            }
        })
    }

    /// Waits until `done(events)` holds, at most `ms` milliseconds.
    async fn wait_for(&self, ms: i32, done: impl Fn(&[Seen]) -> bool) -> Vec<Seen> {
        let start = js_sys::Date::now();
        while !done(&self.events.borrow()) && js_sys::Date::now() - start < f64::from(ms) {
            let wake = self.wake.clone();
            let p = js_sys::Promise::new(&mut |resolve, _| {
                *wake.borrow_mut() = Some(resolve.clone());
                let global = js_sys::global();
                let set_timeout: js_sys::Function =
                    js_sys::Reflect::get(&global, &"setTimeout".into())
                        .unwrap()
                        .into();
                let _ = set_timeout.call2(&global, &resolve, &JsValue::from(50));
            });
            let _ = wasm_bindgen_futures::JsFuture::from(p).await;
        }
        self.events.borrow().clone()
    }
}

fn message_text(events: &[Seen]) -> String {
    let mut s = String::new();
    for e in events {
        if let Seen::Message { data, .. } = e {
            s.push_str(&String::from_utf8_lossy(data));
        }
    }
    s
}

#[wasm_bindgen_test]
fn support_check_is_true_in_a_browser() {
    assert!(fullduplex::web::is_supported());
}

#[wasm_bindgen_test]
async fn raw_stomp_connect_gets_connected_from_rabbitmq() {
    let rec = Recorder::new();
    let socket: Rc<RefCell<Option<Socket>>> = Rc::new(RefCell::new(None));
    let s2 = socket.clone();
    let handler = rec.handler(move |e| {
        if let Seen::Open { .. } = e {
            if let Some(s) = s2.borrow().as_ref() {
                s.send_text("CONNECT\naccept-version:1.2\nlogin:guest\npasscode:guest\n\n\0")
                    .unwrap();
            }
        }
    });
    *socket.borrow_mut() =
        Some(Socket::open(STOMP_URL, &["v12.stomp", "v11.stomp", "v10.stomp"], handler).unwrap());
    let events = rec
        .wait_for(10_000, |ev| message_text(ev).contains('\0'))
        .await;
    assert!(
        matches!(events.first(), Some(Seen::Open { protocol }) if protocol == "v12.stomp"),
        "first event should be open with v12.stomp: {events:?}"
    );
    let text = message_text(&events);
    assert!(text.starts_with("CONNECTED\n"), "got {text:?}");
    assert!(text.contains("\nversion:1.2\n"), "got {text:?}");
    // Dropping the socket unhooks and releases its closures.
    let before = fullduplex::web::socket::live_handlers();
    socket.borrow_mut().take();
    assert_eq!(fullduplex::web::socket::live_handlers() + 4, before);
}

#[wasm_bindgen_test]
async fn prosody_answers_open_with_open() {
    let rec = Recorder::new();
    let socket: Rc<RefCell<Option<Socket>>> = Rc::new(RefCell::new(None));
    let s2 = socket.clone();
    let handler = rec.handler(move |e| {
        if let Seen::Open { .. } = e {
            if let Some(s) = s2.borrow().as_ref() {
                s.send_text(
                    "<open xmlns=\"urn:ietf:params:xml:ns:xmpp-framing\" to=\"localhost\" version=\"1.0\"/>",
                )
                .unwrap();
            }
        }
    });
    *socket.borrow_mut() = Some(Socket::open(XMPP_URL, &["xmpp"], handler).unwrap());
    let events = rec
        .wait_for(10_000, |ev| message_text(ev).contains("<open"))
        .await;
    assert!(
        matches!(events.first(), Some(Seen::Open { protocol }) if protocol == "xmpp"),
        "{events:?}"
    );
    let text = message_text(&events);
    assert!(
        text.contains("urn:ietf:params:xml:ns:xmpp-framing"),
        "{text}"
    );
    assert!(
        text.contains("from=\"localhost\"") || text.contains("from='localhost'"),
        "{text}"
    );
}

#[wasm_bindgen_test]
async fn refused_connection_is_an_error_then_close_not_a_hang() {
    let rec = Recorder::new();
    // Port 9 on loopback: nothing listens there.
    let _socket = Socket::open("ws://127.0.0.1:9/", &[], rec.handler(|_| {})).unwrap();
    let events = rec
        .wait_for(10_000, |ev| {
            ev.iter().any(|e| matches!(e, Seen::Close { .. }))
        })
        .await;
    assert_eq!(events.first(), Some(&Seen::Error), "{events:?}");
    assert!(
        matches!(
            events.last(),
            Some(Seen::Close {
                code: 1006,
                clean: false,
                ..
            })
        ),
        "{events:?}"
    );
}

#[wasm_bindgen_test]
fn a_bad_url_is_an_error_value() {
    let r = Socket::open("ftp://127.0.0.1/", &[], Rc::new(|_| {}));
    assert!(matches!(r, Err(fullduplex::web::error::WebError::Open(_))));
}
