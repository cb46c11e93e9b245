#!/usr/bin/env bash
# Start and stop the real test servers (RabbitMQ 3.10 + web-STOMP, Prosody 0.12 +
# mod_websocket) on 127.0.0.1, with all state in one throw-away directory.
# See /work/shared/notes/servers.md for why each setting is there.
#
# Usage:
#   scripts/servers.sh start DIR [--stomp-binary] [--prosody-auth internal_hashed|internal_plain]
#                                [--prosody-no-mam] [--only rabbitmq|prosody] [--port-offset N]
#   scripts/servers.sh stop DIR
#   scripts/servers.sh restart-rabbitmq DIR | restart-prosody DIR
#   scripts/servers.sh stop-rabbitmq DIR | start-rabbitmq DIR   (an outage of chosen length)
#   scripts/servers.sh sigstop-rabbitmq DIR | sigcont-rabbitmq DIR
#   scripts/servers.sh status DIR
#   scripts/servers.sh rabbitmqctl DIR ARGS...   (e.g. list_channels)
#   scripts/servers.sh prosodyctl DIR ARGS...    (e.g. register dave localhost davepw)
#
# `start` writes DIR/env (shell variables: STOMP_WS_URL, STOMP_TCP_PORT, XMPP_WS_URL,
# XMPP_DOMAIN, ...) and pid files under DIR/rabbitmq and DIR/prosody. `stop` only
# touches processes whose pids this script recorded.
#
# Prosody runs with mod_mam (message archive) by default; it cuts a c2s message flood
# from ~13000 to ~2300 messages/s here, so flood tests may pass --prosody-no-mam.
# Default ports: 5672 (AMQP), 61613 (STOMP), 15674 (web-STOMP), 25672 (Erlang distribution),
# 35672-35682 (rabbitmqctl's distribution), 4369 (epmd), 5222 (c2s), 5280 (XMPP WebSocket).
# `--port-offset N` (or FULLDUPLEX_PORT_OFFSET=N at start) adds N to every one of them and
# names the node rabbit_N@localhost, so a second set of servers (with its own epmd) runs beside
# the first without touching it. The offset is saved in DIR; later commands reuse it.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RMQ_BIN=/usr/lib/rabbitmq/bin

# Ports: the notes' known-good layout, moved by PORT_OFFSET (see set_ports).
PORT_OFFSET=${FULLDUPLEX_PORT_OFFSET:-0}
XMPP_DOMAIN=localhost
XMPP_MUC_DOMAIN=conference.localhost
TEST_USERS=("alice:alicepw" "bob:bobpw" "carol:carolpw")

START_TIMEOUT=${SERVERS_START_TIMEOUT:-120}
STOP_TIMEOUT=${SERVERS_STOP_TIMEOUT:-60}

die() {
	echo "servers.sh: $*" >&2
	exit 1
}
note() { echo "servers.sh: $*" >&2; }

