#!/usr/bin/env bash
# Run a command with a throw-away PostgreSQL server on 127.0.0.1, its URL in SARABAN_TEST_POSTGRES_URL.
# Without Debian's postgresql installed the command runs alone and the PostgreSQL tests skip.
set -euo pipefail
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  echo "with-postgres: no PostgreSQL server installed; PostgreSQL tests will be skipped" >&2
  exec "$@"
fi
data=$(mktemp -d /tmp/saraban-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
runas=()
if [ "$(id -u)" = 0 ]; then chown postgres "$data"; runas=(runuser -u postgres --); fi
"${runas[@]}" "$pgbin/initdb" -D "$data" -A trust -U saraban >/dev/null
"${runas[@]}" "$pgbin/pg_ctl" -D "$data" -o "-c listen_addresses=127.0.0.1 -p $port -k $data" -l "$data/log" -w start >/dev/null
cleanup() { "${runas[@]}" "$pgbin/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$data"; }
trap cleanup EXIT
"${runas[@]}" "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U saraban saraban_test
export SARABAN_TEST_POSTGRES_URL="postgresql+psycopg://saraban@127.0.0.1:$port/saraban_test"
"$@"
