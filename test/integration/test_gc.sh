#!/bin/bash
# What was lost, found and removed:
#  - gc: `xdp_hook gc -n` only says what it would remove; `xdp_hook gc`
#    removes containers whose init is gone; one whose lock is held (an
#    invocation working on it) is skipped; one set up from another netns is
#    left to a gc there;
#  - gc on the side: a setup and a teardown also remove other containers'
#    stale state (one stderr line each) without failing themselves;
#  - teardown of a container with a killed keeper, a deleted netns, a
#    deleted veth, missing bpffs pins, a full /run: exit 0, one line saying
#    what it found; setup with a full /run fails cleanly.
# Each time: nothing of the removed container remains (host_snapshot), and
# the others (a resident above all) keep their traffic.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container.sh"
command -v flock >/dev/null || skip "flock (util-linux) is not installed"

topo_new
state() {
	echo "{\"ociVersion\":\"1.0.2\",\"id\":\"xht-$XH_TAG-$1\",\"status\":\"$2\",\"pid\":${3:-0},\"annotations\":{\"io.xdphook.ips\":\"${4:-}\",\"io.xdphook.nic\":\"nic0\"}}"
}
# up NAME IP: a container (netns NAME, its init a sleep: PID_<NAME>), set up.
up() {
	new_ctr "$1"
	eval "PID_$1=$CTR_PID"
	state "$1" creating "$CTR_PID" "$2" | in_ns host "$HOOK" createRuntime 2>"$XH_TMP/up-$1.err" ||
		fail "setup of $1: $(cat "$XH_TMP/up-$1.err")"
	at_exit "echo '{\"id\":\"xht-$XH_TAG-$1\",\"status\":\"stopped\"}' | in_ns host $HOOK poststop"
}
poststop() { state "$1" stopped | in_ns host "$HOOK" poststop; }
has_state() { [ -f "/run/xdphook/xht-$XH_TAG-$1/state.json" ]; }
kill_init() { local p="PID_$1"; kill "${!p}"; wait_gone "${!p}" || fail "init of $1 did not exit"; }
veth_of() { jq -r .veth.name "/run/xdphook/xht-$XH_TAG-$1/state.json"; }
keeper_of() { jq -r .keeper.pid "/run/xdphook/xht-$XH_TAG-$1/state.json"; }
# gone_all NAME VETH KEEPER: nothing of container NAME remains.
gone_all() {
	! has_state "$1" || fail "$1: its state remains"
	! in_ns host ip link show "$2" >/dev/null 2>&1 || fail "$1: its veth $2 remains"
	wait_gone "$3" || fail "$1: its keeper $3 remains"
}

up res 10.77.1.250/32
in_ns res ip addr add 10.77.1.250/32 dev xdp0
in_ns res ip route add default via 169.254.1.1 dev xdp0 onlink
res_ok() { in_ns world ping -c 2 -i 0.2 -W 1 -q 10.77.1.250 >/dev/null || fail "$1: the resident lost its traffic"; }
res_ok "start"
before=$(host_snapshot)

# --- gc -n, gc, a held lock, another netns ------------------------------------------------
up a 10.77.1.20/32
va=$(veth_of a) ka=$(keeper_of a)
kill_init a
in_ns host "$HOOK" gc -n >"$XH_TMP/gc" 2>&1 || fail "gc -n: $(cat "$XH_TMP/gc")"
grep -q "^would remove xht-$XH_TAG-a: veth $va" "$XH_TMP/gc" || fail "gc -n: $(cat "$XH_TMP/gc")"
grep -q "xht-$XH_TAG-res" "$XH_TMP/gc" && fail "gc -n would remove the resident: $(cat "$XH_TMP/gc")"
has_state a && in_ns host ip link show "$va" >/dev/null || fail "gc -n removed something"
# From another netns: not ours to remove (we could not delete its veth).
in_ns world "$HOOK" gc >"$XH_TMP/gc" 2>&1 || fail "gc in world: $(cat "$XH_TMP/gc")"
grep -q "^skipping xht-$XH_TAG-a: set up from another network namespace" "$XH_TMP/gc" ||
	fail "gc in world: $(cat "$XH_TMP/gc")"
