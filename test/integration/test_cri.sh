#!/bin/bash
# The Kubernetes node path for real: containerd's CRI (examples/kubernetes/
# node.sh, in netns host), CNI ptp + host-local, the runc shim with
# BinaryName = xdp_runtime. A pod on handler xdphook gets xdp0 and keeps its
# CNI address (host route taken over from ptp); xdp_echo in it answers
# world through the fast path; an app container in the pod adds nothing;
# a plain runc pod is untouched; two pods at once; containerd killed and
# started again while pods run; stopp/rmp leave nothing; a pod in netns
# mode (the CNI's eth0, through the node's kernel; CNI DEL succeeds after
# it); node.sh down leaves no process, mount or file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container.sh"
command -v containerd >/dev/null || skip "containerd is not installed"
[ -x "$BUILD/xdp_echo" ] || fail "$BUILD/xdp_echo is not built"

topo_new
before=$(host_snapshot)
cri_node

# pod_json NAME [ANNOTATIONS-JSON]: a pod config file.
pod_json() {
	jq -n --arg n "$1" --arg u "xht-$XH_TAG-$1" --argjson a "${2:-{\}}" \
		'{metadata: {name: $n, namespace: "default", uid: $u}, annotations: $a}' >"$XH_TMP/$1.json"
	echo "$XH_TMP/$1.json"
}
# runp NAME [HANDLER [ANNOTATIONS-JSON]]: POD_ID, POD_PID, POD_IP of the new pod.
runp() {
	POD_ID=$(cri runp ${2:+--runtime $2} "$(pod_json "$1" "${3:-}")") || fail "runp $1 ${2:-}"
	at_exit "$CRI_BIN --endpoint unix://$NODE/containerd.sock rmp $POD_ID"
	cri inspectp "$POD_ID" >"$XH_TMP/$1.inspect" || fail "inspectp $1"
	POD_PID=$(jq -r .info.pid "$XH_TMP/$1.inspect") POD_IP=$(jq -r .status.network.ip "$XH_TMP/$1.inspect")
	[ "$POD_PID" -gt 0 ] && [ -n "$POD_IP" ] || fail "inspectp $1: no pid or ip: $(cat "$XH_TMP/$1.inspect")"
}
in_pod() { local p=$1; shift; nsenter --net="/proc/$p/ns/net" "$@"; }
veths() { in_ns host ip -o link show | grep -c ' xh-' || true; }
forwarded() { in_ns host awk '/^Ip: [0-9]/ {print $7}' /proc/net/snmp; }
start_echo() { # start_echo PID NAME
	ns_bg "/proc/$1/ns/net" "$BUILD/xdp_echo" >"$XH_TMP/echo-$2" 2>&1
	for _ in $(seq 100); do grep -q ready "$XH_TMP/echo-$2" && return 0; sleep 0.05; done
	fail "xdp_echo in $2 did not get ready: $(cat "$XH_TMP/echo-$2")"
}
udp_echo() { # one datagram from world to ADDR:7, its echo within 2 s
	in_ns world perl -MIO::Socket::IP -e '
		my $s = IO::Socket::IP->new(PeerHost => $ARGV[0], PeerPort => 7, Proto => "udp") or exit 2;
		$s->send("xdphook $$") or exit 3;
		my $r = ""; local $SIG{ALRM} = sub { exit 4 }; alarm 2; $s->recv($r, 100);
		exit($r eq "xdphook $$" ? 0 : 5)' "$1"
}
# fast PID IP NAME: ping and UDP from world answered by xdp_echo, nothing
# forwarded by the node's kernel.
fast() {
	local f0; f0=$(forwarded)
	in_ns world ping -c 3 -i 0.2 -W 1 -q "$2" >/dev/null || fail "$3: ping $2 through the fast path"
	udp_echo "$2" || fail "$3: UDP echo from $2 (rc $?)"
	[ "$(forwarded)" = "$f0" ] || fail "$3: the node's kernel forwarded pod traffic"
}
state_of() { jq -r "$2" "/run/xdphook/$1/state.json"; }

