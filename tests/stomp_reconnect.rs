#![cfg(feature = "stomp")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::as_conversions
)]
//! Reconnection transcripts with a fake clock: the retry schedule and URL rotation, what a new
//! connection carries over (subscriptions under their ids, unconfirmed SENDs, the outbox) and
//! what fails clearly (transactions, acknowledgements of an earlier connection), the off
//! switches (disconnect, ERROR, bad bytes, max attempts), the network and visibility signals,
//! and a property: across any sequence of drops every op still ends exactly once.

use std::collections::BTreeMap;

use fullduplex::reconnect::ReconnectConfig;
use fullduplex::stomp::{AckMode, AckToken, ConnectOptions, Event, OpId, Session, Transmit};
use fullduplex::time::Millis;
use proptest::prelude::*;

const CONNECTED: &[u8] = b"CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0\n";

fn opts(urls: &[&str]) -> ConnectOptions {
    ConnectOptions {
        urls: urls.iter().map(|u| (*u).to_owned()).collect(),
        reconnect: ReconnectConfig {
            enabled: true,
            initial_delay_ms: 1000,
            max_delay_ms: 8000,
            max_attempts: 0,
        },
        heartbeat_outgoing_ms: 0,
        heartbeat_incoming_ms: 0,
        seed: 7,
        ..ConnectOptions::default()
    }
}

/// Everything the session asks of the socket, as text.
fn out(s: &mut Session) -> Vec<String> {
    std::iter::from_fn(|| s.poll_transmit())
        .map(|t| match t {
            Transmit::Frame { data, .. } => String::from_utf8_lossy(&data).into_owned(),
            Transmit::Close { code, reason } => format!("<close {code} {reason}>"),
            Transmit::Open { url } => format!("<open {url}>"),
        })
        .collect()
}

fn events(s: &mut Session) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

/// Socket opens at `t`, CONNECT goes out, CONNECTED comes back; returns the frames written
/// after CONNECT (restored SUBSCRIBEs) and the events.
fn establish(s: &mut Session, t: u64) -> (Vec<String>, Vec<Event>) {
    s.handle_open(Millis(t), "v12.stomp");
    let connect = out(s);
    assert_eq!(connect.len(), 1);
    assert!(connect[0].starts_with("CONNECT\n"), "{connect:?}");
    s.handle_data(Millis(t), CONNECTED);
    (out(s), events(s))
}

/// Runs the clock to the scheduled retry and returns what it asked for.
fn retry(s: &mut Session) -> (Millis, Vec<String>) {
    let at = s.poll_timeout().expect("a retry is scheduled");
    s.handle_timeout(at - 1);
    assert!(out(s).is_empty(), "early timeout must do nothing");
    s.handle_timeout(at);
    (at, out(s))
}

fn reconnecting(ev: &Event) -> (u32, Option<u64>, &str) {
    match ev {
        Event::Reconnecting {
            attempt,
            delay_ms,
            url,
            ..
        } => (*attempt, *delay_ms, url.as_str()),
        other => panic!("expected Reconnecting, got {other:?}"),
    }
}

#[test]
fn credentials_in_a_url_are_masked_in_the_event_not_in_the_socket_request() {
    let mut s = Session::new(opts(&["ws://u:secret@a/ws"]));
    s.connect(Millis(0));
    assert_eq!(out(&mut s), ["<open ws://u:secret@a/ws>"]);
    s.handle_close(Millis(0), 1006, "", false);
    let ev = events(&mut s);
    assert_eq!(reconnecting(&ev[0]).2, "ws://***@a/ws");
    assert!(!format!("{ev:?}").contains("secret"), "{ev:?}");
    let (_, asked) = retry(&mut s);
    assert_eq!(asked, ["<open ws://u:secret@a/ws>"]);
}

#[test]
fn connect_asks_for_the_first_url_and_failures_rotate_with_growing_delays() {
    let mut s = Session::new(opts(&["ws://a/ws", "ws://b/ws"]));
    assert!(out(&mut s).is_empty());
    s.connect(Millis(0));
    assert_eq!(out(&mut s), ["<open ws://a/ws>"]);
    // Only once.
    s.connect(Millis(0));
    assert!(out(&mut s).is_empty());
    // The socket opening is bounded by the connect timeout too.
    assert_eq!(s.poll_timeout(), Some(Millis(30_000)));

    let mut now = 0;
    let mut seen = Vec::new();
    for attempt in 1..=5u32 {
        // Refused: the socket closes without opening.
        s.handle_close(Millis(now), 1006, "", false);
        let ev = events(&mut s);
        assert_eq!(ev.len(), 1, "{ev:?}");
        let (n, delay, url) = reconnecting(&ev[0]);
        assert_eq!(n, attempt);
        let delay = delay.unwrap();
        let ceiling = (1000u64 << (attempt - 1)).min(8000);
        assert!(
            (ceiling / 2..=ceiling).contains(&delay),
            "attempt {attempt}: {delay}"
        );
        let expected_url = if attempt % 2 == 1 {
            "ws://b/ws"
        } else {
            "ws://a/ws"
        };
        assert_eq!(url, expected_url);
        assert!(s.is_reconnecting() || attempt == 1 || !s.is_connected());
        let (at, asked) = retry(&mut s);
        assert_eq!(at, Millis(now + delay));
        assert_eq!(asked, [format!("<open {expected_url}>")]);
        now = at.0;
        seen.push((url.to_owned(), delay));
    }
    assert_eq!(seen.len(), 5);
}

