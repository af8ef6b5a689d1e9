# Shared by the demos (sourced): namespaces named $DEMO-<name>, printed
# steps and commands, and the topology every demo starts from.
ns() { echo "$DEMO-$1"; }
inns() { local n; n=$(ns "$1"); shift; nsenter --net="/run/netns/$n" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" >&2; "$@"; }

# demo_topo: netns host (the node, nic0 10.77.0.1/24) and world (the
# remote peer, w0 10.77.0.2/24, the pod range 10.77.1.0/24 via the node).
demo_topo() {
	for n in host world; do ip netns add "$(ns $n)"; inns $n ip link set lo up
		inns $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
	ip link add nic0 netns "$(ns host)" type veth peer name w0 netns "$(ns world)"
	inns host ip link set nic0 up; inns world ip link set w0 up
	inns host ip addr add 10.77.0.1/24 dev nic0
	inns world ip addr add 10.77.0.2/24 dev w0
	inns host ip route add default via 10.77.0.2
	inns world ip route add 10.77.1.0/24 via 10.77.0.1     # the pod range lives on the node
	inns host sysctl -qw net.ipv4.ip_forward=1
	inns world ethtool -K w0 gro on tx off >/dev/null       # w0 takes XDP frames, sends full checksums
	inns host ping -c 1 -q 10.77.0.2 >/dev/null
}
demo_topo_del() { for n in host world; do ip netns del "$(ns $n)" 2>/dev/null || true; done; }
