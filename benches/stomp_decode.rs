//! Native STOMP decode speed: MESSAGE frames with 100 B, 1 KiB, 64 KiB and 1 MiB bodies, fed
//! one WebSocket message at a time through the session's streaming decoder, as RabbitMQ sends
//! them. Prints frames/s and MB/s. Run with `cargo bench --bench stomp_decode`; the test
//! command runs it once in quick mode (`-- --quick`) as a smoke test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::as_conversions
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use fullduplex::stomp::{
    encode, AckMode, Command, ConnectOptions, Decoder, Event, Item, Limits, Session, Version,
};
use fullduplex::time::Millis;

fn message(body_len: usize) -> Vec<u8> {
    let body: Vec<u8> = (0..body_len).map(|i| b'a' + (i % 26) as u8).collect();
    let headers = [
        ("destination", "/topic/bench"),
        ("message-id", "T_sub-0@@session-Y2CVkq7JYvvQKcH6o5xw3A@@1"),
        ("redelivered", "false"),
        ("subscription", "sub-0"),
        ("ack", "0"),
    ];
    let mut out = Vec::new();
    encode(Command::Message, &headers, &body, Version::V1_2, &mut out).unwrap();
    out.push(b'\n'); // RabbitMQ ends each frame with NUL + EOL
    out
}

fn label(size: usize) -> String {
    match size {
        100 => "100 B".to_string(),
        s if s < 1024 * 1024 => format!("{} KiB", s / 1024),
        s => format!("{} MiB", s / (1024 * 1024)),
    }
}

/// A session past CONNECTED with one subscription, as the browser layer drives it.
fn connected_session() -> Session {
    let mut s = Session::new(ConnectOptions {
        heartbeat_incoming_ms: 0,
        heartbeat_outgoing_ms: 0,
        ..ConnectOptions::default()
    });
    s.handle_open(Millis(0), "v12.stomp");
    s.handle_data(Millis(0), b"CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0\n");
    let _ = s.subscribe("/topic/bench", AckMode::Auto, &[], false);
    while s.poll_transmit().is_some() {}
    while s.poll_event().is_some() {}
    s
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let budget = Duration::from_millis(if quick { 50 } else { 1000 });
    println!("STOMP session receive path (native): bytes in, Message events with owned body out");
    println!("{:>10} {:>14} {:>12}", "body", "frames/s", "MB/s");
    for size in [100usize, 1024, 64 * 1024, 1024 * 1024] {
        let frame = message(size);
        let mut session = connected_session();
        let mut frames = 0u64;
        let start = Instant::now();
        while start.elapsed() < budget {
            for _ in 0..16 {
                session.handle_data(Millis(1), &frame);
                while let Some(e) = session.poll_event() {
                    if let Event::Message { body, .. } = e {
                        black_box(body.len());
                        frames += 1;
                    }
                }
            }
        }
        assert!(frames > 0, "no MESSAGE decoded");
        let secs = start.elapsed().as_secs_f64();
        let fps = frames as f64 / secs;
        let mbps = fps * frame.len() as f64 / 1e6;
        println!("{:>10} {fps:>14.0} {mbps:>12.1}", label(size));
    }
    println!();
    println!("STOMP decode (native, streaming decoder alone, body borrowed)");
    println!("{:>10} {:>14} {:>12}", "body", "frames/s", "MB/s");
    for size in [100usize, 1024, 64 * 1024, 1024 * 1024] {
        let frame = message(size);
        let mut decoder = Decoder::new(Limits::default());
        let mut frames = 0u64;
        let start = Instant::now();
        while start.elapsed() < budget {
            for _ in 0..16 {
                decoder.push(&frame);
                loop {
                    match decoder.next_item(Version::V1_2).unwrap() {
                        Some(Item::Frame(f)) => {
                            black_box(f.body.len());
                            frames += 1;
                        }
                        Some(Item::Heartbeat) => {}
                        None => break,
                    }
                }
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let fps = frames as f64 / secs;
        let mbps = fps * frame.len() as f64 / 1e6;
        println!("{:>10} {fps:>14.0} {mbps:>12.1}", label(size));
    }
}
