#!/bin/bash
# xdp_hook in host mode (docker -p style) with real runc. The container's
# own kernel plays the sandbox: it takes the NIC's address on xdp0 (which
# carries the NIC's MAC) while no AF_XDP client holds the endpoint. Checks
# what setup builds, published ports translated both ways (TCP and UDP), the
# host keeping everything else (its services, its own connections, ARP), the
# sandbox's ephemeral range reaching the sandbox, ARP copied to the sandbox
# by the tc filter, one host-mode sandbox per NIC, a pod-mode container next
# to it, publish=all with reserve next to foreign tc filters, and teardown
# leaving nothing (and the foreign filters alone).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container.sh"
# host mode by annotation: the node must allow it
node_config '{"annotations": ["enable", "ips", "nic", "mode", "publish"]}'
command -v runc >/dev/null || skip "runc is not installed"
command -v curl >/dev/null || skip "curl is not installed"
command -v tc >/dev/null || skip "tc (iproute2) is not installed"
command -v perl >/dev/null || skip "perl is not installed"

topo_new
before=$(host_snapshot)
H1=xht-$XH_TAG-h1 H2=xht-$XH_TAG-h2 H3=xht-$XH_TAG-h3 H4=xht-$XH_TAG-h4 H5=xht-$XH_TAG-h5
P1=xht-$XH_TAG-p1
NIC_MAC=$(in_ns host ip -j link show nic0 | jq -r '.[0].address')

# bg NAME NETNS-PATH CMD...: run CMD in that netns in the background, output
# in $XH_TMP/NAME.out; killed at exit (nsenter execs CMD: $! is CMD).
bg() {
	local name=$1 netns=$2; shift 2
	nsenter --net="$netns" "$@" >"$XH_TMP/$name.out" 2>&1 &
	at_exit "kill $!"
	BG_PIDS+=" $!"
}
BG_PIDS=""
# Servers in a container keep its netns alive: stop them before deleting it.
bg_stop() { [ -z "$BG_PIDS" ] || kill $BG_PIDS 2>/dev/null; BG_PIDS=""; }
nspath() { echo "/run/netns/$(ns "$1")"; }
# listening NETNS-PATH PROTO(t|u) PORT...: wait (3 s at most) until each port has a socket.
listening() {
	local netns=$1 proto=$2 port i; shift 2
	for port in "$@"; do
		for (( i = 0; i < 30; i++ )); do
			[ -n "$(nsenter --net="$netns" ss -Hl"$proto"n "sport = :$port")" ] && continue 2
			sleep 0.1
		done
		fail "nothing listens on $port/$proto in $netns"
	done
}
# Three pages, so an answer says who answered.
for who in sandbox host world; do mkdir -p "$XH_TMP/www-$who"; echo "page of the $who" >"$XH_TMP/www-$who/index.html"; done
# UDP (busybox nc has no -u; perl-base is always there): an echo server for
# one datagram on port ARGV[0], and a client sending ARGV[1] to ARGV[0].
UDP_ECHO='$s = IO::Socket::INET->new(LocalPort => $ARGV[0], Proto => "udp") or die "$!";
	$s->recv($b, 1500); $s->send("sandbox got: $b")'
UDP_ASK='$s = IO::Socket::INET->new(PeerAddr => $ARGV[0], Proto => "udp") or die "$!";
	$s->send($ARGV[1]); $SIG{ALRM} = sub { exit 1 }; alarm 3; $s->recv($r, 1500); print $r'
# httpd_in NETNS-PATH PAGE PORT
httpd_in() { bg "httpd-$2-$3" "$1" busybox httpd -f -p "$3" -h "$XH_TMP/www-$2"; }
get() { in_ns "$1" curl -s --max-time 5 "http://$2/"; }
list_of() { in_ns host "$HOOK" list -json | jq -c --arg id "$1" '.[] | select(.id == $id)'; }
tc_ingress() { in_ns host tc -j filter show dev nic0 ingress; }

