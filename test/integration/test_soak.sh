#!/bin/bash
# Soak: SOAK_CYCLES (default 50; `make soak` runs 300) create/start/delete
# cycles of a runc container with the hook in pod mode. Every cycle proves
# the container worked (world pings the pod through the fast path: the host
# kernel forwards none of it) and that its delete left nothing (veth, pins,
# /run/xdphook/<id>, keeper). The first half runs alone on nic0 (the NIC and
# shared veth programs come and go every cycle), the second half next to a
# long-lived neighbour (the shared maps must hold exactly the neighbour's
# keys after the cycles, its keeper must not grow in memory or fds).
# Afterwards: nothing left in netns host, bpffs or /run/xdphook; none of the
# BPF programs, maps and links the cycles used exists in the kernel any more
# (so no process holds an fd of one); no keeper runs; every hook invocation
# exited 0 and no sanitizer spoke; and memory does not grow: each cycle's
# keeper RSS and Pss_Anon (read from smaps_rollup while it runs), and the
# hook's peak RSS per invocation (createRuntime, poststop: wait4() of
# build/test/rusage_wrap, which stands in the bundle's hook path), medians
# of the first and last cycles of each half, within 10 % + a few pages.
# SOAK_LEAK=veth leaks a veth on purpose at the middle cycle, SOAK_LEAK=entry
# a shared map entry at the last: the test must then fail (checks of the checks).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container.sh"
. "$(dirname "$0")/load.sh"
command -v runc >/dev/null || skip "runc is not installed"
command -v bpftool >/dev/null || skip "bpftool is not installed"
N=${SOAK_CYCLES:-50}
[[ $N =~ ^[0-9]+$ ]] && [ "$N" -ge 4 ] || fail "SOAK_CYCLES=$N: want a number >= 4"
HALF=$(( N / 2 ))

topo_new
before=$(host_snapshot)

