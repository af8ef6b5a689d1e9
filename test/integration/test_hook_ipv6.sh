#!/bin/bash
# Pod mode over IPv6: the NIC program redirects frames for the pod's v6
# address, the veth program fast-paths the pod's v6 traffic out of the NIC,
# neighbour discovery with the link-local gateway works (fe80::1 on xh-...).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container.sh"
command -v runc >/dev/null || skip "runc is not installed"

topo_new
topo_ipv6
before=$(host_snapshot)

C=xht-$XH_TAG-v6
b=$(bundle_new v6 '{"io.xdphook.ips":"fd77:1::5/128","io.xdphook.nic":"nic0"}')
ctr_create runc "$C" "$b" || fail "runc create: $(cat "$XH_TMP/$C.err")"
pid=$(ctr_pid runc "$C")
c() { nsenter --net="/proc/$pid/ns/net" "$@"; }
veth=$(in_ns host "$HOOK" list -json | jq -r --arg id "$C" '.[] | select(.id == $id) | .veth')
in_ns host ip -6 route show fd77:1::5 | grep -q "dev $veth" || fail "no host route to the pod"
in_ns host ip -6 -o addr show dev "$veth" | grep -q 'fe80::1/64' || fail "no link-local gateway fe80::1 on $veth"

# The container's kernel plays the sandbox.
c sysctl -qw net.ipv6.conf.xdp0.accept_dad=0
c ip -6 addr add fd77:1::5/128 dev xdp0 nodad
c ip -6 route add default via fe80::1 dev xdp0
# xdp0's own link-local address came up before DAD was off: wait for it.
for _ in $(seq 60); do [ -z "$(c ip -6 addr show dev xdp0 tentative)" ] && break; sleep 0.05; done
[ -z "$(c ip -6 addr show dev xdp0 tentative)" ] || fail "xdp0 link-local still tentative"

in_ns world ping -6 -c 4 -i 0.2 -W 2 -q fd77:1::5 >/dev/null || fail "world cannot ping the pod over IPv6"
c ping -6 -c 4 -i 0.2 -W 2 -q fd77::2 >/dev/null || fail "the pod cannot ping world over IPv6"
st=$(in_ns host "$HOOK" list -json | jq -c --arg id "$C" '.[] | select(.id == $id)')
[ "$(jq .programs.nic.redirect.packets <<<"$st")" -ge 8 ] || fail "NIC program did not redirect the v6 traffic: $st"
[ "$(jq .programs.veth.redirect.packets <<<"$st")" -ge 4 ] || fail "veth program did not fast-path v6: $st"
[ "$(jq .programs.veth.drop.packets <<<"$st")" = 0 ] || fail "veth program dropped the pod's own frames: $st"

runc_ delete -f "$C" || fail "delete"
[ "$(host_snapshot)" = "$before" ] || fail "teardown left: $(diff <(echo "$before") <(host_snapshot))"
pass
