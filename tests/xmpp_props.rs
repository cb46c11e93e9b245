#![cfg(feature = "xmpp")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::as_conversions
)]
//! Property tests: escape/parse round trips, no input panics (reader, SASL, session), prefixes.

use fullduplex::time::Millis;
use fullduplex::xmpp::sasl::{base64_decode, base64_encode};
use fullduplex::xmpp::xml::{self, is_xml_char, Element, ErrorKind, Limits, NS_CLIENT};
use fullduplex::xmpp::{redact, Config, Credentials, Session};
use proptest::prelude::*;

fn xml_text() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|s| s.chars().filter(|c| is_xml_char(*c)).collect())
}

/// Strings made of XML-ish fragments, to reach deeper parser states than random bytes.
fn xmlish() -> impl Strategy<Value = String> {
    let frag = prop_oneof![
        Just("<".to_string()),
        Just(">".to_string()),
        Just("/>".to_string()),
        Just("</".to_string()),
        Just("&".to_string()),
        Just(";".to_string()),
        Just("&#x41;".to_string()),
        Just("&#99999999999;".to_string()),
        Just("&amp;".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("=".to_string()),
        Just(" ".to_string()),
        Just(":".to_string()),
        Just("xmlns".to_string()),
        Just("xmlns:p".to_string()),
        Just("stream:".to_string()),
        Just("<![CDATA[".to_string()),
        Just("]]>".to_string()),
        Just("<!--".to_string()),
        Just("<?xml version='1.0'?>".to_string()),
        Just("message".to_string()),
        Just("iq".to_string()),
        Just("a".to_string()),
        Just("\u{e9}".to_string()),
        Just("\r\n".to_string()),
        Just("\u{0}\u{1}\u{FFFE}".to_string()),
        "[a-z]{1,3}".prop_map(|s| s),
    ];
    proptest::collection::vec(frag, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn text_roundtrip(t in xml_text()) {
        let e = Element::new("body", NS_CLIENT).with_text(&t);
        let back = xml::parse(e.to_xml().as_bytes(), &Limits::default(), NS_CLIENT).unwrap();
        prop_assert_eq!(back.text(), t);
    }

    #[test]
    fn attr_roundtrip(v in xml_text(), w in xml_text()) {
        let e = Element::new("x", "urn:x").with_attr("a", &v).with_attr("xml:lang", &w);
        let back = xml::parse(e.to_xml().as_bytes(), &Limits::default(), NS_CLIENT).unwrap();
        prop_assert_eq!(back.attr("a"), Some(v.as_str()));
        prop_assert_eq!(back.attr("xml:lang"), Some(w.as_str()));
    }

    /// The byte-level escapers agree with a char-by-char reference on any string, the
    /// characters XML cannot carry (controls, U+FFFE, U+FFFF) and their UTF-8 neighbours
    /// (U+EFFF, U+F000, U+FFFD) mixed in.
    #[test]
    fn escapers_match_char_reference(
        parts in proptest::collection::vec(prop_oneof![
            any::<String>(),
            Just("\u{FFFE}\u{FFFF}\u{FFFD}\u{EFFF}\u{F000}\u{EFBF}".to_string()),
            Just("\u{0}\u{1}\u{1F}\t\n\r\u{7F}&<>\"'".to_string()),
        ], 0..6)
    ) {
        let s = parts.concat();
        for attr in [false, true] {
            let mut want = String::new();
            for c in s.chars() {
                match c {
                    '&' => want.push_str("&amp;"),
                    '<' => want.push_str("&lt;"),
                    '>' if !attr => want.push_str("&gt;"),
                    '"' if attr => want.push_str("&quot;"),
                    '\'' if attr => want.push_str("&apos;"),
                    '\t' if attr => want.push_str("&#9;"),
                    '\n' if attr => want.push_str("&#10;"),
                    '\r' => want.push_str("&#13;"),
                    _ if !is_xml_char(c) => want.push('\u{FFFD}'),
                    _ => want.push(c),
                }
            }
            let mut got = String::new();
            if attr {
                xml::escape_attr(&mut got, &s);
            } else {
                xml::escape_text(&mut got, &s);
            }
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn parse_random_bytes_never_panics(b in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = xml::parse(&b, &Limits::default(), NS_CLIENT);
        let _ = redact(&String::from_utf8_lossy(&b));
        let _ = base64_decode(&String::from_utf8_lossy(&b));
    }

    #[test]
    fn parse_xmlish_never_panics(s in xmlish()) {
        if let Ok(e) = xml::parse(s.as_bytes(), &Limits::default(), NS_CLIENT) {
            // Whatever parses re-serialises to something that parses to the same tree.
            let again = xml::parse(e.to_xml().as_bytes(), &Limits::default(), NS_CLIENT).unwrap();
            prop_assert_eq!(again, e);
        }
        let _ = redact(&s);
    }

    #[test]
    fn base64_roundtrip(b in proptest::collection::vec(any::<u8>(), 0..100)) {
        prop_assert_eq!(base64_decode(&base64_encode(&b)).unwrap(), b);
    }

    #[test]
    fn prefixes_are_errors(t in xml_text(), v in xml_text()) {
        let e = Element::new("message", NS_CLIENT)
            .with_attr("to", &v)
            .with_child(Element::new("body", NS_CLIENT).with_text(&t));
        let s = e.to_xml();
        let b = s.as_bytes();
        for i in 0..b.len() {
            prop_assert!(xml::parse(&b[..i], &Limits::default(), NS_CLIENT).is_err());
        }
    }

    #[test]
    fn session_never_panics(msgs in proptest::collection::vec(
        prop_oneof![
            xmlish(),
            Just("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>".to_string()),
            Just("<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>".to_string()),
            Just("<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>cj1hYmMscz1RU1hDUitRNnNlazhiZjkyLGk9NDA5Ng==</challenge>".to_string()),
            Just("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1hYmM=</success>".to_string()),
            Just("<iq type='result' id='x'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>a@b/c</jid></bind></iq>".to_string()),
            Just("<iq type='set' id='r'><query xmlns='jabber:iq:roster'><item jid='a@b'/></query></iq>".to_string()),
            Just("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' see-other-uri='wss://x'/>".to_string()),
            Just("<stream:error><x xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>".to_string()),
            proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        ],
        0..12),
        cmds in proptest::collection::vec(0u8..12, 0..8),
    ) {
        let mut c = Config::new("example.com");
        c.credentials = Some(Credentials { username: "u".into(), password: "p".into(), resource: None });
        c.transport_secure = true;
        let mut s = Session::new(c, [0; 32]);
        s.handle_open(Millis(0));
        let mut now = Millis(0);
        for (i, m) in msgs.iter().enumerate() {
            now = now + 1000;
            s.handle_data(now, m.as_bytes());
            if let Some(cmd) = cmds.get(i) {
                match cmd {
                    0 => { let _ = s.get_roster(now); }
                    1 => { let _ = s.send_message("a@b", m, None, None, None); }
                    2 => { let _ = s.iq(now, "get", None, m); }
                    3 => { let _ = s.send_raw(m); }
                    4 => { let _ = s.disconnect(now); }
                    5 => s.handle_timeout(now + 60_000),
                    6 => s.handle_close(now, 1006, "", false),
                    7 => s.handle_open(now),
                    8 => { let _ = s.login(now, m, m, Some(m)); }
                    9 => { let _ = s.register(now, m, "x"); }
                    10 => { let _ = s.add_contact(now, m, Some(m), &[m]); }
                    _ => { let _ = s.set_status(Some(m), Some(m), Some(-1)); }
                }
            }
            while let Some(t) = s.poll_transmit() {
                if let fullduplex::xmpp::Transmit::Text(t) = t {
                    // Everything we send is well-formed.
                    prop_assert!(xml::parse(t.as_bytes(), &Limits::default(), NS_CLIENT).is_ok(), "{}", t);
                }
            }
            while s.poll_event().is_some() {}
        }
    }
}

#[test]
fn writer_replaces_impossible_chars() {
    let e = Element::new("body", NS_CLIENT)
        .with_attr("a", "x\u{0}")
        .with_text("\u{1}y\u{FFFF}");
    let back = xml::parse(e.to_xml().as_bytes(), &Limits::default(), NS_CLIENT).unwrap();
    assert_eq!(back.text(), "\u{FFFD}y\u{FFFD}");
    assert_eq!(back.attr("a"), Some("x\u{FFFD}"));
}

#[test]
fn deep_nesting_is_refused_without_recursion() {
    let mut s = String::new();
    for _ in 0..100_000 {
        s.push_str("<a>");
    }
    let l = Limits {
        max_size: 1 << 20,
        max_depth: usize::MAX,
        max_attrs: 8,
    };
    assert_eq!(
        xml::parse(s.as_bytes(), &l, NS_CLIENT).unwrap_err().kind,
        ErrorKind::TooDeep
    );
}
