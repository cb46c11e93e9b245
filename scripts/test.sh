#!/usr/bin/env bash
# Runs every test, in order: formatting, clippy (native and wasm32), native unit and
# property tests, the release wasm build, then against real RabbitMQ and Prosody on loopback
# (started and always stopped by scripts/with-servers.sh): wasm tests in headless Chromium
# (wasm-bindgen-test-runner), Playwright tests of the packed npm module, a benchmark smoke
# run; and a fuzz smoke run. The browser suites run with RabbitMQ sending text frames and
# Prosody's hashed passwords (SCRAM-SHA-1, PLAIN); the suites whose behaviour depends on those
# settings run again with binary frames and plain passwords (adds SCRAM-SHA-256).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

bash scripts/setup.sh
t0=$(date +%s)
step() { printf '\n== test: %s (%ss)\n' "$*" "$(($(date +%s) - t0))"; }

step "cargo fmt --check"
cargo fmt --all -- --check
step "clippy native"
cargo clippy --quiet --all-targets -- -D warnings
step "clippy wasm32"
# The browser layer and the browser test files (web*.rs); the cores' native-only tests stay native.
cargo clippy --quiet --target wasm32-unknown-unknown --lib --test 'web*' -- -D warnings
step "native tests"
cargo test --quiet
step "fuzz smoke (1,000,000 inputs per target)"
bash scripts/fuzz.sh smoke
step "native benchmark smoke runs"
cargo bench --quiet --bench stomp_decode -- --quick
cargo bench --quiet --bench xmpp_parse -- --quick
step "wasm build"
bash scripts/build.sh
step "browser tests, text frames, internal_hashed"
bash scripts/with-servers.sh -- bash scripts/test-browser.sh
step "browser tests, binary frames, internal_plain"
bash scripts/with-servers.sh --stomp-binary --prosody-auth internal_plain --prosody-no-mam -- \
  bash scripts/test-browser.sh tests/js/stomp.test.mjs tests/js/xmpp.test.mjs tests/js/examples.test.mjs
step "all tests passed"
