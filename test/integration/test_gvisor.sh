#!/bin/bash
# gVisor's network stack (build/xdp_gvisor) as the sandbox of a runc
# container set up by the hook:
#  * pod mode, -link xdp: curl over IPv4 and IPv6 (a page and 1 MB), TCP
#    and UDP echo, ping v4/v6, all through NIC -> xh- -> xdp0 -> AF_XDP with
#    the host kernel forwarding nothing; `xdp_hook list` shows the socket's
#    XDP_STATISTICS; killed and started again, it gets the endpoint again;
#  * -link gvisor-xdp (gVisor's link as shipped, one-queue fifo): the same
#    page and echo;
#  * host mode (docker -p) with `direct`: the published port reaches
#    xdp_gvisor (frames on the direct socket of nic0's queue), port 22 and
#    the host's own connections stay with the host; -link gvisor-xdp there
#    says it takes one socket and works on the veth path; -link xdp's
#    direct socket is on a UMEM of its own (the Go client sent the memfd);
#  * -link packet on a CNI ptp interface (runsc's default path): curl and
#    TCP echo through the host kernel;
#  * netns mode (the hook on the CNI's dual-stack ptp eth0, runc joining
#    the netns the CNI made): -link xdp (the Go client) from world and from
#    the node, curl v4/v6, TCP/UDP echo, ping v4/v6, the host forwarding;
#    killed, then -link gvisor-xdp; teardown, then CNI DEL.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container.sh"
GV="$BUILD/xdp_gvisor"
[ -x "$GV" ] || { command -v go >/dev/null && [ -d /usr/share/gocode/src/gvisor.dev/gvisor ] &&
	fail "$GV is not built"; skip "Go or golang-gvisor-gvisor-dev is not installed"; }
command -v runc >/dev/null || skip "runc is not installed"
for t in curl perl jq; do command -v $t >/dev/null || skip "$t is not installed"; done

topo_new
topo_ipv6
before=$(host_snapshot)

# gvisor_start NETNS-PATH NAME ARGS...: xdp_gvisor until its ready line.
gvisor_start() {
	local netns=$1 name=$2; shift 2
	nsenter --net="$netns" "$GV" "$@" >"$XH_TMP/gv-$name" 2>&1 &
	GV_PID=$!
	at_exit "kill -9 $GV_PID"
	wait_line "$XH_TMP/gv-$name" '^ready ' "$GV_PID" || fail "xdp_gvisor $*: no ready line: $(cat "$XH_TMP/gv-$name")"
}
forwarded() { # datagrams the host kernel forwarded, v4 + v6
	{ in_ns host awk '/^Ip: [0-9]/ {print $7}' /proc/net/snmp
	  in_ns host awk '/^Ip6OutForwDatagrams/ {print $2}' /proc/net/snmp6; } | awk '{s += $1} END {print s}'
}
# echo_ok NS PROTO ADDR PORT: one line through the TCP or UDP echo, in 3 s.
echo_ok() {
	in_ns "$1" perl -MIO::Socket::IP -e '
		my ($proto, $host, $port) = @ARGV;
		my $s = IO::Socket::IP->new(PeerHost => $host, PeerPort => $port, Proto => $proto, Timeout => 3) or exit 2;
		local $SIG{ALRM} = sub { exit 4 }; alarm 3;
		my $msg = "xdp_gvisor echo $$\n"; my $r = "";
		$s->send($msg) or exit 3;
		if ($proto eq "udp") { $s->recv($r, 100) } else { $r = <$s> }
		exit($r eq $msg ? 0 : 5)' "$2" "$3" "$4" || fail "$2 echo from $1 to [$3]:$4 (rc $?)"
}
page_ok() { # NS URL: the page names xdp_gvisor
	local page; page=$(in_ns "$1" curl -gsS --max-time 5 "$2" 2>&1) || fail "curl $2 from $1: $page"
	grep -q xdp_gvisor <<<"$page" || fail "curl $2 from $1 got: $page"
}
bytes_ok() { # NS URL N
	local n; n=$(in_ns "$1" curl -gsS --max-time 10 -o /dev/null -w '%{size_download}' "$2/bytes/$3" 2>&1) ||
		fail "curl $2/bytes/$3 from $1: $n"
	[ "$n" = "$3" ] || fail "curl $2/bytes/$3 from $1 got $n bytes"
}
keeper_saw_go() { # ID N: the keeper logged N clients going
	local i log=/run/xdphook/$1/keeper.log
	for ((i = 0; i < 200; i++)); do
		[ "$(grep -c 'went away' "$log" 2>/dev/null)" -ge "$2" ] && return 0; sleep 0.05
	done
	fail "the keeper did not see client $2 go: $(cat "$log")"
}

