#![cfg(feature = "stomp")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::as_conversions
)]
//! Slow-drip decoding (issue #7): frames fed one byte (or a few bytes) per push must cost work
//! linear in their length, and every limit must trip as soon as it is crossed. Work is
//! measured with the decoder's `bytes_examined` counter (bytes copied in, moved, or searched),
//! never with a clock; the old decoder re-scanned the whole frame on every push, which is
//! quadratic and fails these bounds by orders of magnitude. Also: the allocation-free
//! `next_ref` view agrees with `next_item` and with the one-shot `decode`.

use fullduplex::stomp::{
    decode, encode, Command, Decoder, Error, Item, ItemRef, Limits, Status, Version,
};
use proptest::prelude::*;

const V12: Version = Version::V1_2;

/// Work allowed per input byte: one copy in, at most one move, one search, a line check.
const PER_BYTE: u64 = 6;

/// Feeds `frame` in `chunk`-byte pushes, draining after each; returns the decoder and the
/// frames decoded (body lengths and header counts).
fn drip(frame: &[u8], chunk: usize, limits: Limits) -> (Decoder, Vec<(usize, usize)>) {
    let mut d = Decoder::new(limits);
    let mut got = Vec::new();
    for c in frame.chunks(chunk) {
        d.push(c);
        while let Some(item) = d.next_ref(V12).unwrap() {
            if let ItemRef::Frame(f) = item {
                got.push((f.body().len(), f.headers().len()));
            }
        }
    }
    (d, got)
}

fn body(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}

fn assert_linear(d: &Decoder, input_len: usize) {
    let examined = d.bytes_examined();
    assert!(
        examined <= PER_BYTE * input_len as u64,
        "{examined} bytes examined for {input_len} bytes of input"
    );
}

#[test]
fn body_without_content_length_one_byte_at_a_time_is_linear() {
    let mut f = b"MESSAGE\ndestination:/topic/x\n\n".to_vec();
    f.extend_from_slice(&body(256 * 1024));
    f.extend_from_slice(b"\0\n");
    let (d, got) = drip(&f, 1, Limits::default());
    assert_eq!(got, vec![(256 * 1024, 1)]);
    assert_eq!(d.buffered(), 0);
    assert_linear(&d, f.len());
}

#[test]
fn body_with_content_length_one_byte_at_a_time_is_linear() {
    let mut f = Vec::new();
    let b = body(256 * 1024);
    encode(Command::Message, &[("destination", "/q")], &b, V12, &mut f).unwrap();
    let (d, got) = drip(&f, 1, Limits::default());
    assert_eq!(got, vec![(256 * 1024, 2)]);
    assert_linear(&d, f.len());
}

fn many_headers(total: usize) -> (Vec<u8>, usize) {
    let mut f = b"MESSAGE\n".to_vec();
    let mut n = 0;
    while f.len() < total {
        f.extend_from_slice(format!("header-{n:05}:v\\cvalue\\\\value\n").as_bytes());
        n += 1;
    }
    f.extend_from_slice(b"\nbody\0");
    (f, n)
}

#[test]
fn sixty_four_kib_of_headers_one_byte_at_a_time_is_linear() {
    let (f, n) = many_headers(64 * 1024);
    let limits = Limits {
        max_headers: 4096,
        ..Limits::default()
    };
    let (d, got) = drip(&f, 1, limits);
    assert_eq!(got, vec![(4, n)]);
    assert_linear(&d, f.len());
    // The same frame in one piece decodes to the same headers, unescaped.
    let Status::Complete(_, whole) = decode(&f, V12, &limits).unwrap() else {
        panic!()
    };
    assert_eq!(whole.header(b"header-00007"), Some(&b"v:value\\value"[..]));
}

#[test]
fn many_small_frames_in_odd_chunks_are_linear() {
    // Chunk boundaries never line up with frames, so the buffer always keeps a partial frame
    // after the consumed ones: compaction must stay amortised.
    let mut t = Vec::new();
    for i in 0..5000 {
        let b = body(i % 300);
        if i % 2 == 0 {
            encode(Command::Message, &[("n", "v")], &b, V12, &mut t).unwrap();
        } else {
            t.extend_from_slice(b"MESSAGE\nn:v\n\n");
            t.extend_from_slice(&b);
            t.push(0);
        }
        t.extend_from_slice(b"\n");
    }
    for chunk in [1, 7, 1000, 65_537] {
        let (d, got) = drip(&t, chunk, Limits::default());
        assert_eq!(got.len(), 5000, "chunk {chunk}");
        assert_linear(&d, t.len());
    }
}

#[test]
fn endless_header_line_is_refused_as_soon_as_it_is_too_long() {
    let limits = Limits {
        max_line_len: 1000,
        ..Limits::default()
    };
    let mut d = Decoder::new(limits);
    d.push(b"MESSAGE\nk:");
    let mut fed = 10;
    let err = loop {
        d.push(b"v");
        fed += 1;
        match d.next_ref(V12) {
            Ok(None) => assert!(fed <= 8 + 1000, "not refused after {fed} bytes"),
            Ok(Some(_)) => panic!("a frame from an endless line"),
            Err(e) => break e,
        }
    };
    assert_eq!(err, Error::LineTooLong { offset: 8 });
    // Refused at the 1001st byte of the line (a CR there could still be part of the EOL).
    assert_eq!(fed, 8 + 1001);
    assert_linear(&d, fed);
}

