# Shared part of the data-path benchmarks run.sh, datapath.sh and capture.sh
# (sourced, after set -u, with the name their log lines start with):
#   . "$(dirname "$0")/lib.sh" NAME
# It sources test/integration/lib.sh and container.sh (namespaces made here,
# removed at exit; $HOOK, $LOADER) and sets HERE (this directory) and the
# knobs they share: TRIALS (one-second intervals per figure or piece),
# ROUNDS (where a script measures in rounds), GEN_CPU (the generator's
# CPU), RX_CPU (the receivers'), and GEN, PORTS, NICE.
: "${BUILD:?BUILD must point at the build directory}"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_NAME=$1
. "$HERE/../integration/lib.sh"
. "$HERE/../integration/container.sh"

TRIALS=${TRIALS:-5}
ROUNDS=${ROUNDS:-3}
GEN_CPU=${GEN_CPU:-0}
RX_CPU=${RX_CPU:-1}
GEN="$BUILD/xdp_gen"
PORTS="-P 10000-10999"          # source ports of the generated flows
# Whatever else runs on the machine gets little of the CPUs we measure on.
NICE="nice -n -20"

log() { echo "$BENCH_NAME: [${SECONDS}s] $*" >&2; }

# weigh_up: with autogroup scheduling every session gets an equal CPU share
# and nice counts only inside a session: weigh this session up while we
# measure (the benchmark's processes are also niced), and put it back at exit.
weigh_up() {
	if [ -w /proc/self/autogroup ]; then
		old_nice=$(awk '{print $3}' /proc/self/autogroup)
		echo -20 >/proc/self/autogroup && at_exit "echo $old_nice >/proc/self/autogroup"
	fi
}