usage() {
	sed -n '6,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# ---------------------------------------------------------------- helpers

set_ports() {
	[[ $PORT_OFFSET =~ ^[0-9]+$ ]] && ((PORT_OFFSET <= 3900)) || die "port offset must be a number from 0 to 3900"
	AMQP_PORT=$((5672 + PORT_OFFSET))
	STOMP_TCP_PORT=$((61613 + PORT_OFFSET))
	STOMP_WS_PORT=$((15674 + PORT_OFFSET))
	RMQ_DIST_PORT=$((25672 + PORT_OFFSET))
	RMQ_CTL_DIST_MIN=$((35672 + PORT_OFFSET))
	RMQ_CTL_DIST_MAX=$((35682 + PORT_OFFSET))
	EPMD_PORT=$((4369 + PORT_OFFSET))
	XMPP_C2S_PORT=$((5222 + PORT_OFFSET))
	XMPP_HTTP_PORT=$((5280 + PORT_OFFSET))
	if ((PORT_OFFSET == 0)); then RMQ_NODE=rabbit; else RMQ_NODE=rabbit_$PORT_OFFSET; fi
}

pid_alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

read_pid() { # FILE -> pid on stdout (empty if none)
	local f=$1 p=""
	[[ -f $f ]] && p=$(tr -dc '0-9' <"$f" || true)
	echo "$p"
}

# Is anything listening on 127.0.0.1/0.0.0.0/any address at this TCP port?
port_listening() {
	local port=$1
	if command -v ss >/dev/null 2>&1; then
		[[ -n $(ss -Hltn "sport = :$port" 2>/dev/null) ]]
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
	fi
}

# Does 127.0.0.1:port accept a TCP connection?
port_accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

who_listens() { # PORT -> a human description of the listener
	local port=$1 out="" pid cmd
	if command -v ss >/dev/null 2>&1; then
		out=$(ss -Hltnp "sport = :$port" 2>/dev/null | awk '{print $4, $6}' | tr '\n' ' ')
		# Name the state dir if it is one of ours (a run that was never stopped).
		for pid in $(grep -o 'pid=[0-9]*' <<<"$out" | cut -d= -f2 | sort -u); do
			cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
			if [[ $cmd =~ -home\ ([^ ]*)/rabbitmq/home ]] || [[ $cmd =~ --config\ ([^ ]*)/prosody/prosody\.cfg\.lua ]]; then
				out+="[started by servers.sh, state dir ${BASH_REMATCH[1]}] "
			elif [[ -n $cmd ]]; then
				out+="[${cmd:0:100}] "
			fi
		done
	fi
	echo "${out:-unknown process}"
}

check_ports_free() { # NAME PORT...
	local name=$1 port busy=""
	shift
	for port in "$@"; do
		if port_listening "$port"; then
			busy+="  port $port is already in use by: $(who_listens "$port")"$'\n'
		fi
	done
	if [[ -n $busy ]]; then
		echo "servers.sh: cannot start $name, its ports are taken (a stray or system instance?):" >&2
		printf '%s' "$busy" >&2
		echo "  (stop it, e.g. 'scripts/servers.sh stop OLD_DIR' or kill that pid; apt's init scripts may have started one)" >&2
		exit 1
	fi
}

wait_port() { # PORT TIMEOUT_S PID_TO_WATCH NAME
	local port=$1 timeout=$2 pid=$3 name=$4 start=$SECONDS
	while ! port_accepts "$port"; do
		if ! pid_alive "$pid"; then
			return 1
		fi
		if ((SECONDS - start >= timeout)); then
			note "$name: port $port not open after ${timeout}s"
			return 1
		fi
		sleep 0.1
	done
}

wait_gone() { # PID TIMEOUT_S -> 0 when gone
	local pid=$1 timeout=$2 i=0
	while pid_alive "$pid"; do
		# A zombie child of ours counts as gone (not the case with setsid'ed servers,
		# which are reparented, but be safe).
		if [[ $(ps -o stat= -p "$pid" 2>/dev/null || true) == Z* ]]; then
			return 0
		fi
		((i++ >= timeout * 10)) && return 1
		sleep 0.1
	done
	return 0
}

kill_and_wait() { # PID NAME : TERM, wait, KILL
	local pid=$1 name=$2
	pid_alive "$pid" || return 0
	kill -CONT "$pid" 2>/dev/null || true
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_gone "$pid" "$STOP_TIMEOUT"; then
		note "$name (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT}s, sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		wait_gone "$pid" 10 || note "$name (pid $pid) is still alive"
	fi
}

show_log() { # FILE
	if [[ -f $1 ]]; then
		echo "---- last lines of $1:" >&2
		tail -n 30 "$1" >&2 || true
	fi
}

elapsed() { # START_EPOCHREALTIME -> seconds with one decimal
	local a=${1/[.,]/} b=${EPOCHREALTIME/[.,]/} d
	d=$(((b - a) / 100000))
	echo "$((d / 10)).$((d % 10))"
}

abs_dir() { # DIR -> absolute path (created if missing)
	mkdir -p "$1"
	(cd "$1" && pwd)
}

# ---------------------------------------------------------------- options

STOMP_WS_FRAME=text
PROSODY_AUTH=internal_hashed
PROSODY_MAM=1
ONLY=""

parse_start_opts() {
	while (($#)); do
		case $1 in
		--stomp-binary) STOMP_WS_FRAME=binary ;;
		--prosody-auth)
			(($# >= 2)) || die "--prosody-auth needs a value"
			PROSODY_AUTH=$2
			shift
			;;
		--prosody-auth=*) PROSODY_AUTH=${1#*=} ;;
		--prosody-mam) PROSODY_MAM=1 ;;
		--prosody-no-mam) PROSODY_MAM=0 ;;
		--only)
			(($# >= 2)) || die "--only needs rabbitmq or prosody"
			ONLY=$2
			shift
			;;
		--only=*) ONLY=${1#*=} ;;
		--port-offset)
			(($# >= 2)) || die "--port-offset needs a number"
			PORT_OFFSET=$2
			shift
			;;
		--port-offset=*) PORT_OFFSET=${1#*=} ;;
		*) die "unknown start option: $1" ;;
		esac
		shift
	done
	case $PROSODY_AUTH in internal_hashed | internal_plain) ;; *) die "--prosody-auth must be internal_hashed or internal_plain" ;; esac
	case $ONLY in "" | rabbitmq | prosody) ;; *) die "--only must be rabbitmq or prosody" ;; esac
	set_ports
}

