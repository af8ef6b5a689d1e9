#!/bin/bash
# xdp_hook in pod mode with real runc: what setup builds, real traffic
# through the three programs (the container's own kernel stands in for the
# sandbox: it owns the pod address on xdp0 while no AF_XDP client holds the
# endpoint, so frames fall back to it), two containers on one NIC, a
# container sharing a netns, a taken address, and teardown leaving nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container.sh"
command -v runc >/dev/null || skip "runc is not installed"

topo_new
before=$(host_snapshot)
C1=xht-$XH_TAG-c1 C2=xht-$XH_TAG-c2

b1=$(bundle_new c1 '{"io.xdphook.ips":"10.77.1.5/32","io.xdphook.nic":"nic0"}')
ctr_create runc "$C1" "$b1" || fail "runc create c1: $(cat "$XH_TMP/$C1.err")"
p1=$(ctr_pid runc "$C1")
c1() { nsenter --net="/proc/$p1/ns/net" "$@"; }

# --- what setup built ---------------------------------------------------------
st=$(in_ns host "$HOOK" list -json | jq -c --arg id "$C1" '.[] | select(.id == $id)')
[ -n "$st" ] || fail "xdp_hook list does not show $C1"
[ "$(jq -r .status <<<"$st")" = ready ] || fail "status: $st"
[ "$(jq -r .mode <<<"$st")" = pod ] || fail "mode: $st"
[ "$(jq -c .ips <<<"$st")" = '["10.77.1.5/32"]' ] || fail "ips: $st"
veth=$(jq -r .veth <<<"$st")
[[ $veth =~ ^xh-[0-9a-f]{12}$ ]] || fail "veth name '$veth'"
[ -f "/run/xdphook/$C1/state.json" ] || fail "no state.json"

c1 ip -j link show xdp0 | jq -e '.[0].xdp.prog.name == "xdphook_endpt"' >/dev/null || fail "xdp0 lacks the endpoint program"
[ "$(c1 ip -j link show xdp0 | jq -r '.[0].mtu')" = 1500 ] || fail "xdp0 MTU"
[ -z "$(c1 ip -4 -o addr show dev xdp0)" ] || fail "xdp0 carries an IPv4 address"
in_ns host ip -j link show "$veth" | jq -e '.[0].xdp.prog.name == "xdphook_veth"' >/dev/null || fail "$veth lacks its program"
in_ns host ip -j link show nic0 | jq -e '.[0].xdp.prog.name == "xdphook_nic"' >/dev/null || fail "nic0 lacks the NIC program"
in_ns host ethtool -k "$veth" | grep -q '^tx-checksumming: off' || fail "TX checksum offload still on on $veth"
in_ns host ip route show 10.77.1.5 | grep -q "dev $veth" || fail "no host route to the pod via $veth"
mac=$(c1 ip -j link show xdp0 | jq -r '.[0].address')
in_ns host ip neigh show 10.77.1.5 dev "$veth" | grep -q "$mac PERMANENT" || fail "no permanent neighbour for the pod"
in_ns host ip -4 -o addr show dev "$veth" | grep -q '169.254.1.1/32' || fail "no link-local gateway on $veth"
# The keeper runs, detached, listening in the container's netns only.
kp=$(jq -r .keeper.pid "/run/xdphook/$C1/state.json")
[ "$kp" -gt 0 ] && kill -0 "$kp" || fail "no keeper process ($kp)"
c1 ss -xlH | grep -q '@xdphook/endpoint' || fail "the keeper does not listen in the container netns"
in_ns host ss -xlH | grep -q '@xdphook/endpoint' && fail "the endpoint socket is visible from the host netns"
# Detached: its own session, stdio on /dev/null (the runtime waits for EOF
# on the hook's stdout/stderr).
[ "$(ps -o sid= -p "$kp" | tr -d ' ')" != "$(ps -o sid= -p $$ | tr -d ' ')" ] || fail "the keeper shares our session"
for fd in 0 1 2; do
	[ "$(readlink "/proc/$kp/fd/$fd")" = /dev/null ] || fail "keeper fd $fd is $(readlink "/proc/$kp/fd/$fd")"
