#!/bin/bash
# make bench: one run, every figure of DESIGN.md "Benchmark", as a table,
# $BUILD/bench/results.json and $BUILD/bench/results.png.
#
# Traffic: build/xdp_gen in netns world pushes 64-byte UDP (IPv4, 1000
# source ports; AF_PACKET seeds multiplied 32 times by a devmap broadcast,
# see bench/xdp_gen.c) out of w0 into nic0, or out of w1 into nic1 (a
# second pair of the same kind), pinned to CPU $GEN_CPU; whatever receives
# (consumer, capture tool, UDP socket) is pinned to CPU $RX_CPU. On veths
# the receive path of the NIC runs in softirq on the sender's CPU, so the
# "NIC" side of every figure shares the generator's CPU: compare the
# figures with each other (the ratios), not with hardware.
#
# The guest's CPU speed jumps between levels, even within a run, so the
# figures a goal compares are measured interleaved, in rounds: the hook's
# runc container stays up on nic0 while the bare mechanisms and the
# kernel's receive paths take their turn on nic1 (lib.sh rx_start,
# tx_start). Each of $ROUNDS rounds (ROUNDS=5) measures every receive
# figure once, the generator alone (gen_alone) and the limit too, then the
# transmit figures in rounds of their own; each piece is $TRIALS one-second
# intervals (TRIALS=2) after a warm-up second, its consumer started and
# stopped with it (short pieces: the pairs a goal compares stay close). A figure's rate (<figure>_mpps) is the median of all
# its intervals; its net cost (<figure>_net_ns) the median of its rounds'
# (each with that round's gen_alone); a goal the median of its rounds'
# ratios, printed with their min-max, each round's in results.json
# (goal_rounds). Capture (the median of $CAPTURE_TRIALS (3) searches for
# the highest rate captured without loss), latency, netns, direct (rounds of its own)
# and gVisor by their own scripts, after the rounds. Every sample goes to
# $BUILD/bench/trials.txt labelled with its round, every capture trial to
# capture.log. Everything runs in namespaces made here
# (test/integration/lib.sh), removed at exit.
set -u
TRIALS=${TRIALS:-2}
ROUNDS=${ROUNDS:-5}
. "$(dirname "$0")/lib.sh" bench
OUT="$BUILD/bench"
SAMPLES="$OUT/trials.txt"

[ "$(id -u)" = 0 ] || fail "the benchmark needs root"
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs (generator and receiver apart)"
for t in runc tcpdump capinfos iptables gnuplot jq taskset bpftool tc; do
	command -v $t >/dev/null || skip "$t is not installed"
done
for b in "$GEN" "$OUT/ep_count" "$OUT/ep_blast" "$OUT/udp_count" "$OUT/udp_blast" "$HOOK" "$LOADER"; do
	[ -x "$b" ] || fail "$b is not built (make bench builds it)"
done
mkdir -p "$OUT"
: >"$SAMPLES"
weigh_up

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

# 1. The receive figures in rounds (lib.sh rx_start says what each is):
# the hook's path in its runc container on nic0, next to its bare
# mechanisms and the kernel's receive paths on nic1 (same kind of veth,
# same generator, same CPUs), each once a round, path_rx in the middle.
# Before them, on nic1: the generator alone (gen_alone, for the net
# figures) and the limit, XDP_DROP on the NIC. The limit is the
# generator's own ceiling too (every figure's traffic comes from it):
# limit_drop with the per-copy rewrite the figures use, gen_reference the
# bare fan-out (xdp_gen -R: AF_PACKET seeds, 32-way devmap broadcast,
# copies unchanged). Then the keeper's memory with a client attached (as
# tap_iperf.sh).
RX_FIGS="path_rx_bare afxdp_direct path_rx kernel_bpf_peer kernel_dnat"
for ((r = 1; r <= ROUNDS; r++)); do
	log "receive round $r/$ROUNDS: gen_alone gen_reference limit_drop $RX_FIGS"
	gen_alone $r
	drop_piece gen_reference $r -R
	drop_piece limit_drop $r
	for f in $RX_FIGS; do rx_piece $f $r; done
