#!/bin/bash
# The capture figures of make bench (run.sh calls it; it also runs alone):
#
#   BUILD=$PWD/build test/bench/capture.sh
#
# capture_mpps: the highest rate `xdp_loader -program tcpdump -write FILE`
# captures without loss; libpcap_capture_mpps: the same for Debian's
# `tcpdump -Q in -w FILE`. The same for both tools: the traffic (xdp_gen, 64-byte
# UDP from w0 into nic0, generator on CPU $GEN_CPU, where nic0's receive
# path runs too), the CPU of the tool ($RX_CPU), the output (a pcap file in
# tmpfs, so that no disk is measured), the direction (frames arriving on
# nic0) and the test of a trial: the tool is told to stop after the N frames
# it is sent (-count N, tcpdump -c N) and the trial is loss-free only if it
# did so by itself and the file then holds all N generated frames (counted
# with tcpdump -r and capinfos). Each figure is the median of $TRIALS
# searches; every trial goes to $OUT/capture.log.
#
# A trial's rate is the rate the generator achieved, not the one asked for:
# frames go through nic0's receive path on the generator's CPU, synchronously,
# so when that path is slower than asked (the kernel stack and AF_PACKET for
# tcpdump, XDP and the AF_XDP copy for xdp_loader) the generator slows down
# instead of dropping. A search therefore stops doubling when loss-free
# trials fall short of the asked rate by more than 10% (three times in a
# row): nothing faster can be offered to that tool here.
#
# Prints "capture_mpps MEDIAN SAMPLES..." and "libpcap_capture_mpps ...".
set -u
. "$(dirname "$0")/lib.sh" capture
OUT=${OUT:-$BUILD/bench}
MAX_MPPS=${MAX_MPPS:-8}          # upper end of the search (run.sh: limit_drop_mpps)
CAP_SECONDS=${CAP_SECONDS:-0.5}  # of traffic per trial

for t in tcpdump capinfos taskset; do
	command -v $t >/dev/null || skip "$t is not installed"
done
[ -x "$GEN" ] || fail "$GEN is not built"
mkdir -p "$OUT"
weigh_up
PCAPS=$(mktemp -d "/dev/shm/xht-$XH_TAG.XXXXXX") || fail "no tmpfs directory in /dev/shm"
at_exit "rm -rf $PCAPS"

bench_topo
# Nothing but the generated frames arrives on nic0 while we count: no ARP.
in_ns host ip neigh replace 10.77.0.2 lladdr "$(mac_of world w0)" dev nic0 nud permanent
in_ns world ip neigh replace 10.77.0.1 lladdr "$NIC_MAC" dev w0 nud permanent
# Without an XDP program on nic0 (tcpdump), GRO lets the veth take the
# generator's XDP frames and hand them to the stack as skbs.
in_ns host ethtool -K nic0 gro on >/dev/null

# dev_stats: "name value" lines of w0's and nic0's driver counters.
dev_stats() {
	{ in_ns world ethtool -S w0 | sed 's/^ *\([^:]*\): */w0.\1 /'
	  in_ns host ethtool -S nic0 | sed 's/^ *\([^:]*\): */nic0.\1 /'
	  in_ns host awk '/^Udp:/ && $2 ~ /^[0-9]/ {print "host.UdpNoPorts", $4}' /proc/net/snmp; } | grep -v '^NIC'
}

