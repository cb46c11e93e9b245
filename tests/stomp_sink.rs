#![cfg(feature = "stomp")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::as_conversions
)]
//! `Session::handle_data_with` (MESSAGEs handed out borrowed, as the browser layer receives
//! them) against `Session::handle_data` (everything queued as owned events): the same events
//! in the same order for any stream and any split, and `body_in_input` naming the body's bytes.

use fullduplex::stomp::{AckMode, ConnectOptions, Event, Session};
use fullduplex::time::Millis;
use proptest::prelude::*;

fn session() -> Session {
    let mut s = Session::new(ConnectOptions::default());
    s.handle_open(Millis(0), "v12.stomp");
    s.handle_data(Millis(0), b"CONNECTED\nversion:1.2\n\n\0");
    let _ = s.subscribe("/a", AckMode::Auto, &[], false);
    let _ = s.subscribe("/b", AckMode::Client, &[], true);
    while s.poll_transmit().is_some() {}
    while s.poll_event().is_some() {}
    s
}

/// Events of one `handle_data_with` call: sunk MESSAGEs first, then what was queued, with a
/// check of `body_in_input` on each sunk one.
fn receive_with(s: &mut Session, now: u64, data: &[u8]) -> (Vec<Event>, usize) {
    let mut out = Vec::new();
    let mut in_input = 0;
    s.handle_data_with(Millis(now), data, &mut |m| {
        if let Some(at) = m.body_in_input() {
            assert_eq!(&data[at..at + m.body().len()], m.body());
            in_input += 1;
        }
        out.push(m.to_event());
    });
    out.extend(std::iter::from_fn(|| s.poll_event()));
    (out, in_input)
}

fn receive(s: &mut Session, now: u64, data: &[u8]) -> Vec<Event> {
    s.handle_data(Millis(now), data);
    std::iter::from_fn(|| s.poll_event()).collect()
}

#[test]
fn a_whole_frame_names_its_body_in_the_input() {
    let mut s = session();
    let data = b"\nMESSAGE\nsubscription:sub-1\nmessage-id:m1\nack:A1\ncontent-length:3\n\nhi!\0\nMESSAGE\nsubscription:sub-0\n\nyo\0";
    let mut seen = Vec::new();
    s.handle_data_with(Millis(1), data, &mut |m| {
        seen.push((
            m.subscription().to_vec(),
            m.body_in_input(),
            m.ack().map(|a| a.to_token()),
        ));
    });
    assert!(s.poll_event().is_none());
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].0, b"sub-1");
    let body_at = data.windows(3).position(|w| w == b"hi!").unwrap();
    assert_eq!(seen[0].1, Some(body_at));
    let token = seen[0].2.clone().unwrap();
    assert_eq!(
        (
            token.message_id.as_str(),
            token.ack.as_deref(),
            token.connection
        ),
        ("m1", Some("A1"), 1)
    );
    // An auto-ack subscription: no token.
    assert_eq!(seen[1], (b"sub-0".to_vec(), Some(data.len() - 3), None));
}

#[test]
fn a_body_split_over_two_calls_is_not_in_the_input() {
    let mut s = session();
    let frame = b"MESSAGE\nsubscription:sub-0\ncontent-length:5\n\nhello\0";
    let (head, tail) = frame.split_at(frame.len() - 3);
    let mut n = 0;
    s.handle_data_with(Millis(1), head, &mut |_| n += 1);
    assert_eq!(n, 0);
    s.handle_data_with(Millis(1), tail, &mut |m| {
        assert_eq!(m.body(), b"hello");
        assert_eq!(m.body_in_input(), None);
        n += 1;
    });
    assert_eq!(n, 1);
    // With the head in the first chunk and the whole body in the second, the body is named
    // in the second chunk.
    let (head, tail) = frame.split_at(frame.len() - 6);
    s.handle_data_with(Millis(1), head, &mut |_| n += 1);
    s.handle_data_with(Millis(1), tail, &mut |m| {
        assert_eq!(m.body_in_input(), Some(0));
        n += 1;
    });
    assert_eq!(n, 2);
}

#[test]
fn a_message_after_a_queued_event_is_queued_behind_it() {
    let mut s = session();
    let data = b"MESSAGE\nsubscription:sub-0\n\none\0RECEIPT\nreceipt-id:x\n\n\0MESSAGE\nsubscription:sub-0\n\ntwo\0";
    let mut sunk = Vec::new();
    s.handle_data_with(Millis(1), data, &mut |m| sunk.push(m.body().to_vec()));
    assert_eq!(sunk, [b"one".to_vec()]);
    let rest: Vec<Event> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(matches!(&rest[0], Event::Receipt { receipt_id, .. } if receipt_id == "x"));
    assert!(matches!(&rest[1], Event::Message { body, .. } if body == b"two"));
    assert_eq!(rest.len(), 2);
}

fn item() -> impl Strategy<Value = Vec<u8>> {
    let body = prop::collection::vec(prop_oneof![Just(b'a'), Just(0xc3), Just(b'\n')], 0..40);
    prop_oneof![
        4 => (0u8..3, body.clone(), any::<bool>()).prop_map(|(sub, body, with_len)| {
            let mut f = format!("MESSAGE\nsubscription:sub-{sub}\nmessage-id:m\\c{sub}\nack:k{sub}\n").into_bytes();
            let body: Vec<u8> = if with_len { body } else { body.into_iter().filter(|b| *b != 0).collect() };
            if with_len {
                f.extend_from_slice(format!("content-length:{}\n", body.len()).as_bytes());
            }
            f.push(b'\n');
            f.extend_from_slice(&body);
            f.push(0);
            f
        }),
        1 => (0u8..3).prop_map(|r| format!("RECEIPT\nreceipt-id:r{r}\n\n\0").into_bytes()),
        1 => Just(b"\n".to_vec()),
        1 => Just(b"\r\n".to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_same_events_in_the_same_order(
        items in prop::collection::vec(item(), 0..12),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        error_at_end in any::<bool>(),
    ) {
        let mut stream: Vec<u8> = items.concat();
        if error_at_end {
            stream.extend_from_slice(b"ERROR\nmessage:bye\n\n\0MESSAGE\nsubscription:sub-0\n\nlate\0");
        }
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
        at.push(0);
        at.push(stream.len());
        at.sort_unstable();
        let (mut a, mut b) = (session(), session());
        let (mut ea, mut eb) = (Vec::new(), Vec::new());
        for w in at.windows(2) {
            let chunk = &stream[w[0]..w[1]];
            ea.extend(receive(&mut a, 1, chunk));
            eb.extend(receive_with(&mut b, 1, chunk).0);
        }
        prop_assert_eq!(ea, eb);
    }
}

#[test]
fn whole_frames_in_one_chunk_are_all_named_in_the_input() {
    let mut s = session();
    let data: Vec<u8> = (0..50)
        .flat_map(|i| format!("MESSAGE\nsubscription:sub-0\n\nbody {i}\0\n").into_bytes())
        .collect();
    let (events, in_input) = receive_with(&mut s, 1, &data);
    assert_eq!((events.len(), in_input), (50, 50));
}

#[test]
fn an_ack_token_borrowed_and_back_is_the_same() {
    let t = fullduplex::stomp::AckToken {
        message_id: "m-1".into(),
        subscription: "sub-é".into(),
        ack: Some("a".into()),
        connection: 3,
    };
    assert_eq!(t.as_ref().to_token(), t);
    let t = fullduplex::stomp::AckToken { ack: None, ..t };
    assert_eq!(t.as_ref().to_token(), t);
}
