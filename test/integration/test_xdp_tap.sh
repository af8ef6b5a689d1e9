#!/bin/bash
# xdp_tap, the compatibility path for unmodified workloads: the keeper
# without the hook (build/test/keeper_harness, as in test_keeper.sh) hands
# the endpoint of xdp0 in netns c to xdp_tap, which makes tap0 with the
# endpoint's MAC, MTU, addresses, routes and gateways (permanent
# neighbours) and bridges it to the AF_XDP rings. Ordinary sockets in c
# then talk to netns w: ping and ping6 both ways (through an on-link
# gateway outside our prefix, too), busybox httpd fetched with curl (a
# small page and a 300 kB one, checked byte for byte, no checksum errors),
# and iperf3 both ways (throughput printed, not asserted). SIGTERM ends
# xdp_tap; tap0 is gone and the keeper gets the endpoint back. Then the
# same through the exec wrapper (xdp_endpoint -- xdp_tap), ended by SIGINT,
# in a netns with IPv6 off. Last, the keeper's teardown ends xdp_tap.
. "$(dirname "$0")/lib.sh"

HARNESS="$BUILD/test/keeper_harness"
TAP="$BUILD/xdp_tap"
for f in "$HARNESS" "$TAP" "$BUILD/xdp_endpoint"; do
	[ -x "$f" ] || fail "$f is not built (make test-integration builds it)"
done
for t in curl iperf3 jq ss; do
	command -v "$t" >/dev/null || skip "$t is not installed"
done
busybox --list 2>/dev/null | grep -qx httpd || skip "busybox has no httpd"

PIDS=()
at_exit 'for p in "${PIDS[@]}"; do kill -9 "$p"; done'

ns_new c
ns_new w
C=/run/netns/$(ns c)
PEER="tw$XH_TAG"
veth_new xdp0 c "$PEER" w
veth_xdp_ready w "$PEER"
ip -n "$(ns w)" addr add 10.79.0.1/24 dev "$PEER"
in_ns w sysctl -qw "net.ipv6.conf.$PEER.disable_ipv6=0"
ip -n "$(ns w)" addr add fd00:79::1/64 dev "$PEER" nodad
# A host beyond the gateway: reached from c through the default route only.
ip -n "$(ns w)" addr add 192.0.2.1/32 dev lo
# tap0, made later in c, gets IPv6 (ns_new turned it off for new devices).
in_ns c sysctl -qw net.ipv6.conf.default.disable_ipv6=0
ADDR=10.79.0.2
ADDR6=fd00:79::2
WMAC=$(mac_of w "$PEER")

# wait_count FILE REGEX N: until FILE has N lines matching REGEX (~10 s).
wait_count() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(grep -Ec -- "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
		sleep 0.05
	done
	return 1
}
# wait_listen NS PORT PID: until something listens on TCP PORT in NS.
wait_listen() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ -n "$(in_ns "$1" ss -Hltn "sport = :$2")" ] && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
ping_ok() {
	local ns=$1; shift
	in_ns "$ns" ping -c 3 -i 0.2 -W 1 "$@" >"$XH_TMP/ping" 2>&1 ||
		fail "ping from $ns $*: $(cat "$XH_TMP/ping")"
}
# TCP and UDP checksum errors the kernel of NS counted so far.
csum_errors() {
	in_ns "$1" awk '/^(Tcp|Udp):/ { if (!($1 in hdr)) { hdr[$1] = 1; for (i = 2; i <= NF; i++) col[$1, $i] = i }
		else n += $(col[$1, "InCsumErrors"]) } END { print n + 0 }' /proc/net/snmp
}

# --- the keeper for xdp0 in c -------------------------------------------------------
sleep 600 &
INIT=$!
PIDS+=("$INIT")
KLOG="$XH_TMP/keeper.log"
# The IPv4 gateway is link-local, as in pod mode: outside every prefix of
# ours, so its route must be on-link. 10.79.0.0/24 duplicates the connected
# route the address brings.
"$HARNESS" start "$C" xdp0 "$INIT" "$KLOG" --addr "$ADDR/24" --addr "$ADDR6/64" \
	--gw "169.254.1.1,$WMAC" --gw "fd00:79::1,$WMAC" \
	--route "0.0.0.0/0,169.254.1.1" --route 10.79.0.0/24 --route "::/0,fd00:79::1" \
	>"$XH_TMP/k.id" 2>"$XH_TMP/k.err" || fail "keeper_harness start: $(cat "$XH_TMP/k.err")"
read -r KPID KSTART <"$XH_TMP/k.id"
PIDS+=("$KPID")
at_exit "'$HARNESS' stop '$C' xdp0 $KPID $KSTART"

# --- no keeper in w: one line, exit 1, no tap ------------------------------------------------
expect_fail 1 '^xdp_tap: endpoint: .*keeper' in_ns w "$TAP"
ip -n "$(ns w)" link show dev tap0 >/dev/null 2>&1 && fail "tap0 made in w without an endpoint"
expect_fail 2 '^usage: xdp_tap' in_ns c "$TAP" a b

