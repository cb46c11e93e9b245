//! Message delivery receipts (XEP-0184, `urn:xmpp:receipts`): the `<request/>` to add to an
//! outgoing message, the answer to a received request, and reading both from a message.
//!
//! The session answers requests by itself (unless configured not to) and reports receipts for
//! our own messages as events; it never answers groupchat or error messages, carbon copies or
//! archived messages.

use super::xml::{Element, NS_CLIENT};

/// The receipts namespace.
pub const NS_RECEIPTS: &str = "urn:xmpp:receipts";

/// `<request xmlns='urn:xmpp:receipts'/>`.
#[must_use]
pub fn request() -> Element {
    Element::new("request", NS_RECEIPTS)
}

/// Whether `msg` asks for a receipt.
#[must_use]
pub fn requested(msg: &Element) -> bool {
    msg.child("request", NS_RECEIPTS).is_some()
}

/// The id of our message that `msg` acknowledges (`<received id='…'/>`).
#[must_use]
pub fn received(msg: &Element) -> Option<&str> {
    msg.child("received", NS_RECEIPTS)?
        .attr("id")
        .filter(|i| !i.is_empty())
}

/// The answer to `msg` (which asked for a receipt), with our stanza id `id`; `None` when it
/// must not be answered (no sender or id, an error or groupchat message).
#[must_use]
pub fn answer(msg: &Element, id: &str) -> Option<Element> {
    let kind = msg.attr("type");
    if matches!(kind, Some("error" | "groupchat")) {
        return None;
    }
    let (from, of) = (msg.attr("from")?, msg.attr("id")?);
    Some(
        Element::new("message", NS_CLIENT)
            .with_attr("to", from)
            .with_attr("id", id)
            .with_opt_attr("type", kind)
            .with_child(Element::new("received", NS_RECEIPTS).with_attr("id", of)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmpp::xml::{parse, Limits};

    fn el(x: &str) -> Element {
        parse(x.as_bytes(), &Limits::default(), NS_CLIENT).unwrap()
    }

    #[test]
    fn answers() {
        let m = el("<message from='b@x/2' id='m1' type='chat'><body>hi</body><request xmlns='urn:xmpp:receipts'/></message>");
        assert!(requested(&m));
        assert_eq!(
            answer(&m, "r1").unwrap().to_xml(),
            "<message xmlns=\"jabber:client\" to=\"b@x/2\" id=\"r1\" type=\"chat\"><received xmlns=\"urn:xmpp:receipts\" id=\"m1\"/></message>"
        );
        assert!(answer(&el("<message from='r@m/n' id='1' type='groupchat'/>"), "r").is_none());
        assert!(answer(&el("<message from='b@x' type='chat'/>"), "r").is_none());
        let r = el("<message from='b@x/2'><received xmlns='urn:xmpp:receipts' id='m1'/></message>");
        assert_eq!(received(&r), Some("m1"));
        assert!(!requested(&r));
        assert_eq!(
            received(&el(
                "<message><received xmlns='urn:xmpp:receipts'/></message>"
            )),
            None
        );
    }
}
