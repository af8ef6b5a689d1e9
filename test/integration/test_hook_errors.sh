#!/bin/bash
# xdp_hook refusals: each bad input exits non-zero with one clear line and
# leaves every namespace, bpffs and /run/xdphook exactly as before.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container.sh"
# host mode by annotation: the node must allow it
node_config '{"annotations": ["enable", "ips", "nic", "mode", "publish"]}'

topo_new
ns_new ctr
# nsenter execs sleep: $! is the sleeper itself, inside netns ctr.
nsenter --net="/run/netns/$(ns ctr)" sleep 600 &
sleeper=$!
at_exit "kill $sleeper"
# The "container": a process in netns ctr with a CNI-style address.
veth_new eth0 ctr cnip ctr
in_ns ctr ip addr add 10.77.1.9/32 dev eth0
in_ns ctr ip route add default via 10.77.1.1 dev eth0 onlink
in_ns ctr ip route add 10.9.0.0/16 dev eth0
snap() {
	host_snapshot
	in_ns ctr ip -o addr show | awk '{print $2, $4}' | sort
	in_ns ctr ip -o link show | awk -F': ' '{print $2}' | sort
	in_ns ctr ip route show | sort
}
before=$(snap)

# hook_fails REGEX STAGE JSON: exit 1, REGEX on the single stderr line, nothing changed.
hook_fails() {
	local re=$1 stage=$2 json=$3 rc
	printf '%s' "$json" | in_ns host "$HOOK" $stage >"$XH_TMP/out" 2>"$XH_TMP/err"; rc=$?
	[ "$rc" = 1 ] || fail "exit $rc, want 1, for: $json (stderr: $(cat "$XH_TMP/err"))"
	[ "$(wc -l <"$XH_TMP/err")" = 1 ] || fail "not one line: $(cat "$XH_TMP/err")"
	grep -Eq -- "$re" "$XH_TMP/err" || fail "stderr lacks /$re/: $(cat "$XH_TMP/err")"
	[ "$(snap)" = "$before" ] || fail "left behind after '$re': $(diff <(echo "$before") <(snap))"
}
state() { # state ID [extra json members]
	printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":%s,"bundle":"/nonexistent"%s}' "$1" "$sleeper" "${2:+,$2}"
}
ok_id=xht-$XH_TAG-e

hook_fails '^xdp_hook: -: read state: ' createRuntime '{"id": "x", '
hook_fails '^xdp_hook: -: read state: ' createRuntime '[1,2,3]'
hook_fails "^xdp_hook: $ok_id: state: state has no pid" createRuntime "{\"id\":\"$ok_id\",\"status\":\"creating\"}"
hook_fails "pid.*must be an integer" createRuntime "{\"id\":\"$ok_id\",\"pid\":\"12\"}"
hook_fails "^xdp_hook: $ok_id: netns: container init pid 999999999: no such process" createRuntime \
	"{\"id\":\"$ok_id\",\"status\":\"creating\",\"pid\":999999999}"
hook_fails '\.\./x.*' createRuntime "$(state ../x)"
hook_fails 'id' createRuntime "$(state "$(printf 'a%.0s' $(seq 300))")"
hook_fails 'id' createRuntime "$(state 'a\u0001b')"
hook_fails 'id' createRuntime "$(state '')"
# The node's own namespace (a net=host container; kthreadd lives there) is
# never touched.
hook_fails "^xdp_hook: $ok_id: netns: the container shares the host's network namespace" createRuntime \
	"{\"id\":\"$ok_id\",\"status\":\"creating\",\"pid\":2}"
hook_fails "stage 'poststart'" poststart "$(state "$ok_id")"
hook_fails "^xdp_hook: $ok_id: config: annotation io.xdphook.mode" createRuntime \
	"$(state "$ok_id" '"annotations":{"io.xdphook.mode":"bridge"}')"
