#!/bin/bash
# Host mode's receive with `direct` (the sandbox's sockets on the NIC's own
# RX queues) next to the paths it is measured against, in one run, on the
# same CPUs: 64-byte UDP from xdp_gen (world) to a published port of nic0
#   direct_afxdp:   ep_count's own AF_XDP socket on nic0 (the bound)
#   direct_path_rx: the host-mode sandbox's endpoint through the veth
#                   (nic0 -> xh- -> xdp0 -> AF_XDP; ep_count)
#   path_rx_direct: the same sandbox with its direct sockets
#                   (nic0 -> AF_XDP; ep_count -D)
# one runc container with the real hook (node config: direct "rx"), the
# reader pinned to $RX_CPU, generator and softirq on $GEN_CPU; the
# generator alone (xdp_gen -Z) for net per-frame costs; the keeper's Pss
# with the direct client. Prints "name value" lines; test/bench/run.sh calls it, or run alone:
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
# NIC's receive runs) while the generator runs, $OUT/perf-NAME.data.
steady() { # steady NAME: generator for warm-up + $TRIALS s to nic0's published port
	local name=$1 perf=()
	[ "${DIRECT_PERF:-0}" = 1 ] && perf=(perf record -q -C "$GEN_CPU" -o "$OUT/perf-$name.data" --)
	"${perf[@]}" nsenter --net="/run/netns/$(ns world)" $NICE "$GEN" -i w0 -m "$NIC_MAC" -S 10.77.0.2 \
		-c "$GEN_CPU" $PORTS -q -d $((TRIALS + 2)) -D 10.77.0.1 -p 9 || fail "$name: xdp_gen failed"
	stop "$name"
	rates "$XH_TMP/$name" >"$XH_TMP/$name.rates"
	[ "$(wc -l <"$XH_TMP/$name.rates")" = "$TRIALS" ] || fail "$name: too few intervals: $(cat "$XH_TMP/$name")"
	R[${name}_mpps]=$(median <"$XH_TMP/$name.rates")
	log "$name: $(paste -sd' ' "$XH_TMP/$name.rates") Mpps"
}

bench_topo

# 1. The generator alone (its copies dropped before w0 sends them).
in_ns host "$LOADER" -program drop -device nic0 >/dev/null || fail "attach drop to nic0"
out=$(gen -d $((TRIALS + 1)) -D 10.77.0.1 -p 9 -Z) || fail "xdp_gen -Z: $out"
R[direct_gen_alone_mpps]=$(awk '/ pps/ {printf "%.4f", $(NF - 1) / 1e6}' <<<"$out")
in_ns host "$LOADER" -detach -device nic0 >/dev/null || fail "detach drop from nic0"

# 2. AF_XDP straight on nic0.
run_consumer direct_afxdp "/run/netns/$(ns host)" "$OUT/ep_count" -i nic0
steady direct_afxdp

# 3. The host-mode sandbox, through the veth, then with its direct sockets.
node_config '{"annotations": ["enable", "nic", "mode", "publish"], "direct": "rx"}'
C=xht-$XH_TAG-drx
b=$(bundle_new drx '{"io.xdphook.mode":"host","io.xdphook.nic":"nic0","io.xdphook.publish":"9/udp"}')
ctr_create runc "$C" "$b" || fail "runc create with the hook: $(cat "$XH_TMP/$C.err")"
CTR_NET=/proc/$(ctr_pid runc "$C")/ns/net
run_consumer direct_path_rx "$CTR_NET" "$OUT/ep_count"
steady direct_path_rx
run_consumer path_rx_direct "$CTR_NET" "$OUT/ep_count" -D
steady path_rx_direct
# The keeper's memory with the direct sockets bound on its registration
# of the client's UMEM (mapped only while it registered it).
kp=$(jq -r .keeper.pid "/run/xdphook/$C/state.json")
R[keeper_direct_pss_kib]=$(awk '/^Pss:/ {print $2}' "/proc/$kp/smaps_rollup")
runc_ delete -f "$C" >/dev/null || fail "runc delete"

net_ns() { awk -v r="$1" -v g="${R[direct_gen_alone_mpps]}" 'BEGIN {printf "%.1f", (r > 0 && g > r) ? 1e3 / r - 1e3 / g : 0}'; }
for f in direct_afxdp direct_path_rx path_rx_direct; do R[${f}_net_ns]=$(net_ns "${R[${f}_mpps]}"); done
for k in direct_gen_alone_mpps direct_afxdp_mpps direct_path_rx_mpps path_rx_direct_mpps \
	 direct_afxdp_net_ns direct_path_rx_net_ns path_rx_direct_net_ns keeper_direct_pss_kib; do
	echo "$k ${R[$k]}"
done
# The goals: path_rx_direct/afxdp_direct >= 0.95, path_rx_direct/path_rx >= 1.5,
# raw and net (per-frame cost beyond the generator's: the inverse ratio).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (b > 0) ? a / b : 0}'; }
echo "path_rx_direct/afxdp_direct $(ratio "${R[path_rx_direct_mpps]}" "${R[direct_afxdp_mpps]}")"
echo "path_rx_direct/path_rx $(ratio "${R[path_rx_direct_mpps]}" "${R[direct_path_rx_mpps]}")"
echo "path_rx_direct/afxdp_direct(net) $(ratio "${R[direct_afxdp_net_ns]}" "${R[path_rx_direct_net_ns]}")"
echo "path_rx_direct/path_rx(net) $(ratio "${R[direct_path_rx_net_ns]}" "${R[path_rx_direct_net_ns]}")"
