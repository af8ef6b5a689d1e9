#!/bin/bash
# Host mode (docker -p) with a real sandbox: xdp_tap inside a runc
# container takes the NIC's address and MAC from the endpoint; curl to the
# NIC's address on a published port reaches busybox httpd in the container,
# while the host keeps its own services (port 22) and its own outbound
# connections.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container.sh"
# host mode by annotation: the node must allow it
node_config '{"annotations": ["enable", "ips", "nic", "mode", "publish"]}'
command -v runc >/dev/null || skip "runc is not installed"
[ -x "$BUILD/xdp_tap" ] || fail "$BUILD/xdp_tap is not built"

topo_new
before=$(host_snapshot)
for who in sandbox host world; do mkdir -p "$XH_TMP/www-$who"; echo "page of the $who" >"$XH_TMP/www-$who/index.html"; done
listening() { # NETNS-PATH PORT: wait (3 s at most) for a TCP listener
	for _ in $(seq 60); do [ -n "$(nsenter --net="$1" ss -Hltn "sport = :$2")" ] && return 0; sleep 0.05; done
	fail "nothing listens on $2 in $1"
}
host=/run/netns/$(ns host) world=/run/netns/$(ns world)

C=xht-$XH_TAG-hm
b=$(bundle_new hm '{"io.xdphook.mode":"host","io.xdphook.nic":"nic0","io.xdphook.publish":"8080:80/tcp"}')
ctr_create runc "$C" "$b" || fail "runc create: $(cat "$XH_TMP/$C.err")"
ctr=/proc/$(ctr_pid runc "$C")/ns/net

ns_bg "$ctr" "$BUILD/xdp_tap" >"$XH_TMP/tap.out" 2>&1
tap=$BG_PID
for _ in $(seq 100); do grep -q ready "$XH_TMP/tap.out" && break; sleep 0.05; done
grep -q ready "$XH_TMP/tap.out" || fail "xdp_tap: $(cat "$XH_TMP/tap.out")"
nsenter --net="$ctr" ip -br addr show tap0 | grep -q '10.77.0.1/24' || fail "tap0 lacks the NIC's address"
[ "$(nsenter --net="$ctr" ip -j link show tap0 | jq -r '.[0].address')" = \
  "$(in_ns host ip -j link show nic0 | jq -r '.[0].address')" ] || fail "tap0 lacks the NIC's MAC"

ns_bg "$ctr" busybox httpd -f -p 80 -h "$XH_TMP/www-sandbox" >>"$XH_TMP/bg.out" 2>&1
httpd=$BG_PID; listening "$ctr" 80
ns_bg "$host" busybox httpd -f -p 22 -h "$XH_TMP/www-host" >>"$XH_TMP/bg.out" 2>&1; listening "$host" 22
ns_bg "$world" busybox httpd -f -p 80 -h "$XH_TMP/www-world" >>"$XH_TMP/bg.out" 2>&1; listening "$world" 80

[ "$(in_ns world curl -s --max-time 5 http://10.77.0.1:8080/)" = "page of the sandbox" ] || fail "published port 8080 did not reach the sandbox"
[ "$(in_ns world curl -s --max-time 5 http://10.77.0.1:22/)" = "page of the host" ] || fail "port 22 did not stay with the host"
[ "$(in_ns host curl -s --max-time 5 http://10.77.0.2/)" = "page of the world" ] || fail "the host's own connection broke"
[ "$(nsenter --net="$ctr" curl -s --max-time 5 http://10.77.0.2/)" = "page of the world" ] || fail "the sandbox's outbound connection failed"
in_ns world curl -s --max-time 2 http://10.77.0.1:80/ >/dev/null && fail "an unpublished port reached someone"

kill "$tap"
runc_ delete -f "$C" || fail "delete"
bg_kill "$httpd"
[ "$(host_snapshot)" = "$before" ] || fail "teardown left: $(diff <(echo "$before") <(host_snapshot))"
pass
