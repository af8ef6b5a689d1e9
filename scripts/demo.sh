#!/bin/bash
# The main demo: a busybox container started by runc with xdp_hook in pod
# mode; xdp_tap bridges its AF_XDP endpoint to a TAP device, so busybox
# httpd inside serves through NIC -> xh- -> xdp0 -> AF_XDP -> tap0; curl
# from a "remote" namespace fetches the page. All in throw-away
# namespaces, removed at the end (also on failure).
set -eu
BUILD=$(realpath "${BUILD:-build}")
tag=$$
ID=xdpdemo-$tag
T=$(mktemp -d "/tmp/xdpdemo.XXXXXX")
DEMO=xdpdemo-$tag
. "$(dirname "$0")/demo-lib.sh"
cleanup() {
	[ -n "${TAP:-}" ] && kill "$TAP" 2>/dev/null
	inns host runc --root "$T/runc" delete -f "$ID" >/dev/null 2>&1 || true
	demo_topo_del
	rm -rf "$T"
}
trap cleanup EXIT

step "A node (netns host: nic0 10.77.0.1/24) and a remote peer (netns world: 10.77.0.2)"
demo_topo

step "A busybox bundle whose config.json runs xdp_hook (pod mode, address 10.77.1.5)"
mkdir -p "$T/rootfs/bin" "$T/rootfs/www" "$T/bundle"
cp /bin/busybox "$T/rootfs/bin/"; for c in sh httpd; do ln -s busybox "$T/rootfs/bin/$c"; done
echo "hello from a sandbox behind xdphook" >"$T/rootfs/www/index.html"
(cd "$T/bundle" && runc spec)
# The node's config picks the NIC; the container's annotation its address.
echo '{"nic": "nic0"}' >"$T/node.json"
jq --arg hook "$BUILD/xdp_hook" --arg rootfs "$T/rootfs" --arg env "XDPHOOK_CONFIG=$T/node.json" '
	.process.terminal = false | .process.args = ["httpd", "-f", "-p", "80", "-h", "/www"] |
	.root = {path: $rootfs, readonly: true} |
	.annotations = {"io.xdphook.ips": "10.77.1.5/32"} |
	.hooks = {createRuntime: [{path: $hook, args: ["xdp_hook", "createRuntime"], env: [$env]}],
		  poststop: [{path: $hook, args: ["xdp_hook", "poststop"], env: [$env]}]}' \
	"$T/bundle/config.json" >"$T/config.json" && mv "$T/config.json" "$T/bundle/config.json"
jq -c .hooks "$T/bundle/config.json"

step "runc create: the hook builds the veth, the three programs and the keeper"
run inns host runc --root "$T/runc" create --bundle "$T/bundle" "$ID" </dev/null >/dev/null
PID=$(inns host runc --root "$T/runc" state "$ID" | jq -r .pid)
run inns host "$BUILD/xdp_hook" list
run nsenter --net="/proc/$PID/ns/net" ip -br link

step "xdp_tap takes the endpoint and gives the container a tap0 with the pod's address"
nsenter --net="/proc/$PID/ns/net" "$BUILD/xdp_tap" >"$T/tap.out" 2>&1 &
TAP=$!
for _ in $(seq 100); do grep -q ready "$T/tap.out" && break; sleep 0.05; done
cat "$T/tap.out"
run nsenter --net="/proc/$PID/ns/net" ip -br addr show tap0
run nsenter --net="/proc/$PID/ns/net" ip route

step "runc start: busybox httpd serves on tap0; curl from world"
run inns host runc --root "$T/runc" start "$ID"
for _ in $(seq 100); do nsenter --net="/proc/$PID/ns/net" ss -ltnH | grep -q ':80 ' && break; sleep 0.05; done
run inns world curl -s --max-time 5 http://10.77.1.5/
echo "frames each program redirected (NIC -> veth, veth -> NIC, xdp0 -> AF_XDP):"
run inns host "$BUILD/xdp_hook" list -json |
	jq --arg id "$ID" '.[] | select(.id == $id) | {id, veth, ips, redirected: (.programs | map_values(.redirect.packets))}'

step "runc delete: poststop removes everything"
kill "$TAP"; TAP=
run inns host runc --root "$T/runc" delete -f "$ID"
run inns host "$BUILD/xdp_hook" list
run inns host ip -br link
