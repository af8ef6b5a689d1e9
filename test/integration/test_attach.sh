#!/bin/bash
# pass/drop attach, persistence after exit, counters, detach, refusals.
. "$(dirname "$0")/lib.sh"

ns_new a; ns_new b
A=xa$XH_TAG B=xb$XH_TAG
veth_new "$A" a "$B" b
in_ns a ip addr add 10.251.0.1/24 dev "$A"
in_ns b ip addr add 10.251.0.2/24 dev "$B"
at_exit "in_ns b $LOADER -detach -device $B"

ping_b() { in_ns a ping -c "${1:-1}" -i 0.2 -W 1 -q 10.251.0.2 >/dev/null; }
# Our entries for device $B, as seen from ns b.
status_b() { in_ns b "$LOADER" -status -json | jq -c --arg d "$B" '[.[] | select(.this_netns and .device == $d)]'; }

ping_b || fail "baseline ping failed"

# drop: ping fails while attached (the loader has exited: it persists).
in_ns b "$LOADER" -program drop -device "$B" || fail "attach drop failed"
[ -n "$(xdp_prog_id b "$B")" ] || fail "no XDP program on $B after attach"
ping_b 3 && fail "ping succeeded through drop"
st=$(status_b)
[ "$(jq length <<<"$st")" = 1 ] || fail "status lists $(jq length <<<"$st") entries for $B: $st"
[ "$(jq -r '.[0].program' <<<"$st")" = drop ] || fail "status program: $st"
[ "$(jq -r '.[0].state' <<<"$st")" = attached ] || fail "status state: $st"
[ "$(jq -r '.[0].prog_id' <<<"$st")" = "$(xdp_prog_id b "$B")" ] || fail "status prog_id differs from the device's"
drops=$(jq -r '.[0].counters.drop.packets' <<<"$st")
# 3 echo requests at least (ARP requests are dropped too).
[ "$drops" -ge 3 ] || fail "drop counter $drops < 3"
[ "$(jq -r '.[0].counters.pass.packets' <<<"$st")" = 0 ] || fail "pass counter non-zero under drop"
in_ns b "$LOADER" -status | grep -q "^$B .* drop .*attached" || fail "table status lacks $B"

# Attaching again is refused, naming what is there; the device keeps drop.
expect_fail 1 "$B: attach pass: xdp_loader already attached 'drop' here; detach it first" \
	in_ns b "$LOADER" -program pass -device "$B"
ping_b && fail "second attach replaced drop"

# detach restores traffic and removes every pin of this device.
in_ns b "$LOADER" -detach -device "$B" || fail "detach failed"
[ -z "$(xdp_prog_id b "$B")" ] || fail "program still on $B after detach"
ping_b || fail "ping fails after detach"
[ "$(status_b)" = "[]" ] || fail "pins left after detach: $(status_b)"
expect_fail 1 "$B: detach: nothing attached here by xdphook" in_ns b "$LOADER" -detach -device "$B"

# pass: traffic flows and is counted as passed, exactly: 5 echo requests
# plus the ARP exchange (1 request or reply frame reaching b, at most 2).
in_ns b "$LOADER" -program pass -device "$B" -mode native || fail "attach pass (native) failed"
ping_b 5 || fail "ping fails through pass"
p=$(status_b | jq -r '.[0].counters.pass.packets')
[ "$p" -ge 5 ] && [ "$p" -le 7 ] || fail "pass counter $p, want 5..7"
[ "$(status_b | jq -r '.[0].mode')" = native ] || fail "mode not native: $(status_b)"
in_ns b "$LOADER" -detach -device "$B" || fail "detach pass failed"

# skb (generic) mode works too and is reported as such.
in_ns b "$LOADER" -program drop -device "$B" -mode skb || fail "attach drop (skb) failed"
[ "$(status_b | jq -r '.[0].mode')" = skb ] || fail "mode not skb: $(status_b)"
ping_b && fail "ping through skb-mode drop"
in_ns b "$LOADER" -detach -device "$B" || fail "detach skb failed"
ping_b || fail "ping fails after skb detach"

# A foreign program (not ours) on the device: refused, named, left alone.
in_ns b ip link set dev "$B" xdp obj "$BUILD/bpf/xdp_pass.bpf.o" sec xdp || fail "ip link xdp failed"
foreign=$(xdp_prog_id b "$B")
expect_fail 1 "$B: attach drop: device already has XDP program 'xdphook_pass' \\(id $foreign\\)" \
	in_ns b "$LOADER" -program drop -device "$B"
[ "$(xdp_prog_id b "$B")" = "$foreign" ] || fail "foreign program replaced"
[ "$(status_b)" = "[]" ] || fail "pins left after refused attach"
expect_fail 1 "nothing attached here by xdphook" in_ns b "$LOADER" -detach -device "$B"
[ "$(xdp_prog_id b "$B")" = "$foreign" ] || fail "detach removed a foreign program"
in_ns b ip link set dev "$B" xdp off

# A device deleted under an attachment: status says so, pins are listed.
in_ns b "$LOADER" -program pass -device "$B" || fail "attach before delete failed"
dir=$(status_b | jq -r '.[0].pin_dir')
ip -n "$(ns b)" link del "$B"
st=$(in_ns b "$LOADER" -status -json | jq -c --arg d "$dir" '[.[] | select(.pin_dir == $d)]')
[ "$(jq -r '.[0].state' <<<"$st")" != attached ] || fail "deleted device still 'attached': $st"
at_exit "rm -rf '$dir'"
pass