#[test]
fn endless_headers_are_refused_at_the_frame_limit() {
    let limits = Limits {
        max_frame_len: 4096,
        max_headers: 10_000,
        ..Limits::default()
    };
    let mut d = Decoder::new(limits);
    d.push(b"MESSAGE\n");
    let mut fed = 8;
    let err = 'outer: loop {
        for &b in b"k:v\n" {
            d.push(&[b]);
            fed += 1;
            match d.next_ref(V12) {
                Ok(None) => assert!(fed < 4096, "not refused at the limit"),
                Ok(Some(_)) => panic!("a frame from endless headers"),
                Err(e) => break 'outer e,
            }
        }
    };
    assert_eq!(fed, 4096);
    assert_linear(&d, fed);
    assert_eq!(err, Error::FrameTooLarge { offset: 4096 });
}

#[test]
fn body_without_nul_is_refused_at_the_frame_limit() {
    let limits = Limits {
        max_frame_len: 10_000,
        ..Limits::default()
    };
    let mut d = Decoder::new(limits);
    d.push(b"MESSAGE\n\n");
    let mut fed = 9;
    let err = loop {
        d.push(b"x");
        fed += 1;
        if let Err(e) = d.next_ref(V12) {
            break e;
        }
        assert!(fed < 10_000);
    };
    assert_eq!(fed, 10_000);
    assert_eq!(err, Error::FrameTooLarge { offset: 10_000 });
    // Sticky, and later bytes are ignored.
    d.push(b"\0");
    assert_eq!(d.next_ref(V12).unwrap_err(), err);
    assert_linear(&d, fed);
}

#[test]
fn huge_content_length_is_refused_before_the_body() {
    let limits = Limits {
        max_frame_len: 1 << 20,
        ..Limits::default()
    };
    let mut d = Decoder::new(limits);
    for &b in b"MESSAGE\ncontent-length:1048576\n" {
        d.push(&[b]);
        assert!(d.next_ref(V12).unwrap().is_none());
    }
    d.push(b"\n");
    assert_eq!(
        d.next_ref(V12).unwrap_err(),
        Error::FrameTooLarge { offset: 32 }
    );
}

#[test]
fn too_many_headers_is_refused_at_the_line_over_the_limit() {
    let limits = Limits {
        max_headers: 3,
        ..Limits::default()
    };
    let f = b"MESSAGE\na:1\nb:2\nc:3\nd:4\n\n\0";
    let mut d = Decoder::new(limits);
    for (i, &b) in f.iter().enumerate() {
        d.push(&[b]);
        match d.next_ref(V12) {
            Ok(None) => assert!(i < 23),
            Err(e) => {
                // The LF of the fourth header line.
                assert_eq!(i, 23);
                assert_eq!(e, Error::TooManyHeaders { offset: 20 });
                return;
            }
            Ok(Some(_)) => panic!(),
        }
    }
    panic!("not refused");
}

#[test]
fn frame_ref_reads_headers_and_body_in_place() {
    let mut d = Decoder::new(Limits::default());
    d.push(b"\r\nMESSAGE\r\nk\\c1:a\\nb\r\nk\\c1:second\ncontent-length:3\n\nx\0y\0");
    assert!(matches!(d.next_ref(V12).unwrap(), Some(ItemRef::Heartbeat)));
    let Some(ItemRef::Frame(f)) = d.next_ref(V12).unwrap() else {
        panic!()
    };
    assert_eq!(f.command(), Command::Message);
    assert_eq!(f.body(), b"x\0y");
    assert_eq!(f.header(b"k:1"), Some(&b"a\nb"[..]));
    let all: Vec<_> = f.headers().collect();
    assert_eq!(
        all,
        vec![
            (&b"k:1"[..], &b"a\nb"[..]),
            (&b"k:1"[..], &b"second"[..]),
            (&b"content-length"[..], &b"3"[..]),
        ]
    );
    let owned = f.to_frame();
    assert_eq!(owned.header(b"k:1"), Some(&b"a\nb"[..]));
    assert_eq!(owned.headers.len(), 3);
    assert!(d.next_ref(V12).unwrap().is_none());
    assert_eq!(d.buffered(), 0);
}

#[test]
fn escaping_follows_the_version_given_when_the_command_arrives() {
    // CONNECTED is never unescaped; the MESSAGE after it is, per the version passed then.
    let mut d = Decoder::new(Limits::default());
    d.push(b"CONNECTED\nserver:a\\tb\n\n\0MESSAGE\nk:a\\cb\n\n\0");
    let Some(ItemRef::Frame(f)) = d.next_ref(V12).unwrap() else {
        panic!()
    };
    assert_eq!(f.header(b"server"), Some(&b"a\\tb"[..]));
    let Some(ItemRef::Frame(f)) = d.next_ref(Version::V1_0).unwrap() else {
        panic!()
    };
    assert_eq!(f.header(b"k"), Some(&b"a\\cb"[..]));
}

