#!/bin/bash
# CPU per append in store_file alone (bench_append.c): SESSIONS records
# written at once, interleaved, a durable decision and a result per
# statement.  Runs ROUNDS times at nice 10 and prints each run.
#
#   bench/store/append.sh [SECONDS_PER_RUN] [ROUNDS] [SESSIONS] [fsync=true|false] [PER_SESSION]
#       (default 3 s, 3 rounds, 8 sessions, fsync on, records never closed)
#
# Needs a build (JG_BUILDDIR, default _build/default) with store_file.
# Touches only a temporary directory, removed on exit.
set -u
SECS=${1:-3}
ROUNDS=${2:-3}
SESS=${3:-8}
FSYNC=${4:-fsync=true}
PER=${5:-0}
here=$(cd "$(dirname "$0")" && pwd)
S=${JG_SRCDIR:-$(cd "$here/../.." && pwd)}
B=${JG_BUILDDIR:-$S/_build/default}
[ -e "$B/.libs/store_file.so" ] || { echo "$B/.libs/store_file.so is not built"; exit 1; }
T=$(mktemp -d /tmp/jg-bench-append-XXXXXX)
trap 'rm -rf "$T"' EXIT
${CC:-cc} -O2 -g -D_GNU_SOURCE -I"$B" -I"$S/sdk/include" -I"$S/core" \
	-I"$S/tests/unit" $(pkg-config --cflags json-c) \
	-o "$T/bench_append" "$here/bench_append.c" "$S/tests/unit/record_fake_host.c" \
	$(pkg-config --libs json-c) -lev -lpthread -ldl ||
	{ echo "bench_append does not build"; exit 1; }
echo "store_file appends, $SESS records interleaved, $FSYNC, new record every ${PER:-0} statements (0: never), ${SECS}s per run; $(nproc) cores shared by all"
for r in $(seq 1 "$ROUNDS"); do
	mkdir -m 700 "$T/d$r"
	nice -n 10 "$T/bench_append" "$B/.libs/store_file.so" "$SECS" "$SESS" "$T/d$r" "$FSYNC" "$PER" || exit 1
done
