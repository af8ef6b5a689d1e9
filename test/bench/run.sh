#!/bin/bash
# make bench: one run, every figure of DESIGN.md "Benchmark", as a table,
# $BUILD/bench/results.json and $BUILD/bench/results.png.
#
# Traffic: build/xdp_gen in netns world pushes 64-byte UDP (IPv4, 1000
# source ports; AF_PACKET seeds multiplied 32 times by a devmap broadcast,
# see bench/xdp_gen.c) out of w0 into nic0, pinned to CPU $GEN_CPU; whatever
# receives (consumer, capture tool, UDP socket) is pinned to CPU $RX_CPU.
# On veths the receive path of nic0 runs in softirq on the sender's CPU, so
# the "NIC" side of every figure shares the generator's CPU: compare the
# figures with each other (the ratios), not with hardware.
#
# Each throughput figure is the median of $TRIALS one-second intervals of
# one steady run; each capture figure the median of $TRIALS searches for
# the highest rate captured without loss. The samples behind each figure
# go to $BUILD/bench/trials.txt, every capture trial to capture.log.
# Everything runs in namespaces made here (test/integration/lib.sh),
# removed at exit.
set -u
. "$(dirname "$0")/lib.sh" bench
OUT="$BUILD/bench"

[ "$(id -u)" = 0 ] || fail "the benchmark needs root"
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs (generator and receiver apart)"
for t in runc tcpdump capinfos iptables gnuplot jq taskset bpftool tc; do
	command -v $t >/dev/null || skip "$t is not installed"
done
for b in "$GEN" "$OUT/ep_count" "$OUT/ep_blast" "$OUT/udp_count" "$OUT/udp_blast" "$HOOK" "$LOADER"; do
	[ -x "$b" ] || fail "$b is not built (make bench builds it)"
done
mkdir -p "$OUT"
: >"$OUT/trials.txt"
weigh_up

# ---- helpers (and those of lib.sh) ------------------------------------------

# steady NAME [GEN ARGS...]: run the generator for the warm-up plus $TRIALS
# seconds while consumer NAME reports; R[NAME_mpps] = its median rate.
steady() {
	local name=$1; shift
	gen -q -d $((TRIALS + 2)) "$@" || fail "$name: xdp_gen failed"
	stop "$name"
	rates "$XH_TMP/$name" >"$XH_TMP/$name.rates"
	[ "$(wc -l <"$XH_TMP/$name.rates")" = "$TRIALS" ] || fail "$name: too few intervals: $(cat "$XH_TMP/$name")"
	R[${name}_mpps]=$(median <"$XH_TMP/$name.rates")
	samples "$name"
}
# samples NAME: the samples behind a figure, for trials.txt.
samples() { echo "${1}_mpps $(paste -sd' ' "$XH_TMP/$1.rates")" >>"$OUT/trials.txt"; }
# tx_figure NAME NS DEV PID: sender PID runs; what it sends is counted
# by XDP_DROP on DEV in netns NS: R[NAME_mpps]; then the sender stops.
tx_figure() {
	local name=$1
	sleep 0.5
	sample_counter "$2" "$3" drop "$XH_TMP/$name"
	kill "$4"; wait "$4" 2>/dev/null
	rates "$XH_TMP/$name" >"$XH_TMP/$name.rates"
	R[${name}_mpps]=$(median <"$XH_TMP/$name.rates")
	samples "$name"
}

# ---- topology ---------------------------------------------------------------

log "topology"
bench_topo
declare -A R   # results
# take SCRIPT FILE KEY...: R[KEY] from the "KEY VALUE" lines SCRIPT wrote to FILE.
take() {
	local script=$1 file=$2 k
	shift 2
	for k in "$@"; do
		R[$k]=$(awk -v k="$k" '$1 == k {print $2}' "$file")
		[ -n "${R[$k]}" ] || fail "$script printed no $k: $(cat "$file")"
	done
}