done

# --- traffic: world <-> pod through nic0 -> xh- -> xdp0 and back -------------
# The container's kernel plays the sandbox: the pod address on xdp0, default
# route via the link-local gateway.
c1 ip addr add 10.77.1.5/32 dev xdp0
c1 ip route add default via 169.254.1.1 dev xdp0 onlink
in_ns world ping -c 5 -i 0.2 -W 1 -q 10.77.1.5 >/dev/null || fail "world cannot ping the pod"
c1 ping -c 5 -i 0.2 -W 1 -q 10.77.0.2 >/dev/null || fail "the pod cannot ping world"
st=$(in_ns host "$HOOK" list -json | jq -c --arg id "$C1" '.[] | select(.id == $id)')
n=$(jq .programs.nic.redirect.packets <<<"$st")
[ "$n" -ge 10 ] || fail "NIC program redirected $n frames to the pod, want >= 10: $st"
v=$(jq .programs.veth.redirect.packets <<<"$st")
[ "$v" -ge 10 ] || fail "veth program fast-pathed $v frames to world, want >= 10: $st"
e=$(jq .programs.endpoint.pass.packets <<<"$st")
[ "$e" -ge 10 ] || fail "endpoint saw $e frames, want >= 10: $st"

# --- a second pod on the same NIC gets only its own traffic ---------------------
b2=$(bundle_new c2 '{"io.xdphook.ips":"10.77.1.6/32","io.xdphook.nic":"nic0"}')
ctr_create runc "$C2" "$b2" || fail "runc create c2: $(cat "$XH_TMP/$C2.err")"
p2=$(ctr_pid runc "$C2")
c2() { nsenter --net="/proc/$p2/ns/net" "$@"; }
c2 ip addr add 10.77.1.6/32 dev xdp0
c2 ip route add default via 169.254.1.1 dev xdp0 onlink
ep() { in_ns host "$HOOK" list -json | jq --arg id "$1" '.[] | select(.id == $id) | .programs.endpoint.pass.packets'; }
e1=$(ep "$C1") e2=$(ep "$C2")
in_ns world ping -c 7 -i 0.2 -W 1 -q 10.77.1.6 >/dev/null || fail "world cannot ping pod 2"
in_ns world ping -c 3 -i 0.2 -W 1 -q 10.77.1.5 >/dev/null || fail "world cannot ping pod 1 next to pod 2"
d1=$(( $(ep "$C1") - e1 )) d2=$(( $(ep "$C2") - e2 ))
[ "$d1" -ge 3 ] && [ "$d1" -le 5 ] || fail "pod 1 endpoint saw $d1 frames for 3 pings"
[ "$d2" -ge 7 ] && [ "$d2" -le 9 ] || fail "pod 2 endpoint saw $d2 frames for 7 pings"

# One xdp_veth for both: the same program on both veths, loaded and pinned
# once for the namespace; each veth still counts its own frames.
veth2=$(in_ns host "$HOOK" list -json | jq -r --arg id "$C2" '.[] | select(.id == $id) | .veth')
vp1=$(in_ns host ip -j link show "$veth" | jq '.[0].xdp.prog.id')
vp2=$(in_ns host ip -j link show "$veth2" | jq '.[0].xdp.prog.id')
[ "$vp1" = "$vp2" ] || fail "the pods' veths run different programs ($vp1, $vp2): xdp_veth is not shared"
shared=$(in_ns host "$LOADER" -status -json | jq -c '[.[] | select(.this_netns and .state == "shared" and .program == "veth")]')
[ "$(jq length <<<"$shared")" = 1 ] && [ "$(jq '.[0].prog_id' <<<"$shared")" = "$vp1" ] ||
	fail "status does not show the one shared veth program $vp1: $shared"