# --- a pod on handler xdphook ---------------------------------------------
runp p1 xdphook; P1=$POD_ID P1_PID=$POD_PID P1_IP=$POD_IP
track_id "$P1"
[ "$(state_of "$P1" .status)" = ready ] || fail "p1: no hook state"
in_pod "$P1_PID" ip -j link show dev xdp0 | grep -q '"prog":{[^}]*"id":[0-9]' || fail "p1: xdp0 without a program"
[ "$(state_of "$P1" '.ips[0].addr')" = "$P1_IP" ] || fail "p1: the sandbox does not own the CNI address $P1_IP"
[ -z "$(in_pod "$P1_PID" ip -4 -o addr show scope global)" ] || fail "p1: the kernel still holds an address in the pod"
veth1=$(state_of "$P1" .veth.name)
in_ns host ip route show "$P1_IP/32" | grep -q "dev $veth1" || fail "p1: host route not via $veth1: $(in_ns host ip route show "$P1_IP/32")"
ptp1=$(state_of "$P1" '.host_routes[0].dev')
[ -n "$ptp1" ] && [ "$ptp1" != null ] || fail "p1: ptp's host route was not recorded as taken over"
start_echo "$P1_PID" p1
fast "$P1_PID" "$P1_IP" p1

# An app container in the pod: same netns, no second veth; its removal
# leaves the pod's fast path alone.
jq -n '{metadata: {name: "app"}, image: {image: "localhost/xdphook/busybox:1"}, command: ["/bin/sleep", "3600"]}' >"$XH_TMP/app.json"
n=$(veths)
C1=$(cri create "$P1" "$XH_TMP/app.json" "$XH_TMP/p1.json") || fail "create app container"
cri start "$C1" >/dev/null || fail "start app container"
[ "$(veths)" = "$n" ] || fail "the app container got a veth of its own"
[ ! -e "/run/xdphook/$C1" ] || fail "the app container got hook state"
cri stop -t 0 "$C1" >/dev/null && cri rm "$C1" >/dev/null || fail "stop/rm app container"
fast "$P1_PID" "$P1_IP" p1-after-app

# --- a pod on plain runc: untouched; and a second xdphook pod at once -------
runp p2; P2=$POD_ID P2_IP=$POD_IP
[ ! -e "/run/xdphook/$P2" ] || fail "p2 (runc) got hook state"
in_ns host ip route show "$P2_IP/32" | grep -q ' xh-' && fail "p2 (runc) routed via an xh- veth"
in_ns world ping -c 1 -W 2 -q "$P2_IP" >/dev/null || fail "p2 (runc): no kernel path"
runp p3 xdphook; P3=$POD_ID P3_PID=$POD_PID P3_IP=$POD_IP
track_id "$P3"
[ "$(veths)" = 2 ] || fail "two xdphook pods: $(veths) xh- veths"
start_echo "$P3_PID" p3
fast "$P3_PID" "$P3_IP" p3
fast "$P1_PID" "$P1_IP" p1-beside-p3

# --- containerd killed and started again while the pods run ------------------
cpid=$(cat "$NODE/containerd.pid")
kill -9 "$cpid"; wait_gone "$cpid" || fail "containerd did not die"
fast "$P1_PID" "$P1_IP" p1-without-containerd
XDPHOOK_CONFIG=$XH_TMP/xdphook.json "$NODE_SH" start "$NODE" "$(ns host)" || fail "node.sh start"
# The CRI plugin answers once it has recovered its pods: poll (bounded).
state=
for _ in $(seq 100); do
	state=$(cri inspectp "$P1" 2>"$XH_TMP/restart.err" | jq -r .status.state)
	[ "$state" = SANDBOX_READY ] && break; sleep 0.1
done
[ "$state" = SANDBOX_READY ] || fail "p1 after the restart: state '$state' $(head -c 300 "$XH_TMP/restart.err")"
fast "$P1_PID" "$P1_IP" p1-after-restart

