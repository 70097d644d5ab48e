# Helpers for scripts/demo (bash; source it).  Expects SRC, STATE, BUILD
# and PYTHON to be set.
#
#   section / say / note TEXT      what the reader sees between commands
#   run NAME CMD                   print "$ CMD", run it in this shell
#                                  (so exports stay), output in $OUT
#                                  ($STATE/NAME.out), status in $RC
#   run_bg NAME CMD                the same in the background: $BG_PID
#   wait_bg PID                    wait (bounded) for it: $BG_RC
#   expect STEP CMD... / refute    die naming STEP unless CMD succeeds/fails
#   expect_rc STEP N               die unless the last run's status was N
#   die STEP WHY                   print and exit 1 (stopping everything)
#
# Processes started here are listed in $STATE/pids ("name pid" lines) so
# the next run, or --stop, can end exactly those.
set -u

if [ -t 1 ]; then
	_b=$'\e[1m' _d=$'\e[2m' _r=$'\e[31m' _g=$'\e[32m' _n=$'\e[0m'
else
	_b= _d= _r= _g= _n=
fi
DEMO_KEEP=no
BG_PID=
BG_RC=
OUT=
RC=

section() { printf '\n%s== %s%s\n' "$_b" "$*" "$_n"; }
say() { printf '%s# %s%s\n' "$_d" "$*" "$_n"; }
note() { printf '   %s\n' "$*"; }

die() {
	printf '\n%sdemo: step "%s" failed: %s%s\n' "$_r" "$1" "$2" "$_n" >&2
	# What the gateway said about it, if it got that far.
	if [ -s "$STATE/logs/jitgated.log" ] &&
		grep -q 'level=\(warn\|error\)' "$STATE/logs/jitgated.log"; then
		echo "demo: the gateway's last warnings:" >&2
		grep 'level=\(warn\|error\)' "$STATE/logs/jitgated.log" |
			tail -5 | sed 's/^/  /' >&2
	fi
	printf 'demo: logs are in %s/logs, outputs in %s/*.out\n' "$STATE" "$STATE" >&2
	exit 1
}

run() {
	OUT=$STATE/$1.out
	printf '%s$ %s%s\n' "$_g" "$2" "$_n"
	eval "$2" >"$OUT" 2>&1 </dev/null
	RC=$?
	cat "$OUT"
}

run_bg() {
	OUT=$STATE/$1.out
	printf '%s$ %s &%s\n' "$_g" "$2" "$_n"
	# exec: $! is the command itself, so it can be ended by its pid
	(eval "exec $2") >"$OUT" 2>&1 </dev/null &
	BG_PID=$!
	echo "bg $BG_PID" >>"$STATE/pids"
}

# Gone: no such process, or a zombie nobody has reaped yet (when our parent
# shell has exited, a container's PID 1 may never reap it).
_gone() {
	! kill -0 "$1" 2>/dev/null ||
		grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

wait_bg() {
	wait_until _gone "$1" || return 1
	wait "$1"
	BG_RC=$?
}

expect() {
	local step=$1
	shift
	"$@" || die "$step" "expected: $*"
}

refute() {
	local step=$1
	shift
	! "$@" || die "$step" "did not expect: $*"
}

expect_rc() {
	[ "$RC" = "$2" ] || die "$1" "exit status $RC, expected $2"
}

show_file() { cat "$1"; }

# wait_until CMD...: until CMD succeeds, at most about 20 s.
wait_until() {
	local i
	for i in $(seq 1 400); do
		"$@" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

wait_file_match() { wait_until grep -q -- "$2" "$1"; }

free_port() {
	"$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_open() {
	"$PYTHON" -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1).close()" "$1"
}

# Is PID still the process we started (its command line holds WHAT)?
_is_ours() {
	# (it may exit while we read: say no quietly)
	[ -r "/proc/$1/cmdline" ] &&
		{ tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null | grep -qF -- "$2"
}

# PostgreSQL helpers from the integration tests: pg_start, pg_stop,
# pg_psql, running the server as an unprivileged user when we are root.
T=$STATE
_cleanup() { :; }
. "$SRC/tests/integration/lib_pg.sh"

# Stop exactly what the run in DIR started, if it is still there.
demo_stop_previous() {
	local dir=$1 name pid
	if [ -f "$dir/pids" ]; then
		while read -r name pid; do
			case "$name" in
			jitgated) _is_ours "$pid" "$dir/jitgated.json" || continue ;;
			issuer) _is_ours "$pid" "oidc_issuer.py" || continue ;;
			bg) _is_ours "$pid" "psql" || continue ;;
			*) continue ;;
			esac
			kill -TERM "$pid" 2>/dev/null
		done <"$dir/pids"
		# jitgated drains (limits.shutdown_grace, 2s in the demo)
		while read -r name pid; do
			[ "$name" = jitgated ] || continue
			_is_ours "$pid" "$dir/jitgated.json" || continue
			wait_until _gone "$pid" || kill -KILL "$pid" 2>/dev/null
		done <"$dir/pids"
	fi
	if [ -d "$dir/pg/data" ]; then
		PG_DIR=$dir/pg
		pg_stop
	fi
	rm -f "$dir/pids"
}