read -r host_lo host_hi < <(in_ns host cat /proc/sys/net/ipv4/ip_local_port_range)
# The host keeps port 80 and 22 for itself (publish only sends 8080, 5353).
httpd_in "$(nspath host)" host 80
httpd_in "$(nspath host)" host 22
httpd_in "$(nspath world)" world 80
BG_PIDS=""   # these run to the end
listening "$(nspath host)" t 80 22
listening "$(nspath world)" t 80

# --- setup -------------------------------------------------------------------------
b1=$(bundle_new h1 '{"io.xdphook.mode":"host","io.xdphook.nic":"nic0","io.xdphook.publish":"8080:80/tcp,5353:53/udp"}')
ctr_create runc "$H1" "$b1" || fail "runc create h1: $(cat "$XH_TMP/$H1.err")"
p1=$(ctr_pid runc "$H1")
c1() { nsenter --net="/proc/$p1/ns/net" "$@"; }

st=$(list_of "$H1")
[ -n "$st" ] || fail "xdp_hook list does not show $H1"
[ "$(jq -r .status <<<"$st")" = ready ] || fail "status: $st"
[ "$(jq -r .mode <<<"$st")" = host ] || fail "mode: $st"
[ "$(jq -c .ips <<<"$st")" = '["10.77.0.1/24"]' ] || fail "the sandbox did not get the NIC's address: $st"
[ "$(jq -c .host.publish <<<"$st")" = '["8080:80/tcp","5353:53/udp"]' ] || fail "publish: $st"
slo=$(jq .host.sandbox_ports.lo <<<"$st") shi=$(jq .host.sandbox_ports.hi <<<"$st")
[ "$(jq -c .host.host_ports <<<"$st")" = "{\"lo\":$host_lo,\"hi\":$host_hi}" ] || fail "host range: $st"
if [ "$host_lo $host_hi" = "32768 60999" ]; then
	[ "$slo-$shi" = 61000-65535 ] || fail "sandbox range $slo-$shi, want 61000-65535 (above the host's)"
fi
[ "$slo" -gt "$host_hi" ] || [ "$shi" -lt "$host_lo" ] || fail "sandbox range $slo-$shi overlaps the host's"
[ "$(in_ns host "$HOOK" list | grep -c "^$H1 *host ")" = 1 ] || fail "list (text) does not show host mode"
jq -e '.mode == "host" and .host.tc.priority == 65535 and .host.tc.clsact_created' \
	"/run/xdphook/$H1/state.json" >/dev/null || fail "state.json: $(cat "/run/xdphook/$H1/state.json")"

veth=$(jq -r .veth <<<"$st")
[ "$(c1 ip -j link show xdp0 | jq -r '.[0].address')" = "$NIC_MAC" ] || fail "xdp0 does not carry the NIC's MAC"
c1 ip -j link show xdp0 | jq -e '.[0].xdp.prog.name == "xdphook_endpt"' >/dev/null || fail "xdp0 lacks the endpoint program"
[ -z "$(c1 ip -4 -o addr show dev xdp0)" ] || fail "xdp0 carries an IPv4 address"
in_ns host ip -j link show "$veth" | jq -e '.[0].xdp.prog.name == "xdphook_veth"' >/dev/null || fail "$veth lacks its program"
in_ns host ip -j link show nic0 | jq -e '.[0].xdp.prog.name == "xdphook_nic"' >/dev/null || fail "nic0 lacks the NIC program"
tc_ingress | jq -e 'any(.[]; .pref == 65535 and ((.options.bpf_name // "") | startswith("xdphook_clone")))' >/dev/null ||
	fail "no tc ingress filter with xdphook_clone on nic0: $(tc_ingress)"
