#![cfg(feature = "stomp")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::as_conversions
)]
//! Session transcripts with a fake clock: exact bytes out, events out, deadlines.

use std::collections::BTreeMap;

use fullduplex::stomp::{
    AckMode, AckToken, ConnectOptions, Error, Event, OpId, Session, Transmit, Version,
};
use fullduplex::time::Millis;
use proptest::prelude::*;

fn opts() -> ConnectOptions {
    ConnectOptions {
        login: Some("guest".into()),
        passcode: Some("guest".into()),
        ..ConnectOptions::default()
    }
}

fn frames(s: &mut Session) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(t) = s.poll_transmit() {
        match t {
            Transmit::Frame { data, .. } => out.push(data),
            Transmit::Close { code, reason } => {
                out.push(format!("<close {code} {reason}>").into_bytes());
            }
            Transmit::Open { url } => out.push(format!("<open {url}>").into_bytes()),
        }
    }
    out
}

fn text(frames: &[Vec<u8>]) -> Vec<String> {
    frames
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect()
}

fn events(s: &mut Session) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

/// Opens and connects at t=0 with the given CONNECTED version/heart-beat headers.
fn connected(o: ConnectOptions, connected_frame: &[u8]) -> Session {
    let mut s = Session::new(o);
    s.handle_open(Millis(0), "v12.stomp");
    let _ = frames(&mut s);
    s.handle_data(Millis(0), connected_frame);
    let ev = events(&mut s);
    assert!(matches!(ev[0], Event::Connected { .. }), "{ev:?}");
    s
}

const CONNECTED_12: &[u8] = b"CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0\n";

#[test]
fn connect_frame_exact() {
    let mut s = Session::new(opts());
    assert_eq!(s.subprotocols(), ["v12.stomp", "v11.stomp", "v10.stomp"]);
    assert_eq!(s.poll_timeout(), None);
    s.handle_open(Millis(5), "v12.stomp");
    let f = frames(&mut s);
    assert_eq!(
        text(&f),
        ["CONNECT\naccept-version:1.0,1.1,1.2\nlogin:guest\npasscode:guest\nheart-beat:10000,10000\n\n\0"]
    );
    // Connect timeout armed.
    assert_eq!(s.poll_timeout(), Some(Millis(30_005)));

    let mut s = Session::new(ConnectOptions {
        host: Some("/".into()),
        headers: vec![("client-id".into(), "me".into())],
        accept_versions: vec![Version::V1_2],
        heartbeat_outgoing_ms: 0,
        heartbeat_incoming_ms: 500,
        ..ConnectOptions::default()
    });
    s.handle_open(Millis(0), "");
    assert_eq!(
        text(&frames(&mut s)),
        ["CONNECT\naccept-version:1.2\nhost:/\nheart-beat:0,500\nclient-id:me\n\n\0"]
    );
}

#[test]
fn connected_event_and_version() {
    let mut s = Session::new(opts());
    s.handle_open(Millis(0), "v12.stomp");
    let _ = frames(&mut s);
    assert_eq!(s.version(), None);
    s.handle_data(Millis(1), b"CONNECTED\nversion:1.1\nserver:x\n\n\0");
    assert_eq!(s.version(), Some(Version::V1_1));
    assert!(s.is_connected());
    assert_eq!(
        events(&mut s),
        [Event::Connected {
            version: Version::V1_1,
            headers: vec![
                ("version".into(), "1.1".into()),
                ("server".into(), "x".into())
            ],
            reconnected: false,
        }]
    );
    // No version header: 1.0.
    let s = connected(opts(), b"CONNECTED\n\n\0");
    assert_eq!(s.version(), Some(Version::V1_0));
}

