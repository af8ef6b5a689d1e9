# Helpers of the load tests (test_soak.sh, test_parallel.sh, test_churn.sh),
# sourced after lib.sh and container.sh, once topo_new made netns host/world.

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# Datagrams the host kernel forwarded (IPv4): the fast path forwards none.
forwarded() { in_ns host awk '/^Ip: [0-9]/ {print $7}' /proc/net/snmp; }
# med: the median of the numbers on stdin.
med() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# kb PID FIELD: a field of /proc/PID/smaps_rollup (kB).
kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/smaps_rollup"; }

# pod_bundle NAME IP: a pod-mode bundle on nic0 for IP/32 whose hooks run
# through build/test/rusage_wrap (one line per invocation in $RU: "PHASE
# maxrss_kb KB ms MS rc RC"), with sanitizer reports of the hook and its
# keeper (stderr on /dev/null) written to $XH_TMP/san.* (see hooks_ok).
WRAP="$BUILD/test/rusage_wrap"
[ -x "$WRAP" ] || fail "$WRAP is not built (make test-integration builds it)"
RU="$XH_TMP/rusage.log"
pod_bundle() {
	bundle_new "$1" "{\"io.xdphook.ips\":\"$2/32\",\"io.xdphook.nic\":\"nic0\"}" \
		".hooks |= with_entries(.value |= map(.args = [\"rusage_wrap\", \"$RU\", .path] + .args[1:] |
			.path = \"$WRAP\" | .env += [\"ASAN_OPTIONS=log_path=$XH_TMP/san\", \"UBSAN_OPTIONS=log_path=$XH_TMP/san\"]))"
}
# hooks_ok N: the hook ran N times per phase, every time with exit status 0,
# and no sanitizer said anything.
hooks_ok() {
	local phase n
	for phase in createRuntime poststop; do
		n=$(grep -c "^$phase " "$RU")
		[ "$n" = "$1" ] || fail "the $phase hook ran $n times, want $1"
	done
	grep -v ' rc 0$' "$RU" && fail "hook invocations failed (above)"
	[ -z "$(ls "$XH_TMP"/san.* 2>/dev/null)" ] || fail "sanitizer reports: $(head -c 3000 "$XH_TMP"/san.*)"
}

# keeper_of STATE-JSON: "PID START" of its keeper.
keeper_of() { jq -r '"\(.keeper.pid) \(.keeper.start)"' "$1"; }
# running PID START: PID is still that process (START: the start time
# recorded in state.json, field 22 of /proc/PID/stat) and not a zombie.
running() {
	[ -r "/proc/$1/stat" ] && ! gone "$1" &&
		[ "$(awk '{sub(/.*\) /, ""); print $20}' "/proc/$1/stat" 2>/dev/null)" = "$2" ]
}

# record_bpf CONTAINER-PID VETH: append the ids of the BPF programs on nic0,
# VETH and the container's xdp0, of their maps and their links to
# $XH_TMP/{progs,maps,links}; bpf_all_gone checks later that none exists
# (ids are allocated cyclically, not reused soon; an object some process
# still holds an fd of exists).
record_bpf() {
	local p ids
	ids=$( { in_ns host ip -j link show dev nic0; in_ns host ip -j link show dev "$2"
		 nsenter --net="/proc/$1/ns/net" ip -j link show dev xdp0; } | jq -r '.[0].xdp.prog.id // empty')
	for p in $ids; do
		echo "$p" >>"$XH_TMP/progs"
		bpftool -j prog show id "$p" | jq -r '.map_ids[]?' >>"$XH_TMP/maps"
	done
	bpftool -j link show | jq -r --arg ids "$ids" '($ids | split("\n") | map(tonumber)) as $p |
		.[] | select(.prog_id as $i | $p | index($i)) | .id' >>"$XH_TMP/links"
}
# bpf_all_gone: none of the recorded objects exists; sets BPF_COUNTS.
bpf_all_gone() {
	local kind f alive
	BPF_COUNTS=""
	for kind in prog map link; do
		f="$XH_TMP/${kind}s"
		[ -s "$f" ] || fail "recorded no BPF ${kind}s"
		sort -u "$f" -o "$f"
		alive=$(bpftool -j "$kind" show | jq -r '.[].id' | sort | comm -12 - "$f" | paste -sd' ')
		[ -z "$alive" ] || fail "BPF ${kind}s of the containers still exist: $alive" \
			"($(bpftool "$kind" show id "${alive%% *}" 2>&1 | head -3))"
		BPF_COUNTS+="${BPF_COUNTS:+, }$(wc -l <"$f") ${kind}s"
	done
}
# keepers_gone: none of the keepers in $XH_TMP/keepers ("PID START" lines) runs.
keepers_gone() {
	local kp kstart
	while read -r kp kstart; do
		running "$kp" "$kstart" && fail "keeper $kp still runs"
	done <"$XH_TMP/keepers"
}
# pins_gone COOKIE: no pin directory of the host netns COOKIE in bpffs
# (status lists only the pins whose meta it can read).
pins_gone() {
	local pins
	pins=$(compgen -G "/sys/fs/bpf/xdphook/v2/*-$1-*" || true)
	[ -z "$pins" ] || fail "pins left in /sys/fs/bpf/xdphook/v2: $pins"
}
# nothing_left BEFORE COOKIE: the host snapshot is BEFORE again, no NIC
# program, no pins, no state dir, no keeper, no BPF object of ours.
nothing_left() {
	[ "$(host_snapshot)" = "$1" ] || fail "left behind: $(diff <(echo "$1") <(host_snapshot))"
	in_ns host ip -j link show dev nic0 | jq -e '.[0].xdp == null' >/dev/null || fail "the NIC program stayed"
	[ -z "$(ls -d /run/xdphook/xht-"$XH_TAG"-* 2>/dev/null)" ] ||
		fail "state dirs left: $(ls -d /run/xdphook/xht-"$XH_TAG"-*)"
	pins_gone "$2"
	keepers_gone
	reapers_gone
	bpf_all_gone
}
# reapers_gone: no veth reaper runs on (a zombie at most): each exits once
# its veth is gone (host_snapshot waited for that). Every reaper on the
# machine is ours: tests run one at a time (the machine-wide lock).
reapers_gone() {
	local i p alive
	for ((i = 0; i < 200; i++)); do
		alive=
		for p in $(pgrep -x xdphook-reaper); do gone "$p" || alive+=" $p"; done
		[ -z "$alive" ] && return 0
		sleep 0.05
	done
	fail "veth reapers still run:$alive"
}

# shared_dirs: the pin directories of what containers in netns host share:
# the NIC program's and every shared-<cookie>-* one.
shared_dirs() {
	in_ns host "$LOADER" -status -json |
		jq -r '.[] | select(.this_netns and (.program == "nic" or .state == "shared")) | .pin_dir' | sort
}
# shared_keys DIR...: every map pinned in DIRs, one line each: its keys, and
# its values where they are configuration (per-CPU maps and counters give
# keys only): what must be the same before and after containers come and go.
shared_keys() {
	local d m dump
	for d in "$@"; do
		for m in "$d"/*; do
			dump=$(bpftool -j map dump pinned "$m" 2>/dev/null) || continue # programs, links
			case ${m##*/} in
			*stats | meta) echo "${d##*/}/${m##*/}: $(jq -c '[.[].key] | sort' <<<"$dump")" ;;
			*) echo "${d##*/}/${m##*/}: $(jq -c '[.[] | [.key, .value]] | sort' <<<"$dump")" ;;
			esac
		done
	done
}
