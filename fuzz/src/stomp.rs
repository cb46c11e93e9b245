//! STOMP harnesses: the decoder (one-shot `decode` against the streaming `Decoder` fed in
//! random chunks, plus an encode/decode round trip of every frame) and the client session
//! driven by server bytes, page commands and time.

use std::collections::BTreeMap;

use fullduplex::reconnect::ReconnectConfig;
use fullduplex::stomp::{
    decode, encode, redact, AckMode, AckToken, Command, ConnectOptions, Decoder, Error, Event,
    Frame, Item, ItemRef, Limits, OpId, Session, Status, Transmit, Version,
};
use fullduplex::time::Millis;

use crate::input::{Input, Rng};

fn version(bits: u8) -> Version {
    match bits & 3 {
        0 => Version::V1_0,
        1 => Version::V1_1,
        _ => Version::V1_2,
    }
}

/// Small limits, so the fuzzer reaches every limit check with short inputs.
fn tight_limits() -> Limits {
    Limits {
        max_frame_len: 512,
        max_headers: 4,
        max_line_len: 40,
    }
}

/// Generous limits for re-decoding what we encoded ourselves.
fn wide_limits() -> Limits {
    Limits {
        max_frame_len: usize::MAX / 2,
        max_headers: usize::MAX / 2,
        max_line_len: usize::MAX / 2,
    }
}

/// A decoded item, owned, for comparing the two decoders.
#[derive(Debug, PartialEq, Eq)]
enum Owned {
    Beat,
    Frame(Command, Vec<(Vec<u8>, Vec<u8>)>, Vec<u8>),
    Err(Error),
}

fn own(f: &Frame<'_>) -> Owned {
    Owned::Frame(
        f.command,
        f.headers
            .iter()
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect(),
        f.body.to_vec(),
    )
}

/// Headers other than `content-length` (the encoder computes that one itself).
fn without_length(f: &Frame<'_>) -> Vec<(Vec<u8>, Vec<u8>)> {
    f.headers
        .iter()
        .filter(|(k, _)| k.as_ref() != b"content-length")
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect()
}

/// Encoding a decoded frame and decoding it again gives the same frame (when the version can
/// represent its headers at all).
fn check_round_trip(f: &Frame<'_>, v: Version) {
    let mut out = Vec::new();
    if encode(f.command, &f.headers, f.body, v, &mut out).is_err() {
        assert!(out.is_empty(), "encode left bytes behind after an error");
        return;
    }
    match decode(&out, v, &wide_limits()) {
        Ok(Status::Complete(n, g)) => {
            assert_eq!(n, out.len(), "re-decode did not use the whole encoding");
            assert_eq!(f.command, g.command);
            assert_eq!(f.body, g.body, "body changed in the round trip");
            assert_eq!(
                without_length(f),
                without_length(&g),
                "headers changed in the round trip"
            );
        }
        other => panic!("encoded frame does not decode: {other:?} from {out:?}"),
    }
}

