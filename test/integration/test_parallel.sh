#!/bin/bash
# Concurrency: PAR_N (16) runc containers with the hook (pod mode) created
# in parallel on one NIC. Every setup succeeds, and the shared maps are
# consistent: the NIC program's pods and tx_ports and the shared veth
# program's maps hold exactly one entry per container, each pointing at
# that container's veth. Each container runs xdp_echo on its endpoint;
# world sends every container a different number of UDP datagrams, all at
# once: each echo comes back with its own text, and each container's
# endpoint counted exactly its own datagrams (a frame for one never reached
# another). Then all are deleted in parallel: nothing is left (veths, pins,
# map entries, state dirs, keepers, xdp_echo, BPF objects).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container.sh"
. "$(dirname "$0")/load.sh"
command -v runc >/dev/null || skip "runc is not installed"
command -v bpftool >/dev/null || skip "bpftool is not installed"
CLIENT="$BUILD/test/ep_client"
for f in "$BUILD/xdp_echo" "$CLIENT"; do
	[ -x "$f" ] || fail "$f is not built (make test-integration builds it)"
done
M=${PAR_N:-16}
[[ $M =~ ^[0-9]+$ ]] && [ "$M" -ge 2 ] && [ "$M" -le 200 ] || fail "PAR_N=$M: want 2..200"

topo_new
before=$(host_snapshot)
ip_of() { echo "10.77.1.$((10 + $1))"; }
id_of() { echo "xht-$XH_TAG-p$1"; }

PIDS=()
at_exit 'for p in "${PIDS[@]}"; do kill -9 "$p"; done'
for ((i = 1; i <= M; i++)); do
	B[i]=$(pod_bundle "p$i" "$(ip_of $i)")
	at_exit "runc_ delete -f $(id_of $i)"
done

# --- create all at once ----------------------------------------------------------------
t0=$(now_ms)
for ((i = 1; i <= M; i++)); do
	runc_ create --bundle "${B[i]}" "$(id_of $i)" </dev/null >"$XH_TMP/create-$i.out" 2>"$XH_TMP/create-$i.err" &
	CP[i]=$!
done
bad=""
for ((i = 1; i <= M; i++)); do
	wait "${CP[i]}" || bad+="  $(id_of $i): $(cat "$XH_TMP/create-$i.err")"$'\n'
done
tcreate=$(( $(now_ms) - t0 ))
[ -z "$bad" ] || fail "parallel runc create failed for:"$'\n'"$bad"

# --- what setup built: one consistent entry per container -------------------------------
list=$(in_ns host "$HOOK" list -json | jq -c --arg p "xht-$XH_TAG-" '[.[] | select(.id | startswith($p))]')
[ "$(jq length <<<"$list")" = "$M" ] || fail "xdp_hook list shows $(jq length <<<"$list") of $M containers: $list"
[ "$(jq '[.[] | select(.status == "ready")] | length' <<<"$list")" = "$M" ] || fail "not all ready: $list"
: >"$XH_TMP/keepers"
for ((i = 1; i <= M; i++)); do
	st="/run/xdphook/$(id_of $i)/state.json"
	[ -f "$st" ] || fail "no $st"
	[ "$(jq -r '.ips[0].addr' "$st")" = "$(ip_of $i)" ] || fail "$(id_of $i) has $(jq -c .ips "$st")"
	IFX[i]=$(jq -r .veth.ifindex "$st") PID[i]=$(jq -r .pid "$st")
	read -r kp kstart < <(keeper_of "$st")
	echo "$kp $kstart" >>"$XH_TMP/keepers"
	running "$kp" "$kstart" || fail "$(id_of $i): its keeper is not running"
	record_bpf "${PID[i]}" "$(jq -r .veth.name "$st")"
done
hcookie=$(jq -r .host_cookie "/run/xdphook/$(id_of 1)/state.json")
[ "$(printf '%s\n' "${IFX[@]}" | sort -u | wc -l)" = "$M" ] || fail "veth ifindexes not unique: ${IFX[*]}"
status=$(in_ns host "$LOADER" -status -json)
nic_dir=$(jq -r '.[] | select(.this_netns and .program == "nic") | .pin_dir' <<<"$status")
shared_dir=$(jq -r '.[] | select(.this_netns and .state == "shared" and .program == "veth") | .pin_dir' <<<"$status")
[ "$(wc -w <<<"$nic_dir")" = 1 ] && [ "$(wc -w <<<"$shared_dir")" = 1 ] ||
	fail "want one NIC and one shared veth program: $(jq -c '[.[] | select(.this_netns) | {device, program, state}]' <<<"$status")"
