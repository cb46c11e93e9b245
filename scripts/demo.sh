#!/usr/bin/env bash
# The demo: sets up a fresh machine if needed, builds the package, builds the bundler example
# from the packed tarball (Vite and webpack), starts RabbitMQ (web-STOMP, binary frames) and
# Prosody on loopback, and serves the examples on http://127.0.0.1:8080/ until Ctrl-C (the
# servers are then stopped).
#
# Usage: scripts/demo.sh [port]          (npm run demo)
# FULLDUPLEX_DIST / FULLDUPLEX_BUILD / CARGO_TARGET_DIR move the build output, as for build.sh.
#
# RabbitMQ runs with web_stomp.ws_frame = binary (--stomp-binary) so that the ticker's raw
# binary quotes reach the browser intact: in RabbitMQ's default text-frame mode a body that is
# not UTF-8 makes the browser drop the connection (the ticker then offers ?packing=7bit).
set -euo pipefail
cd "$(dirname "$0")/.."
port=${1:-8080}
case $port in '' | *[!0-9]*) echo "usage: scripts/demo.sh [port]" >&2; exit 2 ;; esac

bash scripts/setup.sh
. scripts/lib.sh
bash scripts/build.sh
node examples/bundler/build.mjs

# Fail early, before starting the servers, if the web port is taken.
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "demo.sh: port $port is in use; pass another one: npm run demo -- 8081" >&2
  exit 1
fi

cat <<MSG

  fullduplex demo on http://127.0.0.1:$port/
    STOMP chat     http://127.0.0.1:$port/stomp-chat/   (open it in two windows)
    Price ticker   http://127.0.0.1:$port/ticker/
    XMPP chat      http://127.0.0.1:$port/xmpp-chat/    (users alice/alicepw, bob/bobpw, carol/carolpw, or register)
    Classic page   http://127.0.0.1:$port/classic/
    Bundlers       http://127.0.0.1:$port/bundler/
  Servers: RabbitMQ web-STOMP ws://127.0.0.1:15674/ws (STOMP over TCP on 61613),
           Prosody ws://127.0.0.1:5280/xmpp-websocket (domain localhost).
  Ticker publisher over TCP, in another terminal: node examples/ticker/publisher.mjs
  Ctrl-C stops everything.

MSG
exec bash scripts/with-servers.sh --stomp-binary -- node scripts/serve.mjs "$port"