b=$(pod_bundle s 10.77.1.5)
: >"$XH_TMP/cycles"
for ((i = 1; i <= N; i++)); do
	if [ "$i" = $((HALF + 1)) ]; then
		# --- second half: next to a long-lived neighbour ---------------------------------
		[ "$(host_snapshot)" = "$before" ] || fail "after $HALF cycles alone: $(diff <(echo "$before") <(host_snapshot))"
		A=xht-$XH_TAG-anchor
		ctr_create runc "$A" "$(pod_bundle anchor 10.77.1.4)" || fail "runc create the neighbour: $(cat "$XH_TMP/$A.err")"
		runc_ start "$A" || fail "runc start the neighbour"
		apid=$(ctr_pid runc "$A")
		ast="/run/xdphook/$A/state.json"
		akp=$(jq -r .keeper.pid "$ast") akstart=$(jq -r .keeper.start "$ast")
		record_bpf "$apid" "$(jq -r .veth.name "$ast")"
		dirs=$(shared_dirs)
		nic_dir=$(grep -- '/dev-' <<<"$dirs") shared_dir=$(grep -- '-veth$' <<<"$dirs")
		[ -d "$nic_dir" ] && [ -d "$shared_dir" ] || fail "no NIC ($nic_dir) or shared veth ($shared_dir) pins: $dirs"
		# (word splitting: the directories' names have no blanks)
		# shellcheck disable=SC2086
		akeys=$(shared_keys $dirs)
		# 10.77.1.4 in its pod4_slots slot (the address's bytes in the value)
		grep -q '/pod4_slots: .*\["0x0a","0x4d","0x01","0x04",' <<<"$akeys" ||
			fail "the neighbour has no entry in the NIC program's pod4_slots map"
		amem0="$(kb "$akp" Rss) $(kb "$akp" Pss) $(ls "/proc/$akp/fd" | wc -l)"
		grep -q '^createRuntime .* rc 0$' "$RU" || fail "the neighbour's hook: $(cat "$RU")"
		mv "$RU" "$XH_TMP/rusage.anchor"
		before2=$(host_snapshot)
	fi
	id=xht-$XH_TAG-s$i
	t0=$(now_ms)
	runc_ create --bundle "$b" "$id" </dev/null >"$XH_TMP/c.out" 2>"$XH_TMP/c.err" ||
		fail "cycle $i: runc create: $(cat "$XH_TMP/c.err")"
	t1=$(now_ms)
	runc_ start "$id" || fail "cycle $i: runc start"
	pid=$(ctr_pid runc "$id")
	st="/run/xdphook/$id/state.json"
	[ -f "$st" ] || fail "cycle $i: no $st"
	kp=$(jq -r .keeper.pid "$st") kstart=$(jq -r .keeper.start "$st") veth=$(jq -r .veth.name "$st")
	hcookie=$(jq -r .host_cookie "$st")
	running "$kp" "$kstart" || fail "cycle $i: keeper $kp is not running"
	echo "$kp $kstart" >>"$XH_TMP/keepers"
	record_bpf "$pid" "$veth"
	# The container's kernel plays the sandbox; world pings it through the fast path.
	nsenter --net="/proc/$pid/ns/net" ip addr add 10.77.1.5/32 dev xdp0 || fail "cycle $i: address on xdp0"
	nsenter --net="/proc/$pid/ns/net" ip route add default via 169.254.1.1 dev xdp0 onlink || fail "cycle $i: route"
	f0=$(forwarded)
	in_ns world ping -c 1 -W 2 -q 10.77.1.5 >/dev/null || fail "cycle $i: world cannot ping the pod"
	[ "$(forwarded)" = "$f0" ] || fail "cycle $i: the host kernel forwarded the ping (not the fast path)"
	kmem="$(kb "$kp" Rss) $(kb "$kp" Pss) $(kb "$kp" Pss_Anon)"
	t2=$(now_ms)
	runc_ delete -f "$id" || fail "cycle $i: runc delete"
	t3=$(now_ms)
	# What this cycle made is gone now (the keeper a zombie at most).
	[ -e "/run/xdphook/$id" ] && fail "cycle $i: /run/xdphook/$id left"
	# The veth goes with its reaper, shortly after the delete.
	reaped || fail "cycle $i: the reaper of $veth did not finish"
	in_ns host ip link show dev "$veth" >/dev/null 2>&1 && fail "cycle $i: $veth left"
	running "$kp" "$kstart" && fail "cycle $i: keeper $kp outlived the delete"
	# Checks of the checks: a veth, a map entry left behind on purpose.
	[ "${SOAK_LEAK:-}" = veth ] && [ "$i" = "$HALF" ] && in_ns host ip link add "xh-leak$XH_TAG" type veth peer name "xl$XH_TAG"
	[ "${SOAK_LEAK:-}" = entry ] && [ "$i" = "$N" ] && bpftool map update pinned "$shared_dir/src_ips" \
		key 99 0 0 0 4 0 0 0 10 77 1 99 0 0 0 0 0 0 0 0 0 0 0 0 value 1
	if [ "$i" -le "$HALF" ]; then
		in_ns host ip -j link show dev nic0 | jq -e '.[0].xdp == null' >/dev/null ||
			fail "cycle $i: the NIC program stayed after the last container"
	fi
	[ "$(host_snapshot)" = "${before2:-$before}" ] ||
		fail "cycle $i left: $(diff <(echo "${before2:-$before}") <(host_snapshot))"
	# The hook's two invocations, one line each: "PHASE maxrss_kb KB ms MS rc RC".
	hc=$(grep '^createRuntime ' "$RU") hp=$(grep '^poststop ' "$RU")
	[[ $hc =~ rc\ 0$ ]] && [[ $hp =~ rc\ 0$ ]] && [ "$(wc -l <"$RU")" = 2 ] ||
		fail "cycle $i: the hook's invocations: $(cat "$RU")"
	: >"$RU"
	# cycle, ms: create, start..ping, delete; keeper Rss, Pss, Pss_Anon (kB);
	# createRuntime peak RSS (kB), ms; poststop peak RSS (kB), ms
	echo "$i $((t1 - t0)) $((t2 - t1)) $((t3 - t2)) $kmem $(awk '{print $3, $5}' <<<"$hc") $(awk '{print $3, $5}' <<<"$hp")" \
		>>"$XH_TMP/cycles"
done

# --- the neighbour after the cycles: its entries alone, the same keeper, no growth ---
[ "$(shared_dirs)" = "$dirs" ] || fail "shared pins after $((N - HALF)) cycles: $(shared_dirs), before: $dirs"
# shellcheck disable=SC2086
[ "$(shared_keys $dirs)" = "$akeys" ] ||
	fail "shared maps after $((N - HALF)) cycles: $(diff <(echo "$akeys") <(shared_keys $dirs))"
