#![cfg(feature = "stomp")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::as_conversions
)]
//! Codec transcripts: encode→decode round trips (proptest), frames split at every byte and
//! concatenated, and random bytes that must never panic.

use fullduplex::stomp::{decode, encode, Command, Decoder, Error, Item, Limits, Status, Version};
use proptest::prelude::*;

/// An owned view of a decoded item, for comparisons.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Owned {
    Beat,
    Frame(Command, Vec<(Vec<u8>, Vec<u8>)>, Vec<u8>),
}

fn own(item: Item<'_>) -> Owned {
    match item {
        Item::Heartbeat => Owned::Beat,
        Item::Frame(f) => Owned::Frame(
            f.command,
            f.headers
                .iter()
                .map(|(k, v)| (k.to_vec(), v.to_vec()))
                .collect(),
            f.body.to_vec(),
        ),
    }
}

/// Feeds `chunks` through a streaming decoder and collects everything.
fn stream(chunks: &[&[u8]], v: Version) -> Result<Vec<Owned>, Error> {
    let mut d = Decoder::new(Limits::default());
    let mut out = Vec::new();
    for c in chunks {
        d.push(c);
        while let Some(item) = d.next_item(v)? {
            out.push(own(item));
        }
    }
    Ok(out)
}

fn transcript() -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0");
    t.extend_from_slice(b"\n\r\n");
    t.extend_from_slice(
        b"MESSAGE\r\nsubscription:sub-0\r\nmessage-id:1\r\ndestination:/queue/a\\cb\r\n\r\nhi\0\n",
    );
    t.extend_from_slice(b"MESSAGE\nsubscription:sub-0\ncontent-length:5\n\na\0b\nc\0\n");
    t.extend_from_slice(b"RECEIPT\nreceipt-id:rcpt-0\n\n\0");
    t.extend_from_slice("MESSAGE\nk:é\\\\n\n\nü€\0".as_bytes());
    t
}

#[test]
fn split_at_every_byte_decodes_the_same() {
    let t = transcript();
    let whole = stream(&[&t], Version::V1_2).unwrap();
    assert_eq!(whole.len(), 9);
    assert_eq!(whole[1], Owned::Beat);
    assert_eq!(whole[2], Owned::Beat);
    if let Owned::Frame(_, h, b) = &whole[3] {
        assert_eq!(h[2], (b"destination".to_vec(), b"/queue/a:b".to_vec()));
        assert_eq!(b, b"hi");
    } else {
        panic!();
    }
    if let Owned::Frame(_, _, b) = &whole[5] {
        assert_eq!(b, b"a\0b\nc");
    } else {
        panic!();
    }
    if let Owned::Frame(_, h, _) = &whole[8] {
        assert_eq!(h[0].1, "é\\n".as_bytes());
    } else {
        panic!();
    }
    for i in 0..=t.len() {
        let (a, b) = t.split_at(i);
        assert_eq!(
            stream(&[a, b], Version::V1_2).unwrap(),
            whole,
            "split at {i}"
        );
    }
    // Every byte in its own chunk.
    let singles: Vec<&[u8]> = t.chunks(1).collect();
    assert_eq!(stream(&singles, Version::V1_2).unwrap(), whole);
    // Three-way splits.
    for i in (0..t.len()).step_by(3) {
        for j in (i..t.len()).step_by(7) {
            let parts = [&t[..i], &t[i..j], &t[j..]];
            assert_eq!(stream(&parts, Version::V1_2).unwrap(), whole);
        }
    }
}

#[test]
fn rabbitmq_style_messages() {
    // One frame per WebSocket message, each ending "\0\n", and bare "\n" heart-beats.
    let msgs: [&[u8]; 3] = [
        b"CONNECTED\nserver:RabbitMQ/3.10\nsession:s1\nheart-beat:10000,10000\nversion:1.2\n\n\0\n",
        b"\n",
        b"MESSAGE\nsubscription:sub-0\ndestination:/topic/x\nmessage-id:T_sub-0@@session-1@@1\nredelivered:false\nack:T_sub-0@@session-1@@1\ncontent-length:5\n\nhello\0\n",
    ];
    let items = stream(&msgs, Version::V1_2).unwrap();
    let beats = items.iter().filter(|i| **i == Owned::Beat).count();
    assert_eq!(beats, 3);
    assert_eq!(items.len(), 5);
}

#[test]
fn stompjs_bugs_are_not_ours() {
    let l = Limits::default();
    // `\\n` is backslash + n.
    let Status::Complete(_, f) = decode(b"MESSAGE\nk:\\\\n\n\n\0", Version::V1_2, &l).unwrap()
    else {
        panic!()
    };
    assert_eq!(f.header(b"k"), Some(&b"\\n"[..]));
    // `\t` is an error.
    assert!(matches!(
        decode(b"MESSAGE\nk:\\t\n\n\0", Version::V1_2, &l),
        Err(Error::InvalidEscape { .. })
    ));
    // 1.1 escapes too.
    let Status::Complete(_, f) = decode(b"MESSAGE\nk:a\\cb\n\n\0", Version::V1_1, &l).unwrap()
    else {
        panic!()
    };
    assert_eq!(f.header(b"k"), Some(&b"a:b"[..]));
    // No trimming.
    let Status::Complete(_, f) = decode(b"MESSAGE\n k : v \n\n\0", Version::V1_2, &l).unwrap()
    else {
        panic!()
    };
    assert_eq!(f.header(b" k "), Some(&b" v "[..]));
    // The NUL after a content-length body is checked, never swallowed.
    assert!(matches!(
        decode(b"MESSAGE\ncontent-length:1\n\nab\0", Version::V1_2, &l),
        Err(Error::MissingNul { offset: 27 })
    ));
    // A bad content-length errors instead of waiting.
    assert!(matches!(
        decode(b"MESSAGE\ncontent-length:abc\n\n", Version::V1_2, &l),
        Err(Error::InvalidContentLength { .. })
    ));
}

