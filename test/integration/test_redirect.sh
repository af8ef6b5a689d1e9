#!/bin/bash
# -redirect FROM TO: a devmap patch cable between two veths in ns h that
# joins namespaces a and b; refused while the target cannot send XDP frames.
. "$(dirname "$0")/lib.sh"

ns_new a; ns_new h; ns_new b
A=ra$XH_TAG HA=rha$XH_TAG HB=rhb$XH_TAG B=rb$XH_TAG
veth_new "$A" a "$HA" h
veth_new "$B" b "$HB" h
in_ns a ip addr add 10.252.0.1/24 dev "$A"
in_ns b ip addr add 10.252.0.2/24 dev "$B"
in_ns a ethtool -K "$A" tx off >/dev/null
in_ns b ethtool -K "$B" tx off >/dev/null
at_exit "in_ns h $LOADER -detach -device $HA"
at_exit "in_ns h $LOADER -detach -device $HB"
ours() { in_ns h "$LOADER" -status -json | jq -c '[.[] | select(.this_netns)]'; }
ping_b() { in_ns a ping -c "${1:-1}" -i 0.2 -W 1 -q 10.252.0.2 >/dev/null; }

# ns h has no addresses and no forwarding: without the cable, no path.
ping_b && fail "a reaches b without any redirect"

# $B has neither GRO nor an XDP program: $HB cannot transmit XDP frames.
expect_fail 1 "$HB: redirect target: cannot transmit redirected XDP frames: its veth peer .*ethtool -K PEER gro on" \
	in_ns h "$LOADER" -redirect "$HA" "$HB"
[ -z "$(xdp_prog_id h "$HA")" ] || fail "refused redirect left a program on $HA"
[ "$(ours)" = "[]" ] || fail "refused redirect left pins: $(ours)"

# Bad devices.
expect_fail 1 "nosuch$XH_TAG: redirect target: no such device" in_ns h "$LOADER" -redirect "$HA" "nosuch$XH_TAG"
expect_fail 1 "nosuch$XH_TAG: redirect: no such device" in_ns h "$LOADER" -redirect "nosuch$XH_TAG" "$HA"
expect_fail 1 "$HA: redirect: source and target are the same device" in_ns h "$LOADER" -redirect "$HA" "$HA"

# GRO on the far ends makes both h-side veths able to transmit XDP frames.
veth_xdp_ready a "$A"
veth_xdp_ready b "$B"
in_ns h "$LOADER" -redirect "$HA" "$HB" || fail "redirect $HA -> $HB failed"
in_ns h "$LOADER" -redirect "$HB" "$HA" || fail "redirect $HB -> $HA failed"
ping_b 5 || fail "ping a -> b through the redirect cable failed"
in_ns b ping -c 2 -i 0.2 -W 1 -q 10.252.0.1 >/dev/null || fail "ping b -> a failed"

st=$(ours)
[ "$(jq length <<<"$st")" = 2 ] || fail "status: $st"
for dev in "$HA" "$HB"; do
	e=$(jq -c --arg d "$dev" '.[] | select(.device == $d)' <<<"$st")
	[ "$(jq -r .program <<<"$e")" = redirect ] || fail "$dev program: $e"
	r=$(jq -r .counters.redirect.packets <<<"$e")
	# 7 echo requests or replies each way, plus ARP.
	[ "$r" -ge 7 ] || fail "$dev redirected $r frames, want >= 7"
	[ "$(jq -r .counters.pass.packets <<<"$e")" = 0 ] || fail "$dev passed frames to the kernel: $e"
done
[ "$(jq -r --arg d "$HA" '.[] | select(.device == $d) | .target' <<<"$st")" = "$HB" ] || fail "target not shown"
in_ns h "$LOADER" -status | grep -q "redirect>$HB" || fail "table lacks redirect>$HB"

# Taking the cable out cuts the path again and leaves nothing.
in_ns h "$LOADER" -detach -device "$HA" || fail "detach $HA"
in_ns h "$LOADER" -detach -device "$HB" || fail "detach $HB"
ping_b && fail "a reaches b after detach"
[ "$(ours)" = "[]" ] || fail "pins left: $(ours)"
pass
