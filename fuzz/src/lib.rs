//! Fuzz harnesses for the fullduplex protocol cores, one public function per target.
//!
//! Each `fuzz_targets/*.rs` binary only calls one function here, so the same code can be run
//! by libFuzzer (`cargo fuzz`), replayed from a file, or called from a test. A harness never
//! panics on its own for any input: a panic means the core panicked, or an oracle below found
//! the core breaking one of its documented promises (round trips, one terminal event per
//! operation, well-formed output). Input formats are described in `fuzz/README.md`.

#![forbid(unsafe_code)]

pub mod input;
pub mod sasl;
pub mod stomp;
pub mod xml;
pub mod xmpp;
