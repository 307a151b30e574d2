#!/usr/bin/env bash
# Run the local stack without Docker, every listener on loopback, binaries
# built by build.sh. Two topologies (STACK_TOPOLOGY, or TOPOLOGY from make):
#   single [default]  Jaeger v2 (memory storage) and one otel-distro collector
#                     (collector/config.yaml)
#   gateway           Jaeger v2 on Badger (persistent, collector/jaeger/config-badger.yaml),
#                     two gateways (collector/gateway.yaml: tail sampling, span
#                     metrics) and one agent (collector/agent.yaml: redaction,
#                     load balancing by trace id) on the ports apps already use
#
# Usage: bash collector/scripts/stack.sh up|down|status|restart [NAME]
#   NAME: collector|jaeger (single), agent|gateway-1|gateway-2|jaeger (gateway)
#   `down` stops every process of either topology.
#
# Env (defaults in brackets):
#   STACK_TOPOLOGY [single]            single or gateway
#   STACK_HOST [127.0.0.1]             address every listener binds to
#   OTELCOL_OTLP_GRPC_PORT [4317]      collector OTLP/gRPC receiver
#   OTELCOL_OTLP_HTTP_PORT [4318]      collector OTLP/HTTP receiver
#   OTELCOL_HEALTH_PORT [13133]        collector health_check
#   OTELCOL_METRICS_PORT [8888]        collector's own metrics (Prometheus)
#   JAEGER_OTLP_GRPC_PORT [14317]      Jaeger OTLP/gRPC receiver (collector -> Jaeger)
#   JAEGER_QUERY_HTTP_PORT [16686]     Jaeger HTTP API and UI
#   JAEGER_QUERY_GRPC_PORT [16685]     Jaeger query gRPC API
#   JAEGER_HEALTH_PORT [13134]         Jaeger health (/status)
#   STACK_OUTPUT_DIR [telemetry/collector]  collector file output (gateway
#                                      topology: its gateway-1/ and gateway-2/)
#   GATEWAY_1_OTLP_GRPC_PORT [4417]    GATEWAY_1_OTLP_HTTP_PORT [4418]
#   GATEWAY_1_HEALTH_PORT [13233]      GATEWAY_1_METRICS_PORT [8988]
#   GATEWAY_2_OTLP_GRPC_PORT [4517]    GATEWAY_2_OTLP_HTTP_PORT [4518]
#   GATEWAY_2_HEALTH_PORT [13333]      GATEWAY_2_METRICS_PORT [9088]
#   OTELCOL_TAIL_* , OTELCOL_SPANMETRICS_FLUSH_INTERVAL  passed to the gateways
#   JAEGER_BADGER_DIR [STACK_RUN_DIR/jaeger-badger]  Badger data (gateway topology)
#   STACK_RUN_DIR [.cache/stack/run]   pid files, logs and stack.env
#   STACK_START_TIMEOUT [60]           seconds to wait for health
#   OTELCOL_BIN, JAEGER_BIN            use these binaries instead of .cache/stack/
#   JAEGER_UI_ASSETS [.cache/stack/jaeger-ui when built]  built Jaeger UI assets for the
#                                      query server (build.sh jaeger-ui); without them
#                                      the Go-built Jaeger serves the API and a placeholder page
# Every process runs in its own process group, recorded in a pid file;
# `down` (and a failed `up`) stops the whole group: no orphans.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

