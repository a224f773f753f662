#!/usr/bin/env bash
# Smoke test of the self-hosted deploy, for a machine WITH Docker (Compose v2.18 or newer).
#
#   scripts/deploy-smoke.sh                 build, compose up, check, compose down
#   scripts/deploy-smoke.sh --no-build      use the image already tagged AUREN_IMAGE
#   scripts/deploy-smoke.sh --keep          leave the smoke stack running afterwards
#   scripts/deploy-smoke.sh --against URL   only the checks, against a running server
#
# It builds the image with the LangGraph CLI from langgraph.platform.json, starts the stack
# of docker-compose.yml as a separate Compose project (auren-smoke: its own volume and
# network, API on 127.0.0.1:$AUREN_SMOKE_PORT) so a running deployment is never touched,
# waits for /ok, checks that a request without credentials is refused, syncs the
# assistants (`auren ops assistants sync`, when installed), ingests a small sample of manual
# entries through the client CLI, streams an analysis of it through the Python client, and
# always brings the smoke stack down again, volume included.
#
# Reads .env (copy .env.example) for the licence and AUREN_SERVICE_API_KEYS. Environment:
#   AUREN_API_KEY          key the client sends (default: the first of AUREN_SERVICE_API_KEYS)
#   AUREN_SMOKE_PORT       host port of the smoke API (default 18123)
#   AUREN_SMOKE_TIMEOUT    seconds to wait for /ok (default 240)
#   AUREN_SMOKE_BIN        directory with langgraph, auren and python (default .venv/bin)
#   AUREN_API_VERSION      pin the server: langgraph build --api-version (e.g. 0.16.7)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${AUREN_SMOKE_BIN:-$ROOT/.venv/bin}
PROJECT=auren-smoke
PORT=${AUREN_SMOKE_PORT:-18123}
TIMEOUT=${AUREN_SMOKE_TIMEOUT:-240}
USER_ID="smoke-$(date +%s)"
BUILD=1
KEEP=0
AGAINST=""

while (($#)); do
    case $1 in
        --no-build) BUILD=0 ;;
        --keep) KEEP=1 ;;
        --against)
            AGAINST=${2:?--against needs a URL}
            shift
            ;;
        -h | --help)
            sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "unknown argument: $1 (see --help)" >&2
            exit 2
            ;;
    esac
    shift
done

say() { printf '\n== %s\n' "$*"; }
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}