running "$akp" "$akstart" || fail "the neighbour's keeper is gone"
amem1="$(kb "$akp" Rss) $(kb "$akp" Pss) $(ls "/proc/$akp/fd" | wc -l)"
read -r ar0 ap0 af0 <<<"$amem0"
read -r ar1 ap1 af1 <<<"$amem1"
[ "$af1" = "$af0" ] || fail "the neighbour's keeper went from $af0 to $af1 fds: $(ls -l "/proc/$akp/fd")"
nsenter --net="/proc/$apid/ns/net" ip addr add 10.77.1.4/32 dev xdp0
nsenter --net="/proc/$apid/ns/net" ip route add default via 169.254.1.1 dev xdp0 onlink
in_ns world ping -c 1 -W 2 -q 10.77.1.4 >/dev/null || fail "world cannot ping the neighbour after the cycles"
runc_ delete -f "$A" || fail "runc delete the neighbour"
cat "$XH_TMP/rusage.anchor" >>"$RU"
hooks_ok 1 # the neighbour's (each cycle's were checked in its cycle)
echo "$akp $akstart" >>"$XH_TMP/keepers"

# --- nothing left ----------------------------------------------------------------------
nothing_left "$before" "$hcookie"

# --- memory does not grow ------------------------------------------------------------------
# Medians of the first and of the last K cycles of each half (the two
# halves take different paths: alone, setup loads the NIC and veth
# programs; and a keeper's Pss depends on who shares its pages).
K=$(( HALF < 10 ? (HALF + 1) / 2 : 5 ))
# col C FROM TO: median of column C over cycles FROM..TO.
col() { awk -v c="$1" -v a="$2" -v b="$3" '$1 >= a && $1 <= b {print $c}' "$XH_TMP/cycles" | med; }
# grown WHAT C SLACK-KB: fail if column C's last-K median exceeds its
# first-K median by more than 10 % + SLACK-KB in either half (no SLACK-KB:
# only report); print both. Pss is only reported: its file part depends on
# what else on the machine maps the same libraries.
grown() {
	local h a b f l out=""
	for h in "1 $HALF" "$((HALF + 1)) $N"; do
		read -r a b <<<"$h"
		f=$(col "$2" "$a" $((a + K - 1))) l=$(col "$2" $((b - K + 1)) "$b")
		[ -z "${3:-}" ] || [ "$l" -le $((f + f / 10 + $3)) ] ||
			fail "$1 grew from $f to $l kB (cycles $a-$((a + K - 1)) vs $((b - K + 1))-$b)"
		out+="${out:+, }$f -> $l"
	done
	echo "$1 $out kB"
}
mem=$(grown "keeper RSS" 5 128; grown "keeper Pss" 6; grown "keeper Pss_Anon" 7 64
      grown "createRuntime peak RSS" 8 256; grown "poststop peak RSS" 10 256) || exit 1
[ "$ar1" -le $((ar0 + 64)) ] || fail "the neighbour's keeper grew from $ar0 to $ar1 kB RSS"

# --- figures ------------------------------------------------------------------------------
total=$(awk '{s += $2 + $3 + $4} END {print s}' "$XH_TMP/cycles")
echo "cycles: $N ($HALF alone, $((N - HALF)) next to a neighbour), $((total / N)) ms each on average;" \
	"medians alone | next to the neighbour: create $(col 2 1 $HALF) | $(col 2 $((HALF + 1)) $N) ms," \
	"start+ping $(col 3 1 $HALF) | $(col 3 $((HALF + 1)) $N) ms, delete $(col 4 1 $HALF) | $(col 4 $((HALF + 1)) $N) ms;" \
	"slowest: $(sort -k1,1n "$XH_TMP/cycles" | awk '$2 + $3 + $4 > m {m = $2 + $3 + $4; s = "cycle " $1 ", " m " ms (create " $2 \
		" with createRuntime " $9 ", start+ping " $3 ", delete " $4 " with poststop " $11 ")"} END {print s}')"
echo "hook wall time (medians alone | next to the neighbour): createRuntime $(col 9 1 $HALF) | $(col 9 $((HALF + 1)) $N) ms," \
	"poststop $(col 11 1 $HALF) | $(col 11 $((HALF + 1)) $N) ms"
echo "memory, medians of the first and last $K cycles of each half (alone, next to the neighbour):"
echo "$mem" | sed 's/^/  /'
echo "neighbour keeper over the second half: RSS $ar0 -> $ar1 kB, Pss $ap0 -> $ap1 kB, fds $af0 -> $af1"
echo "BPF objects the cycles used, all gone: $BPF_COUNTS"
pass "$N cycles"