HOST="${STACK_HOST:-127.0.0.1}"
OTELCOL_OTLP_GRPC_PORT="${OTELCOL_OTLP_GRPC_PORT:-4317}"
OTELCOL_OTLP_HTTP_PORT="${OTELCOL_OTLP_HTTP_PORT:-4318}"
OTELCOL_HEALTH_PORT="${OTELCOL_HEALTH_PORT:-13133}"
OTELCOL_METRICS_PORT="${OTELCOL_METRICS_PORT:-8888}"
JAEGER_OTLP_GRPC_PORT="${JAEGER_OTLP_GRPC_PORT:-14317}"
JAEGER_QUERY_HTTP_PORT="${JAEGER_QUERY_HTTP_PORT:-16686}"
JAEGER_QUERY_GRPC_PORT="${JAEGER_QUERY_GRPC_PORT:-16685}"
JAEGER_HEALTH_PORT="${JAEGER_HEALTH_PORT:-13134}"
GATEWAY_1_OTLP_GRPC_PORT="${GATEWAY_1_OTLP_GRPC_PORT:-4417}"
GATEWAY_1_OTLP_HTTP_PORT="${GATEWAY_1_OTLP_HTTP_PORT:-4418}"
GATEWAY_1_HEALTH_PORT="${GATEWAY_1_HEALTH_PORT:-13233}"
GATEWAY_1_METRICS_PORT="${GATEWAY_1_METRICS_PORT:-8988}"
GATEWAY_2_OTLP_GRPC_PORT="${GATEWAY_2_OTLP_GRPC_PORT:-4517}"
GATEWAY_2_OTLP_HTTP_PORT="${GATEWAY_2_OTLP_HTTP_PORT:-4518}"
GATEWAY_2_HEALTH_PORT="${GATEWAY_2_HEALTH_PORT:-13333}"
GATEWAY_2_METRICS_PORT="${GATEWAY_2_METRICS_PORT:-9088}"
TOPOLOGY="${STACK_TOPOLOGY:-${TOPOLOGY:-single}}"
case "$TOPOLOGY" in
    single | gateway) ;;
    *) printf "stack: error: STACK_TOPOLOGY='%s' is not one of single, gateway\n" "$TOPOLOGY" >&2; exit 1 ;;
esac
RUN_DIR="$(mkdir -p "${STACK_RUN_DIR:-.cache/stack/run}" && cd "${STACK_RUN_DIR:-.cache/stack/run}" && pwd)"
OUTPUT_DIR="$(mkdir -p "${STACK_OUTPUT_DIR:-telemetry/collector}" && cd "${STACK_OUTPUT_DIR:-telemetry/collector}" && pwd)"
START_TIMEOUT="${STACK_START_TIMEOUT:-60}"
JAEGER_BADGER_DIR="${JAEGER_BADGER_DIR:-$RUN_DIR/jaeger-badger}"
OTELCOL_BIN="${OTELCOL_BIN:-$ROOT/.cache/stack/otelcol/otelcol-distro}"
JAEGER_BIN="${JAEGER_BIN:-$ROOT/.cache/stack/jaeger/jaeger}"
if [[ -z "${JAEGER_UI_ASSETS:-}" && -f "$ROOT/.cache/stack/jaeger-ui/index.html" ]]; then
    JAEGER_UI_ASSETS="$ROOT/.cache/stack/jaeger-ui"
fi
JAEGER_UI_ASSETS="${JAEGER_UI_ASSETS:-}"

# A signal ends the script through `exit`, so the EXIT traps below (which stop
# half-started processes) run on Ctrl-C too.
trap 'exit 130' INT
trap 'exit 143' TERM

log() { printf 'stack: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

pid_file() { echo "$RUN_DIR/$1.pid"; }

# running NAME: true if NAME's recorded process is alive and is still ours.
running() {
    local file pid
    file="$(pid_file "$1")"
    [[ -f "$file" ]] || return 1
    pid="$(cat "$file")"
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    # Guard against a recycled pid: the command line must name our binary.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$(binary_of "$1")"
}

binary_of() {
    case "$1" in
        collector | agent | gateway-1 | gateway-2) echo "$OTELCOL_BIN" ;;
        jaeger) echo "$JAEGER_BIN" ;;
    esac
}

