#!/usr/bin/env bash
# Uploads and downloads a 1 GiB random file through the registry API with curl and, in the same
# run, through a plain nginx (PUT to disk, GET with sendfile) as the local physical limit.
# Prints MB/s for each (median of 3 runs), the ratio, and the registry's peak RSS.
# Usage: bench/transfer.sh [MiB]
set -euo pipefail
cd "$(dirname "$0")/.."
source script/lib.sh
ensure_packages "${BUILD_PACKAGES[@]}" nginx curl python3
find_swift

mib=${1:-1024}
runs=3
"$SWIFT" build -c release --product vice >&2
vice="$("$SWIFT" build -c release --show-bin-path)/vice"

work=$(mktemp -d /var/tmp/vice-bench.XXXXXX)
cleanup() {
    [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
echo "writing $mib MiB of random data…" >&2
head -c "${mib}M" /dev/urandom > "$work/file.bin"
bytes=$(stat -c %s "$work/file.bin")

# nginx: PUT to disk (client body buffered to a temp file, then renamed), GET with sendfile.
nginx_port=18181
mkdir -p "$work/nginx-root" "$work/nginx-tmp"
cat > "$work/nginx.conf" <<CONF
user root;
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events {}
http {
    access_log off;
    sendfile on;
    client_max_body_size 0;
    client_body_temp_path $work/nginx-tmp;
    server {
        listen 127.0.0.1:$nginx_port;
        root $work/nginx-root;
        location / { dav_methods PUT; create_full_put_path on; }
    }
}
CONF
nginx -p "$work" -c "$work/nginx.conf"

# The registry, release build, on its embedded defaults in the same folder.
start_bench_vice "$vice" "$work"
server=$vice_pid
port=$vice_port
auth=(-u admin:bench-admin-password)
api="http://127.0.0.1:$port/v1"

seconds() { curl -sS -o /dev/null -w '%{time_total}' "$@"; }
median() { python3 -c 'import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
rate() { python3 -c "print(round($bytes / $1 / 1e6))"; }

nginx_up=(); nginx_down=(); vice_up=(); vice_down=()
for run in $(seq $runs); do
    nginx_up+=("$(seconds -T "$work/file.bin" "http://127.0.0.1:$nginx_port/file-$run.bin")")
    nginx_down+=("$(seconds "http://127.0.0.1:$nginx_port/file-$run.bin")")
    rm -f "$work/nginx-root/file-$run.bin"

    id=$(curl -sS "${auth[@]}" -X POST "$api/images" --json '{"title": "bench", "contenttype": "disk-raw"}' \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    vice_up+=("$(seconds "${auth[@]}" -X POST -T "$work/file.bin" -H 'Content-Type: application/octet-stream' "$api/image/$id/file")")
    for _ in $(seq 600); do
        status=$(curl -sS "${auth[@]}" "$api/image/$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
        [ "$status" = storing ] || break
        sleep 0.1
    done
    [ "$status" = active ] || { echo "upload ended $status" >&2; exit 1; }
    vice_down+=("$(seconds "${auth[@]}" "$api/image/$id/file")")
    curl -sS "${auth[@]}" -X DELETE "$api/image/$id" > /dev/null
done

peak=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
nu=$(rate "$(median "${nginx_up[@]}")"); nd=$(rate "$(median "${nginx_down[@]}")")
vu=$(rate "$(median "${vice_up[@]}")"); vd=$(rate "$(median "${vice_down[@]}")")
echo
echo "transfer of $mib MiB through curl on loopback — $(nproc) cores, median of $runs runs"
printf '%-10s %14s %14s %8s\n' "direction" "nginx MB/s" "registry MB/s" "ratio"
printf '%-10s %14s %14s %8s\n' "upload" "$nu" "$vu" "$(python3 -c "print(round($vu / $nu, 2))")"
printf '%-10s %14s %14s %8s\n' "download" "$nd" "$vd" "$(python3 -c "print(round($vd / $nd, 2))")"
echo "registry peak RSS: $((peak / 1024)) MiB (VmHWM); upload = received, hashed (SHA-256), written and fsynced"