#[test]
fn a_new_connection_restores_subscriptions_resends_unconfirmed_and_flushes_the_outbox() {
    let mut s = Session::new(opts(&["ws://a/ws"]));
    s.connect(Millis(0));
    assert_eq!(out(&mut s), ["<open ws://a/ws>"]);
    let (_, ev) = establish(&mut s, 0);
    assert!(matches!(
        ev[..],
        [Event::Connected {
            reconnected: false,
            ..
        }]
    ));
    s.flush_queued();
    assert_eq!(s.connection(), 1);

    // Two subscriptions (one confirmed), a confirmed and an unconfirmed SEND, one without
    // receipt, and an open transaction with a SEND in it.
    let (a, a_op) = s.subscribe(
        "/queue/a",
        AckMode::ClientIndividual,
        &[("prefetch-count", "5")],
        true,
    );
    let (b, b_op) = s.subscribe("/topic/b", AckMode::Auto, &[], false);
    let confirmed = s.send("/queue/a", &[("receipt", "c1")], b"one", true);
    let unconfirmed = s.send("/queue/a", &[("receipt", "u1"), ("seq", "2")], b"two", true);
    let plain = s.send("/queue/a", &[], b"three", false);
    let (tx, begin) = s.begin(true);
    let in_tx = s.send_in(&tx, "/queue/a", &[], b"tx", true);
    let written = out(&mut s);
    assert_eq!(written.len(), 7);
    assert_eq!(
        written[0],
        "SUBSCRIBE\nid:sub-0\ndestination:/queue/a\nack:client-individual\nprefetch-count:5\nreceipt:rcpt-0\n\n\0"
    );
    s.handle_data(Millis(10), b"RECEIPT\nreceipt-id:rcpt-0\n\n\0");
    s.handle_data(Millis(10), b"RECEIPT\nreceipt-id:c1\n\n\0");
    s.handle_data(
        Millis(11),
        b"MESSAGE\nsubscription:sub-0\nmessage-id:m1\nack:k1\ndestination:/queue/a\n\nhello\0",
    );
    let ev = events(&mut s);
    let token = ev
        .iter()
        .find_map(|e| match e {
            Event::Message { ack, .. } => ack.clone(),
            _ => None,
        })
        .unwrap();
    assert_eq!(token.connection, 1);
    for op in [a_op, b_op, confirmed, plain] {
        assert!(ev.contains(&Event::Completed { op }), "{op:?} in {ev:?}");
    }

    // The broker goes away.
    s.handle_close(Millis(20), 1006, "", false);
    let ev = events(&mut s);
    assert_eq!(
        ev[..2],
        [
            Event::Failed {
                op: begin,
                reason: "transaction lost with the connection (the broker aborted it)"
            },
            Event::Failed {
                op: in_tx,
                reason: "transaction lost with the connection (the broker aborted it)"
            },
        ]
    );
    assert_eq!(reconnecting(&ev[2]).0, 1);
    assert_eq!(
        ev.len(),
        3,
        "the unconfirmed SEND neither completes nor fails: {ev:?}"
    );
    assert!(!s.is_connected());
    assert!(s.is_reconnecting());
    assert_eq!(s.version(), None);
    assert_eq!(s.unconfirmed(), 1);

    // Offline: commands go to the outbox.
    let later = s.send("/queue/a", &[], b"four", true);
    let stale = s.ack(&token, None, false);
    let commit = s.commit(&tx, true);
    assert_eq!(s.queued(), 3);
    assert!(events(&mut s).is_empty());

    let (_, asked) = retry(&mut s);
    assert_eq!(asked, ["<open ws://a/ws>"]);
    let (restored, ev) = establish(&mut s, 5000);
    // Same ids, with receipts of the session's own, before the page hears of the connection.
    assert_eq!(
        restored,
        [
            "SUBSCRIBE\nid:sub-0\ndestination:/queue/a\nack:client-individual\nprefetch-count:5\nreceipt:rcpt-3\n\n\0",
            "SUBSCRIBE\nid:sub-1\ndestination:/topic/b\nack:auto\nreceipt:rcpt-4\n\n\0",
        ]
    );
    assert!(matches!(
        ev[..],
        [Event::Connected {
            reconnected: true,
            ..
        }]
    ));
    assert_eq!(s.connection(), 2);
    assert_eq!((a.as_str(), b.as_str()), ("sub-0", "sub-1"));

    // After the page's handler: the unconfirmed SEND again (same receipt id), then the outbox.
    s.flush_queued();
    assert_eq!(
        out(&mut s),
        [
            "SEND\ndestination:/queue/a\nseq:2\nreceipt:u1\ncontent-length:3\n\ntwo\0",
            "SEND\ndestination:/queue/a\nreceipt:rcpt-5\ncontent-length:4\n\nfour\0",
        ]
    );
    assert_eq!(
        events(&mut s),
        [
            Event::Failed {
                op: stale,
                reason: "message received on an earlier connection (the broker redelivers it; acknowledge the new copy)"
            },
            Event::Failed {
                op: commit,
                reason: "transaction lost with the connection (the broker aborted it)"
            },
        ]
    );
    // The restoring receipts concern nobody; the re-sent SEND completes on its new receipt.
    s.handle_data(Millis(5001), b"RECEIPT\nreceipt-id:rcpt-3\n\n\0");
    s.handle_data(Millis(5001), b"RECEIPT\nreceipt-id:rcpt-4\n\n\0");
    assert!(events(&mut s).is_empty());
    s.handle_data(Millis(5002), b"RECEIPT\nreceipt-id:u1\n\n\0");
    s.handle_data(Millis(5002), b"RECEIPT\nreceipt-id:rcpt-5\n\n\0");
    let ev = events(&mut s);
    assert!(ev.contains(&Event::Completed { op: unconfirmed }));
    assert!(ev.contains(&Event::Completed { op: later }));
    assert_eq!(s.unconfirmed(), 0);

    // Messages of the restored subscription arrive under the old id, with a fresh token.
    s.handle_data(
        Millis(5003),
        b"MESSAGE\nsubscription:sub-0\nmessage-id:m1\nack:k9\nredelivered:true\n\nhello\0",
    );
    let ev = events(&mut s);
    let Event::Message {
        subscription, ack, ..
    } = &ev[0]
    else {
        panic!("{ev:?}")
    };
    assert_eq!(subscription, "sub-0");
    let fresh = ack.clone().unwrap();
    assert_eq!(fresh.connection, 2);
    // The old token still fails on the new connection; the new one goes out.
    let old = s.ack(&token, None, false);
    let new = s.ack(&fresh, None, false);
    assert_eq!(out(&mut s), ["ACK\nid:k9\n\n\0"]);
    let ev = events(&mut s);
    assert!(matches!(ev[0], Event::Failed { op, .. } if op == old));
    assert_eq!(ev[1], Event::Completed { op: new });
}