# 1. The limit: XDP_DROP on the NIC. It is the generator's own ceiling
# too (every other figure's traffic comes from the same generator):
# limit_drop with the per-copy rewrite the figures use, gen_reference the
# bare fan-out (xdp_gen -R: AF_PACKET seeds, 32-way devmap broadcast,
# copies unchanged), in the same minute.
# drop_figure NAME GEN-ARGS...: XDP_DROP on nic0 counts what arrives.
drop_figure() {
	local name=$1 g; shift
	log "$name: XDP_DROP on nic0 (xdp_gen $*)"
	in_ns host "$LOADER" -program drop -device nic0 >/dev/null || fail "attach drop to nic0"
	gen -q -d $((TRIALS + 3)) -D 10.77.0.1 -p 9 "$@" & g=$!
	sleep 0.5
	sample_counter host nic0 drop "$XH_TMP/$name"
	wait $g || fail "$name: xdp_gen failed"
	rates "$XH_TMP/$name" >"$XH_TMP/$name.rates"
	R[${name}_mpps]=$(median <"$XH_TMP/$name.rates")
	samples "$name"
	in_ns host "$LOADER" -detach -device nic0 >/dev/null || fail "detach drop from nic0"
}
drop_figure limit_drop
drop_figure gen_reference -R

# 1b. The generator alone: every copy made and dropped before w0 sends it
# (xdp_gen -Z; nic0 keeps an XDP program, without which w0 takes no XDP
# frames and the devmap makes no copies). Every generator-driven figure
# also pays this per frame on the generator's CPU; its net cost is
# 1/rate - 1/gen_alone. One figure: the generator's own average.
log "gen_alone: xdp_gen -Z (copies made, then dropped)"
in_ns host "$LOADER" -program drop -device nic0 >/dev/null || fail "attach drop to nic0"
out=$(gen -d $((TRIALS + 1)) -D 10.77.0.1 -p 9 -Z) || fail "gen_alone: xdp_gen failed: $out"
R[gen_alone_mpps]=$(awk '/ pps/ {printf "%.4f", $(NF - 1) / 1e6}' <<<"$out")
[ -n "${R[gen_alone_mpps]}" ] || fail "gen_alone: no rate in: $out"
echo "gen_alone_mpps ${R[gen_alone_mpps]}" >>"$OUT/trials.txt"
in_ns host "$LOADER" -detach -device nic0 >/dev/null || fail "detach drop from nic0"

# 2. AF_XDP straight on the NIC: ep_count's own socket on nic0.
log "afxdp_direct: AF_XDP socket on nic0"
run_consumer afxdp_direct "/run/netns/$(ns host)" "$OUT/ep_count" -i nic0
steady afxdp_direct -D 10.77.0.1 -p 9

# 2b. The same three hops as path_rx with minimal programs, the bare
# mechanism the hook's path is built on: nic0 -> devmap redirect
# (xdp_loader -redirect) -> veth vb0 -> vb1 in netns bare -> XSKMAP
# (ep_count -i: the capture program) -> AF_XDP. No parsing, no policy
# maps; both programs keep only their per-CPU verdict counter.
log "path_rx_bare: nic0 -> devmap -> veth -> XSKMAP -> AF_XDP, minimal programs"
ns_new bare
ip link add vb0 netns "$(ns host)" type veth peer name vb1 netns "$(ns bare)" || fail "veth vb0/vb1"
in_ns host ip link set vb0 up; in_ns bare ip link set vb1 up
# The consumer first: vb1 must have an XDP program before frames are
# redirected into vb0 (xdp_loader checks).
run_consumer path_rx_bare "/run/netns/$(ns bare)" "$OUT/ep_count" -i vb1
in_ns host "$LOADER" -redirect nic0 vb0 >/dev/null || fail "redirect nic0 -> vb0"
steady path_rx_bare -D 10.77.1.5 -p 9
in_ns host "$LOADER" -detach -device nic0 >/dev/null || fail "detach the redirect from nic0"
in_ns host ip link del vb0

# 3. The hook's path: NIC -> xh- -> xdp0 -> AF_XDP in a runc container,
# ep_count on the endpoint (libxdp_endpoint); then the keeper's memory.
log "path_rx: nic0 -> veth -> AF_XDP endpoint in a runc container"
path_ctr
run_consumer path_rx "$CTR_NET" "$OUT/ep_count"
steady path_rx -D 10.77.1.5 -p 9
# As test/bench/tap_iperf.sh: the keeper's Pss with a client attached.
kp=$(jq -r .keeper.pid "/run/xdphook/$C/state.json")
R[keeper_pss_kib]=$(awk '/^Pss:/ {print $2}' "/proc/$kp/smaps_rollup")

