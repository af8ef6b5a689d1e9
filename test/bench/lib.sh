# Shared part of the data-path benchmarks run.sh, datapath.sh and capture.sh
# (sourced, after set -u, with the name their log lines start with):
#   . "$(dirname "$0")/lib.sh" NAME
# It sources test/integration/lib.sh and container.sh (namespaces made here,
# removed at exit; $HOOK, $LOADER) and sets HERE (this directory) and the
# knobs they share: TRIALS, GEN_CPU (the generator's CPU), RX_CPU (the
# receivers'), and GEN, PORTS, NICE.
: "${BUILD:?BUILD must point at the build directory}"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_NAME=$1
. "$HERE/../integration/lib.sh"
. "$HERE/../integration/container.sh"

TRIALS=${TRIALS:-5}
GEN_CPU=${GEN_CPU:-0}
RX_CPU=${RX_CPU:-1}
GEN="$BUILD/xdp_gen"
PORTS="-P 10000-10999"          # source ports of the generated flows
# Whatever else runs on the machine gets little of the CPUs we measure on.
NICE="nice -n -20"

log() { echo "$BENCH_NAME: $*" >&2; }

# weigh_up: with autogroup scheduling every session gets an equal CPU share
# and nice counts only inside a session: weigh this session up while we
# measure (the benchmark's processes are also niced), and put it back at exit.
weigh_up() {
	if [ -w /proc/self/autogroup ]; then
		old_nice=$(awk '{print $3}' /proc/self/autogroup)
		echo -20 >/proc/self/autogroup && at_exit "echo $old_nice >/proc/self/autogroup"
	fi
}

# bench_topo: topo_new (nic0 in netns host, w0 in world) and NIC_MAC, nic0's
# address, which gen sends to.
bench_topo() {
	topo_new
	NIC_MAC=$(mac_of host nic0)
}