#[test]
fn unsupported_version_is_a_protocol_error() {
    let mut s = Session::new(ConnectOptions {
        accept_versions: vec![Version::V1_2],
        ..opts()
    });
    s.handle_open(Millis(0), "");
    let _ = frames(&mut s);
    s.handle_data(Millis(0), b"CONNECTED\nversion:1.1\n\n\0");
    assert_eq!(
        events(&mut s),
        [Event::ProtocolError {
            error: Error::UnsupportedVersion
        }]
    );
    assert_eq!(
        text(&frames(&mut s)),
        ["<close 4000 server chose a STOMP version we did not offer>"]
    );
}

#[test]
fn queued_before_open_then_flush_after_onopen() {
    let mut s = Session::new(opts());
    let a = s.send("/queue/a", &[("content-type", "text/plain")], b"A", false);
    let b = s.send("/queue/b", &[], b"B", true);
    assert_eq!(s.queued(), 2);
    assert!(frames(&mut s).is_empty());
    s.handle_open(Millis(0), "v12.stomp");
    let f = frames(&mut s);
    assert_eq!(f.len(), 1); // just CONNECT
    s.handle_data(Millis(1), CONNECTED_12);
    assert!(matches!(events(&mut s)[..], [Event::Connected { .. }]));
    // Still queued until the web layer flushes.
    assert!(frames(&mut s).is_empty());
    // The page's onopen subscribes: that goes out first.
    let (sub, c) = s.subscribe("/topic/t", AckMode::Auto, &[], false);
    assert_eq!(sub, "sub-0");
    s.flush_queued();
    assert_eq!(s.queued(), 0);
    assert_eq!(
        text(&frames(&mut s)),
        [
            "SUBSCRIBE\nid:sub-0\ndestination:/topic/t\nack:auto\n\n\0",
            "SEND\ndestination:/queue/a\ncontent-type:text/plain\ncontent-length:1\n\nA\0",
            "SEND\ndestination:/queue/b\nreceipt:rcpt-0\ncontent-length:1\n\nB\0",
        ]
    );
    // Ops without receipt complete when their frame is polled.
    assert_eq!(
        events(&mut s),
        [Event::Completed { op: c }, Event::Completed { op: a }]
    );
    s.handle_data(Millis(2), b"RECEIPT\nreceipt-id:rcpt-0\n\n\0");
    assert_eq!(
        events(&mut s),
        [
            Event::Receipt {
                receipt_id: "rcpt-0".into(),
                headers: vec![("receipt-id".into(), "rcpt-0".into())]
            },
            Event::Completed { op: b }
        ]
    );
}

#[test]
fn receipts_and_user_headers_do_not_duplicate() {
    let mut s = connected(opts(), CONNECTED_12);
    let (id, op) = s.subscribe(
        "/queue/q",
        AckMode::ClientIndividual,
        &[("id", "mine"), ("prefetch-count", "1"), ("receipt", "x")],
        true,
    );
    assert_eq!(
        text(&frames(&mut s)),
        ["SUBSCRIBE\nid:sub-0\ndestination:/queue/q\nack:client-individual\nprefetch-count:1\nreceipt:x\n\n\0"]
    );
    assert_eq!(id, "sub-0");
    assert!(events(&mut s).is_empty());
    // The caller's `receipt` header names the receipt (once: a second "x" in flight gets
    // a generated id).
    let dup = s.send("/queue/q", &[("receipt", "x")], b"", true);
    assert_eq!(
        text(&frames(&mut s)),
        ["SEND\ndestination:/queue/q\nreceipt:rcpt-0\n\n\0"]
    );
    s.handle_data(Millis(1), b"RECEIPT\nreceipt-id:rcpt-0\n\n\0\n");
    assert_eq!(events(&mut s).last(), Some(&Event::Completed { op: dup }));
    s.handle_data(Millis(1), b"RECEIPT\nreceipt-id:x\n\n\0\n");
    let ev = events(&mut s);
    assert_eq!(ev.last(), Some(&Event::Completed { op }));
    let u = s.unsubscribe("sub-0", false);
    assert_eq!(text(&frames(&mut s)), ["UNSUBSCRIBE\nid:sub-0\n\n\0"]);
    assert_eq!(events(&mut s), [Event::Completed { op: u }]);
    let u2 = s.unsubscribe("sub-0", false);
    assert_eq!(
        events(&mut s),
        [Event::Failed {
            op: u2,
            reason: "unknown subscription"
        }]
    );
}