# 4. The sandbox transmits: ep_blast on the endpoint -> xdp0 -> xh- (fast
# path) -> nic0 -> w0, counted by XDP_DROP on w0. The sender's side runs on
# the generator's CPU, as in the receive figures.
log "path_tx: AF_XDP endpoint -> veth -> nic0 -> world"
# BENCH_THREADED_NAPI=1: xh-...'s receive NAPI in a kernel thread of its
# own (netdev napi-set, bench/napi_set = lib/netlink.c xh_napi_set), which
# the hook does not do (yet): the sandbox's copy-mode transmit then no
# longer runs xh-'s program, the redirect and w0's receive inline, frame
# by frame, on the sender's CPU (path_tx about 0.55 -> 0.9-1.2 Mpps here).
# The thread is treated like the receivers: pinned to $RX_CPU, niced (left
# to the scheduler, it may land next to the sender and lose to it).
if [ "${BENCH_THREADED_NAPI:-0}" = 1 ]; then
	xh=$(xh_dev)
	for p in $("$OUT/napi_set" "/run/netns/$(ns host)" "$xh" threaded=1) ""; do
		[ -n "$p" ] || continue
		taskset -pc "$RX_CPU" "$p" >/dev/null && renice -n -20 -p "$p" >/dev/null ||
			fail "pin NAPI thread $p"
	done
	log "path_tx: threaded NAPI on $xh (BENCH_THREADED_NAPI=1)"
fi
in_ns world "$LOADER" -program drop -device w0 >/dev/null || fail "attach drop to w0"
blast "$CTR_NET" "$XH_TMP/blast" -D 10.77.0.2 -p 9
tx_figure path_tx world w0 $bl
in_ns world "$LOADER" -detach -device w0 >/dev/null || fail "detach drop from w0"
runc_ delete -f "$C" >/dev/null || fail "runc delete"

# 4b. path_tx's bare mechanism: ep_blast's own copy-mode AF_XDP socket on
# a veth (tb0, netns host) into XDP_DROP on its peer (tb1, netns world),
# the sender on the generator's CPU as in path_tx.
log "afxdp_tx_bare: copy-mode AF_XDP on a veth -> XDP_DROP on its peer"
ip link add tb0 netns "$(ns host)" type veth peer name tb1 netns "$(ns world)" || fail "veth tb0/tb1"
in_ns host ip link set tb0 up; in_ns world ip link set tb1 up
in_ns world "$LOADER" -program drop -device tb1 >/dev/null || fail "attach drop to tb1"
blast "/run/netns/$(ns host)" "$XH_TMP/blast_bare" -i tb0 -m "$(mac_of world tb1)" -D 10.77.0.2 -p 9
tx_figure afxdp_tx_bare world tb1 $bl
in_ns world "$LOADER" -detach -device tb1 >/dev/null || fail "detach drop from tb1"
in_ns host ip link del tb0

# 5. Capture: the highest rate each tool captures without losing a frame,
# xdp_loader -program tcpdump vs Debian's tcpdump, both writing a pcap file
# that must then hold every generated frame: test/bench/capture.sh (its own
# namespaces, the same CPUs; every trial in capture.log).
log "capture: xdp_loader -program tcpdump -write vs tcpdump -w, $TRIALS searches each"
BUILD="$BUILD" OUT="$OUT" TRIALS="$TRIALS" GEN_CPU="$GEN_CPU" RX_CPU="$RX_CPU" \
	MAX_MPPS="${R[limit_drop_mpps]}" bash "$HERE/capture.sh" >"$XH_TMP/capture" 2>&1 ||
	fail "capture.sh: $(tail -5 "$XH_TMP/capture")"
take capture.sh "$XH_TMP/capture" capture_mpps libpcap_capture_mpps
for k in capture_mpps libpcap_capture_mpps; do
	awk -v k="$k" '$1 == k {$2 = ""; print}' "$XH_TMP/capture" | tr -s ' ' >>"$OUT/trials.txt"
done
# The kernel path below takes the generator's XDP frames on nic0 as skbs:
# GRO on (nic0 has no XDP program).
in_ns host ethtool -K nic0 gro on >/dev/null