# port_in_use PORT: true if something accepts connections on HOST:PORT.
port_in_use() {
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

check_ports() { # VAR_NAME...
    local var port
    for var in "$@"; do
        port="${!var}"
        [[ "$port" =~ ^[0-9]+$ && "$port" -ge 1 && "$port" -le 65535 ]] \
            || die "$var='$port' is not a port number (1-65535)"
        if port_in_use "$port"; then
            die "port $port on $HOST ($var) is already in use; stop what listens there or set $var to a free port"
        fi
    done
}

# http_status HOST PORT PATH: prints the HTTP status code (or nothing).
http_status() {
    local line
    exec 3<>"/dev/tcp/$1/$2" || return 0
    printf 'GET %s HTTP/1.0\r\nHost: %s:%s\r\nConnection: close\r\n\r\n' "$3" "$1" "$2" >&3
    IFS=' ' read -r -t 5 _ line _ <&3 || true
    exec 3<&- 3>&-
    echo "${line:-}"
}

wait_healthy() { # NAME PORT PATH
    local name="$1" port="$2" path="$3" deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! running "$name"; then
            tail -n 30 "$RUN_DIR/$name.log" >&2 || true
            die "$name exited during start-up (log above, full log: $RUN_DIR/$name.log)"
        fi
        if [[ "$(http_status "$HOST" "$port" "$path" 2>/dev/null)" == "200" ]]; then
            return 0
        fi
        sleep 0.2
    done
    tail -n 30 "$RUN_DIR/$name.log" >&2 || true
    die "$name was not healthy at http://$HOST:$port$path after ${START_TIMEOUT}s (log: $RUN_DIR/$name.log)"
}

# start NAME [VAR=VALUE...] -- ARGS...: run the binary in its own session/process
# group, with the given variables added to its environment.
start() {
    local name="$1"
    shift
    local assignments=()
    while (($#)) && [[ "$1" != "--" ]]; do
        assignments+=("$1")
        shift
    done
    [[ "${1:-}" == "--" ]] && shift
    local bin
    bin="$(binary_of "$name")"
    [[ -x "$bin" ]] || die "$bin is missing; run 'make stack-build' first"
    # setsid: the process leads a new process group, so `down` can stop the
    # group as a whole. Not a process-group leader here, so setsid does not fork
    # (and env execs): $! is the binary's own pid.
    setsid env "${assignments[@]}" "$bin" "$@" </dev/null >>"$RUN_DIR/$name.log" 2>&1 &
    local pid=$! real deadline=$((SECONDS + 10))
    echo "$pid" >"$(pid_file "$name")"
    # Until the forked shell has exec'd the binary, /proc shows the shell:
    # wait for the exec so `running` (which checks the command line) is exact.
    real="$(readlink -f "$bin")"
    while [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" != "$real" ]]; do
        kill -0 "$pid" 2>/dev/null || return 0 # exited already: wait_healthy reports it
        ((SECONDS < deadline)) || die "$name (pid $pid) did not start $bin"
        sleep 0.05
    done
}

stop() { # NAME
    local name="$1" file pid
    file="$(pid_file "$name")"
    [[ -f "$file" ]] || return 0
    pid="$(cat "$file")"
    if running "$name"; then
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        local deadline=$((SECONDS + 15))
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "$name did not stop within 15s; killing it"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
        log "stopped $name (pid $pid)"
    fi
    rm -f "$file"
}

export_config_env() {
    # Read by collector/config.yaml
    export OTELCOL_OTLP_GRPC_ENDPOINT="$HOST:$OTELCOL_OTLP_GRPC_PORT"
    export OTELCOL_OTLP_HTTP_ENDPOINT="$HOST:$OTELCOL_OTLP_HTTP_PORT"
    export OTELCOL_HEALTH_ENDPOINT="$HOST:$OTELCOL_HEALTH_PORT"
    export OTELCOL_METRICS_HOST="$HOST"
    export OTELCOL_METRICS_PORT
    export OTELCOL_JAEGER_ENDPOINT="$HOST:$JAEGER_OTLP_GRPC_PORT"
    export OTELCOL_OUTPUT_DIR="$OUTPUT_DIR"
    # Read by collector/jaeger/config.yaml
    export JAEGER_OTLP_GRPC_ENDPOINT="$HOST:$JAEGER_OTLP_GRPC_PORT"
    export JAEGER_QUERY_HTTP_ENDPOINT="$HOST:$JAEGER_QUERY_HTTP_PORT"
    export JAEGER_QUERY_GRPC_ENDPOINT="$HOST:$JAEGER_QUERY_GRPC_PORT"
    export JAEGER_HEALTH_ENDPOINT="$HOST:$JAEGER_HEALTH_PORT"
    export JAEGER_UI_ASSETS
}

JAEGER_PORTS=(JAEGER_OTLP_GRPC_PORT JAEGER_QUERY_HTTP_PORT JAEGER_QUERY_GRPC_PORT JAEGER_HEALTH_PORT)
OTELCOL_PORTS=(OTELCOL_OTLP_GRPC_PORT OTELCOL_OTLP_HTTP_PORT OTELCOL_HEALTH_PORT OTELCOL_METRICS_PORT)
GATEWAY_1_PORTS=(GATEWAY_1_OTLP_GRPC_PORT GATEWAY_1_OTLP_HTTP_PORT GATEWAY_1_HEALTH_PORT GATEWAY_1_METRICS_PORT)
GATEWAY_2_PORTS=(GATEWAY_2_OTLP_GRPC_PORT GATEWAY_2_OTLP_HTTP_PORT GATEWAY_2_HEALTH_PORT GATEWAY_2_METRICS_PORT)
ALL_NAMES=(collector agent gateway-1 gateway-2 jaeger) # stop order: senders first

# The processes of this topology, in start order (receivers first).
names() {
    if [[ "$TOPOLOGY" == gateway ]]; then
        echo jaeger gateway-1 gateway-2 agent
    else
        echo jaeger collector
    fi
}

ports_of() { # NAME: the port variables NAME listens on
    case "$1" in
        collector | agent) echo "${OTELCOL_PORTS[@]}" ;;
        gateway-1) echo "${GATEWAY_1_PORTS[@]}" ;;
        gateway-2) echo "${GATEWAY_2_PORTS[@]}" ;;
        jaeger) echo "${JAEGER_PORTS[@]}" ;;
    esac
}

