#!/usr/bin/env bash
# Measures the size floor of fullduplex's browser architecture: builds each variant of this
# crate exactly like scripts/build.sh builds the shipped wasm (nightly build-std, panics as
# immediate aborts, opt-level z + LTO; wasm-bindgen --target web; wasm-opt -Oz; esbuild
# bundle+minify of a tiny entry), then prints a markdown table of raw and gzip -9 sizes.
# Usage: bench/floor/run.sh [variant...]   (default: all; variants: empty socket timer
# collections raw socket,bump raw,bump). FLOOR_TARGET (default target/floor in the repo) is the cargo target dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${FLOOR_TARGET:-$root/target/floor}
out=$target/floor-out
wasm_opt=$root/node_modules/.bin/wasm-opt
esbuild=$root/node_modules/.bin/esbuild
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(empty socket timer collections raw socket,bump raw,bump)

declare -A label=([empty]="1 empty" [socket]="2 socket" [timer]="3 socket+timer"
  [collections]="4 socket+collections" [raw]="5 raw-imports (no wasm-bindgen)"
  [socket,bump]="6 socket, bump allocator" [raw,bump]="7 raw-imports, bump allocator")

rows=()
for v in "${variants[@]}"; do
  [ -n "${label[$v]:-}" ] || { echo "run.sh: unknown variant $v" >&2; exit 2; }
  d=$out/${v/,/-} kind=${v%%,*}
  rm -rf "$d" && mkdir -p "$d/bindgen"
  # One build at a time (cargo's own jobs only); one target dir per variant, like build.sh.
  (cd "$here" && RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none" \
    cargo +nightly build --quiet --release --lib --target wasm32-unknown-unknown \
    --features "$v" --target-dir "$target/${v/,/-}" \
    -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size)
  wasm=$target/${v/,/-}/wasm32-unknown-unknown/release/fullduplex_floor.wasm
  if [ "$kind" = raw ]; then
    cp "$wasm" "$d/floor_in.wasm"
    entry=$here/js/raw.js alias=()
  else
    wasm-bindgen --target web --out-dir "$d/bindgen" --out-name floor --no-typescript "$wasm"
    cp "$d/bindgen/floor_bg.wasm" "$d/floor_in.wasm"
    entry=$here/js/bindgen.js alias=("--alias:floor-glue=$d/bindgen")
  fi
  "$wasm_opt" -Oz --converge --strip-debug --strip-producers \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$d/floor_in.wasm" -o "$d/floor_bg.wasm"
  "$esbuild" "$entry" "${alias[@]}" --bundle --format=esm --minify --target=es2020 \
    --log-level=warning --outfile="$d/floor.js"
  node "$here/smoke.mjs" "$kind" "$d" # the variant works (fake WebSocket under Node)
  wr=$(wc -c <"$d/floor_bg.wasm") wg=$(gzip -9c "$d/floor_bg.wasm" | wc -c)
  jr=$(wc -c <"$d/floor.js") jg=$(gzip -9c "$d/floor.js" | wc -c)
  rows+=("$(printf '| %s | %d | %d | %d | %d | %d |' "${label[$v]}" "$wr" "$wg" "$jr" "$jg" $((wg + jg)))")
done

echo "wasm from $(rustup run nightly rustc -V), $(wasm-bindgen --version), wasm-opt $("$wasm_opt" --version | awk '{print $3}'):"
echo
echo "| variant | wasm raw B | wasm gzip B | JS raw B | JS gzip B | total gzip B |"
echo "|---|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