# 6. The docker -p way: DNAT on the host, a veth into the container's netns,
# a UDP socket (recvmmsg); nic0 still has GRO on and no XDP program.
log "kernel_dnat: DNAT -> veth -> UDP socket"
dnat_ns dnat udp 8080 80
run_consumer kernel_dnat "/run/netns/$(ns dnat)" "$OUT/udp_count" -p 80
steady kernel_dnat -D 10.77.0.1 -p 8080
in_ns host iptables -t nat -F PREROUTING

# 6b. The best kernel path a Kubernetes user has today (Cilium's BPF host
# routing; netkit would be its newer form, but this kernel has no
# CONFIG_NETKIT): a tc ingress program on nic0 (bpf/tc_peer.bpf.c) hands
# every packet to the pod's veth with bpf_redirect_peer(), a UDP socket
# (recvmmsg) in the pod. No host forwarding, no backlog hop. The pod's
# eth0 carries nic0's MAC, the frames' destination (Cilium rewrites it).
log "kernel_bpf_peer: tc bpf_redirect_peer -> veth -> UDP socket"
ns_new peer
ip link add pr0 netns "$(ns host)" type veth peer name eth0 netns "$(ns peer)" || fail "veth pr0"
in_ns peer ip link set eth0 address "$NIC_MAC"
in_ns host ip link set pr0 up; in_ns peer ip link set eth0 up
in_ns peer ip addr add 10.77.1.5/32 dev eth0
in_ns peer ip route add default dev eth0
PEER_PIN=/sys/fs/bpf/xdphook-bench-$XH_TAG
at_exit "rm -rf $PEER_PIN $PEER_PIN-maps"
bpftool prog load "$BUILD/bpf/tc_peer.bpf.o" "$PEER_PIN" type classifier pinmaps "$PEER_PIN-maps" ||
	fail "load tc_peer.bpf.o"
pr0=$(ip -n "$(ns host)" -j link show dev pr0 | jq -r '.[0].ifindex')
bpftool map update pinned "$PEER_PIN-maps/peer_ifindex" key hex 00 00 00 00 \
	value hex $(printf '%08x' "$pr0" | sed 's/\(..\)\(..\)\(..\)\(..\)/\4 \3 \2 \1/') || fail "peer_ifindex"
in_ns host tc qdisc add dev nic0 clsact || fail "clsact on nic0"
in_ns host tc filter add dev nic0 ingress bpf direct-action object-pinned "$PEER_PIN" || fail "tc filter on nic0"
run_consumer kernel_bpf_peer "/run/netns/$(ns peer)" "$OUT/udp_count" -p 9
steady kernel_bpf_peer -D 10.77.1.5 -p 9
in_ns host tc qdisc del dev nic0 clsact

# 6c. The kernel's transmit path a container has today (docker -p
# topology, the netns of 6): a UDP socket (sendmmsg, bench/udp_blast) ->
# veth -> host forwarding + SNAT -> nic0 -> w0, counted by XDP_DROP on w0,
# the sender on the generator's CPU as in path_tx. The host's neighbour
# entry for w0 is made permanent: w0's XDP_DROP would eat the ARP probes.
log "kernel_tx: UDP socket -> veth -> forward + SNAT -> nic0 -> world"
kernel_tx_start dnat
in_ns world "$LOADER" -program drop -device w0 >/dev/null || fail "attach drop to w0"
udp_blast dnat
tx_figure kernel_tx world w0 $bl
in_ns world "$LOADER" -detach -device w0 >/dev/null || fail "detach drop from w0"
in_ns host ip neigh del 10.77.0.2 dev nic0
in_ns host iptables -t nat -F POSTROUTING

# 7. Hook latency next to CNI ptp (its own namespaces), N=20.
log "hook latency vs CNI ptp (N=20)"
BUILD="$BUILD" N=20 bash "$HERE/hook_latency.sh" >"$XH_TMP/latency" 2>&1 || fail "hook_latency.sh: $(tail -5 "$XH_TMP/latency")"
take hook_latency.sh "$XH_TMP/latency" hook_create_ms hook_poststop_ms cni_ptp_add_ms cni_ptp_del_ms

# 8. netns mode's raw receive (its own namespaces): AF_XDP on the CNI's
# interface vs AF_PACKET TPACKET_V3 on the same interface.
log "netns mode: raw receive, AF_XDP vs AF_PACKET TPACKET_V3"
BUILD="$BUILD" TRIALS="$TRIALS" bash "$HERE/netns_rx.sh" >"$XH_TMP/netns_rx" 2>&1 ||
	fail "netns_rx.sh: $(tail -5 "$XH_TMP/netns_rx")"
