#!/bin/bash
# xdp_loader -program tcpdump: captures through AF_XDP (captured frames do
# not reach the kernel: pings go unanswered), stops after -count, writes a
# pcap tshark and tcpdump read, detaches even on SIGKILL, captures every RX
# queue with -all-queues, and refuses a device that already has a program.
. "$(dirname "$0")/lib.sh"

command -v tshark >/dev/null || skip "tshark not installed"
command -v tcpdump >/dev/null || skip "tcpdump not installed"

PIDS=()
at_exit 'for p in "${PIDS[@]}"; do kill -9 "$p"; done'

ns_new a
ns_new b
A="tda$XH_TAG"
B="tdb$XH_TAG"
veth_new "$A" a "$B" b
ip -n "$(ns a)" addr add 10.250.0.1/24 dev "$A"
ip -n "$(ns b)" addr add 10.250.0.2/24 dev "$B"

# Captured frames never reach b's kernel, so b would not answer ARP: give a
# a permanent neighbour entry and the pings go out as they are.
ip -n "$(ns a)" neigh replace 10.250.0.2 lladdr "$(mac_of b "$B")" dev "$A" nud permanent

# capture NAME DEV ARGS...: start the capture in b, stdout/stderr to
# $XH_TMP/NAME.out/.err, pid in CAP.
capture() {
	local name=$1 dev=$2; shift 2
	# nsenter itself, not the in_ns function: a function in the background
	# runs in a subshell, and $! would be that shell, not the loader.
	nsenter --net="/run/netns/$(ns b)" "$LOADER" -program tcpdump -device "$dev" "$@" \
		>"$XH_TMP/$name.out" 2>"$XH_TMP/$name.err" &
	CAP=$!
	PIDS+=("$CAP")
}

# Bounded polling (no sleeps as synchronisation): ~10 s deadlines.
wait_attached() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ -n "$(xdp_prog_id b "$1")" ] && return 0
		kill -0 "$CAP" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
wait_detached() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ -z "$(xdp_prog_id b "$1")" ] && return 0
		sleep 0.05
	done
	return 1
}
# wait_exit: wait for CAP to end by itself; its exit code in RC.
wait_exit() {
	local i
	for ((i = 0; i < 200; i++)); do
		if ! kill -0 "$CAP" 2>/dev/null; then
			wait "$CAP"; RC=$?
			return 0
		fi
		sleep 0.05
	done
	return 1
}
count() { grep -c -- "$1" "$2"; }

# --- (a) -count 5 -write: a pcap that tshark and tcpdump read -------------------
capture a "$B" -count 5 -write "$XH_TMP/c.pcap"
wait_attached "$B" || fail "capture not attached: $(cat "$XH_TMP/a.err")"
grep -q "listening on $B, 1 queue (0)" "$XH_TMP/a.err" || fail "no banner: $(cat "$XH_TMP/a.err")"
in_ns a ping -c 5 -i 0.2 -W 1 10.250.0.2 >"$XH_TMP/ping-a" 2>&1 \
	&& fail "pings were answered: captured frames reached the kernel"
wait_exit || fail "-count 5 did not end the capture"
[ "$RC" = 0 ] || fail "-count 5 exited $RC: $(cat "$XH_TMP/a.err")"
grep -qx "5 packets captured" "$XH_TMP/a.err" || fail "stats: $(cat "$XH_TMP/a.err")"
[ ! -s "$XH_TMP/a.out" ] || fail "-write printed packet lines: $(head -3 "$XH_TMP/a.out")"
wait_detached "$B" || fail "capture program still attached after exit"
n=$(tshark -r "$XH_TMP/c.pcap" 2>/dev/null | wc -l)
[ "$n" = 5 ] || fail "tshark reads $n frames, want 5"
n=$(tshark -r "$XH_TMP/c.pcap" -Y "icmp.type == 8 && ip.dst == 10.250.0.2" 2>/dev/null | wc -l)
[ "$n" = 5 ] || fail "tshark finds $n ICMP echo requests, want 5"
n=$(tcpdump -n -r "$XH_TMP/c.pcap" icmp 2>/dev/null | grep -c "ICMP echo request")
[ "$n" = 5 ] || fail "tcpdump finds $n ICMP echo requests, want 5"

# --- (b) lines on stdout ---------------------------------------------------------
capture b "$B" -count 5
wait_attached "$B" || fail "capture not attached: $(cat "$XH_TMP/b.err")"
in_ns a ping -c 5 -i 0.2 -W 1 10.250.0.2 >"$XH_TMP/ping-b" 2>&1 \
	&& fail "pings were answered while capturing"
wait_exit || fail "-count 5 did not end the capture"
[ "$RC" = 0 ] || fail "exit $RC: $(cat "$XH_TMP/b.err")"
[ "$(count "ICMP echo request" "$XH_TMP/b.out")" = 5 ] || fail "want 5 echo requests: $(cat "$XH_TMP/b.out")"
[ "$(wc -l <"$XH_TMP/b.out")" = 5 ] || fail "want exactly 5 lines: $(cat "$XH_TMP/b.out")"
mac_a=$(mac_of a "$A") mac_b=$(mac_of b "$B")
re="^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} $mac_a > $mac_b, ethertype IPv4 \(0x0800\), length 98: "
re+="10\.250\.0\.1 > 10\.250\.0\.2: ICMP echo request, id [0-9]+, seq [1-5], length 64$"
[ "$(grep -cE "$re" "$XH_TMP/b.out")" = 5 ] || fail "lines do not match /$re/: $(cat "$XH_TMP/b.out")"
wait_detached "$B" || fail "capture program still attached after exit"

