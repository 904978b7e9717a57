#!/usr/bin/env bash
# CTest wrapper: starts mock-backend and the gateway on free loopback ports, runs tools/smoke
# against the gateway, and stops both whatever happens.
#   run_smoke.sh GATEWAY_BIN MOCK_BACKEND_BIN SOURCE_DIR
set -euo pipefail
gateway="$1" mock="$2" source_dir="$3"
scratch=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$scratch"
}
trap cleanup EXIT

# Waits (up to 10 s) for a "listening on HOST:PORT" line in FILE and prints PORT.
port_of() {
    local file="$1" deadline=$((SECONDS + 10)) line
    while [ $SECONDS -lt $deadline ]; do
        line=$(grep -m1 '^listening on ' "$file" 2>/dev/null || true)
        if [ -n "$line" ]; then echo "${line##*:}"; return 0; fi
        sleep 0.05
    done
    echo "no 'listening on' line in $file:" >&2
    cat "$file" >&2
    return 1
}

"$mock" --listen 127.0.0.1:0 >"$scratch/mock.out" 2>&1 &
pids+=($!)
mock_port=$(port_of "$scratch/mock.out")

"$gateway" --config "$source_dir/routes.yaml" --listen 127.0.0.1:0 --threads 2 \
    --upstream "selfCareSocket=127.0.0.1:$mock_port" --upstream "penalties=127.0.0.1:$mock_port" \
    >"$scratch/gateway.out" 2>&1 &
pids+=($!)
gateway_port=$(port_of "$scratch/gateway.out")

"$source_dir/tools/smoke" "http://127.0.0.1:$gateway_port"
