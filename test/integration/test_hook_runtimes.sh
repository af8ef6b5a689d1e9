#!/bin/bash
# The hook under crun (config.json hooks) and podman (the hooks.d example:
# one file, both stages, phase from the state's status), with traffic; and
# poststop after the container's netns is gone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container.sh"

topo_new
before=$(host_snapshot)

# sandbox_kernel PID IP: let the container's kernel play the sandbox.
sandbox_kernel() {
	nsenter --net="/proc/$1/ns/net" ip addr add "$2/32" dev xdp0 &&
	nsenter --net="/proc/$1/ns/net" ip route add default via 169.254.1.1 dev xdp0 onlink
}
redirected() { in_ns host "$HOOK" list -json | jq --arg id "$1" '.[] | select(.id == $id) | .programs.veth.redirect.packets'; }

# --- crun --------------------------------------------------------------------------
if command -v crun >/dev/null; then
	C=xht-$XH_TAG-crun
	b=$(bundle_new crun '{"io.xdphook.ips":"10.77.1.21/32","io.xdphook.nic":"nic0"}')
	ctr_create crun "$C" "$b" || fail "crun create: $(cat "$XH_TMP/$C.err")"
	pid=$(ctr_pid crun "$C")
	sandbox_kernel "$pid" 10.77.1.21 || fail "sandbox address"
	nsenter --net="/proc/$pid/ns/net" ping -c 3 -i 0.2 -W 1 -q 10.77.0.2 >/dev/null || fail "crun pod cannot reach world"
	[ "$(redirected "$C")" -ge 3 ] || fail "crun pod traffic did not take the fast path"
	crun_ delete -f "$C" || fail "crun delete"
	[ "$(host_snapshot)" = "$before" ] || fail "crun teardown left: $(diff <(echo "$before") <(host_snapshot))"
else
	echo "crun not installed: crun part not run"
fi

# --- podman with the hooks.d example ----------------------------------------------------
podman_setup
at_exit "podman_ rm -f -t 0 xht-$XH_TAG-pm"
# --rootfs is a flag: the path after it is the image, so it goes last.
podman_ run -d --name "xht-$XH_TAG-pm" --network none \
	--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
	--annotation io.xdphook.enable=true --annotation io.xdphook.ips=10.77.1.22/32 \
	--annotation io.xdphook.nic=nic0 --rootfs "$XH_ROOTFS" sleep 3600 >"$XH_TMP/pm.id" 2>"$XH_TMP/pm.err" \
	|| fail "podman run: $(cat "$XH_TMP/pm.err")"
id=$(cat "$XH_TMP/pm.id")
track_id "$id"
pid=$(podman_ inspect -f '{{.State.Pid}}' "xht-$XH_TAG-pm")
sandbox_kernel "$pid" 10.77.1.22 || fail "sandbox address"
in_ns world ping -c 3 -i 0.2 -W 1 -q 10.77.1.22 >/dev/null || fail "world cannot reach the podman pod"
[ "$(redirected "$id")" -ge 3 ] || fail "podman pod replies did not take the fast path"
podman_ rm -f -t 0 "xht-$XH_TAG-pm" >/dev/null || fail "podman rm"
[ "$(host_snapshot)" = "$before" ] || fail "podman teardown left: $(diff <(echo "$before") <(host_snapshot))"
# Without the enabling annotation the hooks.d file does not apply.
podman_ run -d --name "xht-$XH_TAG-pm" --network none \
	--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --rootfs "$XH_ROOTFS" sleep 3600 >/dev/null 2>&1 || fail "podman run without annotation"
[ "$(host_snapshot)" = "$before" ] || fail "hook ran without io.xdphook.enable=true"
podman_ rm -f -t 0 "xht-$XH_TAG-pm" >/dev/null

# --- poststop after the netns is gone ------------------------------------------------
C=xht-$XH_TAG-gone
b=$(bundle_new gone '{"io.xdphook.ips":"10.77.1.23/32","io.xdphook.nic":"nic0"}')
ctr_create runc "$C" "$b" || fail "runc create: $(cat "$XH_TMP/$C.err")"
runc_ kill "$C" KILL
for _ in $(seq 100); do [ "$(runc_ state "$C" | jq -r .status)" = stopped ] && break; sleep 0.05; done
runc_ delete "$C" || fail "runc delete after the init died"
[ "$(host_snapshot)" = "$before" ] || fail "poststop after netns gone left: $(diff <(echo "$before") <(host_snapshot))"
pass