#[test]
fn header_escaping_follows_negotiated_version() {
    let mut s = connected(opts(), CONNECTED_12);
    let _ = s.send("/q", &[("k", "a:b\nc\\d\re")], b"", false);
    assert_eq!(
        text(&frames(&mut s)),
        ["SEND\ndestination:/q\nk:a\\cb\\nc\\\\d\\re\n\n\0"]
    );
    let mut s = connected(opts(), b"CONNECTED\nversion:1.1\n\n\0");
    let _ = s.send("/q", &[("k", "a:b\re")], b"", false);
    assert_eq!(
        text(&frames(&mut s)),
        ["SEND\ndestination:/q\nk:a\\cb\re\n\n\0"]
    );
    let op = s.send("/q", &[("k", "ends in CR\r")], b"", false);
    assert!(frames(&mut s).is_empty());
    assert!(events(&mut s).contains(&Event::Failed {
        op,
        reason: "header not representable in this STOMP version"
    }));
    let mut s = connected(opts(), b"CONNECTED\n\n\0");
    let _ = s.send("/q", &[("k", "a:b\\")], b"", false);
    assert_eq!(
        text(&frames(&mut s)),
        ["SEND\ndestination:/q\nk:a:b\\\n\n\0"]
    );
}

#[test]
fn binary_bodies_and_text_flag() {
    let mut s = connected(opts(), CONNECTED_12);
    let _ = s.send("/q", &[], &[0, 0xff, 0], false);
    let _ = s.send("/q", &[], "héllo".as_bytes(), false);
    let t1 = s.poll_transmit().unwrap();
    let t2 = s.poll_transmit().unwrap();
    assert_eq!(
        t1,
        Transmit::Frame {
            data: b"SEND\ndestination:/q\ncontent-length:3\n\n\0\xff\0\0".to_vec(),
            text: false
        }
    );
    assert!(matches!(t2, Transmit::Frame { text: true, .. }));
}

fn message(ack: &str) -> Vec<u8> {
    format!(
        "MESSAGE\nsubscription:sub-0\nmessage-id:m1\ndestination:/q\n{ack}content-length:2\n\nhi\0\n"
    )
    .into_bytes()
}

