#!/bin/bash
# Raw receive in netns mode: 64-byte UDP from xdp_gen (world) through the
# node's routing into a CNI ptp pod, read on the pod's eth0
#   netns_afxdp:   by AF_XDP (the hook's endpoint, mode=netns; ep_count)
#   netns_tpacket: by AF_PACKET with a TPACKET_V3 ring (pkt_count), as
#                  runsc reads its interface by default
# both with the pod's addresses taken off its kernel (runsc does that too),
# the reader pinned to $RX_CPU, generator and softirq on $GEN_CPU. Also the
# generator alone (xdp_gen -Z), for net per-frame costs. Prints
# "name value" lines; test/bench/run.sh calls it (NETNS_RX=1) or run alone:
#   BUILD=$PWD/build test/bench/netns_rx.sh
set -u
. "$(dirname "$0")/lib.sh" netns_rx
OUT="$BUILD/bench"
[ "$(id -u)" = 0 ] || fail "the benchmark needs root"
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs (generator and receiver apart)"
for b in "$GEN" "$OUT/ep_count" "$OUT/pkt_count" "$HOOK" "$LOADER"; do
	[ -x "$b" ] || fail "$b is not built (make bench builds it)"
done
cni_check
weigh_up
declare -A R

bench_topo
cni_pod pod
POD_IP=$CNI_ADDR
PEER=$(host_peer pod)
POD_NET=/run/netns/$(ns pod)
# w0's copies need GRO (or an XDP program) on nic0 to be taken; as in
# run.sh's kernel path.
in_ns host ethtool -K nic0 gro on >/dev/null
# ep_count answers no ARP: the node knows the pod's MAC beforehand.
in_ns host ip neigh replace "$POD_IP" lladdr "$(mac_of pod eth0)" dev "$PEER" nud permanent
# The pod's "init", for the hook.
nsenter --net="$POD_NET" sleep 600 &
init=$!
at_exit "kill $init"
echo '{"mode": "netns", "iface": "eth0"}' >"$XH_TMP/node.json"
C=xht-$XH_TAG-nrx
hook() { XDPHOOK_CONFIG="$XH_TMP/node.json" in_ns host "$HOOK" "$@"; }

steady() { # steady NAME: generator for warm-up + $TRIALS s toward the pod
	local name=$1
	gen -q -d $((TRIALS + 2)) -D "$POD_IP" -p 9 || fail "$name: xdp_gen failed"
	stop "$name"
	rates "$XH_TMP/$name" >"$XH_TMP/$name.rates"
	[ "$(wc -l <"$XH_TMP/$name.rates")" = "$TRIALS" ] || fail "$name: too few intervals: $(cat "$XH_TMP/$name")"
	R[${name}_mpps]=$(median <"$XH_TMP/$name.rates")
	log "$name: $(paste -sd' ' "$XH_TMP/$name.rates") Mpps"
}

# 1. The generator alone (its copies dropped before w0 sends them).
in_ns host "$LOADER" -program drop -device nic0 >/dev/null || fail "attach drop to nic0"
out=$(gen -d $((TRIALS + 1)) -D 10.77.0.1 -p 9 -Z) || fail "xdp_gen -Z: $out"
R[netns_gen_alone_mpps]=$(awk '/ pps/ {printf "%.4f", $(NF - 1) / 1e6}' <<<"$out")
in_ns host "$LOADER" -detach -device nic0 >/dev/null || fail "detach drop from nic0"

# 2. AF_XDP: the hook in netns mode, ep_count on its endpoint.
printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":%s}' "$C" "$init" |
	hook createRuntime || fail "createRuntime (netns mode)"
at_exit "echo '{\"id\":\"$C\",\"status\":\"stopped\"}' | XDPHOOK_CONFIG=$XH_TMP/node.json in_ns host $HOOK poststop"
run_consumer netns_afxdp "$POD_NET" "$OUT/ep_count"
steady netns_afxdp
echo "{\"id\":\"$C\",\"status\":\"stopped\"}" | hook poststop || fail "poststop"

# 3. AF_PACKET TPACKET_V3 on the same eth0, its addresses taken off by
# hand as the hook (and runsc) would.
in_ns pod ip addr flush dev eth0
run_consumer netns_tpacket "$POD_NET" "$OUT/pkt_count" -i eth0
steady netns_tpacket

net_ns() { awk -v r="$1" -v g="${R[netns_gen_alone_mpps]}" 'BEGIN {printf "%.1f", (r > 0 && g > r) ? 1e3 / r - 1e3 / g : 0}'; }
R[netns_afxdp_net_ns]=$(net_ns "${R[netns_afxdp_mpps]}")
R[netns_tpacket_net_ns]=$(net_ns "${R[netns_tpacket_mpps]}")
for k in netns_gen_alone_mpps netns_afxdp_mpps netns_tpacket_mpps netns_afxdp_net_ns netns_tpacket_net_ns; do
	echo "$k ${R[$k]}"
done
# The goal (>= 1.0): raw rates, and net ones (per-frame cost beyond the generator's).
awk -v a="${R[netns_afxdp_mpps]}" -v p="${R[netns_tpacket_mpps]}" 'BEGIN {printf "netns_afxdp/tpacket %.3f\n", (p > 0) ? a / p : 0}'
awk -v a="${R[netns_afxdp_net_ns]}" -v p="${R[netns_tpacket_net_ns]}" 'BEGIN {printf "netns_afxdp/tpacket(net) %.3f\n", (a > 0) ? p / a : 0}'
