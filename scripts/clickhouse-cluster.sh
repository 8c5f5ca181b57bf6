#!/usr/bin/env bash
# A throw-away ClickHouse cluster for testing VIGIL_EVENTS_CLUSTER: Debian's ZooKeeper (standalone)
# and two clickhouse-server nodes, each a shard of one replica, all on 127.0.0.1 with their data
# under one folder. The nodes are copies of Debian's config (as scripts/clickhouse.sh makes), with
# ZooKeeper, the {shard}/{replica} macros, distributed DDL and the cluster `vigil_test_cluster`
# (internal_replication: each shard's ReplicatedMergeTree replicates itself, as ALTER ON CLUSTER needs).
#
#   scripts/clickhouse-cluster.sh start   # starts what does not answer yet, waits until all do
#   scripts/clickhouse-cluster.sh stop    # stops the processes this script started
#   scripts/clickhouse-cluster.sh url     # prints the VIGIL_TEST_CLICKHOUSE_CLUSTER_URL to use
#
# Ports: ZooKeeper 2191; node 1 HTTP 8124, TCP 9001, interserver 9011; node 2 HTTP 8125, TCP 9002,
# interserver 9012 (the single test server of scripts/clickhouse.sh keeps 8123). The folder is
# VIGIL_CLICKHOUSE_CLUSTER_DIR (default /tmp/vigil-clickhouse-cluster).
set -euo pipefail

dir="${VIGIL_CLICKHOUSE_CLUSTER_DIR:-/tmp/vigil-clickhouse-cluster}"
etc="${VIGIL_CLICKHOUSE_ETC:-/etc/clickhouse-server}"
cluster=vigil_test_cluster
zk_port=2191
http_ports=(8124 8125)
tcp_ports=(9001 9002)
interserver_ports=(9011 9012)
zk_jar=/usr/share/java/zookeeper.jar

ping_node() { curl -fsS --max-time 2 "http://127.0.0.1:${http_ports[$1]}/ping" >/dev/null 2>&1; }
# "imok" to the four-letter word ruok (whitelisted in zoo.cfg)
ping_zk() { [[ "$( (exec 3<>"/dev/tcp/127.0.0.1/$zk_port" && printf ruok >&3 && timeout 2 cat <&3) 2>/dev/null)" == imok ]]; }
# serving, not only up ("imok" comes before the database is loaded): srvr reports its mode then
zk_serving() { [[ "$( (exec 3<>"/dev/tcp/127.0.0.1/$zk_port" && printf srvr >&3 && timeout 2 cat <&3) 2>/dev/null)" == *"Mode: "* ]]; }
# the node reaches ZooKeeper (its session may take a moment after ZooKeeper starts)
node_sees_zk() {
  curl -fsS --max-time 2 "http://127.0.0.1:${http_ports[$1]}/" \
    --data-binary "SELECT count() FROM system.zookeeper WHERE path = '/'" >/dev/null 2>&1
}

wait_for() { # what, command...: up to 20 s
  local what="$1"; shift
  for _ in $(seq 1 100); do
    if "$@"; then return 0; fi
    sleep 0.2
  done
  echo "$what did not answer within 20 s; see $dir" >&2
  return 1
}

start_zk() {
  if ping_zk; then return 0; fi
  [[ -f "$zk_jar" ]] || { echo "ZooKeeper is not installed (apt-get install -y zookeeper)" >&2; exit 1; }
  mkdir -p "$dir/zk/data" "$dir/zk/conf"
  cat >"$dir/zk/conf/zoo.cfg" <<EOF
tickTime=500
dataDir=$dir/zk/data
clientPort=$zk_port
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr
EOF
  # the standalone server in the foreground, detached from this shell; warnings and errors go to
  # zookeeper.log through slf4j-simple (Debian's jar has no logging back end of its own)
  setsid java -Xmx256m -cp "$zk_jar:/usr/share/java/slf4j-simple.jar" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    org.apache.zookeeper.server.ZooKeeperServerMain "$dir/zk/conf/zoo.cfg" \
    >"$dir/zk/zookeeper.log" 2>&1 </dev/null &
  echo $! >"$dir/zk/zookeeper.pid"
}