done
rx_start path_rx
kp=$(jq -r .keeper.pid "/run/xdphook/$C/state.json")
R[keeper_pss_kib]=$(awk '/^Pss:/ {print $2}' "/proc/$kp/smaps_rollup")
stop path_rx

# 2. The transmit figures in rounds (lib.sh tx_start): the sandbox's
# path_tx, its bare mechanism afxdp_tx_bare and the kernel's kernel_tx,
# each counted by XDP_DROP on the far side, the sender on the generator's
# CPU as in the receive figures.
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
TX_FIGS="path_tx afxdp_tx_bare kernel_tx"
for ((r = 1; r <= ROUNDS; r++)); do
	log "transmit round $r/$ROUNDS: $TX_FIGS"
	for f in $TX_FIGS; do tx_piece $f $r; done
done
runc_ delete -f "$C" >/dev/null || fail "runc delete"
for f in gen_alone gen_reference limit_drop $RX_FIGS $TX_FIGS; do R[${f}_mpps]=$(all_mpps $f); done

# 3. Capture: the highest rate each tool captures without losing a frame,
# xdp_loader -program tcpdump vs Debian's tcpdump, both writing a pcap file
# that must then hold every generated frame: test/bench/capture.sh (its own
# namespaces, the same CPUs; every trial in capture.log).
CAPTURE_TRIALS=${CAPTURE_TRIALS:-3}
log "capture: xdp_loader -program tcpdump -write vs tcpdump -w, $CAPTURE_TRIALS searches each"
BUILD="$BUILD" OUT="$OUT" TRIALS="$CAPTURE_TRIALS" GEN_CPU="$GEN_CPU" RX_CPU="$RX_CPU" \
	MAX_MPPS="${R[limit_drop_mpps]}" bash "$HERE/capture.sh" >"$XH_TMP/capture" 2>&1 ||
	fail "capture.sh: $(tail -5 "$XH_TMP/capture")"
take capture.sh "$XH_TMP/capture" capture_mpps libpcap_capture_mpps
for k in capture_mpps libpcap_capture_mpps; do
	awk -v k="$k" '$1 == k {$2 = ""; print}' "$XH_TMP/capture" | tr -s ' ' >>"$OUT/trials.txt"
done

# 4. Hook latency next to CNI ptp (its own namespaces), N=20.
log "hook latency vs CNI ptp (N=20)"
BUILD="$BUILD" N=20 bash "$HERE/hook_latency.sh" >"$XH_TMP/latency" 2>&1 || fail "hook_latency.sh: $(tail -5 "$XH_TMP/latency")"
take hook_latency.sh "$XH_TMP/latency" hook_create_ms hook_poststop_ms cni_ptp_add_ms cni_ptp_del_ms

# 5. netns mode's raw receive (its own namespaces): AF_XDP on the CNI's
# interface vs AF_PACKET TPACKET_V3 on the same interface.
log "netns mode: raw receive, AF_XDP vs AF_PACKET TPACKET_V3"
BUILD="$BUILD" TRIALS="$TRIALS" bash "$HERE/netns_rx.sh" >"$XH_TMP/netns_rx" 2>&1 ||
	fail "netns_rx.sh: $(tail -5 "$XH_TMP/netns_rx")"
take netns_rx.sh "$XH_TMP/netns_rx" netns_afxdp_mpps netns_tpacket_mpps netns_afxdp_net_ns netns_tpacket_net_ns

# 6. Host mode `direct` (its own namespaces, its own rounds): the sandbox's
# sockets on nic0's queue next to AF_XDP on a NIC and the same sandbox via
# the veth; its goal lines ("goal ...") go into the table as they are.
log "direct: host mode's sockets on the NIC queue vs AF_XDP on the NIC vs the veth path"
BUILD="$BUILD" TRIALS="$TRIALS" ROUNDS="$ROUNDS" SAMPLES="$SAMPLES" bash "$HERE/direct_rx.sh" >"$XH_TMP/direct_rx" 2>&1 ||
	fail "direct_rx.sh: $(tail -5 "$XH_TMP/direct_rx")"
