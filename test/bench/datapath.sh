#!/bin/bash
# The data-path figures of make bench alone, for profiling and tuning
# (the same pieces, lib.sh rx_start/tx_start, in the same topology, that
# test/bench/run.sh measures in rounds; here each figure once per name
# given, in the order given, printed with its intervals):
#
#   BUILD=$PWD/build test/bench/datapath.sh [FIGURE...]
#
# FIGURE (default: direct rx tx txceil txceil_pass; repeat them to
# interleave A/B comparisons in one run, the machine is noisy: any mix
# works, e.g. "rx direct rx direct": the hook's container stays up on nic0
# while the bare mechanisms and the kernel's receive paths run on nic1,
# a second veth pair of the same kind; lib.sh rx_start/tx_start):
#   gen_alone        the generator alone (xdp_gen -Z), for the net figures
#   direct           afxdp_direct: ep_count's own socket on nic1
#   rx_bare          path_rx_bare: nic1 -> devmap -> veth -> XSKMAP, minimal
#                    programs (as run.sh)
#   rx               path_rx, xdp0's NAPI in softirq (as the hook leaves it)
#   rx_threaded      path_rx with xdp0's NAPI in a kernel thread; the
#                    consumer runs with RX_THREADED_ARGS (e.g. -w)
#   kernel_dnat, kernel_bpf_peer: run.sh's kernel receive paths (on nic1)
#   tx               path_tx, xh-...'s NAPI in softirq (as the hook leaves it)
#   tx_threaded      path_tx with xh-...'s NAPI in a kernel thread
#   tx_bare          run.sh's afxdp_tx_bare (ep_blast -i on a veth tb0 ->
#                    tb1 running XDP_DROP)
#   kernel_tx        run.sh's kernel_tx: a UDP socket (udp_blast) behind the
#                    host's SNAT -> veth -> forward -> nic0 -> w0, for
#                    path_tx/kernel_tx in one run (e.g. "tx kernel_tx tx kernel_tx")
#   txceil           the ceiling of path_tx: ep_blast -i, copy-mode AF_XDP
#                    transmit straight on a veth into a peer running XDP_DROP
#   txceil_threaded  the same, the peer's NAPI in a kernel thread
#   txceil_pass      the same into a peer without XDP (counted by ep_blast)
#   txceil2          txceil with path_tx's second hop: the peer redirects
#                    (xdp_loader -redirect, devmap) into a second veth whose
#                    peer drops; path_tx's structure without its policy
# Knobs (environment):
#   TRIALS=N         one-second intervals per figure (median printed)
#   PERF=DIR         perf record -a each figure's steady state into DIR
#                    (PERF_G=-g for call graphs)
#   BPF_STATS=1      run_time_ns/run_cnt of the XDP programs per figure
#                    (system-wide: other users' programs show up too)
#   NAPI_CPU, NAPI_NICE, NAPI_FIFO: pin, renice, SCHED_FIFO the NAPI
#                    threads of the *_threaded figures
#   NAPI_THREADED="xdp0 xh": threaded from the start, for rx/tx
#   RX_BUSY_POLL=1   ep_count -b (rx, direct) with napi defer/gro_flush on xdp0
#   EP_COUNT_ARGS, EP_BLAST_ARGS: more options for the consumer / sender
# Each figure also prints where each CPU's time went (from /proc/stat).
set -u
. "$(dirname "$0")/lib.sh" datapath
OUT="$BUILD/bench"
FIGS=${*:-direct rx tx txceil txceil_pass}
SAMPLES=/dev/null
PERF=${PERF:-}
BPF_STATS=${BPF_STATS:-}
NAPI_THREADED=${NAPI_THREADED:-}
RX_BUSY_POLL=${RX_BUSY_POLL:-}
EP_COUNT_ARGS=${EP_COUNT_ARGS:-}
EP_BLAST_ARGS=${EP_BLAST_ARGS:-}

[ "$(id -u)" = 0 ] || fail "needs root"
weigh_up