has_state a || fail "gc in world removed a"
# Held: an invocation is working on it.
in_ns host flock "/run/xdphook/xht-$XH_TAG-a" -c "'$HOOK' gc" >"$XH_TMP/gc" 2>&1 || fail "gc with a held: $(cat "$XH_TMP/gc")"
grep -q "xht-$XH_TAG-a" "$XH_TMP/gc" && fail "gc took a held container: $(cat "$XH_TMP/gc")"
has_state a || fail "gc removed a container whose lock was held"
in_ns host "$HOOK" gc >"$XH_TMP/gc" 2>&1 || fail "gc: $(cat "$XH_TMP/gc")"
grep -q "^removing xht-$XH_TAG-a: veth $va" "$XH_TMP/gc" || fail "gc: $(cat "$XH_TMP/gc")"
gone_all a "$va" "$ka"
[ "$(host_snapshot)" = "$before" ] || fail "gc left: $(diff <(echo "$before") <(host_snapshot))"
res_ok "gc"
in_ns host "$HOOK" gc >"$XH_TMP/gc" 2>&1 || fail "second gc: $(cat "$XH_TMP/gc")"
grep -q "xht-$XH_TAG-" "$XH_TMP/gc" && fail "second gc: $(cat "$XH_TMP/gc")"

# --- gc on the side: a setup removes a stale container, a teardown another --------------
up b 10.77.1.21/32
up c 10.77.1.22/32
vb=$(veth_of b) kb=$(keeper_of b) vc=$(veth_of c) kc=$(keeper_of c)
kill_init b
up d 10.77.1.23/32
grep -q "^xdp_hook: xht-$XH_TAG-d: gc: removing stale container xht-$XH_TAG-b (init pid [0-9]* is gone)$" \
	"$XH_TMP/up-d.err" || fail "setup of d did not remove b: $(cat "$XH_TMP/up-d.err")"
gone_all b "$vb" "$kb"
has_state c && has_state d || fail "the setup's gc removed a live container"
kill_init c
poststop d 2>"$XH_TMP/err" || fail "poststop of d: $(cat "$XH_TMP/err")"
grep -q "gc: removing stale container xht-$XH_TAG-c " "$XH_TMP/err" || fail "poststop of d did not remove c: $(cat "$XH_TMP/err")"
gone_all c "$vc" "$kc"
[ "$(host_snapshot)" = "$before" ] || fail "gc on the side left: $(diff <(echo "$before") <(host_snapshot))"
res_ok "gc on the side"

# --- teardown: a killed keeper, a deleted veth, missing pins, a deleted netns -------------
# td NAME REGEX: poststop succeeds, says REGEX (one line), leaves nothing.
td() {
	local v; v=$(veth_of "$1")
	poststop "$1" 2>"$XH_TMP/err" || fail "$1: poststop failed: $(cat "$XH_TMP/err")"
	grep -Eq "^xdp_hook: xht-$XH_TAG-$1: teardown: $2\$" "$XH_TMP/err" || fail "$1: poststop said: $(cat "$XH_TMP/err")"
	[ "$(wc -l <"$XH_TMP/err")" = 1 ] || fail "$1: poststop said more: $(cat "$XH_TMP/err")"
	[ "$(host_snapshot)" = "$before" ] || fail "$1: teardown left: $(diff <(echo "$before") <(host_snapshot))"
	! in_ns host ip link show "$v" >/dev/null 2>&1 || fail "$1: veth $v remains"
	res_ok "$1"
}
up k 10.77.1.30/32
kk=$(keeper_of k)
kill -9 "$kk"; wait_gone "$kk" || fail "keeper did not die"
td k "keeper $kk was already gone"

up v 10.77.1.31/32
in_ns host ip link del "$(veth_of v)"
td v "veth $(veth_of v) was already gone"

up p 10.77.1.32/32
vp=$(veth_of p)
pd=$(in_ns host "$LOADER" -status -json | jq -r --arg v "$vp" '.[] | select(.this_netns and .device == $v) | .pin_dir')
[ -d "$pd" ] || fail "no pins for $vp: '$pd'"
rm -rf "$pd"
td p "the pins of $vp's program were already gone"

up n 10.77.1.33/32
vn=$(veth_of n) kn=$(keeper_of n)
kill_init n; wait_gone "$kn" || fail "the keeper of n outlived its init"
ip netns del "$(ns n)"
# The netns goes (and the veth pair with it) once nothing holds it.
for ((i = 0; i < 200; i++)); do in_ns host ip link show "$vn" >/dev/null 2>&1 || break; sleep 0.05; done
in_ns host ip link show "$vn" >/dev/null 2>&1 && fail "$vn outlived its netns"
td n "veth $vn was already gone \\(with the container's network namespace\\)"