# --- stopp + rmp (p1), rmp alone (p3): nothing left -------------------------
k1=$(state_of "$P1" .keeper.pid) k3=$(state_of "$P3" .keeper.pid)
cri stopp "$P1" >/dev/null || fail "stopp p1"
[ ! -e "/run/xdphook/$P1" ] || fail "stopp p1 left hook state"
wait_gone "$k1" || fail "stopp p1 left the keeper"
in_ns host ip route show "$P1_IP/32" | grep -q ' xh-' && fail "stopp p1 left the host route via xh-"
cri rmp "$P1" >/dev/null || fail "rmp p1"
cri rmp "$P3" >/dev/null || fail "rmp p3 (running)"
[ ! -e "/run/xdphook/$P3" ] || fail "rmp p3 left hook state"
wait_gone "$k3" || fail "rmp p3 left the keeper"
cri rmp "$P2" >/dev/null || fail "rmp p2"
[ -z "$(cri pods -q)" ] || fail "pods left: $(cri pods)"
[ -z "$(in_ns host ip route show root 10.77.1.0/24)" ] || fail "routes to pods left: $(in_ns host ip route show root 10.77.1.0/24)"
[ "$(host_snapshot)" = "$before" ] || fail "pods left: $(diff <(echo "$before") <(host_snapshot))"

# --- a pod in netns mode (its annotation, which the node allows): the hook
# on the CNI's eth0, nothing of ours on the host; the node's kernel forwards
# to it; stopp gives the CNI its address back, so containerd's CNI DEL
# succeeds and removes its veth.
echo '{"mode": "pod", "nic": "nic0", "annotations": ["mode"]}' >"$XH_TMP/xdphook.json"
runp p4 xdphook '{"io.xdphook.mode": "netns"}'; P4=$POD_ID P4_PID=$POD_PID P4_IP=$POD_IP
track_id "$P4"
[ "$(state_of "$P4" .mode)/$(state_of "$P4" .netns.iface)" = netns/eth0 ] || fail "p4: not in netns mode on eth0"
[ -z "$(in_pod "$P4_PID" ip -4 -o addr show dev eth0)" ] || fail "p4: the kernel kept $P4_IP"
in_pod "$P4_PID" ip -j link show dev eth0 | grep -q '"prog":{[^}]*"id":[0-9]' || fail "p4: eth0 without a program"
[ "$(veths)" = 0 ] || fail "p4: netns mode made an xh- veth"
ptp4=$(state_of "$P4" .netns.host_peer)
start_echo "$P4_PID" p4
f0=$(forwarded)
in_ns world ping -c 2 -i 0.2 -W 1 -q "$P4_IP" >/dev/null || fail "p4: ping $P4_IP"
udp_echo "$P4_IP" || fail "p4: UDP echo from $P4_IP (rc $?)"
[ "$(forwarded)" -gt "$f0" ] || fail "p4: the node's kernel did not forward (netns mode goes through it)"
k4=$(state_of "$P4" .keeper.pid)
cri stopp "$P4" >/dev/null || fail "stopp p4 (poststop, then CNI DEL)"
[ ! -e "/run/xdphook/$P4" ] || fail "stopp p4 left hook state"
wait_gone "$k4" || fail "stopp p4 left the keeper"
[ -z "$(in_ns host ip -o link show "$ptp4" 2>/dev/null)" ] || fail "CNI DEL left $ptp4"
cri rmp "$P4" >/dev/null || fail "rmp p4"
[ "$(host_snapshot)" = "$before" ] || fail "p4 left: $(diff <(echo "$before") <(host_snapshot))"

# --- down: no process, mount or file ---------------------------------------
"$NODE_SH" down "$NODE" || fail "node.sh down"
for p in /proc/[0-9]*; do
	tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$NODE/" && fail "node.sh down left process ${p#/proc/}: $(tr '\0' ' ' <"$p/cmdline")"
done
grep -qF " $NODE/" /proc/self/mountinfo && fail "node.sh down left mounts: $(grep -F " $NODE/" /proc/self/mountinfo)"
[ ! -e "$NODE" ] || fail "node.sh down left $NODE"
pass
