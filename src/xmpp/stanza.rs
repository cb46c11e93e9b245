//! Models of received `<message/>` and `<presence/>` stanzas (RFC 6120 §8, RFC 6121), built
//! from parsed elements, plus builders for the stanzas the session sends.
//!
//! Models keep the common fields and the whole stanza re-serialised (`xml`) so pages can read
//! extensions without this crate knowing them.

use super::chatstates;
use super::receipts;
use super::xml::{Element, NS_CLIENT};

/// Delayed delivery (XEP-0203).
pub const NS_DELAY: &str = "urn:xmpp:delay";

/// A received message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Sender.
    pub from: Option<String>,
    /// Addressee.
    pub to: Option<String>,
    /// `type` attribute (`chat`, `groupchat`, `normal`, `headline`, `error`).
    pub kind: Option<String>,
    /// `id` attribute.
    pub id: Option<String>,
    /// First `<body/>` (preferring one without `xml:lang`).
    pub body: Option<String>,
    /// First `<subject/>`.
    pub subject: Option<String>,
    /// `<thread/>`.
    pub thread: Option<String>,
    /// A carbon copy (XEP-0280) of a message another resource of ours `sent` or `received`.
    pub carbon: Option<&'static str>,
    /// The chat state it carries (XEP-0085).
    pub chat_state: Option<&'static str>,
    /// The sender asks for a delivery receipt (XEP-0184).
    pub receipt_request: bool,
    /// When it was originally sent (XEP-0203 `stamp`), for delayed, offline, room history
    /// and archived messages.
    pub delay: Option<String>,
    /// Its id in a message archive (XEP-0313 results only).
    pub archive_id: Option<String>,
    /// The whole stanza.
    pub xml: String,
}

/// The `stamp` of a `<delay xmlns='urn:xmpp:delay'/>` child of `e`.
#[must_use]
pub fn delay_of(e: &Element) -> Option<String> {
    e.child("delay", NS_DELAY)?.attr("stamp").map(String::from)
}

/// A received presence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Presence {
    /// Sender.
    pub from: Option<String>,
    /// Addressee.
    pub to: Option<String>,
    /// `type` attribute (`unavailable`, `subscribe`, …); `None` means available.
    pub kind: Option<String>,
    /// `<show/>` (`away`, `chat`, `dnd`, `xa`).
    pub show: Option<String>,
    /// `<status/>`.
    pub status: Option<String>,
    /// `<priority/>` (missing or invalid → `None`).
    pub priority: Option<i8>,
    /// The whole stanza.
    pub xml: String,
}

fn attr(e: &Element, n: &str) -> Option<String> {
    e.attr(n).map(String::from)
}

fn child_text(e: &Element, name: &str) -> Option<String> {
    // The first such child without `xml:lang`, else the first one (plain loops: adapter
    // chains are more generics in the wasm).
    let mut first = None;
    for c in e.elements() {
        if c.is(name, NS_CLIENT) {
            if c.attr("xml:lang").is_none() {
                return Some(c.text());
            }
            first = first.or(Some(c));
        }
    }
    first.map(Element::text)
}

impl Message {
    /// From a `<message/>` element.
    #[must_use]
    pub fn from_element(e: &Element) -> Message {
        Message {
            from: attr(e, "from"),
            to: attr(e, "to"),
            kind: attr(e, "type"),
            id: attr(e, "id"),
            body: child_text(e, "body"),
            subject: child_text(e, "subject"),
            thread: child_text(e, "thread"),
            carbon: None,
            chat_state: chatstates::of(e),
            receipt_request: receipts::requested(e),
            delay: delay_of(e),
            archive_id: None,
            xml: e.to_xml(),
        }
    }
}

impl Presence {
    /// From a `<presence/>` element.
    #[must_use]
    pub fn from_element(e: &Element) -> Presence {
        Presence {
            from: attr(e, "from"),
            to: attr(e, "to"),
            kind: attr(e, "type"),
            show: child_text(e, "show"),
            status: child_text(e, "status"),
            priority: child_text(e, "priority").and_then(|p| crate::xmpp::xml::parse_i8(&p)),
            xml: e.to_xml(),
        }
    }
}

