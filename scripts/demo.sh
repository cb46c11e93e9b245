#!/usr/bin/env bash
# Sets up a fresh machine if needed, builds the package, starts RabbitMQ and Prosody on
# loopback, and serves examples/ on http://127.0.0.1:8080/ until Ctrl-C (servers are then
# stopped). Usage: scripts/demo.sh [port]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/lib.sh
bash scripts/build.sh
exec bash scripts/with-servers.sh -- node scripts/serve.mjs "${1:-8080}"