save_opts() {
	cat >"$DIR/options" <<EOF
STOMP_WS_FRAME=$STOMP_WS_FRAME
PROSODY_AUTH=$PROSODY_AUTH
PROSODY_MAM=$PROSODY_MAM
ONLY=$ONLY
PORT_OFFSET=$PORT_OFFSET
EOF
}

load_opts() {
	[[ -f $DIR/options ]] || die "$DIR was not set up by 'servers.sh start' (no $DIR/options)"
	local k v
	while IFS='=' read -r k v; do
		case $k in
		STOMP_WS_FRAME) STOMP_WS_FRAME=$v ;;
		PROSODY_AUTH) PROSODY_AUTH=$v ;;
		PROSODY_MAM) PROSODY_MAM=$v ;;
		ONLY) ONLY=$v ;;
		PORT_OFFSET) PORT_OFFSET=$v ;;
		esac
	done <"$DIR/options"
	set_ports
}

# ---------------------------------------------------------------- RabbitMQ

rmq_env() {
	local r=$DIR/rabbitmq
	export HOME=$r/home
	export RABBITMQ_CONF_ENV_FILE=$r/empty-env
	export RABBITMQ_NODENAME=$RMQ_NODE@localhost
	export RABBITMQ_CONFIG_FILE=$r/rabbitmq # rabbitmq appends .conf
	export RABBITMQ_ENABLED_PLUGINS_FILE=$r/enabled_plugins
	export RABBITMQ_MNESIA_BASE=$r/mnesia
	export RABBITMQ_LOG_BASE=$r/log
	export RABBITMQ_PID_FILE=$r/rabbitmq.pid
	export ERL_EPMD_ADDRESS=127.0.0.1
	export ERL_EPMD_PORT=$EPMD_PORT
	export RABBITMQ_DIST_PORT=$RMQ_DIST_PORT
	export RABBITMQ_CTL_DIST_PORT_MIN=$RMQ_CTL_DIST_MIN
	export RABBITMQ_CTL_DIST_PORT_MAX=$RMQ_CTL_DIST_MAX
	export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
	unset RABBITMQ_ENV_LOADED
}

rmq_ctl() { (rmq_env && "$RMQ_BIN/rabbitmqctl" "$@"); }

