#!/bin/bash
# Wall time of CRI RunPodSandbox and RemovePodSandbox (of a running pod)
# on runtime handler xdphook (xdp_runtime -> runc with xdp_hook) next to
# plain runc, N runs each, alternating, through containerd set up by
# examples/kubernetes/node.sh in throw-away namespaces. The client's own
# start-up (Python, ~0.2 s) is in every sample alike. Prints "name
# median_ms" lines (every sample too with -v).
set -u
: "${BUILD:?}"
N=${N:-10}
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/container.sh"

topo_new
cri_node
us() { echo $(( ($2 - $1) / 1000 )); }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f\n", m/1000}'; }

# A resident pod keeps the NIC program loaded, as on a node with pods.
jq -n '{metadata: {name: "resident", namespace: "bench", uid: "resident"}}' >"$XH_TMP/res.json"
res=$(cri runp --runtime xdphook "$XH_TMP/res.json") || fail "resident pod"
for i in $(seq "$N"); do
	for h in xdphook runc; do
		jq -n --arg n "$h-$i" '{metadata: {name: $n, namespace: "bench", uid: $n}}' >"$XH_TMP/p.json"
		t0=$(date +%s%N); id=$(cri runp --runtime "$h" "$XH_TMP/p.json") || fail "runp $h $i"; t1=$(date +%s%N)
		us "$t0" "$t1" >>"$XH_TMP/runp-$h"
		t0=$(date +%s%N); cri rmp "$id" >/dev/null || fail "rmp $h $i"; t1=$(date +%s%N)
		us "$t0" "$t1" >>"$XH_TMP/rmp-$h"
	done
done
cri rmp "$res" >/dev/null
# The client alone: one RPC that does nothing (Version).
for i in $(seq "$N"); do
	t0=$(date +%s%N); cri version >/dev/null; t1=$(date +%s%N); us "$t0" "$t1" >>"$XH_TMP/client"
done
if [ "${1:-}" = -v ]; then
	for f in runp-xdphook runp-runc rmp-xdphook rmp-runc client; do
		echo "samples_$f $(awk '{printf "%.1f ", $1/1000}' "$XH_TMP/$f")"
	done
fi
echo "cri_runp_xdphook_ms $(median <"$XH_TMP/runp-xdphook")"
echo "cri_runp_runc_ms $(median <"$XH_TMP/runp-runc")"
echo "cri_rmp_xdphook_ms $(median <"$XH_TMP/rmp-xdphook")"
echo "cri_rmp_runc_ms $(median <"$XH_TMP/rmp-runc")"
echo "cri_client_version_ms $(median <"$XH_TMP/client")"
