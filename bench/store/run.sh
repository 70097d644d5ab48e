#!/bin/bash
# What recording costs.
#
#  1. Events per second appended through the recorder (redaction, hash
#     chain, HMAC; core/record.c) into store_file and into store_postgres,
#     with their default durability (lifecycle events such as decisions
#     wait for fsync / a commit; statement and result events do not).
#     bench_store.c is compiled here against the build directory.
#  2. pgbench -S (-c 8, simple and prepared) through jitgated recording
#     every statement in full (the default) versus recording the least
#     the postgres plugin allows ("record": "none": connect, auth,
#     decisions, disconnect, seal), alternating, tps and the ratio.  A
#     gateway with no recording at all cannot be measured: the postgres
#     plugin refuses sessions it cannot record, and grants live in the
#     store.
#
#   bench/store/run.sh [SECONDS_PER_RUN] [ROUNDS]      (default 3 s, 2 rounds)
#
# Needs a build (JG_BUILDDIR, default _build/default) with store_file,
# store_postgres and postgres, PostgreSQL server binaries and pgbench.
# Loopback only; everything it starts is stopped on exit.
set -u
SECS=${1:-3}
ROUNDS=${2:-2}
here=$(cd "$(dirname "$0")" && pwd)
export JG_SRCDIR=${JG_SRCDIR:-$(cd "$here/../.." && pwd)}
. "$JG_SRCDIR/tests/integration/lib.sh"
. "$JG_SRCDIR/tests/integration/lib_pg.sh"
B=$JG_BUILDDIR
S=$JG_SRCDIR
JG=$B/jitgate

pg_available || { echo "PostgreSQL is not installed"; exit 1; }
for so in store_file store_postgres postgres oidc; do
	[ -e "$B/.libs/$so.so" ] || { echo "$B/.libs/$so.so is not built"; exit 1; }
done
${CC:-cc} -O2 -g -D_GNU_SOURCE -I"$B" -I"$S/sdk/include" -I"$S/core" \
	-I"$S/tests/unit" $(pkg-config --cflags json-c gnutls) \
	-o "$T/bench_store" "$here/bench_store.c" "$S/tests/unit/record_fake_host.c" \
	"$S/core/record.c" "$S/core/store.c" "$B/.libs/libjgchain.a" \
	$(pkg-config --libs json-c gnutls) -lev -lpthread -ldl ||
	{ echo "bench_store does not build"; exit 1; }

pgp=$(free_port)
pg_start "$pgp" || exit 1
# lib_pg.sh starts PostgreSQL with fsync=off (fast tests); a store's
# commits are only durable with it on
_pg_as "'$PG_BIN/pg_ctl' -D '$PG_DIR/data' -l '$PG_DIR/server.log' -w -m fast \
	-o \"-c listen_addresses=127.0.0.1 -p $pgp -k $PG_DIR/sock \
	-c max_connections=60\" restart" >/dev/null 2>&1 || exit 1
[ "$(pg_psql -c 'SHOW fsync')" = on ] || { echo "PostgreSQL fsync is not on"; exit 1; }
pg_psql -c "CREATE DATABASE jgstore" >/dev/null || exit 1

echo "events appended per second, ${SECS}s per run, best of $ROUNDS; $(nproc) cores shared by all"
echo "(per statement: decision [durable], statement, result; a new session every 50 statements)"
printf '%-15s %8s %12s\n' store sessions events/s
mkdir -m 700 "$T/sf"
CONN="host=127.0.0.1 port=$pgp user=postgres password=$PG_PASS dbname=jgstore"
for n in 1 8; do
	for store in store_file store_postgres; do
		best=0
		for r in $(seq 1 "$ROUNDS"); do
			# the fake host applies no schema defaults: the
			# documented defaults are given here
			if [ $store = store_file ]; then
				opts=("dir=$T/sf/$n.$r" fsync=true)
			else
				opts=("conninfo=$CONN" "schema=bench$n$r" pool_size=4 timeout=10000)
			fi
			out=$("$T/bench_store" "$B/.libs/$store.so" "$SECS" "$n" "${opts[@]}" 2>&1)
			v=$(sed -n 's/.*events_per_s=\([0-9]*\).*/\1/p' <<<"$out")
			[ -n "$v" ] || { echo "$store: $out"; exit 1; }
			[ "$v" -gt "$best" ] && best=$v
		done
		printf '%-15s %8d %12d\n' "$store" "$n" "$best"
	done
