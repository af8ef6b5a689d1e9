#!/bin/bash
# The whole pod-mode path with a real sandbox on the endpoint: world talks
# to xdp_echo inside runc/crun containers through NIC -> xh- -> xdp0 ->
# AF_XDP and back, over IPv4 and IPv6, without the host kernel forwarding
# any of it; two containers at once each get only their own traffic; and an
# unmodified workload (busybox httpd) behind xdp_tap serves a page.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container.sh"
command -v runc >/dev/null || skip "runc is not installed"
[ -x "$BUILD/xdp_echo" ] || fail "$BUILD/xdp_echo is not built"

topo_new
topo_ipv6
before=$(host_snapshot)

# start_echo PID: xdp_echo in the container's netns; waits for "ready".
start_echo() {
	local pid=$1 out="$XH_TMP/echo-$1"
	ns_bg "/proc/$pid/ns/net" "$BUILD/xdp_echo" >"$out" 2>&1
	echo "$BG_PID" >"$XH_TMP/echo-pid-$pid"
	for _ in $(seq 100); do grep -q ready "$out" && return 0; sleep 0.05; done
	fail "xdp_echo did not get ready: $(cat "$out")"
}
forwarded() { # datagrams the host kernel forwarded (v4 + v6)
	in_ns host awk '/^Ip: [0-9]/ {print $7}' /proc/net/snmp
	in_ns host awk '/^Ip6OutForwDatagrams/ {print $2}' /proc/net/snmp6
}
udp_echo() { # udp_echo ADDR PORT: one datagram, its echo within 2 s
	in_ns world perl -MIO::Socket::IP -e '
		my $s = IO::Socket::IP->new(PeerHost => $ARGV[0], PeerPort => $ARGV[1], Proto => "udp") or exit 2;
		$s->send("xdphook $$") or exit 3;
		my $r = ""; local $SIG{ALRM} = sub { exit 4 }; alarm 2; $s->recv($r, 100);
		exit($r eq "xdphook $$" ? 0 : 5)' "$1" "$2"
}
endpoint_rx() { in_ns host "$HOOK" list -json | jq --arg id "$1" '.[] | select(.id == $id) | .programs.endpoint.redirect.packets'; }

for rt in runc crun; do
	command -v $rt >/dev/null || { echo "$rt not installed: not run"; continue; }
	C1=xht-$XH_TAG-$rt-1 C2=xht-$XH_TAG-$rt-2
	b1=$(bundle_new $rt-1 '{"io.xdphook.ips":"10.77.1.5/32,fd77:1::5/128","io.xdphook.nic":"nic0"}')
	b2=$(bundle_new $rt-2 '{"io.xdphook.ips":"10.77.1.6/32","io.xdphook.nic":"nic0"}')
	t0=$(date +%s%N)
	ctr_create $rt "$C1" "$b1" || fail "$rt create: $(cat "$XH_TMP/$C1.err")"
	echo "$rt create with the hook: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
	ctr_create $rt "$C2" "$b2" || fail "$rt create 2: $(cat "$XH_TMP/$C2.err")"
	start_echo "$(ctr_pid $rt "$C1")"
	start_echo "$(ctr_pid $rt "$C2")"

	f0=$(forwarded | awk '{s += $1} END {print s}')
	in_ns world ping -c 3 -i 0.2 -W 1 -q 10.77.1.5 >/dev/null || fail "$rt: ping v4 to the sandbox"
	in_ns world ping -6 -c 3 -i 0.2 -W 2 -q fd77:1::5 >/dev/null || fail "$rt: ping v6 to the sandbox"
	udp_echo 10.77.1.5 7 || fail "$rt: UDP echo v4 (rc $?)"
	udp_echo fd77:1::5 5353 || fail "$rt: UDP echo v6 (rc $?)"
	[ "$(( $(forwarded | awk '{s += $1} END {print s}') - f0 ))" = 0 ] || fail "$rt: the host kernel forwarded sandbox traffic"

	r1=$(endpoint_rx "$C1") r2=$(endpoint_rx "$C2")
	in_ns world ping -c 4 -i 0.2 -W 1 -q 10.77.1.6 >/dev/null || fail "$rt: ping the second sandbox"
	[ "$(( $(endpoint_rx "$C1") - r1 ))" = 0 ] || fail "$rt: sandbox 1 saw sandbox 2's traffic"
	[ "$(( $(endpoint_rx "$C2") - r2 ))" -ge 4 ] || fail "$rt: sandbox 2 missed its traffic"

	# An unmodified workload: busybox httpd behind xdp_tap (sandbox 2).
	p2=$(ctr_pid $rt "$C2")
	kill "$(cat "$XH_TMP/echo-pid-$p2")"
	# The next client may come once the keeper saw this one go.
	wait_line "/run/xdphook/$C2/keeper.log" "went away" "$(jq -r .keeper.pid "/run/xdphook/$C2/state.json")" ||
		fail "$rt: the keeper did not see xdp_echo go"
	ns_bg "/proc/$p2/ns/net" "$BUILD/xdp_tap" >"$XH_TMP/tap-$rt" 2>&1
	for _ in $(seq 100); do grep -q ready "$XH_TMP/tap-$rt" && break; sleep 0.05; done
	grep -q ready "$XH_TMP/tap-$rt" || fail "$rt: xdp_tap: $(cat "$XH_TMP/tap-$rt")"
	mkdir -p "$XH_TMP/www"; echo "served by $rt through xdp_tap" >"$XH_TMP/www/index.html"
	ns_bg "/proc/$p2/ns/net" busybox httpd -f -p 80 -h "$XH_TMP/www"
	httpd=$BG_PID
	for _ in $(seq 60); do [ -n "$(nsenter --net="/proc/$p2/ns/net" ss -Hltn 'sport = :80')" ] && break; sleep 0.05; done
	f0=$(forwarded | awk '{s += $1} END {print s}')
	[ "$(in_ns world curl -s --max-time 5 http://10.77.1.6/)" = "served by $rt through xdp_tap" ] ||
		fail "$rt: curl through xdp_tap"
	[ "$(( $(forwarded | awk '{s += $1} END {print s}') - f0 ))" = 0 ] || fail "$rt: the host kernel forwarded the HTTP exchange"
	bg_kill "$httpd"

	${rt}_ delete -f "$C1" || fail "$rt delete"
	${rt}_ delete -f "$C2" || fail "$rt delete 2"
	[ "$(host_snapshot)" = "$before" ] || fail "$rt teardown left: $(diff <(echo "$before") <(host_snapshot))"
done
pass
