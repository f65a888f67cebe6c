#!/usr/bin/env bash
# Imports a ~500 MiB Docker image from a private engine into the registry and deploys it back,
# and in the same run does the same with `docker save` / `docker load` (the Engine API) straight
# against the engine; prints both and the ratio.
# Usage: bench/docker.sh [MiB]
set -euo pipefail
cd "$(dirname "$0")/.."
source script/lib.sh
ensure_packages "${BUILD_PACKAGES[@]}" docker.io curl python3
find_swift
mib=${1:-500}
"$SWIFT" build -c release --product vice >&2
vice="$("$SWIFT" build -c release --show-bin-path)/vice"

work=$(mktemp -d /var/tmp/vice-docker-bench.XXXXXX)
cleanup() {
    [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    local pid; pid=$(cat "$work/dockerd.pid" 2>/dev/null) || pid=""
    if [ -n "$pid" ]; then kill "$pid"; for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done; fi
    rm -rf "$work"
}
trap cleanup EXIT
sock="$work/docker.sock"
dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs --host "unix://$sock" \
    --data-root "$work/root" --exec-root "$work/exec" --pidfile "$work/dockerd.pid" > "$work/dockerd.log" 2>&1 &
for _ in $(seq 150); do [ "$(curl -s --unix-socket "$sock" http://d/_ping)" = OK ] && break; sleep 0.2; done
engine() { curl -sS --unix-socket "$sock" "$@"; }

echo "building a $mib MiB image…" >&2
mkdir "$work/ctx"
head -c "${mib}M" /dev/urandom > "$work/ctx/blob"
printf 'FROM scratch\nCOPY blob /blob\n' > "$work/ctx/Dockerfile"
tar -C "$work/ctx" -cf "$work/ctx.tar" Dockerfile blob
rm -rf "$work/ctx"
engine -X POST -T "$work/ctx.tar" -H 'Content-Type: application/x-tar' "http://d/build?t=bench/big:1&rm=1" > /dev/null
rm -f "$work/ctx.tar"


# Straight against the engine.
t0=$(now); engine -o "$work/save.tar" "http://d/images/bench/big:1/get"; t1=$(now)
direct_save=$(elapsed "$t0" "$t1")
bytes=$(stat -c %s "$work/save.tar")

# Through the registry: import.
start_bench_vice "$vice" "$work"
server=$vice_pid
port=$vice_port
api="http://127.0.0.1:$port/v1"
env_id=$(vcurl -X POST "$api/environments" -d "{\"title\": \"engine\", \"managementlayer\": {\"software\": \"docker\"}, \"credentials\": {\"location\": \"unix://$sock\"}}" | field id)
timed_import "$api" "{\"title\": \"big\", \"originEnvironment\": \"$env_id\", \"environmentReference\": \"bench/big:1\"}"

# Straight load, then through the registry: deploy.
engine -X DELETE "http://d/images/bench/big:1" > /dev/null
t0=$(now); engine -X POST -T "$work/save.tar" -H 'Content-Type: application/x-tar' "http://d/images/load?quiet=1" > /dev/null; t1=$(now)
direct_load=$(elapsed "$t0" "$t1")
engine -X DELETE "http://d/images/bench/big:1" > /dev/null
timed_deploy "$api" "$image" "$env_id"

echo
echo "Docker image of $((bytes / 1048576)) MiB (docker save tar), private dockerd (vfs), $(nproc) cores"
printf '%-34s %10s %10s %8s\n' "operation" "engine s" "registry s" "ratio"
printf '%-34s %10s %10s %8s\n' "import (save / GET images/get)" "$direct_save" "$vice_import" "$(python3 -c "print(round($vice_import / $direct_save, 2))")"
printf '%-34s %10s %10s %8s\n' "deploy (load / POST images/load)" "$direct_load" "$vice_deploy" "$(python3 -c "print(round($vice_deploy / $direct_load, 2))")"
echo "registry times run from the API call to the state change (job queue and polling included)"