[ -z "$(in_ns host ip -4 -o addr show dev "$veth")" ] || fail "host mode put an address on $veth"
[ -z "$(in_ns host ip route show dev "$veth")" ] || fail "host mode put a route on $veth"
[ -z "$(in_ns host ip neigh show dev "$veth" nud permanent)" ] || fail "host mode put a neighbour on $veth"

# --- the container's kernel plays the sandbox ------------------------------------------
c1 ip addr add 10.77.0.1/24 dev xdp0
c1 ip route add default via 10.77.0.2
c1 ethtool -K xdp0 tx off >/dev/null           # the real sandbox sends full checksums
c1 sysctl -qw net.ipv4.ip_local_port_range="$slo $shi"
httpd_in "/proc/$p1/ns/net" sandbox 80
bg udp53 "/proc/$p1/ns/net" perl -MIO::Socket::INET -e "$UDP_ECHO" 53
bg tcp9999 "/proc/$p1/ns/net" busybox nc -l -p 9999
listening "/proc/$p1/ns/net" t 80 9999
listening "/proc/$p1/ns/net" u 53

# published TCP: 8080 -> the sandbox's 80 and back (translated both ways)
[ "$(get world 10.77.0.1:8080)" = "page of the sandbox" ] || fail "world:8080 did not reach the sandbox's port 80"
# everything else stays with the host: its port 80, its sshd port 22
[ "$(get world 10.77.0.1)" = "page of the host" ] || fail "world:80 did not reach the host"
[ "$(get world 10.77.0.1:22)" = "page of the host" ] || fail "world:22 did not reach the host"
# the host's own connections (its ephemeral range) and the sandbox's (its range)
[ "$(get host 10.77.0.2)" = "page of the world" ] || fail "the host cannot reach world's server"
[ "$(c1 curl -s --max-time 5 http://10.77.0.2/)" = "page of the world" ] || fail "the sandbox cannot reach world's server"
# an unpublished port is refused by the host, never seen by the sandbox
in_ns world curl -s --max-time 5 http://10.77.0.1:9999/ >/dev/null; rc=$?
[ "$rc" = 7 ] || fail "world:9999: curl exited $rc, want 7 (refused by the host)"
[ ! -s "$XH_TMP/tcp9999.out" ] || fail "the sandbox got a connection on unpublished port 9999"
# published UDP: 5353 -> 53, and the answer from 5353 again (the client's
# socket is connected: it takes nothing from another port)
r=$(in_ns world perl -MIO::Socket::INET -e "$UDP_ASK" 10.77.0.1:5353 "udp to the sandbox")
[ "$r" = "sandbox got: udp to the sandbox" ] || fail "world:5353/udp: answer '$r'"

# ARP: the host answers for the NIC's address; the sandbox learned world's
# MAC from the replies to its own requests, copied by the tc filter.
w0mac=$(in_ns world ip -j link show w0 | jq -r '.[0].address')
in_ns world ip neigh show 10.77.0.1 | grep -q "$NIC_MAC" || fail "world has not resolved the NIC's address"
c1 ip neigh show 10.77.0.2 | grep -q "lladdr $w0mac" || fail "the sandbox has not learned world's MAC: $(c1 ip neigh)"
st=$(list_of "$H1")
[ "$(jq .host.clone.arp <<<"$st")" -ge 1 ] || fail "tc clone counted no ARP copies: $st"
[ "$(jq .programs.nic.redirect.packets <<<"$st")" -ge 5 ] || fail "NIC program redirected too little: $st"
[ "$(jq .programs.veth.redirect.packets <<<"$st")" -ge 5 ] || fail "veth program sent too little: $st"

# --- one host-mode sandbox per NIC ----------------------------------------------------------
mid=$(host_snapshot) mid_tc=$(tc_ingress)
b2=$(bundle_new h2 '{"io.xdphook.mode":"host","io.xdphook.nic":"nic0"}')
ctr_create runc "$H2" "$b2" && fail "a second host-mode container on nic0 was created"
grep -q "xdp_hook: $H2: mode: NIC nic0 already serves host-mode container $H1" "$XH_TMP/$H2.err" ||
	fail "refusal message: $(cat "$XH_TMP/$H2.err")"
