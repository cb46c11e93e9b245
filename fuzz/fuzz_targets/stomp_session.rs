#![no_main]
//! libFuzzer entry for `fullduplex_fuzz::stomp::session_target`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fullduplex_fuzz::stomp::session_target(data));
