#!/usr/bin/env bash
# CTest wrapper: starts mock-backend and the gateway on free loopback ports, runs tools/smoke
# against the gateway, and stops both whatever happens.
#   run_smoke.sh GATEWAY_BIN MOCK_BACKEND_BIN SOURCE_DIR [--tls]
# With --tls the examples go over HTTPS (https://localhost:PORT, as the API pages call it),
# to a gateway whose certificate comes from a CA made for the run.
set -euo pipefail
gateway="$1" mock="$2" source_dir="$3" mode="${4:-}"
scratch=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$scratch"
}
trap cleanup EXIT

# Waits (up to 10 s) for a "PREFIX HOST:PORT" line in FILE and prints PORT.
port_of() {
    local file="$1" prefix="${2:-listening on }" deadline=$((SECONDS + 10)) line
    while [ $SECONDS -lt $deadline ]; do
        line=$(grep -m1 "^$prefix" "$file" 2>/dev/null || true)
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

config="$source_dir/routes.yaml"
listen=(--listen 127.0.0.1:0)
if [ "$mode" = --tls ]; then
    "$source_dir/tools/make-test-certs" "$scratch"
    config="$scratch/routes.yaml"
    { printf 'tls:\n  certificates:\n    - {cert: gateway.crt, key: gateway.key}\n'
      cat "$source_dir/routes.yaml"; } >"$config"
    ln -s "$source_dir/schemas" "$scratch/schemas"
    listen=(--listen-tls 127.0.0.1:0)
fi

"$gateway" --config "$config" "${listen[@]}" --threads 2 \
    --upstream "selfCareSocket=127.0.0.1:$mock_port" --upstream "penalties=127.0.0.1:$mock_port" \
    >"$scratch/gateway.out" 2>&1 &
pids+=($!)
if [ "$mode" = --tls ]; then
    gateway_port=$(port_of "$scratch/gateway.out" "listening with TLS on ")
    CURL_CA_BUNDLE="$scratch/ca.crt" "$source_dir/tools/smoke" "https://localhost:$gateway_port"
else
    gateway_port=$(port_of "$scratch/gateway.out")
    "$source_dir/tools/smoke" "http://127.0.0.1:$gateway_port"
fi