# --- xdp_tap: tap0 looks like the endpoint ---------------------------------------------
nsenter --net="$C" "$TAP" >"$XH_TMP/tap.out" 2>"$XH_TMP/tap.err" &
TPID=$!
PIDS+=("$TPID")
wait_line "$XH_TMP/tap.out" ready "$TPID" ||
	fail "xdp_tap: no ready line: $(cat "$XH_TMP/tap.out" "$XH_TMP/tap.err")"
grep -q 'listening on @xdphook/endpoint' "$KLOG" || fail "keeper log: $(cat "$KLOG")"

link=$(ip -n "$(ns c)" -j link show dev tap0) || fail "no tap0 in c"
[ "$(jq -r '.[0].address' <<<"$link")" = "$(mac_of c xdp0)" ] || fail "tap0 MAC: $link"
[ "$(jq -r '.[0].mtu' <<<"$link")" = "$(ip -n "$(ns c)" -j link show dev xdp0 | jq -r '.[0].mtu')" ] ||
	fail "tap0 MTU: $link"
jq -e '.[0].flags | index("UP")' <<<"$link" >/dev/null || fail "tap0 is not up: $link"
ip -n "$(ns c)" addr show dev tap0 >"$XH_TMP/addr"
grep -q "inet $ADDR/24 " "$XH_TMP/addr" || fail "tap0 addresses: $(cat "$XH_TMP/addr")"
grep -q "inet6 $ADDR6/64 " "$XH_TMP/addr" || fail "tap0 addresses: $(cat "$XH_TMP/addr")"
for gw in 169.254.1.1 fd00:79::1; do
	ip -n "$(ns c)" neigh show dev tap0 "$gw" | grep -qi "lladdr $WMAC PERMANENT" ||
		fail "neighbour $gw: $(ip -n "$(ns c)" neigh show dev tap0)"
done
ip -n "$(ns c)" route show default | grep -q 'via 169.254.1.1 dev tap0 .*onlink' ||
	fail "IPv4 default route: $(ip -n "$(ns c)" route show)"
ip -n "$(ns c)" -6 route show default | grep -q 'via fd00:79::1 dev tap0' ||
	fail "IPv6 default route: $(ip -n "$(ns c)" -6 route show)"

# --- ping both ways, IPv4 and IPv6 ----------------------------------------------------
ping_ok w "$ADDR"
ping_ok w "$ADDR6"
ping_ok c 192.0.2.1 # through the on-link gateway, no ARP for it
ping_ok c fd00:79::1
in_ns c ip neigh show dev tap0 169.254.1.1 | grep -q PERMANENT ||
	fail "gateway neighbour changed: $(in_ns c ip neigh show dev tap0)"

# --- busybox httpd in c, curl from w ------------------------------------------------------
mkdir "$XH_TMP/www"
echo "hello through xdp_tap $XH_TAG" >"$XH_TMP/www/index.html"
head -c 300000 /dev/urandom >"$XH_TMP/www/blob"
CSUM_W=$(csum_errors w)
CSUM_C=$(csum_errors c)
nsenter --net="$C" busybox httpd -f -p "$ADDR:8080" -h "$XH_TMP/www" 2>"$XH_TMP/httpd.err" &
HPID=$!
PIDS+=("$HPID")
wait_listen c 8080 "$HPID" || fail "httpd does not listen: $(cat "$XH_TMP/httpd.err")"
page=$(in_ns w curl -sS --max-time 5 "http://$ADDR:8080/index.html" 2>&1) || fail "curl: $page"
[ "$page" = "hello through xdp_tap $XH_TAG" ] || fail "curl got: $page"
in_ns w curl -sS --max-time 5 -o "$XH_TMP/blob.got" "http://$ADDR:8080/blob" 2>"$XH_TMP/curl.err" ||
	fail "curl blob: $(cat "$XH_TMP/curl.err")"
cmp -s "$XH_TMP/www/blob" "$XH_TMP/blob.got" || fail "blob differs after $(stat -c %s "$XH_TMP/blob.got") bytes"

# --- iperf3 both ways (printed, not asserted) -------------------------------------------------
nsenter --net="$C" iperf3 -s -B "$ADDR" -p 5201 >"$XH_TMP/iperf-s" 2>&1 &
IPID=$!
PIDS+=("$IPID")
wait_listen c 5201 "$IPID" || fail "iperf3 -s does not listen: $(cat "$XH_TMP/iperf-s")"
gbps() { jq -r '.end.sum_received.bits_per_second / 1e9 * 100 | floor / 100' "$1"; }
retrans() { jq -r '.end.sum_sent.retransmits' "$1"; }
for dir in up down; do
	in_ns w timeout 20 iperf3 -c "$ADDR" -p 5201 -t 3 -J $([ $dir = down ] && echo -R) \
		>"$XH_TMP/iperf-$dir.json" 2>&1 || fail "iperf3 $dir: $(tail -5 "$XH_TMP/iperf-$dir.json")"
