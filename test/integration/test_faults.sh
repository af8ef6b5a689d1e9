#!/bin/bash
# Fault injection (hook/fault.h; the hook built with the fault points on,
# $BUILD/faults/xdp_hook): for every point XDPHOOK_FAULT=list names, in pod
# and in host mode, the hook fails there (its own rollback must leave
# nothing) and is SIGKILLed there (then poststop, or gc once the container's
# init is gone, must leave nothing). Teardown's points the same way: a
# poststop that fails or dies there, then a second poststop or gc. "Nothing"
# is checked against a snapshot: no veth, pin, NIC/xdp_veth map entry,
# keeper, or /run/xdphook/<id> of the container remains, and a resident
# container on the same NIC keeps its traffic through the fast path
# throughout. Hooks are invoked directly on a netns with a sleep process
# (as test/bench/hook_latency.sh does); one fail and one kill also go
# through real runc.
# timeout: 540
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container.sh"
# host mode by annotation: the node must allow it
node_config '{"annotations": ["enable", "ips", "nic", "mode"]}'
NORMAL_HOOK=$HOOK
FHOOK="$BUILD/faults/xdp_hook"
[ -x "$FHOOK" ] || fail "$FHOOK is not built (make test-integration builds it)"
command -v bpftool >/dev/null || skip "bpftool is not installed"

topo_new
PINS=/sys/fs/bpf/xdphook/v2

# held_ctr NAME: new_ctr NAME (container.sh: netns NAME, its init a sleep,
# CTR_PID) and CTR_INO, the inode number of the netns.
held_ctr() {
	new_ctr "$1"
	CTR_INO=$(stat -L -c %i "/run/netns/$(ns "$1")")
	# Held until the check is done: a namespace's inode number is reused
	# once it is gone (a keeper of another test's could show up as ours).
	exec {CTR_FD}<"/run/netns/$(ns "$1")"
}
# del_ctr NAME PID: the container is gone (init and netns).
del_ctr() { kill "$2" 2>/dev/null; wait_gone "$2" || fail "sleep $2 did not exit"; ip netns del "$(ns "$1")"; }
state() {
	local ann="\"io.xdphook.nic\":\"nic0\",\"io.xdphook.mode\":\"$3\""
	[ "$3" = pod ] && ann+=",\"io.xdphook.ips\":\"${4:-10.77.1.10/32}\""
	echo "{\"ociVersion\":\"1.0.2\",\"id\":\"$1\",\"status\":\"$2\",\"pid\":${CTR_PID:-0},\"annotations\":{$ann}}"
}
hook() { in_ns host env ${FAULT:+XDPHOOK_FAULT=$FAULT} "$FHOOK" "$@"; }

# What a container could leave behind, beyond host_snapshot (veths, pin
# directories of netns host, /run/xdphook/xht-$XH_TAG-*): the entries of
# every pinned map of netns host (the NIC program's, the shared xdp_veth's
# and whatever else is shared there; counters by key only), the pin
# directories of netns NAME, its devices, and keepers in it (netns inode
# CTR_INO: also once it has no name any more).
maps_snapshot() {
	local d f
	for d in $(in_ns host "$LOADER" -status -json | jq -r '.[] | select(.this_netns) | .pin_dir' | sort); do
		for f in "$d"/*; do
			case ${f##*/} in prog|link|meta) continue ;; esac
			bpftool -j map dump pinned "$f" 2>/dev/null >"$XH_TMP/dump" || continue
			case ${f##*/} in
			*stats*|veth_dev) echo "$f $(jq -c '[.[] | .key] | sort' "$XH_TMP/dump")" ;;
			# arrays of every port and of 4096 pod slots: a digest of the
			# values (sorting 128 Ki entries a snapshot would take seconds)
			ports|pod4_slots) echo "$f $(md5sum <"$XH_TMP/dump")" ;;
			*) echo "$f $(jq -c '[.[] | [.key, .value]] | sort' "$XH_TMP/dump")" ;;
			esac
		done
	done
}
snapshot() {
	local p
	host_snapshot
	maps_snapshot
	[ -n "${1:-}" ] || return 0
	if [ -e "/run/netns/$(ns "$1")" ]; then
		in_ns "$1" "$LOADER" -status -json | jq -r '.[] | select(.this_netns) | .pin_dir'
		ip -n "$(ns "$1")" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -v '^lo$'
	fi
	for p in $(pgrep -x xdphook-keeper); do
		[ "$(stat -L -c %i "/proc/$p/ns/net" 2>/dev/null)" = "$CTR_INO" ] && ! gone "$p" && echo "keeper $p"
	done
	return 0
}