fn take_token(s: &mut Session) -> AckToken {
    let ev = events(s);
    match &ev[..] {
        [Event::Message {
            subscription,
            body,
            ack: Some(t),
            ..
        }] => {
            assert_eq!(subscription, "sub-0");
            assert_eq!(body, b"hi");
            t.clone()
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn ack_headers_per_version() {
    // 1.2: id = the MESSAGE's ack header.
    let mut s = connected(opts(), CONNECTED_12);
    let _ = s.subscribe("/q", AckMode::Client, &[], false);
    let _ = frames(&mut s);
    let _ = events(&mut s);
    s.handle_data(Millis(1), &message("ack:A1\n"));
    let t = take_token(&mut s);
    assert_eq!(t.ack.as_deref(), Some("A1"));
    let _ = s.ack(&t, None, false);
    let _ = s.nack(&t, Some("tx-9"), false);
    assert_eq!(
        text(&frames(&mut s)),
        ["ACK\nid:A1\n\n\0", "NACK\nid:A1\ntransaction:tx-9\n\n\0"]
    );

    // 1.1: message-id + subscription.
    let mut s = connected(opts(), b"CONNECTED\nversion:1.1\n\n\0");
    let _ = s.subscribe("/q", AckMode::ClientIndividual, &[], false);
    let _ = frames(&mut s);
    let _ = events(&mut s);
    s.handle_data(Millis(1), &message(""));
    let t = take_token(&mut s);
    let _ = s.ack(&t, None, false);
    let _ = s.nack(&t, None, false);
    assert_eq!(
        text(&frames(&mut s)),
        [
            "ACK\nmessage-id:m1\nsubscription:sub-0\n\n\0",
            "NACK\nmessage-id:m1\nsubscription:sub-0\n\n\0"
        ]
    );

    // 1.0: message-id only; NACK does not exist.
    let mut s = connected(opts(), b"CONNECTED\nversion:1.0\n\n\0");
    let _ = s.subscribe("/q", AckMode::Client, &[], false);
    let _ = frames(&mut s);
    let _ = events(&mut s);
    s.handle_data(Millis(1), &message(""));
    let t = take_token(&mut s);
    let a = s.ack(&t, None, false);
    let n = s.nack(&t, None, false);
    assert_eq!(text(&frames(&mut s)), ["ACK\nmessage-id:m1\n\n\0"]);
    assert_eq!(
        events(&mut s),
        [
            Event::Failed {
                op: n,
                reason: "NACK needs STOMP 1.1 or later"
            },
            Event::Completed { op: a }
        ]
    );
}

#[test]
fn auto_ack_messages_have_no_token() {
    let mut s = connected(opts(), CONNECTED_12);
    let _ = s.subscribe("/q", AckMode::Auto, &[], false);
    let _ = frames(&mut s);
    let _ = events(&mut s);
    s.handle_data(Millis(1), &message("ack:A1\n"));
    assert!(matches!(
        &events(&mut s)[..],
        [Event::Message { ack: None, .. }]
    ));
}

#[test]
fn transactions() {
    let mut s = connected(opts(), CONNECTED_12);
    let (tx, _) = s.begin(false);
    assert_eq!(tx, "tx-0");
    let _ = s.send_in(&tx, "/q", &[("transaction", "other")], b"x", false);
    let _ = s.commit(&tx, false);
    let (tx1, _) = s.begin(false);
    let _ = s.abort(&tx1, true);
    assert_eq!(
        text(&frames(&mut s)),
        [
            "BEGIN\ntransaction:tx-0\n\n\0",
            "SEND\ndestination:/q\ntransaction:tx-0\ncontent-length:1\n\nx\0",
            "COMMIT\ntransaction:tx-0\n\n\0",
            "BEGIN\ntransaction:tx-1\n\n\0",
            "ABORT\ntransaction:tx-1\nreceipt:rcpt-0\n\n\0",
        ]
    );
}

#[test]
fn heartbeats_send_and_timeout() {
    let o = ConnectOptions {
        heartbeat_outgoing_ms: 10_000,
        heartbeat_incoming_ms: 10_000,
        ..opts()
    };
    // Server sends every 30 s at best, wants ours every 5 s: we send every 10 s,
    // and give up after 60 s of silence.
    let mut s = connected(o, b"CONNECTED\nversion:1.2\nheart-beat:30000,5000\n\n\0");
    // CONNECT went out at t=0.
    assert_eq!(s.poll_timeout(), Some(Millis(10_000)));
    s.handle_timeout(Millis(9_999)); // early: no-op
    assert!(frames(&mut s).is_empty());
    s.handle_timeout(Millis(10_000));
    assert_eq!(text(&frames(&mut s)), ["\n"]);
    assert_eq!(s.poll_timeout(), Some(Millis(20_000)));
    // Sending a frame postpones the beat.
    s.handle_data(Millis(15_000), b"\n");
    let _ = s.send("/q", &[], b"", false);
    let _ = frames(&mut s);
    let _ = events(&mut s);
    assert_eq!(s.poll_timeout(), Some(Millis(25_000)));
    // Keep beating until the server is silent for 60 s after its last byte at 15 s.
    let mut t = s.poll_timeout().unwrap();
    let mut beats = 0;
    while t < Millis(75_000) {
        s.handle_timeout(t);
        beats += frames(&mut s).len();
        t = s.poll_timeout().unwrap();
    }
    assert_eq!(beats, 5); // 25, 35, 45, 55, 65 s
    assert_eq!(t, Millis(75_000));
    let pending = s.send("/q", &[], b"", true);
    let _ = frames(&mut s);
    s.handle_timeout(Millis(75_000));
    assert_eq!(
        events(&mut s),
        [
            Event::ProtocolError {
                error: Error::HeartbeatTimeout
            },
            Event::Failed {
                op: pending,
                reason: "server heart-beat timeout"
            }
        ]
    );
    assert_eq!(
        text(&frames(&mut s)),
        ["<close 4001 server heart-beat timeout>"]
    );
    // Only the wait for the socket's close is left (a dead peer never completes it).
    assert_eq!(s.poll_timeout(), Some(Millis(77_000)));
    // Commands after that fail at once.
    let late = s.send("/q", &[], b"", false);
    assert_eq!(
        events(&mut s),
        [Event::Failed {
            op: late,
            reason: "session closed"
        }]
    );
    s.handle_close(Millis(75_010), 4001, "", true);
    assert_eq!(
        events(&mut s),
        [Event::Closed {
            code: 4001,
            reason: String::new(),
            clean: true
        }]
    );
}

#[test]
fn no_heartbeats_when_either_side_declines() {
    let s = connected(opts(), CONNECTED_12);
    assert_eq!(s.poll_timeout(), None);
    let o = ConnectOptions {
        heartbeat_outgoing_ms: 0,
        heartbeat_incoming_ms: 0,
        ..opts()
    };
    let s = connected(o, b"CONNECTED\nversion:1.2\nheart-beat:100,100\n\n\0");
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn connect_timeout() {
    let mut s = Session::new(ConnectOptions {
        connect_timeout_ms: 1000,
        ..opts()
    });
    let q = s.send("/q", &[], b"x", false);
    s.handle_open(Millis(100), "");
    let _ = frames(&mut s);
    s.handle_timeout(Millis(1099));
    assert!(events(&mut s).is_empty());
    s.handle_timeout(Millis(1100));
    assert_eq!(
        events(&mut s),
        [
            Event::ProtocolError {
                error: Error::ConnectTimeout
            },
            Event::Failed {
                op: q,
                reason: "no CONNECTED frame in time"
            }
        ]
    );
    assert_eq!(
        text(&frames(&mut s)),
        ["<close 4001 no CONNECTED frame in time>"]
    );
}

#[test]
fn error_frame_asks_to_close_and_fails_pending() {
    // RabbitMQ, wrong password: ERROR, socket left open.
    let mut s = Session::new(opts());
    let q = s.send("/q", &[], b"x", false);
    s.handle_open(Millis(0), "v12.stomp");
    let _ = frames(&mut s);
    s.handle_data(
        Millis(1),
        b"ERROR\nmessage:Access refused for user 'guest'\ncontent-type:text/plain\nversion:1.0,1.1,1.2\ncontent-length:15\n\nLogin failed...\0\n",
    );
    let ev = events(&mut s);
    match &ev[..] {
        [Event::ServerError { headers, body }, Event::Failed { op, reason }] => {
            assert_eq!(headers[0].1, "Access refused for user 'guest'");
            assert_eq!(body, b"Login failed...");
            assert_eq!(*op, q);
            assert_eq!(*reason, "server sent ERROR");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(text(&frames(&mut s)), ["<close 1000 server error>"]);
    // Bytes after that are ignored.
    s.handle_data(Millis(2), b"MESSAGE\n\n\0");
    assert!(events(&mut s).is_empty());
}

#[test]
fn outbox_overflow_fails_the_op() {
    let mut s = Session::new(ConnectOptions {
        max_outbox: 2,
        ..opts()
    });
    let a = s.send("/q", &[], b"1", false);
    let (_, b) = s.subscribe("/q", AckMode::Auto, &[], false);
    let (sub, c) = s.subscribe("/q", AckMode::Auto, &[], false);
    assert_eq!(
        events(&mut s),
        [Event::Failed {
            op: c,
            reason: "outbox full"
        }]
    );
    // The refused subscription is forgotten.
    let u = s.unsubscribe(&sub, false);
    assert_eq!(
        events(&mut s),
        [Event::Failed {
            op: u,
            reason: "unknown subscription"
        }]
    );
    s.handle_open(Millis(0), "");
    s.handle_data(Millis(0), CONNECTED_12);
    s.flush_queued();
    let _ = frames(&mut s);
    let ev = events(&mut s);
    assert_eq!(
        &ev[1..],
        [Event::Completed { op: a }, Event::Completed { op: b }]
    );
}

#[test]
fn close_fails_pending_ops() {
    let mut s = connected(opts(), CONNECTED_12);
    let r = s.send("/q", &[], b"x", true);
    let _ = frames(&mut s);
    let unsent = s.send("/q", &[], b"y", false); // never polled
    s.handle_close(Millis(5), 1006, "", false);
    assert_eq!(
        events(&mut s),
        [
            Event::Failed {
                op: unsent,
                reason: "connection closed"
            },
            Event::Failed {
                op: r,
                reason: "connection closed"
            },
            Event::Closed {
                code: 1006,
                reason: String::new(),
                clean: false
            }
        ]
    );
    assert!(s.is_closed());
    assert_eq!(s.poll_transmit(), None);
    s.handle_close(Millis(6), 1006, "", false);
    assert!(events(&mut s).is_empty());
}

#[test]
fn close_before_open_fails_queue() {
    let mut s = Session::new(opts());
    let a = s.send("/q", &[], b"x", false);
    s.handle_close(Millis(5), 1006, "refused", false);
    assert_eq!(
        events(&mut s),
        [
            Event::Failed {
                op: a,
                reason: "connection closed"
            },
            Event::Closed {
                code: 1006,
                reason: "refused".into(),
                clean: false
            }
        ]
    );
}

#[test]
fn disconnect_completed_by_server_close() {
    // RabbitMQ never sends the DISCONNECT receipt; it closes with 1000.
    let mut s = connected(opts(), CONNECTED_12);
    let q = s.send("/q", &[], b"x", false);
    let d = s.disconnect(Millis(10));
    assert_eq!(
        text(&frames(&mut s)),
        [
            "SEND\ndestination:/q\ncontent-length:1\n\nx\0",
            "DISCONNECT\nreceipt:rcpt-0\n\n\0"
        ]
    );
    let again = s.disconnect(Millis(11));
    s.handle_close(Millis(20), 1000, "STOMP died", true);
    assert_eq!(
        events(&mut s),
        [
            Event::Completed { op: q },
            Event::Failed {
                op: again,
                reason: "disconnect already requested"
            },
            Event::Completed { op: d },
            Event::Closed {
                code: 1000,
                reason: "STOMP died".into(),
                clean: true
            }
        ]
    );
}

#[test]
fn disconnect_flushes_queued_first() {
    let mut s = Session::new(opts());
    let q = s.send("/q", &[], b"x", false);
    s.handle_open(Millis(0), "");
    s.handle_data(Millis(0), CONNECTED_12);
    let d = s.disconnect(Millis(1));
    let f = text(&frames(&mut s));
    assert_eq!(f.len(), 3);
    assert!(f[1].starts_with("SEND"));
    assert!(f[2].starts_with("DISCONNECT"));
    // Receipt path: completes, then asks to close.
    s.handle_data(Millis(2), b"RECEIPT\nreceipt-id:rcpt-0\n\n\0");
    let ev = events(&mut s);
    assert_eq!(
        &ev[1..],
        [Event::Completed { op: q }, Event::Completed { op: d }]
    );
    assert_eq!(text(&frames(&mut s)), ["<close 1000 disconnect>"]);
}

#[test]
fn disconnect_timeout_closes() {
    let mut s = connected(
        ConnectOptions {
            disconnect_timeout_ms: 500,
            ..opts()
        },
        CONNECTED_12,
    );
    let d = s.disconnect(Millis(100));
    let _ = frames(&mut s);
    assert_eq!(s.poll_timeout(), Some(Millis(600)));
    s.handle_timeout(Millis(600));
    assert_eq!(text(&frames(&mut s)), ["<close 1000 disconnect>"]);
    assert_eq!(events(&mut s), [Event::Completed { op: d }]);
}

#[test]
fn disconnect_before_connected() {
    let mut s = Session::new(opts());
    let q = s.send("/q", &[], b"x", false);
    let d = s.disconnect(Millis(0));
    assert_eq!(text(&frames(&mut s)), ["<close 1000 disconnect>"]);
    s.handle_open(Millis(1), ""); // too late: ignored
    assert!(frames(&mut s).is_empty());
    s.handle_close(Millis(2), 1000, "", true);
    let ev = events(&mut s);
    assert_eq!(
        &ev[..2],
        [
            Event::Failed {
                op: q,
                reason: "session closed"
            },
            Event::Completed { op: d }
        ]
    );
    assert!(matches!(ev[2], Event::Closed { .. }));
}

#[test]
fn unexpected_and_bad_frames() {
    let mut s = Session::new(opts());
    s.handle_open(Millis(0), "");
    let _ = frames(&mut s);
    s.handle_data(Millis(0), b"MESSAGE\n\n\0");
    assert_eq!(
        events(&mut s),
        [Event::ProtocolError {
            error: Error::UnexpectedFrame
        }]
    );
    assert_eq!(
        text(&frames(&mut s)),
        ["<close 4000 unexpected frame from server>"]
    );

    let mut s = connected(opts(), CONNECTED_12);
    s.handle_data(Millis(0), b"MESSAGE\nk:\\t\n\n\0");
    assert_eq!(
        events(&mut s),
        [Event::ProtocolError {
            error: Error::InvalidEscape { offset: 10 }
        }]
    );
}

#[test]
fn frames_split_across_messages_and_batched() {
    let mut s = connected(opts(), CONNECTED_12);
    let _ = s.subscribe("/q", AckMode::Auto, &[], false);
    let _ = frames(&mut s);
    let _ = events(&mut s);
    let m = message("");
    let mut all = m.clone();
    all.extend_from_slice(&m);
    all.extend_from_slice(b"\r\n");
    for i in 0..=all.len() {
        let mut s2 = connected(opts(), CONNECTED_12);
        let (a, b) = all.split_at(i);
        s2.handle_data(Millis(1), a);
        s2.handle_data(Millis(1), b);
        let ev = events(&mut s2);
        assert_eq!(ev.len(), 2, "split {i}");
        assert!(ev
            .iter()
            .all(|e| matches!(e, Event::Message { body, .. } if body == b"hi")));
    }
}

#[test]
fn redaction() {
    let mut s = Session::new(opts());
    s.handle_open(Millis(0), "");
    let Some(Transmit::Frame { data, .. }) = s.poll_transmit() else {
        panic!()
    };
    let shown = fullduplex::stomp::redact(&data);
    assert!(shown.contains("passcode:***\n"));
    assert!(!shown.contains("passcode:guest"));
}

// ---- "every op ends exactly once" and "no input panics" model test ----

#[derive(Clone, Debug)]
enum Act {
    Open,
    Data(Vec<u8>),
    Connected(u8),
    Receipt(u8),
    Error,
    Time(u16),
    Send(bool),
    Subscribe(bool),
    Unsubscribe(u8),
    Ack(bool),
    Begin,
    Disconnect,
    Flush,
    Poll,
    Close,
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        Just(Act::Open),
        prop::collection::vec(
            prop_oneof![Just(b'\n'), Just(0u8), Just(b':'), Just(b'\\'), any::<u8>()],
            0..40
        )
        .prop_map(Act::Data),
        (0u8..4).prop_map(Act::Connected),
        (0u8..8).prop_map(Act::Receipt),
        Just(Act::Error),
        any::<u16>().prop_map(Act::Time),
        any::<bool>().prop_map(Act::Send),
        any::<bool>().prop_map(Act::Subscribe),
        (0u8..4).prop_map(Act::Unsubscribe),
        any::<bool>().prop_map(Act::Ack),
        Just(Act::Begin),
        Just(Act::Disconnect),
        Just(Act::Flush),
        Just(Act::Poll),
        Just(Act::Close),
    ]
}

fn drain(
    s: &mut Session,
    ends: &mut BTreeMap<OpId, u32>,
    closed: &mut u32,
) -> Result<(), TestCaseError> {
    while s.poll_transmit().is_some() {}
    while let Some(e) = s.poll_event() {
        // After Closed only failures of commands issued later may follow.
        if *closed > 0 {
            prop_assert!(matches!(e, Event::Failed { .. }), "after Closed: {:?}", e);
        }
        match e {
            Event::Completed { op } | Event::Failed { op, .. } => {
                *ends.entry(op).or_default() += 1;
            }
            Event::Closed { .. } => *closed += 1,
            _ => {}
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_op_ends_exactly_once(acts in prop::collection::vec(act(), 0..40), max_outbox in 0usize..4) {
        let mut s = Session::new(ConnectOptions { max_outbox, connect_timeout_ms: 5000, ..opts() });
        let mut now = 0u64;
        let mut ops: Vec<OpId> = Vec::new();
        let mut ends: BTreeMap<OpId, u32> = BTreeMap::new();
        let mut closed = 0;
        let token = AckToken { message_id: "m".into(), subscription: "sub-0".into(), ack: Some("a".into()), connection: 1 };
        for a in acts {
            match a {
                Act::Open => s.handle_open(Millis(now), "v12.stomp"),
                Act::Data(d) => s.handle_data(Millis(now), &d),
                Act::Connected(v) => {
                    let f = format!("CONNECTED\nversion:1.{v}\nheart-beat:100,100\n\n\0");
                    s.handle_data(Millis(now), f.as_bytes());
                }
                Act::Receipt(r) => {
                    let f = format!("RECEIPT\nreceipt-id:rcpt-{r}\n\n\0");
                    s.handle_data(Millis(now), f.as_bytes());
                }
                Act::Error => s.handle_data(Millis(now), b"ERROR\nmessage:x\n\n\0"),
                Act::Time(dt) => {
                    now += u64::from(dt);
                    s.handle_timeout(Millis(now));
                }
                Act::Send(r) => ops.push(s.send("/q", &[("h", "v\n")], b"b\0", r)),
                Act::Subscribe(r) => ops.push(s.subscribe("/q", AckMode::Client, &[], r).1),
                Act::Unsubscribe(i) => ops.push(s.unsubscribe(&format!("sub-{i}"), true)),
                Act::Ack(n) => ops.push(if n { s.nack(&token, None, true) } else { s.ack(&token, Some("tx-0"), false) }),
                Act::Begin => ops.push(s.begin(true).1),
                Act::Disconnect => ops.push(s.disconnect(Millis(now))),
                Act::Flush => s.flush_queued(),
                Act::Poll => drain(&mut s, &mut ends, &mut closed)?,
                Act::Close => s.handle_close(Millis(now), 1006, "", false),
            }
        }
        s.handle_close(Millis(now), 1000, "end", true);
        drain(&mut s, &mut ends, &mut closed)?;
        prop_assert_eq!(closed, 1);
        for op in &ops {
            prop_assert_eq!(ends.get(op).copied(), Some(1), "op {:?}", op);
        }
        prop_assert_eq!(ends.len(), ops.len());
    }
}
