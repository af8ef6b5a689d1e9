#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A Kubernetes node's container side with xdphook, self-contained in DIR:
#
#   node.sh up DIR [NETNS]   containerd (CRI) with root, state, socket
#                            (DIR/containerd.sock), config and CNI config
#                            under DIR, inside network namespace NETNS if
#                            given; pause and busybox images built locally
#                            and imported
#   node.sh start DIR [NETNS]  containerd again on DIR's config (after a
#                            crash or a restart; pods keep running meanwhile)
#   node.sh down DIR         every pod removed (CNI DEL, poststop), containerd
#                            and its shims stopped, mounts and DIR removed
#
# DIR/config.toml is the configuration a node uses (README, "Kubernetes"):
# runtime handler `xdphook` = runc v2 shim with BinaryName = xdp_runtime,
# pod_annotations io.xdphook.*, restrict_oom_score_adj where the node lacks
# CAP_SYS_RESOURCE; CNI ptp + host-local.
#
# Environment: XDPHOOK_BIN (dir of xdp_runtime/xdp_hook, default
# /usr/local/bin), XDPHOOK_CONFIG (node config handed to the hook),
# POD_SUBNET (default 10.88.0.0/24), CRI (a crictl-compatible client for
# `down`, default: crictl, else test/harness/cri of this tree).
set -euo pipefail

usage() { echo "usage: $0 up DIR [NETNS] | start DIR [NETNS] | down DIR" >&2; exit 2; }
die() { echo "node.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || usage
cmd=$1 dir=$2 netns=${3:-}
here=$(cd "$(dirname "$0")" && pwd)

# Run in the node's netns, keeping the mount namespace (bpffs stays
# visible to the hook; `ip netns exec` would remount /sys).
in_node() {
	if [ -n "$netns" ]; then nsenter --net="/run/netns/$netns" "$@"; else "$@"; fi
}
ctr_() { ctr --address "$dir/containerd.sock" -n k8s.io "$@"; }

# running PID: alive and not a zombie waiting for its reaper (containerd
# outlives node.sh: its parent is whatever reaps orphans, some time later).
running() { [ -n "$1" ] && grep -q '^State:[^Z]*$' "/proc/$1/status" 2>/dev/null; }

# has_cap N: the effective capability set holds capability N.
has_cap() { (( (0x$(awk '/^CapEff/ {print $2}' /proc/self/status) >> $1) & 1 )); }

write_config() {
	local bin=${XDPHOOK_BIN:-/usr/local/bin} oom=false
	has_cap 24 || oom=true # CAP_SYS_RESOURCE: the CRI asks for oom_score_adj -998
	[ -x "$bin/xdp_runtime" ] || die "$bin/xdp_runtime: not found (set XDPHOOK_BIN)"
	cat >"$dir/config.toml" <<EOF
version = 2
root = "$dir/root"
state = "$dir/state"
# Nothing outside DIR: no /opt/containerd, no snapshotters we do not use.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "$dir/containerd.sock"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/xdphook/pause:1"
  restrict_oom_score_adj = $oom
  netns_mounts_under_state_dir = true
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "$dir/runc"
    # Pods with runtimeClassName: xdphook. xdp_runtime adds xdp_hook's
    # createRuntime and poststop hooks to each bundle, then execs runc
    # (base_runtime_spec does not reach the sandbox container in 1.6).
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.xdphook]
      runtime_type = "io.containerd.runc.v2"
      pod_annotations = ["io.xdphook.*"]
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.xdphook.options]
        BinaryName = "$bin/xdp_runtime"
        Root = "$dir/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni"
EOF
	mkdir -p "$dir/cni"
	cat >"$dir/cni/10-pods.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "pods",
  "plugins": [
    { "type": "ptp", "ipMasq": false, "mtu": 1500,
      "ipam": { "type": "host-local", "dataDir": "$dir/ipam",
                "ranges": [[{ "subnet": "${POD_SUBNET:-10.88.0.0/24}" }]],
                "routes": [{ "dst": "0.0.0.0/0" }] } }
  ]
}
EOF
}

# image NAME ROOTFS ENTRYPOINT-JSON: an OCI archive DIR/NAME.tar of one
# uncompressed layer, named localhost/xdphook/NAME:1.
image() {
	local name=$1 rootfs=$2 entry=$3 d="$dir/img-$1" arch
	arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
	mkdir -p "$d/blobs/sha256"
	tar --sort=name --mtime=@0 --owner=0 --group=0 -C "$rootfs" -cf "$d/layer.tar" .
	local ld ls cfg cd cs man md ms
	ld=$(sha256sum "$d/layer.tar" | cut -d' ' -f1) ls=$(stat -c %s "$d/layer.tar")
	mv "$d/layer.tar" "$d/blobs/sha256/$ld"
	cfg=$(jq -cn --arg a "$arch" --argjson e "$entry" --arg l "sha256:$ld" \
		'{architecture: $a, os: "linux", config: {Entrypoint: $e, Env: ["PATH=/bin"]},
		  rootfs: {type: "layers", diff_ids: [$l]}}')
	cd=$(printf %s "$cfg" | sha256sum | cut -d' ' -f1) cs=${#cfg}
	printf %s "$cfg" >"$d/blobs/sha256/$cd"
	man=$(jq -cn --arg c "sha256:$cd" --argjson cs "$cs" --arg l "sha256:$ld" --argjson ls "$ls" \
		'{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
		  layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}')
	md=$(printf %s "$man" | sha256sum | cut -d' ' -f1) ms=${#man}
	printf %s "$man" >"$d/blobs/sha256/$md"
	jq -cn --arg m "sha256:$md" --argjson ms "$ms" --arg a "$arch" --arg n "localhost/xdphook/$name:1" \
		'{schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json",
		  digest: $m, size: $ms, platform: {architecture: $a, os: "linux"},
		  annotations: {"io.containerd.image.name": $n, "org.opencontainers.image.ref.name": "1"}}]}' \
		>"$d/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$d/oci-layout"
	tar -C "$d" -cf "$dir/$name.tar" oci-layout index.json blobs
	rm -rf "$d"
}