DIRECT_KEYS="direct_gen_alone_mpps direct_afxdp_mpps direct_path_rx_mpps path_rx_direct_mpps
	     direct_afxdp_net_ns direct_path_rx_net_ns path_rx_direct_net_ns keeper_direct_pss_kib"
take direct_rx.sh "$XH_TMP/direct_rx" $DIRECT_KEYS

# 7. gVisor's netstack on the endpoint (pod mode, and netns mode on a CNI
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
# CPU: what the path costs beyond making the frame (lib.sh all_net_ns).
NET_FIGURES="limit_drop afxdp_direct path_rx_bare path_rx kernel_dnat kernel_bpf_peer"
for f in $NET_FIGURES; do R[${f}_net_ns]=$(all_net_ns $f); done
KEYS="$KEYS gen_alone_mpps $(for f in $NET_FIGURES; do printf '%s_net_ns ' "$f"; done)"
KEYS="$KEYS netns_afxdp_mpps netns_tpacket_mpps netns_afxdp_net_ns netns_tpacket_net_ns $DIRECT_KEYS $GV_KEYS"

# The goals: name value goal direction(ge|le) min max rounds. From the
# rounds (lib.sh goal): the median of the per-round ratios, their min and
# max, each round's; measured once: "- - -".
once() { echo "$1 $2 $3 $4 - - -"; }
{
	goal limit_drop/gen_reference raw limit_drop gen_reference 0.8 ge
	# Receive ratios of net rates (1 / net ns): raw ones in the table.
	goal "path_rx/afxdp_direct(net)" net path_rx afxdp_direct 0.75 ge
	goal "path_rx/kernel_dnat(net)" net path_rx kernel_dnat 6 ge
	goal "path_rx/kernel_bpf_peer(net)" net path_rx kernel_bpf_peer 3 ge
	goal "path_rx/path_rx_bare(net)" net path_rx path_rx_bare 0.9 ge
	# Round r's transmit block against round r's receive one.
	goal path_tx/path_rx raw path_tx path_rx 0.8 ge
	goal path_tx/afxdp_tx_bare raw path_tx afxdp_tx_bare 0.85 ge
	goal path_tx/kernel_tx raw path_tx kernel_tx 2 ge
	once capture/libpcap "$(ratio "${R[capture_mpps]}" "${R[libpcap_capture_mpps]}")" 3 ge
	once hook_create/cni_add "$(ratio "${R[hook_create_ms]}" "${R[cni_ptp_add_ms]}")" 0.8 le
	once hook_poststop/cni_del "$(ratio "${R[hook_poststop_ms]}" "${R[cni_ptp_del_ms]}")" 0.5 le
	once keeper_pss_kib "${R[keeper_pss_kib]}" 512 le
	once "netns_afxdp/tpacket(net)" "$(ratio "${R[netns_tpacket_net_ns]}" "${R[netns_afxdp_net_ns]}")" 1.0 ge
	# direct: against its own section's AF_XDP on a NIC and veth path.
	awk '$1 == "goal" {$1 = ""; print substr($0, 2)}' "$XH_TMP/direct_rx"
	if [ -n "$GV_KEYS" ]; then
		once gvisor_rps_c8_xdp/packet "${R[gvisor_c8_rps_ratio]}" 1.5 ge
		once gvisor_rps_c1_xdp/packet "${R[gvisor_c1_rps_ratio]}" 1.5 ge
		once gvisor_p99_c8_xdp/packet "${R[gvisor_c8_p99_us_ratio]}" 0.7 le
		once gvisor_bulk_down_xdp/packet "${R[gvisor_bulk_down_mbs_ratio]}" 1.2 ge
		once gvisor_bulk_up_xdp/packet "${R[gvisor_bulk_up_mbs_ratio]}" 1.2 ge
		once gvisor_xdp_forwarded_pkts "${R[gvisor_xdp_forwarded_packets]}" 0 le
		[ -n "${R[gvisor_direct_c8_rps_ratio]:-}" ] &&
			once gvisor_direct_rps_c8_xdp/packet_dnat "${R[gvisor_direct_c8_rps_ratio]}" 2 ge
		once gvisor_rps_c8_netns/packet "${R[gvisor_netns_c8_rps_ratio]}" 1.2 ge
		once gvisor_p99_c8_netns/packet "${R[gvisor_netns_c8_p99_us_ratio]}" 0.8 le
		once gvisor_bulk_down_netns/packet "${R[gvisor_netns_bulk_down_mbs_ratio]}" 1.1 ge
		once gvisor_bulk_up_netns/packet "${R[gvisor_netns_bulk_up_mbs_ratio]}" 1.1 ge
	fi
} >"$XH_TMP/goals"