median() { sort -g | awk '{a[NR]=$1} END {if (!NR) print 0; else print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }

# rates FILE: Mpps over each interval of a progress file ("ns frames ..."
# lines, see bench/bench.h), skipping the first (warm-up), $TRIALS of them.
rates() {
	grep -E '^[0-9]+ [0-9]+' "$1" | awk -v n="$TRIALS" '
		NR > 2 && k < n { printf "%.4f\n", ($2 - f) / (($1 - t) / 1e3); k++ }
		{ t = $1; f = $2 }'
}

# wait_for FILE REGEX [TENTHS]: until REGEX shows up in FILE.
wait_for() {
	for _ in $(seq "${3:-100}"); do grep -Eq "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	fail "timed out waiting for /$2/ in $1: $(tail -3 "$1" 2>/dev/null)"
}

# gen ARGS...: xdp_gen out of w0 toward nic0.
gen() { in_ns world $NICE "$GEN" -i w0 -m "$NIC_MAC" -S 10.77.0.2 -c "$GEN_CPU" $PORTS "$@"; }

# xdp_counter NS DEV VERDICT: packets the xdphook program on DEV counted.
xdp_counter() {
	in_ns "$1" "$LOADER" -status -json |
		jq --arg d "$2" --arg v "$3" '[.[] | select(.this_netns and .device == $d) | .counters[$v].packets] | add // 0'
}

# sample_counter NS DEV VERDICT FILE: progress lines from an XDP counter,
# one a second, for the warm-up and $TRIALS intervals.
sample_counter() {
	local i
	: >"$4"
	for i in $(seq 0 $((TRIALS + 1))); do
		echo "$(date +%s%N) $(xdp_counter "$1" "$2" "$3")" >>"$4"
		[ "$i" -le "$TRIALS" ] && sleep 1
	done
}

# run_consumer NAME NETNS-PATH CMD...: start CMD pinned to $RX_CPU in that
# netns with its progress going to $XH_TMP/NAME; waits for "ready".
run_consumer() {
	local name=$1 netns=$2; shift 2
	nsenter --net="$netns" $NICE taskset -c "$RX_CPU" "$@" >"$XH_TMP/$name" 2>&1 &
	eval "PID_$name=$!"
	at_exit "kill $! 2>/dev/null"
	wait_for "$XH_TMP/$name" '^ready'
}
# stop NAME: the consumer run_consumer started as NAME.
stop() { local p; p=$(eval echo "\$PID_$1"); kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; }

# blast NETNS-PATH FILE ARGS...: $OUT/ep_blast ARGS pinned to $GEN_CPU in
# that netns (the sender's side runs on the generator's CPU, as in the
# receive figures), its output to FILE; waits for "ready". Its pid: bl.
blast() {
	local netns=$1 file=$2; shift 2
	nsenter --net="$netns" $NICE taskset -c "$GEN_CPU" "$OUT/ep_blast" "$@" >"$file" 2>&1 & bl=$!
	at_exit "kill $bl 2>/dev/null"
	wait_for "$file" '^ready'
}

# path_ctr: the hook's path to a sandbox: runc container C (10.77.1.5 on
# nic0) with the hook; CTR_NET: its netns.
path_ctr() {
	local b
	C=xht-$XH_TAG-bench
	b=$(bundle_new bench '{"io.xdphook.ips":"10.77.1.5/32","io.xdphook.nic":"nic0"}')
	ctr_create runc "$C" "$b" || fail "runc create with the hook: $(cat "$XH_TMP/$C.err")"
	CTR_NET=/proc/$(ctr_pid runc "$C")/ns/net
}

# dnat_ns NAME PROTO PORT TO-PORT: netns NAME behind the host's DNAT, the
# docker -p way: veth dn0 (host, 172.31.0.1/24) to eth0 (NAME, 172.31.0.2/24,
# default route via the host), nic0's PROTO PORT -> 172.31.0.2:TO-PORT.
dnat_ns() {
	ns_new "$1"
	ip link add dn0 netns "$(ns host)" type veth peer name eth0 netns "$(ns "$1")"
	in_ns host ip link set dn0 up; in_ns "$1" ip link set eth0 up
	in_ns host ip addr add 172.31.0.1/24 dev dn0
	in_ns "$1" ip addr add 172.31.0.2/24 dev eth0
	in_ns "$1" ip route add default via 172.31.0.1
	in_ns host iptables -t nat -A PREROUTING -i nic0 -p "$2" --dport "$3" -j DNAT --to-destination "172.31.0.2:$4" ||
		fail "iptables DNAT"
}

# kernel_tx_start NAME: the kernel's transmit path of a container
# (kernel_tx): the host SNATs netns NAME (made by dnat_ns) out of nic0, w0's
# neighbour entry is permanent (w0's XDP_DROP would eat the ARP probes).
kernel_tx_start() {
	in_ns host iptables -t nat -A POSTROUTING -o nic0 -s 172.31.0.0/24 -j MASQUERADE || fail "iptables SNAT"
	in_ns host ip neigh replace 10.77.0.2 lladdr "$(mac_of world w0)" dev nic0 nud permanent
}
# udp_blast NAME: $OUT/udp_blast in netns NAME toward w0, pinned to
# $GEN_CPU as path_tx's sender; waits for "ready". Its pid: bl.
udp_blast() {
	nsenter --net="/run/netns/$(ns "$1")" $NICE taskset -c "$GEN_CPU" "$OUT/udp_blast" -D 10.77.0.2 -p 9 \
		>"$XH_TMP/udp_blast" 2>&1 & bl=$!
	at_exit "kill $bl 2>/dev/null"
	wait_for "$XH_TMP/udp_blast" '^ready'
}

# xh_dev: the name of the host side (xh-...) of the container's veth pair.
xh_dev() { in_ns host ip -j link show | jq -r '.[] | select(.ifname | startswith("xh-")) | .ifname' | head -1; }