done

# pgbench through two gateways: recording in full and at level none,
# each on store_file with its defaults (fsync on)
PGPASSWORD=$PG_PASS pgbench -q -i -s 10 -h 127.0.0.1 -p "$pgp" -U postgres postgres >/dev/null 2>&1
ip=$(free_port)
start_bg issuer "$PYTHON" "$S/tests/fixtures/oidc_issuer.py" --port "$ip"
wait_for_port "$ip" || exit 1
ISS=http://127.0.0.1:$ip
export JG_TEST_PG_PASSWORD=$PG_PASS
export JITGATE_RECORD_KEY=0123456789abcdef0123456789abcdef
declare -A port cred pid
for level in full none; do
	lp=$(free_port)
	adm=$(free_port)
	pg_config_json "$T/$level.json" "$lp" ",
  \"admin\": {\"listen\": \"127.0.0.1:$adm\"},
  \"identity\": [{\"plugin\": \"oidc\", \"name\": \"ci\",
                  \"options\": {\"issuer\": \"$ISS\", \"audience\": [\"jitgate\"]}}],
  \"store\": {\"plugin\": \"store_file\", \"options\": {\"dir\": \"$T/gw-$level\"}},
  \"recording\": {\"key\": \"env:JITGATE_RECORD_KEY\", \"mode\": \"required\"},
  \"policy\": {\"rules\": [
    {\"name\": \"grant\", \"action\": {\"type\": \"grant\"}, \"effect\": \"allow\"},
    {\"name\": \"connect\", \"action\": {\"type\": \"connect\"}, \"effect\": \"allow\"},
    {\"name\": \"sql\", \"action\": {\"type\": \"sql\"}, \"effect\": \"allow\", \"record\": \"$level\"}]}"
	sed -i 's/"plugins": \["postgres"\]/"plugins": ["postgres", "oidc", "store_file"]/; s/"workers": 2/"workers": 1/' "$T/$level.json"
	JG_LOG=$T/jitgated-$level.log
	start_jitgated "$T/$level.json" || exit 1
	_bg_pids+=($JG_PID)
	pid[$level]=$JG_PID
	JG_PID=
	port[$level]=$lp
	cred[$level]=$(JITGATE_URL=http://127.0.0.1:$adm "$JG" --token \
		"$(curl -s "$ISS/token?sub=bench&aud=jitgate&ttl=3600")" \
		grant create --connection app --purpose bench --ttl 1h --json 2>/dev/null |
		"$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["credential"])')
	[ -n "${cred[$level]}" ] || { echo "no grant from the $level gateway"; exit 1; }
done

tps() { # tps LEVEL MODE
	PGPASSWORD=${cred[$1]} pgbench -n -S -M "$2" -c 8 -j 2 -T "$SECS" \
		-h 127.0.0.1 -p "${port[$1]}" -U bench app 2>&1 |
		awk '/^tps = / {printf "%d", $3} /number of failed/ && $5 != 0 {print " FAILED"}'
}
echo
echo "pgbench -S -c 8 through jitgated (store_file, fsync on), ${SECS}s per run, best of $ROUNDS, alternating"
printf '%-10s %12s %12s %10s\n' mode full none full/none
for mode in simple prepared; do
	declare -A best=([full]=0 [none]=0)
	for r in $(seq 1 "$ROUNDS"); do
		for level in full none; do
			v=$(tps "$level" "$mode")
			case $v in '' | *FAILED*) echo "$level $mode: pgbench failed"; exit 1 ;; esac
			[ "$v" -gt "${best[$level]}" ] && best[$level]=$v
		done
	done
	printf '%-10s %12d %12d %10.2f\n' "$mode" "${best[full]}" "${best[none]}" \
		"$(echo "${best[full]} / ${best[none]}" | bc -l)"
done
for level in full none; do
	n=$(cat "$T/gw-$level/records/"*.rec 2>/dev/null | wc -l)
	echo "$level: $n events recorded in all"
done
