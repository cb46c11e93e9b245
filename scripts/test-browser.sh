#!/usr/bin/env bash
# The browser suites, run with the servers up (see scripts/test.sh): wasm-bindgen tests in
# headless Chromium, then the Playwright tests of the packed npm module (node --test).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
printf -- '-- wasm-bindgen-test in Chromium (STOMP frames: %s, Prosody auth: %s)\n' \
  "${STOMP_WS_FRAME:-?}" "${XMPP_AUTH:-?}"
cargo test --target wasm32-unknown-unknown --test 'web*'
printf -- '-- Playwright\n'
node --test --test-concurrency=1 tests/js/
