#!/usr/bin/env bash
# Builds the npm package into dist/: the size-tuned wasm (cargo release profile, wasm-bindgen
# --target web, wasm-opt -Oz), the ES module entry and the classic-script global build
# (both bundled and minified by esbuild from js/), and the TypeScript declarations.
# Usage: scripts/build.sh [--dev]   (--dev: skip wasm-opt, for quick iterations)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

mode=${1:-release}
# FULLDUPLEX_CARGO_FLAGS: e.g. "--no-default-features --features stomp" for a one-protocol build.
cargo build --quiet --release --lib --target wasm32-unknown-unknown ${FULLDUPLEX_CARGO_FLAGS:-}
rm -rf build/bindgen dist
mkdir -p build/bindgen dist
wasm-bindgen --target web --out-dir build/bindgen --out-name fullduplex \
  --no-typescript "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/fullduplex.wasm"
if [ "$mode" = "--dev" ]; then
  cp build/bindgen/fullduplex_bg.wasm dist/fullduplex_bg.wasm
else
  # binaryen from npm (Debian 12's wasm-opt 108 corrupts wasm-bindgen's externref table).
  node_modules/.bin/wasm-opt -Oz --strip-debug --strip-producers \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    build/bindgen/fullduplex_bg.wasm -o dist/fullduplex_bg.wasm
fi
esbuild=node_modules/.bin/esbuild
"$esbuild" js/index.js --bundle --format=esm --minify --target=es2020 \
  --log-level=warning --outfile=dist/index.js
"$esbuild" js/classic.js --bundle --format=iife --minify --target=es2020 \
  --log-level=warning --log-override:empty-import-meta=silent \
  --outfile=dist/fullduplex.global.js
cp js/index.d.ts dist/index.d.ts
for f in dist/fullduplex_bg.wasm dist/index.js dist/fullduplex.global.js; do
  printf '%-28s %8d B raw %8d B gzip -9\n' "$f" "$(wc -c <"$f")" "$(gzip -9c "$f" | wc -c)"
done