take netns_rx.sh "$XH_TMP/netns_rx" netns_afxdp_mpps netns_tpacket_mpps netns_afxdp_net_ns netns_tpacket_net_ns

# 8b. Host mode `direct` (its own namespaces): the sandbox's sockets on
# nic0's queue next to AF_XDP on nic0 and the same sandbox via the veth.
log "direct: host mode's sockets on the NIC queue vs AF_XDP on the NIC vs the veth path"
BUILD="$BUILD" TRIALS="$TRIALS" bash "$HERE/direct_rx.sh" >"$XH_TMP/direct_rx" 2>&1 ||
	fail "direct_rx.sh: $(tail -5 "$XH_TMP/direct_rx")"
DIRECT_KEYS="direct_gen_alone_mpps direct_afxdp_mpps direct_path_rx_mpps path_rx_direct_mpps
	     direct_afxdp_net_ns direct_path_rx_net_ns path_rx_direct_net_ns keeper_direct_pss_kib"
take direct_rx.sh "$XH_TMP/direct_rx" $DIRECT_KEYS

# 9. gVisor's netstack on the endpoint (pod mode, and netns mode on a CNI
# ptp veth) vs on runsc's default AF_PACKET path (test/bench/gvisor.sh,
# its own namespaces): wrk and bulk TCP, ratios.
GV_KEYS=""
log "gvisor: xdp_gvisor -link xdp (hook: pod mode, netns mode) vs -link packet (CNI ptp)"
BUILD="$BUILD" OUT="$OUT" TRIALS=3 GEN_CPU="$GEN_CPU" RX_CPU="$RX_CPU" GV_LINKS="xdp netns packet" \
	bash "$HERE/gvisor.sh" >"$XH_TMP/gvisor" 2>&1
case $? in
0)  GV_KEYS=$(awk '/^gvisor_/ {print $1}' "$XH_TMP/gvisor")
    for k in $GV_KEYS; do R[$k]=$(awk -v k="$k" '$1 == k {print $2}' "$XH_TMP/gvisor"); done ;;
77) log "gvisor: skipped: $(grep -m1 SKIP "$XH_TMP/gvisor")" ;;
*)  fail "gvisor.sh: $(tail -5 "$XH_TMP/gvisor")" ;;
esac

# ---- report -------------------------------------------------------------------

KEYS="limit_drop_mpps gen_reference_mpps afxdp_direct_mpps path_rx_bare_mpps path_rx_mpps path_tx_mpps
      afxdp_tx_bare_mpps kernel_dnat_mpps kernel_bpf_peer_mpps kernel_tx_mpps capture_mpps
      libpcap_capture_mpps hook_create_ms hook_poststop_ms cni_ptp_add_ms cni_ptp_del_ms keeper_pss_kib"
# Net per-frame cost of each generator-driven figure on the generator's
# CPU: what the path costs beyond making the frame.
NET_FIGURES="limit_drop afxdp_direct path_rx_bare path_rx kernel_dnat kernel_bpf_peer"
net_ns() { awk -v r="$1" -v g="${R[gen_alone_mpps]}" 'BEGIN {n = (r > 0 && g > r) ? 1e3 / r - 1e3 / g : 0; printf "%.1f", n}'; }
for f in $NET_FIGURES; do R[${f}_net_ns]=$(net_ns "${R[${f}_mpps]}"); done
KEYS="$KEYS gen_alone_mpps $(for f in $NET_FIGURES; do printf '%s_net_ns ' "$f"; done)"
KEYS="$KEYS netns_afxdp_mpps netns_tpacket_mpps netns_afxdp_net_ns netns_tpacket_net_ns $DIRECT_KEYS $GV_KEYS"
for k in $KEYS; do echo "$k ${R[$k]}"; done |
	jq -R 'split(" ") | {(.[0]): (.[1] | tonumber)}' | jq -s 'add' >"$OUT/results.json" ||
	fail "writing results.json"