write_node_config() { # index
  local i="$1" n=$(($1 + 1)) node="$dir/node$(($1 + 1))"
  mkdir -p "$node/conf" "$node/data" "$node/tmp" "$node/user_files" "$node/format_schemas" "$node/log"
  cp "$etc/users.xml" "$node/conf/users.xml"
  # paths under $node, loopback only, our ports; the packaged remote_servers, zookeeper and
  # macros (substitutions from /etc/metrika.xml) and distributed_ddl give way to ours below
  sed -e "s#/var/lib/clickhouse/tmp/#$node/tmp/#g" \
      -e "s#/var/lib/clickhouse/user_files/#$node/user_files/#g" \
      -e "s#/var/lib/clickhouse/format_schemas/#$node/format_schemas/#g" \
      -e "s#/var/lib/clickhouse/#$node/data/#g" \
      -e "s#/var/log/clickhouse-server/#$node/log/#g" \
      -e "/<listen_host>/d" \
      -e "/<remote_servers/,/<\/remote_servers>/d" \
      -e "/<distributed_ddl>/,/<\/distributed_ddl>/d" \
      -e "/<zookeeper incl/d" \
      -e "/<macros incl/d" \
      -e "s#<http_port>[0-9]*</http_port>#<http_port>${http_ports[$i]}</http_port>#" \
      -e "s#<tcp_port>[0-9]*</tcp_port>#<tcp_port>${tcp_ports[$i]}</tcp_port>#" \
      -e "s#<interserver_http_port>[0-9]*</interserver_http_port>#<interserver_http_port>${interserver_ports[$i]}</interserver_http_port>#" \
      -e "/<\/yandex>/d" \
      "$etc/config.xml" >"$node/conf/config.xml"
  cat >>"$node/conf/config.xml" <<EOF
    <listen_host>127.0.0.1</listen_host>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <zookeeper>
        <node><host>127.0.0.1</host><port>$zk_port</port></node>
        <session_timeout_ms>10000</session_timeout_ms>
    </zookeeper>
    <macros>
        <shard>0$n</shard>
        <replica>r1</replica>
    </macros>
    <remote_servers>
        <$cluster>
            <shard><internal_replication>true</internal_replication><replica><host>127.0.0.1</host><port>${tcp_ports[0]}</port></replica></shard>
            <shard><internal_replication>true</internal_replication><replica><host>127.0.0.1</host><port>${tcp_ports[1]}</port></replica></shard>
        </$cluster>
    </remote_servers>
    <distributed_ddl>
        <path>/clickhouse/task_queue/ddl</path>
    </distributed_ddl>
</yandex>
EOF
}

start_node() { # index
  local i="$1" node="$dir/node$(($1 + 1))"
  if ping_node "$i"; then return 0; fi
  write_node_config "$i"
  clickhouse-server --config-file="$node/conf/config.xml" --pid-file="$node/clickhouse.pid" --daemon
}

stop_pid() { # name, pid file
  local name="$1" pid_file="$2"
  if [[ ! -f "$pid_file" ]]; then
    echo "no $name started from $dir"
    return 0
  fi
  local pid
  pid="$(cat "$pid_file")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  rm -f "$pid_file"
  echo "$name stopped"
}

case "${1:-}" in
  start)
    command -v clickhouse-server >/dev/null || { echo "clickhouse-server is not installed (apt-get install -y clickhouse-server clickhouse-client)" >&2; exit 1; }
    if ping_zk && ping_node 0 && ping_node 1 && node_sees_zk 0 && node_sees_zk 1; then
      echo "clickhouse cluster $cluster already running on 127.0.0.1:${http_ports[0]} and :${http_ports[1]}"
      exit 0
    fi
    # a throw-away cluster starts afresh: a node restarted over an earlier run's replicated tables
    # waits on ZooKeeper while attaching them, and ZooKeeper's logs only grow
    "$0" stop >/dev/null
    rm -rf "$dir"
    mkdir -p "$dir"
    start_zk
    wait_for "ZooKeeper on 127.0.0.1:$zk_port" zk_serving || { tail -20 "$dir/zk/zookeeper.log" >&2 || true; exit 1; }
    start_node 0
    start_node 1
    for i in 0 1; do
      wait_for "clickhouse node $((i + 1)) on 127.0.0.1:${http_ports[$i]}" ping_node "$i" || { tail -20 "$dir/node$((i + 1))/log/clickhouse-server.err.log" >&2 || true; exit 1; }
      wait_for "ZooKeeper from clickhouse node $((i + 1))" node_sees_zk "$i" || exit 1
    done
    echo "clickhouse cluster $cluster started: nodes on 127.0.0.1:${http_ports[0]} and :${http_ports[1]}, ZooKeeper on :$zk_port (data in $dir)"
    ;;
  stop)
    stop_pid "clickhouse node 1" "$dir/node1/clickhouse.pid"
    stop_pid "clickhouse node 2" "$dir/node2/clickhouse.pid"
    stop_pid "zookeeper" "$dir/zk/zookeeper.pid"
    ;;
  url)
    echo "clickhouse://127.0.0.1:${http_ports[0]}/vigil_test"
    ;;
  *)
    echo "usage: $0 start|stop|url" >&2
    exit 2
    ;;
esac
