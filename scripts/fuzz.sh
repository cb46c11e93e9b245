#!/usr/bin/env bash
# Coverage-guided fuzzing of the protocol cores with libFuzzer (cargo-fuzz), on stable Rust.
#
#   scripts/fuzz.sh smoke            every target for FUZZ_RUNS inputs (default 1,000,000),
#                                    from the committed seeds, fixed seed: the CI check
#   scripts/fuzz.sh long [SECONDS]   every target for SECONDS (default 300) of fuzzing, growing
#                                    the local corpus fuzz/corpus/<target> (not committed)
#   scripts/fuzz.sh run TARGET [libFuzzer flags…]   one target, by hand
#   scripts/fuzz.sh replay TARGET FILE…             run inputs once (reproduce a crash)
#   scripts/fuzz.sh build | list
#
# Targets (fuzz/fuzz_targets/): stomp_decode, stomp_session, xmpp_xml, sasl_scram,
# xmpp_session; input formats in fuzz/README.md. Prints the executions per target; exits
# non-zero when a target crashes (panic, failed oracle, timeout or memory limit) and names
# the input, saved under fuzz/artifacts/<target>/.
#
# Environment: FUZZ_JOBS (targets run at once, default 2), FUZZ_RUNS (smoke), FUZZ_SEED
# (smoke, default 1), FUZZ_SANITIZER (none | address, default none: the cores forbid unsafe
# code; address needs RUSTC_BOOTSTRAP=1, which this script sets), FUZZ_TARGET_DIR (build
# output, default fuzz/target; smoke and full builds go in its subfolders smoke/ and full/).
#
# The smoke build leaves out libFuzzer's comparison tracing (--no-trace-compares): three
# times fewer instructions per input, at the cost of slower discovery of magic values (the
# dictionaries partly make up for it). long, run and replay use the full instrumentation.
#
# Engine: cargo-fuzz drives libFuzzer (compiled from the libfuzzer-sys crate). With
# `--sanitizer none` cargo-fuzz passes only stable -C flags (SanitizerCoverage via
# -Cpasses=sancov-module and -Cllvm-args), so no nightly toolchain is needed; ASan's
# -Zsanitizer needs nightly or RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
. scripts/lib.sh

TARGETS=(xmpp_session stomp_session stomp_decode xmpp_xml sasl_scram)
declare -A DICT=([stomp_decode]=stomp [stomp_session]=stomp [xmpp_xml]=xmpp
  [xmpp_session]=xmpp [sasl_scram]=scram)
declare -A MAXLEN=([stomp_decode]=4096 [stomp_session]=4096 [xmpp_xml]=4096
  [xmpp_session]=2048 [sasl_scram]=512)

JOBS=${FUZZ_JOBS:-2}
SANITIZER=${FUZZ_SANITIZER:-none}
TARGET_BASE=${FUZZ_TARGET_DIR:-$ROOT/fuzz/target}
if [ "$SANITIZER" != none ]; then export RUSTC_BOOTSTRAP=1; fi
BIN=

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

ensure_tools() {
  if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "== fuzz: installing cargo-fuzz (once)"
    cargo install cargo-fuzz --version '^0.13' --locked
  fi
}

# build smoke|full: builds every target; sets BIN.
build() {
  local flavour=$1 extra=()
  ensure_tools
  [ "$flavour" = smoke ] && extra=(--no-trace-compares)
  export CARGO_TARGET_DIR=$TARGET_BASE/$flavour
  BIN=$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release
  echo "== fuzz: building targets ($flavour: sanitizer $SANITIZER, debug assertions on)"
  (cd fuzz && cargo fuzz build -O -a -s "$SANITIZER" "${extra[@]}")
}

is_target() { local t; for t in "${TARGETS[@]}"; do [ "$t" = "$1" ] && return 0; done; return 1; }

# run_one TARGET LOG CORPUS_DIR [libFuzzer flags…]: runs one target, output to LOG.
run_one() {
  local t=$1 log=$2 corpus=$3
  shift 3
  mkdir -p "$corpus" "fuzz/artifacts/$t"
  "$BIN/$t" "$corpus" "fuzz/seeds/$t" \
    -dict="fuzz/dict/${DICT[$t]}.dict" -max_len="${MAXLEN[$t]}" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="fuzz/artifacts/$t/" "$@" >"$log" 2>&1
}