# name  value  goal  direction(ge|le)  label
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (b > 0) ? a / b : 0}'; }
{
	echo "limit_drop/gen_reference $(ratio "${R[limit_drop_mpps]}" "${R[gen_reference_mpps]}") 0.8 ge"
	# Receive ratios of net rates (1 / net ns): raw ones in the table.
	echo "path_rx/afxdp_direct(net) $(ratio "${R[afxdp_direct_net_ns]}" "${R[path_rx_net_ns]}") 0.75 ge"
	echo "path_rx/kernel_dnat(net) $(ratio "${R[kernel_dnat_net_ns]}" "${R[path_rx_net_ns]}") 6 ge"
	echo "path_rx/kernel_bpf_peer(net) $(ratio "${R[kernel_bpf_peer_net_ns]}" "${R[path_rx_net_ns]}") 3 ge"
	echo "path_rx/path_rx_bare(net) $(ratio "${R[path_rx_bare_net_ns]}" "${R[path_rx_net_ns]}") 0.9 ge"
	echo "path_tx/path_rx $(ratio "${R[path_tx_mpps]}" "${R[path_rx_mpps]}") 0.8 ge"
	echo "path_tx/afxdp_tx_bare $(ratio "${R[path_tx_mpps]}" "${R[afxdp_tx_bare_mpps]}") 0.85 ge"
	echo "path_tx/kernel_tx $(ratio "${R[path_tx_mpps]}" "${R[kernel_tx_mpps]}") 2 ge"
	echo "capture/libpcap $(ratio "${R[capture_mpps]}" "${R[libpcap_capture_mpps]}") 3 ge"
	echo "hook_create/cni_add $(ratio "${R[hook_create_ms]}" "${R[cni_ptp_add_ms]}") 0.8 le"
	echo "hook_poststop/cni_del $(ratio "${R[hook_poststop_ms]}" "${R[cni_ptp_del_ms]}") 0.5 le"
	echo "keeper_pss_kib ${R[keeper_pss_kib]} 512 le"
	echo "netns_afxdp/tpacket(net) $(ratio "${R[netns_tpacket_net_ns]}" "${R[netns_afxdp_net_ns]}") 1.0 ge"
	# direct: against its own section's AF_XDP on the NIC and veth path.
	echo "path_rx_direct/afxdp_direct(net) $(ratio "${R[direct_afxdp_net_ns]}" "${R[path_rx_direct_net_ns]}") 0.95 ge"
	echo "path_rx_direct/path_rx(net) $(ratio "${R[direct_path_rx_net_ns]}" "${R[path_rx_direct_net_ns]}") 1.5 ge"
	if [ -n "$GV_KEYS" ]; then
		echo "gvisor_rps_c8_xdp/packet ${R[gvisor_c8_rps_ratio]} 1.5 ge"
		echo "gvisor_rps_c1_xdp/packet ${R[gvisor_c1_rps_ratio]} 1.5 ge"
		echo "gvisor_p99_c8_xdp/packet ${R[gvisor_c8_p99_us_ratio]} 0.7 le"
		echo "gvisor_bulk_down_xdp/packet ${R[gvisor_bulk_down_mbs_ratio]} 1.2 ge"
		echo "gvisor_bulk_up_xdp/packet ${R[gvisor_bulk_up_mbs_ratio]} 1.2 ge"
		echo "gvisor_xdp_forwarded_pkts ${R[gvisor_xdp_forwarded_packets]} 0 le"
		[ -n "${R[gvisor_direct_c8_rps_ratio]:-}" ] &&
			echo "gvisor_direct_rps_c8_xdp/packet_dnat ${R[gvisor_direct_c8_rps_ratio]} 2 ge"
		echo "gvisor_rps_c8_netns/packet ${R[gvisor_netns_c8_rps_ratio]} 1.2 ge"
		echo "gvisor_p99_c8_netns/packet ${R[gvisor_netns_c8_p99_us_ratio]} 0.8 le"
		echo "gvisor_bulk_down_netns/packet ${R[gvisor_netns_bulk_down_mbs_ratio]} 1.1 ge"
		echo "gvisor_bulk_up_netns/packet ${R[gvisor_netns_bulk_up_mbs_ratio]} 1.1 ge"
	fi
} >"$XH_TMP/goals"