# --- the resident: pod mode, its kernel answering on xdp0 -------------------------
held_ctr res; RES_PID=$CTR_PID
RES=xht-$XH_TAG-res
state "$RES" creating pod 10.77.1.250/32 | in_ns host "$NORMAL_HOOK" createRuntime || fail "resident container"
at_exit "echo '{\"id\":\"$RES\",\"status\":\"stopped\"}' | in_ns host $NORMAL_HOOK poststop"
in_ns res ip addr add 10.77.1.250/32 dev xdp0
in_ns res ip route add default via 169.254.1.1 dev xdp0 onlink
res_ep() { in_ns host "$NORMAL_HOOK" list -json | jq --arg id "$RES" '.[] | select(.id == $id) | .programs.nic.redirect.packets'; }
res_ok() {
	local n0; n0=$(res_ep)
	in_ns world ping -c 2 -i 0.2 -W 1 -q 10.77.1.250 >/dev/null || fail "$1: the resident lost its traffic"
	[ "$(( $(res_ep) - n0 ))" -ge 2 ] || fail "$1: the resident's traffic left the fast path"
}
res_ok "before any fault"
BASE=$(snapshot) # a clean container adds nothing to it

in_ns host "$FHOOK" list >/dev/null || fail "the fault-enabled hook does not run"
POINTS=$(XDPHOOK_FAULT=list "$FHOOK") || fail "XDPHOOK_FAULT=list failed"
[ "$(wc -l <<<"$POINTS")" -ge 20 ] || fail "only $(wc -l <<<"$POINTS") fault points: $POINTS"
XDPHOOK_FAULT=list "$NORMAL_HOOK" --help | grep -q usage || fail "the normal hook lists fault points"

