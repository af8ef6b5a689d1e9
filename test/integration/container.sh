# Container helpers for integration tests (sourced after lib.sh): a busybox
# rootfs, OCI bundles whose hooks run $BUILD/xdp_hook, and runc/crun run
# inside the test's "host" namespace so the hook's veths, routes and NIC
# program stay in namespaces the test made.
HOOK="$BUILD/xdp_hook"
XH_ROOTFS="$XH_TMP/rootfs"
XH_RUNC_ROOT="$XH_TMP/runc"
XH_CRUN_ROOT="$XH_TMP/crun"

rootfs_new() {
	[ -x /bin/busybox ] || skip "busybox-static is not installed"
	mkdir -p "$XH_ROOTFS"/{bin,proc,sys,dev,etc,tmp,www}
	cp /bin/busybox "$XH_ROOTFS/bin/busybox"
	for c in sh sleep ip cat ls ping httpd nc echo; do ln -sf busybox "$XH_ROOTFS/bin/$c"; done
	echo "hello from xdphook" >"$XH_ROOTFS/www/index.html"
}

# bundle_new NAME ANNOTATIONS-JSON [extra jq filter]: $XH_TMP/b-NAME running
# `sleep 3600` in a new netns, with the hook for createRuntime and poststop
# (environment: the test's node config only).
bundle_new() {
	local b="$XH_TMP/b-$1" ann=${2:-'{}'} extra=${3:-.}
	[ -d "$XH_ROOTFS" ] || rootfs_new
	mkdir -p "$b"
	(cd "$b" && runc spec) || fail "runc spec"
	jq --arg hook "$HOOK" --arg rootfs "$XH_ROOTFS" --argjson ann "$ann" \
		--arg env "XDPHOOK_CONFIG=$XH_NODE_CONFIG" '
		.process.terminal = false | .process.args = ["sleep", "3600"] |
		.root = {path: $rootfs, readonly: true} | .annotations = $ann |
		.hooks = {createRuntime: [{path: $hook, args: ["xdp_hook", "createRuntime"], env: [$env]}],
			  poststop: [{path: $hook, args: ["xdp_hook", "poststop"], env: [$env]}]}' \
		"$b/config.json" | jq "$extra" >"$b/config.json.new" || fail "bundle config"
	mv "$b/config.json.new" "$b/config.json"
	echo "$b"
}

# The runtimes, always run in netns "host" with a private state root.
runc_() { in_ns host runc --root "$XH_RUNC_ROOT" "$@"; }
# crun 1.8 refuses this machine's hybrid cgroup layout: give it a private
# cgroup2 mount and no cgroup manager.
crun_() {
	in_ns host unshare -m sh -c 'mount --make-rprivate / && mount -t cgroup2 none /sys/fs/cgroup &&
		exec crun --cgroup-manager=disabled --root "$0" "$@"' "$XH_CRUN_ROOT" "$@"
}

# ctr_create RUNTIME ID BUNDLE: create (hooks run), registering deletion.
ctr_create() {
	local rt=$1 id=$2 b=$3
	at_exit "${rt}_ delete -f $id"
	"${rt}_" create --bundle "$b" "$id" </dev/null >"$XH_TMP/$id.out" 2>"$XH_TMP/$id.err"
}
ctr_pid() { "${1}_" state "$2" | jq -r .pid; }

# new_ctr NAME: a "container" without a runtime, for invoking the hook
# directly: netns NAME with a sleep process in it (the container's init):
# CTR_PID. (Not in a command substitution: the netns must be registered for
# cleanup here.)
new_ctr() {
	ns_new "$1"
	nsenter --net="/run/netns/$(ns "$1")" sleep 600 >/dev/null 2>&1 &
	CTR_PID=$!
	at_exit "kill $CTR_PID"
	# Until nsenter has entered it, the pid is in our netns, which the
	# hook refuses (net=host).
	while [ "$(readlink "/proc/$CTR_PID/ns/net")" = "$(readlink /proc/self/ns/net)" ]; do sleep 0.01; done
}

# topo_new: netns host (nic0, 10.77.0.1/24, forwarding on) and world (w0,
# 10.77.0.2/24, routes the pod range 10.77.1.0/24 via host). w0 has GRO on
# (it receives XDP frames) and TX checksum offload off.
topo_new() {
	ns_new host; ns_new world
	veth_new nic0 host w0 world
	in_ns host ip addr add 10.77.0.1/24 dev nic0
	in_ns world ip addr add 10.77.0.2/24 dev w0
	in_ns host ip route add default via 10.77.0.2
	in_ns world ip route add 10.77.1.0/24 via 10.77.0.1
	in_ns host sysctl -qw net.ipv4.ip_forward=1
	veth_xdp_ready world w0
	# The fast path leaves traffic whose neighbour is unresolved to the
	# kernel: resolve world's address now so counts are exact.
	in_ns host ping -c 1 -W 1 -q 10.77.0.2 >/dev/null || fail "host cannot reach world"
}

