#!/usr/bin/env bash
# Run a command with the real test servers up, and always stop them afterwards.
#
# Usage:
#   scripts/with-servers.sh [DIR] [start options...] -- command args...
#
#   DIR            state directory to use (kept afterwards); omit it or pass "" to use a
#                  fresh `mktemp -d` directory, removed afterwards unless the command
#                  failed or KEEP_SERVERS_DIR=1 (then its path is printed, for the logs).
#   start options  as for `scripts/servers.sh start`: --stomp-binary,
#                  --prosody-auth internal_hashed|internal_plain, --prosody-no-mam,
#                  --only rabbitmq|prosody, --port-offset N (every listener moved by N, so
#                  a private set of servers runs beside the shared one)
#
# The variables of DIR/env (STOMP_WS_URL, STOMP_TCP_PORT, XMPP_WS_URL, XMPP_DOMAIN,
# SERVERS_DIR, ...) are exported to the command. The exit code is the command's
# (128+N if the wrapper was stopped by signal N).
#
# Example: scripts/with-servers.sh --stomp-binary -- cargo test --features stomp --test live
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SERVERS=$SCRIPT_DIR/servers.sh

dir=""
dir_given=0
start_opts=()
while (($#)); do
	case $1 in
	--) shift; break ;;
	--prosody-auth | --only | --port-offset)
		(($# >= 2)) || { echo "with-servers.sh: $1 needs a value" >&2; exit 2; }
		start_opts+=("$1" "$2")
		shift
		;;
	-*) start_opts+=("$1") ;;
	*)
		((dir_given == 0)) || { echo "with-servers.sh: unexpected argument '$1' (missing '--'?)" >&2; exit 2; }
		dir=$1
		dir_given=1
		;;
	esac
	shift
done
(($# >= 1)) || { echo "usage: with-servers.sh [DIR] [start options...] -- command args..." >&2; exit 2; }

tmp_dir=0
if [[ -z $dir ]]; then
	dir=$(mktemp -d "${TMPDIR:-/tmp}/fullduplex-servers.XXXXXX")
	tmp_dir=1
fi

child=""
rc=0
cleaned=0
cleanup() {
	((cleaned)) && return 0
	cleaned=1
	if [[ -n $child ]] && kill -0 "$child" 2>/dev/null; then
		kill -TERM "$child" 2>/dev/null || true
		wait "$child" 2>/dev/null || true
	fi
	"$SERVERS" stop "$dir" || echo "with-servers.sh: stopping the servers in $dir failed" >&2
	if ((tmp_dir)); then
		if ((rc == 0)) && [[ ${KEEP_SERVERS_DIR:-0} != 1 ]]; then
			rm -rf "$dir"
		else
			echo "with-servers.sh: server state and logs kept in $dir" >&2
		fi
	fi
}
on_signal() {
	rc=$((128 + $1))
	cleanup
	trap - EXIT
	exit "$rc"
}
trap 'rc=$?; cleanup; exit $rc' EXIT
trap 'on_signal 2' INT
trap 'on_signal 15' TERM
trap 'on_signal 1' HUP

"$SERVERS" start "$dir" ${start_opts[@]+"${start_opts[@]}"}

set -a
# shellcheck disable=SC1091
. "$dir/env"
set +a

# Run the command in the background so a signal to this wrapper is handled at once
# (bash defers traps while a foreground child runs); keep our stdin for it.
if { true <&0; } 2>/dev/null; then
	"$@" <&0 &
else
	"$@" </dev/null &
fi
child=$!
set +e
wait "$child"
rc=$?
# `wait` also returns >128 when interrupted by a trapped signal; the handler exits then.
set -e
child=""
exit "$rc"
