#!/usr/bin/env bash
# Fills a registry (release build, SQLite) with 10,000 images and measures with wrk:
#   GET /v1/image/{id}, GET /v1/images?limit=50, and as the floor, an unauthenticated request
#   that the server answers 401 without touching the database.
# Usage: bench/api.sh [images] [seconds per run]
set -euo pipefail
cd "$(dirname "$0")/.."
source script/lib.sh
ensure_packages "${BUILD_PACKAGES[@]}" wrk python3 curl
find_swift

images=${1:-10000}
duration=${2:-10}
connections=${BENCH_CONNECTIONS:-32}
"$SWIFT" build -c release --product vice >&2
vice="$("$SWIFT" build -c release --show-bin-path)/vice"

work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
start_bench_vice "$vice" "$work"
server=$vice_pid
port=$vice_port

fill=$(python3 bench/fill.py "$port" admin bench-admin-password "$images" 4)
read -r id rate < <(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["sampleId"], d["perSecond"])' "$fill")
auth="Authorization: Basic $(printf 'admin:bench-admin-password' | base64)"

measure() {  # name, path, with-auth
    local output
    if [ "$3" = yes ]; then
        output=$(wrk -t2 -c"$connections" -d"${duration}s" --latency -H "$auth" "http://127.0.0.1:$port$2")
    else
        output=$(wrk -t2 -c"$connections" -d"${duration}s" --latency "http://127.0.0.1:$port$2")
    fi
    local rps p50 p99 errors
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$output")
    p50=$(awk '$1=="50%" {print $2}' <<<"$output")
    p99=$(awk '$1=="99%" {print $2}' <<<"$output")
    errors=$(awk '/Non-2xx/ {print $5}' <<<"$output")
    printf '%-42s %12s %10s %10s %12s\n' "$1" "$rps" "$p50" "$p99" "${errors:-0}"
}

echo
echo "vice registry API benchmark — $(nproc) cores, release build, ${BENCH_STORES:-SQLite}, $images images (created through POST /v1/images at $rate/s)"
echo "wrk: 2 threads, $connections connections, ${duration}s per run"
printf '%-42s %12s %10s %10s %12s\n' "request" "requests/s" "p50" "p99" "non-2xx"
measure "baseline: 401 without credentials" "/v1/image/$id" no
measure "GET /v1/image/{id}" "/v1/image/$id" yes
measure "GET /v1/images?limit=50" "/v1/images?limit=50" yes
measure "GET /v1/images?limit=50&q=image 99" "/v1/images?limit=50&q=image%2099" yes