# observe NAME: while the steady state runs (started ~1 s ago): perf and BPF
# run-time figures of it, if asked for.
observe() {
	local name=$1
	# Where each CPU's time went over a second: user sys softirq idle steal (%).
	grep -E '^cpu[0-9]' /proc/stat >"$XH_TMP/$name.st0"; sleep 1
	grep -E '^cpu[0-9]' /proc/stat >"$XH_TMP/$name.st1"
	paste "$XH_TMP/$name.st0" "$XH_TMP/$name.st1" | awk -v n="$name" '{
		t = 0; for (i = 2; i <= 11; i++) { d[i] = $(i + 11) - $i; t += d[i] }
		printf "  cpu %s: %s user %d sys %d softirq %d idle %d steal %d\n", n, $1,
			100*(d[2]+d[3])/t, 100*d[4]/t, 100*d[8]/t, 100*(d[5]+d[6])/t, 100*d[9]/t }' >&2
	if [ -n "$PERF" ]; then
		mkdir -p "$PERF"
		perf record -q -a ${PERF_G:-} -o "$PERF/$name.data" -- sleep 2 >/dev/null 2>&1
	fi
	if [ -n "$BPF_STATS" ]; then
		bpftool -j prog show | jq -r '.[] | select(.type == "xdp" and .run_cnt > 0) |
			"\(.id) \(.name) \(.run_cnt) \(.run_time_ns)"' >"$XH_TMP/$name.bs0"
		sleep 1
		bpftool -j prog show | jq -r '.[] | select(.type == "xdp" and .run_cnt > 0) |
			"\(.id) \(.name) \(.run_cnt) \(.run_time_ns)"' >"$XH_TMP/$name.bs1"
		awk 'NR == FNR { c[$1] = $3; r[$1] = $4; next } ($1 in c) { print $1, $2, c[$1], r[$1], $1, $2, $3, $4 }' \
			"$XH_TMP/$name.bs0" "$XH_TMP/$name.bs1" |
			awk -v n="$name" '$7 > $3 { printf "  bpf %s: %s %.2f Mruns/s %.1f ns/run\n", n, $2, ($7-$3)/1e6, ($8-$4)/($7-$3) }' >&2
	fi
}
report() {
	local name=$1
	rates "$XH_TMP/$name" >"$XH_TMP/$name.rates"
	grep -Ev '^(ready|[0-9]+ [0-9]+)' "$XH_TMP/$name" >&2
	echo "$name $(median <"$XH_TMP/$name.rates") [$(paste -sd' ' "$XH_TMP/$name.rates")]"
}
# steady NAME [GEN ARGS...]
steady() {
	local name=$1 g; shift
	gen_argv -q -d $((TRIALS + 2)) "$@"
	"${GEN_ARGV[@]}" & g=$!
	at_exit "bg_kill $g"
	sleep 1
	observe "$name"
	wait $g || fail "$name: xdp_gen failed"
	stop "$name"
	report "$name"
}
# counted NAME NS DEV: a sender already running, XDP_DROP on DEV counting.
counted() {
	local name=$1
	sleep 0.5
	local o
	observe "$name" & o=$!
	sample_counter "$2" "$3" drop "$XH_TMP/$name"
	wait $o
	report "$name"
}

# tune_napi FILE: pin/renice the NAPI threads whose pids are in FILE
# (NAPI_CPU, NAPI_NICE, NAPI_FIFO).
tune_napi() {
	local p
	for p in $(cat "$1"); do
		[ -n "${NAPI_CPU:-}" ] && taskset -pc "$NAPI_CPU" "$p" >/dev/null
		[ -n "${NAPI_NICE:-}" ] && renice -n "$NAPI_NICE" -p "$p" >/dev/null
		[ -n "${NAPI_FIFO:-}" ] && chrt -f -p "$NAPI_FIFO" "$p"
		log "NAPI thread $p ($(cat /proc/$p/comm)): CPU ${NAPI_CPU:-any} nice ${NAPI_NICE:-0} fifo ${NAPI_FIFO:-no}"
	done
}
[ -n "$BPF_STATS" ] && { old_stats=$(sysctl -n kernel.bpf_stats_enabled); sysctl -qw kernel.bpf_stats_enabled=1
	at_exit "sysctl -qw kernel.bpf_stats_enabled=$old_stats"; }

bench_topo
busy=
[ -n "$RX_BUSY_POLL" ] && busy=-b

