#!/bin/bash
# pgbench select-only through jitgated (guardrails on: every statement
# classified and decided, recorded) vs directly against PostgreSQL vs
# through pgbouncer in session mode, in the same run, alternating, for
# -c 1 and -c 8 and the simple and prepared protocols.  Prints tps and
# the ratios, and what each proxy's threads spent on the CPU per
# transaction (steadier than tps on a shared machine).  Then times fetching 100,000 text rows through jitgated with
# masking off and on, in MB/s, and what masking costs.
#
#   bench/pg/run.sh [SECONDS_PER_RUN] [ROUNDS]     (default 5 s, 2 rounds)
#   FETCH_ONLY=1 bench/pg/run.sh                   (only the masking part)
#
# Needs a build (JG_BUILDDIR, default _build/default), PostgreSQL server
# binaries, pgbench and pgbouncer.  Loopback only; everything it starts
# is stopped on exit.
set -u
SECS=${1:-5}
ROUNDS=${2:-2}
here=$(cd "$(dirname "$0")" && pwd)
export JG_SRCDIR=${JG_SRCDIR:-$(cd "$here/../.." && pwd)}
. "$JG_SRCDIR/tests/integration/lib.sh"
. "$JG_SRCDIR/tests/integration/lib_pg.sh"
JG=$JG_BUILDDIR/jitgate

pg_available || { echo "PostgreSQL is not installed"; exit 1; }
command -v pgbouncer >/dev/null || { echo "pgbouncer is not installed"; exit 1; }
pgp=$(free_port)
pg_start "$pgp" || exit 1
PGPASSWORD=$PG_PASS pgbench -q -i -s 10 -h 127.0.0.1 -p "$pgp" -U postgres postgres >/dev/null 2>&1
# realistic rows: ids, hex, short notes, and a card number or an email
# address in 1% of them
pg_psql -c "CREATE TABLE wide AS SELECT g AS id, md5(g::text) || ' ' || md5((g*7)::text) AS a,
	CASE WHEN g % 200 = 0 THEN 'paid with 4111 1111 1111 1111 on 2024-05-0' || g % 9
	     WHEN g % 200 = 1 THEN 'contact ann' || g || '@example.com'
	     ELSE 'note for row ' || g || ', order ' || (g * 37) % 100000 END AS b
	FROM generate_series(1, 100000) g" || exit 1

# pgbouncer, session mode, as the unprivileged user
bp=$(free_port)
mkdir -p "$T/bouncer"
printf '"postgres" ""\n' >"$T/bouncer/users.txt"
cat >"$T/bouncer/pgbouncer.ini" <<INI
[databases]
app = host=127.0.0.1 port=$pgp dbname=postgres user=postgres password=$PG_PASS
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bp
unix_socket_dir =
auth_type = trust
auth_file = $T/bouncer/users.txt
pool_mode = session
max_client_conn = 100
default_pool_size = 20
logfile = $T/bouncer/pgbouncer.log
INI
[ "$(id -u)" = 0 ] && chown -R jgtest "$T/bouncer"
if [ "$(id -u)" = 0 ]; then
	su -s /bin/sh jgtest -c "pgbouncer $T/bouncer/pgbouncer.ini" >/dev/null 2>&1 &
else
	pgbouncer "$T/bouncer/pgbouncer.ini" >/dev/null 2>&1 &
fi
_bg_pids+=($!)
wait_for_port "$bp" || { echo "pgbouncer did not start"; exit 1; }
# $! is su's (or the shell's) pid: stopping it left pgbouncer running
# after the run.  Its own pid, found by this run's unique ini path, is
# stopped on exit too.
_bg_pids+=($(pgrep -f "^pgbouncer $T/bouncer/pgbouncer.ini\$"))

