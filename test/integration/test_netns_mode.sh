#!/bin/bash
# mode=netns (node config): the sandbox takes the interface CNI ptp made in
# a netns prepared before the container (as containerd does), under real
# runc. Remote end and node reach it (ping, UDP, TCP) through the node's own
# routing, with a foreign XDP program on the NIC left alone; nothing of ours
# in the host netns but the host peer's TX checksum offload; teardown gives
# the CNI its addresses back and CNI DEL succeeds; a crashed sandbox is
# replaced; every refusal leaves the netns as it was.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container.sh"
command -v runc >/dev/null || skip "runc is not installed"
cni_check
for b in xdp_echo xdp_tap xdp_endpoint; do [ -x "$BUILD/$b" ] || fail "$BUILD/$b is not built"; done

topo_new
# A foreign program on the NIC (not ours, not libxdp's): pod mode refuses
# such a NIC; netns mode must leave it alone.
in_ns host ip link set dev nic0 xdp obj "$BUILD/bpf/xdp_pass.bpf.o" sec xdp || fail "foreign program on nic0"
nic_prog=$(xdp_prog_id host nic0)
[ -n "$nic_prog" ] || fail "no foreign program on nic0"

pod_net() { # the pod's addresses and routes
	in_ns "$1" ip -o addr show dev eth0 | awk '{print $3, $4}'
	in_ns "$1" ip route show | sort
}
host_net() { # what of the host netns netns mode must not change (and bpffs)
	in_ns host ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
	in_ns host ip route show table all | sort
	in_ns host ip neigh show nud permanent
	in_ns host "$LOADER" -status -json | jq -r '.[] | select(.this_netns) | .pin_dir' | sort
	# pins keyed by the host netns (its cookie is its inode): none of ours
	ls /sys/fs/bpf/xdphook/v2 2>/dev/null | grep -e "-$(stat -L -c %i "/run/netns/$(ns host)")-" || true
}
tx_csum() { in_ns host ethtool -k "$1" | awk '/^tx-checksumming:/ {print $2}'; }

cni_pod pod
POD_IP=$CNI_ADDR
PEER=$(host_peer pod)
pod_before=$(pod_net pod)
host_before=$(host_net)
[ "$(tx_csum "$PEER")" = on ] || fail "$PEER: TX checksum offload was not on to begin with"

C=xht-$XH_TAG-c
t0=$(date +%s%N)
netns_ctr "$C" pod || fail "runc create: $(cat "$XH_TMP/$C.err")"
echo "runc create with the hook (netns mode): $(( ($(date +%s%N) - t0) / 1000000 )) ms"

# The kernel gave the addresses up; our program is on eth0; on the host
# only the peer's offload changed.
[ -z "$(in_ns pod ip -o -4 addr show dev eth0)" ] || fail "eth0 kept its address: $(in_ns pod ip -o addr show dev eth0)"
[ -n "$(xdp_prog_id pod eth0)" ] || fail "no XDP program on eth0"
[ "$(host_net)" = "$host_before" ] || fail "the host netns changed: $(diff <(echo "$host_before") <(host_net))"
[ "$(xdp_prog_id host nic0)" = "$nic_prog" ] || fail "the foreign program on nic0 changed"
[ "$(tx_csum "$PEER")" = off ] || fail "$PEER: TX checksum offload still on"
in_ns host "$HOOK" list >"$XH_TMP/list" || fail "list"
grep -Eq "^$C +netns +ready +yes +eth0 +$PEER,tx-off +$POD_IP/24 " "$XH_TMP/list" || fail "list: $(cat "$XH_TMP/list")"
in_ns host "$HOOK" list -json | jq -e --arg id "$C" --arg p "$PEER" '.[] | select(.id == $id) |
	.mode == "netns" and .netns.iface == "eth0" and .netns.host_change == "tx-checksum off on \($p)"' >/dev/null ||
	fail "list -json: $(in_ns host "$HOOK" list -json)"
in_ns pod "$LOADER" -status -json | jq -e --arg id "$C" '.[] | select(.this_netns and .device == "eth0") |
	.program == "endpoint" and .owner == $id' >/dev/null ||
	fail "xdp_loader -status: $(in_ns pod "$LOADER" -status -json)"

