//! Native STOMP decode speed: MESSAGE frames with 100 B, 1 KiB, 64 KiB and 1 MiB bodies, fed
//! one WebSocket message at a time through the session's streaming decoder, as RabbitMQ sends
//! them. Prints frames/s and MB/s. Then the slow-drip cases (issue #7): a 256 KiB body without
//! and with `content-length`, and 64 KiB of headers, fed one byte per push (a hostile or
//! badly buffered server); each must take time linear in its length. Run with
//! `cargo bench --bench stomp_decode`; the test command runs it once in quick mode
//! (`-- --quick`) as a smoke test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use fullduplex::stomp::{
    encode, AckMode, Command, ConnectOptions, Decoder, Event, Item, ItemRef, Limits, Session,
    Version,
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

/// Pushes `frame` one byte at a time and returns how long the single frame took.
fn drip(frame: &[u8], limits: Limits) -> Duration {
    let mut decoder = Decoder::new(limits);
    let start = Instant::now();
    let mut frames = 0;
    for b in frame {
        decoder.push(core::slice::from_ref(b));
        while let Some(item) = decoder.next_item(Version::V1_2).unwrap() {
            if let Item::Frame(f) = item {
                black_box(f.body.len());
                frames += 1;
            }
        }
    }
    assert_eq!(frames, 1, "drip did not decode exactly one frame");
    start.elapsed()
}

fn drip_cases() {
    println!();
    println!("STOMP slow drip (native, streaming decoder, 1 byte per push)");
    println!("{:>34} {:>12}", "case", "ms");
    let body: Vec<u8> = (0..256 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
    let mut no_len = b"MESSAGE\ndestination:/topic/bench\n\n".to_vec();
    no_len.extend_from_slice(&body);
    no_len.push(0);
    let mut with_len = Vec::new();
    encode(
        Command::Message,
        &[("destination", "/topic/bench")],
        &body,
        Version::V1_2,
        &mut with_len,
    )
    .unwrap();
    let mut many = b"MESSAGE\n".to_vec();
    let mut n = 0;
    while many.len() < 64 * 1024 {
        many.extend_from_slice(format!("header-{n:05}:value-value-value\n").as_bytes());
        n += 1;
    }
    many.extend_from_slice(b"\nbody\0");
    let wide = Limits {
        max_headers: 4096,
        ..Limits::default()
    };
    for (name, frame, limits) in [
        (
            "256 KiB body, no content-length",
            &no_len,
            Limits::default(),
        ),
        ("256 KiB body, content-length", &with_len, Limits::default()),
        ("64 KiB of headers", &many, wide),
    ] {
        let t = drip(frame, limits);
        println!("{name:>34} {:>12.1}", t.as_secs_f64() * 1e3);
    }
}

/// `--frames PATH SIZE N`: decodes exactly `N` frames of `SIZE`-byte bodies through `PATH`
/// (`session`, `item` or `ref`) and nothing else, untimed: run it under
/// `valgrind --tool=callgrind` or `valgrind --tool=memcheck` for instructions and allocations
/// per frame, which a busy machine does not disturb (compare two values of `N`).
fn frames_only(path: &str, size: usize, n: u64) {
    let frame = message(size);
    let mut frames = 0u64;
    match path {
        "session" => {
            let mut session = connected_session();
            while frames < n {
                session.handle_data(Millis(1), &frame);
                while let Some(e) = session.poll_event() {
                    if let Event::Message { body, .. } = e {
                        black_box(body.len());
                        frames += 1;
                    }
                }
            }
        }
        "item" => {
            let mut decoder = Decoder::new(Limits::default());
            while frames < n {
                decoder.push(&frame);
                while let Some(item) = decoder.next_item(Version::V1_2).unwrap() {
                    if let Item::Frame(f) = item {
                        black_box(f.body.len());
                        frames += 1;
                    }
                }
            }
        }
        "ref" => {
            let mut decoder = Decoder::new(Limits::default());
            while frames < n {
                decoder.push(&frame);
                while let Some(item) = decoder.next_ref(Version::V1_2).unwrap() {
                    if let ItemRef::Frame(f) = item {
                        black_box((f.body().len(), f.header(b"subscription")));
                        frames += 1;
                    }
                }
            }
        }
        other => panic!("unknown path {other}"),
    }
    println!("{frames} frames via {path}");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--frames") {
        let path = &args[i + 1];
        let size = args[i + 2].parse().unwrap();
        let n = args[i + 3].parse().unwrap();
        frames_only(path, size, n);
        return;
    }
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
    println!();
    println!("STOMP decode (native, streaming decoder, next_ref: no allocation per frame)");
    println!("{:>10} {:>14} {:>12}", "body", "frames/s", "MB/s");
    for size in [100usize, 1024, 64 * 1024, 1024 * 1024] {
        let frame = message(size);
        let mut decoder = Decoder::new(Limits::default());
        let mut frames = 0u64;
        let start = Instant::now();
        while start.elapsed() < budget {
            for _ in 0..16 {
                decoder.push(&frame);
                while let Some(item) = decoder.next_ref(Version::V1_2).unwrap() {
                    if let ItemRef::Frame(f) = item {
                        black_box((f.body().len(), f.header(b"subscription")));
                        frames += 1;
                    }
                }
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let fps = frames as f64 / secs;
        let mbps = fps * frame.len() as f64 / 1e6;
        println!("{:>10} {fps:>14.0} {mbps:>12.1}", label(size));
    }
    drip_cases();
}
