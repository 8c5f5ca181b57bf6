#!/usr/bin/env bash
# A throw-away ClickHouse server for development and CI: Debian's clickhouse-server with a copy of
# its config whose data, log and tmp paths are under one folder, listening on 127.0.0.1 only.
#
#   scripts/clickhouse.sh start   # starts it in the background (no-op when it already answers)
#   scripts/clickhouse.sh stop    # stops the server this script started
#   scripts/clickhouse.sh url     # prints the VIGIL_TEST_CLICKHOUSE_URL to use
#
# VIGIL_CLICKHOUSE_DIR (default /tmp/vigil-clickhouse), VIGIL_CLICKHOUSE_HTTP_PORT (8123) and
# VIGIL_CLICKHOUSE_TCP_PORT (19000) choose where it lives.
set -euo pipefail

dir="${VIGIL_CLICKHOUSE_DIR:-/tmp/vigil-clickhouse}"
http_port="${VIGIL_CLICKHOUSE_HTTP_PORT:-8123}"
tcp_port="${VIGIL_CLICKHOUSE_TCP_PORT:-19000}"
pid_file="$dir/clickhouse.pid"
etc="${VIGIL_CLICKHOUSE_ETC:-/etc/clickhouse-server}"

ping() { curl -fsS --max-time 2 "http://127.0.0.1:$http_port/ping" >/dev/null 2>&1; }

write_config() {
  mkdir -p "$dir/conf" "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas" "$dir/log"
  cp "$etc/users.xml" "$dir/conf/users.xml"
  # paths under $dir, loopback only, no interserver port (one server, no replication), our ports
  sed -e "s#/var/lib/clickhouse/tmp/#$dir/tmp/#g" \
      -e "s#/var/lib/clickhouse/user_files/#$dir/user_files/#g" \
      -e "s#/var/lib/clickhouse/format_schemas/#$dir/format_schemas/#g" \
      -e "s#/var/lib/clickhouse/#$dir/data/#g" \
      -e "s#/var/log/clickhouse-server/#$dir/log/#g" \
      -e "/<listen_host>/d" \
      -e "/<interserver_http_port>/d" \
      -e "s#<http_port>[0-9]*</http_port>#<http_port>$http_port</http_port>#" \
      -e "s#<tcp_port>[0-9]*</tcp_port>#<tcp_port>$tcp_port</tcp_port>#" \
      -e "s#</yandex>#    <listen_host>127.0.0.1</listen_host>\n</yandex>#" \
      "$etc/config.xml" >"$dir/conf/config.xml"
}

case "${1:-}" in
  start)
    if ping; then
      echo "clickhouse already answers on 127.0.0.1:$http_port"
      exit 0
    fi
    command -v clickhouse-server >/dev/null || { echo "clickhouse-server is not installed (apt-get install -y clickhouse-server clickhouse-client)" >&2; exit 1; }
    write_config
    clickhouse-server --config-file="$dir/conf/config.xml" --pid-file="$pid_file" --daemon
    for _ in $(seq 1 100); do
      if ping; then
        echo "clickhouse started on 127.0.0.1:$http_port (data in $dir/data)"
        exit 0
      fi
      sleep 0.2
    done
    echo "clickhouse did not answer on 127.0.0.1:$http_port within 20 s; see $dir/log/" >&2
    tail -20 "$dir/log/clickhouse-server.err.log" >&2 || true
    exit 1
    ;;
  stop)
    if [[ -f "$pid_file" ]]; then
      pid="$(cat "$pid_file")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$pid_file"
      echo "clickhouse stopped"
    else
      echo "no clickhouse started from $dir"
    fi
    ;;
  url)
    echo "clickhouse://127.0.0.1:$http_port/vigil_test"
    ;;
  *)
    echo "usage: $0 start|stop|url" >&2
    exit 2
    ;;
esac
