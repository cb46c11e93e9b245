//! Chat state notifications (XEP-0085, `http://jabber.org/protocol/chatstates`): `active`,
//! `composing`, `paused`, `inactive`, `gone` — building one and reading it from a message.

use super::xml::Element;

/// The chat states namespace.
pub const NS_CHATSTATES: &str = "http://jabber.org/protocol/chatstates";

/// The five states.
pub const STATES: [&str; 5] = ["active", "composing", "paused", "inactive", "gone"];

/// The state named `name`, if it is one.
#[must_use]
#[allow(clippy::manual_find)]
pub fn state(name: &str) -> Option<&'static str> {
    // A loop over the slice (an array iterator is one more generic in the wasm).
    for s in &STATES {
        if *s == name {
            return Some(s);
        }
    }
    None
}

/// The element for `state` (one of [`STATES`]).
#[must_use]
pub fn element(state: &str) -> Element {
    Element::new(state, NS_CHATSTATES)
}

/// The chat state a message carries.
#[must_use]
pub fn of(msg: &Element) -> Option<&'static str> {
    for c in msg.elements() {
        if c.ns == NS_CHATSTATES {
            return state(&c.name);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmpp::xml::{parse, Limits, NS_CLIENT};

    #[test]
    fn states() {
        let m = parse(
            b"<message><body>x</body><composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
            &Limits::default(),
            NS_CLIENT,
        )
        .unwrap();
        assert_eq!(of(&m), Some("composing"));
        assert_eq!(state("paused"), Some("paused"));
        assert_eq!(state("typing"), None);
        assert_eq!(
            element("gone").to_xml(),
            "<gone xmlns=\"http://jabber.org/protocol/chatstates\"/>"
        );
        let bogus = parse(
            b"<message><typing xmlns='http://jabber.org/protocol/chatstates'/></message>",
            &Limits::default(),
            NS_CLIENT,
        )
        .unwrap();
        assert_eq!(of(&bogus), None);
    }
}