/// Builds an outgoing `<message/>` (without a body: a chat state or other notification).
#[must_use]
pub fn message(
    id: Option<&str>,
    to: &str,
    body: Option<&str>,
    kind: Option<&str>,
    subject: Option<&str>,
    thread: Option<&str>,
) -> Element {
    let mut m = Element::new("message", NS_CLIENT)
        .with_attr("to", to)
        .with_opt_attr("id", id)
        .with_opt_attr("type", kind);
    if let Some(s) = subject {
        m = m.with_text_child("subject", NS_CLIENT, s);
    }
    if let Some(b) = body {
        m = m.with_text_child("body", NS_CLIENT, b);
    }
    if let Some(t) = thread {
        m = m.with_text_child("thread", NS_CLIENT, t);
    }
    m
}

/// Builds an outgoing `<presence/>`; `show` outside `away|chat|dnd|xa` is dropped.
#[must_use]
pub fn presence(
    kind: Option<&str>,
    to: Option<&str>,
    show: Option<&str>,
    status: Option<&str>,
    priority: Option<i8>,
) -> Element {
    let mut p = Element::new("presence", NS_CLIENT)
        .with_opt_attr("type", kind)
        .with_opt_attr("to", to);
    if let Some(s) = show.filter(|s| matches!(*s, "away" | "chat" | "dnd" | "xa")) {
        p = p.with_text_child("show", NS_CLIENT, s);
    }
    if let Some(s) = status {
        p = p.with_text_child("status", NS_CLIENT, s);
    }
    if let Some(pr) = priority {
        let mut buf = String::new();
        push_i64(&mut buf, i64::from(pr));
        p = p.with_text_child("priority", NS_CLIENT, &buf);
    }
    p
}

/// Appends a decimal integer without `core::fmt`.
pub fn push_i64(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    let mut n = v.unsigned_abs();
    let mut digits = [0u8; 20];
    let mut len = 0usize;
    loop {
        if let Some(d) = digits.get_mut(len) {
            *d = b'0' + u8::try_from(n % 10).unwrap_or(0);
        }
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    while len > 0 {
        len -= 1;
        out.push(char::from(digits.get(len).copied().unwrap_or(b'0')));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmpp::xml::{parse, Limits};

    #[test]
    fn models() {
        let e = parse(b"<message from='a@b/c' type='chat' id='1'><body xml:lang='de'>Hallo</body><body>Hello</body><thread>t</thread><x xmlns='urn:x'/></message>", &Limits::default(), NS_CLIENT).unwrap();
        let m = Message::from_element(&e);
        assert_eq!(m.body.as_deref(), Some("Hello"));
        assert_eq!(
            (m.chat_state, m.receipt_request, m.delay.as_deref()),
            (None, false, None)
        );
        let e = parse(b"<message><active xmlns='http://jabber.org/protocol/chatstates'/><request xmlns='urn:xmpp:receipts'/><delay xmlns='urn:xmpp:delay' stamp='2002-09-10T23:08:25Z'/></message>", &Limits::default(), NS_CLIENT).unwrap();
        let d = Message::from_element(&e);
        assert_eq!(d.chat_state, Some("active"));
        assert!(d.receipt_request);
        assert_eq!(d.delay.as_deref(), Some("2002-09-10T23:08:25Z"));
        assert_eq!(m.thread.as_deref(), Some("t"));
        assert_eq!(m.subject, None);
        assert!(m.xml.contains("<x xmlns=\"urn:x\"/>"));
        let e = parse(b"<presence from='a@b/c'><show>away</show><status>brb</status><priority>-5</priority></presence>", &Limits::default(), NS_CLIENT).unwrap();
        let p = Presence::from_element(&e);
        assert_eq!(p.show.as_deref(), Some("away"));
        assert_eq!(p.priority, Some(-5));
        assert_eq!(p.kind, None);
    }

    #[test]
    fn builders() {
        assert_eq!(
            presence(None, None, Some("dnd"), Some("x"), Some(-128)).to_xml(),
            "<presence xmlns=\"jabber:client\"><show>dnd</show><status>x</status><priority>-128</priority></presence>"
        );
        assert_eq!(
            presence(None, None, Some("bogus"), None, Some(0)).to_xml(),
            "<presence xmlns=\"jabber:client\"><priority>0</priority></presence>"
        );
        assert_eq!(
            message(Some("i1"), "a@b", Some("hi"), Some("chat"), None, None).to_xml(),
            "<message xmlns=\"jabber:client\" to=\"a@b\" id=\"i1\" type=\"chat\"><body>hi</body></message>"
        );
        let mut s = String::new();
        push_i64(&mut s, i64::MIN);
        assert_eq!(s, "-9223372036854775808");
    }
}
