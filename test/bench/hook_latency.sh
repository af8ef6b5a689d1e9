#!/bin/bash
# Wall time of xdp_hook createRuntime / poststop next to the CNI ptp
# plugin's ADD / DEL, N runs each, same topology, in throw-away namespaces.
# The two alternate (hook, ptp, hook, ptp, ...), so load that comes and
# goes on the machine weighs on both alike. Prints "name median_ms" lines
# (and every sample, in ms, with -v).
set -u
: "${BUILD:?}"
N=${N:-20}
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/container.sh"
CNI=/usr/lib/cni
[ -x $CNI/ptp ] || skip "containernetworking-plugins not installed"

topo_new
# The clock is bash's own (no fork of date(1), which costs ~7 ms here and
# would land inside every sample), and each command gets its input from a
# here-string (no "echo |" subshell): a sample is the command's fork, exec
# and run, as a runtime pays it (nsenter execs it: no other fork).
H=/run/netns/$(ns host)
ms() { echo $(( $2 - $1 )); }   # us (EPOCHREALTIME without its dot)
# ptp ADD|DEL: the plugin on run $i's netns ($pnet); its CNI_* variables
# for it alone (a function call and prefix assignments: no fork of ours).
ptp() {
	CNI_COMMAND=$1 CNI_CONTAINERID=xhbench$i CNI_NETNS=$pnet CNI_IFNAME=eth0 CNI_PATH=$CNI \
		nsenter --net="$H" $CNI/ptp <<<"$conf" >/dev/null
}
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f\n", m/1000}'; }

: >"$XH_TMP/create"; : >"$XH_TMP/stop"; : >"$XH_TMP/add"; : >"$XH_TMP/del"
# A resident container keeps the NIC program loaded, as on a node with
# running pods: the runs below measure what one more container costs.
# Each run a fresh "container": a netns with a sleep in it (new_ctr,
# container.sh).
new_ctr resident; rpid=$CTR_PID
echo "{\"id\":\"xht-$XH_TAG-res\",\"status\":\"creating\",\"pid\":$rpid,\"annotations\":{\"io.xdphook.ips\":\"10.77.2.250/32\",\"io.xdphook.nic\":\"nic0\"}}" |
	in_ns host "$HOOK" createRuntime || fail "resident container"
at_exit "echo '{\"id\":\"xht-$XH_TAG-res\",\"status\":\"stopped\"}' | in_ns host $HOOK poststop"
conf='{"cniVersion":"1.0.0","name":"xhbench","type":"ptp","ipMasq":false,"ipam":{"type":"host-local","subnet":"10.78.0.0/16","dataDir":"'$XH_TMP'/ipam"}}'
for i in $(seq "$N"); do
	new_ctr "h$i"; pid=$CTR_PID
	id=xht-$XH_TAG-lat$i
	st="{\"ociVersion\":\"1.0.2\",\"id\":\"$id\",\"status\":\"creating\",\"pid\":$pid,\"annotations\":{\"io.xdphook.ips\":\"10.77.2.$i/32\",\"io.xdphook.nic\":\"nic0\"}}"
	t0=${EPOCHREALTIME/./}; nsenter --net="$H" "$HOOK" createRuntime <<<"$st" || fail "createRuntime $i"; t1=${EPOCHREALTIME/./}
	ms "$t0" "$t1" >>"$XH_TMP/create"
	t0=${EPOCHREALTIME/./}; nsenter --net="$H" "$HOOK" poststop <<<"{\"id\":\"$id\",\"status\":\"stopped\"}" || fail "poststop $i"; t1=${EPOCHREALTIME/./}
	ms "$t0" "$t1" >>"$XH_TMP/stop"

	ns_new "p$i"
	pnet=/run/netns/$(ns "p$i")
	t0=${EPOCHREALTIME/./}; ptp ADD || fail "ptp ADD $i"; t1=${EPOCHREALTIME/./}
	ms "$t0" "$t1" >>"$XH_TMP/add"
	t0=${EPOCHREALTIME/./}; ptp DEL || fail "ptp DEL $i"; t1=${EPOCHREALTIME/./}
	ms "$t0" "$t1" >>"$XH_TMP/del"
done
if [ "${1:-}" = -v ]; then
	for f in create stop add del; do
		echo "samples_$f $(awk '{printf "%.1f ", $1/1000}' "$XH_TMP/$f")"
	done
fi
echo "hook_create_ms $(median <"$XH_TMP/create")"
echo "hook_poststop_ms $(median <"$XH_TMP/stop")"
echo "cni_ptp_add_ms $(median <"$XH_TMP/add")"
echo "cni_ptp_del_ms $(median <"$XH_TMP/del")"
