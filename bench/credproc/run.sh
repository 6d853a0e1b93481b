#!/usr/bin/env bash
# Benchmark of a warm `ssokeep credential-process` (not a test).
#
# With hyperfine (-N --warmup 20, $RUNS runs per command, default 300, in $ROUNDS interleaved rounds), on one
# temp HOME:
#   floor      bench/credproc/floor: a static Go program that reads the cached JSON file and prints it
#   version    `ssokeep version`: the binary's start-up alone (every linked package's init), no command work
#   ssokeep    `ssokeep credential-process -p bench`: config parse, profile resolution, role-cache read,
#              policy check, JSON out (a valid cached set: the warm path)
#   lean       `ssokeep-credential-process -p bench`: the same warm path from the binary that links no AWS SDK
#              (what the credential_process line should name); it hands over to ssokeep when a fetch is needed
#   botocore   botocore_resolve.py: botocore resolving the same SSO profile from the same cached file, with the
#              AWS CLI's JSONFileCache handed to its SSO provider (boto3 alone has no disk cache and would
#              call GetRoleCredentials in every process)
#   boto3+cp   botocore resolving the credential_process profile, i.e. running ssokeep: what a boto3 process
#              pays per credential fetch with ssokeep
# Every AWS_ENDPOINT_URL_* points at a closed loopback port, so no row can use the network unnoticed; each
# command's output is checked before timing. Then the medians, the ratios and the targets (ssokeep <= 2x the
# floor, >= 50x faster than botocore), and what costs what: the command's own work in process (a Go
# benchmark), package init times (GODEBUG=inittrace=1, median of 50 runs), and, when perf is installed, CPU
# time (task-clock), which machine load disturbs less than wall time.
#
# Both Go binaries are built with CGO_ENABLED=0 (static), as the floor is.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v hyperfine >/dev/null || { echo "run.sh: hyperfine is not installed" >&2; exit 2; }
PY=${PY:-python3}
"$PY" -c 'import botocore' 2>/dev/null || { echo "run.sh: $PY cannot import botocore" >&2; exit 2; }
RUNS=${RUNS:-300}
ROUNDS=${ROUNDS:-3}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/ssokeep" ./cmd/ssokeep
CGO_ENABLED=0 go build -o "$work/ssokeep-credential-process" ./cmd/ssokeep-credential-process
CGO_ENABLED=0 go build -o "$work/floor" ./bench/credproc/floor

# The in-process benchmark runs first, with the caller's HOME (the Go module and build caches live there).
inproc=$(go test -run '^$' -bench 'CredentialProcessWarm$' -benchtime 2000x ./internal/cli | awk '/^Benchmark/{printf "  %.3f ms/op, %s B/op, %s allocs/op\n", $3/1e6, $5, $7}')

# A home with an SSO profile, a valid CLI token and a role-credential set valid for 10 h, in the AWS CLI's
# own file names and formats (the keys are computed here as the CLI computes them).
home="$work/home"
mkdir -p "$home/.aws/sso/cache" "$home/.aws/cli/cache"
chmod -R go-rwx "$home"
cat >"$home/.aws/config" <<EOF
[sso-session bench]
sso_start_url = https://d-90670ffee0.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile bench]
sso_session = bench
sso_account_id = 111122223333
sso_role_name = Developer
region = us-east-1

[profile bench-cp]
credential_process = $work/ssokeep credential-process -p bench
EOF
role_file=$("$PY" - "$home" <<'EOF'
import hashlib, json, os, sys, datetime
home = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)
fmt = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
tok = {"startUrl": "https://d-90670ffee0.awsapps.com/start", "region": "us-east-1", "accessToken": "bench-access-token",
       "expiresAt": fmt(now + datetime.timedelta(hours=1)), "clientId": "bench-client", "clientSecret": "bench-client-secret",
       "registrationExpiresAt": fmt(now + datetime.timedelta(days=80)), "refreshToken": "bench-refresh-token"}
key = hashlib.sha1(b"bench").hexdigest()
role = {"ProviderType": "sso", "Credentials": {"AccessKeyId": "ASIABENCH00000000001", "SecretAccessKey": "bench-secret-key",
        "SessionToken": "bench-session-token", "Expiration": fmt(now + datetime.timedelta(hours=10)), "AccountId": "111122223333"}}
rkey = hashlib.sha1(json.dumps({"accountId": "111122223333", "roleName": "Developer", "sessionName": "bench"},
                               sort_keys=True, separators=(",", ":")).encode()).hexdigest()
for path, obj in ((os.path.join(home, ".aws/sso/cache", key + ".json"), tok), (os.path.join(home, ".aws/cli/cache", rkey + ".json"), role)):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        json.dump(obj, f)
print(os.path.join(home, ".aws/cli/cache", rkey + ".json"))
EOF
)

for k in AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL BOTO_CONFIG; do unset "$k"; done
export HOME="$home" AWS_CONFIG_FILE="$home/.aws/config" AWS_SHARED_CREDENTIALS_FILE="$home/.aws/credentials"
closed=http://127.0.0.1:9 # discard port: nothing listens
export AWS_ENDPOINT_URL_SSO=$closed AWS_ENDPOINT_URL_SSO_OIDC=$closed AWS_ENDPOINT_URL_STS=$closed