/// An owned item or the error that ended the stream.
#[derive(Debug, PartialEq, Eq)]
enum Owned {
    Beat,
    Frame(Command, Vec<(Vec<u8>, Vec<u8>)>, Vec<u8>),
    Err(Error),
}

fn one_shot(input: &[u8], v: Version, l: &Limits) -> Vec<Owned> {
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        match decode(&input[pos..], v, l) {
            Ok(Status::Partial) => return out,
            Ok(Status::Heartbeat(n)) => {
                out.push(Owned::Beat);
                pos += n;
            }
            Ok(Status::Complete(n, f)) => {
                out.push(Owned::Frame(
                    f.command,
                    f.headers
                        .iter()
                        .map(|(k, v)| (k.to_vec(), v.to_vec()))
                        .collect(),
                    f.body.to_vec(),
                ));
                pos += n;
            }
            Err(e) => {
                out.push(Owned::Err(e));
                return out;
            }
        }
    }
}

/// Streams `input` in chunks of the given sizes (cycled), through `next_ref` (`by_ref`) or
/// `next_item`.
fn streamed(input: &[u8], sizes: &[usize], v: Version, l: Limits, by_ref: bool) -> Vec<Owned> {
    let mut d = Decoder::new(l);
    let mut out = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < input.len() {
        let n = sizes[i % sizes.len()].clamp(1, input.len() - pos);
        i += 1;
        d.push(&input[pos..pos + n]);
        pos += n;
        loop {
            let item = if by_ref {
                match d.next_ref(v) {
                    Ok(Some(ItemRef::Heartbeat)) => Ok(Some(Owned::Beat)),
                    Ok(Some(ItemRef::Frame(f))) => Ok(Some(Owned::Frame(
                        f.command(),
                        f.headers().map(|(k, v)| (k.to_vec(), v.to_vec())).collect(),
                        f.body().to_vec(),
                    ))),
                    Ok(None) => Ok(None),
                    Err(e) => Err(e),
                }
            } else {
                match d.next_item(v) {
                    Ok(Some(Item::Heartbeat)) => Ok(Some(Owned::Beat)),
                    Ok(Some(Item::Frame(f))) => Ok(Some(Owned::Frame(
                        f.command,
                        f.headers
                            .iter()
                            .map(|(k, v)| (k.to_vec(), v.to_vec()))
                            .collect(),
                        f.body.to_vec(),
                    ))),
                    Ok(None) => Ok(None),
                    Err(e) => Err(e),
                }
            };
            match item {
                Ok(Some(o)) => out.push(o),
                Ok(None) => break,
                Err(e) => {
                    out.push(Owned::Err(e));
                    return out;
                }
            }
        }
    }
    out
}

/// Byte soup biased towards STOMP structure.
fn soup() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"MESSAGE\n".to_vec()),
        Just(b"RECEIPT\r\n".to_vec()),
        Just(b"CONNECTED\n".to_vec()),
        Just(b"content-length:3\n".to_vec()),
        Just(b"content-length:x\n".to_vec()),
        Just(b"k:v\\c\\n\n".to_vec()),
        Just(b"k:v\\r\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"abc\0\n".to_vec()),
        prop::collection::vec(
            prop_oneof![
                Just(b'\n'),
                Just(b'\r'),
                Just(0u8),
                Just(b':'),
                Just(b'\\'),
                any::<u8>()
            ],
            0..12
        ),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

/// Same oracle as the fuzz target: equal items, except that a limit may trip earlier (as
/// `FrameTooLarge`) on a prefix than on the whole input.
fn agree(got: &[Owned], want: &[Owned]) -> bool {
    got.len() == want.len()
        && got.iter().zip(want).all(|(a, b)| match (a, b) {
            (Owned::Err(x), Owned::Err(y)) => {
                x == y
                    || matches!(x, Error::FrameTooLarge { .. })
                    || matches!(y, Error::FrameTooLarge { .. })
            }
            _ => a == b,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn streaming_agrees_with_one_shot(
        input in soup(),
        sizes in prop::collection::vec(1usize..9, 1..6),
        vbits in 0u8..3,
        tight in any::<bool>(),
    ) {
        let v = [Version::V1_0, Version::V1_1, Version::V1_2][usize::from(vbits)];
        let l = if tight {
            Limits { max_frame_len: 64, max_headers: 3, max_line_len: 12 }
        } else {
            Limits::default()
        };
        let want = one_shot(&input, v, &l);
        for by_ref in [true, false] {
            let got = streamed(&input, &sizes, v, l, by_ref);
            prop_assert!(agree(&got, &want), "by_ref {}: {:?} vs {:?}", by_ref, got, want);
            let singles = streamed(&input, &[1], v, l, by_ref);
            prop_assert!(agree(&singles, &want), "1-byte: {:?} vs {:?}", singles, want);
        }
    }
}
