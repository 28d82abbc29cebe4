#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL on loopback, owned by the postgres user.
#   .ci/postgres.sh start DIR PORT   -> prints the DATABASE_URL on stdout
#   .ci/postgres.sh stop DIR
set -euo pipefail
cmd=$1 dir=$2
bindir=$(dirname "$(readlink -f "$(command -v postgres || echo /usr/lib/postgresql/15/bin/postgres)")")
as_pg() { if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi; }
case "$cmd" in
  start)
    port=${3:-55432}
    mkdir -p "$dir"; chown postgres: "$dir"; chmod 700 "$dir"
    as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 >"$dir/initdb.log" 2>&1
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
    as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres salesbot_test
    echo "postgresql+asyncpg://postgres@127.0.0.1:$port/salesbot_test"
    ;;
  stop)
    as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2;;
esac
