#!/bin/bash
# TCP throughput (iperf3, world -> container and back, T seconds each)
# through the hook's fast path with xdp_tap, next to the same container on
# plain veth routing (a veth pair and host routes, no XDP: what CNI ptp
# gives); and the memory of the hook's keeper (Pss).
set -u
: "${BUILD:?}"
T=${T:-10}
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/container.sh"
topo_new

iperf() { # iperf NETNS-PATH ADDR [-R]: Gbit/s received
	local srv
	nsenter --net="$1" iperf3 -s -1 -p 5201 >/dev/null 2>&1 & srv=$!
	for _ in $(seq 60); do [ -n "$(nsenter --net="$1" ss -Hltn 'sport = :5201')" ] && break; sleep 0.05; done
	in_ns world iperf3 -c "$2" -p 5201 -t "$T" -J ${3:-} | jq '.end.sum_received.bits_per_second / 1e9 * 100 | round / 100'
	wait $srv
}

# 1. the hook + xdp_tap
C=xht-$XH_TAG-tap
b=$(bundle_new tap '{"io.xdphook.ips":"10.77.1.5/32","io.xdphook.nic":"nic0"}')
ctr_create runc "$C" "$b" || fail "runc create"
ctr=/proc/$(ctr_pid runc "$C")/ns/net
nsenter --net="$ctr" "$BUILD/xdp_tap" >"$XH_TMP/tap.out" 2>&1 & tap=$!; at_exit "kill $tap"
for _ in $(seq 100); do grep -q ready "$XH_TMP/tap.out" && break; sleep 0.05; done
kp=$(jq -r .keeper.pid "/run/xdphook/$C/state.json")
echo "keeper_pss_kib $(awk '/^Pss:/ {print $2}' "/proc/$kp/smaps_rollup")"
echo "xdp_tap_in_gbps $(iperf "$ctr" 10.77.1.5)"
echo "xdp_tap_out_gbps $(iperf "$ctr" 10.77.1.5 -R)"
kill $tap; runc_ delete -f "$C"

# 2. plain veth routing
ns_new plain
ip link add pl0 netns "$(ns host)" type veth peer name eth0 netns "$(ns plain)"
in_ns host ip link set pl0 up; in_ns plain ip link set eth0 up
in_ns plain ip addr add 10.77.1.6/32 dev eth0
in_ns plain ip route add default via 169.254.1.1 dev eth0 onlink
in_ns host ip addr add 169.254.1.1/32 dev pl0
in_ns host ip route add 10.77.1.6/32 dev pl0
echo "veth_in_gbps $(iperf "/run/netns/$(ns plain)" 10.77.1.6)"
echo "veth_out_gbps $(iperf "/run/netns/$(ns plain)" 10.77.1.6 -R)"
