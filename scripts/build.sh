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

# Size: a nightly toolchain with rust-src and the wasm32 std (scripts/setup.sh adds both when a
# nightly is installed) rebuilds std with panics as immediate aborts, which leaves std's panic
# message and formatting machinery out of the module (about -5 KB gzip on the STOMP wasm, -3.5 KB
# on the XMPP one). Without one, or if that build fails, the stable toolchain builds as before
# (panic = "abort" from Cargo.toml). FULLDUPLEX_STABLE=1 forces the stable build.
nightly_sysroot=$(rustup run nightly rustc --print sysroot 2>/dev/null || true)
use_nightly=0
if [ "${FULLDUPLEX_STABLE:-0}" != 1 ] && [ -n "$nightly_sysroot" ] &&
  [ -d "$nightly_sysroot/lib/rustlib/src/rust/library/std" ] &&
  [ -d "$nightly_sysroot/lib/rustlib/wasm32-unknown-unknown/lib" ]; then
  use_nightly=1
fi
build_wasm() { # features target-dir
  if [ $use_nightly = 1 ]; then
    if RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none" \
      cargo +nightly build --quiet --release --lib --target wasm32-unknown-unknown \
      --no-default-features --features "$1" --target-dir "$2-nightly" \
      -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size; then
      cp "$2-nightly/wasm32-unknown-unknown/release/fullduplex.wasm" "$build/fullduplex.wasm"
      return
    fi
    echo "build.sh: the nightly build-std build failed; building with the stable toolchain" >&2
    use_nightly=0
  fi
  cargo build --quiet --release --lib --target wasm32-unknown-unknown \
    --no-default-features --features "$1" --target-dir "$2"
  cp "$2/wasm32-unknown-unknown/release/fullduplex.wasm" "$build/fullduplex.wasm"
}

# name  cargo-features
variants=("all stomp,xmpp" "stomp stomp" "xmpp xmpp")
for v in "${variants[@]}"; do
  set -- $v
  name=$1 features=$2
  out=fullduplex; [ "$name" = all ] || out=fullduplex_$name
  # Each variant gets its own target dir suffix so the three builds do not overwrite each other.
  build_wasm "$features" "$target/variant-$name"
  wasm-bindgen --target web --out-dir "$build/bindgen/$name" --out-name "$out" --no-typescript \
    "$build/fullduplex.wasm"
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

rm -f "$build/fullduplex.wasm"
if [ $use_nightly = 1 ]; then toolchain="nightly build-std, $(rustup run nightly rustc -V)"; else toolchain="stable, $(rustc -V)"; fi
echo "entry sizes (wasm + JS, each file gzipped on its own; wasm from $toolchain):"
for e in "index fullduplex_bg" "stomp fullduplex_stomp_bg" "xmpp fullduplex_xmpp_bg" \
  "fullduplex.global fullduplex_bg" "shared-worker fullduplex_bg"; do
  set -- $e
  w=$(gzip -9c "$dist/$2.wasm" | wc -c) j=$(gzip -9c "$dist/$1.js" | wc -c)
  printf '  %-22s wasm %6d B + js %5d B = %6d B gzip -9  (raw %d B)\n' "$1.js" "$w" "$j" $((w + j)) \
    $(($(wc -c <"$dist/$2.wasm") + $(wc -c <"$dist/$1.js")))
done