/// `stomp_decode`: `[config] [chunk seed] stream…`. Config bits 0–1 pick the version,
/// bit 2 the tight limits.
pub fn decode_target(data: &[u8]) {
    let mut inp = Input::new(data);
    let cfg = inp.byte();
    let seed = inp.byte();
    let stream = inp.rest();
    let v = version(cfg);
    let limits = if cfg & 4 != 0 {
        tight_limits()
    } else {
        Limits::default()
    };

    // One-shot decoding, frame after frame.
    let mut expected = Vec::new();
    let mut pos = 0usize;
    loop {
        let rest = stream.get(pos..).unwrap_or_default();
        match decode(rest, v, &limits) {
            Ok(Status::Partial) => break,
            Ok(Status::Heartbeat(n)) => {
                assert!(n > 0 && n <= rest.len(), "heart-beat length out of range");
                expected.push(Owned::Beat);
                pos += n;
            }
            Ok(Status::Complete(n, f)) => {
                assert!(n > 0 && n <= rest.len(), "frame length out of range");
                assert!(n <= limits.max_frame_len, "frame longer than the limit");
                check_round_trip(&f, v);
                expected.push(own(&f));
                pos += n;
            }
            Err(e) => {
                let _ = (e.as_str(), e.offset());
                expected.push(Owned::Err(e));
                break;
            }
        }
    }

    // The streaming decoder, fed in random chunks (byte by byte when seed bit 7 is set: the
    // decoder is incremental, so that is linear too), must yield the same items, through
    // `next_item` or (seed bit 6) the allocation-free `next_ref`.
    let mut rng = Rng::new(seed);
    let max_chunk = if seed & 0x80 != 0 {
        1
    } else {
        [3u32, 17, 64, 4096][usize::from(seed % 4)]
    };
    let by_ref = seed & 0x40 != 0;
    let mut dec = Decoder::new(limits);
    let mut got = Vec::new();
    let mut fed = 0usize;
    'feed: while fed < stream.len() {
        let n = rng.size(max_chunk).max(1).min(stream.len() - fed);
        dec.push(&stream[fed..fed + n]);
        fed += n;
        loop {
            let next = if by_ref {
                dec.next_ref(v).map(|item| {
                    item.map(|i| match i {
                        ItemRef::Heartbeat => Owned::Beat,
                        ItemRef::Frame(f) => {
                            let g = f.to_frame();
                            assert_eq!(g.header(b"content-length"), f.header(b"content-length"));
                            own(&g)
                        }
                    })
                })
            } else {
                dec.next_item(v).map(|item| {
                    item.map(|i| match i {
                        Item::Heartbeat => Owned::Beat,
                        Item::Frame(f) => own(&f),
                    })
                })
            };
            match next {
                Ok(None) => break,
                Ok(Some(o)) => got.push(o),
                Err(e) => {
                    got.push(Owned::Err(e));
                    // Errors are sticky.
                    assert_eq!(dec.next_item(v).err(), Some(e), "decoder error not sticky");
                    break 'feed;
                }
            }
        }
    }
    // Work stays linear in the input however it was split (issue #7).
    assert!(
        dec.bytes_examined() <= 8 * stream.len() as u64 + 8,
        "decoder examined {} bytes for {} bytes of input",
        dec.bytes_examined(),
        stream.len()
    );
    assert!(dec.buffered() <= stream.len());
    // A limit can be detected earlier on a prefix than on the whole input, with another error
    // kind; everything else must agree exactly.
    let same = got.len() == expected.len()
        && got.iter().zip(&expected).all(|(a, b)| match (a, b) {
            (Owned::Err(x), Owned::Err(y)) => {
                x == y
                    || matches!(x, Error::FrameTooLarge { .. })
                    || matches!(y, Error::FrameTooLarge { .. })
            }
            _ => a == b,
        });
    assert!(
        same,
        "streaming decoder disagrees with decode():\n streaming {got:?}\n one-shot  {expected:?}"
    );

    let _ = redact(stream);
}

/// Tracks how each op ended.
#[derive(Default)]
struct Ops {
    issued: Vec<OpId>,
    ended: BTreeMap<OpId, u32>,
}

impl Ops {
    fn issue(&mut self, op: OpId) {
        self.issued.push(op);
    }

    fn end(&mut self, op: OpId) {
        let n = self.ended.entry(op).or_insert(0);
        *n += 1;
        assert!(*n == 1, "op {op:?} ended twice");
        assert!(
            self.issued.contains(&op),
            "event for an op never issued: {op:?}"
        );
    }
}

struct StompRun {
    s: Session,
    now: Millis,
    ops: Ops,
    tokens: Vec<AckToken>,
    subs: Vec<String>,
    txs: Vec<String>,
    closed: bool,
    opens: u32,
}

impl StompRun {
    fn drain(&mut self) {
        while let Some(t) = self.s.poll_transmit() {
            match t {
                Transmit::Frame { data, text } => {
                    assert_eq!(text, core::str::from_utf8(&data).is_ok(), "text flag wrong");
                    // Whatever the session writes is one whole, valid frame (or a heart-beat).
                    let v = self.s.version().unwrap_or(Version::V1_2);
                    match decode(&data, v, &wide_limits()) {
                        Ok(Status::Heartbeat(n)) | Ok(Status::Complete(n, _)) => {
                            assert_eq!(n, data.len(), "transmit is not exactly one frame")
                        }
                        other => panic!("session wrote an invalid frame: {other:?} {data:?}"),
                    }
                    let _ = redact(&data);
                }
                Transmit::Close { code, reason } => {
                    assert!(code == 1000 || (3000..=4999).contains(&code), "close code");
                    assert!(reason.len() <= 123, "close reason too long for a WebSocket");
                }
                Transmit::Open { url } => {
                    assert!(url.starts_with("ws"), "open of a URL not configured: {url}");
                    self.opens += 1;
                }
            }
        }
        while let Some(e) = self.s.poll_event() {
            match e {
                Event::Completed { op } | Event::Failed { op, .. } => self.ops.end(op),
                Event::Message { ack: Some(t), .. } if self.tokens.len() < 16 => {
                    self.tokens.push(t);
                }
                Event::ProtocolError { error } => {
                    let _ = error.as_str();
                }
                Event::Closed { .. } => self.closed = true,
                _ => {}
            }
        }
    }