rmq_write_config() {
	local r=$DIR/rabbitmq
	mkdir -p "$r/home" "$r/mnesia" "$r/log"
	: >"$r/empty-env"
	echo '[rabbitmq_web_stomp].' >"$r/enabled_plugins"
	cat >"$r/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$AMQP_PORT
stomp.listeners.tcp.1 = 127.0.0.1:$STOMP_TCP_PORT
web_stomp.tcp.ip = 127.0.0.1
web_stomp.tcp.port = $STOMP_WS_PORT
web_stomp.ws_frame = $STOMP_WS_FRAME
loopback_users.guest = true
management.tcp.ip = 127.0.0.1
EOF
}

# epmd: reuse one that is already running (never kill it), else start our own and
# remember its pid so `stop` can remove it.
rmq_ensure_epmd() {
	local r=$DIR/rabbitmq
	if port_listening "$EPMD_PORT"; then
		local names
		names=$(ERL_EPMD_PORT=$EPMD_PORT epmd -names 2>/dev/null || true)
		if grep -q "^name $RMQ_NODE at" <<<"$names"; then
			die "a stray RabbitMQ node '$RMQ_NODE' is already registered with epmd on port $EPMD_PORT ($(who_listens "$EPMD_PORT")); stop it first (ps aux | grep beam.smp)"
		fi
		rm -f "$r/epmd.pid"
		return 0
	fi
	setsid epmd -address 127.0.0.1 -port "$EPMD_PORT" </dev/null >"$r/epmd.log" 2>&1 &
	echo $! >"$r/epmd.pid"
	if ! wait_port "$EPMD_PORT" 10 "$(read_pid "$r/epmd.pid")" epmd; then
		show_log "$r/epmd.log"
		die "epmd did not start"
	fi
}

rmq_start() {
	local r=$DIR/rabbitmq wrapper_pid
	if pid_alive "$(read_pid "$r/rabbitmq.pid")" || pid_alive "$(read_pid "$r/wrapper.pid")"; then
		die "RabbitMQ of $DIR is already running; use 'stop' or 'restart-rabbitmq'"
	fi
	check_ports_free RabbitMQ "$AMQP_PORT" "$STOMP_TCP_PORT" "$STOMP_WS_PORT" "$RMQ_DIST_PORT"
	[[ -x $RMQ_BIN/rabbitmq-server ]] || die "$RMQ_BIN/rabbitmq-server not found (apt-get install rabbitmq-server)"
	[[ -f $r/rabbitmq.conf ]] || rmq_write_config
	rm -f "$r/rabbitmq.pid"
	rmq_ensure_epmd
	(
		rmq_env
		exec setsid "$RMQ_BIN/rabbitmq-server" </dev/null >>"$r/stdout.log" 2>&1
	) &
	wrapper_pid=$!
	echo "$wrapper_pid" >"$r/wrapper.pid"
}

rmq_wait_ready() {
	local r=$DIR/rabbitmq beam_pid
	# `rabbitmqctl wait` polls for the pid file and then for the app, and exits early
	# if the node dies after writing the pid file. If it dies before that (bad config,
	# port race), only the wrapper's exit tells us: watch it so we fail fast.
	local wait_pid wrapper_pid ok=1
	wrapper_pid=$(read_pid "$r/wrapper.pid")
	rmq_ctl wait --timeout "$START_TIMEOUT" "$r/rabbitmq.pid" >"$r/wait.log" 2>&1 &
	wait_pid=$!
	while kill -0 "$wait_pid" 2>/dev/null; do
		if ! pid_alive "$wrapper_pid"; then
			ok=0
			kill "$wait_pid" 2>/dev/null || true
			break
		fi
		sleep 0.2
	done
	wait "$wait_pid" || ok=0
	if ((!ok)); then
		cat "$r/wait.log" >&2
		show_log "$r/stdout.log"
		rmq_stop || true
		die "RabbitMQ did not start (logs in $r/log)"
	fi
	beam_pid=$(read_pid "$r/rabbitmq.pid")
	local port
	for port in "$AMQP_PORT" "$STOMP_TCP_PORT" "$STOMP_WS_PORT"; do
		if ! wait_port "$port" 30 "$beam_pid" RabbitMQ; then
			show_log "$r/stdout.log"
			rmq_stop || true
			die "RabbitMQ started but port $port is not open (logs in $r/log)"
		fi
	done
}

