#!/usr/bin/env bash
# Load benchmark for ssokeep's credentials endpoint (not a test).
#
# Builds the fixture (serve.Server with a static fake source) and the floor
# (the least net/http can do for the same answer), then, in one run:
#   - wrk -t2 -c64 -d10s against each, interleaved over ROUNDS rounds (the
#     medians are reported, and the median of each round's back-to-back
#     ratio, which cancels slow drifts in what the machine's neighbours take);
#   - 64 simultaneous fresh connections against each (bench/serve/burst);
#   - the fixture's peak RSS (VmHWM) after all of that.
# Targets: req/s >= 0.95x the floor, p99 within 1 ms of it, every fresh
# connection answered < 50 ms, RSS <= 20 MiB.
#
# Env: ROUNDS (default 5), DURATION (default 10s), NICE (e.g. -10: run the
# servers, wrk and burst at that niceness, to shield them from other load on a
# shared machine; needs root for negative values).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { echo "run.sh: wrk is not installed (apt-get install wrk)" >&2; exit 2; }

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10s}
prio=(); [ -n "${NICE:-}" ] && prio=(nice -n "$NICE")
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

for p in fixture floor burst; do go build -o "$work/$p" "./bench/serve/$p"; done
BENCH_TOKEN=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
export BENCH_TOKEN

start() { # name -> prints URL; the server's pid goes to $work/name.pid
	"${prio[@]}" "$work/$1" -addr 127.0.0.1:0 >"$work/$1.out" 2>&1 &
	echo $! >"$work/$1.pid"
	for _ in $(seq 100); do
		if grep -q '^ready ' "$work/$1.out"; then awk '/^ready /{print $2}' "$work/$1.out"; return; fi
		sleep 0.05
	done
	echo "run.sh: $1 did not start:" >&2; cat "$work/$1.out" >&2; exit 1
}
fixture_url=$(start fixture); pids+=("$(cat "$work/fixture.pid")")
floor_url=$(start floor); pids+=("$(cat "$work/floor.pid")")
fixture_pid=$(cat "$work/fixture.pid")
floor_pid=$(cat "$work/floor.pid")

# Both must answer the same bytes, or the comparison means nothing.
a=$(curl -sf -H "Authorization: $BENCH_TOKEN" "$fixture_url" | sha256sum)
b=$(curl -sf -H "Authorization: $BENCH_TOKEN" "$floor_url" | sha256sum)
[ "$a" = "$b" ] || { echo "run.sh: fixture and floor answer different bodies" >&2; exit 1; }

# wrk's latency figures in ms (it prints us, ms or s).
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.3f", v}'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; } # utime+stime of a pid
run_wrk() { # name url pid -> "req/s p50ms p99ms server-cpu-us-per-request"
	local out t0 t1; t0=$(cpu_ticks "$3")
	out=$("${prio[@]}" wrk -t2 -c64 -d"$DURATION" --latency -s bench/serve/wrk.lua "$2")
	t1=$(cpu_ticks "$3")
	if echo "$out" | grep -q 'Non-2xx'; then echo "run.sh: $1 answered non-2xx under load" >&2; echo "$out" >&2; exit 1; fi
	local rps p50 p99
	rps=$(echo "$out" | awk '/^Requests\/sec:/{print $2}')
	p50=$(echo "$out" | awk '$1=="50%"{print $2}' | to_ms)
	p99=$(echo "$out" | awk '$1=="99%"{print $2}' | to_ms)
	local n; n=$(echo "$out" | awk '/requests in/{print $1}')
	echo "$rps $p50 $p99 $(awk -v a="$t0" -v b="$t1" -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.1f", (b-a)/hz*1e6/n}')"
}
median() { sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

echo "== warm-up"
wrk -t2 -c64 -d2s -s bench/serve/wrk.lua "$fixture_url" >/dev/null
wrk -t2 -c64 -d2s -s bench/serve/wrk.lua "$floor_url" >/dev/null

echo "== wrk -t2 -c64 -d$DURATION, $ROUNDS interleaved rounds (machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), niceness ${NICE:-0})"
: >"$work/fixture.res"; : >"$work/floor.res"
for r in $(seq "$ROUNDS"); do
	# Alternate who goes first so a trend in machine load hits both alike.
	if [ $((r % 2)) -eq 1 ]; then order="fixture floor"; else order="floor fixture"; fi
	for name in $order; do
		url=$fixture_url pid=$fixture_pid; [ "$name" = floor ] && url=$floor_url pid=$floor_pid
		res=$(run_wrk "$name" "$url" "$pid")
		echo "$res" >>"$work/$name.res"
		printf '  round %d %-8s req/s %10s  p50 %7s ms  p99 %7s ms  server CPU %5s us/req\n' "$r" "$name" $res
	done
done
for name in fixture floor; do
	rps=$(awk '{print $1}' "$work/$name.res" | median)
	p50=$(awk '{print $2}' "$work/$name.res" | median)
	p99=$(awk '{print $3}' "$work/$name.res" | median)
	cpu=$(awk '{print $4}' "$work/$name.res" | median)
	eval "${name}_rps=$rps ${name}_p50=$p50 ${name}_p99=$p99 ${name}_cpu=$cpu"
done
echo "== medians"
printf '  fixture (serve.Server)  req/s %10s  p50 %7s ms  p99 %7s ms  server CPU %5s us/req\n' "$fixture_rps" "$fixture_p50" "$fixture_p99" "$fixture_cpu"
printf '  floor (bare net/http)   req/s %10s  p50 %7s ms  p99 %7s ms  server CPU %5s us/req\n' "$floor_rps" "$floor_p50" "$floor_p99" "$floor_cpu"
awk -v a="$fixture_rps" -v b="$floor_rps" -v pa="$fixture_p99" -v pb="$floor_p99" 'BEGIN{
	printf "  ratio req/s %.3f (target >= 0.95)   p99 difference %+.3f ms (target <= 1 ms)\n", a/b, pa-pb }'
# Each round's pair ran back to back, so its ratio cancels slow drifts in what
# the machine's neighbours take; the median of those ratios is the steadier figure.
paired=$(paste "$work/fixture.res" "$work/floor.res" | awk '{print $1/$5, $8/$4}')
printf '  per-round ratios: req/s %s; CPU per request floor/fixture %s\n' \
	"$(echo "$paired" | awk '{printf "%.2f ", $1}')" "$(echo "$paired" | awk '{printf "%.2f ", $2}')"
printf '  median of per-round ratios: req/s %.3f, CPU per request %.3f (target >= 0.95)\n' \
	"$(echo "$paired" | awk '{print $1}' | median)" "$(echo "$paired" | awk '{print $2}' | median)"

echo "== 64 simultaneous fresh connections"
printf '  fixture: '; "${prio[@]}" "$work/burst" -url "$fixture_url" -n 64 -rounds 20
printf '  floor:   '; "${prio[@]}" "$work/burst" -url "$floor_url" -n 64 -rounds 20

echo "== fixture memory"
grep -E 'VmHWM|VmRSS' "/proc/$fixture_pid/status" | awk '{printf "  %s %.1f MiB\n", $1, $2/1024}'