vprogs=$(for ((i = 1; i <= M; i++)); do
	in_ns host ip -j link show dev "$(jq -r .veth.name "/run/xdphook/$(id_of $i)/state.json")" | jq '.[0].xdp.prog.id'
done | sort -u)
[ "$(wc -l <<<"$vprogs")" = 1 ] || fail "the veths run different programs: $vprogs"
dump() { bpftool -j map dump pinned "$1"; }
# IPv4 pods: pod4_slots (slots in use: address not 0) and pods4 (the
# addresses whose slot was taken), the address in network order read here
# as a little-endian number: IP -> veth ifindex, exactly ours; tx_ports:
# our ifindexes.
want=$(for ((i = 1; i <= M; i++)); do echo "$(ip_of $i) ${IFX[i]}"; done | sort)
IPF='def ip: [range(4) as $b | (. / pow(256; $b) | floor) % 256 | tostring] | join(".");'
got=$( { dump "$nic_dir/pods4" | jq -r "$IPF"' .[] | .formatted | "\(.key | ip) \(.value.ifindex)"'
	dump "$nic_dir/pod4_slots" | jq -r "$IPF"' .[] | .formatted.value | select(.addr != 0) |
		"\(.addr | ip) \(.dest.ifindex)"'; } | sort)
[ "$got" = "$want" ] || fail "NIC pods map: $(diff <(echo "$want") <(echo "$got"))"
txp=$(dump "$nic_dir/tx_ports" | jq -r '.[] | .key[0:4] | map(ltrimstr("0x")) | reverse | join("")' |
	while read -r h; do echo $((16#$h)); done | sort -n | paste -sd' ')
[ "$txp" = "$(printf '%s\n' "${IFX[@]}" | sort -n | paste -sd' ')" ] || fail "NIC tx_ports holds $txp, want ${IFX[*]}"
got=$(dump "$shared_dir/src_ips" | jq -r '.[] | .formatted.key | "\(.ip.addr[0:4] | map(tostring) | join(".")) \(.ifindex)"' | sort)
[ "$got" = "$want" ] || fail "shared src_ips map: $(diff <(echo "$want") <(echo "$got"))"
got=$(dump "$shared_dir/veth_dev" | jq -r '.[] | .formatted.key' | sort -n | paste -sd' ')
[ "$got" = "0 $(printf '%s\n' "${IFX[@]}" | sort -n | paste -sd' ')" ] || fail "shared veth_dev holds $got"
got=$(dump "$shared_dir/fastpath" | jq -r '.[] | .formatted.key.ifindex' | sort -n | paste -sd' ')
[ "$got" = "$(printf '%s\n' "${IFX[@]}" | sort -n | paste -sd' ')" ] || fail "shared fastpath holds entries of $got"
# A shared endpoint program (where the hook has one): ep_slot (an array,
# slot = netns cookie % 4096, value the cookie owning it, 0 free) holds
# exactly our containers' cookies, each at its own slot; a container whose
# slot another of ours holds runs its own program on xdp0 instead.
ep_dir=$(jq -r '.[] | select(.this_netns and .state == "shared" and .program == "endpoint") | .pin_dir' <<<"$status")
if [ -n "$ep_dir" ] && [ -e "$ep_dir/ep_slot" ]; then
	cookies=$(for ((i = 1; i <= M; i++)); do jq -r .netns_cookie "/run/xdphook/$(id_of $i)/state.json"; done | sort -n)
	slots=$(dump "$ep_dir/ep_slot" | jq -r '.[] | select(.formatted.value != 0) | "\(.formatted.key) \(.formatted.value)"')
	while read -r k v; do
		[ -n "$k" ] || continue
		[ $((v % 4096)) = "$k" ] || fail "ep_slot $k holds netns $v, whose slot is $((v % 4096))"
		grep -qx "$v" <<<"$cookies" || fail "ep_slot $k holds netns $v, not one of this test's containers"
	done <<<"$slots"
	for c in $cookies; do
		grep -q " $c\$" <<<"$slots" || grep -q "^$((c % 4096)) " <<<"$slots" ||
			fail "container netns $c has no endpoint slot and nobody holds slot $((c % 4096))"
	done
fi

# --- xdp_echo in every container, then UDP from world to all at once --------------------
for ((i = 1; i <= M; i++)); do
	nsenter --net="/proc/${PID[i]}/ns/net" "$BUILD/xdp_echo" >"$XH_TMP/echo-$i.out" 2>"$XH_TMP/echo-$i.err" &
	EP[i]=$!
	PIDS+=("$!")
done
for ((i = 1; i <= M; i++)); do
	wait_line "$XH_TMP/echo-$i.out" ready "${EP[i]}" ||
		fail "xdp_echo in $(id_of $i) not ready: $(cat "$XH_TMP/echo-$i.out" "$XH_TMP/echo-$i.err")"
done
endpoint_rx() { # all containers' endpoint redirect counters, "ID N" lines
	in_ns host "$HOOK" list -json | jq -r --arg p "xht-$XH_TAG-" \
		'.[] | select(.id | startswith($p)) | "\(.id) \(.programs.endpoint.redirect.packets)"' | sort
}
rx0=$(endpoint_rx) f0=$(forwarded)
# Container i gets 1 + i % 4 datagrams, each with its own text; all
# containers' senders run at the same time.
t0=$(now_ms)
for ((i = 1; i <= M; i++)); do
	( for ((k = 1; k <= 1 + i % 4; k++)); do
		in_ns world "$CLIENT" udp "$(ip_of $i)" $((7000 + i)) "to-$i-$k-$XH_TAG" || exit 1
	  done ) >"$XH_TMP/udp-$i" 2>&1 &
	UP[i]=$!
done
bad=""
for ((i = 1; i <= M; i++)); do
	wait "${UP[i]}" || bad+=" $i"
done
tudp=$(( $(now_ms) - t0 ))
[ -z "$bad" ] || fail "UDP echo failed for containers$bad: $(for i in $bad; do echo "$i: $(cat "$XH_TMP/udp-$i")"; done)"
for ((i = 1; i <= M; i++)); do
	want=$(for ((k = 1; k <= 1 + i % 4; k++)); do echo "echo: to-$i-$k-$XH_TAG"; done)
	[ "$(cat "$XH_TMP/udp-$i")" = "$want" ] || fail "container $i echoed: $(cat "$XH_TMP/udp-$i")"
done
rx1=$(endpoint_rx)
want=$(for ((i = 1; i <= M; i++)); do echo "$(id_of $i) $((1 + i % 4))"; done | sort)
got=$(join <(echo "$rx0") <(echo "$rx1") | awk '{print $1, $3 - $2}')
[ "$got" = "$want" ] || fail "frames per container endpoint (want: got):"$'\n'"$(join <(echo "$want") <(echo "$got"))"
[ "$(forwarded)" = "$f0" ] || fail "the host kernel forwarded $(( $(forwarded) - f0 )) datagrams (not the fast path)"

# --- delete all at once -------------------------------------------------------------------
t0=$(now_ms)
for ((i = 1; i <= M; i++)); do
	runc_ delete -f "$(id_of $i)" >"$XH_TMP/delete-$i.out" 2>&1 &
	DP[i]=$!
done
bad=""
for ((i = 1; i <= M; i++)); do
	wait "${DP[i]}" || bad+="  $(id_of $i): $(cat "$XH_TMP/delete-$i.out")"$'\n'
done
tdelete=$(( $(now_ms) - t0 ))
[ -z "$bad" ] || fail "parallel runc delete failed for:"$'\n'"$bad"
for ((i = 1; i <= M; i++)); do
	wait_gone "${EP[i]}" || fail "xdp_echo of $(id_of $i) still runs without its keeper"
done
nothing_left "$before" "$hcookie"
hooks_ok "$M"
echo "$M containers: parallel create ${tcreate} ms, UDP echo to all ${tudp} ms, parallel delete ${tdelete} ms"
echo "BPF objects used, all gone: $BPF_COUNTS"
pass "$M containers in parallel"