# --- pod mode ----------------------------------------------------------------------------
C=xht-$XH_TAG-gv
b=$(bundle_new gv '{"io.xdphook.ips":"10.77.1.5/32,fd77:1::5/128","io.xdphook.nic":"nic0"}')
ctr_create runc "$C" "$b" || fail "runc create: $(cat "$XH_TMP/$C.err")"
ctr=/proc/$(ctr_pid runc "$C")/ns/net
gvisor_start "$ctr" xdp
grep -q '^ready link=xdp ifname=xdp0 .*addresses=10.77.1.5/32,fd77:1::5/128 http=8080 echo=7' "$XH_TMP/gv-xdp" ||
	fail "ready line: $(cat "$XH_TMP/gv-xdp")"
f0=$(forwarded)
page_ok world http://10.77.1.5:8080/
page_ok world 'http://[fd77:1::5]:8080/'
bytes_ok world http://10.77.1.5:8080 1000000
bytes_ok world 'http://[fd77:1::5]:8080' 1000000
echo_ok world tcp 10.77.1.5 7
echo_ok world udp 10.77.1.5 7
echo_ok world tcp fd77:1::5 7
echo_ok world udp fd77:1::5 7
in_ns world ping -c 2 -i 0.2 -W 2 -q 10.77.1.5 >/dev/null || fail "ping 10.77.1.5"
in_ns world ping -6 -c 2 -i 0.2 -W 2 -q fd77:1::5 >/dev/null || fail "ping fd77:1::5"
[ "$(( $(forwarded) - f0 ))" = 0 ] || fail "the host kernel forwarded $(( $(forwarded) - f0 )) sandbox packets"
# XDP_STATISTICS of the endpoint socket, in the table and the JSON.
st=$(in_ns host "$HOOK" list -json | jq -c --arg id "$C" '.[] | select(.id == $id) | .endpoint_socket')
jq -e '.rx_dropped == 0 and .rx_ring_full == 0 and (.tx_ring_empty_descs | type) == "number"' <<<"$st" >/dev/null ||
	fail "list -json endpoint_socket: $st"
in_ns host "$HOOK" list | grep -Eq "^$C .* rx_dropped=0 " || fail "list: $(in_ns host "$HOOK" list)"

# Killed and started again: the endpoint again.
kill -9 "$GV_PID"
keeper_saw_go "$C" 1
gvisor_start "$ctr" xdp2
page_ok world http://10.77.1.5:8080/
echo_ok world tcp 10.77.1.5 7
kill -TERM "$GV_PID"
wait_gone "$GV_PID" || fail "xdp_gvisor still runs after SIGTERM"
grep -Eq 'XDP_STATISTICS(\[0 xdp0/0] received [1-9][0-9]*)? rx_dropped' "$XH_TMP/gv-xdp2" || fail "exit line: $(cat "$XH_TMP/gv-xdp2")"
keeper_saw_go "$C" 2

# gVisor's link as shipped, behind a one-queue fifo.
gvisor_start "$ctr" gvisor-xdp -link gvisor-xdp
page_ok world http://10.77.1.5:8080/
bytes_ok world http://10.77.1.5:8080 1000000
echo_ok world tcp 10.77.1.5 7
echo_ok world udp fd77:1::5 7
kill "$GV_PID"
runc_ delete -f "$C" || fail "runc delete"