# bench_topo: topo_new (nic0 in netns host, w0 in world: the hook's NIC)
# and a second pair of the same kind, nic1 (10.77.8.1/24) - w1 (10.77.8.2/24),
# where the bare mechanisms and the kernel's receive paths run while the
# hook's container stays up on nic0 (rx_start). NIC_MAC: nic0's address.
bench_topo() {
	topo_new
	veth_new nic1 host w1 world
	in_ns host ip addr add 10.77.8.1/24 dev nic1
	in_ns world ip addr add 10.77.8.2/24 dev w1
	veth_xdp_ready world w1
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

# gen ARGS...: xdp_gen out of wN toward $NIC (nicN: nic0 unless set), from
# world's address on that pair (10.77.0.2, 10.77.8.2: rp_filter). With
# GEN_PERF=FILE under perf record of the generator's CPU. gen_argv ARGS...:
# that command line in GEN_ARGV, to start it in the background ("${GEN_ARGV[@]}" &:
# its pid is xdp_gen's, or perf's).
NIC=nic0
gen_argv() {
	local n=${NIC#nic} src=10.77.0.2
	[ "$NIC" = nic1 ] && src=10.77.8.2
	GEN_ARGV=()
	[ -n "${GEN_PERF:-}" ] && GEN_ARGV=(perf record -q -C "$GEN_CPU" -o "$GEN_PERF" --)
	GEN_ARGV+=(nsenter --net="/run/netns/$(ns world)" $NICE "$GEN" -i "w$n" -m "$(mac_of host "$NIC")"
		   -S "$src" -c "$GEN_CPU" $PORTS "$@")
}
gen() { gen_argv "$@" && "${GEN_ARGV[@]}"; }

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
	at_exit "bg_kill $!"
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
	at_exit "bg_kill $bl"
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

# dnat_ns NAME PROTO PORT TO-PORT [NIC]: netns NAME behind the host's DNAT,
# the docker -p way: veth dn0 (host, 172.31.0.1/24) to eth0 (NAME,
# 172.31.0.2/24, default route via the host), NIC's (nic0's) PROTO PORT ->
# 172.31.0.2:TO-PORT.
dnat_ns() {
	ns_new "$1"
	ip link add dn0 netns "$(ns host)" type veth peer name eth0 netns "$(ns "$1")"
	in_ns host ip link set dn0 up; in_ns "$1" ip link set eth0 up
	in_ns host ip addr add 172.31.0.1/24 dev dn0
	in_ns "$1" ip addr add 172.31.0.2/24 dev eth0
	in_ns "$1" ip route add default via 172.31.0.1
	in_ns host iptables -t nat -A PREROUTING -i "${5:-nic0}" -p "$2" --dport "$3" -j DNAT \
		--to-destination "172.31.0.2:$4" || fail "iptables DNAT"
}

# xh_dev: the name of the host side (xh-...) of the container's veth pair.
xh_dev() { in_ns host ip -j link show | jq -r '.[] | select(.ifname | startswith("xh-")) | .ifname' | head -1; }

# ---- figures as pieces ------------------------------------------------------
# Each data-path figure is a piece that can run again and again in one
# topology (run.sh measures them in rounds, datapath.sh in any order): the
# hook's container stays up on nic0 while the bare mechanisms and the
# kernel's receive paths take their turn on nic1, from the same generator.
# What a figure needs beyond its piece (netns, veths, the container) is
# made the first time; the namespaces' cleanup removes it.

# rx_start FIGURE [EP_COUNT-ARGS...]: FIGURE's consumer running (named
# FIGURE, see run_consumer), NIC and RX_GEN (the generator's arguments) set:
#   afxdp_direct     ep_count's own AF_XDP socket on nic1 (direct_rx.sh:
#                    direct_afxdp)
#   path_rx_bare     path_rx's three hops with minimal programs: nic1 ->
#                    devmap redirect (xdp_loader -redirect) -> veth vb0 ->
#                    vb1 (netns bare) -> XSKMAP (ep_count -i) -> AF_XDP
#   path_rx          the hook's path: nic0 -> xh- -> xdp0 -> AF_XDP endpoint
#                    (ep_count) in the runc container of path_ctr
#   kernel_dnat      docker -p: DNAT on the host -> veth -> UDP socket
#                    (udp_count, recvmmsg) in netns dnat
#   kernel_bpf_peer  Cilium's BPF host routing (veth form; this kernel has
#                    no CONFIG_NETKIT): tc ingress on nic1
#                    (bpf/tc_peer.bpf.c) bpf_redirect_peer() into the pod's
#                    veth, a UDP socket in the pod (netns peer)
# The kernel paths take the generator's XDP frames as skbs: GRO on nic1,
# no XDP program there, during their piece. rx_end FIGURE: after the
# consumer stopped, nic1 bare again.
rx_start() {
	local f=$1; shift
	NIC=nic1 RX_GEN="-D 10.77.1.5 -p 9"
	case $f in
	afxdp_direct|direct_afxdp)
		run_consumer $f "/run/netns/$(ns host)" "$OUT/ep_count" -i nic1 "$@"
		RX_GEN="-D 10.77.8.1 -p 9" ;;
	path_rx_bare)
		if [ -z "${BARE_UP:-}" ]; then
			ns_new bare
			veth_new vb0 host vb1 bare
			BARE_UP=1
		fi
		# The consumer first: vb1 must have an XDP program before frames
		# are redirected into vb0 (xdp_loader checks).
		run_consumer $f "/run/netns/$(ns bare)" "$OUT/ep_count" -i vb1 "$@"
		in_ns host "$LOADER" -redirect nic1 vb0 >/dev/null || fail "redirect nic1 -> vb0" ;;
	path_rx)
		[ -n "${CTR_NET:-}" ] || path_ctr
		NIC=nic0
		run_consumer $f "$CTR_NET" "$OUT/ep_count" "$@" ;;
	direct_path_rx|path_rx_direct)
		# direct_rx.sh: its host-mode sandbox (CTR_NET) to nic0's published
		# port, through the veth, or on its direct sockets (ep_count -D).
		NIC=nic0 RX_GEN="-D 10.77.0.1 -p 9"
		run_consumer $f "$CTR_NET" "$OUT/ep_count" "$@" ;;
	kernel_dnat)
		[ -n "${DNAT_UP:-}" ] || { dnat_ns dnat udp 8080 80 nic1; DNAT_UP=1; }
		in_ns host ethtool -K nic1 gro on >/dev/null
		run_consumer $f "/run/netns/$(ns dnat)" "$OUT/udp_count" -p 80
		RX_GEN="-D 10.77.8.1 -p 8080" ;;
	kernel_bpf_peer)
		[ -n "${PEER_PIN:-}" ] || peer_ns
		in_ns host ethtool -K nic1 gro on >/dev/null
		in_ns host tc qdisc add dev nic1 clsact &&
			in_ns host tc filter add dev nic1 ingress bpf direct-action object-pinned "$PEER_PIN" ||
			fail "tc bpf_redirect_peer on nic1"
		run_consumer $f "/run/netns/$(ns peer)" "$OUT/udp_count" -p 9 ;;
	*) fail "no receive figure $f" ;;
	esac
}
rx_end() {
	case $1 in
	path_rx_bare) in_ns host "$LOADER" -detach -device nic1 >/dev/null || fail "detach the redirect from nic1" ;;
	kernel_bpf_peer) in_ns host tc qdisc del dev nic1 clsact || fail "remove tc from nic1" ;&
	kernel_dnat) in_ns host ethtool -K nic1 gro off >/dev/null ;;
	esac
}

