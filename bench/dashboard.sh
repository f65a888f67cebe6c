#!/usr/bin/env bash
# The dashboard's image list against the API's, on the same release server in the same run:
# wrk (2 threads, 32 connections, 10 s) on GET /ui/images (an HTML page, with the session cookie)
# and on GET /v1/images (JSON, with Basic credentials), over N images (default 200).
# Usage: bench/dashboard.sh [images]
set -euo pipefail
cd "$(dirname "$0")/.."
source script/lib.sh
ensure_packages "${BUILD_PACKAGES[@]}" curl python3 wrk
find_swift

count=${1:-200}
"$SWIFT" build -c release --product vice >&2
vice="$("$SWIFT" build -c release --show-bin-path)/vice"
work=$(mktemp -d /var/tmp/vice-bench.XXXXXX)
cleanup() {
    [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
start_bench_vice "$vice" "$work"
server=$vice_pid
root="http://127.0.0.1:$vice_port"
for i in $(seq "$count"); do vcurl -X POST "$root/v1/images" -d "{\"title\": \"image $i\", \"contenttype\": \"disk-raw\"}" > /dev/null; done

# Signing in as a browser does: the form's token and cookie, then the session cookie.
page=$(curl -sS -c "$work/jar" "$root/ui/login")
csrf=$(printf '%s' "$page" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
curl -sS -b "$work/jar" -c "$work/jar" -o /dev/null -d "csrf=$csrf&next=%2Fui%2Fimages&username=admin&password=bench-admin-password" "$root/ui/login"
session=$(awk '$6 == "vice_session" {print $7}' "$work/jar")
[ -n "$session" ] || { echo "no session" >&2; exit 1; }

run() { wrk -t2 -c32 -d10s "$@" | awk '/Requests\/sec/ {rps=$2} /Latency/ {lat=$2} END {print rps, lat}'; }
read -r api_rps api_lat < <(run -H "Authorization: Basic $(printf admin:bench-admin-password | base64)" "$root/v1/images?limit=25")
read -r ui_rps ui_lat < <(run -H "Cookie: vice_session=$session" "$root/ui/images")
ui_bytes=$(curl -sS -H "Cookie: vice_session=$session" "$root/ui/images" | wc -c)
api_bytes=$(curl -sS -u admin:bench-admin-password "$root/v1/images?limit=25" | wc -c)
echo "== $count images, 25 per page, wrk 32 connections 10 s (release build)"
echo "GET /v1/images?limit=25 (JSON, Basic): $api_rps req/s, mean latency $api_lat, $api_bytes bytes"
echo "GET /ui/images (HTML, session cookie): $ui_rps req/s, mean latency $ui_lat, $ui_bytes bytes"
python3 -c "print('ratio (page / API):', round($ui_rps / $api_rps, 2))"