# topo_ipv6: IPv6 on top of topo_new: fd77::1/64 on nic0, fd77::2/64 on w0,
# the pod range fd77:1::/64 routed via host, forwarding on, no DAD waits.
topo_ipv6() {
	for n in host world; do
		in_ns $n sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
			net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	done
	in_ns host sysctl -qw net.ipv6.conf.nic0.disable_ipv6=0 net.ipv6.conf.all.forwarding=1
	in_ns world sysctl -qw net.ipv6.conf.w0.disable_ipv6=0
	in_ns host ip -6 addr add fd77::1/64 dev nic0 nodad
	in_ns world ip -6 addr add fd77::2/64 dev w0 nodad
	in_ns world ip -6 route add fd77:1::/64 via fd77::1
	in_ns host ping -6 -c 1 -W 2 -q fd77::2 >/dev/null || fail "host cannot reach world over IPv6"
}

# reaped: poststop leaves the deletion of a container's veth (out of every
# route and map by then) to a detached reaper. Wait, bounded, until netns
# host has no hook veth (xh-<12 hex>) that no state records: every
# reaper is done. (Polling: the reaper is nobody's child we could wait for.)
reaped() {
	local i v left
	for ((i = 0; i < 200; i++)); do
		left=
		for v in $(in_ns host ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' |
			   grep -E '^xh-[0-9a-f]{12}$'); do
			grep -qs "\"$v\"" /run/xdphook/*/state.json || { left=$v; break; }
		done
		[ -z "$left" ] && return 0
		sleep 0.05
	done
	return 1
}

# What the hook left in netns host, bpffs and /run/xdphook (for "nothing
# left behind" comparisons), once the reapers are done.
host_snapshot() {
	reaped
	{ in_ns host ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
	  in_ns host "$LOADER" -status -json | jq -r '.[] | select(.this_netns) | .pin_dir' | sort
	  # Only this test's containers: others may run at the same time.
	  ls -1 /run/xdphook 2>/dev/null | grep -E "^xht-$XH_TAG-|^($(paste -sd'|' "$XH_TMP/ids" 2>/dev/null || true))\$" | sort; }
}
# track_id ID: a container id not named xht-$XH_TAG-... (podman's), for host_snapshot.
track_id() { echo "$1" >>"$XH_TMP/ids"; }

# cni_ptp NAME SUBNET: netns NAME with eth0 made by the CNI ptp plugin
# (containernetworking-plugins, run in netns host: host-local IPAM from
# SUBNET, a default route via the host side), as a CNI runtime would;
# deleted (CNI DEL) at exit. PTP_IP: eth0's address.
cni_ptp() {
	ns_new "$1"
	jq -n --arg name "xht-$XH_TAG-$1" --arg subnet "$2" --arg dir "$XH_TMP/cni" \
		'{cniVersion: "0.4.0", name: $name, type: "ptp", ipMasq: false,
		  ipam: {type: "host-local", subnet: $subnet, routes: [{dst: "0.0.0.0/0"}], dataDir: $dir}}' \
		>"$XH_TMP/ptp-$1.json"
	at_exit "cni_ptp_run DEL $1"
	cni_ptp_run ADD "$1" >"$XH_TMP/ptp-$1.out" 2>&1 || fail "CNI ptp ADD: $(cat "$XH_TMP/ptp-$1.out")"
	PTP_IP=$(jq -r '.ips[0].address' "$XH_TMP/ptp-$1.out" | cut -d/ -f1)
}
cni_ptp_run() {
	in_ns host env CNI_COMMAND="$1" CNI_CONTAINERID="xht-$XH_TAG-$2" CNI_NETNS="/run/netns/$(ns "$2")" \
		CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni /usr/lib/cni/ptp <"$XH_TMP/ptp-$2.json"
}

# podman in netns host with private storage, this build's hook through the
# hooks.d example (path rewritten), runc underneath.
XH_PODMAN_DIR="$XH_TMP/podman"
podman_() {
	in_ns host podman --root "$XH_PODMAN_DIR/storage" --runroot "$XH_PODMAN_DIR/run" \
		--storage-driver=vfs --cgroup-manager=cgroupfs --runtime=runc --events-backend=file \
		--hooks-dir "$XH_PODMAN_DIR/hooks" "$@"
}
podman_setup() {
	command -v podman >/dev/null || skip "podman is not installed"
	[ -d "$XH_ROOTFS" ] || rootfs_new
	mkdir -p "$XH_PODMAN_DIR/hooks"
	jq --arg p "$HOOK" --arg env "XDPHOOK_CONFIG=$XH_NODE_CONFIG" '.hook.path = $p | .hook.env = [$env]' \
		"$(dirname "$0")/../../examples/hooks.d/xdphook.json" \
		>"$XH_PODMAN_DIR/hooks/xdphook.json" || fail "hooks.d example"
}

# cri_node: containerd's CRI (examples/kubernetes/node.sh) in netns host,
# on topo_new's NIC: pods in 10.77.1.0/24 via CNI ptp, handler xdphook
# with the hook in pod mode on nic0 (node config $XH_TMP/xdphook.json).
# Sets NODE, NODE_SH, CRI_BIN; cri VERB... talks to it; down at exit.
cri_node() {
	command -v containerd >/dev/null || skip "containerd is not installed"
	NODE_SH=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../examples/kubernetes" && pwd)/node.sh
	CRI_BIN=$(cd "$(dirname "${BASH_SOURCE[0]}")/../harness" && pwd)/cri
	NODE="$XH_TMP/node"
	/usr/bin/python3 "$CRI_BIN" --help >/dev/null 2>&1 ||
		skip "the CRI client needs python3-grpcio and python3-protobuf"
	[ -x "$BUILD/xdp_runtime" ] || fail "$BUILD/xdp_runtime is not built"
	echo '{"mode": "pod", "nic": "nic0"}' >"$XH_TMP/xdphook.json"
	at_exit "CRI=$CRI_BIN $NODE_SH down $NODE"
	XDPHOOK_BIN=$BUILD XDPHOOK_CONFIG=$XH_TMP/xdphook.json POD_SUBNET=10.77.1.0/24 \
		"$NODE_SH" up "$NODE" "$(ns host)" >/dev/null || fail "node.sh up"
}
cri() { "$CRI_BIN" --endpoint "unix://$NODE/containerd.sock" "$@"; }

# CNI ptp + host-local (containernetworking-plugins), run in netns host as a
# node's runtime would, on the pod range 10.77.1.0/24 from .20 on.
cni_check() {
	[ -x /usr/lib/cni/ptp ] && [ -x /usr/lib/cni/host-local ] || skip "containernetworking-plugins is not installed"
	cat >"$XH_TMP/ptp.conf" <<EOF
{"cniVersion": "0.4.0", "name": "xht$XH_TAG", "type": "ptp", "mtu": 1500,
 "ipam": {"type": "host-local", "subnet": "10.77.1.0/24", "rangeStart": "10.77.1.20",
          "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$XH_TMP/ipam"}}
EOF
}
cni() { # cni ADD|DEL NAME: eth0 in netns NAME
	in_ns host env CNI_COMMAND="$1" CNI_CONTAINERID="xht-$XH_TAG-$2" CNI_NETNS="/run/netns/$(ns "$2")" \
		CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni /usr/lib/cni/ptp <"$XH_TMP/ptp.conf"
}
# cni_pod NAME: netns NAME with the CNI's eth0 (deleted by CNI at cleanup),
# its address in CNI_ADDR. (Not in a command substitution: the netns must be
# registered for cleanup here.) host_peer NAME: the CNI's host-side veth.
cni_pod() {
	ns_new "$1"
	at_exit "cni DEL $1"
	cni ADD "$1" >"$XH_TMP/cni-$1.json" || fail "CNI ADD $1: $(cat "$XH_TMP/cni-$1.json")"
	CNI_ADDR=$(jq -r '.ips[0].address | sub("/.*"; "")' "$XH_TMP/cni-$1.json")
}
host_peer() { jq -r '.interfaces[] | select(.sandbox == null) | .name' "$XH_TMP/cni-$1.json"; }
# netns_ctr ID NAME: runc container ID joining netns NAME (the CNI's, made
# beforehand as containerd does), the hook in mode=netns on its eth0 (node
# config $XH_TMP/netns-node.json).
netns_ctr() {
	local b
	echo '{"mode": "netns", "iface": "eth0"}' >"$XH_TMP/netns-node.json"
	chmod 644 "$XH_TMP/netns-node.json"
	b=$(bundle_new "$1" '{}' "
		(.linux.namespaces[] | select(.type == \"network\")) .path = \"/run/netns/$(ns "$2")\" |
		.hooks.createRuntime[0].env = [\"XDPHOOK_CONFIG=$XH_TMP/netns-node.json\"] |
		.hooks.poststop[0].env = [\"XDPHOOK_CONFIG=$XH_TMP/netns-node.json\"]")
	ctr_create runc "$1" "$b"
}