# peer_ns: kernel_bpf_peer's pod, netns peer: veth pr0 (host) - eth0
# (peer, 10.77.1.5, nic1's MAC: the frames' destination, which Cilium
# rewrites), tc_peer.bpf.o loaded at PEER_PIN aiming at pr0.
peer_ns() {
	ns_new peer
	veth_new pr0 host eth0 peer
	in_ns peer ip link set eth0 address "$(mac_of host nic1)"
	in_ns peer ip addr add 10.77.1.5/32 dev eth0
	in_ns peer ip route add default dev eth0
	PEER_PIN=/sys/fs/bpf/xdphook-bench-$XH_TAG
	at_exit "rm -rf $PEER_PIN $PEER_PIN-maps"
	bpftool prog load "$BUILD/bpf/tc_peer.bpf.o" "$PEER_PIN" type classifier pinmaps "$PEER_PIN-maps" ||
		fail "load tc_peer.bpf.o"
	local pr0; pr0=$(ip -n "$(ns host)" -j link show dev pr0 | jq -r '.[0].ifindex')
	bpftool map update pinned "$PEER_PIN-maps/peer_ifindex" key hex 00 00 00 00 \
		value hex $(printf '%08x' "$pr0" | sed 's/\(..\)\(..\)\(..\)\(..\)/\4 \3 \2 \1/') || fail "peer_ifindex"
}

