//! XML reader harness: parse one element, and when it parses, serialise it and parse it
//! again (the tree must come back unchanged); also runs the stanza and roster models, JID
//! parsing and the log redactor over whatever parsed.

use fullduplex::xmpp::jid::Jid;
use fullduplex::xmpp::roster;
use fullduplex::xmpp::xml::{self, Element, Limits, Node, NS_CLIENT};
use fullduplex::xmpp::{redact, Message, Presence};

/// Limits large enough that anything the writer produces from a parsed tree fits.
pub fn wide_limits() -> Limits {
    Limits {
        max_size: usize::MAX,
        max_depth: usize::MAX,
        max_attrs: usize::MAX,
    }
}

/// Small limits, so the fuzzer reaches every limit check with short inputs.
pub fn tight_limits() -> Limits {
    Limits {
        max_size: 2048,
        max_depth: 4,
        max_attrs: 4,
    }
}

/// Serialising `el` and parsing the result gives `el` back.
pub fn check_round_trip(el: &Element) {
    let out = el.to_xml();
    // With "" as the default namespace an element written without `xmlns` keeps an empty
    // namespace, which is what the writer means by leaving it out.
    match xml::parse(out.as_bytes(), &wide_limits(), "") {
        Ok(again) => assert!(
            &again == el,
            "XML round trip changed the tree:\n before {el:?}\n after  {again:?}\n text {out}"
        ),
        Err(e) => panic!("writer produced XML the reader refuses: {e:?} in {out}"),
    }
}

fn visit_models(el: &Element, depth: usize) {
    let _ = Message::from_element(el);
    let _ = Presence::from_element(el);
    let _ = roster::parse_items(el);
    for name in ["from", "to", "jid"] {
        if let Some(j) = el.attr(name).and_then(Jid::parse) {
            let (bare, full) = (j.bare(), j.full());
            let again = Jid::parse(&full).expect("a JID's full form parses");
            assert!(again.same_full(&j), "JID full form round trip");
            assert!(
                Jid::parse(&bare).is_some_and(|b| b.same_bare(&j)),
                "bare JID"
            );
        }
    }
    if depth < 3 {
        for c in &el.children {
            if let Node::Element(c) = c {
                visit_models(c, depth + 1);
            }
        }
    }
}

/// `xmpp_xml`: `[config] element…`. Config bit 0: default namespace `""` instead of
/// `jabber:client`; bit 1: tight limits.
pub fn target(data: &[u8]) {
    let (cfg, doc) = match data.split_first() {
        Some((c, d)) => (*c, d),
        None => return,
    };
    let default_ns = if cfg & 1 != 0 { "" } else { NS_CLIENT };
    let limits = if cfg & 2 != 0 {
        tight_limits()
    } else {
        Limits::default()
    };
    let _ = xml::is_blank(doc);
    match xml::parse(doc, &limits, default_ns) {
        Ok(el) => {
            check_round_trip(&el);
            visit_models(&el, 0);
        }
        Err(e) => {
            let _ = e.as_str();
            assert!(
                e.offset <= doc.len().max(limits.max_size),
                "error offset out of range"
            );
        }
    }
    let _ = redact(&String::from_utf8_lossy(doc));
}
