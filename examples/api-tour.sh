#!/usr/bin/env bash
# Walks through every operation of the API against a running registry (script/server), using the
# in-memory reference adapter that config/vice.yaml enables. Prints each request and its answer.
#   VICE_URL   base URL (default http://127.0.0.1:8080/v1)
#   VICE_USER  / VICE_PASSWORD   credentials (default: admin and the password in data/admin-password)
set -euo pipefail
cd "$(dirname "$0")/.."
url=${VICE_URL:-http://127.0.0.1:8080/v1}
user=${VICE_USER:-admin}
password=${VICE_PASSWORD:-$(cat data/admin-password 2>/dev/null || true)}
[ -n "$password" ] || { echo "set VICE_PASSWORD (the admin password printed on first start)" >&2; exit 1; }

call() {  # method path [json]
    echo "\$ curl -X $1 $url$2${3:+ -d '$3'}" >&2
    if [ $# -ge 3 ]; then
        curl -sS -u "$user:$password" -X "$1" -H 'Content-Type: application/json' -d "$3" -w '  → HTTP %{http_code}\n' "$url$2"
    else
        curl -sS -u "$user:$password" -X "$1" -w '  → HTTP %{http_code}\n' "$url$2"
    fi
}
field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read().rsplit("  → HTTP",1)[0])[sys.argv[1]])' "$1"; }
wait_for() {  # path field value
    for _ in $(seq 100); do
        [ "$(curl -sS -u "$user:$password" "$url$1" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$2'))")" = "$3" ] && return 0
        sleep 0.2
    done
    echo "timed out waiting for $1 $2=$3" >&2; return 1
}

call GET /user
source=$(call POST /environments '{"title": "lab cloud", "managementlayer": {"type": "cloudcomputing", "software": "memory"}, "runtimetechnology": {"type": "virtualmachine", "software": "kvm"}, "credentials": {"location": "lab", "username": "demo", "password": "lab-secret"}}' | tee /dev/stderr | field id)
target=$(call POST /environments '{"title": "teaching pool", "managementlayer": {"software": "memory"}, "credentials": {"location": "pool"}}' | tee /dev/stderr | field id)
call PUT /environments "{\"id\": \"$target\", \"title\": \"teaching pool (renamed)\"}"
call GET "/environments?filterManagementlayer=cloudcomputing"
call GET "/environment/$source"
image=$(call POST /images "{\"title\": \"Sample disk\", \"imagetype\": \"implicit\", \"originEnvironment\": \"$source\", \"environmentReference\": \"sample-qcow2\"}" | tee /dev/stderr | field id)
wait_for "/image/$image" status active
call GET "/image/$image"
call PUT /images "{\"id\": \"$image\", \"title\": \"Sample disk v2\"}"
call GET "/images?q=sample&limit=10"
echo "\$ curl -o /tmp/vice-tour.img $url/image/$image/file" >&2
curl -sS -u "$user:$password" -o /tmp/vice-tour.img -w '  → HTTP %{http_code}, %{size_download} bytes\n' "$url/image/$image/file"
upload=$(call POST /images '{"title": "Uploaded Dockerfile"}' | tee /dev/stderr | field id)
printf 'FROM debian:12-slim\nCMD ["echo", "hello"]\n' > /tmp/vice-tour.Dockerfile
echo "\$ curl -X POST $url/image/$upload/file -F upfile=@/tmp/vice-tour.Dockerfile" >&2
curl -sS -u "$user:$password" -X POST -F upfile=@/tmp/vice-tour.Dockerfile -w '  → HTTP %{http_code}\n' "$url/image/$upload/file"
wait_for "/image/$upload" status active
call GET "/image/$upload"
call DELETE "/image/$upload"
deployment=$(call POST /deploy "{\"title\": \"for the course\", \"imageid\": \"$image\", \"environmentId\": \"$target\"}" | tee /dev/stderr | field id)
wait_for "/deployment/$deployment" status deployed
call GET "/deployment/$deployment"
call GET /deployments
call GET /runtimestats
call DELETE "/deployment/$deployment"
call DELETE "/image/$image"
call DELETE "/environment/$source"
call DELETE "/environment/$target"
