#!/bin/bash
# Host mode with `direct` (node config): the sandbox's receive sockets sit
# on the NIC's own RX queues. A real runc container, the real hook; nic0 a
# veth with 2, then 4 queues, UDP from both CPUs (many flows, so every
# queue carries some). Published ports reach xdp_echo on the direct
# sockets with exact counts while xdp0 sees none of it (kernel counters),
# replies leave through xdp0; port 22 and the host's own traffic stay with
# the host; a direct socket refuses a TX ring (EBUSY); a client that does
# not ask for direct gets the veth path; a crashed client's successor gets
# fresh sockets; teardown and gc leave nothing; `direct` is refused in pod
# and netns mode and as an annotation, with one line and nothing left.
# UMEMs: a client that sends its UMEM's memfd gets the direct sockets on a
# registration of their own (copy mode on veth, reported so), the keeper
# mapping none of it afterwards (its Pss is reported); an old-style DIRECT
# (no memfd) gets them on socket 0's UMEM and still receives; bad memfds
# are refused with one line, the keeper left holding nothing. Which UMEM a
# socket is on, as the kernel sees it (this kernel has no XDP sock_diag):
# ep_client registers the keeper's copy with a headroom socket 0's lacks,
# so frames on the keeper's registration start 128 bytes further in.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container.sh"
node_config '{"annotations": ["enable", "nic", "mode", "publish"], "direct": "rx"}'
command -v runc >/dev/null || skip "runc is not installed"
[ -x "$BUILD/xdp_echo" ] || fail "$BUILD/xdp_echo is not built"
FLOWS=32 # per CPU, one datagram each (each its own source port: its own hash, its own queue)

# topo QUEUES: topo_new's namespaces with nic0/w0 of QUEUES RX and TX
# queues each, permanent neighbours both ways (no ARP during the counts).
topo() {
	ns_new host; ns_new world
	ip link add nic0 netns "$(ns host)" numrxqueues "$1" numtxqueues "$1" type veth \
		peer name w0 netns "$(ns world)" numrxqueues "$1" numtxqueues "$1" || fail "veth with $1 queues"
	ip -n "$(ns host)" link set nic0 up; ip -n "$(ns world)" link set w0 up
	in_ns host ip addr add 10.77.0.1/24 dev nic0
	in_ns world ip addr add 10.77.0.2/24 dev w0
	in_ns host ip route add default via 10.77.0.2
	veth_xdp_ready world w0
	in_ns world ip neigh replace 10.77.0.1 lladdr "$(mac_of host nic0)" dev w0 nud permanent
	in_ns host ip neigh replace 10.77.0.2 lladdr "$(mac_of world w0)" dev nic0 nud permanent
}
rx_packets() { nsenter --net="$1" ip -j -s link show "$2" | jq '.[0].stats64.rx.packets'; }
# send N-PER-CPU PORT: from world, one datagram on each of N connected
# sockets (each its own hash, so its own queue) per CPU; then each socket
# reads its echo (bounded), so no reply meets a closed port. Prints the
# number of replies.
send() {
	local cpu got=0 n
	for cpu in 0 1; do
		n=$(in_ns world taskset -c $cpu bash -c '
			fds=()
			for ((i = 0; i < $0; i++)); do exec {fd}<>/dev/udp/10.77.0.1/$1; fds+=($fd); echo -n x >&$fd; done
			got=0
			for fd in "${fds[@]}"; do read -r -t 3 -N 1 -u $fd c && got=$((got + 1)); done
			echo $got' "$1" "$2") || fail "send from CPU $cpu"
		got=$((got + n))
	done
	echo $got
}
# echo_start NAME ARGS...: xdp_echo in the container, until "ready".
echo_start() {
	local out=$XH_TMP/$1; shift
	nsenter --net="$ctr" "$BUILD/xdp_echo" "$@" >"$out" 2>&1 &
	EPID=$!; at_exit "kill -9 $EPID"
	wait_line "$out" ready "$EPID" || fail "xdp_echo $*: $(cat "$out")"
}
# echo_stop NAME: SIGTERM, then its per-socket counts ("xdp0/0=N nic0/1=M ...").
echo_stop() {
	kill "$EPID"; wait_gone "$EPID" || fail "xdp_echo did not exit"
	grep -o 'per socket:.*' "$XH_TMP/$1" | cut -d: -f2- || fail "no counts: $(cat "$XH_TMP/$1")"
}
# send_only N-PER-CPU PORT: as send, for a client that does not answer.
send_only() {
	local cpu
	for cpu in 0 1; do
		in_ns world taskset -c $cpu bash -c '
			for ((i = 0; i < $0; i++)); do exec {fd}<>/dev/udp/10.77.0.1/$1; echo -n x >&$fd; done' "$1" "$2" ||
			fail "send from CPU $cpu"
	done
}
# client_rx KIND BOUND-REGEX OFFSET: ep_client direct KIND takes the direct
# sockets (its BOUND line must match), then 16 datagrams must reach them,
# all at OFFSET into their frame.
client_rx() {
	local out=$XH_TMP/epc-$1 p
	nsenter --net="$ctr" "$BUILD/test/ep_client" direct "$1" 16 >"$out" 2>&1 &
	p=$!; at_exit "kill -9 $p"
	wait_line "$out" '^ok' "$p" || fail "ep_client direct $1: $(cat "$out")"
	grep -Eq "^direct: $2\$" "$out" || fail "ep_client direct $1: BOUND: $(cat "$out")"
	[ "$(in_ns host "$HOOK" list -json | jq -r --arg c "$C" '.[] | select(.id == $c) | [.direct.sockets[] | .mode + ":" + .umem] | unique | join(" ")')" = "copy:${3%%:*}" ] ||
		fail "ep_client direct $1: list -json: $(in_ns host "$HOOK" list -json | jq -c --arg c "$C" '.[] | select(.id == $c) | .direct')"
	PSS="$PSS $1:$(awk '/^Pss:/ {print $2}' "/proc/$kp/smaps_rollup")"
	send_only 8 7000
	wait "$p" || fail "ep_client direct $1: $(cat "$out")"
	grep -q "^received 16 at ${3#*:}\$" "$out" || fail "ep_client direct $1: $(cat "$out")"
}
count_of() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }
sum_direct() { tr ' ' '\n' <<<"$1" | awk -F= '$1 ~ /^nic0\// {s += $2} END {print s + 0}'; }