floor_cmd="$work/floor $role_file"
version_cmd="$work/ssokeep version"
ssokeep_cmd="$work/ssokeep credential-process -p bench"
lean_cmd="$work/ssokeep-credential-process -p bench"
botocore_cmd="$PY bench/credproc/botocore_resolve.py bench"
cp_cmd="$PY bench/credproc/botocore_resolve.py bench-cp"

# Each row must produce the cached set, or the comparison means nothing.
want=ASIABENCH00000000001
$floor_cmd | grep -q "\"AccessKeyId\": \"$want\"" || { echo "run.sh: floor did not print the cached file" >&2; exit 1; }
$ssokeep_cmd | grep -q "\"AccessKeyId\":\"$want\"" || { echo "run.sh: ssokeep did not serve the cached set" >&2; exit 1; }
$lean_cmd | grep -q "\"AccessKeyId\":\"$want\"" || { echo "run.sh: ssokeep-credential-process did not serve the cached set" >&2; exit 1; }
[ "$($botocore_cmd)" = "$want" ] || { echo "run.sh: botocore did not resolve the cached set" >&2; exit 1; }
[ "$($cp_cmd)" = "$want" ] || { echo "run.sh: botocore did not get the set through credential_process" >&2; exit 1; }

# Machine load drifts during a long run; ROUNDS interleaved hyperfine runs of RUNS/ROUNDS each spread it over
# all rows, and each row's median is taken over all its samples.
echo "== hyperfine -N --warmup 20, $RUNS runs per command in $ROUNDS interleaved rounds ($(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg))"
for r in $(seq "$ROUNDS"); do
	hyperfine -N --warmup 20 --runs $((RUNS / ROUNDS)) --export-json "$work/h$r.json" \
		-n floor "$floor_cmd" -n version "$version_cmd" -n ssokeep "$ssokeep_cmd" -n lean "$lean_cmd" -n botocore "$botocore_cmd" -n boto3+cp "$cp_cmd" >"$work/hyperfine$r.out" 2>&1
done

"$PY" - "$work"/h*.json <<'EOF2'
import json, statistics, sys
times = {}
for path in sys.argv[1:]:
    for r in json.load(open(path))["results"]:
        times.setdefault(r["command"], []).extend(r["times"])
med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
print("%-10s %6s %10s %10s %10s %9s" % ("", "runs", "median ms", "p90 ms", "min ms", "x floor"))
for k in ("floor", "version", "ssokeep", "lean", "botocore", "boto3+cp"):
    v = sorted(times[k])
    print("%-10s %6d %10.2f %10.2f %10.2f %9.2f" % (k, len(v), med[k], v[int(len(v) * 0.9)] * 1e3, v[0] * 1e3, med[k] / med["floor"]))
for k in ("lean", "ssokeep"):
    x_floor = med[k] / med["floor"]
    x_boto = med["botocore"] / med[k]
    print("%-7s / floor    = %.2fx  (target <= 2x: %s)" % (k, x_floor, "met" if x_floor <= 2 else "NOT met"))
    print("botocore / %-7s = %.1fx  (target >= 50x: %s)" % (k, x_boto, "met" if x_boto >= 50 else "NOT met"))
print("version / floor    = %.2fx  (the binary's start-up alone)" % (med["version"] / med["floor"]))
EOF2

echo "== the command's own work, in process (go test -bench CredentialProcessWarm: cobra, config, cache read, JSON)"
echo "$inproc"

echo "== package init (GODEBUG=inittrace=1, median of 50 runs of the warm credential-process)"
for _ in $(seq 50); do GODEBUG=inittrace=1 $ssokeep_cmd 2>&1 >/dev/null; done | "$PY" -c '
import collections, re, statistics, sys
d = collections.defaultdict(list)
for l in sys.stdin:
    m = re.match(r"init (\S+) @\S+ ms, (\S+) ms clock, (\d+) bytes", l)
    if m: d[m.group(1)].append(float(m.group(2)))
med = {k: statistics.median(v) for k, v in d.items()}
def group(p):
    if "aws-sdk-go-v2" in p or "aws/smithy-go" in p: return "aws-sdk-go-v2 + smithy"
    if p.startswith("github.com/ssokeep/"): return "ssokeep " + p.split("/")[4]
    if "." not in p.split("/")[0]: return "standard library"
    return "/".join(p.split("/")[:3])
g = collections.Counter()
for k, v in med.items(): g[group(k)] += v
print("%d packages, %.2f ms in init" % (len(med), sum(med.values())))
for k, v in g.most_common(6): print("  %-32s %.2f ms" % (k, v))
print("  slowest:", ", ".join("%s %.2f" % (k.split("/")[-1] if "/" in k else k, v) for k, v in sorted(med.items(), key=lambda x: -x[1])[:6]))
'

if command -v perf >/dev/null && perf stat -r 1 true >/dev/null 2>&1; then
	echo "== CPU time (perf stat -r 200: task-clock, page faults)"
	for row in "floor|$floor_cmd" "lean|$lean_cmd" "version|$version_cmd" "ssokeep|$ssokeep_cmd"; do
		perf stat -r 200 ${row#*|} 2>&1 >/dev/null | awk -v n="${row%%|*}" '/task-clock/{t=$1} /page-faults/{p=$1} END{printf "  %-8s %6s ms CPU  %5s page faults\n", n, t, p}'
	done
fi