# --- host mode: the published port reaches xdp_gvisor, 22 and the host's own stay ----------
# With `direct`: -link xdp receives on the socket on nic0's RX queue too.
C=xht-$XH_TAG-gvh
# The node lets this single-tenant host's containers pick host mode and publish ports.
node_config '{"annotations": ["enable", "ips", "nic", "mode", "publish"], "direct": "rx"}'
b=$(bundle_new gvh '{"io.xdphook.mode":"host","io.xdphook.nic":"nic0","io.xdphook.publish":"8080:8080/tcp,7:7/udp"}')
ctr_create runc "$C" "$b" || fail "runc create (host mode): $(cat "$XH_TMP/$C.err")"
ctr=/proc/$(ctr_pid runc "$C")/ns/net
gvisor_start "$ctr" host
grep -Eq 'addresses=10.77.0.1/24[, ].* sockets=2$' "$XH_TMP/gv-host" || fail "host mode ready line: $(cat "$XH_TMP/gv-host")"
# The Go client sent its UMEM's memfd: the direct socket is on a UMEM of its own.
u=$(in_ns host "$HOOK" list -json | jq -r --arg c "$C" '.[] | select(.id == $c) | [.direct.sockets[] | .mode + ":" + .umem] | join(" ")')
[ "$u" = copy:own ] || fail "host mode: direct sockets $u, want copy:own"
mkdir -p "$XH_TMP/www-host" "$XH_TMP/www-world"
echo "page of the host" >"$XH_TMP/www-host/index.html"; echo "page of the world" >"$XH_TMP/www-world/index.html"
# nsenter execs httpd: $! is httpd itself (not a subshell of in_ns).
nsenter --net="/run/netns/$(ns host)" busybox httpd -f -p 22 -h "$XH_TMP/www-host" & hpid=$!; at_exit "kill $hpid"
nsenter --net="/run/netns/$(ns world)" busybox httpd -f -p 80 -h "$XH_TMP/www-world" & wpid=$!; at_exit "kill $wpid"
wait_listen() { for _ in $(seq 60); do [ -n "$(in_ns "$1" ss -Hltn "sport = :$2")" ] && return 0; sleep 0.05; done; fail "nothing listens on $2 in $1"; }
wait_listen host 22; wait_listen world 80
page_ok world http://10.77.0.1:8080/
echo_ok world udp 10.77.0.1 7
[ "$(in_ns world curl -s --max-time 5 http://10.77.0.1:22/)" = "page of the host" ] || fail "port 22 did not stay with the host"
[ "$(in_ns host curl -s --max-time 5 http://10.77.0.2/)" = "page of the world" ] || fail "the host's own connection broke"
kill "$GV_PID"; wait_gone "$GV_PID" || fail "xdp_gvisor did not exit"
grep -Eq 'XDP_STATISTICS\[1 nic0/0\] received [1-9]' "$XH_TMP/gv-host" ||
	fail "nothing arrived on the direct socket: $(cat "$XH_TMP/gv-host")"
# gVisor's link/xdp takes one socket: it says so and gets the veth path.
keeper_saw_go "$C" 1
gvisor_start "$ctr" host-gx -link gvisor-xdp
grep -q 'offers 1 direct socket(s) on nic0' "$XH_TMP/gv-host-gx" || fail "gvisor-xdp: $(cat "$XH_TMP/gv-host-gx")"
page_ok world http://10.77.0.1:8080/
kill "$GV_PID" "$hpid" "$wpid"
wait_gone "$hpid" && wait_gone "$wpid" || fail "httpd still runs"
runc_ delete -f "$C" || fail "runc delete (host mode)"
[ "$(host_snapshot)" = "$before" ] || fail "teardown left: $(diff <(echo "$before") <(host_snapshot))"

