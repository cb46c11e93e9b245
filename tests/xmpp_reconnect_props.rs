#![cfg(feature = "xmpp")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::as_conversions
)]
//! Property test of automatic reconnection: a session with URLs against a scripted server
//! (PLAIN, optional stream management that never resumes) under random drops, refused
//! sockets, network and visibility changes, sends, timer runs and a `disconnect`. Whatever
//! happens: no panic; every message the page got an `Ok` for is sent on a socket or handed
//! back (`Undelivered` / `Unacknowledged`), first sends in the order given; no socket is asked
//! for after `disconnect`, and only later commands' results follow `Closed`.

use fullduplex::reconnect::ReconnectConfig;
use fullduplex::time::Millis;
use fullduplex::xmpp::xml::{self, Limits, NS_CLIENT};
use fullduplex::xmpp::{Config, Credentials, Event, Mechanism, Session, Transmit};
use proptest::prelude::*;

const SERVER_OPEN: &str =
    "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' id='s1' version='1.0'/>";
const PLAIN_FEATURES: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>";
const SM_FEATURES: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>";
const BIND_ONLY: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>";

#[derive(Clone, Debug)]
enum Step {
    Send,
    Drop,
    /// Accept (`true`) or refuse a socket the session asked for.
    Socket(bool),
    /// The server answers what the client sent (`true`: with stream management).
    Answer(bool),
    Timer,
    Network(bool),
    Visible(bool),
    Disconnect,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => Just(Step::Send),
        2 => Just(Step::Drop),
        3 => any::<bool>().prop_map(Step::Socket),
        5 => any::<bool>().prop_map(Step::Answer),
        4 => Just(Step::Timer),
        1 => any::<bool>().prop_map(Step::Network),
        1 => any::<bool>().prop_map(Step::Visible),
    ]
}

struct World {
    s: Session,
    now: Millis,
    /// Client output not yet answered.
    inbox: Vec<String>,
    /// A socket was asked for and not yet opened or refused.
    want_socket: bool,
    socket_open: bool,
    authed: bool,
    /// Bodies of messages written on a socket, first time each.
    written: Vec<String>,
    /// Bodies handed back by events.
    returned: Vec<String>,
    closed: bool,
    disconnected: bool,
}

fn body_of(x: &str) -> Option<String> {
    let el = xml::parse(x.as_bytes(), &Limits::default(), NS_CLIENT).ok()?;
    (el.name == "message").then(|| el.child("body", NS_CLIENT).map(|b| b.text()))?
}

impl World {
    fn drain(&mut self) {
        while let Some(t) = self.s.poll_transmit() {
            match t {
                Transmit::Text(x) => {
                    assert!(self.socket_open, "text without a socket: {x}");
                    if let Some(b) = body_of(&x) {
                        if !self.written.contains(&b) {
                            self.written.push(b);
                        }
                    }
                    self.inbox.push(x);
                }
                Transmit::Close { .. } => {
                    if self.socket_open {
                        self.socket_open = false;
                        self.inbox.clear();
                        self.s.handle_close(self.now, 1000, "", true);
                    } else if self.want_socket {
                        self.want_socket = false;
                        self.s.handle_close(self.now, 1006, "", false);
                    }
                }
                Transmit::Open { url } => {
                    assert!(!self.disconnected, "a socket asked for after disconnect");
                    assert!(!self.closed, "a socket asked for after Closed");
                    assert!(url.starts_with("ws"));
                    assert!(!self.socket_open && !self.want_socket);
                    self.want_socket = true;
                }
            }
        }
        while let Some(e) = self.s.poll_event() {
            // After Closed only commands issued later may still complete or fail.
            assert!(
                !self.closed || matches!(e, Event::Completed { .. } | Event::Failed { .. }),
                "event after Closed: {e:?}"
            );
            match e {
                Event::Undelivered { stanzas } | Event::Unacknowledged { stanzas } => {
                    self.returned
                        .extend(stanzas.iter().filter_map(|x| body_of(x)));
                }
                Event::Closed { .. } => self.closed = true,
                _ => {}
            }
        }
    }

