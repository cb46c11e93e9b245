#![cfg(feature = "stomp")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::as_conversions
)]
//! Replays fuzz inputs against the STOMP core: the committed seed corpus of the
//! `stomp_decode` target (real RabbitMQ web-STOMP traffic, fuzz/seeds/stomp_decode/, input
//! format in fuzz/README.md) through the same oracles as the fuzzer, and every input the
//! fuzzer found that broke the core (none so far; add them here as `#[test]`s).

use std::path::Path;

use fullduplex::stomp::{
    decode, encode, Command, Decoder, Error, Frame, Item, Limits, Status, Version,
};

#[derive(Debug, PartialEq, Eq)]
enum Owned {
    Beat,
    Frame(Command, Vec<(Vec<u8>, Vec<u8>)>, Vec<u8>),
    Err(Error),
}

fn own(f: &Frame<'_>) -> Owned {
    let headers = f
        .headers
        .iter()
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect();
    Owned::Frame(f.command, headers, f.body.to_vec())
}

fn one_shot(stream: &[u8], v: Version, limits: &Limits) -> Vec<Owned> {
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        match decode(&stream[pos..], v, limits) {
            Ok(Status::Partial) => return out,
            Ok(Status::Heartbeat(n)) => {
                out.push(Owned::Beat);
                pos += n;
            }
            Ok(Status::Complete(n, f)) => {
                out.push(own(&f));
                pos += n;
            }
            Err(e) => {
                out.push(Owned::Err(e));
                return out;
            }
        }
    }
}

fn chunked(stream: &[u8], v: Version, limits: Limits, chunk: usize) -> Vec<Owned> {
    let mut d = Decoder::new(limits);
    let mut out = Vec::new();
    for c in stream.chunks(chunk) {
        d.push(c);
        loop {
            match d.next_item(v) {
                Ok(None) => break,
                Ok(Some(Item::Heartbeat)) => out.push(Owned::Beat),
                Ok(Some(Item::Frame(f))) => out.push(own(&f)),
                Err(e) => {
                    out.push(Owned::Err(e));
                    return out;
                }
            }
        }
    }
    out
}

fn round_trip(f: &Frame<'_>, v: Version) {
    let mut out = Vec::new();
    if encode(f.command, &f.headers, f.body, v, &mut out).is_err() {
        return;
    }
    let Ok(Status::Complete(n, g)) = decode(&out, v, &Limits::default()) else {
        panic!("re-encoded frame does not decode: {out:?}");
    };
    assert_eq!(n, out.len());
    assert_eq!((f.command, f.body), (g.command, g.body));
    let strip = |f: &Frame<'_>| -> Vec<(Vec<u8>, Vec<u8>)> {
        f.headers
            .iter()
            .filter(|(k, _)| k.as_ref() != b"content-length")
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect()
    };
    assert_eq!(strip(f), strip(&g));
}

/// The `stomp_decode` oracles over every committed seed: one-shot and streaming decoding
/// agree for any chunking, and every frame survives an encode/decode round trip.
#[test]
fn decode_seed_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/stomp_decode");
    let mut files = 0;
    let mut frames = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        let (cfg, stream) = (data[0], &data[2..]);
        let v = match cfg & 3 {
            0 => Version::V1_0,
            1 => Version::V1_1,
            _ => Version::V1_2,
        };
        let limits = if cfg & 4 != 0 {
            Limits {
                max_frame_len: 512,
                max_headers: 4,
                max_line_len: 40,
            }
        } else {
            Limits::default()
        };
        let expected = one_shot(stream, v, &limits);
        for chunk in [1, 7, 64, stream.len().max(1)] {
            let got = chunked(stream, v, limits, chunk);
            let same = got.len() == expected.len()
                && got.iter().zip(&expected).all(|(a, b)| match (a, b) {
                    (Owned::Err(x), Owned::Err(y)) => {
                        x == y
                            || matches!(x, Error::FrameTooLarge { .. })
                            || matches!(y, Error::FrameTooLarge { .. })
                    }
                    _ => a == b,
                });
            assert!(same, "chunk {chunk}: {got:?} != {expected:?}");
        }
        for item in &expected {
            if let Owned::Frame(..) = item {
                frames += 1;
            }
        }
        let mut pos = 0;
        while pos < stream.len() {
            match decode(&stream[pos..], v, &limits) {
                Ok(Status::Complete(n, f)) => {
                    round_trip(&f, v);
                    pos += n;
                }
                Ok(Status::Heartbeat(n)) => pos += n,
                _ => break,
            }
        }
        files += 1;
    }
    assert!(files >= 10, "seed corpus missing from {}", dir.display());
    assert!(frames >= 10);
}