build_images() {
	local r="$dir/rootfs" a
	[ -x /bin/busybox ] || die "busybox-static is not installed"
	mkdir -p "$r/pause/bin" "$r/busybox/bin" "$r/busybox/"{etc,tmp,www,proc,sys,dev}
	cp /bin/busybox "$r/pause/bin/"
	ln -s busybox "$r/pause/bin/sleep"
	cp /bin/busybox "$r/busybox/bin/"
	for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$r/busybox/bin/$a"; done
	echo "root:x:0:0:root:/:/bin/sh" >"$r/busybox/etc/passwd"
	image pause "$r/pause" '["/bin/sleep","2147483647"]'
	image busybox "$r/busybox" '["/bin/sh"]'
	rm -rf "$r"
	for a in pause busybox; do
		CONTAINERD_SNAPSHOTTER=native ctr_ images import "$dir/$a.tar" >/dev/null ||
			die "ctr images import $a.tar failed"
		rm -f "$dir/$a.tar"
	done
}

start() {
	local pid i
	dir=$(cd "$dir" && pwd)
	[ -f "$dir/config.toml" ] || die "$dir: no config.toml (node.sh up first)"
	pid=$(cat "$dir/containerd.pid" 2>/dev/null || true)
	! running "$pid" || die "$dir: containerd $pid is running"
	[ -z "$netns" ] || [ -e "/run/netns/$netns" ] || die "no network namespace $netns"
	# setsid: containerd outlives this script, with its own log.
	in_node setsid containerd --config "$dir/config.toml" </dev/null >>"$dir/containerd.log" 2>&1 &
	echo $! >"$dir/containerd.pid"
	for ((i = 0; i < 200; i++)); do
		ctr_ version >/dev/null 2>&1 && return 0
		running "$(cat "$dir/containerd.pid")" || die "containerd exited: $(tail -5 "$dir/containerd.log")"
		sleep 0.05
	done
	die "containerd did not answer on $dir/containerd.sock"
}

up() {
	command -v containerd >/dev/null || die "containerd is not installed"
	[ ! -e "$dir/config.toml" ] || die "$dir: a node is already up there (node.sh down $dir)"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	write_config
	echo "$netns" >"$dir/netns"
	start
	build_images
	echo "node up: $dir/containerd.sock${netns:+ in netns $netns}"
}

# Processes whose command line mentions DIR's socket or config: containerd
# and its shims (which outlive containerd by design).
node_pids() {
	local p
	for p in /proc/[0-9]*; do
		tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$dir/" && echo "${p#/proc/}"
	done
	return 0
}

cri_client() {
	if [ -n "${CRI:-}" ]; then echo "$CRI"
	elif command -v crictl >/dev/null; then echo crictl
	elif [ -x "$here/../../test/harness/cri" ]; then echo "$here/../../test/harness/cri"
	fi
}

down() {
	[ -d "$dir" ] || return 0
	dir=$(cd "$dir" && pwd)
	netns=$(cat "$dir/netns" 2>/dev/null || true)
	[ -z "$netns" ] || [ -e "/run/netns/$netns" ] || netns=
	local pid cri ids i p r c
	pid=$(cat "$dir/containerd.pid" 2>/dev/null || true)
	# Pods first, through the CRI: poststop hooks and CNI DEL run.
	cri=$(cri_client)
	if running "$pid" && [ -n "$cri" ]; then
		ids=$($cri --endpoint "unix://$dir/containerd.sock" pods -q 2>/dev/null || true)
		[ -z "$ids" ] || $cri --endpoint "unix://$dir/containerd.sock" rmp $ids >/dev/null ||
			echo "node.sh: removing pods failed; killing what is left" >&2
	fi
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do running "$pid" || break; sleep 0.05; done
	# Containers a failed removal left: runc delete -f runs their poststop
	# hooks; then their shims.
	for r in "$dir"/runc/*; do
		[ -d "$r" ] || continue
		for c in $(runc --root "$r" list -q 2>/dev/null); do
			in_node runc --root "$r" delete -f "$c" >/dev/null 2>&1 || true
		done
	done
	for p in $(node_pids); do kill -9 "$p" 2>/dev/null || true; done
	for ((i = 0; i < 200; i++)); do [ -z "$(node_pids)" ] && break; sleep 0.05; done
	# Mounts under DIR (rootfs, netns, shm), deepest first.
	awk -v d="$dir/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf "$dir"
	[ ! -e "$dir" ] || die "$dir: could not remove"
	# What containerd's shims and libcni make outside DIR, if now empty.
	rmdir /run/containerd/s /run/containerd /var/lib/cni/results /var/lib/cni 2>/dev/null || true
}

case $cmd in
up) up ;;
start) start ;;
down) down ;;
*) usage ;;
esac