echo
echo "xdphook benchmark ($(uname -r), $(nproc) CPUs; generator on CPU $GEN_CPU, receivers on CPU $RX_CPU; median of $TRIALS)"
echo
# Each rate next to the generator's ceiling (limit_drop): within 20% of
# it, the generator may be what limits the figure.
printf '  %-24s %10s  %s\n' figure value "of the generator's ceiling (limit_drop)"
for k in $KEYS; do
	note=""
	case $k in
	limit_drop_mpps|gen_reference_mpps|gen_alone_mpps|*_net_ns) ;;
	*_mpps) note=$(awk -v a="${R[$k]}" -v c="${R[limit_drop_mpps]}" 'BEGIN {
		f = (c > 0) ? a / c : 0
		printf "%.2f%s", f, (f >= 0.8) ? "  within 20% of the generator: may be generator-bound" : ""}') ;;
	esac
	printf '  %-24s %10s  %s\n' "$k" "${R[$k]}" "$note"
done
echo
printf '  %-24s %10s %8s  %s\n' goal value target result
awk '{ok = ($4 == "ge") ? ($2 >= $3) : ($2 <= $3)
      printf "  %-24s %10s %8s  %s\n", $1, $2, ($4 == "ge" ? ">= " : "<= ") $3, ok ? "pass" : "MISS"}' "$XH_TMP/goals"
echo
echo "  $OUT/results.json, $OUT/results.png; capture trials: $OUT/capture.log"

# The chart: on the left the throughputs; on the right how far each figure
# is from its goal, as a factor of it (>= 1: met; for "<=" goals goal /
# value), log scale, with the measured value and the goal on each bar.
awk '{f = ($4 == "ge") ? $2 / $3 : (($2 > 0) ? $3 / $2 : ($3 == 0 ? 1 : 0))
      printf "%d \"%s\" %.4f %s \"%s\\ngoal %s%s\" %.4f\n", NR - 1, $1, (f > 0.01 ? f : 0.01),
             (f >= 1 ? "0x2e8b57" : "0xcd3333"), $2, ($4 == "ge" ? ">=" : "<="), $3, (f > 1 ? f : 1) * 1.5}' \
	"$XH_TMP/goals" >"$XH_TMP/chart.dat"
awk '{printf "%d \"%s\" %s\n", NR - 1, $1, $2}' <<EOF >"$XH_TMP/mpps.dat"
limit_drop ${R[limit_drop_mpps]}
gen_reference ${R[gen_reference_mpps]}
afxdp_direct ${R[afxdp_direct_mpps]}
path_rx_bare ${R[path_rx_bare_mpps]}
path_rx ${R[path_rx_mpps]}
path_rx_direct ${R[path_rx_direct_mpps]}
path_tx ${R[path_tx_mpps]}
afxdp_tx_bare ${R[afxdp_tx_bare_mpps]}
kernel_dnat ${R[kernel_dnat_mpps]}
kernel_bpf_peer ${R[kernel_bpf_peer_mpps]}
kernel_tx ${R[kernel_tx_mpps]}
capture ${R[capture_mpps]}
libpcap_capture ${R[libpcap_capture_mpps]}
EOF
gnuplot <<EOF || fail "gnuplot"
set terminal pngcairo size 1700,620 font "DejaVu Sans,10" noenhanced
set output "$OUT/results.png"
set multiplot layout 1,2 title "xdphook benchmark: $(uname -r), veth topology, median of $TRIALS"
set style fill solid 0.85 border -1
set boxwidth 0.6
set grid ytics
unset key
set xtics rotate by -25 left nomirror
set bmargin 6
set rmargin 12
set offsets 0.5, 0.5, 0, 0
set title "Throughput, Mpps (64-byte UDP)"
set yrange [0:*]
plot "$XH_TMP/mpps.dat" using 1:3:xtic(2) with boxes lc rgb "0x4682b4", \
     "" using 1:3:(sprintf("%.2f", \$3)) with labels offset 0,0.8
set title "Goals: measured / goal (>= 1: met; goal / measured for <= goals)"
set logscale y
set yrange [0.05:50]
set arrow from graph 0, first 1 to graph 1, first 1 nohead lc rgb "black" dt 2 lw 1.5
plot "$XH_TMP/chart.dat" using 1:3:4:xtic(2) with boxes lc rgb variable, \
     "" using 1:6:5 with labels font ",9"
unset multiplot
EOF
pass "results in $OUT"