runc_ delete -f "$H2" >/dev/null 2>&1
[ "$(host_snapshot)" = "$mid" ] || fail "the refused container left: $(diff <(echo "$mid") <(host_snapshot))"
[ "$(tc_ingress)" = "$mid_tc" ] || fail "the refused container changed nic0's tc filters"
[ "$(get world 10.77.0.1:8080)" = "page of the sandbox" ] || fail "the refused container broke the first"

# --- a pod-mode container next to it --------------------------------------------------------
bp=$(bundle_new p1 '{"io.xdphook.ips":"10.77.1.5/32","io.xdphook.nic":"nic0"}')
ctr_create runc "$P1" "$bp" || fail "runc create pod next to host mode: $(cat "$XH_TMP/$P1.err")"
pp=$(ctr_pid runc "$P1")
nsenter --net="/proc/$pp/ns/net" ip addr add 10.77.1.5/32 dev xdp0
nsenter --net="/proc/$pp/ns/net" ip route add default via 169.254.1.1 dev xdp0 onlink
in_ns world ping -c 3 -i 0.2 -W 1 -q 10.77.1.5 >/dev/null || fail "world cannot ping the pod next to the host-mode sandbox"
[ "$(get world 10.77.0.1:8080)" = "page of the sandbox" ] || fail "the pod broke the host-mode sandbox"
runc_ delete -f "$P1" || fail "delete pod"
[ "$(get world 10.77.0.1:8080)" = "page of the sandbox" ] || fail "the pod's teardown broke the host-mode sandbox"

# --- teardown -----------------------------------------------------------------------------
bg_stop
runc_ delete -f "$H1" || fail "delete h1"
[ "$(host_snapshot)" = "$before" ] || fail "teardown left: $(diff <(echo "$before") <(host_snapshot))"
in_ns host ip -j link show nic0 | jq -e '.[0].xdp == null' >/dev/null || fail "NIC program left after the last container"
[ "$(tc_ingress)" = "[]" ] || fail "tc filters left on nic0: $(tc_ingress)"
in_ns host tc qdisc show dev nic0 | grep -q clsact && fail "the clsact qdisc the hook added is left"
[ "$(get world 10.77.0.1:8080)" = "" ] || fail "8080 still answered after teardown"
[ "$(get world 10.77.0.1)" = "page of the host" ] || fail "the host lost port 80 after teardown"
echo "{\"ociVersion\":\"1.0.2\",\"id\":\"$H1\",\"status\":\"stopped\"}" | in_ns host "$HOOK" poststop ||
	fail "second poststop failed"

# --- publish=all next to foreign tc filters ---------------------------------------------------
# A clsact that is not ours, a filter before ours on ingress (classic BPF
# returning 0: "no match", the walk goes on) and one on egress: all stay.
in_ns host tc qdisc add dev nic0 clsact
in_ns host tc filter add dev nic0 ingress pref 1 protocol all bpf bytecode '1,6 0 0 0,'
in_ns host tc filter add dev nic0 egress pref 1 protocol all bpf bytecode '1,6 0 0 4294967295,'
foreign_in=$(tc_ingress) foreign_out=$(in_ns host tc -j filter show dev nic0 egress)

# Our place taken: setup fails at its last step and undoes everything.
in_ns host tc filter add dev nic0 ingress pref 65535 protocol all handle 0x5848 bpf bytecode '1,6 0 0 0,'
taken=$(tc_ingress) mid=$(host_snapshot)
b4=$(bundle_new h4 '{"io.xdphook.mode":"host","io.xdphook.nic":"nic0"}')
ctr_create runc "$H4" "$b4" && fail "host mode set up with its tc place taken"
grep -q "xdp_hook: $H4: ARP/ND clone: tc ingress priority 65535 (handle 0x5848) is in use by another filter" \
	"$XH_TMP/$H4.err" || fail "refusal message: $(cat "$XH_TMP/$H4.err")"