udp_echo() { # udp_echo NS: one datagram to the sandbox, its echo within 2 s
	in_ns "$1" perl -MIO::Socket::IP -e '
		my $s = IO::Socket::IP->new(PeerHost => $ARGV[0], PeerPort => 7, Proto => "udp") or exit 2;
		$s->send("xdphook $$") or exit 3;
		my $r = ""; local $SIG{ALRM} = sub { exit 4 }; alarm 2; $s->recv($r, 100);
		exit($r eq "xdphook $$" ? 0 : 5)' "$POD_IP"
}
endpoint_rx() { in_ns host "$HOOK" list -json | jq --arg id "$C" '.[] | select(.id == $id) | .programs.endpoint.redirect.packets'; }
keeper_pid() { jq -r .keeper.pid "/run/xdphook/$C/state.json"; }
# sandbox NAME CMD...: CMD in the pod's netns, until it prints "ready".
sandbox() {
	local name=$1; shift
	nsenter --net="/run/netns/$(ns pod)" "$@" >"$XH_TMP/$name" 2>&1 &
	SANDBOX=$!
	at_exit "kill -9 $SANDBOX"
	wait_line "$XH_TMP/$name" ready "$SANDBOX" || fail "$name did not get ready: $(cat "$XH_TMP/$name")"
}
gone_client() { # the keeper saw the client go (the next may come)
	wait_line "/run/xdphook/$C/keeper.log" "went away" "$(keeper_pid)" || fail "the keeper did not see $1 go"
}

# 1. The exec wrapper (the C library underneath): ping and UDP, remote and node.
sandbox echo1 "$BUILD/xdp_endpoint" -- "$BUILD/xdp_echo"
r0=$(endpoint_rx)
for from in world host; do
	in_ns $from ping -c 2 -i 0.2 -W 2 -q "$POD_IP" >/dev/null || fail "ping from $from"
	udp_echo $from || fail "UDP echo from $from (rc $?)"
done
[ "$(( $(endpoint_rx) - r0 ))" -ge 6 ] || fail "the endpoint did not receive the traffic ($(( $(endpoint_rx) - r0 )))"

# 2. The sandbox crashes; the next one (the C library) gets a fresh socket.
kill -9 "$SANDBOX"
gone_client "the crashed sandbox"
sandbox echo2 "$BUILD/xdp_echo"
udp_echo world || fail "UDP echo after reconnect (rc $?)"

