#!/bin/bash
# Wall time of N xdp_hook createRuntime invocations started at once (as a
# runtime starting N pods in parallel does), then of their N poststops at
# once, on one NIC with a resident container (the NIC and veth programs
# loaded), ROUNDS times. Hooks invoked directly on netns with a sleep
# process each, like hook_latency.sh. Prints "name median_ms (min ms)"
# lines and, with -v, every round. HOOK_BIN: another xdp_hook to measure
# (e.g. an older build, for a before/after).
set -u
: "${BUILD:?}"
N=${N:-16}
ROUNDS=${ROUNDS:-5}
HOOK_BIN=${HOOK_BIN:-}
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/container.sh"
[ -n "$HOOK_BIN" ] && HOOK=$HOOK_BIN
verbose=false; [ "${1:-}" = -v ] && verbose=true

topo_new
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f\n", m}'; }
state() { echo "{\"ociVersion\":\"1.0.2\",\"id\":\"$1\",\"status\":\"$2\",\"pid\":${3:-0},\"annotations\":{\"io.xdphook.ips\":\"${4:-}\",\"io.xdphook.nic\":\"nic0\"}}"; }

new_ctr resident
state "xht-$XH_TAG-res" creating "$CTR_PID" 10.77.2.250/32 | in_ns host "$HOOK" createRuntime || fail "resident container"
at_exit "echo '{\"id\":\"xht-$XH_TAG-res\",\"status\":\"stopped\"}' | in_ns host $HOOK poststop"
PIDS=()
for i in $(seq "$N"); do new_ctr "p$i"; PIDS[$i]=$CTR_PID; done

: >"$XH_TMP/create"; : >"$XH_TMP/stop"
for r in $(seq "$ROUNDS"); do
	for i in $(seq "$N"); do
		at_exit "echo '{\"id\":\"xht-$XH_TAG-p$r-$i\",\"status\":\"stopped\"}' | in_ns host $HOOK poststop"
	done
	t0=$(date +%s%N); hooks=()
	for i in $(seq "$N"); do
		state "xht-$XH_TAG-p$r-$i" creating "${PIDS[$i]}" "10.77.2.$i/32" |
			in_ns host "$HOOK" createRuntime 2>"$XH_TMP/c$i.err" &
		hooks+=($!)
	done
	rcs=0; for j in "${hooks[@]}"; do wait "$j" || rcs=$((rcs + 1)); done
	t1=$(date +%s%N)
	[ "$rcs" = 0 ] || fail "round $r: $rcs createRuntime failed: $(cat "$XH_TMP"/c*.err)"
	n=$(in_ns host "$HOOK" list -json | jq --arg p "xht-$XH_TAG-p$r-" '[.[] | select((.id | startswith($p)) and .status == "ready")] | length')
	[ "$n" = "$N" ] || fail "round $r: $n of $N containers ready"
	t2=$(date +%s%N); hooks=()
	for i in $(seq "$N"); do
		state "xht-$XH_TAG-p$r-$i" stopped | in_ns host "$HOOK" poststop 2>"$XH_TMP/s$i.err" &
		hooks+=($!)
	done
	rcs=0; for j in "${hooks[@]}"; do wait "$j" || rcs=$((rcs + 1)); done
	t3=$(date +%s%N)
	[ "$rcs" = 0 ] || fail "round $r: $rcs poststop failed: $(cat "$XH_TMP"/s*.err)"
	echo $(( (t1 - t0) / 1000000 )) >>"$XH_TMP/create"
	echo $(( (t3 - t2) / 1000000 )) >>"$XH_TMP/stop"
	$verbose && echo "round $r: create ${N}x $(( (t1 - t0) / 1000000 )) ms, poststop ${N}x $(( (t3 - t2) / 1000000 )) ms" >&2
done
echo "parallel${N}_create_ms $(median <"$XH_TMP/create") (min $(sort -n "$XH_TMP/create" | head -1))"
echo "parallel${N}_poststop_ms $(median <"$XH_TMP/stop") (min $(sort -n "$XH_TMP/stop" | head -1))"
