#!/usr/bin/env bash
# Imports a disk image from a bwLehrpool satellite (the test peer of Tests/ViceBwLehrpoolTests) into
# the registry and deploys it back, and in the same run moves the same image with a bare Python
# client of the same protocol (bench/bftp_baseline.py: login, 16 MiB LZ4 ranges, SHA-1 per block);
# prints both and the ratio. The peer, a Python process, bounds both sides alike.
# Usage: bench/bwlehrpool.sh [MiB]
set -euo pipefail
cd "$(dirname "$0")/.."
source script/lib.sh
ensure_packages "${BUILD_PACKAGES[@]}" curl python3 qemu-utils python3-thrift thrift-compiler python3-lz4
find_swift
mib=${1:-512}
"$SWIFT" build -c release --product vice >&2
vice="$("$SWIFT" build -c release --show-bin-path)/vice"

work=$(mktemp -d /var/tmp/vice-bwlp-bench.XXXXXX)
mkfifo "$work/peer.stdin"
cleanup() {
    [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    exec 3>&- 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/peer"
/usr/bin/python3 Tests/ViceBwLehrpoolTests/Peer/bwlp_peer.py "$work/peer" bench:bench-password < "$work/peer.stdin" 2> "$work/peer.log" &
exec 3> "$work/peer.stdin"
for _ in $(seq 300); do [ -f "$work/peer/ports.json" ] && break; sleep 0.1; done
port() { python3 -c "import json; print(json.load(open('$work/peer/ports.json'))['$1'])"; }
master=$(port master); satellite=$(port satellite)

echo "making a $mib MiB disk (a third random, a third text, a third zeros) as VMDK…" >&2
python3 - "$work/disk.raw" "$mib" <<'PY'
import os, sys
with open(sys.argv[1], "wb") as f:
    for i in range(int(sys.argv[2])):
        f.write(os.urandom(1 << 20) if i % 3 == 0 else (bytes(range(97, 123)) * 40330)[:1 << 20] if i % 3 == 1 else bytes(1 << 20))
PY
qemu-img convert -f raw -O vmdk "$work/disk.raw" "$work/disk.vmdk"
rm "$work/disk.raw"
bytes=$(stat -c %s "$work/disk.vmdk")
base=$(python3 -c "import uuid; print(uuid.uuid4())"); version=$(python3 -c "import uuid; print(uuid.uuid4())")
cp "$work/disk.vmdk" "$work/peer/images/$version.img"
cat > "$work/peer/images/$base.json" <<JSON
{"imageBaseId": "$base", "imageName": "bench", "description": "", "osId": 2, "virtId": "vmware",
 "latestVersionId": "$version", "versions": [{"versionId": "$version", "fileSize": $bytes, "createTime": 0, "machine": ""}]}
JSON

baseline() { /usr/bin/python3 bench/bftp_baseline.py "$work/peer/gen" "$master" "$satellite" bench bench-password "$@"; }

t0=$(now); baseline download "$version" "$work/baseline.download"; t1=$(now)
direct_download=$(elapsed "$t0" "$t1")
cmp -s "$work/disk.vmdk" "$work/baseline.download" || { echo "error: the baseline download differs" >&2; exit 1; }
rm -f "$work/baseline.download"

start_bench_vice "$vice" "$work"
server=$vice_pid
api="http://127.0.0.1:$vice_port/v1"
env_id=$(vcurl -X POST "$api/environments" -d "{\"title\": \"pool\", \"managementlayer\": {\"software\": \"bwlehrpool\"}, \"credentials\": {\"location\": \"127.0.0.1:$satellite\", \"username\": \"bench\", \"password\": \"bench-password\", \"specifics\": {\"plain\": true, \"masterHost\": \"127.0.0.1:$master\"}}}" | field id)
timed_import "$api" "{\"originEnvironment\": \"$env_id\", \"environmentReference\": \"$base\"}"

# Uploads: the baseline into a fresh image of the peer, then the registry's deployment.
upload_base=$(python3 -c "import uuid; print(uuid.uuid4())")
echo "{\"imageBaseId\": \"$upload_base\", \"imageName\": \"baseline\", \"versions\": [], \"latestVersionId\": null}" > "$work/peer/images/$upload_base.json"
t0=$(now); baseline upload "$upload_base" "$work/disk.vmdk"; t1=$(now)
direct_upload=$(elapsed "$t0" "$t1")
timed_deploy "$api" "$image" "$env_id"
version2=$(vcurl "$api/deployment/$deployment" | field environmentReference | cut -d/ -f2)
cmp -s "$work/disk.vmdk" "$work/peer/images/$version2.img" || { echo "error: the deployed image differs" >&2; exit 1; }

echo
echo "VMDK of $((bytes / 1048576)) MiB, bwLehrpool test peer (Python) on loopback, plain TCP, LZ4, $(nproc) cores"
printf '%-38s %12s %10s %8s\n' "operation" "baseline s" "registry s" "ratio"
printf '%-38s %12s %10s %8s\n' "import (requestDownload + D ranges)" "$direct_download" "$vice_import" "$(python3 -c "print(round($vice_import / $direct_download, 2))")"
printf '%-38s %12s %10s %8s\n' "deploy (versionUpload + U ranges)" "$direct_upload" "$vice_deploy" "$(python3 -c "print(round($vice_deploy / $direct_upload, 2))")"
echo "registry times run from the API call to the state change (login, job queue, hashing, fsync, spool, polling included)"