# 3. TCP: busybox httpd behind xdp_tap, from the remote end and the node.
kill "$SANDBOX"
gone_client xdp_echo
sandbox tap "$BUILD/xdp_tap"
mkdir -p "$XH_TMP/www"; echo "served in netns mode" >"$XH_TMP/www/index.html"
nsenter --net="/run/netns/$(ns pod)" busybox httpd -f -p 80 -h "$XH_TMP/www" &
httpd=$!
at_exit "kill $httpd"
for _ in $(seq 100); do [ -n "$(in_ns pod ss -Hltn 'sport = :80')" ] && break; sleep 0.05; done
for from in world host; do
	[ "$(in_ns $from curl -s --max-time 5 "http://$POD_IP/")" = "served in netns mode" ] || fail "curl from $from"
done
kill "$httpd" "$SANDBOX"

# 4. Teardown: the CNI's addresses and routes back, no program, offload
# back on, the host as before; then CNI DEL succeeds.
runc_ delete -f "$C" || fail "runc delete"
[ ! -e "/run/xdphook/$C" ] || fail "state left: $(ls "/run/xdphook/$C")"
[ -z "$(xdp_prog_id pod eth0)" ] || fail "a program is left on eth0"
[ "$(pod_net pod)" = "$pod_before" ] ||
	fail "the CNI's addresses and routes did not come back: $(diff <(echo "$pod_before") <(pod_net pod))"
[ "$(tx_csum "$PEER")" = on ] || fail "$PEER: TX checksum offload not back on"
[ "$(host_net)" = "$host_before" ] || fail "the host netns changed: $(diff <(echo "$host_before") <(host_net))"
[ "$(xdp_prog_id host nic0)" = "$nic_prog" ] || fail "the foreign program on nic0 changed"
in_ns pod ping -c 1 -W 2 -q 10.77.0.2 >/dev/null || fail "the pod's kernel stack cannot reach world after teardown"
cni DEL pod >"$XH_TMP/del" 2>&1 || fail "CNI DEL: $(cat "$XH_TMP/del")"
[ -z "$(in_ns host ip -o link show "$PEER" 2>/dev/null)" ] || fail "CNI DEL left $PEER"

# 5. Refusals: one line, nothing changed (hook run directly, as runc would).
cni_pod ref
nsenter --net="/run/netns/$(ns ref)" sleep 600 &
sleeper=$!
at_exit "kill $sleeper"
veth_new bare0 ref bare1 ref
REF_PEER=$(host_peer ref)
snap() {
	host_net; pod_net ref; tx_csum "$REF_PEER"
	in_ns ref ip -o link show | awk -F': ' '{print $2}' | sort
	ls /run/xdphook | grep "xht-$XH_TAG" || true
	pgrep -x xdphook-keeper | while read -r p; do [ "$(stat -L -c %i /proc/$p/ns/net 2>/dev/null)" = "$(stat -L -c %i /run/netns/$(ns ref))" ] && echo "keeper $p"; done
}
before=$(snap)
R=xht-$XH_TAG-r
refused() { # refused REGEX CONFIG-JSON
	echo "$2" >"$XH_TMP/ref.json"
	printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":%s,"bundle":"/nonexistent"}' "$R" "$sleeper" |
		XDPHOOK_CONFIG="$XH_TMP/ref.json" in_ns host "$HOOK" createRuntime >"$XH_TMP/out" 2>"$XH_TMP/err"
	rc=$?
	[ "$rc" = 1 ] || fail "$2: exit $rc, want 1 (stderr: $(cat "$XH_TMP/err"))"
	[ "$(wc -l <"$XH_TMP/err")" = 1 ] || fail "$2: not one line: $(cat "$XH_TMP/err")"
	grep -Eq -- "^xdp_hook: $R: $1" "$XH_TMP/err" || fail "$2: stderr lacks /$1/: $(cat "$XH_TMP/err")"
	[ "$(snap)" = "$before" ] || fail "$2: left behind: $(diff <(echo "$before") <(snap))"
}
refused "interface: no interface 'nosuch' in the container" '{"mode": "netns", "iface": "nosuch"}'
refused "addresses: bare0 has no address to take" '{"mode": "netns", "iface": "bare0"}'
for k in nic:'"nic0"' publish:'"80"' reserve:'"22"' fastpath:'"none"'; do
	refused "config: $XH_TMP/ref.json: ${k%%:*} does not apply to mode netns" "{\"mode\": \"netns\", \"${k%%:*}\": ${k#*:}}"
done
# A failure after the addresses were taken and the program attached (the
# keeper cannot listen: its name is squatted): the rollback puts it all back.
nsenter --net="/run/netns/$(ns ref)" perl -MIO::Socket::UNIX -MSocket -e '
	my $s = IO::Socket::UNIX->new(Type => SOCK_SEQPACKET, Local => "\0xdphook/endpoint", Listen => 1) or exit 1;
	print "ready\n"; STDOUT->flush; sleep 600' >"$XH_TMP/squat" 2>&1 &
squat=$!
at_exit "kill $squat"
wait_line "$XH_TMP/squat" ready "$squat" || fail "squatter: $(cat "$XH_TMP/squat")"
refused "endpoint: .*@xdphook/endpoint is already bound" '{"mode": "netns"}'
kill "$squat"
in_ns ref ip link set dev eth0 mtu 4000
before=$(snap)
refused "interface: eth0: MTU 4000 is larger than a frame holds" '{"mode": "netns"}'
in_ns ref ip link set dev eth0 mtu 1500
in_ns ref ip link set dev eth0 xdpgeneric obj "$BUILD/bpf/xdp_pass.bpf.o" sec xdp || fail "XDP program on ref's eth0"
id=$(xdp_prog_id ref eth0)
before=$(snap)
refused "interface: eth0 already carries XDP program '[a-z_]+' \\(id $id\\)" '{"mode": "netns"}'
pass