# One xdp_endpoint_shared on every xdp0 (Linux 6.2+), serving each
# container from its slot, found by the container's netns cookie.
ep1=$(c1 ip -j link show xdp0 | jq '.[0].xdp.prog.id') ep2=$(c2 ip -j link show xdp0 | jq '.[0].xdp.prog.id')
eshared=$(in_ns host "$LOADER" -status -json | jq -c '[.[] | select(.this_netns and .state == "shared" and .program == "endpoint")]')
ep_slots() { bpftool -j map dump pinned "$(jq -r '.[0].pin_dir' <<<"$eshared")/ep_slot" | jq '[.[] | select(.formatted.value != 0)] | length'; }
if [ "$(jq length <<<"$eshared")" = 1 ]; then
	[ "$ep1" = "$ep2" ] && [ "$(jq '.[0].prog_id' <<<"$eshared")" = "$ep1" ] ||
		fail "the xdp0s run $ep1 and $ep2, status shows the shared endpoint program $eshared"
	[ "$(ep_slots)" = 2 ] || fail "shared endpoint ep_slot holds $(ep_slots) entries, want 2"
else
	[ "$ep1" != "$ep2" ] || fail "the xdp0s share program $ep1, but status shows no shared endpoint program"
fi
fp() { in_ns host "$HOOK" list -json | jq --arg id "$1" '.[] | select(.id == $id) | .programs.veth.redirect.packets'; }
f1=$(fp "$C1") f2=$(fp "$C2")
c2 ping -c 4 -i 0.2 -W 1 -q 10.77.0.2 >/dev/null || fail "pod 2 cannot ping world"
[ "$(( $(fp "$C2") - f2 ))" -ge 4 ] || fail "pod 2's veth counters missed its fast-path frames"
[ "$(( $(fp "$C1") - f1 ))" = 0 ] || fail "pod 1's veth counters took pod 2's frames"

# --- a container joining pod 1's netns is a no-op; a taken address is refused ---
b3=$(bundle_new c3 '{"io.xdphook.nic":"nic0"}' \
	"(.linux.namespaces[] | select(.type == \"network\")) += {path: \"/proc/$p1/ns/net\"}")
ctr_create runc "xht-$XH_TAG-c3" "$b3" || fail "runc create c3 in pod 1's netns: $(cat "$XH_TMP/xht-$XH_TAG-c3.err")"
[ "$(in_ns host "$HOOK" list -json | jq --arg p "xht-$XH_TAG-" '[.[] | select(.id | startswith($p))] | length')" = 2 ] || fail "the netns sharer was set up"
runc_ delete -f "xht-$XH_TAG-c3" || fail "delete c3"
c1 ping -c 2 -i 0.2 -W 1 -q 10.77.0.2 >/dev/null || fail "deleting the netns sharer broke pod 1"

mid=$(host_snapshot)
b4=$(bundle_new c4 '{"io.xdphook.ips":"10.77.1.5/32","io.xdphook.nic":"nic0"}')
ctr_create runc "xht-$XH_TAG-c4" "$b4" && fail "a second container with pod 1's address was created"
grep -q "xdp_hook: xht-$XH_TAG-c4: addresses: address 10.77.1.5 already belongs to container $C1" \
	"$XH_TMP/xht-$XH_TAG-c4.err" || fail "refusal message: $(cat "$XH_TMP/xht-$XH_TAG-c4.err")"
runc_ delete -f "xht-$XH_TAG-c4" >/dev/null 2>&1
[ "$(host_snapshot)" = "$mid" ] || fail "the refused container left: $(diff <(echo "$mid") <(host_snapshot))"
c1 ping -c 2 -i 0.2 -W 1 -q 10.77.0.2 >/dev/null || fail "the refused container broke pod 1"