# summary TARGET LOG RC SECONDS CPU: one line per target; the crash input and panic on failure.
summary() {
  local t=$1 log=$2 rc=$3 secs=$4 cpu=$5 execs corp status=ok
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  corp=$(grep -oE 'corp: [0-9]+/[0-9A-Za-z]+' "$log" | tail -1 | cut -d' ' -f2)
  [ "$rc" = 0 ] || status="CRASH (exit $rc)"
  printf '%-14s %10s execs %5ss wall %5ss cpu %7s exec/s  corpus %-10s %s\n' "$t" \
    "${execs:-?}" "$secs" "$cpu" "$(( ${execs:-0} / (secs > 0 ? secs : 1) ))" "${corp:-?}" \
    "$status"
  if [ "$rc" != 0 ]; then
    grep -E "panicked at|^thread '|ERROR: libFuzzer|SUMMARY" "$log" | head -5 | sed 's/^/    /'
    grep -A3 "panicked at" "$log" | sed -n '2,3p' | sed 's/^/    /'
    local art
    art=$(grep -oE "(Test unit written to|written to) [^ ]+" "$log" | tail -1 | awk '{print $NF}')
    echo "    crashing input: ${art:-see $log}"
    echo "    replay: scripts/fuzz.sh replay $t ${art:-FILE}"
  fi
}

# all MODE ARG: every target, FUZZ_JOBS at a time.
all() {
  local mode=$1 arg=$2 logs t pids=() start
  logs=$(mktemp -d)
  run_target() {
    local t=$1 s0 rc=0 TIMEFORMAT='%U'
    s0=$(date +%s)
    if [ "$mode" = smoke ]; then
      { time run_one "$t" "$logs/$t.log" "$logs/corpus-$t" -runs="$arg" \
        -seed="${FUZZ_SEED:-1}"; } 2>"$logs/$t.cpu" || rc=$?
    else
      { time run_one "$t" "$logs/$t.log" "fuzz/corpus/$t" -max_total_time="$arg"; } \
        2>"$logs/$t.cpu" || rc=$?
    fi
    echo "$rc $(( $(date +%s) - s0 )) $(tail -1 "$logs/$t.cpu" | cut -d. -f1)" >"$logs/$t.rc"
  }
  start=$(date +%s)
  for t in "${TARGETS[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 0.2; done
    run_target "$t" &
    pids+=($!)
  done
  wait "${pids[@]}" || true
  echo "== fuzz $mode: ${#TARGETS[@]} targets, $JOBS at a time, $(( $(date +%s) - start ))s"
  local failed=0 rc s cpu
  for t in "${TARGETS[@]}"; do
    read -r rc s cpu <"$logs/$t.rc"
    summary "$t" "$logs/$t.log" "$rc" "$s" "${cpu:-?}"
    [ "$rc" = 0 ] || failed=1
  done
  if [ "$failed" = 0 ]; then rm -rf "$logs"; else echo "logs: $logs"; fi
  return "$failed"
}

cmd=${1:-}
[ -n "$cmd" ] || usage
shift
case "$cmd" in
  build) build full ;;
  list) printf '%s\n' "${TARGETS[@]}" ;;
  smoke)
    build smoke
    all smoke "${FUZZ_RUNS:-1000000}"
    ;;
  long)
    build full
    mkdir -p fuzz/corpus
    all long "${1:-300}"
    ;;
  run)
    t=${1:-}
    is_target "$t" || usage
    shift
    build full
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    exec "$BIN/$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -dict="fuzz/dict/${DICT[$t]}.dict" \
      -max_len="${MAXLEN[$t]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="fuzz/artifacts/$t/" "$@"
    ;;
  replay)
    t=${1:-}
    is_target "$t" || usage
    shift
    [ $# -gt 0 ] || usage
    build full
    exec "$BIN/$t" -runs=1 "$@"
    ;;
  *) usage ;;
esac
