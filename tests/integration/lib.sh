# Shared helpers for integration tests (bash).  Source it first:
#
#   . "$(dirname "$0")/lib.sh"
#
# It makes a scratch directory $T, removes it and stops every process
# started through it on exit (trap), and gives:
#
#   ok / not_ok / check DESC CMD...   TAP-ish "ok N - DESC" lines
#   finish                            exit 1 if anything failed
#   free_port                         an unused loopback TCP port
#   wait_for_port PORT                until something accepts on it
#   start_bg NAME CMD...              run in the background, remembered
#   start_jitgated CONFIG             $JG_PID, log in $JG_LOG; waits for
#                                     the "started" line
#   stop_jitgated [SIGNAL]            signal (TERM) and wait; $JG_RC
#   wait_log PATTERN                  until $JG_LOG matches (bounded)
#   py ARGS...                        /usr/bin/python3 netutil.py ARGS
#
# Waits are bounded by counts of short sleeps, never asserted on.
set -u

JG_SRCDIR=${JG_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
JG_BUILDDIR=${JG_BUILDDIR:-$JG_SRCDIR/_build/default}
JG_SANITIZE=${JG_SANITIZE:-no}
JITGATED=$JG_BUILDDIR/jitgated
JG_PLUGIN_DIR=$JG_BUILDDIR/.libs
PYTHON=/usr/bin/python3
NETUTIL=$JG_SRCDIR/tests/integration/netutil.py

T=$(mktemp -d "${TMPDIR:-/tmp}/jg-test.XXXXXX")
_bg_pids=()
_n=0
_failed=0
JG_PID=
JG_LOG=$T/jitgated.log
JG_RC=

_cleanup() {
	local p
	for p in ${JG_PID:+$JG_PID} "${_bg_pids[@]+"${_bg_pids[@]}"}"; do
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	true
	rm -rf "$T"
}
trap _cleanup EXIT

ok() {
	_n=$((_n + 1))
	echo "ok $_n - $*"
}

not_ok() {
	_n=$((_n + 1))
	_failed=$((_failed + 1))
	echo "not ok $_n - $*"
}

# check DESC CMD...: ok if CMD succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

finish() {
	echo "# $_n tests, $_failed failed"
	[ "$_failed" -eq 0 ]
	exit $?
}

free_port() {
	"$PYTHON" - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
PY
}

wait_for_port() {
	local i
	for i in $(seq 1 200); do
		if "$PYTHON" -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1).close()" "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	echo "# port $1 never opened" >&2
	return 1
}

start_bg() {
	local name=$1
	shift
	# Run the program itself in the background (not a subshell around
	# it), so the pid remembered is the one the trap kills.
	[ "$1" = py ] && { shift; set -- "$PYTHON" "$NETUTIL" "$@"; }
	"$@" >"$T/$name.out" 2>"$T/$name.err" &
	_bg_pids+=($!)
	BG_PID=$!
}

py() {
	"$PYTHON" "$NETUTIL" "$@"
}

wait_log() {
	local i
	for i in $(seq 1 200); do
		grep -q -- "$1" "$JG_LOG" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "# log never matched: $1" >&2
	return 1
}

start_jitgated() {
	: >"$JG_LOG"
	"$JITGATED" -c "$1" 2>>"$JG_LOG" &
	JG_PID=$!
	local i
	for i in $(seq 1 200); do
		grep -q 'id=JG0001\|"id":"JG0001"' "$JG_LOG" && return 0
		kill -0 "$JG_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "# jitgated did not start:" >&2
	sed 's/^/#   /' "$JG_LOG" >&2
	return 1
}

stop_jitgated() {
	[ -n "$JG_PID" ] || return 0
	kill -"${1:-TERM}" "$JG_PID" 2>/dev/null
	wait "$JG_PID"
	JG_RC=$?
	JG_PID=
	# a crash at exit (a sanitizer's report, say) is in the log only
	if [ "$JG_RC" -ne 0 ] && [ "${1:-TERM}" = TERM ]; then
		echo "# jitgated exited with status $JG_RC; the end of its log:"
		tail -60 "$JG_LOG" | sed 's/^/#   /'
	fi
}

# Peak resident memory of a running process, KiB.
peak_rss_kib() {
	awk '/^VmHWM:/ {print $2}' "/proc/$1/status"
}

# A config with the tcp plugin: tcp_config FILE LISTEN_PORT UPSTREAM [EXTRA]
# EXTRA is JSON members added at the top level (with a leading comma).
tcp_config() {
	cat >"$1" <<JSON
{
  // written by an integration test
  "workers": 2,
  "plugin_dir": "$JG_PLUGIN_DIR",
  "plugins": ["tcp"],
  "listeners": [{"name": "t", "protocol": "tcp",
                 "listen": "127.0.0.1:$2",
                 "options": {"connection": "up", "recording": "best_effort"}}],
  "connections": {"up": {"protocol": "tcp",
                         "options": {"upstream": "$3"}}}
  ${4:-}
}
JSON
}

# make_ca DIR NAME: a CA (NAME-ca.pem, NAME-ca.key) made with certtool.
make_ca() {
	cat >"$1/$2-ca.tmpl" <<TMPL
cn = "jitgate test CA $2"
ca
cert_signing_key
expiration_days = 2
TMPL
	certtool --generate-privkey --key-type=ecdsa --outfile "$1/$2-ca.key" 2>/dev/null &&
		certtool --generate-self-signed --load-privkey "$1/$2-ca.key" \
			--template "$1/$2-ca.tmpl" --outfile "$1/$2-ca.pem" >/dev/null 2>&1
}

# make_cert DIR CA NAME ROLE: NAME.pem/NAME.key signed by CA, for
# "localhost" and 127.0.0.1; ROLE is server or client.
make_cert() {
	{
		echo "cn = \"$3\""
		echo "expiration_days = 2"
		echo "signing_key"
		if [ "$4" = server ]; then
			echo 'dns_name = "localhost"'
			echo 'ip_address = "127.0.0.1"'
			echo "tls_www_server"
		else
			echo "tls_www_client"
		fi
	} >"$1/$3.tmpl"
	certtool --generate-privkey --key-type=ecdsa --outfile "$1/$3.key" 2>/dev/null &&
		certtool --generate-certificate --load-privkey "$1/$3.key" \
			--load-ca-certificate "$1/$2-ca.pem" \
			--load-ca-privkey "$1/$2-ca.key" \
			--template "$1/$3.tmpl" --outfile "$1/$3.pem" >/dev/null 2>&1
}

# open_session NAME PORT: a client connection driven with say/hear.
# Sets NAME_in / NAME_out file descriptors (bash coproc).
open_session() {
	local name=$1
	# bash warns when a second coproc starts; they work all the same.
	eval "coproc $name { exec \"\$PYTHON\" \"\$NETUTIL\" session $2; }" 2>/dev/null
	eval "_bg_pids+=(\${${name}_PID})"
}

# say NAME LINE: send a command; hear NAME: read one reply line (bounded).
say() {
	eval "echo \"\$2\" >&\${$1[1]}"
}

hear() {
	local line
	eval "read -r -t 30 line <&\${$1[0]}" || line="(nothing)"
	echo "$line"
}