#[test]
fn a_receipted_subscribe_lost_with_the_connection_completes_on_the_restore() {
    let mut s = Session::new(opts(&["ws://a/ws"]));
    s.connect(Millis(0));
    let _ = out(&mut s);
    let _ = establish(&mut s, 0);
    s.flush_queued();
    let (_, op) = s.subscribe("/queue/a", AckMode::Auto, &[("receipt", "mine")], true);
    let _ = out(&mut s);
    s.handle_close(Millis(1), 1006, "", false);
    let _ = events(&mut s);
    let _ = retry(&mut s);
    let (restored, _) = establish(&mut s, 3000);
    // The caller's receipt id is reused on the restoring SUBSCRIBE.
    assert_eq!(
        restored,
        ["SUBSCRIBE\nid:sub-0\ndestination:/queue/a\nack:auto\nreceipt:mine\n\n\0"]
    );
    s.handle_data(Millis(3001), b"RECEIPT\nreceipt-id:mine\n\n\0");
    let ev = events(&mut s);
    assert_eq!(ev.last(), Some(&Event::Completed { op }));
    assert!(matches!(ev[0], Event::Receipt { .. }));
}

#[test]
fn subscribing_again_in_the_reconnect_handler_reuses_the_restored_subscription() {
    // The talk's slide subscribes in onopen; after a reconnect that must not double it.
    let mut s = Session::new(opts(&["ws://a/ws"]));
    s.connect(Millis(0));
    let _ = out(&mut s);
    let _ = establish(&mut s, 0);
    let (first, _) = s.subscribe("/topic/destination", AckMode::Auto, &[], false);
    s.flush_queued();
    let _ = out(&mut s);
    let _ = events(&mut s);
    s.handle_close(Millis(1), 1006, "", false);
    let _ = events(&mut s);
    let _ = retry(&mut s);
    let (restored, _) = establish(&mut s, 3000);
    assert_eq!(restored.len(), 1);
    // In onopen (before flush_queued): the same subscribe returns the same id, no frame.
    let (again, op) = s.subscribe("/topic/destination", AckMode::Auto, &[], false);
    assert_eq!(again, first);
    assert!(out(&mut s).is_empty());
    assert_eq!(events(&mut s), [Event::Completed { op }]);
    // A second identical subscribe is a new subscription.
    let (third, _) = s.subscribe("/topic/destination", AckMode::Auto, &[], false);
    assert_ne!(third, first);
    assert_eq!(out(&mut s).len(), 1);
    s.flush_queued();
    // After the handler, nothing is claimable any more.
    s.handle_close(Millis(3001), 1006, "", false);
    let _ = events(&mut s);
    let _ = retry(&mut s);
    let (restored, _) = establish(&mut s, 9000);
    assert_eq!(restored.len(), 2);
    s.flush_queued();
    let (fourth, _) = s.subscribe("/topic/other", AckMode::Auto, &[], false);
    assert_ne!(fourth, first);
}

