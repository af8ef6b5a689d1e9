#!/bin/bash
# gVisor's netstack on the endpoint vs on runsc's default path: the same
# server (build/xdp_gvisor) as
#   xdp:    -link xdp in a runc container set up by the hook (pod mode),
#           NIC -> xh- -> xdp0 -> AF_XDP;
#   netns:  -link xdp in a runc container set up by the hook in netns mode
#           on a CNI ptp veth (AF_XDP on the CNI's eth0, the host kernel
#           routing between nic0 and the ptp veth, as for packet);
#   packet: -link packet on a CNI ptp veth (AF_PACKET, PACKET_MMAP, GSO),
#           the host kernel routing between nic0 and the ptp veth;
# measured from netns world: wrk requests/s and p50/p99 latency at 1, 8 and
# 64 connections (GET /, $WRK_SECONDS s each, after a 1 s warm-up), TCP bulk
# download (GET /bytes/N) and upload (PUT /upload) with curl, the median of
# $TRIALS transfers of $BULK_MB MB; and the datagrams the host kernel
# forwarded during the xdp runs (goal 0); and host mode with `direct` vs
# packet behind DNAT (below). The server is pinned to $RX_CPU,
# the clients to $GEN_CPU.
#
# GV_LINKS picks which (default all three; e.g. GV_LINKS="netns packet").
#
# Prints "key value" lines, the figures and then the ratios xdp / packet
# (gvisor_*_ratio) and netns / packet (gvisor_netns_*_ratio)
# (run.sh takes them into results.json, its table and chart), and writes
# them to $OUT/gvisor.json with every wrk output in $OUT/gvisor_wrk.log.
# Run alone (`make bench-gvisor`, or `BUILD=build test/bench/gvisor.sh`)
# it needs neither xdp_gen nor the rest of the benchmark.
set -u
. "$(dirname "$0")/lib.sh" gvisor
GV="$BUILD/xdp_gvisor"
WRK_SECONDS=${WRK_SECONDS:-5}
BULK_MB=${BULK_MB:-200}
GV_LINKS=${GV_LINKS:-xdp netns packet}
want() { [[ " $GV_LINKS " == *" $1 "* ]]; }
CNI=/usr/lib/cni

[ -x "$GV" ] || skip "$GV is not built (Go and golang-gvisor-gvisor-dev)"
for t in wrk curl runc jq taskset; do command -v $t >/dev/null || skip "$t is not installed"; done
[ -x $CNI/ptp ] && [ -x $CNI/host-local ] || skip "containernetworking-plugins is not installed"
weigh_up
bench_topo

# us VALUE-WITH-UNIT: wrk's latency ("812.00us", "3.21ms", "1.02s") in µs.
us() { awk '{v = $1 + 0; if ($1 ~ /ms$/) v *= 1e3; else if ($1 ~ /[0-9]s$/) v *= 1e6; printf "%.1f\n", v}' <<<"$1"; }
forwarded() {
	{ in_ns host awk '/^Ip: [0-9]/ {print $7}' /proc/net/snmp
	  in_ns host awk '/^Ip6OutForwDatagrams/ {print $2}' /proc/net/snmp6; } | awk '{s += $1} END {print s}'
}
# measure LINK ADDR: every figure of one link.
measure() {
	local link=$1 addr=$2 c out i
	in_ns world taskset -c "$GEN_CPU" wrk -t1 -c8 -d1s "http://$addr:8080/" >/dev/null 2>&1
	for c in 1 8 64; do
		out=$(in_ns world $NICE taskset -c "$GEN_CPU" wrk -t1 -c$c -d${WRK_SECONDS}s --latency "http://$addr:8080/" 2>&1) ||
			fail "wrk -c$c on $link: $out"
		echo "$out" | sed "s/^/$link c$c: /" >>"$XH_TMP/wrk.log"
		echo "${link}_c${c}_rps $(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")"
		echo "${link}_c${c}_p50_us $(us "$(awk '$1 == "50%" {print $2}' <<<"$out")")"
		echo "${link}_c${c}_p99_us $(us "$(awk '$1 == "99%" {print $2}' <<<"$out")")"
	done
	head -c $((BULK_MB << 20)) /dev/zero >"$XH_TMP/upload"
	for dir in down up; do
		for i in $(seq "$TRIALS"); do
			if [ $dir = down ]; then
				in_ns world $NICE taskset -c "$GEN_CPU" curl -sS --max-time 60 -o /dev/null -w '%{speed_download}\n' \
					"http://$addr:8080/bytes/$((BULK_MB << 20))"
			else
				in_ns world $NICE taskset -c "$GEN_CPU" curl -sS --max-time 60 -o /dev/null -w '%{speed_upload}\n' \
					-T "$XH_TMP/upload" "http://$addr:8080/upload"
			fi || fail "curl $dir on $link"
		done | awk '{printf "%.1f\n", $1 / 1e6}' | median | sed "s/^/${link}_bulk_${dir}_mbs /"
	done
}
start_gv() { # NETNS-PATH NAME ARGS...
	local netns=$1 name=$2; shift 2
	nsenter --net="$netns" $NICE taskset -c "$RX_CPU" "$GV" "$@" >"$XH_TMP/gv-$name" 2>&1 &
	GV_PID=$!
	at_exit "kill $GV_PID 2>/dev/null"
	wait_line "$XH_TMP/gv-$name" '^ready ' "$GV_PID" || fail "xdp_gvisor $*: $(cat "$XH_TMP/gv-$name")"
}