# tx_start FIGURE [EP_BLAST-ARGS...]: FIGURE's sender running on $GEN_CPU
# (pid bl, output $XH_TMP/FIGURE.out), XDP_DROP attached where it is counted:
# TX_NS TX_DEV.
#   path_tx        ep_blast on the container's endpoint -> xdp0 -> xh- (fast
#                  path) -> nic0 -> w0
#   afxdp_tx_bare  path_tx's bare mechanism: ep_blast's own copy-mode AF_XDP
#                  socket on a veth, tb0 (host) -> tb1 (world)
#   kernel_tx      the kernel's transmit path a container has today:
#                  udp_blast (sendmmsg) in netns dnat -> veth -> forward +
#                  SNAT -> nic0 -> w0. w0's neighbour entry is permanent
#                  (its XDP_DROP would eat the ARP probes).
# tx_end FIGURE: the sender stopped (fails if it died), the XDP_DROP off.
tx_start() {
	local f=$1; shift
	TX_NS=world TX_DEV=w0
	case $f in
	path_tx)
		[ -n "${CTR_NET:-}" ] || path_ctr
		attach_drop
		blast "$CTR_NET" "$XH_TMP/$f.out" -D 10.77.0.2 -p 9 "$@" ;;
	afxdp_tx_bare)
		[ -n "${TB_UP:-}" ] || { veth_new tb0 host tb1 world; TB_UP=1; }
		TX_DEV=tb1
		attach_drop
		blast "/run/netns/$(ns host)" "$XH_TMP/$f.out" -i tb0 -m "$(mac_of world tb1)" -D 10.77.0.2 -p 9 "$@" ;;
	kernel_tx)
		[ -n "${DNAT_UP:-}" ] || { dnat_ns dnat udp 8080 80 nic1; DNAT_UP=1; }
		if [ -z "${SNAT_UP:-}" ]; then
			in_ns host iptables -t nat -A POSTROUTING -o nic0 -s 172.31.0.0/24 -j MASQUERADE || fail "iptables SNAT"
			in_ns host ip neigh replace 10.77.0.2 lladdr "$(mac_of world w0)" dev nic0 nud permanent
			SNAT_UP=1
		fi
		attach_drop
		nsenter --net="/run/netns/$(ns dnat)" $NICE taskset -c "$GEN_CPU" "$OUT/udp_blast" -D 10.77.0.2 -p 9 \
			>"$XH_TMP/$f.out" 2>&1 & bl=$!
		at_exit "bg_kill $bl"
		wait_for "$XH_TMP/$f.out" '^ready' ;;
	*) fail "no transmit figure $f" ;;
	esac
}
attach_drop() { in_ns $TX_NS "$LOADER" -program drop -device $TX_DEV >/dev/null || fail "attach drop to $TX_DEV"; }
tx_end() {
	case $(ps -o stat= -p "$bl") in
	''|Z*) fail "$1: the sender died: $(tail -3 "$XH_TMP/$1.out")" ;;
	esac
	kill "$bl"; wait "$bl" 2>/dev/null
	in_ns $TX_NS "$LOADER" -detach -device $TX_DEV >/dev/null || fail "detach drop from $TX_DEV"
}