rmq_stop() {
	local r=$DIR/rabbitmq
	[[ -d $r ]] || return 0
	local beam_pid wrapper_pid epmd_pid
	beam_pid=$(read_pid "$r/rabbitmq.pid")
	wrapper_pid=$(read_pid "$r/wrapper.pid")
	epmd_pid=$(read_pid "$r/epmd.pid")
	if pid_alive "$beam_pid"; then
		kill -CONT "$beam_pid" 2>/dev/null || true # in case sigstop-rabbitmq was used
		if ! rmq_ctl stop "$r/rabbitmq.pid" >"$r/stop.log" 2>&1; then
			note "rabbitmqctl stop failed, terminating pid $beam_pid"
		fi
		kill_and_wait "$beam_pid" "RabbitMQ beam.smp"
	fi
	kill_and_wait "$wrapper_pid" "rabbitmq-server wrapper"
	# Our own epmd goes, unless another node registered with it meanwhile (epmd -kill
	# refuses then, and so do we).
	if pid_alive "$epmd_pid"; then
		if [[ -z $(ERL_EPMD_PORT=$EPMD_PORT epmd -names 2>/dev/null | grep '^name ' || true) ]]; then
			ERL_EPMD_PORT=$EPMD_PORT epmd -kill >/dev/null 2>&1 || true
			wait_gone "$epmd_pid" 5 || kill_and_wait "$epmd_pid" epmd
		else
			note "epmd (pid $epmd_pid) still has nodes registered; left running"
		fi
	fi
	rm -f "$r/rabbitmq.pid" "$r/wrapper.pid" "$r/epmd.pid"
}

rmq_signal() { # SIG
	local pid
	pid=$(read_pid "$DIR/rabbitmq/rabbitmq.pid")
	pid_alive "$pid" || die "RabbitMQ of $DIR is not running"
	kill "-$1" "$pid"
}

# ---------------------------------------------------------------- Prosody

pros_cfg() { echo "$DIR/prosody/prosody.cfg.lua"; }

pros_ctl() { prosodyctl --config "$(pros_cfg)" "$@"; }

