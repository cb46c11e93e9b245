#!/usr/bin/env bash
# The browser suites, run with the servers up (see scripts/test.sh): wasm-bindgen tests in
# headless Chromium, the Playwright tests of the packed npm module (node --test), then the
# benchmark's smoke mode. Usage: scripts/test-browser.sh [test files…] (default: all of
# tests/js/; the wasm tests and the bench smoke run only with the default).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
printf -- '-- browser tests (STOMP frames: %s, Prosody auth: %s)\n' \
  "${STOMP_WS_FRAME:-?}" "${XMPP_AUTH:-?}"
if [ $# -eq 0 ]; then
  printf -- '-- wasm-bindgen-test in Chromium\n'
  cargo test --target wasm32-unknown-unknown --test 'web*'
  # The browser layer's own unit tests (batch layout, ACK tokens, URL masking).
  cargo test --target wasm32-unknown-unknown --lib --no-default-features --features stomp -- web::
fi
printf -- '-- Playwright\n'
node --test --test-concurrency=1 "${@:-tests/js/}"
if [ $# -eq 0 ]; then
  printf -- '-- bench smoke\n'
  node bench/run.mjs --smoke >/dev/null
fi
