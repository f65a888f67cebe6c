#!/usr/bin/env bash
# The transfer and metadata benchmarks (bench/transfer.sh, bench/api.sh) run twice in one go:
# on the embedded stores (SQLite + local files) and on the shared ones (PostgreSQL 15 +
# SeaweedFS's S3 gateway, both started here on loopback), one node each. Prints both tables.
# Usage: bench/scaleout.sh [MiB, default 512] [images, default 2000] [seconds per wrk run, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
source script/lib.sh

mib=${1:-512}
images=${2:-2000}
duration=${3:-5}
postgres_dir=$(mktemp -d /tmp/vice-bench-postgres.XXXXXX)
seaweedfs_dir=$(mktemp -d /tmp/vice-bench-seaweedfs.XXXXXX)
trap 'script/postgres-testbed stop "$postgres_dir" || true; script/seaweedfs-testbed stop "$seaweedfs_dir" || true' EXIT
script/postgres-testbed start "$postgres_dir"
script/seaweedfs-testbed start "$seaweedfs_dir"
source "$postgres_dir/env"
source "$seaweedfs_dir/env"
# The benchmarks' registry gets a database and a prefix of its own per run.
shared_config() {
    local name="vice_bench_$(date +%s%N)"
    psql -q -d "$VICE_TEST_POSTGRES_URL" -c "CREATE DATABASE $name" >&2
    cat <<YAML
database:
  postgres:
    url: ${VICE_TEST_POSTGRES_URL%/postgres*}/$name?sslmode=disable
storage:
  s3:
    endpoint: $VICE_TEST_S3_ENDPOINT
    bucket: vice-bench
    accessKeyId: $VICE_TEST_S3_ACCESS_KEY
    secretAccessKey: $VICE_TEST_S3_SECRET_KEY
    prefix: run-$name/
YAML
}

embedded_transfer=$(bench/transfer.sh "$mib")
embedded_api=$(bench/api.sh "$images" "$duration")
shared_transfer=$(BENCH_VICE_EXTRA="$(shared_config)" bench/transfer.sh "$mib")
shared_api=$(BENCH_STORES="PostgreSQL" BENCH_VICE_EXTRA="$(shared_config)" bench/api.sh "$images" "$duration")

echo
echo "=== SQLite + local files (one node)"
echo "$embedded_transfer"
echo "$embedded_api"
echo
echo "=== PostgreSQL 15 + SeaweedFS S3 (one node; the database and the store on loopback)"
echo "$shared_transfer"
echo "$shared_api"