stop_gv() { kill -INT "$GV_PID"; wait "$GV_PID" 2>/dev/null; grep XDP_STATISTICS "$XH_TMP/gv-$1" >&2; }
# cni_pod_routed NAME SUBNET: cni_ptp NAME SUBNET, world routing SUBNET via
# the node; PTP_IP.
cni_pod_routed() {
	cni_ptp "$1" "$2"
	in_ns world ip route add "$2" via 10.77.0.1
}
: >"$XH_TMP/all.res"

# xdp: the hook's pod mode.
if want xdp; then
	log "xdp: xdp_gvisor -link xdp in a runc container (pod mode)"
	path_ctr
	start_gv "$CTR_NET" xdp ${GV_XDP_ARGS:-}
	f0=$(forwarded)
	measure xdp 10.77.1.5 >>"$XH_TMP/all.res"
	echo "xdp_forwarded_packets $(( $(forwarded) - f0 ))" >>"$XH_TMP/all.res"
	stop_gv xdp
	runc_ delete -f "$C" >/dev/null || fail "runc delete"
fi

# netns: the hook's netns mode on the CNI's own ptp interface.
if want netns; then
	log "netns: xdp_gvisor -link xdp in a runc container (netns mode, CNI ptp veth)"
	cni_pod_routed n 10.77.3.0/24
	C=xht-$XH_TAG-gvn
	netns_ctr "$C" n >/dev/null || fail "runc create (netns mode): $(cat "$XH_TMP/$C.err")"
	start_gv "/run/netns/$(ns n)" netns
	measure netns "$PTP_IP" >>"$XH_TMP/all.res"
	stop_gv netns
	runc_ delete -f "$C" >/dev/null || fail "runc delete (netns mode)"
fi

# packet: runsc's default network on a CNI ptp veth.
if want packet; then
	log "packet: xdp_gvisor -link packet on a CNI ptp veth"
	cni_pod_routed p 10.77.2.0/24
	start_gv "/run/netns/$(ns p)" packet -link packet -dev eth0
	measure packet "$PTP_IP" >>"$XH_TMP/all.res"
	kill -INT "$GV_PID"; wait "$GV_PID" 2>/dev/null
fi

