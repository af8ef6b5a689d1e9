#!/bin/bash
# A guided run of xdp_loader on veths in throw-away network namespaces:
#   a --- [h: redirect cable] --- b
# Everything made here is removed at exit, even on failure.
set -eu
BUILD=${BUILD:-build}
L=$(realpath "$BUILD/xdp_loader")
tag=$$
A=da$tag HA=dha$tag HB=dhb$tag B=db$tag
ns() { echo "xdpdemo-$tag-$1"; }
inns() { local n; n=$(ns "$1"); shift; nsenter --net="/run/netns/$n" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
cleanup() {
	inns h "$L" -detach -device "$HA" 2>/dev/null || true
	inns h "$L" -detach -device "$HB" 2>/dev/null || true
	inns b "$L" -detach -device "$B" 2>/dev/null || true
	for n in a h b; do ip netns del "$(ns $n)" 2>/dev/null || true; done
}
trap cleanup EXIT

step "Three namespaces: a and b, joined only through h (no addresses, no forwarding in h)"
for n in a h b; do
	ip netns add "$(ns $n)"
	inns $n ip link set lo up
	inns $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1
done
ip link add "$A" netns "$(ns a)" type veth peer name "$HA" netns "$(ns h)"
ip link add "$B" netns "$(ns b)" type veth peer name "$HB" netns "$(ns h)"
for d in "a $A" "h $HA" "h $HB" "b $B"; do set -- $d; inns "$1" ip link set "$2" up; done
inns a ip addr add 10.253.0.1/24 dev "$A"
inns b ip addr add 10.253.0.2/24 dev "$B"
inns a ethtool -K "$A" tx off >/dev/null
inns b ethtool -K "$B" tx off >/dev/null
run inns a ping -c 1 -W 1 10.253.0.2 || echo "(no path yet, as expected)"

step "Redirect needs a target that can transmit XDP frames: refused while $B has no GRO"
run inns h "$L" -redirect "$HA" "$HB" || true
inns a ethtool -K "$A" gro on >/dev/null
inns b ethtool -K "$B" gro on >/dev/null
step "With GRO on the far ends, a devmap cable both ways"
run inns h "$L" -redirect "$HA" "$HB"
run inns h "$L" -redirect "$HB" "$HA"
run inns a ping -c 3 -i 0.2 10.253.0.2
run inns h "$L" -status

step "tcpdump over AF_XDP on $B: 4 frames, then it detaches by itself"
inns b "$L" -program tcpdump -device "$B" -count 4 &
cap=$!
for _ in $(seq 50); do inns b ip link show "$B" | grep -q prog/xdp && break; sleep 0.1; done
inns a ping -c 4 -i 0.2 -W 1 -q 10.253.0.2 >/dev/null || true
wait $cap
run inns b ip link show "$B"

step "drop on $B: ping fails; detach restores it"
run inns b "$L" -program drop -device "$B"
run inns a ping -c 2 -i 0.2 -W 1 10.253.0.2 || echo "(dropped by XDP, as expected)"
run inns b "$L" -status
run inns b "$L" -detach -device "$B"
run inns a ping -c 2 -i 0.2 10.253.0.2
step "done; cleaning up"