# ---- rounds -----------------------------------------------------------------
# M[FIGURE:ROUND]: FIGURE's rate in ROUND, the median of its $TRIALS
# intervals; every interval also goes to $XH_TMP/FIGURE.all and, labelled
# with its round, to $SAMPLES (stderr unless set).
declare -A M
SAMPLES=${SAMPLES:-/dev/stderr}
record() { # record FIGURE ROUND: from the progress lines in $XH_TMP/FIGURE
	local f=$1 r=$2
	rates "$XH_TMP/$f" >"$XH_TMP/$f.rates"
	[ "$(wc -l <"$XH_TMP/$f.rates")" = "$TRIALS" ] ||
		fail "$f (round $r): too few intervals, the consumer died? $(tail -3 "$XH_TMP/$f")"
	M[$f:$r]=$(median <"$XH_TMP/$f.rates")
	cat "$XH_TMP/$f.rates" >>"$XH_TMP/$f.all"
	echo "${f}_mpps round$r $(paste -sd' ' "$XH_TMP/$f.rates")" >>"$SAMPLES"
}
# rx_piece FIGURE ROUND [EP_COUNT-ARGS...]: FIGURE once (see rx_start): the
# generator for the warm-up and $TRIALS seconds, then its consumer stopped.
rx_piece() {
	local f=$1 r=$2; shift 2
	rx_start "$f" "$@"
	gen -q -d $((TRIALS + 2)) $RX_GEN || fail "$f (round $r): xdp_gen failed"
	stop "$f"
	rx_end "$f"
	record "$f" "$r"
}
# tx_piece FIGURE ROUND: FIGURE once (see tx_start), counted for the
# warm-up and $TRIALS seconds.
tx_piece() {
	tx_start "$1"
	sleep 0.5
	sample_counter $TX_NS $TX_DEV drop "$XH_TMP/$1"
	tx_end "$1"
	record "$1" "$2"
}
# gen_alone ROUND: the generator alone, M[$ALONE:ROUND]: its copies made
# and dropped before w1 sends them (xdp_gen -Z; nic1 has an XDP program,
# without which w1 takes no XDP frames and the devmap makes no copies).
# Every receive figure also pays this per frame on the generator's CPU.
ALONE=gen_alone
gen_alone() {
	local out
	in_ns host "$LOADER" -program drop -device nic1 >/dev/null || fail "attach drop to nic1"
	out=$(NIC=nic1 gen -d $((TRIALS + 1)) -D 10.77.8.1 -p 9 -Z) || fail "gen_alone: xdp_gen failed: $out"
	in_ns host "$LOADER" -detach -device nic1 >/dev/null || fail "detach drop from nic1"
	M[$ALONE:$1]=$(awk '/ pps/ {printf "%.4f", $(NF - 1) / 1e6}' <<<"$out")
	[ -n "${M[$ALONE:$1]}" ] || fail "gen_alone: no rate in: $out"
	echo "${M[$ALONE:$1]}" >>"$XH_TMP/$ALONE.all"
	echo "${ALONE}_mpps round$1 ${M[$ALONE:$1]}" >>"$SAMPLES"
}
# drop_piece FIGURE ROUND GEN-ARGS...: XDP_DROP on nic1 counts what the
# generator sends (run.sh: limit_drop, gen_reference).
drop_piece() {
	local f=$1 r=$2 g; shift 2
	in_ns host "$LOADER" -program drop -device nic1 >/dev/null || fail "attach drop to nic1"
	NIC=nic1 gen_argv -q -d $((TRIALS + 3)) -D 10.77.8.1 -p 9 "$@"
	"${GEN_ARGV[@]}" & g=$!
	at_exit "bg_kill $g"
	sleep 0.5
	sample_counter host nic1 drop "$XH_TMP/$f"
	wait $g || fail "$f (round $r): xdp_gen failed"
	in_ns host "$LOADER" -detach -device nic1 >/dev/null || fail "detach drop from nic1"
	record "$f" "$r"
}

# net_ns RATE GEN-RATE: a figure's net cost per frame on the generator's
# CPU, what it costs beyond making the frame: 1/rate - 1/gen_alone, in ns.
net_ns() { awk -v r="$1" -v g="$2" 'BEGIN {printf "%.1f", (r > 0 && g > r) ? 1e3 / r - 1e3 / g : 0}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (b > 0) ? a / b : 0}'; }
# The figures over all rounds: FIGURE's rate, the median of all its
# intervals; its net cost, the median of its rounds' (each with that
# round's gen_alone).
all_mpps() { median <"$XH_TMP/$1.all" | awk '{printf "%.4f", $1}'; }
all_net_ns() {
	local r
	for ((r = 1; r <= ROUNDS; r++)); do net_ns "${M[$1:$r]}" "${M[$ALONE:$r]}"; echo; done | median
}
# goal LABEL KIND A B TARGET DIR: a goal line (run.sh's table) from the
# rounds: A over B in each round, of the rates (KIND raw) or of the net
# rates (net: B's net ns over A's); their median, TARGET, DIR (ge, le),
# min, max, and every round's (comma-separated).
goal() {
	local r v
	v=$(for ((r = 1; r <= ROUNDS; r++)); do
		case $2 in
		raw) ratio "${M[$3:$r]}" "${M[$4:$r]}" ;;
		net) ratio "$(net_ns "${M[$4:$r]}" "${M[$ALONE:$r]}")" "$(net_ns "${M[$3:$r]}" "${M[$ALONE:$r]}")" ;;
		esac
		echo
	done)
	echo "$1 $(median <<<"$v") $5 $6 $(sort -g <<<"$v" | sed -n '1p;$p' | paste -sd' ') $(paste -sd, <<<"$v")"
}