done
UP=$(gbps "$XH_TMP/iperf-up.json")
DOWN=$(gbps "$XH_TMP/iperf-down.json")
echo "iperf3 through xdp_tap: w -> c $UP Gbit/s ($(retrans "$XH_TMP/iperf-up.json") retransmits)," \
	"c -> w $DOWN Gbit/s ($(retrans "$XH_TMP/iperf-down.json") retransmits)"
# The tap hands out complete checksums, the world end sends them: none bad.
[ "$(csum_errors w)" = "$CSUM_W" ] || fail "checksum errors in w: $CSUM_W -> $(csum_errors w)"
[ "$(csum_errors c)" = "$CSUM_C" ] || fail "checksum errors in c: $CSUM_C -> $(csum_errors c)"

# --- SIGTERM: tap0 goes, the keeper gets the endpoint back -------------------------------------
kill -TERM "$TPID"
wait_gone "$TPID" || fail "xdp_tap still runs after SIGTERM"
wait "$TPID"
rc=$?
[ "$rc" = 0 ] || fail "xdp_tap exited $rc: $(cat "$XH_TMP/tap.err")"
grep -Eq 'frames to tap0, [0-9]+ from it' "$XH_TMP/tap.err" || fail "xdp_tap stderr: $(cat "$XH_TMP/tap.err")"
cat "$XH_TMP/tap.err"
ip -n "$(ns c)" link show dev tap0 >/dev/null 2>&1 && fail "tap0 still there after xdp_tap exited"
wait_line "$KLOG" "went away" "$KPID" || fail "keeper did not see xdp_tap go: $(cat "$KLOG")"

# --- xdp_endpoint -- xdp_tap: the same through the exec wrapper, IPv6 off ------------------------
# A netns with IPv6 off (docker's default) gets the IPv4 part, and a warning.
in_ns c sysctl -qw net.ipv6.conf.default.disable_ipv6=1
nsenter --net="$C" "$BUILD/xdp_endpoint" -- "$TAP" >"$XH_TMP/tap2.out" 2>"$XH_TMP/tap2.err" &
TPID=$!
PIDS+=("$TPID")
wait_line "$XH_TMP/tap2.out" ready "$TPID" ||
	fail "xdp_endpoint -- xdp_tap: no ready line: $(cat "$XH_TMP/tap2.out" "$XH_TMP/tap2.err")"
grep -q 'tap0: IPv6 is disabled in this network namespace' "$XH_TMP/tap2.err" ||
	fail "no IPv6 warning: $(cat "$XH_TMP/tap2.err")"
ip -n "$(ns c)" route show default | grep -q 'via 169.254.1.1 dev tap0' ||
	fail "IPv4 default route (wrapper): $(ip -n "$(ns c)" route show)"
ping_ok w "$ADDR"
ping_ok c 192.0.2.1
page=$(in_ns w curl -sS --max-time 5 "http://$ADDR:8080/index.html" 2>&1) || fail "curl (wrapper): $page"
[ "$page" = "hello through xdp_tap $XH_TAG" ] || fail "curl (wrapper) got: $page"
kill -INT "$TPID"
wait_gone "$TPID" || fail "xdp_tap (wrapper) still runs after SIGINT"
wait "$TPID" || fail "xdp_tap (wrapper) exited $?: $(cat "$XH_TMP/tap2.err")"
ip -n "$(ns c)" link show dev tap0 >/dev/null 2>&1 && fail "tap0 still there after xdp_tap (wrapper) exited"

# --- the keeper takes the endpoint back (teardown): xdp_tap says so, exits 1, tap0 goes ---------
wait_count "$KLOG" "went away" 2 || fail "keeper did not see xdp_tap (wrapper) go: $(cat "$KLOG")"
nsenter --net="$C" "$TAP" >"$XH_TMP/tap3.out" 2>"$XH_TMP/tap3.err" &
TPID=$!
PIDS+=("$TPID")
wait_line "$XH_TMP/tap3.out" ready "$TPID" || fail "xdp_tap (3): no ready line: $(cat "$XH_TMP/tap3.err")"
"$HARNESS" stop "$C" xdp0 "$KPID" "$KSTART" 2>"$XH_TMP/stop.err" || fail "keeper stop: $(cat "$XH_TMP/stop.err")"
wait_gone "$TPID" || fail "xdp_tap still runs without its keeper"
wait "$TPID"
rc=$?
[ "$rc" = 1 ] || fail "xdp_tap exited $rc without its keeper: $(cat "$XH_TMP/tap3.err")"
grep -q '^xdp_tap: endpoint: the keeper took it back$' "$XH_TMP/tap3.err" ||
	fail "xdp_tap stderr: $(cat "$XH_TMP/tap3.err")"
ip -n "$(ns c)" link show dev tap0 >/dev/null 2>&1 && fail "tap0 still there after the keeper left"

pass "w -> c $UP Gbit/s, c -> w $DOWN Gbit/s"
