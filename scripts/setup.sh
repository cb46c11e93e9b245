#!/usr/bin/env bash
# Installs everything the build, the tests and the demo need, skipping what is present:
# the wasm32 target (and, if a nightly toolchain is installed, its rust-src for smaller
# builds), wasm-bindgen-cli at exactly the version in Cargo.lock, Debian packages (Chromium
# and its driver, RabbitMQ, Prosody), and the npm dev dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

step() { printf '== setup: %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# Optional, for size: when a nightly toolchain is installed, give it rust-src and the wasm32 std
# so scripts/build.sh can rebuild std with immediate-abort panics. Best effort: without them
# the build uses the stable toolchain.
if rustup run nightly rustc -V >/dev/null 2>&1; then
  sysroot=$(rustup run nightly rustc --print sysroot)
  if [ ! -d "$sysroot/lib/rustlib/src/rust/library/std" ] ||
    [ ! -d "$sysroot/lib/rustlib/wasm32-unknown-unknown/lib" ]; then
    step "rustup component add rust-src, target add wasm32-unknown-unknown (nightly; optional)"
    timeout 300 rustup component add rust-src --toolchain nightly >/dev/null 2>&1 &&
      timeout 300 rustup target add wasm32-unknown-unknown --toolchain nightly >/dev/null 2>&1 ||
      echo "setup: no nightly rust-src/wasm32 std; release builds use the stable toolchain" >&2
  fi
fi

# wasm-bindgen-cli must match the wasm-bindgen crate exactly.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$want" != "$have" ]; then
  step "cargo install wasm-bindgen-cli $want (was: ${have:-none})"
  # Not --locked: the registry here lacks one of the CLI's pinned dependencies.
  cargo install wasm-bindgen-cli --version "$want"
fi

debs=(chromium chromium-driver rabbitmq-server prosody lua-unbound)
missing=()
for d in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q 'install ok installed' || missing+=("$d")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "apt-get install ${missing[*]}"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Package scripts may start system copies of the servers; ours run from scripts/servers.sh.
  for svc in rabbitmq-server prosody; do
    $SUDO service "$svc" stop >/dev/null 2>&1 || true
  done
  $SUDO epmd -kill >/dev/null 2>&1 || true
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
step "done"
