#![cfg(feature = "xmpp")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::as_conversions
)]
//! Inputs found by the fuzz targets in fuzz/ (scripts/fuzz.sh), replayed against the XMPP
//! core. Each test names the target and what the input broke.

use fullduplex::xmpp::xml::{self, Element, ErrorKind, Limits, NS_CLIENT};
use fullduplex::xmpp::Jid;

/// What the `xmpp_xml` target checks: a parsed element, written and parsed again, is the same.
fn round_trip(el: &Element) {
    let out = el.to_xml();
    let again = xml::parse(out.as_bytes(), &Limits::default(), "")
        .unwrap_or_else(|e| panic!("writer output refused: {e:?} in {out}"));
    assert_eq!(&again, el, "{out}");
}

/// xmpp_xml, crash-e244746d: a prefixed name whose local part starts with a digit
/// (`<xml:0c…/>`) was accepted; the writer emits the local part alone (`<0c…/>`), which is
/// not XML, so e.g. a received message's `xml` could not be parsed back.
#[test]
fn prefixed_name_with_digit_local_part() {
    let input: &[u8] = b"<message id='m1' type='chat' from='alicecalhost/fuzz' xml:lang='en' \
        xmlns='jabbr:client'><body>llo &lt;self&gt; &amp; \xc3\xbcn\xc3\xafc\xc3\xb6d\xc3\xa9\
        </body><thread>t1</thread><active xmlns='httb//ja:pbeber.org/protocol/chatstates'/>\
        <xml:0c666666666666666666cccccccccccc/></message>";
    let e = xml::parse(input, &Limits::default(), NS_CLIENT).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidName);
    assert_eq!(&input[e.offset..e.offset + 6], b"xml:0c");

    for bad in [
        "<p:1a xmlns:p='urn:x'/>",
        "<a><p:-b xmlns:p='urn:x'/></a>",
        "<a p:.x='1'/>",
    ] {
        let e = xml::parse(bad.as_bytes(), &Limits::default(), NS_CLIENT).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidName, "{bad}");
    }
    // Valid prefixed names still parse and round-trip.
    for good in [
        "<p:a xmlns:p='urn:x' p:b1='v'/>",
        "<stream:features><p:_x xmlns:p='urn:y'/></stream:features>",
        "<a xml:lang='en'><xml:b/></a>",
    ] {
        round_trip(&xml::parse(good.as_bytes(), &Limits::default(), NS_CLIENT).unwrap());
    }
}

/// xmpp_xml, crash-44653eb6 (a MAM result whose `to` was `alice@localhost………/mDmRomOrGZWS`):
/// a domain with two or more final dots lost only one, so `full()` re-parsed to another
/// domain (`localhost..` → `localhost.` → `localhost`) and the two did not compare equal.
#[test]
fn jid_domain_with_several_final_dots() {
    let to = format!("alice@localhost{}/mDmRomOrGZWS", ".".repeat(75));
    assert_eq!(Jid::parse(&to), None);
    for bad in ["a@b..", "b..", "a@b../r", "a@./r"] {
        assert_eq!(Jid::parse(bad), None, "{bad}");
    }
    // One final dot is still stripped, and every accepted JID's full form round-trips.
    for good in ["a@b.", "b./r", "a@b.c/r.", "a@b/r..", "a.b@c.d"] {
        let j = Jid::parse(good).unwrap();
        let again = Jid::parse(&j.full()).unwrap();
        assert!(again.same_full(&j), "{good}");
    }
    assert_eq!(Jid::parse("a@b.").unwrap().domain, "b");
}

/// The `xmpp_xml` oracle over every committed seed (stanzas Prosody sent, fuzz/seeds/xmpp_xml/,
/// first byte = config): each parses and round-trips.
#[test]
fn xml_seed_corpus_round_trips() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/xmpp_xml");
    let mut parsed = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        let (cfg, doc) = (data[0], &data[1..]);
        let default_ns = if cfg & 1 != 0 { "" } else { NS_CLIENT };
        let limits = if cfg & 2 != 0 {
            Limits {
                max_size: 2048,
                max_depth: 4,
                max_attrs: 4,
            }
        } else {
            Limits::default()
        };
        if let Ok(el) = xml::parse(doc, &limits, default_ns) {
            round_trip(&el);
            parsed += 1;
        }
    }
    assert!(parsed >= 20, "seed corpus missing from {}", dir.display());
}