# results.json: the figures, ROUNDS, and each goal's per-round ratios
# (goal_rounds, by the goal's name in the table).
{ for k in $KEYS; do echo "$k ${R[$k]}"; done; echo "rounds $ROUNDS"; } |
	jq -R 'split(" ") | {(.[0]): (.[1] | tonumber)}' | jq -s 'add' >"$XH_TMP/figures.json" &&
	awk '$7 != "-" {print $1, $7}' "$XH_TMP/goals" |
	jq -R 'split(" ") | {(.[0]): (.[1] | split(",") | map(tonumber))}' | jq -s '{goal_rounds: add}' |
	jq -s '.[0] + .[1]' "$XH_TMP/figures.json" - >"$OUT/results.json" || fail "writing results.json"

echo
echo "xdphook benchmark ($(uname -r), $(nproc) CPUs; generator on CPU $GEN_CPU, receivers on CPU $RX_CPU)"
echo "rates: median of $ROUNDS rounds x $TRIALS s; goals: median of the rounds' ratios, min-max beside"
echo
# Each rate next to the generator's ceiling (limit_drop): within 20% of
# it, the generator may be what limits the figure.
printf '  %-24s %10s  %s\n' figure value "of the generator's ceiling (limit_drop)"
for k in $KEYS; do
	note=""
	case $k in
	limit_drop_mpps|gen_reference_mpps|*gen_alone_mpps|*_net_ns) ;;
	*_mpps) note=$(awk -v a="${R[$k]}" -v c="${R[limit_drop_mpps]}" 'BEGIN {
		f = (c > 0) ? a / c : 0
		printf "%.2f%s", f, (f >= 0.8) ? "  within 20% of the generator: may be generator-bound" : ""}') ;;
	esac
	printf '  %-24s %10s  %s\n' "$k" "${R[$k]}" "$note"
done
echo
printf '  %-34s %10s %15s %8s  %s\n' goal value "rounds min-max" target result
awk '{ok = ($4 == "ge") ? ($2 >= $3) : ($2 <= $3)
      printf "  %-34s %10s %15s %8s  %s\n", $1, $2, ($5 == "-") ? "" : $5 "-" $6,
             ($4 == "ge" ? ">= " : "<= ") $3, ok ? "pass" : "MISS"}' "$XH_TMP/goals"
echo
echo "  $OUT/results.json, $OUT/results.png; capture trials: $OUT/capture.log"

# The chart: on top the throughputs; below how far each goal's figure is
# from the goal, as a factor of it (>= 1: met; for "<=" goals goal /
# value), log scale, the goal under each bar's name and the measured value
# on the bar.
awk '{f = ($4 == "ge") ? $2 / $3 : (($2 > 0) ? $3 / $2 : ($3 == 0 ? 1 : 0))
      printf "%d \"%s %s%s\" %.4f %s \"%s\" %.4f\n", NR - 1, $1, ($4 == "ge" ? ">=" : "<="), $3,
             (f > 0.01 ? f : 0.01), (f >= 1 ? "0x2e8b57" : "0xcd3333"), $2, (f > 1 ? f : 1) * 1.25}' \
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
set terminal pngcairo size 1700,1150 font "DejaVu Sans,10" noenhanced
set output "$OUT/results.png"
set multiplot layout 2,1 title "xdphook benchmark: $(uname -r), veth topology, median of $ROUNDS rounds x $TRIALS s"
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
set xtics rotate by -35 left nomirror font ",9"
set bmargin 13
set rmargin 24
plot "$XH_TMP/chart.dat" using 1:3:4:xtic(2) with boxes lc rgb variable, \
     "" using 1:6:5 with labels font ",9"
unset multiplot
EOF
pass "results in $OUT"