    fn pick<'a>(list: &'a [String], inp: &mut Input<'_>, fallback: &'a str) -> String {
        let i = usize::from(inp.byte());
        list.get(i % list.len().max(1))
            .map_or_else(|| fallback.to_owned(), Clone::clone)
    }
}

/// `stomp_session`: `[config] ops…`; see fuzz/README.md for the opcodes.
pub fn session_target(data: &[u8]) {
    let mut inp = Input::new(data);
    let cfg = inp.byte();
    // Second config byte: bit 0 URLs (the session opens sockets and reconnects), bit 1
    // reconnection off, bits 2-3 back-off shape, bit 4 at most 2 attempts.
    let cfg2 = inp.byte();
    let urls: Vec<String> = if cfg2 & 1 != 0 {
        vec![
            "ws://127.0.0.1:15674/ws".into(),
            "ws://[::1]:15674/ws".into(),
        ]
    } else {
        Vec::new()
    };
    // Kept for fields added later (they get their defaults).
    #[allow(clippy::needless_update)]
    let reconnect = ReconnectConfig {
        enabled: cfg2 & 2 == 0,
        initial_delay_ms: [1, 1000, 0, 40_000][usize::from(cfg2 >> 2 & 3)],
        max_delay_ms: [1, 30_000, 0, u32::MAX][usize::from(cfg2 >> 2 & 3)],
        max_attempts: if cfg2 & 16 != 0 { 2 } else { 0 },
        ..ReconnectConfig::default()
    };
    let accept_versions = match cfg & 3 {
        0 => vec![Version::V1_0, Version::V1_1, Version::V1_2],
        1 => vec![Version::V1_2],
        2 => vec![Version::V1_0],
        _ => vec![Version::V1_1, Version::V1_0],
    };
    let (hb_out, hb_in) = match (cfg >> 2) & 3 {
        0 => (0, 0),
        1 => (10_000, 10_000),
        2 => (1, 1),
        _ => (1000, 500),
    };
    let opts = ConnectOptions {
        login: Some("guest".into()),
        passcode: Some("guest".into()),
        accept_versions,
        heartbeat_outgoing_ms: hb_out,
        heartbeat_incoming_ms: hb_in,
        limits: if cfg & 16 != 0 {
            tight_limits()
        } else {
            Limits::default()
        },
        max_outbox: if cfg & 32 != 0 { 2 } else { 1000 },
        connect_timeout_ms: if cfg & 64 != 0 { 0 } else { 30_000 },
        disconnect_timeout_ms: if cfg & 128 != 0 { 0 } else { 5_000 },
        urls,
        reconnect,
        seed: u64::from(cfg2),
        ..ConnectOptions::default()
    };
    let mut r = StompRun {
        s: Session::new(opts),
        now: Millis(1_000),
        ops: Ops::default(),
        tokens: Vec::new(),
        subs: Vec::new(),
        txs: Vec::new(),
        closed: false,
        opens: 0,
    };
    let _ = r.s.subprotocols();
    r.s.connect(r.now);
    r.drain();
    r.s.handle_open(r.now, "v12.stomp");
    r.drain();
    let mut steps = 0;
    while !inp.is_empty() && steps < 256 {
        steps += 1;
        let op = inp.byte();
        match op & 15 {
            1 => {
                r.now = r.now + u64::from(inp.u16());
                r.s.handle_timeout(r.now);
            }
            2 => {
                if let Some(t) = r.s.poll_timeout() {
                    r.now = r.now.max(t);
                    r.s.handle_timeout(r.now);
                }
            }
            3 => {
                let flags = inp.byte();
                let dest = ["/queue/a", "/topic/x", "/exchange/amq.topic/k", ""]
                    [usize::from(flags >> 6)]
                .to_owned();
                let hk = inp.string8();
                let hv = inp.string8();
                let body = inp.chunk8();
                let headers: Vec<(&str, &str)> = if flags & 4 != 0 {
                    vec![(hk.as_str(), hv.as_str())]
                } else {
                    Vec::new()
                };
                let op = if flags & 2 != 0 {
                    let tx = StompRun::pick(&r.txs, &mut inp, "tx-x");
                    r.s.send_in(&tx, &dest, &headers, body, flags & 1 != 0)
                } else {
                    r.s.send(&dest, &headers, body, flags & 1 != 0)
                };
                r.ops.issue(op);
            }
            4 => {
                let flags = inp.byte();
                let ack = match (flags >> 1) & 3 {
                    0 => AckMode::Auto,
                    1 => AckMode::Client,
                    _ => AckMode::ClientIndividual,
                };
                let dest = inp.string8();
                let (id, op) =
                    r.s.subscribe(&dest, ack, &[("durable", "false")], flags & 1 != 0);
                r.ops.issue(op);
                if r.subs.len() < 16 {
                    r.subs.push(id);
                }
            }
            5 => {
                let flags = inp.byte();
                let id = if flags & 2 != 0 {
                    inp.string8()
                } else {
                    StompRun::pick(&r.subs, &mut inp, "sub-0")
                };
                let op = r.s.unsubscribe(&id, flags & 1 != 0);
                r.ops.issue(op);
            }
            6 => {
                let flags = inp.byte();
                let token = r
                    .tokens
                    .get(usize::from(inp.byte()) % r.tokens.len().max(1))
                    .cloned()
                    .unwrap_or_else(|| AckToken {
                        message_id: "m-1".into(),
                        subscription: "sub-0".into(),
                        ack: None,
                        connection: r.s.connection(),
                    });
                let tx = (flags & 4 != 0).then(|| StompRun::pick(&r.txs, &mut inp, "tx-x"));
                let op = if flags & 2 != 0 {
                    r.s.nack(&token, tx.as_deref(), flags & 1 != 0)
                } else {
                    r.s.ack(&token, tx.as_deref(), flags & 1 != 0)
                };
                r.ops.issue(op);
            }
            7 => {
                let flags = inp.byte();
                let (tx, op) = r.s.begin(flags & 1 != 0);
                r.ops.issue(op);
                if r.txs.len() < 16 {
                    r.txs.push(tx);
                }
            }
            8 => {
                let flags = inp.byte();
                let tx = StompRun::pick(&r.txs, &mut inp, "tx-x");
                let op = if flags & 2 != 0 {
                    r.s.abort(&tx, flags & 1 != 0)
                } else {
                    r.s.commit(&tx, flags & 1 != 0)
                };
                r.ops.issue(op);
            }
            9 => {
                let op = r.s.disconnect(r.now);
                r.ops.issue(op);
            }
            10 => {
                let code = inp.u16();
                let clean = inp.byte() & 1 != 0;
                r.s.handle_close(r.now, code, "closed by fuzzer", clean);
            }
            11 => r.s.handle_open(r.now, ""),
            12 => r.s.flush_queued(),
            13 => {
                // The caller's clock may step back; the session must cope.
                r.now = r.now - u64::from(inp.byte());
                r.s.handle_timeout(r.now);
            }
            14 => {
                let flags = inp.byte();
                if flags & 2 != 0 {
                    r.s.handle_visibility(r.now, flags & 1 != 0);
                } else {
                    r.s.handle_network(r.now, flags & 1 != 0);
                }
            }
            15 => {
                if inp.byte() & 1 != 0 {
                    r.s.handle_open_failed(r.now, "refused by fuzzer");
                } else {
                    r.s.connect(r.now);
                }
            }
            _ => {
                let bytes = inp.chunk16();
                r.s.handle_data(r.now, bytes);
            }
        }
        let _ = (
            r.s.version(),
            r.s.is_connected(),
            r.s.queued(),
            r.s.is_reconnecting(),
            r.s.unconfirmed(),
        );
        r.drain();
    }
    // Disconnect, then the socket closes: the session is over for good, and every op issued
    // has ended exactly once.
    let op = r.s.disconnect(r.now);
    r.ops.issue(op);
    r.drain();
    r.s.handle_close(r.now, 1006, "", false);
    r.drain();
    assert!(
        r.s.is_closed(),
        "not closed after disconnect and socket close"
    );
    assert!(r.closed, "closed without a Closed event");
    for op in &r.ops.issued {
        assert!(
            r.ops.ended.contains_key(op),
            "op {op:?} never completed or failed"
        );
    }
}