# The value of a variable: the environment first (it wins in Compose too), else .env.
setting() {
    local name=$1 value=""
    if [[ -n ${!name:-} ]]; then
        printf '%s' "${!name}"
        return
    fi
    if [[ -f .env ]]; then
        value=$(grep -E "^[[:space:]]*${name}=" .env | tail -n 1 | cut -d= -f2- || true)
        value=${value%\"}
        value=${value#\"}
        value=${value%\'}
        value=${value#\'}
    fi
    printf '%s' "$value"
}

for tool in python auren; do
    [[ -x $BIN/$tool ]] || fail "$BIN/$tool not found: run make install (or set AUREN_SMOKE_BIN)"
done

WORK=$(mktemp -d)
compose=(docker compose -p "$PROJECT" -f "$ROOT/docker-compose.yml")
STACK_UP=0

cleanup() {
    local status=$?
    if ((STACK_UP)); then
        if ((status != 0)); then
            echo "-- smoke failed; state and recent logs of the stack:" >&2
            "${compose[@]}" ps >&2 || true
            "${compose[@]}" logs --no-color --tail=80 >&2 || true
        fi
        if ((KEEP)); then
            echo "--keep: the smoke stack is still up; remove it with:" >&2
            echo "  docker compose -p $PROJECT down --volumes" >&2
        else
            say "docker compose down"
            "${compose[@]}" down --volumes --remove-orphans || true
        fi
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT

if [[ -n $AGAINST ]]; then
    URL=${AGAINST%/}
else
    URL="http://127.0.0.1:${PORT}"
    say "preflight"
    docker compose version >/dev/null 2>&1 || fail "docker compose (v2) is not available"
    docker info >/dev/null 2>&1 || fail "the Docker engine is not reachable"
    [[ -f .env ]] || fail "no .env: cp .env.example .env and fill it in"
    [[ -n $(setting POSTGRES_PASSWORD) ]] || fail "POSTGRES_PASSWORD is empty in .env"
    if [[ -z $(setting LANGSMITH_API_KEY) && -z $(setting LANGGRAPH_CLOUD_LICENSE_KEY) ]]; then
        fail "set LANGSMITH_API_KEY or LANGGRAPH_CLOUD_LICENSE_KEY: the image refuses to start without one"
    fi
    [[ -n $(setting LANGGRAPH_CLOUD_LICENSE_KEY) ]] ||
        say "no LANGGRAPH_CLOUD_LICENSE_KEY: under Lite there is no custom auth, and AUREN refuses to start"
    [[ -n $(setting AUREN_ENCRYPTION_KEYS) ]] ||
        fail "AUREN_ENCRYPTION_KEYS is empty in .env: vendor tokens are sealed with it (see .env.example)"
    # `langgraph build` sends this directory as the build context and ADDs all of it.
    [[ -f .dockerignore ]] || fail "no .dockerignore: .env and .auren/ would be baked into the image"
    for private in .env .auren; do
        grep -Eq "^[[:space:]]*/?(\*\*/)?${private//./\\.}(\*|/)?[[:space:]]*$" .dockerignore ||
            fail ".dockerignore does not exclude $private"
    done
    IMAGE=$(setting AUREN_IMAGE)
    IMAGE=${IMAGE:-auren-api}
    if ((BUILD)); then
        [[ -x $BIN/langgraph ]] || fail "$BIN/langgraph not found: run make install"
        pin=()
        [[ -z ${AUREN_API_VERSION:-} ]] || pin=(--api-version "$AUREN_API_VERSION")
        say "langgraph build -c langgraph.platform.json ${pin[*]} -t $IMAGE"
        "$BIN/langgraph" build -c langgraph.platform.json "${pin[@]}" -t "$IMAGE"
    fi
    # Shell variables win over .env in Compose: the smoke stack gets its own port and image.
    export AUREN_IMAGE=$IMAGE AUREN_API_BIND=127.0.0.1 AUREN_API_PORT=$PORT

    say "docker compose -p $PROJECT up -d"
    STACK_UP=1
    "${compose[@]}" up -d
fi
export AUREN_URL=$URL

say "waiting for $URL/ok (up to ${TIMEOUT}s)"
"$BIN/python" - "$URL" "$TIMEOUT" <<'PY'
import sys, time, urllib.request

url, timeout = sys.argv[1], float(sys.argv[2])
deadline = time.monotonic() + timeout
while True:
    try:
        with urllib.request.urlopen(f"{url}/ok", timeout=5) as response:
            print(f"/ok answered {response.status} after {timeout - (deadline - time.monotonic()):.0f}s")
            break
    except Exception as exc:  # not up yet: refused, reset, 5xx
        if time.monotonic() > deadline:
            sys.exit(f"/ok did not answer within {timeout:.0f}s: {exc}")
        time.sleep(2)
PY

if [[ $(setting AUREN_AUTH_MODE) != open ]]; then
    say "a request without credentials is refused"
    "$BIN/python" - "$URL" <<'PY'
import sys, urllib.error, urllib.request

request = urllib.request.Request(
    f"{sys.argv[1]}/assistants/search", data=b"{}", method="POST",
    headers={"Content-Type": "application/json"},
)
try:
    with urllib.request.urlopen(request, timeout=10) as response:
        sys.exit(f"POST /assistants/search without credentials answered {response.status}: "
                 "AUREN auth is not enforced by this server (licence? AUREN_AUTH_MODE?)")
except urllib.error.HTTPError as error:
    if error.code not in (401, 403):
        sys.exit(f"expected 401 or 403 without credentials, got {error.code}")
    print(f"refused with {error.code}")
PY
    if [[ -z ${AUREN_API_KEY:-} ]]; then
        keys=$(setting AUREN_SERVICE_API_KEYS)
        AUREN_API_KEY=${keys%%,*}
        AUREN_API_KEY=${AUREN_API_KEY//[[:space:]]/}
    fi
    [[ -n ${AUREN_API_KEY:-} ]] ||
        fail "no client key: set AUREN_SERVICE_API_KEYS in .env (or AUREN_API_KEY)"
    export AUREN_API_KEY
fi

if "$BIN/auren" ops --help >/dev/null 2>&1; then
    say "auren ops assistants sync"
    "$BIN/auren" ops assistants sync
else
    say "auren ops: not installed with this client (it comes with the server's package), skipped"
fi

say "auren ingest $USER_ID manual (a small sample)"
SAMPLE=$WORK/manual-entries.json
"$BIN/python" - "$SAMPLE" <<'PY'
import json, sys
from datetime import date, timedelta

today = date.today()
entries = []
for back in range(42, 0, -1):
    day = (today - timedelta(days=back)).isoformat()
    wobble = (back * 7) % 5  # a little day-to-day variation, deterministic
    entries += [
        {"entry_id": f"rhr-{day}", "metric": "resting_heart_rate", "value": 52 + wobble,
         "unit": "bpm", "date": day},
        {"entry_id": f"hrv-{day}", "metric": "hrv_rmssd", "value": 58 + 2 * wobble,
         "unit": "ms", "date": day},
        {"entry_id": f"sleep-{day}", "metric": "sleep_duration", "value": 7 + wobble / 10,
         "unit": "h", "date": day},
    ]
with open(sys.argv[1], "w") as handle:
    json.dump({"entries": entries}, handle)
print(f"{len(entries)} entries over 42 days")
PY
"$BIN/auren" ingest "$USER_ID" manual "$SAMPLE" --no-progress --json | tee "$WORK/report.json"
"$BIN/python" - "$WORK/report.json" <<'PY'
import json, sys

report = json.load(open(sys.argv[1]))
if not report.get("accepted"):
    sys.exit(f"nothing was accepted: {report}")
if report.get("rejected"):
    sys.exit(f"the sample had rejections: {report['rejected']}")
PY
# The same delivery again changes nothing.
"$BIN/auren" ingest "$USER_ID" manual "$SAMPLE" --no-progress --json | tee "$WORK/again.json"
"$BIN/python" - "$WORK/again.json" <<'PY'
import json, sys

report = json.load(open(sys.argv[1]))
if report.get("accepted") or not report.get("duplicates"):
    sys.exit(f"a repeated delivery was not recognised as duplicates: {report}")
PY

say "stream_analysis($USER_ID)"
"$BIN/python" - "$USER_ID" <<'PY'
import sys
from collections import Counter

from auren_client import SyncAurenClient

user = sys.argv[1]
seen = Counter()
result = None
with SyncAurenClient() as auren:  # AUREN_URL and AUREN_API_KEY from the environment
    for event in auren.stream_analysis(user, "How is my recovery?"):
        seen[event.type] += 1
        if event.type == "done":
            result = event.result
print(dict(seen))
if result is None:
    sys.exit("the analysis stream ended without a done event")
print(f"{len(result.findings)} findings, narrative by {result.narrative_source}:")
print(result.narrative[:400])
if not result.narrative:
    sys.exit("the analysis produced no narrative")
PY

say "PASS: deploy smoke test against $URL"
