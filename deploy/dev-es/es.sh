#!/usr/bin/env bash
# Dev-only Elasticsearch 8 on 127.0.0.1 without Docker: real ES server jars from Maven
# Central, run by a tiny launcher (src/). See README.md in this folder.
#
#   es.sh start [--nodes N] [--port P]   start N nodes (default 1); node i serves HTTP on P+i
#   es.sh stop                           SIGTERM, wait, SIGKILL after a timeout
#   es.sh status                         exit 0 if running, 3 if not
#   es.sh node-stop I | node-start I     close / restart node I (0-based) of a running cluster
#   es.sh wipe                           stop and delete the data
#   es.sh log [N]                        print the last N (default 50) log lines
#   es.sh fetch                          only download the jars and compile (e.g. in `make install`)
#
# Status messages go to stderr; `start` prints only the URL on stdout.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${BANWAVE_DEV_ES_CACHE:-$HOME/.cache/banwave/dev-es}"
BASE="${BANWAVE_DEV_ES_HOME:-$REPO/.data/dev-es}"
START_TIMEOUT="${BANWAVE_DEV_ES_START_TIMEOUT:-180}"
STOP_TIMEOUT="${BANWAVE_DEV_ES_STOP_TIMEOUT:-60}"
CLUSTER_NAME="${BANWAVE_DEV_ES_CLUSTER_NAME:-banwave-dev}"
MAIN_CLASS=banwave.deves.DevCluster

PID_FILE="$BASE/es.pid"      # pid of the JVM (all nodes live in it)
PORT_FILE="$BASE/es.port"    # first HTTP port (node 0)
NODES_FILE="$BASE/es.nodes"  # number of nodes
CTL_FILE="$BASE/ctl.port"    # launcher's control port (written by the JVM)
LOG_FILE="$BASE/es.log"

say() { echo "dev-es: $*" >&2; }
die() { echo "dev-es: error: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH ($2)"; }

is_int() { [[ "$1" =~ ^[0-9]+$ ]]; }

