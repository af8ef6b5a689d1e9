#!/bin/bash
# The Kubernetes story (make k8s-demo): a node (netns host, NIC nic0) with
# containerd's CRI set up by examples/kubernetes/node.sh; a pod on runtime
# handler xdphook (what runtimeClassName: xdphook selects) gets the fast
# path at RunPodSandbox; xdp_tap in the pod's netns gives it back a kernel
# interface with the pod's CNI address, busybox httpd in an app container
# serves on it, curl from a remote netns fetches the page through
# NIC -> xh- -> xdp0 -> AF_XDP; the pod removed, nothing left, containerd down.
set -eu
BUILD=$(realpath "${BUILD:-build}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NODE_SH=$ROOT/examples/kubernetes/node.sh
CRI_BIN=$ROOT/test/harness/cri
tag=$$
T=$(mktemp -d "/tmp/xdpk8s.XXXXXX")
NODE=$T/node
DEMO=xdpk8s-$tag
. "$(dirname "$0")/demo-lib.sh"
cri() { "$CRI_BIN" --endpoint "unix://$NODE/containerd.sock" "$@"; }
cleanup() {
	[ -n "${TAP:-}" ] && kill "$TAP" 2>/dev/null
	CRI=$CRI_BIN "$NODE_SH" down "$NODE" || true
	demo_topo_del
	rm -rf "$T"
}
trap cleanup EXIT
command -v containerd >/dev/null || { echo "k8s-demo: containerd is not installed" >&2; exit 1; }

step "A node (netns host: nic0 10.77.0.1/24, pods in 10.77.1.0/24) and a remote peer (netns world)"
demo_topo

step "The node config (/etc/xdphook/config.json on a real node) and containerd (node.sh up)"
echo '{"mode": "pod", "nic": "nic0"}' | tee "$T/xdphook.json"
run env XDPHOOK_BIN="$BUILD" XDPHOOK_CONFIG="$T/xdphook.json" POD_SUBNET=10.77.1.0/24 \
	"$NODE_SH" up "$NODE" "$(ns host)"
sed -n '/runtimes.xdphook\]/,/Root/p' "$NODE/config.toml"
run cri images

step "RunPodSandbox on handler xdphook (runtimeClassName: xdphook): CNI ptp, then xdp_hook via xdp_runtime"
jq -n '{metadata: {name: "web", namespace: "default", uid: "k8s-demo-web"}}' >"$T/pod.json"
POD=$(run cri runp --runtime xdphook "$T/pod.json")
cri inspectp "$POD" >"$T/inspect.json"
PID=$(jq -r .info.pid "$T/inspect.json") IP=$(jq -r .status.network.ip "$T/inspect.json")
echo "pod $POD: pid $PID, CNI address $IP"
run inns host "$BUILD/xdp_hook" list
run inns host ip route show "$IP"
run nsenter --net="/proc/$PID/ns/net" ip -br addr

step "xdp_tap takes the endpoint in the pod's netns; busybox httpd in an app container serves"
nsenter --net="/proc/$PID/ns/net" "$BUILD/xdp_tap" >"$T/tap.out" 2>&1 &
TAP=$!
for _ in $(seq 100); do grep -q ready "$T/tap.out" && break; sleep 0.05; done
cat "$T/tap.out"
mkdir -p "$T/www"; echo "hello from a Kubernetes pod behind xdphook" >"$T/www/index.html"
jq -n --arg www "$T/www" '{metadata: {name: "httpd"}, image: {image: "localhost/xdphook/busybox:1"},
	command: ["httpd", "-f", "-p", "80", "-h", "/www"],
	mounts: [{container_path: "/www", host_path: $www, readonly: true}]}' >"$T/httpd.json"
CTR=$(run cri create "$POD" "$T/httpd.json" "$T/pod.json")
run cri start "$CTR"
for _ in $(seq 100); do nsenter --net="/proc/$PID/ns/net" ss -ltnH | grep -q ':80 ' && break; sleep 0.05; done
run cri ps

step "curl from world to the pod's address"
run inns world curl -s --max-time 5 "http://$IP/"
run inns host "$BUILD/xdp_hook" list -json |
	jq --arg id "$POD" '.[] | select(.id == $id) | {veth, ips, redirected: (.programs | map_values(.redirect.packets))}'

step "The pod removed (StopPodSandbox + RemovePodSandbox): poststop, then CNI DEL"
kill "$TAP"; TAP=
run cri stopp "$POD"
run cri rmp "$POD"
run inns host "$BUILD/xdp_hook" list
run inns host ip -br link

step "containerd down (node.sh down): no process, mount or file left"
run env CRI="$CRI_BIN" "$NODE_SH" down "$NODE"
ls "$NODE" 2>/dev/null && exit 1
echo "k8s-demo: done"