runc_ delete -f "$H4" >/dev/null 2>&1
[ "$(host_snapshot)" = "$mid" ] || fail "the failed setup left: $(diff <(echo "$mid") <(host_snapshot))"
[ "$(tc_ingress)" = "$taken" ] || fail "the failed setup changed the filters: $(tc_ingress)"
in_ns host tc filter del dev nic0 ingress pref 65535

b3=$(bundle_new h3 '{"io.xdphook.mode":"host","io.xdphook.nic":"nic0","io.xdphook.publish":"all"}')
ctr_create runc "$H3" "$b3" || fail "runc create h3: $(cat "$XH_TMP/$H3.err")"
p3=$(ctr_pid runc "$H3")
c3() { nsenter --net="/proc/$p3/ns/net" "$@"; }
jq -e '.host.tc.clsact_created == false' "/run/xdphook/$H3/state.json" >/dev/null || fail "h3 claims nic0's clsact"
[ "$(jq -c .host.publish <<<"$(list_of "$H3")")" = '["all"]' ] || fail "publish=all not listed"
c3 ip addr add 10.77.0.1/24 dev xdp0
c3 ip route add default via 10.77.0.2
c3 ethtool -K xdp0 tx off >/dev/null
httpd_in "/proc/$p3/ns/net" sandbox 80
httpd_in "/proc/$p3/ns/net" sandbox 9999
listening "/proc/$p3/ns/net" t 80 9999
[ "$(get world 10.77.0.1)" = "page of the sandbox" ] || fail "publish=all: world:80 did not reach the sandbox"
[ "$(get world 10.77.0.1:9999)" = "page of the sandbox" ] || fail "publish=all: world:9999 did not reach the sandbox"
[ "$(get world 10.77.0.1:22)" = "page of the host" ] || fail "publish=all: reserved port 22 did not stay with the host"
[ "$(get host 10.77.0.2)" = "page of the world" ] || fail "publish=all: the host's own connection broke"
in_ns world ping -c 2 -i 0.2 -W 1 -q 10.77.0.1 >/dev/null || fail "publish=all: world cannot ping the sandbox"
c3 ip neigh show 10.77.0.2 | grep -q "lladdr $w0mac" || fail "the sandbox did not learn world's MAC behind a foreign filter"
bg_stop
runc_ delete -f "$H3" || fail "delete h3"
[ "$(tc_ingress)" = "$foreign_in" ] || fail "ingress filters changed: $(tc_ingress)"
[ "$(in_ns host tc -j filter show dev nic0 egress)" = "$foreign_out" ] || fail "egress filters changed"
in_ns host tc qdisc del dev nic0 clsact
[ "$(host_snapshot)" = "$before" ] || fail "teardown left: $(diff <(echo "$before") <(host_snapshot))"

# --- the NIC goes away under a host-mode sandbox: teardown still cleans up ---------------------
b5=$(bundle_new h5 '{"io.xdphook.mode":"host","io.xdphook.nic":"nic0"}')
ctr_create runc "$H5" "$b5" || fail "runc create h5: $(cat "$XH_TMP/$H5.err")"
in_ns host ip link del nic0
echo "{\"ociVersion\":\"1.0.2\",\"id\":\"$H5\",\"status\":\"stopped\"}" | in_ns host "$HOOK" poststop ||
	fail "poststop after the NIC went failed"
runc_ delete -f "$H5" >/dev/null 2>&1
[ "$(host_snapshot)" = "$(grep -v '^nic0$' <<<"$before")" ] ||
	fail "teardown without the NIC left: $(diff <(echo "$before") <(host_snapshot))"
pass