    fn answer(&mut self, sm: bool) {
        for x in std::mem::take(&mut self.inbox) {
            let reply = if x.starts_with("<open ") {
                let f = if !self.authed {
                    PLAIN_FEATURES
                } else if sm {
                    SM_FEATURES
                } else {
                    BIND_ONLY
                };
                format!("{SERVER_OPEN}\n{f}")
            } else if x.starts_with("<auth ") {
                self.authed = true;
                "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>".to_owned()
            } else if x.starts_with("<enable ") {
                "<enabled xmlns='urn:xmpp:sm:3' id='x' resume='true'/>".to_owned()
            } else if x.starts_with("<resume ") {
                "<failed xmlns='urn:xmpp:sm:3'/>".to_owned()
            } else if x.starts_with("<iq ") && x.contains("urn:ietf:params:xml:ns:xmpp-bind") {
                let id = x.split("id=\"").nth(1).unwrap().split('"').next().unwrap();
                format!("<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@example.com/web</jid></bind></iq>")
            } else {
                continue;
            };
            for part in reply.split('\n') {
                self.s.handle_data(self.now, part.as_bytes());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn reconnection_never_loses_or_reorders_silently(
        steps in proptest::collection::vec(step(), 0..100),
        seed in any::<u64>(),
        disconnect_at in 0usize..200,
    ) {
        let mut c = Config::new("example.com");
        c.credentials = Some(Credentials {
            username: "user".into(),
            password: "pencil".into(),
            resource: None,
        });
        c.mechanisms = vec![Mechanism::Plain];
        c.transport_secure = true;
        c.urls = vec!["wss://a/ws".into(), "wss://b/ws".into()];
        c.reconnect = ReconnectConfig { enabled: true, initial_delay_ms: 100, max_delay_ms: 1000, max_attempts: 0 };
        c.reconnect_seed = seed;
        let mut w = World {
            s: Session::new(c, [3; 32]),
            now: Millis(0),
            inbox: Vec::new(),
            want_socket: true,
            socket_open: false,
            authed: false,
            written: Vec::new(),
            returned: Vec::new(),
            closed: false,
            disconnected: false,
        };
        let mut accepted = Vec::new();
        let mut n = 0u32;
        for (i, mut st) in steps.into_iter().enumerate() {
            if i == disconnect_at {
                st = Step::Disconnect;
            }
            w.now = w.now + 7;
            match st {
                Step::Send => {
                    n += 1;
                    let body = format!("m{n}");
                    if w.s.send_message("bob@example.com", &body, None, None, None).is_ok() {
                        accepted.push(body);
                    }
                }
                Step::Drop => {
                    if w.socket_open {
                        w.socket_open = false;
                        w.inbox.clear();
                        w.s.handle_close(w.now, 1006, "", false);
                    }
                }
                Step::Socket(ok) => {
                    if w.want_socket {
                        w.want_socket = false;
                        w.authed = false;
                        if ok {
                            w.socket_open = true;
                            w.s.handle_open(w.now);
                        } else {
                            w.s.handle_close(w.now, 1006, "", false);
                        }
                    }
                }
                Step::Answer(sm) => {
                    // The server answers until the client has nothing more to say.
                    for _ in 0..8 {
                        w.drain();
                        if w.inbox.is_empty() {
                            break;
                        }
                        w.answer(sm);
                    }
                }
                Step::Timer => {
                    if let Some(t) = w.s.poll_timeout() {
                        prop_assert!(t.0 < w.now.0 + 100_000);
                        w.now = Millis(t.0.max(w.now.0));
                        w.s.handle_timeout(w.now);
                    }
                }
                Step::Network(on) => w.s.handle_network(w.now, on),
                Step::Visible(v) => w.s.handle_visibility(w.now, v),
                Step::Disconnect => {
                    let _ = w.s.disconnect(w.now);
                    w.disconnected = true;
                }
            }
            w.drain();
        }
        // End it: disconnect, then let the close handshake and timers finish.
        let _ = w.s.disconnect(w.now);
        w.disconnected = true;
        for _ in 0..10 {
            w.drain();
            if w.socket_open {
                w.s.handle_data(w.now, b"<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
            } else if w.want_socket {
                w.want_socket = false;
                w.s.handle_close(w.now, 1006, "", false);
            }
            if let Some(t) = w.s.poll_timeout() {
                w.now = Millis(t.0.max(w.now.0));
                w.s.handle_timeout(w.now);
            }
        }
        w.drain();
        prop_assert!(w.closed, "the session ended");
        for b in &accepted {
            prop_assert!(
                w.written.contains(b) || w.returned.contains(b),
                "{b} neither sent nor handed back"
            );
        }
        // First sends in the order given.
        let order: Vec<usize> = w
            .written
            .iter()
            .filter_map(|b| accepted.iter().position(|a| a == b))
            .collect();
        prop_assert!(order.windows(2).all(|p| p[0] < p[1]), "{:?}", w.written);
    }
}