stop_all() {
    local name
    for name in "${ALL_NAMES[@]}"; do
        stop "$name"
    done
}

start_jaeger() {
    if [[ "$TOPOLOGY" == gateway ]]; then
        mkdir -p "$JAEGER_BADGER_DIR"
        start jaeger "JAEGER_BADGER_DIR=$JAEGER_BADGER_DIR" -- \
            --config "$ROOT/collector/jaeger/config-badger.yaml"
    else
        start jaeger -- --config "$ROOT/collector/jaeger/config.yaml"
    fi
    wait_healthy jaeger "$JAEGER_HEALTH_PORT" /status
}

start_collector() {
    start collector -- --config "$ROOT/collector/config.yaml"
    wait_healthy collector "$OTELCOL_HEALTH_PORT" /
}

# The agent takes the single collector's ports: apps need no change.
start_agent() {
    start agent \
        "OTELCOL_GATEWAY_1=$HOST:$GATEWAY_1_OTLP_GRPC_PORT" \
        "OTELCOL_GATEWAY_2=$HOST:$GATEWAY_2_OTLP_GRPC_PORT" \
        -- --config "$ROOT/collector/agent.yaml"
    wait_healthy agent "$OTELCOL_HEALTH_PORT" /
}

start_gateway() { # N
    local n="$1" grpc http health metrics
    grpc="GATEWAY_${n}_OTLP_GRPC_PORT" http="GATEWAY_${n}_OTLP_HTTP_PORT"
    health="GATEWAY_${n}_HEALTH_PORT" metrics="GATEWAY_${n}_METRICS_PORT"
    mkdir -p "$OUTPUT_DIR/gateway-$n"
    start "gateway-$n" \
        "OTELCOL_OTLP_GRPC_ENDPOINT=$HOST:${!grpc}" \
        "OTELCOL_OTLP_HTTP_ENDPOINT=$HOST:${!http}" \
        "OTELCOL_HEALTH_ENDPOINT=$HOST:${!health}" \
        "OTELCOL_METRICS_PORT=${!metrics}" \
        "OTELCOL_OUTPUT_DIR=$OUTPUT_DIR/gateway-$n" \
        -- --config "$ROOT/collector/gateway.yaml"
    wait_healthy "gateway-$n" "${!health}" /
}
start_gateway-1() { start_gateway 1; }
start_gateway-2() { start_gateway 2; }