hook_fails "^xdp_hook: $ok_id: config: .*io.xdphook.bogus" createRuntime \
	"$(state "$ok_id" '"annotations":{"io.xdphook.bogus":"1"}')"
hook_fails "^xdp_hook: $ok_id: nic: no such device 'nosuch0'" createRuntime \
	"$(state "$ok_id" '"annotations":{"io.xdphook.nic":"nosuch0"}')"
hook_fails "^xdp_hook: $ok_id: config: .*publish" createRuntime \
	"$(state "$ok_id" '"annotations":{"io.xdphook.publish":"99999:80/tcp","io.xdphook.mode":"host"}')"

# A failure late in setup (the NIC is held by xdp_loader) undoes the veth,
# the routes and the address taken from the CNI's interface.
in_ns host "$LOADER" -program pass -device nic0 || fail "loader attach"
at_exit "in_ns host $LOADER -detach -device nic0"
before=$(snap)
hook_fails "^xdp_hook: $ok_id: NIC program: .*xdp_loader" createRuntime \
	"$(state "$ok_id" '"annotations":{"io.xdphook.nic":"nic0"}')"
in_ns host "$LOADER" -detach -device nic0 || fail "loader detach"
before=$(snap)

# Rootless: an unprivileged uid is refused before reading anything.
if command -v setpriv >/dev/null; then
	state "$ok_id" | in_ns host setpriv --reuid 65534 --regid 65534 --clear-groups "$HOOK" createRuntime \
		>"$XH_TMP/out" 2>"$XH_TMP/err" && fail "rootless invocation accepted"
	grep -q "rootless invocation" "$XH_TMP/err" || fail "rootless message: $(cat "$XH_TMP/err")"
fi

# Not for us: disabled, a pod's non-sandbox container, an unknown poststop.
for j in "$(state "$ok_id" '"annotations":{"io.xdphook.enable":"false"}')" \
	 "$(state "$ok_id" '"annotations":{"io.kubernetes.cri.container-type":"container"}')" \
	 "$(state "$ok_id" '"annotations":{"io.kubernetes.cri-o.ContainerType":"container"}')"; do
	printf '%s' "$j" | in_ns host "$HOOK" createRuntime || fail "no-op exited non-zero: $j"
	[ "$(snap)" = "$before" ] || fail "no-op changed something: $j"
done
echo "{\"id\":\"$ok_id\",\"status\":\"stopped\"}" | in_ns host "$HOOK" poststop || fail "unknown poststop failed"

# The example node configs parse and allow what they say; a broken one is
# refused naming the file.
EX="$(dirname "$0")/../../examples"
for c in config.json config-host.json kubernetes/config.json; do
	state "$ok_id" '"annotations":{"io.xdphook.enable":"false","io.xdphook.umem_size":"4M"}' |
		XDPHOOK_CONFIG="$EX/$c" in_ns host "$HOOK" createRuntime || fail "examples/$c refused"
done
XDPHOOK_CONFIG="$EX/kubernetes/config.json" hook_fails "config: annotation io.xdphook.ips: not allowed by the node config $EX/kubernetes/config.json" \
	createRuntime "$(state "$ok_id" '"annotations":{"io.xdphook.ips":"10.77.1.9/32"}')"
XDPHOOK_CONFIG="$EX/config-host.json" hook_fails "config: annotation io.xdphook.mode: not allowed" \
	createRuntime "$(state "$ok_id" '"annotations":{"io.xdphook.mode":"pod"}')"
echo '{"mdoe": "pod"}' >"$XH_TMP/bad.json"
XDPHOOK_CONFIG="$XH_TMP/bad.json" hook_fails "config: $XH_TMP/bad.json: unknown key \"mdoe\"" createRuntime "$(state "$ok_id")"
echo "{\"id\":\"$ok_id\",\"status\":\"stopped\",\"pid\":0}" | in_ns host "$HOOK" || fail "phase from status failed"
pass
