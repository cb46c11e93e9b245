//! What the XMPP transcript tests share (tests/xmpp_session.rs, xmpp_ext.rs,
//! xmpp_reconnect.rs): draining a session's output as text (`texts`, `one`) and events,
//! feeding it server XML, parsing XML for assertions, and the caps element our presences carry.
//! Included with `#[path = "common/xmpp.rs"] mod common;`; each test file keeps its own
//! configurations and server scripts.
#![allow(dead_code)]

use fullduplex::time::Millis;
use fullduplex::xmpp::xml::{self, Element, Limits, NS_CLIENT};
use fullduplex::xmpp::{disco, Event, Session, Transmit};

/// Everything the session wants sent, as text: stanzas as they are, a close as
/// `CLOSE <code> <reason>`, a socket to open as `OPEN <url>`.
pub fn texts(s: &mut Session) -> Vec<String> {
    let mut v = Vec::new();
    while let Some(t) = s.poll_transmit() {
        v.push(match t {
            Transmit::Text(x) => x,
            Transmit::Close { code, reason } => format!("CLOSE {code} {reason}"),
            Transmit::Open { url } => format!("OPEN {url}"),
        });
    }
    v
}

/// The one thing the session wants sent (fails unless exactly one).
pub fn one(s: &mut Session) -> String {
    let v = texts(s);
    assert_eq!(v.len(), 1, "{v:?}");
    v.into_iter().next().unwrap()
}

/// Every pending event.
pub fn events(s: &mut Session) -> Vec<Event> {
    let mut v = Vec::new();
    while let Some(e) = s.poll_event() {
        v.push(e);
    }
    v
}

/// Server XML in, as one WebSocket message.
pub fn feed(s: &mut Session, now: Millis, x: &str) {
    s.handle_data(now, x.as_bytes());
}

/// Parses `x` (for assertions on attributes and children).
pub fn el(x: &str) -> Element {
    xml::parse(x.as_bytes(), &Limits::default(), NS_CLIENT).unwrap()
}

/// The entity capabilities element our available presences carry.
pub fn caps() -> String {
    disco::caps(&disco::ver(true)).to_xml()
}