for f in $FIGS; do
	case $f in
	gen_alone)
		gen_alone 0
		echo "gen_alone ${M[gen_alone:0]}" ;;
	direct|rx_bare|kernel_dnat|kernel_bpf_peer)
		case $f in
		direct) f=afxdp_direct; rx_start $f $busy $EP_COUNT_ARGS ;;
		rx_bare) f=path_rx_bare; rx_start $f $EP_COUNT_ARGS ;;
		*) rx_start $f ;;
		esac
		steady $f $RX_GEN
		rx_end $f ;;
	rx|rx_threaded|tx|tx_threaded)
		if [ -z "${CTR_NET:-}" ]; then
			path_ctr
			XH_DEV=$(xh_dev)
			for d in $NAPI_THREADED; do
				case $d in
				xdp0) "$OUT/napi_set" "$CTR_NET" xdp0 threaded=1 >"$XH_TMP/napi.pids" || fail "threaded xdp0" ;;
				xh) "$OUT/napi_set" "/run/netns/$(ns host)" "$XH_DEV" threaded=1 >"$XH_TMP/napi.pids" || fail "threaded $XH_DEV" ;;
				esac
				tune_napi "$XH_TMP/napi.pids"
			done
			if [ -n "$RX_BUSY_POLL" ]; then
				"$OUT/napi_set" "$CTR_NET" xdp0 defer="${DEFER:-2}" gro_flush="${GRO_FLUSH:-200000}" ||
					fail "busy-poll settings on xdp0"
			fi
		fi
		# tx_threaded: xh-...'s NAPI in a kernel thread (what the hook should
		# do, lib/netlink.c xh_napi_set), tx: in softirq, as the hook leaves it.
		case $f in
		rx) "$OUT/napi_set" "$CTR_NET" xdp0 threaded=0 >/dev/null || fail "xdp0 softirq" ;;
		rx_threaded) "$OUT/napi_set" "$CTR_NET" xdp0 threaded=1 >"$XH_TMP/napi.pids" || fail "xdp0 threaded"
			tune_napi "$XH_TMP/napi.pids" ;;
		tx) "$OUT/napi_set" "/run/netns/$(ns host)" "$XH_DEV" threaded=0 >/dev/null || fail "xh- softirq" ;;
		tx_threaded) "$OUT/napi_set" "/run/netns/$(ns host)" "$XH_DEV" threaded=1 >"$XH_TMP/napi.pids" ||
			fail "xh- threaded"
			tune_napi "$XH_TMP/napi.pids" ;;
		esac
		if [ $f = rx ]; then
			rx_start path_rx $busy $EP_COUNT_ARGS
			steady path_rx $RX_GEN
		elif [ $f = rx_threaded ]; then
			# The consumer shares its CPU with the NAPI thread: RX_THREADED_ARGS
			# (e.g. -w: sleep while the ring is empty).
			run_consumer path_rx_threaded "$CTR_NET" "$OUT/ep_count" ${RX_THREADED_ARGS:-}
			NIC=nic0 steady path_rx_threaded -D 10.77.1.5 -p 9
		else
			tx_start path_tx $EP_BLAST_ARGS
			counted path_$f $TX_NS $TX_DEV
			tx_end path_tx
		fi ;;
	tx_bare|kernel_tx)
		[ $f = tx_bare ] && f=afxdp_tx_bare
		tx_start $f $EP_BLAST_ARGS
		counted $f $TX_NS $TX_DEV
		tx_end $f ;;
	txceil|txceil_threaded|txceil_pass)
		# ep_blast -i: its own socket, copy mode, straight on a veth.
		ns_new ta; ns_new tb
		veth_new ta0 ta tb0 tb
		in_ns tb ethtool -K tb0 gro on >/dev/null
		if [ $f != txceil_pass ]; then
			in_ns tb "$LOADER" -program drop -device tb0 >/dev/null || fail "attach drop to tb0"
			# txceil_threaded: tb0's NAPI in a thread of its own, as
			# tx_threaded does for xh-... in path_tx.
			if [ $f = txceil_threaded ]; then
				"$OUT/napi_set" "/run/netns/$(ns tb)" tb0 threaded=1 >"$XH_TMP/napi.pids" || fail "tb0 threaded"
				tune_napi "$XH_TMP/napi.pids"
			fi
			blast "/run/netns/$(ns ta)" "$XH_TMP/blast" -i ta0 -D 10.77.0.2 -p 9 $EP_BLAST_ARGS
			counted $f tb tb0
		else
			blast "/run/netns/$(ns ta)" "$XH_TMP/$f" -i ta0 -D 10.77.0.2 -p 9 $EP_BLAST_ARGS
			sleep $((TRIALS + 2))
			observe $f
			kill $bl; wait $bl 2>/dev/null
			report $f
		fi
		kill $bl 2>/dev/null; wait $bl 2>/dev/null
		# Pins outlive a deleted netns: detach first.
		[ $f = txceil_pass ] || in_ns tb "$LOADER" -detach -device tb0 >/dev/null
		ip netns del "$(ns ta)"; ip netns del "$(ns tb)" ;;
	txceil2)
		ns_new ta; ns_new tb; ns_new tc
		veth_new ta0 ta tb0 tb
		veth_new tb1 tb tc0 tc
		in_ns tc "$LOADER" -program drop -device tc0 >/dev/null || fail "attach drop to tc0"
		in_ns tb "$LOADER" -redirect tb0 tb1 >/dev/null || fail "redirect tb0 -> tb1"
		blast "/run/netns/$(ns ta)" "$XH_TMP/blast" -i ta0 -D 10.77.0.2 -p 9 $EP_BLAST_ARGS
		counted $f tc tc0
		kill $bl; wait $bl 2>/dev/null
		in_ns tb "$LOADER" -detach -device tb0 >/dev/null
		in_ns tc "$LOADER" -detach -device tc0 >/dev/null
		ip netns del "$(ns ta)"; ip netns del "$(ns tb)"; ip netns del "$(ns tc)" ;;
	*) fail "unknown figure $f" ;;
	esac
done