# --- (c) SIGTERM ends it cleanly; SIGKILL still detaches --------------------------
capture c1 "$B"
wait_attached "$B" || fail "capture not attached: $(cat "$XH_TMP/c1.err")"
kill -TERM "$CAP"
wait_exit || fail "SIGTERM did not end the capture"
[ "$RC" = 0 ] || fail "SIGTERM: exit $RC: $(cat "$XH_TMP/c1.err")"
grep -q "packets dropped by kernel" "$XH_TMP/c1.err" || fail "no stats after SIGTERM"
wait_detached "$B" || fail "capture program still attached after SIGTERM"

capture c2 "$B"
wait_attached "$B" || fail "capture not attached: $(cat "$XH_TMP/c2.err")"
in_ns a ping -c 1 -W 1 10.250.0.2 >/dev/null 2>&1 && fail "ping answered while capturing"
kill -KILL "$CAP"
wait "$CAP" 2>/dev/null
wait_detached "$B" || fail "capture program still attached after SIGKILL"
in_ns a ping -c 1 -W 2 10.250.0.2 >"$XH_TMP/ping-c" 2>&1 \
	|| fail "ping fails after the capture was killed: $(cat "$XH_TMP/ping-c")"

# --- (d) -all-queues on a 4-queue veth --------------------------------------------
MA="tma$XH_TAG"
MB="tmb$XH_TAG"
# Both ends need the queues (veth_new would give them to one end only), and
# a veth refuses XDP with fewer RX queues than its peer has TX queues.
ip link add "$MA" netns "$(ns a)" numtxqueues 4 numrxqueues 4 type veth \
	peer name "$MB" netns "$(ns b)" numtxqueues 4 numrxqueues 4 || fail "cannot create 4-queue veth"
ip -n "$(ns a)" link set "$MA" up
ip -n "$(ns b)" link set "$MB" up
ip -n "$(ns a)" addr add 10.250.1.1/24 dev "$MA"
ip -n "$(ns b)" addr add 10.250.1.2/24 dev "$MB"
ip -n "$(ns a)" neigh replace 10.250.1.2 lladdr "$(mac_of b "$MB")" dev "$MA" nud permanent
capture d "$MB" -all-queues -count 16
wait_attached "$MB" || fail "capture not attached: $(cat "$XH_TMP/d.err")"
grep -q "listening on $MB, 4 queues (0-3)" "$XH_TMP/d.err" || fail "want 4 sockets: $(cat "$XH_TMP/d.err")"
# Every datagram from a fresh socket, so a fresh source port and flow hash:
# the veth spreads them over its queues.
in_ns a bash -c 'for i in $(seq 16); do echo x >/dev/udp/10.250.1.2/9; done' \
	|| fail "cannot send UDP"
wait_exit || fail "-count 16 did not end the capture (not every queue captured?): $(cat "$XH_TMP/d.err")"
[ "$RC" = 0 ] || fail "exit $RC: $(cat "$XH_TMP/d.err")"
n=$(grep -cE "10\.250\.1\.1\.[0-9]+ > 10\.250\.1\.2\.9: UDP, length 2$" "$XH_TMP/d.out")
[ "$n" = 16 ] || fail "want 16 UDP lines, got $n: $(cat "$XH_TMP/d.out")"
grep -qx "16 packets captured" "$XH_TMP/d.err" || fail "stats: $(cat "$XH_TMP/d.err")"
wait_detached "$MB" || fail "capture program still attached after exit"

# --- (e) refusals --------------------------------------------------------------
expect_fail 1 "^xdp_loader: nosuch$XH_TAG: no such device$" \
	in_ns b "$LOADER" -program tcpdump -device "nosuch$XH_TAG"
expect_fail 1 "^xdp_loader: $MB: queue 4: no such RX queue \(device has 4\)" \
	in_ns b "$LOADER" -program tcpdump -device "$MB" -queue 4
expect_fail 1 "^xdp_loader: $B: open $XH_TMP/no/such/dir/x.pcap: No such file or directory$" \
	in_ns b "$LOADER" -program tcpdump -device "$B" -write "$XH_TMP/no/such/dir/x.pcap"
ip -n "$(ns b)" link set dev "$B" xdpdrv obj "$BUILD/bpf/xdp_pass.bpf.o" sec xdp \
	|| fail "cannot attach a foreign program"
id=$(xdp_prog_id b "$B")
expect_fail 1 "^xdp_loader: $B: attach capture program: device already has an XDP program \(id $id, name xdphook_pass\); detach it first$" \
	in_ns b "$LOADER" -program tcpdump -device "$B"
[ "$(xdp_prog_id b "$B")" = "$id" ] || fail "the foreign program was disturbed"
ip -n "$(ns b)" link set dev "$B" xdpdrv off

pass "count/pcap, lines, SIGTERM/SIGKILL detach, 4 queues, refusals"
