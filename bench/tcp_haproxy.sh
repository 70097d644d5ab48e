#!/bin/bash
# Throughput of jitgated's tcp plugin against HAProxy in TCP mode, both on
# loopback, same run, alternating rounds.  Prints MB/s of each and the
# ratio jitgated / haproxy (target: at least 0.9).
#
#   bench/tcp_haproxy.sh [ROUNDS [MIB_PER_ROUND]]     default 4 rounds, 512 MiB
#
# Uses the build in $JG_BUILDDIR (default _build/default).  Total data
# moved: 2 * ROUNDS * MIB_PER_ROUND.
set -eu
cd "$(dirname "$0")/.."
SRC=$(pwd)
B=${JG_BUILDDIR:-$SRC/_build/default}
ROUNDS=${1:-4}
MIB=${2:-512}
PY=/usr/bin/python3
command -v haproxy >/dev/null || { echo "haproxy not installed (scripts/install-deps)"; exit 1; }
[ -x "$B/jitgated" ] || { echo "no $B/jitgated: build first"; exit 1; }

T=$(mktemp -d /tmp/jg-bench.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT

port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A sink that discards and answers the byte count at EOF, and a source
# that times one transfer (connect to reply).
cat >"$T/peer.py" <<'PY'
import socket, sys, threading, time
def sink(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(16)
    def h(c):
        buf = bytearray(1 << 20); n = 0
        while True:
            k = c.recv_into(buf)
            if not k: break
            n += k
        c.sendall(str(n).encode()); c.close()
    while True:
        c, _ = s.accept(); threading.Thread(target=h, args=(c,), daemon=True).start()
def source(port, mib):
    block = memoryview(bytes(1 << 20))
    t0 = time.monotonic()
    c = socket.create_connection(("127.0.0.1", port))
    for _ in range(mib): c.sendall(block)
    c.shutdown(socket.SHUT_WR)
    got = c.recv(64); t1 = time.monotonic()
    assert int(got) == mib << 20, got
    print("%.1f" % (mib * 1.048576 / (t1 - t0)))
if sys.argv[1] == "sink": sink(int(sys.argv[2]))
else: source(int(sys.argv[2]), int(sys.argv[3]))
PY

sp=$(port); jp=$(port); hp=$(port)
"$PY" "$T/peer.py" sink "$sp" & pids+=($!)

cat >"$T/jg.json" <<JSON
{"workers": 0, "log": {"level": "warn"}, "plugin_dir": "$B/.libs", "plugins": ["tcp"],
 "listeners": [{"name": "bench", "protocol": "tcp", "listen": "127.0.0.1:$jp",
   "options": {"connection": "sink", "recording": "best_effort"}}],
 "connections": {"sink": {"protocol": "tcp", "options": {"upstream": "127.0.0.1:$sp"}}}}
JSON
"$B/jitgated" -c "$T/jg.json" 2>"$T/jitgated.log" & pids+=($!)

cat >"$T/haproxy.cfg" <<CFG
global
    maxconn 1000
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend bench
    bind 127.0.0.1:$hp
    default_backend sink
backend sink
    server s1 127.0.0.1:$sp
CFG
haproxy -f "$T/haproxy.cfg" -db >"$T/haproxy.log" 2>&1 & pids+=($!)

for p in $sp $jp $hp; do
	for i in $(seq 1 100); do
		"$PY" -c "import socket; socket.create_connection(('127.0.0.1', $p)).close()" 2>/dev/null && break
		sleep 0.05
	done
done

echo "haproxy $(haproxy -v | head -1 | awk '{print $3}'), jitgated $("$B/jitgated" --version | awk '{print $2}'), $ROUNDS rounds of $MIB MiB, $(nproc) CPUs"
jt=0 ht=0
for r in $(seq 1 "$ROUNDS"); do
	# Alternate which goes first so neither always gets the warm cache.
	if [ $((r % 2)) = 1 ]; then order="j h"; else order="h j"; fi
	for w in $order; do
		if [ $w = j ]; then
			v=$("$PY" "$T/peer.py" source "$jp" "$MIB"); jt=$(awk "BEGIN{print $jt + $v}")
			printf 'round %d  jitgated %8.1f MB/s\n' "$r" "$v"
		else
			v=$("$PY" "$T/peer.py" source "$hp" "$MIB"); ht=$(awk "BEGIN{print $ht + $v}")
			printf 'round %d  haproxy  %8.1f MB/s\n' "$r" "$v"
		fi
	done
done
ja=$(awk "BEGIN{print $jt / $ROUNDS}")
ha=$(awk "BEGIN{print $ht / $ROUNDS}")
printf 'mean     jitgated %8.1f MB/s\n' "$ja"
printf 'mean     haproxy  %8.1f MB/s\n' "$ha"
printf 'ratio    jitgated/haproxy %.3f (target >= 0.9)\n' "$(awk "BEGIN{print $ja / $ha}")"
