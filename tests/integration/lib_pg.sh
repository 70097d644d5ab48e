# PostgreSQL helpers for integration tests (bash).  Source after lib.sh:
#
#   . "$(dirname "$0")/lib.sh"; . "$(dirname "$0")/lib_pg.sh"
#
#   pg_available                  PostgreSQL server binaries are installed
#   pg_start PORT                 initdb (scram-sha-256) and start a server
#                                 on 127.0.0.1:PORT as an unprivileged user;
#                                 superuser "postgres", password $PG_PASS
#   pg_stop                       stop it (also done on exit)
#   pg_psql SQL...                run SQL directly as the superuser
#   pg_config_json FILE LPORT [EXTRA]  a jitgated config with a postgres
#                                 listener on LPORT and connection "app"
#
# The server runs as the OS user "jgtest" when the tests run as root
# (PostgreSQL refuses root), created on first use.
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PG_PASS=pg-test-secret
PG_DIR=
PG_PORT=

pg_available() {
	[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] && command -v psql >/dev/null
}

_pg_as() {
	if [ "$(id -u)" = 0 ]; then
		su -s /bin/sh jgtest -c "$*"
	else
		sh -c "$*"
	fi
}

pg_start() {
	PG_PORT=$1
	PG_DIR=$T/pg
	if [ "$(id -u)" = 0 ] && ! id jgtest >/dev/null 2>&1; then
		useradd --system --no-create-home --shell /bin/sh jgtest || return 1
	fi
	mkdir -p "$PG_DIR/sock"
	chmod 755 "$T"
	printf '%s\n' "$PG_PASS" >"$PG_DIR/pw"
	[ "$(id -u)" = 0 ] && chown -R jgtest "$PG_DIR"
	_pg_as "'$PG_BIN/initdb' -D '$PG_DIR/data' -U postgres -A scram-sha-256 \
		--pwfile='$PG_DIR/pw' -E UTF8 --no-sync" >"$T/initdb.log" 2>&1 ||
		{ cat "$T/initdb.log" >&2; return 1; }
	_pg_as "'$PG_BIN/pg_ctl' -D '$PG_DIR/data' -l '$PG_DIR/server.log' -w \
		-o \"-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR/sock \
		-c fsync=off -c max_connections=60\" start" >/dev/null 2>&1 ||
		{ cat "$PG_DIR/server.log" >&2; return 1; }
	trap 'pg_stop; _cleanup' EXIT
}

pg_stop() {
	[ -n "$PG_DIR" ] && [ -d "$PG_DIR/data" ] || return 0
	_pg_as "'$PG_BIN/pg_ctl' -D '$PG_DIR/data' -m immediate -w stop" \
		>/dev/null 2>&1
	PG_DIR=
}

pg_psql() {
	PGPASSWORD=$PG_PASS psql -X -q -v ON_ERROR_STOP=1 -At \
		-h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres "$@"
}

pg_config_json() {
	cat >"$1" <<JSON
{
  // written by an integration test
  "workers": 2,
  "plugin_dir": "$JG_PLUGIN_DIR",
  "plugins": ["postgres"],
  "listeners": [{"name": "pg", "protocol": "postgres",
                 "listen": "127.0.0.1:$2",
                 "options": {"client_tls": "optional"}}],
  "connections": {"app": {"protocol": "postgres",
                          "options": {"address": "127.0.0.1:$PG_PORT",
                                      "user": "postgres",
                                      "database": "postgres",
                                      "password": "env:JG_TEST_PG_PASSWORD",
                                      "tls": "disable"}}}
  ${3:-}
}
JSON
}