pros_write_config() {
	local p=$DIR/prosody tpl=$SCRIPT_DIR/prosody.cfg.lua.in cfg extra=""
	[[ -f $tpl ]] || die "missing template $tpl"
	mkdir -p "$p/data" "$p/certs"
	((PROSODY_MAM)) && extra=' "mam";'
	cfg=$(<"$tpl")
	cfg=${cfg//@STATE@/$p}
	cfg=${cfg//@AUTH@/$PROSODY_AUTH}
	cfg=${cfg//@C2S_PORT@/$XMPP_C2S_PORT}
	cfg=${cfg//@HTTP_PORT@/$XMPP_HTTP_PORT}
	cfg=${cfg//@DOMAIN@/$XMPP_DOMAIN}
	cfg=${cfg//@MUC_DOMAIN@/$XMPP_MUC_DOMAIN}
	cfg=${cfg//@EXTRA_MODULES@/$extra}
	printf '%s\n' "$cfg" >"$(pros_cfg)"
	# Users are stored in files, so register them before the server runs.
	local u
	for u in "${TEST_USERS[@]}"; do
		if ! pros_ctl register "${u%%:*}" "$XMPP_DOMAIN" "${u#*:}" >>"$p/prosodyctl.log" 2>&1; then
			show_log "$p/prosodyctl.log"
			die "could not register ${u%%:*}@$XMPP_DOMAIN"
		fi
	done
}

pros_start() {
	local p=$DIR/prosody pid
	if pid_alive "$(read_pid "$p/prosody.pid")"; then
		die "Prosody of $DIR is already running; use 'stop' or 'restart-prosody'"
	fi
	check_ports_free Prosody "$XMPP_C2S_PORT" "$XMPP_HTTP_PORT"
	command -v prosody >/dev/null || die "prosody not found (apt-get install prosody lua-unbound)"
	[[ -f $(pros_cfg) ]] || pros_write_config
	setsid prosody --config "$(pros_cfg)" -F </dev/null >>"$p/prosody.log" 2>&1 &
	pid=$!
	echo "$pid" >"$p/prosody.pid"
	# Prosody rewrites (and on exit removes) the same pid file; keep our own copy too.
	echo "$pid" >"$p/launched.pid"
	local port
	for port in "$XMPP_C2S_PORT" "$XMPP_HTTP_PORT"; do
		if ! wait_port "$port" 30 "$pid" Prosody; then
			show_log "$p/prosody.log"
			pros_stop || true
			die "Prosody did not start (log $p/prosody.log)"
		fi
	done
	if grep -q -E '\berror\b' "$p/prosody.log"; then
		note "Prosody logged errors at start-up:"
		grep -E '\berror\b' "$p/prosody.log" | tail -n 5 >&2
	fi
}

pros_stop() {
	local p=$DIR/prosody pid
	[[ -d $p ]] || return 0
	pid=$(read_pid "$p/launched.pid")
	[[ -n $pid ]] || pid=$(read_pid "$p/prosody.pid")
	kill_and_wait "$pid" Prosody
	rm -f "$p/prosody.pid" "$p/launched.pid"
}

# ---------------------------------------------------------------- env file

write_env() {
	local f=$DIR/env
	{
		echo "# written by scripts/servers.sh start; source with: set -a; . $f; set +a"
		echo "SERVERS_DIR='$DIR'"
		echo "PORT_OFFSET='$PORT_OFFSET'"
		if [[ $ONLY != prosody ]]; then
			echo "STOMP_WS_URL='ws://127.0.0.1:$STOMP_WS_PORT/ws'"
			echo "STOMP_TCP_PORT='$STOMP_TCP_PORT'"
			echo "STOMP_HOST='127.0.0.1'"
			echo "STOMP_LOGIN='guest'"
			echo "STOMP_PASSCODE='guest'"
			echo "STOMP_WS_FRAME='$STOMP_WS_FRAME'"
			echo "AMQP_PORT='$AMQP_PORT'"
			echo "RABBITMQ_NODE='$RMQ_NODE@localhost'"
		fi
		if [[ $ONLY != rabbitmq ]]; then
			echo "XMPP_WS_URL='ws://127.0.0.1:$XMPP_HTTP_PORT/xmpp-websocket'"
			echo "XMPP_DOMAIN='$XMPP_DOMAIN'"
			echo "XMPP_MUC_DOMAIN='$XMPP_MUC_DOMAIN'"
			echo "XMPP_TCP_PORT='$XMPP_C2S_PORT'"
			echo "XMPP_AUTH='$PROSODY_AUTH'"
			echo "XMPP_MAM='$PROSODY_MAM'"
			echo "XMPP_USERS='${TEST_USERS[*]}'"
		fi
	} >"$f"
}

# ---------------------------------------------------------------- commands

cmd_start() {
	local t0=$EPOCHREALTIME
	# Throw-away state: clear what an earlier (stopped) run left in DIR.
	if pid_alive "$(read_pid "$DIR/rabbitmq/rabbitmq.pid")" || pid_alive "$(read_pid "$DIR/rabbitmq/wrapper.pid")" ||
		pid_alive "$(read_pid "$DIR/prosody/launched.pid")"; then
		die "servers of $DIR are already running; run 'scripts/servers.sh stop $DIR' first"
	fi
	rm -rf "$DIR/rabbitmq" "$DIR/prosody" "$DIR/env" "$DIR/options"
	save_opts
	# Check every port before starting anything, so a conflict fails fast.
	[[ $ONLY == prosody ]] || check_ports_free RabbitMQ "$AMQP_PORT" "$STOMP_TCP_PORT" "$STOMP_WS_PORT" "$RMQ_DIST_PORT"
	[[ $ONLY == rabbitmq ]] || check_ports_free Prosody "$XMPP_C2S_PORT" "$XMPP_HTTP_PORT"
	# On any failure below, stop whatever did start.
	trap 'rc=$?; if ((rc != 0)); then pros_stop || true; rmq_stop || true; fi; exit $rc' EXIT
	# RabbitMQ boots slowly (~6 s): launch it first, start Prosody meanwhile, then wait.
	if [[ $ONLY != prosody ]]; then
		mkdir -p "$DIR/rabbitmq"
		rmq_start
	fi
	if [[ $ONLY != rabbitmq ]]; then
		mkdir -p "$DIR/prosody"
		pros_start
	fi
	[[ $ONLY == prosody ]] || rmq_wait_ready
	write_env
	trap - EXIT
	note "ready in $(elapsed "$t0")s (env: $DIR/env)"
}

cmd_stop() {
	[[ -d $DIR ]] || return 0
	pros_stop
	rmq_stop
	[[ ! -f $DIR/env ]] || mv -f "$DIR/env" "$DIR/env.stopped"
}

cmd_status() {
	local pid rc=0
	pid=$(read_pid "$DIR/rabbitmq/rabbitmq.pid")
	if pid_alive "$pid"; then echo "rabbitmq: running (beam pid $pid)"; else echo "rabbitmq: stopped"; rc=1; fi
	pid=$(read_pid "$DIR/prosody/launched.pid")
	if pid_alive "$pid"; then echo "prosody: running (pid $pid)"; else echo "prosody: stopped"; rc=1; fi
	return $rc
}

(($# >= 2)) || usage
CMD=$1
[[ -n $2 ]] || die "DIR must not be empty"
case $2 in *[\"\'\\$'\n']*) die "DIR must not contain quotes, backslashes or newlines" ;; esac
if [[ $CMD == start ]]; then
	DIR=$(abs_dir "$2")
else
	[[ -d $2 ]] || { [[ $CMD == stop ]] && exit 0; die "no such directory: $2"; }
	DIR=$(cd "$2" && pwd)
fi
shift 2

# Every command but start works on the ports DIR was started with.
if [[ $CMD != start ]]; then
	PORT_OFFSET=0 # DIRs from before the option existed used the defaults
	if [[ -f $DIR/options ]]; then load_opts; else set_ports; fi
fi

case $CMD in
start)
	parse_start_opts "$@"
	cmd_start
	;;
stop) cmd_stop ;;
restart-rabbitmq)
	[[ $ONLY != prosody ]] || die "RabbitMQ was not started in $DIR (--only prosody)"
	rmq_stop
	rmq_start
	rmq_wait_ready
	;;
stop-rabbitmq)
	[[ $ONLY != prosody ]] || die "RabbitMQ was not started in $DIR (--only prosody)"
	rmq_stop
	;;
start-rabbitmq)
	[[ $ONLY != prosody ]] || die "RabbitMQ was not started in $DIR (--only prosody)"
	rmq_start
	rmq_wait_ready
	;;
restart-prosody)
	[[ $ONLY != rabbitmq ]] || die "Prosody was not started in $DIR (--only rabbitmq)"
	pros_stop
	pros_start
	;;
sigstop-rabbitmq) rmq_signal STOP ;;
sigcont-rabbitmq) rmq_signal CONT ;;
status) cmd_status ;;
rabbitmqctl) rmq_ctl "$@" ;;
prosodyctl) pros_ctl "$@" ;;
*) usage ;;
esac
