#!/usr/bin/env bash
# The vice client against curl on the same release server, in the same run: a random file up
# (vice image upload, which also waits for the store job and checks the digest, against curl's
# POST followed by polling until active) and down (vice image download, which hashes and checks
# the bytes, against curl -o). Also the cost of /metrics: GET /v1/image/{id} with wrk while
# Prometheus-style scrapes run every second, against the same without scrapes.
# Prints seconds and MB/s (median of 3 runs) and the ratios.
# Usage: bench/client.sh [MiB]
set -euo pipefail
cd "$(dirname "$0")/.."
source script/lib.sh
ensure_packages "${BUILD_PACKAGES[@]}" curl python3 wrk
find_swift

mib=${1:-512}
runs=3
"$SWIFT" build -c release --product vice >&2
vice="$("$SWIFT" build -c release --show-bin-path)/vice"

work=$(mktemp -d /var/tmp/vice-bench.XXXXXX)
cleanup() {
    [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
echo "writing $mib MiB of random data…" >&2
head -c "${mib}M" /dev/urandom > "$work/file.bin"
bytes=$(stat -c %s "$work/file.bin")

BENCH_VICE_EXTRA="metrics: {access: open, environmentHealthSeconds: 0}" start_bench_vice "$vice" "$work"
server=$vice_pid
port=$vice_port
api="http://127.0.0.1:$port/v1"
export VICE_CONFIG="$work/client.yaml"
echo bench-admin-password | "$vice" login "http://127.0.0.1:$port" --user admin --password-stdin > /dev/null

median() { python3 -c 'import statistics,sys; print(round(statistics.median(float(x) for x in sys.argv[1:]), 3))' "$@"; }
rate() { python3 -c "print(round($bytes / $1 / 1e6))"; }
ratio() { python3 -c "print(round($1 / $2, 2))"; }

curl_up=(); curl_down=(); vice_up=(); vice_down=()
for run in $(seq $runs); do
    # curl: the upload, then polling until the registry has checked and stored it.
    id=$(vcurl -X POST "$api/images" -d '{"title": "bench", "contenttype": "disk-raw"}' | field id)
    t0=$(now)
    curl -sS -u admin:bench-admin-password -o /dev/null -X POST -T "$work/file.bin" -H 'Content-Type: application/octet-stream' "$api/image/$id/file"
    wait_for_status "$api/image/$id" active > /dev/null
    curl_up+=("$(elapsed "$t0" "$(now)")")
    t0=$(now)
    curl -sS -u admin:bench-admin-password -o "$work/curl.bin" "$api/image/$id/file"
    curl_down+=("$(elapsed "$t0" "$(now)")")
    rm -f "$work/curl.bin"
    vcurl -X DELETE "$api/image/$id" > /dev/null

    id=$("$vice" image create --title bench --content-type disk-raw -o id)
    t0=$(now)
    "$vice" image upload "$id" "$work/file.bin" > /dev/null
    vice_up+=("$(elapsed "$t0" "$(now)")")
    t0=$(now)
    "$vice" image download "$id" -O "$work/vice.bin" > /dev/null
    vice_down+=("$(elapsed "$t0" "$(now)")")
    rm -f "$work/vice.bin"
    "$vice" image delete "$id" > /dev/null
done

cu=$(median "${curl_up[@]}"); cd_=$(median "${curl_down[@]}"); vu=$(median "${vice_up[@]}"); vd=$(median "${vice_down[@]}")
echo "== $mib MiB through the client (median of $runs; release build, loopback)"
printf '%-34s %8s s %6s MB/s\n' "upload + store, curl + polling" "$cu" "$(rate "$cu")"
printf '%-34s %8s s %6s MB/s   ratio %s\n' "upload + store, vice image upload" "$vu" "$(rate "$vu")" "$(ratio "$cu" "$vu")"
printf '%-34s %8s s %6s MB/s\n' "download, curl -o" "$cd_" "$(rate "$cd_")"
printf '%-34s %8s s %6s MB/s   ratio %s\n' "download + check, vice" "$vd" "$(rate "$vd")" "$(ratio "$cd_" "$vd")"

# /metrics under load: reads of one image with and without a scrape every second.
id=$("$vice" image create --title bench-metrics --content-type disk-raw -o id)
wrk_rate() { wrk -t2 -c32 -d10s -H "Authorization: Basic $(printf admin:bench-admin-password | base64)" "$api/image/$id" | sed -n 's/Requests\/sec: *//p'; }
plain=$(wrk_rate)
( for _ in $(seq 10); do curl -s -o /dev/null "http://127.0.0.1:$port/metrics"; sleep 1; done ) &
scraper=$!
scraped=$(wrk_rate)
wait $scraper
size=$(curl -s "http://127.0.0.1:$port/metrics" | wc -c)
t0=$(now); for _ in $(seq 20); do curl -s -o /dev/null "http://127.0.0.1:$port/metrics"; done; per=$(python3 -c "print(round(($(now) - $t0) / 20 * 1000, 1))")
echo "== GET /v1/image/{id}, wrk 32 connections, 10 s"
echo "without scrapes: $plain req/s; with a scrape each second: $scraped req/s (ratio $(ratio "$scraped" "$plain"))"
echo "one scrape: $per ms for $size bytes of metrics"