#[test]
fn one_mib_body_decodes_with_default_limits() {
    let body = vec![0xA5u8; 1 << 20];
    let mut out = Vec::new();
    encode(
        Command::Message,
        &[("subscription", "s")],
        &body,
        Version::V1_2,
        &mut out,
    )
    .unwrap();
    let chunks: Vec<&[u8]> = out.chunks(16 * 1024).collect();
    let items = stream(&chunks, Version::V1_2).unwrap();
    assert_eq!(items.len(), 1);
    if let Owned::Frame(_, _, b) = &items[0] {
        assert_eq!(b.len(), 1 << 20);
    }
}

fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(
            prop_oneof![
                Just(b'\n'),
                Just(b'\r'),
                Just(b':'),
                Just(b'\\'),
                Just(0u8),
                any::<u8>(),
            ],
            0..12,
        ),
        ".{0,8}".prop_map(String::into_bytes),
    ]
}

fn headers() -> impl Strategy<Value = Vec<(Vec<u8>, Vec<u8>)>> {
    prop::collection::vec((header_bytes(), header_bytes()), 0..6)
}

fn roundtrip(command: Command, hs: &[(Vec<u8>, Vec<u8>)], body: &[u8], v: Version) {
    let mut out = Vec::new();
    match encode(command, hs, body, v, &mut out) {
        Err(Error::Unencodable) => {
            // Only legitimately unencodable input may fail.
            let bad = hs
                .iter()
                .any(|(k, val)| k.is_empty() || (v == Version::V1_1 && val.last() == Some(&b'\r')));
            assert!(bad, "{hs:?}");
            assert!(out.is_empty());
            return;
        }
        Err(e) => panic!("{e:?}"),
        Ok(()) => {}
    }
    let Status::Complete(n, f) = decode(&out, v, &Limits::default()).unwrap() else {
        panic!("partial")
    };
    assert_eq!(n, out.len());
    assert_eq!(f.command, command);
    let expected: Vec<(Vec<u8>, Vec<u8>)> = hs
        .iter()
        .filter(|(k, _)| k.as_slice() != b"content-length")
        .cloned()
        .collect();
    let got: Vec<(Vec<u8>, Vec<u8>)> = f
        .headers
        .iter()
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .filter(|(k, _)| k.as_slice() != b"content-length")
        .collect();
    assert_eq!(got, expected);
    assert_eq!(f.body, body);
    if !body.is_empty() {
        assert_eq!(
            f.header(b"content-length"),
            Some(body.len().to_string().as_bytes())
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn roundtrip_v12(hs in headers(), body in prop::collection::vec(any::<u8>(), 0..64)) {
        roundtrip(Command::Send, &hs, &body, Version::V1_2);
        roundtrip(Command::Message, &hs, &body, Version::V1_2);
    }

    #[test]
    fn roundtrip_v11(hs in headers(), body in prop::collection::vec(any::<u8>(), 0..64)) {
        roundtrip(Command::Message, &hs, &body, Version::V1_1);
    }

    #[test]
    fn split_anywhere(body in prop::collection::vec(any::<u8>(), 0..40), cut in any::<prop::sample::Index>()) {
        let mut t = Vec::new();
        encode(Command::Message, &[("a", "b:c\n")], &body, Version::V1_2, &mut t).unwrap();
        t.extend_from_slice(b"\r\n");
        encode(Command::Receipt, &[("receipt-id", "7")], b"", Version::V1_2, &mut t).unwrap();
        let whole = stream(&[&t], Version::V1_2).unwrap();
        let i = cut.index(t.len() + 1);
        let (a, b) = t.split_at(i);
        prop_assert_eq!(stream(&[a, b], Version::V1_2).unwrap(), whole);
    }

    #[test]
    fn random_bytes_never_panic(
        data in prop::collection::vec(
            prop_oneof![Just(b'\n'), Just(b'\r'), Just(0u8), Just(b':'), Just(b'\\'), any::<u8>()],
            0..200),
        prefix in prop_oneof![Just(&b""[..]), Just(&b"MESSAGE\n"[..]), Just(&b"MESSAGE\ncontent-length:"[..])],
        max in 1usize..64,
    ) {
        let mut input = prefix.to_vec();
        input.extend_from_slice(&data);
        let l = Limits { max_frame_len: max * 4, max_headers: max, max_line_len: max };
        for v in [Version::V1_0, Version::V1_1, Version::V1_2] {
            let _ = decode(&input, v, &l);
            let _ = decode(&input, v, &Limits::default());
            let mut d = Decoder::new(l);
            for c in input.chunks(max) {
                d.push(c);
                while let Ok(Some(_)) = d.next_item(v) {}
            }
        }
    }
}