write_env_file() {
    cat >"$RUN_DIR/stack.env" <<EOF
OTEL_EXPORTER_OTLP_ENDPOINT=http://$HOST:$OTELCOL_OTLP_HTTP_PORT
OTELCOL_OTLP_GRPC=http://$HOST:$OTELCOL_OTLP_GRPC_PORT
JAEGER_API=http://$HOST:$JAEGER_QUERY_HTTP_PORT
OTELCOL_OUTPUT_DIR=$OUTPUT_DIR
EOF
}

cmd_up() {
    local name all=1 ports=()
    for name in $(names); do
        running "$name" || all=0
    done
    if ((all)); then
        log "already running"
        cmd_status
        return
    fi
    # Something half-started before (of either topology): clean it up first.
    stop_all
    for name in $(names); do
        # shellcheck disable=SC2207
        ports+=($(ports_of "$name"))
    done
    check_ports "${ports[@]}"
    export_config_env
    # On any failure from here on, stop whatever was started.
    trap 'log "start-up failed; stopping what was started"; stop_all' EXIT
    for name in $(names); do
        "start_$name"
    done
    trap - EXIT
    write_env_file
    cmd_status
}

cmd_down() {
    stop_all
    rm -f "$RUN_DIR/stack.env"
}

cmd_status() {
    local name state=0
    for name in $(names); do
        if running "$name"; then
            log "$name running (pid $(cat "$(pid_file "$name")"), log $RUN_DIR/$name.log)"
        else
            log "$name not running"
            state=1
        fi
    done
    if ((state == 0)); then
        cat >&2 <<EOF
stack: send OTLP to   http://$HOST:$OTELCOL_OTLP_HTTP_PORT (HTTP)  or  $HOST:$OTELCOL_OTLP_GRPC_PORT (gRPC)
$(jaeger_lines)
stack: file output    $OUTPUT_DIR$([[ "$TOPOLOGY" == gateway ]] && echo "/gateway-{1,2}")  (traces.jsonl, logs.jsonl, metrics.jsonl)
stack: stop with      make stack-down
EOF
    fi
    return "$state"
}

jaeger_lines() {
    local url="http://$HOST:$JAEGER_QUERY_HTTP_PORT"
    if [[ -n "$JAEGER_UI_ASSETS" ]]; then
        echo "stack: Jaeger UI      $url  (API: $url/api/services; UI assets $JAEGER_UI_ASSETS)"
    else
        echo "stack: Jaeger API     $url/api/services  (no UI in this build: its start page is a placeholder;"
        echo "stack:                use otel-distro traces show, or see 'Jaeger UI' in the README)"
    fi
}

cmd_restart() { # [NAME]
    export_config_env
    local name="${1:-collector}" ports
    [[ " $(names) " == *" $name "* ]] || die "restart what? (one of: $(names))"
    # shellcheck disable=SC2207
    ports=($(ports_of "$name"))
    stop "$name"
    check_ports "${ports[@]}"
    trap 'log "restart failed; stopping $name"; stop "$name"' EXIT
    "start_$name"
    trap - EXIT
    log "restarted $name (pid $(cat "$(pid_file "$name")"))"
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    restart) cmd_restart "${2:-collector}" ;;
    *) die "usage: stack.sh up|down|status|restart [NAME]" ;;
esac