# ---- one container on a NIC of QUEUES queues ---------------------------------------
run_queues() {
	local q=$1 C=xht-$XH_TAG-d$1 b counts x0 n i
	topo "$q"
	before=$(host_snapshot)
	b=$(bundle_new "d$q" '{"io.xdphook.mode":"host","io.xdphook.nic":"nic0","io.xdphook.publish":"7000/udp,8080:80/tcp"}')
	ctr_create runc "$C" "$b" || fail "runc create: $(cat "$XH_TMP/$C.err")"
	ctr=/proc/$(ctr_pid runc "$C")/ns/net

	# The description lists every queue; the direct sockets refuse a TX ring.
	echo_start "echo$q" --try-tx
	for ((i = 0; i < q; i++)); do
		grep -q "direct.* nic0/$i:copy:own-umem" "$XH_TMP/echo$q" || fail "no direct socket of its own UMEM on queue $i: $(cat "$XH_TMP/echo$q")"
		grep -q "TX ring on nic0 queue $i: Device or resource busy" "$XH_TMP/echo$q" ||
			fail "queue $i: a TX ring was not refused: $(cat "$XH_TMP/echo$q")"
	done
	n=$(in_ns host "$HOOK" list -json | jq --arg c "$C" '.[] | select(.id == $c) | .direct.sockets | map(select(.mode == "copy" and .umem == "own")) | length')
	[ "$n" = "$q" ] || fail "list -json shows $n copy-mode direct sockets of their own UMEM, want $q"
	# The keeper registered the client's memfd and unmapped it again.
	kp=$(jq .keeper.pid "/run/xdphook/$C/state.json")
	grep -q memfd: "/proc/$kp/maps" && fail "the keeper still maps the UMEM: $(grep memfd: "/proc/$kp/maps")"
	PSS="$PSS ${q}q:$(awk '/^Pss:/ {print $2}' "/proc/$kp/smaps_rollup")"

	# Published traffic: all of it on the direct sockets, none on xdp0;
	# every datagram answered.
	x0=$(rx_packets "$ctr" xdp0)
	n=$(send $FLOWS 7000)
	[ "$n" = $((2 * FLOWS)) ] || fail "$q queues: $n replies of $((2 * FLOWS))"
	counts=$(echo_stop "echo$q")
	[ "$(sum_direct "$counts")" = $((2 * FLOWS)) ] || fail "$q queues: direct sockets got: $counts, want $((2 * FLOWS))"
	[ "$(count_of "$counts" xdp0/0)" = 0 ] || fail "$q queues: xdp0's socket got some: $counts"
	for ((i = 0; i < q; i++)); do
		[ "$(count_of "$counts" nic0/$i)" -gt 0 ] || fail "$q queues: queue $i carried nothing: $counts"
	done
	[ "$(rx_packets "$ctr" xdp0)" = "$x0" ] || fail "xdp0 received $(( $(rx_packets "$ctr" xdp0) - x0 )) frames"

	if [ "$q" = 2 ]; then
		# An old-style client: the veth path, all of it through xdp0.
		echo_start old --no-direct
		grep -q direct "$XH_TMP/old" && fail "--no-direct got direct sockets: $(cat "$XH_TMP/old")"
		x0=$(rx_packets "$ctr" xdp0)
		[ "$(send 8 7000)" = 16 ] || fail "old-style client: not every datagram answered"
		counts=$(echo_stop old)
		[ "$(count_of "$counts" xdp0/0)" = 16 ] || fail "old-style client: $counts, want xdp0/0=16"
		[ $(( $(rx_packets "$ctr" xdp0) - x0 )) = 16 ] || fail "old-style client: xdp0 counted $(( $(rx_packets "$ctr" xdp0) - x0 ))"

		# An old-style DIRECT (no memfd): socket 0's UMEM, frames at
		# XDP_PACKET_HEADROOM; with a memfd: the keeper's registration
		# (ep_client's headroom 128 there).
		client_rx anon "nic0/0:copy:xdp0 nic0/1:copy:xdp0" xdp0:256
		client_rx memfd "nic0/0:copy:own nic0/1:copy:own" own:384
		# Bad memfds: one line each, to the client and in the keeper's
		# log; the keeper holds no direct socket and no memfd after.
		for kind in unsealed:'is not sealed with F_SEAL_SHRINK and F_SEAL_GROW' \
			small:'holds [0-9]+ bytes, less than the UMEM.s [0-9]+' \
			sparse:'has 0 of the UMEM.s [0-9]+ bytes allocated \(register it on socket 0 first\)' \
			notmemfd:'is not a memfd \(F_GET_SEALS: Invalid argument\)'; do
			out=$(nsenter --net="$ctr" "$BUILD/test/ep_client" direct "${kind%%:*}" 2>&1) ||
				fail "${kind%%:*} memfd: $out"
			[[ $out =~ ^closed:\ direct:\ the\ UMEM\ (fd|memfd)\ ${kind#*:}$ ]] || fail "${kind%%:*} memfd: $out"
			[ "$(grep -cE "direct: the UMEM (fd|memfd) ${kind#*:}" "/run/xdphook/$C/keeper.log")" = 1 ] ||
				fail "${kind%%:*} memfd: keeper.log: $(tail -3 "/run/xdphook/$C/keeper.log")"
		done
		[ -z "$(ls "/proc/$kp/fd" | awk '$1 >= 64')" ] || fail "the keeper kept direct sockets: $(ls -l "/proc/$kp/fd")"
		ls -l "/proc/$kp/fd" | grep -q memfd: && fail "the keeper kept a memfd: $(ls -l "/proc/$kp/fd")"

		# Crash with the direct sockets, then a fresh client gets fresh ones.
		echo_start crash
		kill -9 "$EPID"; wait_gone "$EPID" || fail "xdp_echo survived SIGKILL"
		wait_line "/run/xdphook/$C/keeper.log" "went away" "$(jq .keeper.pid "/run/xdphook/$C/state.json")" ||
			fail "the keeper did not see the crash: $(tail -3 "/run/xdphook/$C/keeper.log")"
		echo_start again
		[ "$(send 8 7000)" = 16 ] || fail "after a crash: not every datagram answered"
		counts=$(echo_stop again)
		[ "$(sum_direct "$counts")" = 16 ] || fail "after a crash: $counts, want 16 on the direct sockets"

		# Port 22 and the host's own traffic stay with the host.
		# nsenter execs httpd: $! is httpd itself (not a subshell that
		# would leave it running, holding our fds, when killed).
		nsenter --net="/run/netns/$(ns host)" busybox httpd -f -p 22 -h "$XH_ROOTFS/www" &
		httpd=$!; at_exit "kill $httpd"
		for i in $(seq 60); do [ -n "$(in_ns host ss -Hltn 'sport = :22')" ] && break; sleep 0.05; done
		echo_start host22
		[ "$(in_ns world curl -s --max-time 5 http://10.77.0.1:22/)" = "hello from xdphook" ] || fail "port 22 did not stay with the host"
		in_ns host ping -c 1 -W 2 -q 10.77.0.2 >/dev/null || fail "the host's own ping failed"
		counts=$(echo_stop host22)
		[ "$(sum_direct "$counts")$(count_of "$counts" xdp0/0)" = 00 ] || fail "host traffic reached the sandbox: $counts"
		kill "$httpd"; wait_gone "$httpd" || fail "httpd on port 22 did not exit"

		# xdp_tap on the direct sockets: TCP to a published port, xdp0
		# receiving none of it.
		nsenter --net="$ctr" "$BUILD/xdp_tap" >"$XH_TMP/tap" 2>&1 &
		tap=$!; at_exit "kill $tap"
		wait_line "$XH_TMP/tap" ready "$tap" || fail "xdp_tap: $(cat "$XH_TMP/tap")"
		# No ARP (its reply would reach xdp0 as a clone, and be counted).
		nsenter --net="$ctr" ip neigh replace 10.77.0.2 lladdr "$(mac_of world w0)" dev tap0 nud permanent
		nsenter --net="$ctr" busybox httpd -f -p 80 -h "$XH_ROOTFS/www" &
		httpd=$!; at_exit "kill $httpd"
		for i in $(seq 60); do [ -n "$(nsenter --net="$ctr" ss -Hltn 'sport = :80')" ] && break; sleep 0.05; done
		x0=$(rx_packets "$ctr" xdp0)
		[ "$(in_ns world curl -s --max-time 5 http://10.77.0.1:8080/)" = "hello from xdphook" ] ||
			fail "xdp_tap: published 8080 did not reach the sandbox: $(cat "$XH_TMP/tap")"
		[ "$(rx_packets "$ctr" xdp0)" = "$x0" ] || fail "xdp_tap: xdp0 received $(( $(rx_packets "$ctr" xdp0) - x0 )) frames"
		kill "$httpd" "$tap"; wait_gone "$tap" || fail "xdp_tap did not exit"
	fi

	runc_ delete -f "$C" || fail "delete"
	in_ns host "$HOOK" gc >/dev/null 2>&1
	[ "$(host_snapshot)" = "$before" ] || fail "teardown left: $(diff <(echo "$before") <(host_snapshot))"
	[ -z "$(in_ns host "$HOOK" list -json | jq -r '.[].id' | grep -x "$C")" ] || fail "list still shows $C"
	ip netns del "$(ns host)"; ip netns del "$(ns world)"
}

PSS=
run_queues 2
run_queues 4

# ---- refusals: one line, nothing created --------------------------------------
topo 1
before=$(host_snapshot)
refused() { # NAME ANNOTATIONS REGEX
	local C=xht-$XH_TAG-r$1 b
	b=$(bundle_new "r$1" "$2")
	ctr_create runc "$C" "$b" && fail "$1: runc create succeeded"
	grep -Eq -- "$3" "$XH_TMP/$C.err" || fail "$1: stderr lacks /$3/: $(cat "$XH_TMP/$C.err")"
	[ "$(grep -c 'xdp_hook:' "$XH_TMP/$C.err")" = 1 ] || fail "$1: not one line: $(cat "$XH_TMP/$C.err")"
	[ "$(host_snapshot)" = "$before" ] || fail "$1: left behind: $(diff <(echo "$before") <(host_snapshot))"
}
refused pod '{"io.xdphook.nic":"nic0"}' 'direct \(node config\) applies to mode host only \(mode is pod\)'
refused netns '{"io.xdphook.mode":"netns"}' 'direct \(node config\) applies to mode host only \(mode is netns\)'
refused ann '{"io.xdphook.direct":"rx"}' 'annotation io.xdphook.direct: only the node config'
pass "keeper Pss with a direct client (kB):$PSS"
