#!/usr/bin/env bash
# `ssokeep serve` under load for a long stretch of compressed time (not a test):
# the emulator's sessions last SESSION (default 60s), tokens TOKEN (15s) and role
# credentials ROLE (20s), so MINUTES (default 10) of wall time is hours of
# rotations, token refreshes, session ends and background logins (approved by
# a notify hook). wrk keeps 64 connections busy the whole time. Prints the
# daemon's resident memory every minute, its peak (VmHWM), wrk's figures and any
# non-200 answer, and the emulator's counts of what happened upstream.
# The daemon is what `go install ./cmd/...` gives: ssokeep, which continues in
# ssokeep-keeper beside it. SERVE_GOGC sets the daemon's GOGC (default 100);
# SSOKEEP_NO_HANDOVER=1 keeps it in the full ssokeep binary; CGO_ENABLED=0
# builds static binaries (no libc and ld.so pages).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { echo "longrun.sh: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
MINUTES=${MINUTES:-10}
SESSION=${SESSION:-60s} TOKEN=${TOKEN:-15s} ROLE=${ROLE:-20s}

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/" ./cmd/ssokeep ./cmd/ssokeep-keeper
export HOME="$work/home" && mkdir -p "$HOME"
for k in $(env | grep -o '^AWS_[A-Z_]*'); do unset "$k"; done

"$work/ssokeep" emulator --session-duration "$SESSION" --token-lifetime "$TOKEN" --role-duration "$ROLE" \
  --approve auto --env-file "$work/env" --aws-config "$HOME/config" >"$work/emulator.out" 2>"$work/emulator.err" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/env" ] && break; sleep 0.1; done
# shellcheck disable=SC1091
. "$work/env"
sed -i "s/^sso_registration_scopes = .*/&\nssokeep_session_duration = $SESSION/" "$HOME/config"
"$work/ssokeep" login -p emulator --device-code --no-browser >/dev/null

GOGC=${SERVE_GOGC:-100} "$work/ssokeep" serve emulator --no-desktop \
  --notify-command "sh -c 'curl -s -XPOST $AWS_ENDPOINT_URL_SSO_OIDC/_emulator/approve >/dev/null'" \
  >"$work/serve.env" 2>"$work/serve.err" &
serve=$!
pids+=($serve)
for _ in $(seq 100); do grep -q TOKEN "$work/serve.env" 2>/dev/null && break; sleep 0.1; done
uri=$(sed -n 's/^export AWS_CONTAINER_CREDENTIALS_FULL_URI=//p' "$work/serve.env")
BENCH_TOKEN=$(sed -n 's/^export AWS_CONTAINER_AUTHORIZATION_TOKEN=//p' "$work/serve.env")
export BENCH_TOKEN

rss() { awk -v k="$1" '$1==k":" {printf "%.1f MiB", $2/1024}' "/proc/$serve/status"; }
libs() { awk '/^[0-9a-f]+-/{lib=($6 ~ /\.so/)} /^Rss:/{if (lib) t+=$2} END{printf "%.1f MiB", t/1024}' "/proc/$serve/smaps"; }
rssparts() { echo "$(rss VmRSS) (anon $(rss RssAnon), file $(rss RssFile), of which shared libraries $(libs))"; }
echo "== ssokeep serve for $MINUTES min (session $SESSION, token $TOKEN, role $ROLE), wrk -t2 -c64"
echo "  serving process: $(basename "$(readlink "/proc/$serve/exe")"), $(grep -q '\.so' "/proc/$serve/maps" && echo dynamically || echo statically) linked"
echo "  start: VmRSS $(rssparts)"
wrk -t2 -c64 -d"${MINUTES}m" --latency -s bench/serve/wrk.lua "$uri" >"$work/wrk.out" 2>&1 &
wrkpid=$!
pids+=($wrkpid)
for m in $(seq "$MINUTES"); do
  sleep 60
  echo "  minute $m: VmRSS $(rssparts)"
done
wait "$wrkpid" || true
echo "  end: VmRSS $(rss VmRSS), peak VmHWM $(rss VmHWM)"
echo "== wrk"
grep -E "Requests/sec|Non-2xx|Socket errors|50%|99%" "$work/wrk.out" | sed 's/^/  /'
grep -q "Non-2xx" "$work/wrk.out" || echo "  every answer was 200"
echo "== upstream (emulator stats)"
curl -s "$AWS_ENDPOINT_URL_SSO_OIDC/_emulator/stats" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for op in ("GetRoleCredentials", "CreateToken", "StartDeviceAuthorization"):
    s = d["operations"].get(op, {})
    print("  %-26s %6d calls %4d errors" % (op, s.get("requests", 0), s.get("errors", 0)))'
echo "  background logins approved: $(grep -c 'login approved' "$work/serve.err" || true)"