#[test]
fn unsubscribing_while_offline_drops_the_subscription_for_good() {
    let mut s = Session::new(opts(&["ws://a/ws"]));
    s.connect(Millis(0));
    let _ = out(&mut s);
    let _ = establish(&mut s, 0);
    s.flush_queued();
    let (a, _) = s.subscribe("/queue/a", AckMode::Auto, &[], false);
    let (_b, _) = s.subscribe("/queue/b", AckMode::Auto, &[], false);
    let _ = out(&mut s);
    s.handle_close(Millis(1), 1006, "", false);
    let _ = events(&mut s);
    let u = s.unsubscribe(&a, true);
    assert_eq!(events(&mut s), [Event::Completed { op: u }]);
    // A subscription made offline and dropped offline never reaches the wire.
    let (c, c_op) = s.subscribe("/queue/c", AckMode::Auto, &[], false);
    let cu = s.unsubscribe(&c, false);
    let ev = events(&mut s);
    assert!(matches!(ev[0], Event::Failed { op, .. } if op == c_op));
    assert_eq!(ev[1], Event::Completed { op: cu });
    let _ = retry(&mut s);
    let (restored, _) = establish(&mut s, 3000);
    assert_eq!(restored.len(), 1);
    assert!(restored[0].contains("id:sub-1\ndestination:/queue/b"));
    s.flush_queued();
    assert!(out(&mut s).is_empty());
}

#[test]
fn outbox_is_bounded_while_offline() {
    let mut s = Session::new(ConnectOptions {
        max_outbox: 2,
        ..opts(&["ws://a/ws"])
    });
    s.connect(Millis(0));
    let _ = out(&mut s);
    let _ = establish(&mut s, 0);
    s.flush_queued();
    s.handle_close(Millis(1), 1006, "", false);
    let _ = events(&mut s);
    let a = s.send("/q", &[], b"a", false);
    let b = s.send("/q", &[], b"b", false);
    let c = s.send("/q", &[], b"c", false);
    assert_eq!(
        events(&mut s),
        [Event::Failed {
            op: c,
            reason: "outbox full"
        }]
    );
    let _ = retry(&mut s);
    let _ = establish(&mut s, 3000);
    s.flush_queued();
    assert_eq!(out(&mut s).len(), 2);
    assert_eq!(
        events(&mut s),
        [Event::Completed { op: a }, Event::Completed { op: b }]
    );
}

#[test]
fn disconnect_while_waiting_stops_retrying_at_once() {
    let mut s = Session::new(opts(&["ws://a/ws"]));
    s.connect(Millis(0));
    let _ = out(&mut s);
    let _ = establish(&mut s, 0);
    s.flush_queued();
    let unconfirmed = s.send("/q", &[], b"x", true);
    let _ = out(&mut s);
    s.handle_close(Millis(1), 1006, "", false);
    let _ = events(&mut s);
    let queued = s.send("/q", &[], b"y", false);
    let d = s.disconnect(Millis(2));
    assert_eq!(s.poll_timeout(), None);
    assert!(out(&mut s).is_empty());
    let ev = events(&mut s);
    assert_eq!(
        ev,
        [
            Event::Failed {
                op: unconfirmed,
                reason: "session closed"
            },
            Event::Failed {
                op: queued,
                reason: "session closed"
            },
            Event::Completed { op: d },
            Event::Closed {
                code: 1000,
                reason: "disconnect".into(),
                clean: true
            },
        ]
    );
    assert!(s.is_closed());
    s.handle_timeout(Millis(1_000_000));
    s.handle_network(Millis(1_000_000), true);
    s.handle_visibility(Millis(1_000_000), true);
    s.handle_timeout(Millis(1_000_000));
    assert!(out(&mut s).is_empty());
    let late = s.send("/q", &[], b"z", false);
    assert_eq!(
        events(&mut s),
        [Event::Failed {
            op: late,
            reason: "session closed"
        }]
    );
}

