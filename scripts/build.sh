#!/usr/bin/env bash
# Builds the npm package into dist/:
#   - three size-tuned wasm modules (cargo release profile, wasm-bindgen --target web,
#     wasm-opt -Oz): both protocols, STOMP only, XMPP only;
#   - their ES module entries (index.js, stomp.js, xmpp.js) and the classic-script global
#     build (fullduplex.global.js), bundled and minified by esbuild from js/;
#   - shared mode's SharedWorker bundles (shared-worker.js, shared-worker.global.js);
#   - the TypeScript declarations.
# Usage: scripts/build.sh [--dev]   (--dev: skip wasm-opt, for quick iterations)
# FULLDUPLEX_DIST (default dist) and FULLDUPLEX_BUILD (default build) move the output and
# intermediate folders, so parallel work does not clobber one another's build.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

mode=${1:-release}
target=${CARGO_TARGET_DIR:-target}
dist=${FULLDUPLEX_DIST:-dist}
build=${FULLDUPLEX_BUILD:-build}
rm -rf "$build/bindgen" "$dist"
mkdir -p "$build/bindgen" "$dist"

# name  cargo-features
variants=("all stomp,xmpp" "stomp stomp" "xmpp xmpp")
for v in "${variants[@]}"; do
  set -- $v
  name=$1 features=$2
  out=fullduplex; [ "$name" = all ] || out=fullduplex_$name
  # Each variant gets its own target dir suffix so the three builds do not overwrite each other.
  cargo build --quiet --release --lib --target wasm32-unknown-unknown \
    --no-default-features --features "$features" --target-dir "$target/variant-$name"
  wasm-bindgen --target web --out-dir "$build/bindgen/$name" --out-name "$out" --no-typescript \
    "$target/variant-$name/wasm32-unknown-unknown/release/fullduplex.wasm"
  if [ "$mode" = "--dev" ]; then
    cp "$build/bindgen/$name/${out}_bg.wasm" "$dist/${out}_bg.wasm"
  else
    # binaryen from npm (Debian 12's wasm-opt 108 corrupts wasm-bindgen's externref table).
    node_modules/.bin/wasm-opt -Oz --converge --strip-debug --strip-producers \
      --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
      --enable-mutable-globals --enable-reference-types --enable-multivalue \
      "$build/bindgen/$name/${out}_bg.wasm" -o "$dist/${out}_bg.wasm"
  fi
done

esbuild=node_modules/.bin/esbuild
# js/entries import the wasm-bindgen glue as "fullduplex-glue/<variant>/…".
glue="--alias:fullduplex-glue=./$build/bindgen"
case $build in /*) glue="--alias:fullduplex-glue=$build/bindgen" ;; esac
for entry in index stomp xmpp; do
  "$esbuild" "js/entries/$entry.js" "$glue" --bundle --format=esm --minify --target=es2020 \
    --log-level=warning --outfile="$dist/$entry.js"
done
"$esbuild" js/entries/classic.js "$glue" --bundle --format=iife --minify --target=es2020 \
  --log-level=warning --log-override:empty-import-meta=silent \
  --outfile="$dist/fullduplex.global.js"
# Shared mode's SharedWorker (js/shared/worker.js): a module worker beside index.js (found from
# import.meta.url, so Vite and webpack 5 emit it) and a classic one beside fullduplex.global.js.
# The define keeps a worker from trying to start a worker of its own.
worker_flags=(--bundle --minify --target=es2020 --log-level=warning
  --define:globalThis.FULLDUPLEX_SHARED_WORKER=true)
"$esbuild" js/entries/shared-worker.js "$glue" "${worker_flags[@]}" --format=esm \
  --outfile="$dist/shared-worker.js"
"$esbuild" js/entries/shared-worker-classic.js "$glue" "${worker_flags[@]}" --format=iife \
  --log-override:empty-import-meta=silent --outfile="$dist/shared-worker.global.js"
cp js/index.d.ts js/stomp.d.ts js/xmpp.d.ts "$dist/"

echo "entry sizes (wasm + JS, each file gzipped on its own):"
for e in "index fullduplex_bg" "stomp fullduplex_stomp_bg" "xmpp fullduplex_xmpp_bg" \
  "fullduplex.global fullduplex_bg" "shared-worker fullduplex_bg"; do
  set -- $e
  w=$(gzip -9c "$dist/$2.wasm" | wc -c) j=$(gzip -9c "$dist/$1.js" | wc -c)
  printf '  %-22s wasm %6d B + js %5d B = %6d B gzip -9  (raw %d B)\n' "$1.js" "$w" "$j" $((w + j)) \
    $(($(wc -c <"$dist/$2.wasm") + $(wc -c <"$dist/$1.js")))
done