# pid of the running launcher, or empty
running_pid() {
  local pid
  [[ -f "$PID_FILE" ]] || return 0
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  is_int "$pid" || return 0
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$MAIN_CLASS"; then
    echo "$pid"
  fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# GET path against the first node that answers; prints the body
es_get() {
  local port nodes i
  port="$(cat "$PORT_FILE" 2>/dev/null || echo 9200)"
  nodes="$(cat "$NODES_FILE" 2>/dev/null || echo 1)"
  for ((i = 0; i < nodes; i++)); do
    if curl -sf -m 5 "http://127.0.0.1:$((port + i))$1"; then return 0; fi
  done
  return 1
}

health_status() { # PORT NODES: prints green/yellow/red once NODES nodes have joined, else nothing
  curl -s -m 5 "http://127.0.0.1:$1/_cluster/health?wait_for_nodes=$2&timeout=1s" 2>/dev/null |
    grep '"timed_out":false' | grep -o '"status":"[a-z]*"' | cut -d'"' -f4 || true
}

sha() { sha256sum | cut -c1-16; }

# --- one-time setup: jars (Maven) and launcher classes (javac), both cached --------------
fetch_jars() { # sets LIB
  local key tmp
  key="$(sha <"$HERE/pom.xml")"
  LIB="$CACHE/lib-$key"
  [[ -f "$LIB/.complete" ]] && return 0
  need mvn "needed once to download the Elasticsearch jars; apt-get install maven"
  say "fetching Elasticsearch jars from Maven Central into $LIB (first run only) ..."
  tmp="$LIB.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$CACHE"
  # try offline first (jars may already be in the cache's local repository)
  if ! mvn -B -q -o -f "$HERE/pom.xml" -Dmaven.repo.local="$CACHE/m2" \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >/dev/null 2>&1; then
    rm -rf "$tmp"
    mvn -B -q -f "$HERE/pom.xml" -Dmaven.repo.local="$CACHE/m2" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >"$CACHE/mvn.log" 2>&1 ||
      { tail -n 20 "$CACHE/mvn.log" >&2; die "maven could not fetch the jars (log: $CACHE/mvn.log)"; }
  fi
  touch "$tmp/.complete"
  rm -rf "$LIB"
  mv "$tmp" "$LIB"
}

compile() { # sets CLASSES
  local key tmp
  key="$( (cd "$HERE" && find src -name '*.java' | LC_ALL=C sort | xargs cat; echo "$LIB") | sha)"
  CLASSES="$CACHE/classes-$key"
  [[ -f "$CLASSES/.complete" ]] && return 0
  need javac "a JDK 17+ is required"
  say "compiling launcher ..."
  tmp="$CLASSES.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  (cd "$HERE" && find src -name '*.java' -print0 | xargs -0 javac -encoding UTF-8 --release 17 -nowarn \
      -cp "$LIB/*" -d "$tmp") || die "javac failed"
  touch "$tmp/.complete"
  rm -rf "$CLASSES"
  mv "$tmp" "$CLASSES"
}

check_java() {
  need java "a JDK 17+ is required"
  local v
  v="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  [[ -n "$v" && "${v%%.*}" -ge 17 ]] 2>/dev/null || die "Java 17+ required (found java ${v:-unknown})"
}

# --- commands ------------------------------------------------------------------------------
cmd_start() {
  local nodes=1 port="${BANWAVE_DEV_ES_PORT:-9200}" pid tport heap i p t0 status
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --nodes) nodes="${2:-}"; shift 2 || die "--nodes needs a value" ;;
      --nodes=*) nodes="${1#*=}"; shift ;;
      --port) port="${2:-}"; shift 2 || die "--port needs a value" ;;
      --port=*) port="${1#*=}"; shift ;;
      *) die "unknown option for start: $1 (use --nodes N, --port P)" ;;
    esac
  done
  is_int "$nodes" && ((nodes >= 1 && nodes <= 9)) || die "--nodes must be 1..9 (got '$nodes')"
  is_int "$port" && ((port >= 1024 && port <= 65000)) || die "--port must be 1024..65000 (got '$port')"
  tport="${BANWAVE_DEV_ES_TRANSPORT_PORT:-$((port + 100))}"
  is_int "$tport" || die "BANWAVE_DEV_ES_TRANSPORT_PORT must be a number"

  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    say "already running (pid $pid, $(cat "$NODES_FILE" 2>/dev/null || echo '?') node(s))"
    echo "http://127.0.0.1:$(cat "$PORT_FILE")"
    return 0
  fi
  rm -f "$PID_FILE" "$CTL_FILE"

  need curl "used to wait for the cluster"
  check_java
  for ((i = 0; i < nodes; i++)); do
    for p in $((port + i)) $((tport + i)); do
      port_in_use "$p" && die "port $p on 127.0.0.1 is already in use (another Elasticsearch? try --port / BANWAVE_DEV_ES_PORT)"
    done
  done

  t0=$SECONDS
  fetch_jars
  compile

  if [[ -n "${BANWAVE_DEV_ES_HEAP:-}" ]]; then
    heap="-Xms$BANWAVE_DEV_ES_HEAP -Xmx$BANWAVE_DEV_ES_HEAP"
  elif ((nodes == 1)); then
    heap="-Xms512m -Xmx1g"
  else
    heap="-Xms1g -Xmx2g"
  fi

  mkdir -p "$BASE/tmp" "$BASE/logs"
  [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOG_FILE.1"
  # Data per cluster size: a 3-node cluster's state can't be opened by a single-node one.
  local data="$BASE/data/n$nodes"

  # JVM flags: a subset of what ES's own launcher passes (SystemJvmOptions), minus the
  # security manager / entitlement agent, which only the full bootstrap sets up.
  # shellcheck disable=SC2086
  setsid java $heap -Xss1m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -XX:-OmitStackTraceInFastThrow \
    -Djava.awt.headless=true -Dfile.encoding=UTF-8 -Djava.locale.providers=CLDR \
    -Djava.io.tmpdir="$BASE/tmp" -Djna.tmpdir="$BASE/tmp" -Djna.nosys=true \
    -Des.networkaddress.cache.ttl=60 -Des.networkaddress.cache.negative.ttl=10 \
    -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true -Dio.netty.recycler.maxCapacityPerThread=0 \
    -Des.set.netty.runtime.available.processors=false \
    -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true -Dlog4j2.formatMsgNoLookups=true \
    ${BANWAVE_DEV_ES_JAVA_OPTS:-} \
    -cp "$CLASSES:$LIB/*" "$MAIN_CLASS" \
    --home "$BASE" --data "$data" --nodes "$nodes" --http-port "$port" --transport-port "$tport" \
    --cluster-name "$CLUSTER_NAME" \
    >>"$LOG_FILE" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$PID_FILE"
  echo "$port" >"$PORT_FILE"
  echo "$nodes" >"$NODES_FILE"
  say "starting $nodes node(s) (pid $pid, log $LOG_FILE) ..."

  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      say "the JVM exited during startup; last log lines:"
      tail -n 40 "$LOG_FILE" >&2 || true
      die "start failed (see $LOG_FILE)"
    fi
    status="$(health_status "$port" "$nodes")"
    [[ "$status" == green || "$status" == yellow ]] && break
    if ((SECONDS - t0 > START_TIMEOUT)); then
      say "not healthy after ${START_TIMEOUT}s; last log lines:"
      tail -n 40 "$LOG_FILE" >&2 || true
      cmd_stop >/dev/null 2>&1 || true
      die "start timed out after ${START_TIMEOUT}s (see $LOG_FILE)"
    fi
    sleep 0.5
  done
  say "up: $nodes node(s), status $status, http://127.0.0.1:$port (took $((SECONDS - t0))s)"
  echo "http://127.0.0.1:$port"
}

cmd_stop() {
  local pid i
  pid="$(running_pid)"
  if [[ -z "$pid" ]]; then
    rm -f "$PID_FILE" "$CTL_FILE"
    say "not running"
    return 0
  fi
  say "stopping (pid $pid) ..."
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT * 2; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "still alive after ${STOP_TIMEOUT}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  rm -f "$PID_FILE" "$CTL_FILE"
  say "stopped"
}

cmd_status() {
  local pid port health
  pid="$(running_pid)"
  if [[ -z "$pid" ]]; then
    echo "not running"
    return 3
  fi
  port="$(cat "$PORT_FILE")"
  echo "running: pid $pid, $(cat "$NODES_FILE") node(s), http://127.0.0.1:$port"
  if [[ -f "$CTL_FILE" ]]; then
    curl -s -m 5 "http://127.0.0.1:$(cat "$CTL_FILE")/nodes" | sed 's/^/  node /' || true
  fi
  health="$(es_get '/_cluster/health' || true)"
  echo "health: ${health:-no node answered}"
  return 0
}

cmd_node() { # node-stop / node-start
  local action="$1" idx="${2:-}" pid nodes out code
  is_int "$idx" || die "usage: es.sh node-$action I   (I = node index, 0-based)"
  pid="$(running_pid)"
  [[ -n "$pid" ]] || die "not running"
  nodes="$(cat "$NODES_FILE")"
  ((idx < nodes)) || die "no node $idx: the cluster has nodes 0..$((nodes - 1))"
  [[ -f "$CTL_FILE" ]] || die "control port file $CTL_FILE missing"
  say "node-$action $idx ..."
  out="$(curl -s -m 300 -w '\n%{http_code}' -X POST "http://127.0.0.1:$(cat "$CTL_FILE")/nodes/$idx/$action")" ||
    die "control channel not answering"
  code="${out##*$'\n'}"
  out="${out%$'\n'*}"
  [[ "$code" == 200 ]] || die "node-$action $idx: $out"
  say "node $idx ${action/%stop/stopp}ed (http://127.0.0.1:$(($(cat "$PORT_FILE") + idx)))"
}

cmd_wipe() {
  cmd_stop
  rm -rf "$BASE/data" "$BASE/tmp"
  say "deleted $BASE/data"
}

cmd_log() {
  tail -n "${1:-50}" "$LOG_FILE"
}

# start/stop/wipe of one BANWAVE_DEV_ES_HOME never run concurrently
lock() {
  mkdir -p "$BASE"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$BASE/.lock"
    flock -w 300 9 || die "another es.sh start/stop is still running on $BASE"
  fi
}

case "${1:-}" in
  start) shift; lock; cmd_start "$@" ;;
  stop) lock; cmd_stop ;;
  status) cmd_status ;;
  node-stop) cmd_node stop "${2:-}" ;;
  node-start) cmd_node start "${2:-}" ;;
  wipe) lock; cmd_wipe ;;
  log | logs) cmd_log "${2:-50}" ;;
  fetch) check_java; fetch_jars; compile; say "jars in $LIB, launcher in $CLASSES" ;;
  *)
    awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" >&2
    exit 2
    ;;
esac