# --- -link packet on a CNI ptp interface (runsc's default) ------------------------------
CNI=/usr/lib/cni
if [ -x $CNI/ptp ] && [ -x $CNI/host-local ]; then
	cni_ptp p 10.77.2.0/24
	pip=$PTP_IP
	in_ns world ip route add 10.77.2.0/24 via 10.77.0.1
	gvisor_start "/run/netns/$(ns p)" packet -link packet -dev eth0
	grep -q "^ready link=packet ifname=eth0 .*addresses=$pip/" "$XH_TMP/gv-packet" || fail "ready line: $(cat "$XH_TMP/gv-packet")"
	[ -z "$(ip -n "$(ns p)" -4 addr show dev eth0)" ] || fail "eth0 kept its address: $(ip -n "$(ns p)" addr show dev eth0)"
	page_ok world "http://$pip:8080/"
	bytes_ok world "http://$pip:8080" 1000000
	echo_ok world tcp "$pip" 7
	echo_ok world udp "$pip" 7
	kill "$GV_PID"

	# --- netns mode: the hook gives xdp_gvisor (the Go client) the CNI's
	# dual-stack ptp eth0; traffic comes through the node's routing.
	cni_check
	jq '.ipam |= (del(.subnet, .rangeStart) | .ranges = [[{subnet: "10.77.1.0/24", rangeStart: "10.77.1.20"}],
		[{subnet: "fd77:1::/64", rangeStart: "fd77:1::20"}]] | .routes += [{dst: "::/0"}])' \
		"$XH_TMP/ptp.conf" >"$XH_TMP/ptp6.conf" && mv "$XH_TMP/ptp6.conf" "$XH_TMP/ptp.conf" || fail "ptp.conf"
	ns_new n
	in_ns n sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
		net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	at_exit "cni DEL n"
	cni ADD n >"$XH_TMP/cni-n.json" || fail "CNI ADD: $(cat "$XH_TMP/cni-n.json")"
	n4=$(jq -r '.ips[] | .address | select(test("^10[.]")) | sub("/.*"; "")' "$XH_TMP/cni-n.json")
	n6=$(jq -r '.ips[] | .address | select(test(":")) | sub("/.*"; "")' "$XH_TMP/cni-n.json")
	n_net() { ip -n "$(ns n)" addr show dev eth0 scope global | awk '/inet/ {print $1, $2}'; ip -n "$(ns n)" route; ip -n "$(ns n)" -6 route; }
	n_before=$(n_net)
	C=xht-$XH_TAG-gvn
	netns_ctr "$C" n || fail "runc create (netns mode): $(cat "$XH_TMP/$C.err")"
	gvisor_start "/run/netns/$(ns n)" netns
	grep -q "^ready link=xdp ifname=eth0 .*addresses=$n4/24,$n6/64 " "$XH_TMP/gv-netns" ||
		fail "netns mode ready line: $(cat "$XH_TMP/gv-netns")"
	f0=$(forwarded)
	page_ok world "http://$n4:8080/"
	page_ok world "http://[$n6]:8080/"
	page_ok host "http://$n4:8080/"
	bytes_ok world "http://$n4:8080" 1000000
	echo_ok world tcp "$n4" 7
	echo_ok world udp "$n4" 7
	echo_ok world tcp "$n6" 7
	echo_ok host udp "$n6" 7
	in_ns world ping -c 2 -i 0.2 -W 2 -q "$n4" >/dev/null || fail "ping $n4 (netns mode)"
	in_ns world ping -6 -c 2 -i 0.2 -W 2 -q "$n6" >/dev/null || fail "ping $n6 (netns mode)"
	# Through the host kernel by design: it forwarded the world's traffic.
	[ "$(( $(forwarded) - f0 ))" -gt 0 ] || fail "netns mode: the host forwarded nothing"
	kill -9 "$GV_PID"
	keeper_saw_go "$C" 1
	gvisor_start "/run/netns/$(ns n)" netns-gvisor-xdp -link gvisor-xdp
	page_ok world "http://$n4:8080/"
	echo_ok world udp "$n6" 7
	kill "$GV_PID"
	runc_ delete -f "$C" || fail "runc delete (netns mode)"
	[ "$(n_net)" = "$n_before" ] || fail "netns mode teardown: the CNI's addresses and routes: $(diff <(echo "$n_before") <(n_net))"
	cni DEL n >"$XH_TMP/del" 2>&1 || fail "CNI DEL after netns mode: $(cat "$XH_TMP/del")"
else
	echo "containernetworking-plugins (ptp, host-local) not installed: -link packet and netns mode not tested"
fi
pass
