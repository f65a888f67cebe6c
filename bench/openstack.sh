#!/usr/bin/env bash
# Imports a 512 MiB disk image from a real Glance into the registry and deploys it back, and in the
# same run downloads and uploads it with curl straight against Glance; prints both and the ratio.
# Starts its own Keystone + Glance (script/openstack-testbed) unless VICE_TEST_OPENSTACK_URL is set.
# Usage: bench/openstack.sh [MiB]
set -euo pipefail
cd "$(dirname "$0")/.."
source script/lib.sh
ensure_packages "${BUILD_PACKAGES[@]}" curl python3
find_swift
mib=${1:-512}
"$SWIFT" build -c release --product vice >&2
vice="$("$SWIFT" build -c release --show-bin-path)/vice"

work=$(mktemp -d /var/tmp/vice-openstack-bench.XXXXXX)
own_testbed=0
cleanup() {
    [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    [ $own_testbed -eq 1 ] && script/openstack-testbed stop "$work/testbed"
    rm -rf "$work"
}
trap cleanup EXIT
if [ -z "${VICE_TEST_OPENSTACK_URL:-}" ]; then
    own_testbed=1
    script/openstack-testbed start "$work/testbed"
    source "$work/testbed/env"
fi
identity=$VICE_TEST_OPENSTACK_URL
glance=$VICE_TEST_OPENSTACK_GLANCE

token=$(curl -sS -D - -o /dev/null -X POST "$identity/auth/tokens" -H 'Content-Type: application/json' -d "{\"auth\": {\"identity\": {\"methods\": [\"password\"], \"password\": {\"user\": {\"name\": \"demo\", \"domain\": {\"name\": \"Default\"}, \"password\": \"$VICE_TEST_OPENSTACK_DEMO_PASSWORD\"}}}, \"scope\": {\"project\": {\"name\": \"demo\", \"domain\": {\"name\": \"Default\"}}}}}" \
    | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: *//p' | tr -d '\r')
g() { curl -sS -H "X-Auth-Token: $token" -H 'Expect:' "$@"; }

echo "making a $mib MiB raw disk…" >&2
head -c "${mib}M" /dev/urandom > "$work/disk.raw"

# Straight against Glance: create + upload, then download.
t0=$(now)
direct=$(g -X POST "$glance/v2/images" -H 'Content-Type: application/json' \
    -d '{"name": "bench-direct", "disk_format": "raw", "container_format": "bare"}' | field id)
g -X PUT -H 'Content-Type: application/octet-stream' -T "$work/disk.raw" "$glance/v2/images/$direct/file"
t1=$(now)
direct_upload=$(elapsed "$t0" "$t1")
t0=$(now); g -o "$work/direct.download" "$glance/v2/images/$direct/file"; t1=$(now)
direct_download=$(elapsed "$t0" "$t1")
cmp -s "$work/disk.raw" "$work/direct.download" || { echo "error: the direct download differs" >&2; exit 1; }
rm -f "$work/direct.download"
# The same download doing the work the registry does besides: MD5 and SHA-512 (to verify against
# Glance) and SHA-256 (the registry's own address of the bytes), streamed, then fsync'd.
t0=$(now)
g "$glance/v2/images/$direct/file" | tee >(md5sum > "$work/md5") >(sha512sum > "$work/sha512") \
    >(sha256sum > "$work/sha256") > "$work/direct.download"
sync "$work/direct.download"; wait; t1=$(now)
verified_download=$(elapsed "$t0" "$t1")
rm -f "$work/direct.download"

# Through the registry: import the same Glance image, then deploy it back as a new one.
start_bench_vice "$vice" "$work"
server=$vice_pid
api="http://127.0.0.1:$vice_port/v1"
env_id=$(vcurl -X POST "$api/environments" -d "{\"title\": \"cloud\", \"managementlayer\": {\"type\": \"cloudcomputing\", \"software\": \"openstack\"}, \"credentials\": {\"location\": \"$identity\", \"username\": \"demo\", \"password\": \"$VICE_TEST_OPENSTACK_DEMO_PASSWORD\", \"specifics\": {\"tenant\": \"demo\", \"region\": \"RegionOne\"}}}" | field id)
timed_import "$api" "{\"originEnvironment\": \"$env_id\", \"environmentReference\": \"$direct\"}"
g -X DELETE "$glance/v2/images/$direct"

timed_deploy "$api" "$image" "$env_id"
deployed=$(vcurl "$api/deployment/$deployment" | field environmentReference)
[ "$(g "$glance/v2/images/$deployed" | field checksum)" = "$(md5sum "$work/disk.raw" | cut -d' ' -f1)" ] \
    || { echo "error: the deployed image's checksum differs" >&2; exit 1; }
g -X DELETE "$glance/v2/images/$deployed"

echo
echo "Disk image of $mib MiB (raw), Glance (Debian Zed, uwsgi, file store) on loopback, $(nproc) cores"
printf '%-36s %10s %10s %8s\n' "operation" "curl s" "registry s" "ratio"
printf '%-36s %10s %10s %8s\n' "import (GET /v2/images/{id}/file)" "$direct_download" "$vice_import" "$(python3 -c "print(round($vice_import / $direct_download, 2))")"
printf '%-36s %10s %10s %8s\n' "import vs curl | md5+sha512+sha256sum" "$verified_download" "$vice_import" "$(python3 -c "print(round($vice_import / $verified_download, 2))")"
printf '%-36s %10s %10s %8s\n' "deploy (POST + PUT /v2/images…/file)" "$direct_upload" "$vice_deploy" "$(python3 -c "print(round($vice_deploy / $direct_upload, 2))")"
echo "registry times run from the API call to the state change (token, job queue, hashing, fsync, polling included)"