# trial TOOL RATE: one trial; true if loss-free. CAP_PPS: the achieved rate.
trial() {
	local tool=$1 rate=$2 n p i f="$PCAPS/cap.pcap" err="$XH_TMP/cap.err" gout got ok=1 how=
	n=$(awk -v r="$rate" -v s="$CAP_SECONDS" 'BEGIN {printf "%d", r * s}')
	rm -f "$f" "$f.gen"
	# Empty before the tool starts: the last trial's "listening on" must
	# not pass for this one's (traffic before the tool is attached).
	: >"$err"
	# nsenter, nice and taskset exec: $! is the capture tool itself.
	if [ "$tool" = xdp ]; then
		nsenter --net="/run/netns/$(ns host)" $NICE taskset -c "$RX_CPU" \
			"$LOADER" -program tcpdump -device nic0 -count "$n" -write "$f" 2>"$err" & p=$!
	else
		nsenter --net="/run/netns/$(ns host)" $NICE taskset -c "$RX_CPU" \
			tcpdump -i nic0 -Q in -n -c "$n" -w "$f" 2>"$err" & p=$!
	fi
	at_exit "kill $p 2>/dev/null"
	wait_line "$err" 'listening on' "$p" || fail "capture: $tool did not start: $(cat "$err")"
	dev_stats >"$XH_TMP/stats0"
	gout=$(gen -n "$n" -r "$rate" -D 10.77.0.1 -p 9) || fail "capture: xdp_gen failed: $gout"
	CAP_PPS=$(sed -n 's/.*: \([0-9]*\) pps.*/\1/p' <<<"$gout")
	[ -n "$CAP_PPS" ] || fail "capture: xdp_gen said: $gout"
	# Stopping by itself at N frames takes tcpdump up to its ring block
	# timeout (1 s: a partly filled block is handed over only then).
	for ((i = 0; i < 60; i++)); do gone "$p" && break; sleep 0.05; done
	if ! gone "$p"; then
		ok=0 how="did not get $n frames;"
		kill -INT "$p"
	fi
	wait "$p" 2>/dev/null
	got=$(tcpdump -r "$f" -w "$f.gen" 'udp and src 10.77.0.2 and dst 10.77.0.1 and dst port 9' 2>/dev/null &&
		capinfos -c -M "$f.gen" | awk '/^Number of packets/ {print $NF}')
	[ "${got:-0}" = "$n" ] || ok=0
	grep -q 'dropped by w0' <<<"$gout" && ok=0 how="$how generator dropped;"
	echo "$tool asked $rate achieved $CAP_PPS sent $n in-file ${got:-0} $([ $ok = 1 ] && echo ok || echo "LOSS: $how") |" \
		"$(grep -E 'captured|received|dropped|passed' "$err" | paste -sd' ')" >>"$OUT/capture.log"
	# Where the frames went: the veths' counters that moved.
	[ $ok = 1 ] || dev_stats | paste "$XH_TMP/stats0" - |
		awk '$2 != $4 {printf " %s+%d", $1, $4 - $2} END {print ""}' >>"$OUT/capture.log"
	rm -f "$f" "$f.gen"
	[ $ok = 1 ]
}

# search TOOL: the highest achieved rate of a loss-free trial, in Mpps:
# doubling from 1/16 of MAX_MPPS while nothing is lost, then three
# bisections. A loss-free trial whose generator fell more than 10% short of
# the asked rate ends the doubling (nothing faster can be offered to the
# tool), unless one of two more tries at that rate gets there: the shortfall
# was then the machine's (another process on the generator's CPU).
search() {
	local tool=$1 lo=0 hi=0 best=0 r i max short
	max=$(awk -v m="$MAX_MPPS" 'BEGIN {printf "%d", m * 1e6}')
	r=$((max / 16))
	while [ "$r" -le "$max" ]; do
		short=1
		for i in 1 2 3; do
			if ! trial "$tool" "$r"; then hi=$r; break 2; fi
			lo=$r
			[ "$CAP_PPS" -gt "$best" ] && best=$CAP_PPS
			[ "$CAP_PPS" -lt $((r * 9 / 10)) ] || { short=0; break; }
		done
		[ $short = 1 ] && break
		r=$((r * 2))
	done
	if [ "$hi" != 0 ]; then
		for i in 1 2 3; do
			r=$(( (lo + hi) / 2 ))
			if trial "$tool" "$r"; then
				lo=$r
				[ "$CAP_PPS" -gt "$best" ] && best=$CAP_PPS
			else
				hi=$r
			fi
		done
	fi
	awk -v r="$best" 'BEGIN {printf "%.4f\n", r / 1e6}'
}

: >"$OUT/capture.log"
# Alternating, so that whatever else the machine does hits both alike.
for _ in $(seq "$TRIALS"); do
	for tool in xdp libpcap; do
		echo "# search $tool" >>"$OUT/capture.log"
		search $tool >>"$XH_TMP/$tool"
	done
done
for tool in xdp libpcap; do
	name=$([ $tool = xdp ] && echo capture_mpps || echo libpcap_capture_mpps)
	echo "$name $(median <"$XH_TMP/$tool") $(paste -sd' ' "$XH_TMP/$tool")"
done
