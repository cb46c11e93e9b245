//! Message carbons (XEP-0280, `urn:xmpp:carbons:2`): the enable/disable payloads and the
//! unwrapping of carbon copies, which are only believed when they come from the account's own
//! bare JID (anyone else could forge "a message you sent").
//!
//! The session delivers an accepted copy as a message marked `sent` or `received` and drops a
//! forged one.

use super::jid::Jid;
use super::xml::{Element, NS_CLIENT};

/// The carbons namespace.
pub const NS_CARBONS: &str = "urn:xmpp:carbons:2";
/// Stanza forwarding (XEP-0297), which wraps carbons and archive results.
pub const NS_FORWARD: &str = "urn:xmpp:forward:0";

/// `<enable/>` or `<disable/>` for an IQ set.
#[must_use]
pub fn toggle(enable: bool) -> Element {
    Element::new(if enable { "enable" } else { "disable" }, NS_CARBONS)
}

/// What a message is with respect to carbons.
#[derive(Debug, PartialEq, Eq)]
pub enum Carbon<'a> {
    /// Not a carbon copy.
    No,
    /// A well-formed copy from our own account: `"sent"` or `"received"`, and the message.
    Copy(&'static str, &'a Element),
    /// Looks like a carbon but is not from our account (or is malformed): drop it.
    Forged,
}

/// The forwarded `<message/>` inside `<forwarded xmlns='urn:xmpp:forward:0'>`.
#[must_use]
pub fn forwarded_message(wrapper: &Element) -> Option<&Element> {
    wrapper
        .child("forwarded", NS_FORWARD)?
        .child("message", NS_CLIENT)
}

/// Classifies `msg` for the account `me`.
#[must_use]
pub fn classify<'a>(msg: &'a Element, me: Option<&Jid>) -> Carbon<'a> {
    let mut found = None;
    for d in &["sent", "received"] {
        if let Some(w) = msg.child(d, NS_CARBONS) {
            found = Some((*d, w));
            break;
        }
    }
    let Some((dir, wrapper)) = found else {
        return Carbon::No;
    };
    let from_us = match (msg.attr("from"), me) {
        (None, Some(_)) => true,
        (Some(f), Some(me)) => {
            Jid::parse(f).is_some_and(|j| j.resource.is_none() && j.same_bare(me))
        }
        _ => false,
    };
    match forwarded_message(wrapper) {
        Some(inner) if from_us => Carbon::Copy(dir, inner),
        _ => Carbon::Forged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmpp::xml::{parse, Limits};

    fn el(x: &str) -> Element {
        parse(x.as_bytes(), &Limits::default(), NS_CLIENT).unwrap()
    }

    #[test]
    fn classifies() {
        let me = Jid::parse("a@x/1").unwrap();
        let copy = el("<message from='A@x' to='a@x/1'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='b@x/2' to='a@x/2'><body>hi</body></message></forwarded></received></message>");
        match classify(&copy, Some(&me)) {
            Carbon::Copy("received", m) => assert_eq!(m.attr("from"), Some("b@x/2")),
            other => panic!("{other:?}"),
        }
        let forged = el("<message from='b@x/2' to='a@x/1'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='a@x/2' to='c@x'><body>x</body></message></forwarded></sent></message>");
        assert_eq!(classify(&forged, Some(&me)), Carbon::Forged);
        let full = el("<message from='a@x/2'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'/></forwarded></sent></message>");
        assert_eq!(
            classify(&full, Some(&me)),
            Carbon::Forged,
            "a full JID is not the account"
        );
        let empty = el("<message from='a@x'><sent xmlns='urn:xmpp:carbons:2'/></message>");
        assert_eq!(classify(&empty, Some(&me)), Carbon::Forged);
        let plain = el("<message from='b@x'><body>x</body></message>");
        assert_eq!(classify(&plain, Some(&me)), Carbon::No);
        assert_eq!(
            toggle(true).to_xml(),
            "<enable xmlns=\"urn:xmpp:carbons:2\"/>"
        );
        assert_eq!(
            toggle(false).to_xml(),
            "<disable xmlns=\"urn:xmpp:carbons:2\"/>"
        );
    }
}