# --- a dead reaper: poststop leaves the veth's deletion to it ---------------------------------
# (after the state is gone). One killed first leaves an xh- veth that no
# state records: gc removes it, and a new setup of the same id replaces it.
up r 10.77.1.34/32
vr=$(veth_of r)
poststop r || fail "poststop of r"
[ "$(host_snapshot)" = "$before" ] || fail "r: the reaper left: $(diff <(echo "$before") <(host_snapshot))"
in_ns host ip link add "$vr" type veth peer name "xr$XH_TAG" || fail "a leftover veth $vr"
in_ns host "$HOOK" gc -n >"$XH_TMP/gc" 2>&1 || fail "gc -n: $(cat "$XH_TMP/gc")"
grep -q "^would remove veth $vr: no container records it\$" "$XH_TMP/gc" || fail "gc -n: $(cat "$XH_TMP/gc")"
in_ns host ip link show "$vr" >/dev/null 2>&1 || fail "gc -n removed $vr"
in_ns host "$HOOK" gc >"$XH_TMP/gc" 2>&1 || fail "gc: $(cat "$XH_TMP/gc")"
grep -q "^removed veth $vr: no container recorded it\$" "$XH_TMP/gc" || fail "gc: $(cat "$XH_TMP/gc")"
! in_ns host ip link show "$vr" >/dev/null 2>&1 || fail "gc left $vr"
in_ns host ip link add "$vr" type veth peer name "xr$XH_TAG" || fail "a leftover veth $vr"
kill_init r
new_ctr r2 # the same id again, in a new netns: the leftover veth is replaced
state r creating "$CTR_PID" 10.77.1.34/32 | in_ns host "$HOOK" createRuntime 2>"$XH_TMP/err" ||
	fail "setup of r again: $(cat "$XH_TMP/err")"
[ "$(in_ns host ip -j link show "$vr" | jq -r '.[0].link_netnsid // empty')" != "" ] ||
	fail "r: $vr is still the leftover (its peer in the host netns)"
poststop r || fail "second poststop of r"
[ "$(host_snapshot)" = "$before" ] || fail "r: left: $(diff <(echo "$before") <(host_snapshot))"
res_ok "dead reaper"