#[test]
fn disconnect_while_a_retry_socket_opens_closes_it_for_good() {
    let mut s = Session::new(opts(&["ws://a/ws"]));
    s.connect(Millis(0));
    let _ = out(&mut s);
    s.handle_close(Millis(0), 1006, "", false);
    let _ = events(&mut s);
    let _ = retry(&mut s);
    let d = s.disconnect(Millis(2000));
    assert_eq!(out(&mut s), ["<close 1000 disconnect>"]);
    s.handle_close(Millis(2001), 1006, "", false);
    let ev = events(&mut s);
    assert_eq!(ev[0], Event::Completed { op: d });
    assert!(matches!(ev[1], Event::Closed { .. }));
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn disconnect_during_a_timeout_close_is_the_last_close() {
    let mut s = Session::new(ConnectOptions {
        heartbeat_incoming_ms: 100,
        ..opts(&["ws://a/ws"])
    });
    s.connect(Millis(0));
    let _ = out(&mut s);
    s.handle_open(Millis(0), "");
    let _ = out(&mut s);
    s.handle_data(Millis(0), b"CONNECTED\nversion:1.2\nheart-beat:100,0\n\n\0");
    s.flush_queued();
    let _ = events(&mut s);
    let pending = s.send("/q", &[], b"x", true);
    let _ = out(&mut s);
    s.handle_timeout(Millis(200));
    assert_eq!(out(&mut s), ["<close 4001 server heart-beat timeout>"]);
    assert!(matches!(events(&mut s)[..], [Event::ProtocolError { .. }]));
    // Commands made now wait for the next connection...
    let q = s.send("/q", &[], b"y", false);
    assert!(events(&mut s).is_empty());
    // ...unless the page gives up.
    let d = s.disconnect(Millis(201));
    s.handle_close(Millis(202), 4001, "", false);
    let ev = events(&mut s);
    assert!(ev.contains(&Event::Failed {
        op: pending,
        reason: "session closed"
    }));
    assert!(ev.contains(&Event::Failed {
        op: q,
        reason: "session closed"
    }));
    assert!(ev.contains(&Event::Completed { op: d }));
    assert!(matches!(ev.last(), Some(Event::Closed { .. })));
}

#[test]
fn timeouts_are_retried_but_errors_and_bad_bytes_are_not() {
    // Heart-beat timeout: retried.
    let mut s = Session::new(ConnectOptions {
        heartbeat_incoming_ms: 100,
        ..opts(&["ws://a/ws"])
    });
    s.connect(Millis(0));
    let _ = out(&mut s);
    s.handle_open(Millis(0), "");
    let _ = out(&mut s);
    s.handle_data(Millis(0), b"CONNECTED\nversion:1.2\nheart-beat:100,0\n\n\0");
    let _ = events(&mut s);
    s.handle_timeout(Millis(200));
    let _ = out(&mut s);
    s.handle_close(Millis(201), 4001, "", false);
    let ev = events(&mut s);
    assert!(matches!(ev[0], Event::ProtocolError { .. }));
    assert_eq!(reconnecting(&ev[1]).0, 1);

    // The socket never opens: the connect timeout closes it and the next attempt follows.
    let mut s = Session::new(ConnectOptions {
        connect_timeout_ms: 500,
        ..opts(&["ws://a/ws"])
    });
    s.connect(Millis(0));
    let _ = out(&mut s);
    assert_eq!(s.poll_timeout(), Some(Millis(500)));
    s.handle_timeout(Millis(500));
    assert_eq!(out(&mut s), ["<close 4001 no CONNECTED frame in time>"]);
    s.handle_close(Millis(501), 1006, "", false);
    let ev = events(&mut s);
    assert!(matches!(ev[0], Event::ProtocolError { .. }));
    assert_eq!(reconnecting(&ev[1]).0, 1);

    // ERROR (a refused login, or a refused command): not retried.
    let mut s = Session::new(opts(&["ws://a/ws"]));
    s.connect(Millis(0));
    let _ = out(&mut s);
    s.handle_open(Millis(0), "");
    let _ = out(&mut s);
    s.handle_data(Millis(1), b"ERROR\nmessage:Bad CONNECT\n\nAccess refused\0");
    assert_eq!(out(&mut s), ["<close 1000 server error>"]);
    s.handle_close(Millis(2), 1000, "", true);
    let ev = events(&mut s);
    assert!(matches!(ev[0], Event::ServerError { .. }));
    assert!(matches!(ev[1], Event::Closed { .. }));
    assert_eq!(s.poll_timeout(), None);

    // Bad bytes: not retried.
    let mut s = Session::new(opts(&["ws://a/ws"]));
    s.connect(Millis(0));
    let _ = out(&mut s);
    let _ = establish(&mut s, 0);
    s.handle_data(Millis(1), b"BOGUS\n\n\0");
    let _ = out(&mut s);
    s.handle_close(Millis(2), 4000, "", true);
    let ev = events(&mut s);
    assert!(matches!(ev[0], Event::ProtocolError { .. }));
    assert!(matches!(ev[1], Event::Closed { .. }));
    assert!(s.is_closed());
}

#[test]
fn gives_up_after_max_attempts() {
    let mut s = Session::new(ConnectOptions {
        reconnect: ReconnectConfig {
            max_attempts: 2,
            ..opts(&[]).reconnect
        },
        ..opts(&["ws://a/ws"])
    });
    s.connect(Millis(0));
    let _ = out(&mut s);
    let q = s.send("/q", &[], b"x", false);
    for _ in 0..2 {
        s.handle_close(s.poll_timeout().unwrap_or(Millis(0)), 1006, "", false);
        assert!(matches!(events(&mut s)[..], [Event::Reconnecting { .. }]));
        let _ = retry(&mut s);
    }
    s.handle_close(Millis(60_000), 1006, "refused", false);
    assert_eq!(
        events(&mut s),
        [
            Event::Failed {
                op: q,
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
fn reconnect_off_or_without_urls_closes_as_before() {
    for o in [
        ConnectOptions {
            reconnect: ReconnectConfig::disabled(),
            ..opts(&["ws://a/ws"])
        },
        opts(&[]),
    ] {
        let mut s = Session::new(o);
        s.connect(Millis(0));
        let _ = out(&mut s);
        s.handle_open(Millis(0), "");
        let _ = out(&mut s);
        s.handle_data(Millis(0), CONNECTED);
        let _ = events(&mut s);
        let p = s.send("/q", &[], b"x", true);
        let _ = out(&mut s);
        s.handle_close(Millis(1), 1006, "", false);
        let ev = events(&mut s);
        assert_eq!(
            ev[0],
            Event::Failed {
                op: p,
                reason: "connection closed"
            }
        );
        assert!(matches!(ev[1], Event::Closed { .. }));
    }
}

#[test]
fn offline_waits_for_the_network_and_visibility_cuts_the_wait() {
    let mut s = Session::new(ConnectOptions {
        reconnect: ReconnectConfig {
            initial_delay_ms: 20_000,
            max_delay_ms: 20_000,
            ..opts(&[]).reconnect
        },
        ..opts(&["ws://a/ws"])
    });
    s.connect(Millis(0));
    let _ = out(&mut s);
    let _ = establish(&mut s, 0);
    s.handle_network(Millis(5), false);
    s.handle_close(Millis(10), 1006, "", false);
    let ev = events(&mut s);
    assert_eq!(reconnecting(&ev[0]).1, None);
    assert_eq!(s.poll_timeout(), None);
    s.handle_network(Millis(5000), true);
    assert_eq!(s.poll_timeout(), Some(Millis(5000)));
    s.handle_timeout(Millis(5000));
    assert_eq!(out(&mut s), ["<open ws://a/ws>"]);
    // Refused again: a long wait, cut short when the page is looked at.
    s.handle_close(Millis(5001), 1006, "", false);
    let ev = events(&mut s);
    assert!(reconnecting(&ev[0]).1.unwrap() >= 10_000);
    s.handle_visibility(Millis(6000), false);
    assert!(s.poll_timeout().unwrap() > Millis(15_000));
    s.handle_visibility(Millis(7000), true);
    assert_eq!(s.poll_timeout(), Some(Millis(7000)));
}

// ---------------------------------------------------------------------------------------------
// Property: with reconnection on, any interleaving of commands, drops, timeouts and frames
// still ends every op exactly once, and the session ends with one Closed.

#[derive(Debug, Clone)]
enum Act {
    Open,
    Connected,
    Receipt(u8),
    Message,
    Error,
    Time(u16),
    Send(bool),
    Subscribe(bool),
    Unsubscribe(u8),
    Ack(bool),
    Begin,
    SendInTx,
    Commit,
    Disconnect,
    Flush,
    Poll,
    Close,
    Network(bool),
    Visible(bool),
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        3 => Just(Act::Open),
        3 => Just(Act::Connected),
        3 => (0u8..12).prop_map(Act::Receipt),
        2 => Just(Act::Message),
        1 => Just(Act::Error),
        3 => (0u16..3000).prop_map(Act::Time),
        4 => any::<bool>().prop_map(Act::Send),
        2 => any::<bool>().prop_map(Act::Subscribe),
        1 => (0u8..4).prop_map(Act::Unsubscribe),
        2 => any::<bool>().prop_map(Act::Ack),
        1 => Just(Act::Begin),
        1 => Just(Act::SendInTx),
        1 => Just(Act::Commit),
        1 => Just(Act::Disconnect),
        2 => Just(Act::Flush),
        3 => Just(Act::Poll),
        3 => Just(Act::Close),
        1 => any::<bool>().prop_map(Act::Network),
        1 => any::<bool>().prop_map(Act::Visible),
    ]
}

fn drain(
    s: &mut Session,
    ends: &mut BTreeMap<OpId, u32>,
    closed: &mut u32,
    tokens: &mut Vec<AckToken>,
) -> Result<(), TestCaseError> {
    while s.poll_transmit().is_some() {}
    while let Some(e) = s.poll_event() {
        if *closed > 0 {
            prop_assert!(matches!(e, Event::Failed { .. }), "after Closed: {:?}", e);
        }
        match e {
            Event::Completed { op } | Event::Failed { op, .. } => {
                *ends.entry(op).or_default() += 1;
            }
            Event::Closed { .. } => *closed += 1,
            Event::Message { ack: Some(t), .. } => tokens.push(t),
            _ => {}
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_op_ends_exactly_once_across_reconnects(
        acts in prop::collection::vec(act(), 0..60),
        max_outbox in 0usize..4,
        max_attempts in 0u32..3,
    ) {
        let mut s = Session::new(ConnectOptions {
            max_outbox,
            connect_timeout_ms: 2000,
            heartbeat_incoming_ms: 500,
            reconnect: ReconnectConfig { initial_delay_ms: 100, max_delay_ms: 1000, max_attempts, enabled: true },
            ..opts(&["ws://a/ws", "ws://b/ws"])
        });
        s.connect(Millis(0));
        let mut now = 0u64;
        let mut ops: Vec<OpId> = Vec::new();
        let mut ends: BTreeMap<OpId, u32> = BTreeMap::new();
        let mut closed = 0;
        let mut tokens: Vec<AckToken> = Vec::new();
        let mut tx = String::from("tx-0");
        for a in acts {
            match a {
                Act::Open => s.handle_open(Millis(now), "v12.stomp"),
                Act::Connected => s.handle_data(Millis(now), b"CONNECTED\nversion:1.2\nheart-beat:500,0\n\n\0"),
                Act::Receipt(r) => {
                    let f = format!("RECEIPT\nreceipt-id:rcpt-{r}\n\n\0");
                    s.handle_data(Millis(now), f.as_bytes());
                }
                Act::Message => s.handle_data(Millis(now), b"MESSAGE\nsubscription:sub-0\nmessage-id:m\nack:a\n\nx\0"),
                Act::Error => s.handle_data(Millis(now), b"ERROR\nmessage:x\n\n\0"),
                Act::Time(dt) => {
                    now += u64::from(dt);
                    s.handle_timeout(Millis(now));
                }
                Act::Send(r) => ops.push(s.send("/q", &[], b"b", r)),
                Act::Subscribe(r) => ops.push(s.subscribe("/q", AckMode::ClientIndividual, &[], r).1),
                Act::Unsubscribe(i) => ops.push(s.unsubscribe(&format!("sub-{i}"), true)),
                Act::Ack(r) => {
                    let t = tokens.last().cloned().unwrap_or(AckToken {
                        message_id: "m".into(), subscription: "sub-0".into(), ack: None, connection: 1,
                    });
                    ops.push(s.ack(&t, None, r));
                }
                Act::Begin => {
                    let (t, op) = s.begin(true);
                    tx = t;
                    ops.push(op);
                }
                Act::SendInTx => ops.push(s.send_in(&tx, "/q", &[], b"t", true)),
                Act::Commit => ops.push(s.commit(&tx, true)),
                Act::Disconnect => ops.push(s.disconnect(Millis(now))),
                Act::Flush => s.flush_queued(),
                Act::Poll => drain(&mut s, &mut ends, &mut closed, &mut tokens)?,
                Act::Close => s.handle_close(Millis(now), 1006, "", false),
                Act::Network(on) => s.handle_network(Millis(now), on),
                Act::Visible(v) => s.handle_visibility(Millis(now), v),
            }
            prop_assert!(closed <= 1);
        }
        // The page gives up; the socket (if any) closes.
        ops.push(s.disconnect(Millis(now)));
        s.handle_close(Millis(now), 1000, "end", true);
        drain(&mut s, &mut ends, &mut closed, &mut tokens)?;
        prop_assert_eq!(closed, 1);
        prop_assert_eq!(s.poll_timeout(), None);
        for op in &ops {
            prop_assert_eq!(ends.get(op).copied(), Some(1), "op {:?}", op);
        }
        prop_assert_eq!(ends.len(), ops.len());
    }
}

#[test]
fn abandon_fails_what_is_pending_without_a_closed_event() {
    let mut s = Session::new(opts(&["ws://a/ws"]));
    s.connect(Millis(0));
    let _ = out(&mut s);
    let _ = establish(&mut s, 0);
    s.flush_queued();
    let p = s.send("/q", &[], b"x", true);
    let _ = out(&mut s);
    s.handle_close(Millis(1), 1006, "", false);
    let _ = events(&mut s);
    let q = s.send("/q", &[], b"y", false);
    s.abandon(Millis(2));
    assert!(
        out(&mut s).is_empty(),
        "no socket while waiting: nothing to close"
    );
    assert_eq!(
        events(&mut s),
        [
            Event::Failed {
                op: p,
                reason: "replaced by a new connection"
            },
            Event::Failed {
                op: q,
                reason: "replaced by a new connection"
            },
        ]
    );
    assert!(s.is_closed());
    assert_eq!(s.poll_timeout(), None);
    // Connected: the socket is asked to close too.
    let mut s = Session::new(opts(&["ws://a/ws"]));
    s.connect(Millis(0));
    let _ = out(&mut s);
    let _ = establish(&mut s, 0);
    s.abandon(Millis(1));
    assert_eq!(out(&mut s), ["<close 1000 replaced>"]);
    s.handle_close(Millis(2), 1000, "", true);
    assert!(events(&mut s).is_empty());
}

#[test]
fn a_close_the_peer_never_completes_is_taken_as_done_after_the_grace_period() {
    // Heart-beat timeout on a dead peer: the close handshake will not complete, yet the retry
    // must not wait for the browser's own (minute-long) timeout.
    let mut s = Session::new(ConnectOptions {
        heartbeat_incoming_ms: 100,
        ..opts(&["ws://a/ws"])
    });
    s.connect(Millis(0));
    let _ = out(&mut s);
    s.handle_open(Millis(0), "");
    let _ = out(&mut s);
    s.handle_data(Millis(0), b"CONNECTED\nversion:1.2\nheart-beat:100,0\n\n\0");
    let _ = events(&mut s);
    s.handle_timeout(Millis(200));
    assert_eq!(out(&mut s), ["<close 4001 server heart-beat timeout>"]);
    let _ = events(&mut s);
    assert_eq!(s.poll_timeout(), Some(Millis(2200)));
    s.handle_timeout(Millis(2199));
    assert!(events(&mut s).is_empty());
    s.handle_timeout(Millis(2200));
    let ev = events(&mut s);
    let Event::Reconnecting {
        code,
        reason,
        clean,
        ..
    } = &ev[0]
    else {
        panic!("{ev:?}")
    };
    assert_eq!(
        (*code, reason.as_str(), *clean),
        (1006, "server heart-beat timeout", false)
    );
    // The browser's late close of the old socket changes nothing.
    s.handle_close(Millis(2300), 1006, "", false);
    assert!(events(&mut s).is_empty());
    let (_, asked) = retry(&mut s);
    assert_eq!(asked, ["<open ws://a/ws>"]);

    // Without reconnection the session ends the same way.
    let mut s = Session::new(ConnectOptions {
        reconnect: ReconnectConfig::disabled(),
        ..opts(&["ws://a/ws"])
    });
    s.connect(Millis(0));
    let _ = out(&mut s);
    let _ = establish(&mut s, 0);
    let d = s.disconnect(Millis(10));
    let _ = out(&mut s);
    // No receipt, no close from the server: the disconnect timeout, then the grace period.
    s.handle_timeout(Millis(5010));
    assert_eq!(out(&mut s), ["<close 1000 disconnect>"]);
    s.handle_timeout(Millis(7010));
    let ev = events(&mut s);
    assert!(ev.contains(&Event::Completed { op: d }));
    assert!(matches!(ev.last(), Some(Event::Closed { code: 1006, .. })));
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn subscriptions_are_restored_in_the_order_they_were_made_not_by_id() {
    let mut s = Session::new(opts(&["ws://a/ws"]));
    s.connect(Millis(0));
    assert_eq!(out(&mut s), ["<open ws://a/ws>"]);
    establish(&mut s, 0);
    s.flush_queued();
    for id in ["z", "m", "q", "a"] {
        s.subscribe_with_id(id, &format!("/queue/{id}"), AckMode::Auto, &[], false);
    }
    // One of them goes before the drop: it is not restored.
    s.unsubscribe("q", false);
    assert_eq!(out(&mut s).len(), 5);
    s.handle_close(Millis(5), 1006, "", false);
    events(&mut s);
    retry(&mut s);
    let (restored, _) = establish(&mut s, 10_000);
    let ids: Vec<&str> = restored
        .iter()
        .map(|f| f.lines().nth(1).unwrap_or(""))
        .collect();
    assert_eq!(ids, ["id:z", "id:m", "id:a"], "{restored:?}");
}

#[test]
fn pending_receipts_fail_in_the_order_they_were_asked_for_not_by_id() {
    let mut s = Session::new(opts(&["ws://a/ws"]));
    s.connect(Millis(0));
    out(&mut s);
    establish(&mut s, 0);
    s.flush_queued();
    let mut ops = vec![s.send("/q", &[("receipt", "z")], b"x", true)];
    for _ in 0..11 {
        ops.push(s.send("/q", &[], b"x", true));
    }
    ops.push(s.send("/q", &[("receipt", "a")], b"x", true));
    assert_eq!(out(&mut s).len(), 13);
    s.disconnect(Millis(1));
    out(&mut s);
    s.handle_close(Millis(2), 1000, "", true);
    let failed: Vec<OpId> = events(&mut s)
        .iter()
        .filter_map(|e| match e {
            Event::Failed { op, .. } => Some(*op),
            _ => None,
        })
        .collect();
    assert_eq!(failed, ops);
}
