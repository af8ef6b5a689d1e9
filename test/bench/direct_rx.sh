#!/bin/bash
# Host mode's receive with `direct` (the sandbox's sockets on the NIC's own
# RX queues) next to the paths it is measured against, in one run, on the
# same CPUs: 64-byte UDP from xdp_gen (world) to a published port of nic0
# (to nic1 for direct_afxdp)
#   direct_afxdp:   ep_count's own AF_XDP socket on nic1 (the bound; nic1
#                   is a veth like nic0, free of the hook's program)
#   direct_path_rx: the host-mode sandbox's endpoint through the veth
#                   (nic0 -> xh- -> xdp0 -> AF_XDP; ep_count)
#   path_rx_direct: the same sandbox with its direct sockets
#                   (nic0 -> AF_XDP; ep_count -D)
# one runc container with the real hook (node config: direct "rx"), the
# reader pinned to $RX_CPU, generator and softirq on $GEN_CPU; the
# generator alone (xdp_gen -Z) for net per-frame costs; the keeper's Pss
# with the direct client. In $ROUNDS rounds as run.sh (lib.sh): each round
# every figure once, $TRIALS intervals each; rates the median of all
# intervals, net costs and goal ratios the median of the rounds'.
# Prints "name value" lines and "goal ..." lines (lib.sh goal); samples
# to $SAMPLES (run.sh: its trials.txt). test/bench/run.sh calls it, or run alone:
#   BUILD=$PWD/build test/bench/direct_rx.sh
set -u
. "$(dirname "$0")/lib.sh" direct_rx
OUT="$BUILD/bench"
[ "$(id -u)" = 0 ] || fail "the benchmark needs root"
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs (generator and receiver apart)"
command -v runc >/dev/null || skip "runc is not installed"
for b in "$GEN" "$OUT/ep_count" "$HOOK" "$LOADER"; do
	[ -x "$b" ] || fail "$b is not built (make bench builds it)"
done
weigh_up
declare -A R

# DIRECT_PERF=1: also a perf profile of the generator's CPU (where the
# NIC's receive runs) while the generator runs, $OUT/perf-NAME.data (the
# last round's).
bench_topo
node_config '{"annotations": ["enable", "nic", "mode", "publish"], "direct": "rx"}'
C=xht-$XH_TAG-drx
b=$(bundle_new drx '{"io.xdphook.mode":"host","io.xdphook.nic":"nic0","io.xdphook.publish":"9/udp"}')
ctr_create runc "$C" "$b" || fail "runc create with the hook: $(cat "$XH_TMP/$C.err")"
CTR_NET=/proc/$(ctr_pid runc "$C")/ns/net

ALONE=direct_gen_alone
FIGS="direct_afxdp path_rx_direct direct_path_rx"
for ((r = 1; r <= ROUNDS; r++)); do
	gen_alone $r
	for f in $FIGS; do
		perf=; [ "${DIRECT_PERF:-0}" = 1 ] && perf="$OUT/perf-$f.data"
		args=; [ $f = path_rx_direct ] && args=-D
		GEN_PERF=$perf rx_piece $f $r $args
	done
done
# The keeper's memory with the direct sockets bound on its registration
# of the client's UMEM (mapped only while it registered it).
rx_start path_rx_direct -D
kp=$(jq -r .keeper.pid "/run/xdphook/$C/state.json")
R[keeper_direct_pss_kib]=$(awk '/^Pss:/ {print $2}' "/proc/$kp/smaps_rollup")
stop path_rx_direct
runc_ delete -f "$C" >/dev/null || fail "runc delete"

for f in $ALONE $FIGS; do R[${f}_mpps]=$(all_mpps $f); done
for f in $FIGS; do R[${f}_net_ns]=$(all_net_ns $f); done
for k in direct_gen_alone_mpps direct_afxdp_mpps direct_path_rx_mpps path_rx_direct_mpps \
	 direct_afxdp_net_ns direct_path_rx_net_ns path_rx_direct_net_ns keeper_direct_pss_kib; do
	echo "$k ${R[$k]}"
done
# The goals: path_rx_direct/afxdp_direct >= 0.95, path_rx_direct/path_rx >= 1.5,
# of net rates (per-frame cost beyond the generator's: the inverse ratio).
echo "goal $(goal "path_rx_direct/afxdp_direct(net)" net path_rx_direct direct_afxdp 0.95 ge)"
echo "goal $(goal "path_rx_direct/path_rx(net)" net path_rx_direct direct_path_rx 1.5 ge)"