# direct (host mode, docker -p style): xdp_gvisor -link xdp in host mode
# with the node's direct=rx (its receive sockets on nic0's own RX queue)
# vs -link packet behind the kernel's DNAT (docker -p: nic0:8080 -> a veth
# into the sandbox's netns): requests/s and p99 at 8 connections.
# GV_DIRECT=0 leaves it out, and so does -xdp-impl gvisor (gVisor's link
# takes one socket).
c8() { # LINK ADDR
	local out
	in_ns world taskset -c "$GEN_CPU" wrk -t1 -c8 -d1s "http://$2:8080/" >/dev/null 2>&1
	out=$(in_ns world $NICE taskset -c "$GEN_CPU" wrk -t1 -c8 -d${WRK_SECONDS}s --latency "http://$2:8080/" 2>&1) ||
		fail "wrk -c8 on $1: $out"
	echo "$out" | sed "s/^/$1 c8: /" >>"$XH_TMP/wrk.log"
	echo "${1}_c8_rps $(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")"
	echo "${1}_c8_p99_us $(us "$(awk '$1 == "99%" {print $2}' <<<"$out")")"
}
: >"$XH_TMP/direct.res"
case " ${GV_XDP_ARGS:-} " in *" -xdp-impl gvisor "*) GV_DIRECT=0 ;; esac
if [ "${GV_DIRECT:-1}" = 1 ]; then
	log "direct: xdp_gvisor -link xdp in host mode with direct"
	node_config '{"annotations": ["enable", "nic", "mode", "publish"], "direct": "rx"}'
	C=xht-$XH_TAG-gvd
	b=$(bundle_new gvd '{"io.xdphook.mode":"host","io.xdphook.nic":"nic0","io.xdphook.publish":"8080:8080/tcp"}')
	ctr_create runc "$C" "$b" || fail "runc create (host mode, direct): $(cat "$XH_TMP/$C.err")"
	start_gv "/proc/$(ctr_pid runc "$C")/ns/net" direct ${GV_XDP_ARGS:-}
	grep -q 'sockets=2$' "$XH_TMP/gv-direct" || fail "no direct socket: $(cat "$XH_TMP/gv-direct")"
	c8 direct_xdp 10.77.0.1 >>"$XH_TMP/direct.res"
	kill -INT "$GV_PID"; wait "$GV_PID" 2>/dev/null
	grep XDP_STATISTICS "$XH_TMP/gv-direct" >&2
	runc_ delete -f "$C" >/dev/null || fail "runc delete (direct)"

	log "direct: xdp_gvisor -link packet behind DNAT (docker -p)"
	dnat_ns dn tcp 8080 8080
	start_gv "/run/netns/$(ns dn)" dnat -link packet -dev eth0
	c8 direct_packet_dnat 10.77.0.1 >>"$XH_TMP/direct.res"
	kill -INT "$GV_PID"; wait "$GV_PID" 2>/dev/null
	awk '$1 == "direct_xdp_c8_rps" {a = $2} $1 == "direct_packet_dnat_c8_rps" {b = $2}
		END {printf "direct_c8_rps_ratio %.3f\n", (b > 0) ? a / b : 0}' "$XH_TMP/direct.res" >>"$XH_TMP/direct.res"
fi

# Ratios xdp / packet and netns / packet: requests/s and latency at each
# connection count, bulk both ways.
val() { awk -v k="$1" '$1 == k {print $2}' "$XH_TMP/all.res"; }
for l in xdp netns; do
	want $l && want packet || continue
	prefix=gvisor_; [ $l = netns ] && prefix=gvisor_netns_
	for k in c1_rps c8_rps c64_rps c1_p50_us c8_p50_us c64_p50_us c1_p99_us c8_p99_us c64_p99_us bulk_down_mbs bulk_up_mbs; do
		awk -v k="$prefix${k}_ratio" -v a="$(val ${l}_$k)" -v b="$(val packet_$k)" \
			'BEGIN {printf "%s %.3f\n", k, (b > 0) ? a / b : 0}'
	done
done >"$XH_TMP/ratios"
sed 's/^/gvisor_/' "$XH_TMP/all.res" "$XH_TMP/direct.res" | cat - "$XH_TMP/ratios" | tee "$XH_TMP/out"
OUT=${OUT:-$BUILD/bench}
mkdir -p "$OUT"
jq -R 'split(" ") | {(.[0]): (.[1] | tonumber)}' "$XH_TMP/out" | jq -s add >"$OUT/gvisor.json" ||
	fail "writing $OUT/gvisor.json"
cp "$XH_TMP/wrk.log" "$OUT/gvisor_wrk.log"
exit 0