# jitgated with guardrails: an OIDC grant, policy per statement, records
ip=$(free_port)
start_bg issuer "$PYTHON" "$JG_SRCDIR/tests/fixtures/oidc_issuer.py" --port "$ip"
wait_for_port "$ip" || exit 1
ISS=http://127.0.0.1:$ip
lp=$(free_port)
adm=$(free_port)
export JG_TEST_PG_PASSWORD=$PG_PASS
export JITGATE_RECORD_KEY=0123456789abcdef0123456789abcdef
pg_config_json "$T/jg.json" "$lp" ",
  \"admin\": {\"listen\": \"127.0.0.1:$adm\"},
  \"identity\": [{\"plugin\": \"oidc\", \"name\": \"ci\",
                  \"options\": {\"issuer\": \"$ISS\", \"audience\": [\"jitgate\"],
                                \"groups_claim\": [\"groups\"]}}],
  \"store\": {\"plugin\": \"store_file\", \"options\": {\"dir\": \"$T/store\", \"fsync\": false}},
  \"recording\": {\"key\": \"env:JITGATE_RECORD_KEY\", \"mode\": \"required\"},
  \"masking\": {\"plugin\": \"pii\", \"profiles\": {\"pii\": {
      \"columns\": [{\"glob\": \"*.ssn\"}, {\"column\": \"public.users.password\"}]}}},
  \"policy\": {\"rules\": [
    {\"name\": \"grant\", \"action\": {\"type\": \"grant\"}, \"effect\": \"allow\"},
    {\"name\": \"connect\", \"action\": {\"type\": \"connect\"}, \"effect\": \"allow\"},
    {\"name\": \"masked\", \"action\": {\"type\": \"sql\", \"table\": \"public.wide\", \"function\": \"masked\"},
     \"effect\": \"allow\", \"mask\": \"pii\"},
    {\"name\": \"no-ddl\", \"action\": {\"type\": \"sql\", \"class\": [\"ddl\", \"dcl\"]}, \"effect\": \"deny\"},
    {\"name\": \"sql\", \"action\": {\"type\": \"sql\"}, \"effect\": \"allow\", \"record\": \"metadata\"}]}"
sed -i 's/"plugins": \["postgres"\]/"plugins": ["postgres", "oidc", "pii", "store_file"]/; s/"workers": 2/"workers": 1/' "$T/jg.json"
start_jitgated "$T/jg.json" || exit 1
cred=$(JITGATE_URL=http://127.0.0.1:$adm "$JG" --token \
	"$(curl -s "$ISS/token?sub=bench&aud=jitgate&groups=ci&ttl=3600")" \
	grant create --connection app --purpose bench --ttl 1h --json |
	"$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["credential"])')

# A process's CPU time (user and system, every thread, in ns): what a
# proxy costs per transaction whatever else the machine runs; the
# wall-clock ratios on a busy machine also measure the scheduler.
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f", s}'
}
gw_cpu_ns() { cpu_ns "$JG_PID"; }
BOUNCER_PID=$(pgrep -f "^pgbouncer $T/bouncer/pgbouncer.ini\$" | head -1)

if [ -z "${FETCH_ONLY:-}" ]; then
tps() { # tps TARGET CLIENTS MODE -> "TPS TRANSACTIONS"
	local port user db pw
	case $1 in
	direct) port=$pgp user=postgres db=postgres pw=$PG_PASS ;;
	pgbouncer) port=$bp user=postgres db=app pw=x ;;
	jitgated) port=$lp user=ci db=app pw=$cred ;;
	esac
	PGPASSWORD=$pw pgbench -n -S -M "$3" -c "$2" -j "$(( $2 < 2 ? 1 : 2 ))" -T "$SECS" \
		-h 127.0.0.1 -p "$port" -U "$user" "$db" 2>&1 |
		awk '/^tps = / {t = int($3)} /actually processed/ {split($NF, a, "/"); n = a[1]}
		     /number of failed/ && $5 != 0 {f = " FAILED"}
		     END {printf "%d %d%s", t, n, f}'
}

# The middle value of a list of numbers (the mean of the two middle ones
# for an even count): steadier than the best when runs vary by +-10%.
median() {
	printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1}
		END {if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2];
		     else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

echo "pgbench -S, ${SECS}s per run, $ROUNDS rounds, best of rounds (and the ratio of"
echo "the medians of rounds, 'median'); $(nproc) cores shared by all"
printf '%-10s %-3s %10s %10s %10s %9s %9s %7s\n' mode c direct pgbouncer jitgated jg/direct jg/bouncer median
cpu_rows=()
for mode in simple prepared; do
	for c in 1 8; do
		declare -A best=([direct]=0 [pgbouncer]=0 [jitgated]=0)
		declare -A cpu=([pgbouncer]=0 [jitgated]=0)
		declare -A all=([direct]= [pgbouncer]= [jitgated]=)
		for r in $(seq 1 "$ROUNDS"); do
			for tgt in direct pgbouncer jitgated; do
				pid=
				[ "$tgt" = pgbouncer ] && pid=$BOUNCER_PID
				[ "$tgt" = jitgated ] && pid=$JG_PID
				c0=$([ -n "$pid" ] && cpu_ns "$pid")
				read -r v n _ <<<"$(tps "$tgt" "$c" "$mode")"
				c1=$([ -n "$pid" ] && cpu_ns "$pid")
				[ "${v:-0}" -gt "${best[$tgt]}" ] && best[$tgt]=$v
				all[$tgt]+=" ${v:-0}"
				if [ -n "$pid" ] && [ "${n:-0}" -gt 0 ]; then
					us=$(echo "($c1 - $c0) / $n / 1000" | bc -l)
					if [ "${cpu[$tgt]}" = 0 ] || [ "$(echo "$us < ${cpu[$tgt]}" | bc -l)" = 1 ]; then
						cpu[$tgt]=$us
					fi
				fi
			done
		done
		# shellcheck disable=SC2086 # the lists are words on purpose
		mb=$(median ${all[pgbouncer]}) mj=$(median ${all[jitgated]})
		printf '%-10s %-3s %10d %10d %10d %9.2f %9.2f %7.2f\n' "$mode" "$c" \
			"${best[direct]}" "${best[pgbouncer]}" "${best[jitgated]}" \
			"$(echo "${best[jitgated]} / ${best[direct]}" | bc -l)" \
			"$(echo "${best[jitgated]} / ${best[pgbouncer]}" | bc -l)" \
			"$(echo "$mj / ($mb + ($mb == 0))" | bc -l)"
		cpu_rows+=("$(printf '%-10s %-3s %10.1f %10.1f %9.2f' "$mode" "$c" \
			"${cpu[pgbouncer]}" "${cpu[jitgated]}" \
			"$(echo "${cpu[jitgated]} / ${cpu[pgbouncer]}" | bc -l)")")
	done
done
echo
echo "proxy CPU time per transaction (us, user + system, all its threads; lowest of rounds)"
printf '%-10s %-3s %10s %10s %9s\n' mode c pgbouncer jitgated jg/bouncer
printf '%s\n' "${cpu_rows[@]}"
fi

# 100,000 rows of text through jitgated, masking off and on.  pgbench
# runs the SELECT (libpq reads every row and prints none), so what is
# timed is the gateway, not a terminal formatter; off and on alternate.
pg_psql -c "CREATE FUNCTION masked() RETURNS int LANGUAGE sql AS 'select 1'" >/dev/null
echo 'SELECT id, a, b FROM wide' >"$T/off.sql"
echo 'SELECT id, a, b, masked() FROM wide' >"$T/on.sql"
bytes=$(pg_psql -Atc "SELECT sum(octet_length(id::text) + octet_length(a) + octet_length(b) + 1) FROM wide")
FETCHES=${FETCHES:-5}
fetch_ms() { # fetch_ms off|on -> average ms per fetch of the 100,000 rows
	PGPASSWORD=$cred pgbench -n -M simple -t "$FETCHES" -f "$T/$1.sql" \
		-h 127.0.0.1 -p "$lp" -U ci app 2>"$T/fetch.err" |
		awk '/^latency average/ {print $4} /number of failed/ && $5 != 0 {print "FAILED"}'
}
echo
echo "100,000 rows of text ($((bytes / 1048576)) MB of values) through jitgated, $FETCHES fetches per run, best of $ROUNDS"
declare -A bestms=([off]=0 [on]=0) bestcpu=([off]=0 [on]=0)
for r in $(seq 1 "$ROUNDS"); do
	for what in off on; do
		c0=$(gw_cpu_ns)
		v=$(fetch_ms $what)
		c1=$(gw_cpu_ns)
		case $v in
		'' | *FAILED*)
			echo "masking $what: not measured: $(head -c 300 "$T/fetch.err" | tr '\n' ' ')"
			exit 1 ;;
		esac
		if [ "${bestms[$what]}" = 0 ] || [ "$(echo "$v < ${bestms[$what]}" | bc -l)" = 1 ]; then
			bestms[$what]=$v
		fi
		cpu=$(echo "($c1 - $c0) / $FETCHES / 1000000" | bc -l)
		if [ "${bestcpu[$what]}" = 0 ] || [ "$(echo "$cpu < ${bestcpu[$what]}" | bc -l)" = 1 ]; then
			bestcpu[$what]=$cpu
		fi
	done
done
for what in off on; do
	printf 'masking %-3s %8.1f MB/s  (%.1f ms per fetch, jitgated CPU %.1f ms)\n' "$what" \
		"$(echo "$bytes / 1048576 / (${bestms[$what]} / 1000)" | bc -l)" "${bestms[$what]}" \
		"${bestcpu[$what]}"
done
printf 'masking costs %.1f%% of unmasked throughput (target: under 20%%)\n' \
	"$(echo "(1 - ${bestms[off]} / ${bestms[on]}) * 100" | bc -l)"
printf 'jitgated CPU time per fetch: masking adds %.0f%%\n' \
	"$(echo "(${bestcpu[on]} / ${bestcpu[off]} - 1) * 100" | bc -l)"