# --- teardown: pod 2 first (NIC and veth programs stay), then pod 1 (they go) ---
# Pod 2's keeper dies while a client holds socket 0 (the client outlives
# xdp0): the socket stays in the shared program's ep_xsks, which it holds,
# until teardown takes it out; the map must go with the program.
xsks_id=
if [ "$(jq length <<<"$eshared")" = 1 ]; then
	xsks_id=$(bpftool -j map show pinned "$(jq -r '.[0].pin_dir' <<<"$eshared")/ep_xsks" | jq .id)
	nsenter --net="/proc/$p2/ns/net" "$BUILD/test/ep_client" hold >"$XH_TMP/hold" 2>&1 &
	at_exit "kill $!"
	wait_line "$XH_TMP/hold" '^held' $! || fail "ep_client hold in pod 2: $(cat "$XH_TMP/hold")"
	kill -KILL "$(jq -r .keeper.pid "/run/xdphook/$C2/state.json")"
fi
i1=$(jq .veth.ifindex "/run/xdphook/$C1/state.json") i2=$(jq .veth.ifindex "/run/xdphook/$C2/state.json")
sdir=$(jq -r '.[0].pin_dir' <<<"$shared")
# devices_in MAP: the veths (ifindexes) with entries in a map of the shared program.
devices_in() {
	bpftool -j map dump pinned "$sdir/$1" |
		jq -c '[.[] | .formatted.key | if type == "object" then .ifindex else . end] | unique'
}
# (veth_dev's 0 is the catch-all for devices without an entry.)
[ "$(devices_in veth_dev)" = "[0,$i1,$i2]" ] || fail "shared veth_dev holds $(devices_in veth_dev), want [0,$i1,$i2]"
for m in src_ips fastpath; do
	[ "$(devices_in $m)" = "[$i1,$i2]" ] || fail "shared $m holds entries of $(devices_in $m), want [$i1,$i2]"
done
runc_ delete -f "$C2" || fail "delete c2"
# Pod 2's entries left the shared maps, pod 1's are all there.
[ "$(devices_in veth_dev)" = "[0,$i1]" ] || fail "after pod 2 went, shared veth_dev holds $(devices_in veth_dev)"
for m in src_ips fastpath; do
	[ "$(devices_in $m)" = "[$i1]" ] || fail "after pod 2 went, shared $m holds entries of $(devices_in $m)"
done
in_ns host ip -j link show nic0 | jq -e '.[0].xdp.prog.name == "xdphook_nic"' >/dev/null || fail "NIC program left with a container still on it"
[ "$(in_ns host ip -j link show "$veth" | jq '.[0].xdp.prog.id')" = "$vp1" ] || fail "pod 1 lost the shared veth program when pod 2 went"
[ "$(c1 ip -j link show xdp0 | jq '.[0].xdp.prog.id')" = "$ep1" ] || fail "pod 1's xdp0 lost its program when pod 2 went"
[ "$(jq length <<<"$eshared")" = 0 ] || [ "$(ep_slots)" = 1 ] || fail "after pod 2 went, shared endpoint ep_slot holds $(ep_slots) entries"
c1 ping -c 2 -i 0.2 -W 1 -q 10.77.0.2 >/dev/null || fail "pod 1 lost traffic when pod 2 went"
runc_ delete -f "$C1" || fail "delete c1"
# Gone (a zombie at most: reaping it is its new parent's business).
grep -qs '^State:.*[RSD]' "/proc/$kp/status" && fail "the keeper outlived poststop"
[ "$(host_snapshot)" = "$before" ] || fail "teardown left: $(diff <(echo "$before") <(host_snapshot))"
in_ns host ip -j link show nic0 | jq -e '.[0].xdp == null' >/dev/null || fail "NIC program left after the last container"
if [ -n "$xsks_id" ]; then
	for _ in $(seq 100); do bpftool map show id "$xsks_id" >/dev/null 2>&1 || break; sleep 0.05; done
	bpftool map show id "$xsks_id" >/dev/null 2>&1 && fail "the killed keeper's socket stayed in ep_xsks after teardown"
fi

# poststop again (runtimes may repeat it): a no-op.
echo "{\"ociVersion\":\"1.0.2\",\"id\":\"$C1\",\"status\":\"stopped\"}" | in_ns host "$HOOK" poststop || fail "second poststop failed"
pass