injected=0 reached_setup=0 reached_td=0 n=0
# check WHAT NAME: nothing of container netns NAME is left.
check() {
	local now; now=$(snapshot "$2")
	[ "$now" = "$BASE" ] || fail "$1 left: $(diff <(echo "$BASE") <(echo "$now"))"
}
# finish AGAIN [removes]: after a fault, the container of the loop below
# ($what, $id, $name, $pid, $mode, $n) goes: half the points through a
# poststop (init alive; AGAIN names it in errors), the other half through
# gc (init gone; with "removes", gc must say it removed the container), the
# other way round in the other mode.
finish() {
	if [ $(( (n + ${#mode}) % 2 )) = 0 ]; then
		state "$id" stopped "$mode" | hook poststop 2>"$XH_TMP/err" ||
			fail "$what: $1: $(cat "$XH_TMP/err")"
	else
		del_ctr "$name" "$pid"
		hook gc >"$XH_TMP/gc" 2>&1 || fail "$what: gc: $(cat "$XH_TMP/gc")"
		[ "${2:-}" != removes ] || grep -q "^removing $id: " "$XH_TMP/gc" ||
			fail "$what: gc did not remove it: $(cat "$XH_TMP/gc")"
	fi
}

for mode in pod host; do
	for kind in fail kill; do
		for p in $POINTS; do
			n=$((n + 1)); name=f$n id=xht-$XH_TAG-$name what="$mode $kind:$p"
			held_ctr "$name"; pid=$CTR_PID checked=
			if [[ $p != td-* ]]; then
				FAULT=$kind:$p
				state "$id" creating "$mode" | hook createRuntime >"$XH_TMP/out" 2>"$XH_TMP/err"; rc=$?
				FAULT=
				if ! grep -q "at $p\$" "$XH_TMP/err"; then
					# Not a point of this mode: a normal setup.
					[ $rc = 0 ] || fail "$what: setup failed without the fault: $(cat "$XH_TMP/err")"
					state "$id" stopped "$mode" | hook poststop || fail "$what: poststop"
				elif [ "$kind" = fail ]; then
					injected=$((injected + 1)) reached_setup=$((reached_setup + 1))
					[ $rc = 1 ] || fail "$what: exit $rc, want 1"
					grep -q "^xdp_hook: $id: .*: injected fault at $p\$" "$XH_TMP/err" ||
						fail "$what: error line: $(cat "$XH_TMP/err")"
					[ "$(wc -l <"$XH_TMP/err")" = 1 ] || fail "$what: more than one line: $(cat "$XH_TMP/err")"
					check "$what (rollback)" "$name"; checked=1
				else
					injected=$((injected + 1)) reached_setup=$((reached_setup + 1))
					[ $rc = 137 ] || fail "$what: exit $rc, want 137 (SIGKILL): $(cat "$XH_TMP/err")"
					finish poststop removes
				fi
			else
				state "$id" creating "$mode" | hook createRuntime 2>"$XH_TMP/err" ||
					fail "$what: setup: $(cat "$XH_TMP/err")"
				FAULT=$kind:$p
				state "$id" stopped "$mode" | hook poststop >"$XH_TMP/out" 2>"$XH_TMP/err"; rc=$?
				FAULT=
				if grep -q "at $p\$" "$XH_TMP/err"; then
					injected=$((injected + 1)) reached_td=$((reached_td + 1))
					if [ "$kind" = fail ]; then
						[ $rc = 1 ] || fail "$what: exit $rc, want 1"
					else
						[ $rc = 137 ] || fail "$what: exit $rc, want 137"
					fi
					finish "second poststop"
				else
					[ $rc = 0 ] || fail "$what: poststop failed without the fault: $(cat "$XH_TMP/err")"
				fi
			fi
			[ -n "$checked" ] || check "$what" "$name"
			[ -e "/run/netns/$(ns "$name")" ] && del_ctr "$name" "$pid"
			exec {CTR_FD}<&-
			res_ok "$what"
		done
	done
done
setup_points=$(grep -vc '^td-' <<<"$POINTS") td_points=$(grep -c '^td-' <<<"$POINTS")
# Every point is reached in at least one mode, both ways.
[ "$reached_setup" -ge $((2 * setup_points)) ] || fail "only $reached_setup setup faults fired for $setup_points points"
[ "$reached_td" -ge $((2 * td_points)) ] || fail "only $reached_td teardown faults fired for $td_points points"

# --- through real runc: a failing hook and a killed one ---------------------------
command -v runc >/dev/null || skip "runc is not installed ($injected faults injected directly)"
HOOK=$FHOOK
for f in fail:nic-entries kill:veth-link; do
	n=$((n + 1)); id=xht-$XH_TAG-r$n
	b=$(bundle_new "r$n" '{"io.xdphook.ips":"10.77.1.11/32","io.xdphook.nic":"nic0"}' \
		".hooks.createRuntime[0].env += [\"XDPHOOK_FAULT=$f\"]")
	ctr_create runc "$id" "$b" && fail "runc create with $f succeeded"
	grep -q "at ${f#*:}" "$XH_TMP/$id.err" || fail "runc $f: $(cat "$XH_TMP/$id.err")"
	injected=$((injected + 1))
	runc_ delete -f "$id" >/dev/null 2>&1
	# Whatever poststop did not get to (runc runs none for a container
	# that never started): the container's init is gone, gc removes it.
	in_ns host "$NORMAL_HOOK" gc >"$XH_TMP/gc" 2>&1 || fail "runc $f: gc: $(cat "$XH_TMP/gc")"
	now=$(snapshot)
	[ "$now" = "$BASE" ] || fail "runc $f left: $(diff <(echo "$BASE") <(echo "$now"))"
	res_ok "runc $f"
done
pass "$n runs, $injected faults injected ($setup_points setup and $td_points teardown points, pod and host mode)"