demo_on_exit() {
	local rc=$?
	[ "$DEMO_KEEP" = yes ] && exit $rc
	demo_stop_previous "$STATE"
	exit $rc
}

demo_start_postgres() {
	local port
	# lib_pg.sh looked for the server when it was sourced, which on a
	# fresh machine was before scripts/install-deps installed it.
	[ -n "$PG_BIN" ] || PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	port=$(free_port) || return 1
	pg_available || { echo "demo: PostgreSQL server binaries not found (is the postgresql package installed?)" >&2; return 1; }
	pg_start "$port" || return 1
	# lib_pg.sh set its own exit trap; ours decides what to stop.
	trap demo_on_exit EXIT
}

demo_load_schema() {
	UPSTREAM_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
	pg_psql -c "CREATE ROLE analytics_rw LOGIN PASSWORD '$UPSTREAM_PASSWORD'" \
		-c "CREATE DATABASE analytics OWNER analytics_rw" \
		>"$STATE/logs/schema.log" 2>&1 || return 1
	PGPASSWORD=$UPSTREAM_PASSWORD psql -X -q -v ON_ERROR_STOP=1 \
		-h 127.0.0.1 -p "$PG_PORT" -U analytics_rw -d analytics \
		-f "$SRC/etc/demo/schema.sql" >>"$STATE/logs/schema.log" 2>&1
}

demo_start_issuer() {
	setsid "$PYTHON" "$SRC/tests/fixtures/oidc_issuer.py" \
		--port-file "$STATE/issuer.port" </dev/null \
		>"$STATE/logs/issuer.log" 2>&1 &
	echo "issuer $!" >>"$STATE/pids"
	wait_until test -s "$STATE/issuer.port" || return 1
	ISSUER=http://127.0.0.1:$(cat "$STATE/issuer.port")
	curl -sf "$ISSUER/.well-known/openid-configuration" >/dev/null
}

# This run's half of the configuration; etc/examples/demo.json is the rest.
demo_write_config() {
	GW_PORT=$(free_port)
	ADMIN_PORT=$(free_port)
	JITGATE_URL=http://127.0.0.1:$ADMIN_PORT
	JITGATE_RECORD_KEY=$(head -c 32 /dev/urandom | base64 | tr -d '/+=')
	export JITGATE_RECORD_KEY
	cat >"$STATE/jitgated.json" <<JSON
// Written by scripts/demo for one run: what depends on this machine.
// Everything else is in the included etc/examples/demo.json.
{
  "include": ["$SRC/etc/examples/demo.json"],
  "plugin_dir": "$BUILD/.libs",
  "admin": {"listen": "127.0.0.1:$ADMIN_PORT"},
  "listeners": [
    {"name": "pg", "protocol": "postgres", "listen": "127.0.0.1:$GW_PORT",
     // no certificate in the demo: plain text, which the postgres
     // plugin allows on loopback only
     "options": {"client_tls": "optional"}}
  ],
  "connections": {
    "analytics": {"options": {"address": "127.0.0.1:$PG_PORT"}}
  },
  "identity": [
    {"plugin": "oidc", "name": "ci",
     "options": {"issuer": "$ISSUER", "audience": ["jitgate"],
                 "groups_claim": ["groups"]}}
  ],
  "store": {"plugin": "store_file", "options": {"dir": "$STATE/store"}}
}
JSON
}

# Only the gateway gets the upstream password; the recording key is
# exported (the auditor's `jitgate audit verify` needs it too).  Started
# directly, not through a function, so $! is jitgated itself (setsid
# and env exec it): that is the pid the next run or --stop ends.
demo_start_jitgated() {
	setsid env DEMO_UPSTREAM_PASSWORD="$UPSTREAM_PASSWORD" "$JITGATED" \
		-c "$STATE/jitgated.json" </dev/null \
		>"$STATE/logs/jitgated.log" 2>&1 &
	JG_PID=$!
	echo "jitgated $JG_PID" >>"$STATE/pids"
	wait_until _started_or_gone
	if ! grep -q 'id=JG0001' "$STATE/logs/jitgated.log"; then
		tail -20 "$STATE/logs/jitgated.log" >&2
		return 1
	fi
	port_open "$ADMIN_PORT" && port_open "$GW_PORT" || return 1
	# The oidc plugin fetches the issuer's keys after start; tokens are
	# refused until they are in ("signing keys are not loaded (yet)").
	wait_until grep -q 'OIDC0001' "$STATE/logs/jitgated.log"
	# For "try it yourself" after the demo.
	cat >"$STATE/env.sh" <<ENV
# . $STATE/env.sh: the demo's addresses in this shell
export PATH="$BUILD:\$PATH"
export ISSUER=$ISSUER
export JITGATE_URL=$JITGATE_URL
export GW="host=127.0.0.1 port=$GW_PORT dbname=analytics user=ci-export"
export JITGATE_RECORD_KEY=$JITGATE_RECORD_KEY
ENV
}
