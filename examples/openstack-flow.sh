#!/usr/bin/env bash
# An OpenStack cloud end to end against a running registry (script/server): register the cloud,
# list what Glance holds, import an image, deploy it back as a new Glance image, remove that.
#   examples/openstack-flow.sh IDENTITY_URL USER PROJECT [GLANCE_IMAGE_ID]
#   OS_PASSWORD          the Keystone user's password
#   OS_REGION, OS_DOMAIN optional (default: any region, domain Default)
#   VICE_URL, VICE_USER, VICE_PASSWORD as for api-tour.sh
# Without GLANCE_IMAGE_ID the first image of the listing is imported.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { sed -n 4,9p "$0" >&2; exit 2; }
identity=$1 os_user=$2 project=$3 reference=${4:-}
: "${OS_PASSWORD:?set OS_PASSWORD to the Keystone password of $os_user}"
url=${VICE_URL:-http://127.0.0.1:8080/v1}
user=${VICE_USER:-admin}
password=${VICE_PASSWORD:-$(cat data/admin-password 2>/dev/null || true)}
[ -n "$password" ] || { echo "set VICE_PASSWORD (the admin password printed on first start)" >&2; exit 1; }

vice() { curl -sS -u "$user:$password" -H 'Content-Type: application/json' "$@"; }
field() { python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1]))' "$1"; }
wait_for() {  # path field value
    local status
    for _ in $(seq 600); do
        status=$(vice "$url$1" | field "$2")
        [ "$status" = "$3" ] && return 0
        [ "$status" = failed ] && { vice "$url$1"; echo; return 1; }
        sleep 0.5
    done
    echo "timed out waiting for $1 $2=$3" >&2; return 1
}

body=$(python3 - "$identity" "$os_user" "$OS_PASSWORD" "$project" "${OS_REGION:-}" "${OS_DOMAIN:-Default}" <<'EOF'
import json, sys
identity, user, password, project, region, domain = sys.argv[1:]
print(json.dumps({
    "title": f"OpenStack {project}",
    "managementlayer": {"type": "cloudcomputing", "software": "openstack"},
    "runtimetechnology": {"type": "virtualmachine", "software": "kvm"},
    "credentials": {"location": identity, "username": user, "password": password,
                    "specifics": {"tenant": project, "region": region, "domain": domain}},
}))
EOF
)
cloud=$(vice -X POST "$url/environments" -d "$body" | field id)
echo "environment $cloud"
echo "health: $(vice "$url/environment/$cloud/health")"
echo "importable images:"
vice "$url/environment/$cloud/images" | python3 -c '
import json, sys
for image in json.load(sys.stdin):
    print("  ", image["reference"], image.get("contenttype"), image.get("size"), image.get("title"))'
if [ -z "$reference" ]; then
    reference=$(vice "$url/environment/$cloud/images" | python3 -c 'import json,sys; print(next(i["reference"] for i in json.load(sys.stdin) if i.get("contenttype")))')
fi

image=$(vice -X POST "$url/images" -d "{\"originEnvironment\": \"$cloud\", \"environmentReference\": \"$reference\"}" | field id)
wait_for "/image/$image" status active
echo "imported: $(vice "$url/image/$image")"

deployment=$(vice -X POST "$url/deploy" -d "{\"imageid\": \"$image\", \"environmentId\": \"$cloud\"}" | field id)
wait_for "/deployment/$deployment" status deployed
echo "deployed: $(vice "$url/deployment/$deployment")"

vice -X DELETE "$url/deployment/$deployment" > /dev/null
echo "removal of deployment $deployment asked; the new Glance image is deleted by the export worker"