# --- a full /run: teardown succeeds, setup fails cleanly -------------------------------------
# In a mount namespace of its own, a 256 KiB tmpfs over /run/xdphook, with
# copies of this test's states (the resident's: the NIC program has a user).
up_full=$(cat <<'EOF'
set -u
tmp=$(mktemp -d) && cp -a /run/xdphook/"$TAG"-* "$tmp"/ || exit 89
mount --make-rprivate / && mount -t tmpfs -o size=256k none /run/xdphook || exit 90
cp -a "$tmp"/* /run/xdphook/ && rm -rf "$tmp" || exit 89
fill() { dd if=/dev/zero of=/run/xdphook/.fill bs=4k 2>/dev/null; [ "$(df --output=avail /run/xdphook | tail -1 | tr -d " ")" = 0 ] || exit 91; }
case $1 in
teardown)
	echo "$2" | "$HOOK" createRuntime || exit 92
	fill
	echo "$3" | "$HOOK" poststop || exit 93
	ls /run/xdphook | grep -v '^\.fill$' | grep -vx lock | grep -v -- -res && exit 94
	exit 0 ;;
setup)
	fill
	echo "$2" | "$HOOK" createRuntime && exit 95
	ls /run/xdphook | grep -v '^\.fill$' | grep -vx lock | grep -v -- -res && exit 96
	exit 0 ;;
esac
EOF
)
new_ctr full
in_ns host env HOOK="$HOOK" TAG="xht-$XH_TAG" unshare -m bash -c "$up_full" - teardown "$(state full creating "$CTR_PID" 10.77.1.40/32)" \
	"$(state full stopped)" >"$XH_TMP/out" 2>"$XH_TMP/err" || fail "full /run, teardown: rc $?: $(cat "$XH_TMP/err")"
[ "$(host_snapshot)" = "$before" ] || fail "full /run teardown left: $(diff <(echo "$before") <(host_snapshot))"
in_ns host env HOOK="$HOOK" TAG="xht-$XH_TAG" unshare -m bash -c "$up_full" - setup "$(state full creating "$CTR_PID" 10.77.1.40/32)" \
	>"$XH_TMP/out" 2>"$XH_TMP/err" || fail "full /run, setup: rc $?: $(cat "$XH_TMP/err")"
grep -q "^xdp_hook: xht-$XH_TAG-full: state: .*No space left on device" "$XH_TMP/err" ||
	fail "full /run, setup said: $(cat "$XH_TMP/err")"
[ "$(host_snapshot)" = "$before" ] || fail "full /run setup left: $(diff <(echo "$before") <(host_snapshot))"
res_ok "full /run"

# --- pins of network namespaces deleted without a teardown ---------------------------------
# A second host (netns gh, its own nic0) and a container set up from it;
# both namespaces are deleted without a poststop. gc finds the namespaces
# their pins are keyed by gone, and removes the pins; those of namespaces
# alive (host's, the resident's) stay. Where it cannot see every namespace
# (a child pid namespace) it keeps them all.
ns_new gh
veth_new nic0 gh w1 world
veth_xdp_ready world w1
new_ctr g
gpid=$CTR_PID
at_exit "echo '{\"id\":\"xht-$XH_TAG-g\",\"status\":\"stopped\"}' | in_ns gh $HOOK poststop"
state g creating "$gpid" 10.77.3.5/32 | in_ns gh "$HOOK" createRuntime 2>"$XH_TMP/up-g.err" ||
	fail "setup of g from gh: $(cat "$XH_TMP/up-g.err")"
kg=$(keeper_of g)
pins_of() { in_ns "$1" "$LOADER" -status -json | jq -r '.[] | select(.this_netns) | .pin_dir'; }
dead=$( { pins_of gh; pins_of g; } | sort)
kept=$( { pins_of host; pins_of res; } | sort)
[ "$(echo "$dead" | grep -c /)" -ge 3 ] || fail "g: pins of gh and g: $dead"
[ -n "$kept" ] || fail "no pins of host and res"
at_exit "rm -rf $(echo $dead)" # once the namespaces are gone, nothing else would
kill "$gpid"; wait_gone "$gpid" || fail "init of g did not exit"
wait_gone "$kg" || fail "the keeper of g outlived its init"
ip netns del "$(ns g)"; ip netns del "$(ns gh)"
# There the containers' inits are out of sight too: gc keeps every
# container (the resident one would be torn down otherwise) and every pin.
in_ns host unshare -pf --mount-proc "$HOOK" gc >"$XH_TMP/gc" 2>&1 || fail "gc in a pid namespace: $(cat "$XH_TMP/gc")"
grep -q "^xdp_hook: gc: pins of gone network namespaces: kept: not every process is visible here" "$XH_TMP/gc" ||
	fail "gc in a pid namespace: $(cat "$XH_TMP/gc")"
grep -q "^xdp_hook: gc: containers: kept: not every process is visible here" "$XH_TMP/gc" ||
	fail "gc in a pid namespace: $(cat "$XH_TMP/gc")"
grep -q "^remov" "$XH_TMP/gc" && fail "gc in a pid namespace removed: $(cat "$XH_TMP/gc")"
# The devices go (and their links let go) once the kernel has cleaned the
# namespaces up: until then gc keeps what a link shows alive.
for ((i = 0; i < 200; i++)); do
	in_ns host "$HOOK" gc -n >"$XH_TMP/gc" 2>&1 || fail "gc -n: $(cat "$XH_TMP/gc")"
	[ "$(grep -c "^would remove pins .*: network namespace [0-9]* is gone\$" "$XH_TMP/gc")" -ge "$(echo "$dead" | wc -l)" ] && break
	sleep 0.05
done
for d in $dead; do
	grep -q "^would remove pins $d: network namespace [0-9]* is gone\$" "$XH_TMP/gc" || fail "gc -n: $d not named: $(cat "$XH_TMP/gc")"
	[ -d "$d" ] || fail "gc -n removed $d"
done
for d in $kept; do grep -q "$d" "$XH_TMP/gc" && fail "gc -n would remove $d: $(cat "$XH_TMP/gc")"; done
in_ns host "$HOOK" gc >"$XH_TMP/gc" 2>&1 || fail "gc: $(cat "$XH_TMP/gc")"
for d in $dead; do
	grep -q "^removed pins $d: network namespace [0-9]* is gone\$" "$XH_TMP/gc" || fail "gc: $d not named: $(cat "$XH_TMP/gc")"
	[ ! -e "$d" ] || fail "gc left $d"
done
for d in $kept; do [ -d "$d" ] || fail "gc removed $d, of a namespace alive: $(cat "$XH_TMP/gc")"; done
# (g's state stays: set up from a namespace that is gone, nobody's gc takes it.)
rm -rf "/run/xdphook/xht-$XH_TAG-g"
[ "$(host_snapshot)" = "$before" ] || fail "gone namespaces: left: $(diff <(echo "$before") <(host_snapshot))"
res_ok "pins of gone namespaces"
pass
