# Shared helpers of the scripts in script/. Source it; do not run it.

# Finds the real Swift toolchain: the folder holding swiftc. Debian's OpenStack packages install a
# Python `swift` command that can come first on PATH, so `swift` alone is not trusted.
find_swift() {
    local dir candidates=("${SWIFT_TOOLCHAIN_BIN:-}" /opt/swift/usr/bin)
    if command -v swiftc >/dev/null 2>&1; then
        candidates+=("$(dirname "$(readlink -f "$(command -v swiftc)")")")
    fi
    candidates+=(/usr/share/swift/usr/bin /usr/local/bin /usr/bin)
    for dir in "${candidates[@]}"; do
        [ -n "$dir" ] || continue
        if [ -x "$dir/swiftc" ] && [ -x "$dir/swift" ] && "$dir/swift" --version 2>/dev/null | grep -q "Swift version"; then
            SWIFT="$dir/swift"
            export PATH="$dir:$PATH"
            return 0
        fi
    done
    echo "error: no Swift toolchain found (looked for swiftc in: ${candidates[*]}); set SWIFT_TOOLCHAIN_BIN" >&2
    exit 1
}

# Installs the Debian packages that are missing, via apt when running as root.
ensure_packages() {
    local missing=() package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: missing Debian packages: ${missing[*]}" >&2
        echo "       install them with: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# Installs a Python package with pip when its module cannot be imported.
ensure_python_module() {
    local module=$1 package=$2
    python3 -c "import $module" 2>/dev/null && return 0
    echo "installing Python package $package" >&2
    python3 -m pip install --quiet "$package" >&2 || python3 -m pip install --quiet --break-system-packages "$package" >&2
}

# The system libraries the registry builds against.
BUILD_PACKAGES=(libcurl4-openssl-dev libyaml-dev libsqlite3-dev liblz4-dev pkg-config)

# For the benchmarks: starts `vice serve` ($1, the binary) in the folder $2 with a minimal
# configuration (plus the YAML in BENCH_VICE_EXTRA, e.g. other stores); sets vice_pid and
# vice_port. The admin password is bench-admin-password.
start_bench_vice() {
    cat > "$2/vice.yaml" <<YAML
server: {host: 127.0.0.1, port: 0}
security: {bcryptCost: 10}
logging: {level: warning}
${BENCH_VICE_EXTRA:-}
YAML
    (cd "$2" && VICE_ADMIN_PASSWORD=bench-admin-password exec "$1" serve --config vice.yaml > server.out 2> server.err) &
    vice_pid=$!
    for _ in $(seq 100); do grep -q "vice listening" "$2/server.out" 2>/dev/null && break; sleep 0.1; done
    vice_port=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$2/server.out" | head -1)
    [ -n "$vice_port" ] || { cat "$2/server.err" >&2; exit 1; }
}

# For the benchmarks: polls the registry record at URL (with the bench admin's credentials) until
# its status is $2; prints the record and fails when it is `failed`.
wait_for_status() {
    local url=$1 wanted=$2 status
    while true; do
        status=$(curl -sS -u admin:bench-admin-password "$url" | python3 -c "import json,sys; print(json.load(sys.stdin).get('status'))")
        [ "$status" = "$wanted" ] && return 0
        if [ "$status" = failed ]; then curl -sS -u admin:bench-admin-password "$url" >&2; echo >&2; exit 1; fi
        sleep 0.05
    done
}

# For the benchmarks: clock, registry calls with the bench admin's credentials, a JSON field.
now() { date +%s.%N; }
elapsed() { python3 -c "print(round($2 - $1, 2))"; }
vcurl() { curl -sS -u admin:bench-admin-password -H 'Content-Type: application/json' "$@"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin).get('$1'))"; }

# Imports into the registry at $1 (the /v1 URL) with the image body $2 until active; sets image
# and vice_import (seconds from the call to active).
timed_import() {
    local t0
    t0=$(now)
    image=$(vcurl -X POST "$1/images" -d "$2" | field id)
    wait_for_status "$1/image/$image" active
    vice_import=$(elapsed "$t0" "$(now)")
}

# Deploys image $2 into environment $3 of the registry at $1 until deployed; sets deployment and
# vice_deploy.
timed_deploy() {
    local t0
    t0=$(now)
    deployment=$(vcurl -X POST "$1/deploy" -d "{\"imageid\": \"$2\", \"environmentId\": \"$3\"}" | field id)
    wait_for_status "$1/deployment/$deployment" deployed
    vice_deploy=$(elapsed "$t0" "$(now)")
}
