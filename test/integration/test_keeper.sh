#!/bin/bash
# The endpoint keeper, without the hook (build/test/keeper_harness attaches
# the endpoint program to xdp0 in netns c and starts the keeper for it):
# xdp_echo takes the endpoint and answers ARP, ping, ping6 (NS) and UDP from
# netns w through AF_XDP; a second client, a client of another netns and a
# uid not allowed are refused; a killed client's successor gets a fresh
# socket; malformed records, oversized ones and fds do not hurt the keeper;
# the exec wrapper hands a working endpoint to CMD; keeper_stop and the
# death of the container's init end the keeper.
. "$(dirname "$0")/lib.sh"

HARNESS="$BUILD/test/keeper_harness"
CLIENT="$BUILD/test/ep_client"
ECHO="$BUILD/xdp_echo"
WRAP="$BUILD/xdp_endpoint"
for f in "$HARNESS" "$CLIENT" "$ECHO" "$WRAP"; do
	[ -x "$f" ] || fail "$f is not built (make test-integration builds it)"
done

PIDS=()
at_exit 'for p in "${PIDS[@]}"; do kill -9 "$p"; done'

ns_new c
ns_new w
C=/run/netns/$(ns c)
PEER="kw$XH_TAG"
veth_new xdp0 c "$PEER" w
veth_xdp_ready w "$PEER"
ip -n "$(ns w)" addr add 10.78.0.1/24 dev "$PEER"
# IPv6 on w's end only, for the ping6 case (neighbor solicitation).
in_ns w sysctl -qw "net.ipv6.conf.$PEER.disable_ipv6=0"
ip -n "$(ns w)" addr add fd00:78::1/64 dev "$PEER" nodad
ADDR=10.78.0.2
ADDR6=fd00:78::2


# start_keeper INIT_PID NAME: keeper for xdp0 in c; KPID, KSTART, KLOG set.
start_keeper() {
	KLOG="$XH_TMP/$2.log"
	"$HARNESS" start "$C" xdp0 "$1" "$KLOG" --addr "$ADDR/24" --addr "$ADDR6/64" \
		--gw "10.78.0.1,$(mac_of w "$PEER")" --route "0.0.0.0/0,10.78.0.1" --eph 40000-49999 \
		>"$XH_TMP/$2.id" 2>"$XH_TMP/$2.err" || fail "keeper_harness start: $(cat "$XH_TMP/$2.err")"
	read -r KPID KSTART <"$XH_TMP/$2.id"
	PIDS+=("$KPID")
	at_exit "'$HARNESS' stop '$C' xdp0 $KPID $KSTART"
}

# echo_start NAME [wrapper args...]: xdp_echo in c (through the wrapper if
# asked), waits for its "ready"; pid in EPID.
echo_start() {
	local name=$1; shift
	nsenter --net="$C" "$@" "$ECHO" >"$XH_TMP/$name.out" 2>"$XH_TMP/$name.err" &
	EPID=$!
	PIDS+=("$EPID")
	wait_line "$XH_TMP/$name.out" ready "$EPID" ||
		fail "$name: no ready line: $(cat "$XH_TMP/$name.out" "$XH_TMP/$name.err")"
}
echo_stop() { kill -9 "$EPID" 2>/dev/null; wait "$EPID" 2>/dev/null; }

ping_ok() { in_ns w ping -c 3 -i 0.2 -W 1 "$@" >"$XH_TMP/ping" 2>&1 || fail "ping $*: $(cat "$XH_TMP/ping")"; }
udp_ok() {
	in_ns w "$CLIENT" udp "$1" 7 "hello-$2" >"$XH_TMP/udp" 2>&1 || fail "UDP echo via $1: $(cat "$XH_TMP/udp")"
	grep -qx "echo: hello-$2" "$XH_TMP/udp" || fail "UDP echo: $(cat "$XH_TMP/udp")"
}

sleep 600 &
INIT=$!
PIDS+=("$INIT")
start_keeper "$INIT" k1
KSID=$(ps -o sid= -p "$KPID" | tr -d ' ')

# --- detached: own session, stdio on /dev/null, no inherited pipe ------------------
[ "$KSID" != "$(ps -o sid= -p $$ | tr -d ' ')" ] || fail "keeper in our session"
for fd in 0 1 2; do
	[ "$(readlink "/proc/$KPID/fd/$fd")" = /dev/null ] || fail "keeper fd $fd: $(readlink "/proc/$KPID/fd/$fd")"
done
ls -l "/proc/$KPID/fd" | grep -q pipe: && fail "keeper holds a pipe: $(ls -l "/proc/$KPID/fd")"
[ "$(cat "/proc/$KPID/comm")" = xdphook-keeper ] || fail "keeper comm: $(cat "/proc/$KPID/comm")"
grep -q 'listening on @xdphook/endpoint for xdp0' "$KLOG" || fail "keeper log: $(cat "$KLOG")"

# --- xdp_echo answers ARP, ICMP, ICMPv6 (NS), UDP ------------------------------------
echo_start e1
ping_ok "$ADDR"
in_ns w ip neigh show "$ADDR" | grep -qi "$(mac_of c xdp0)" || fail "ARP: $(in_ns w ip neigh show "$ADDR")"
ping_ok "$ADDR6"
udp_ok "$ADDR" 1
udp_ok "$ADDR6" 2

# --- one client at a time; not from another netns; not another uid ------------------------
expect_fail 1 'endpoint busy: held by pid [0-9]+' nsenter --net="$C" "$ECHO"
in_ns c "$CLIENT" refused >"$XH_TMP/refused" || fail "second client: $(cat "$XH_TMP/refused")"
grep -q 'errno 16: endpoint busy' "$XH_TMP/refused" || fail "second client: $(cat "$XH_TMP/refused")"
expect_fail 1 'no xdphook keeper in this network namespace' in_ns w "$ECHO"
# A copy the unprivileged uid can reach whatever the permissions of BUILD.
UIDDIR=$(mktemp -d /tmp/xht-uid.XXXXXX)
at_exit "rm -rf '$UIDDIR'"
chmod 755 "$UIDDIR"
cp "$ECHO" "$UIDDIR/"
expect_fail 1 'uid 65534 is not allowed' \
	in_ns c setpriv --reuid 65534 --regid 65534 --clear-groups "$UIDDIR/xdp_echo"
ping_ok "$ADDR" # the holder did not notice any of it

# --- the client goes away: frames go to the kernel, the next one gets a fresh socket -----
echo_stop
in_ns w ping -c 2 -i 0.2 -W 1 "$ADDR" >/dev/null 2>&1 && fail "ping answered with no client"
wait_line "$KLOG" "went away" "$KPID" || fail "keeper did not see the client go: $(cat "$KLOG")"
echo_start e2
ping_ok "$ADDR"
udp_ok "$ADDR" 3
echo_stop

# --- bad clients: their connection closes, the keeper stays ------------------------------
for how in garbage oversize badlen withfd early twice; do
	in_ns c "$CLIENT" "$how" >"$XH_TMP/bad-$how" 2>&1 || fail "$how: $(cat "$XH_TMP/bad-$how")"
	grep -q '^closed: ' "$XH_TMP/bad-$how" || fail "$how: $(cat "$XH_TMP/bad-$how")"
	kill -0 "$KPID" 2>/dev/null || fail "keeper died of '$how': $(tail -5 "$KLOG")"
done
grep -q 'closed: bad message: bad magic' "$XH_TMP/bad-garbage" || fail "garbage: $(cat "$XH_TMP/bad-garbage")"
grep -q 'closed: bad message: message larger than' "$XH_TMP/bad-oversize" ||
	fail "oversize: $(cat "$XH_TMP/bad-oversize")"
# The fd that came with READY is ignored; the socket was never bound.
for how in early withfd; do
	grep -q 'closed: READY, but the socket is not bound' "$XH_TMP/bad-$how" ||
		fail "$how: $(cat "$XH_TMP/bad-$how")"
done
# The keeper keeps none of the fds the clients sent.
[ "$(ls "/proc/$KPID/fd" | wc -l)" -le 10 ] || fail "keeper fds: $(ls -l "/proc/$KPID/fd")"
echo_start e3
ping_ok "$ADDR"
echo_stop

# --- xdp_endpoint -- CMD: the inherited endpoint works in CMD -------------------------------
ns_bg w ping -c 30 -i 0.2 -W 1 "$ADDR" >/dev/null 2>&1
in_ns c "$WRAP" -- "$CLIENT" env >"$XH_TMP/env" 2>&1 || fail "xdp_endpoint -- ep_client env: $(cat "$XH_TMP/env")"
grep -q 'LISTEN_FDS=3 LISTEN_FDNAMES=xsk:umem:ctl LISTEN_PID=self' "$XH_TMP/env" || fail "env: $(cat "$XH_TMP/env")"
grep -q 'fd 3 umem_fd 4 umem 2097152 frames 1024 env_left no' "$XH_TMP/env" || fail "env: $(cat "$XH_TMP/env")"
grep -Eq '^frame [0-9]+ ethertype 08(00|06)' "$XH_TMP/env" || fail "no frame through the wrapper: $(cat "$XH_TMP/env")"
echo_start e4 "$WRAP" --
ping_ok "$ADDR"
udp_ok "$ADDR" 4
echo_stop
out=$(in_ns c "$WRAP" -- sh -c 'echo "$LISTEN_PID $$"')
[ "${out% *}" = "${out#* }" ] || fail "LISTEN_PID is not CMD's pid: $out"
expect_fail 127 'exec /nonexistent' in_ns c "$WRAP" -- /nonexistent

# --- a second keeper for the same netns is refused ------------------------------------
"$HARNESS" start "$C" xdp0 "$INIT" "$XH_TMP/k2.log" --no-attach >"$XH_TMP/k2.id" 2>"$XH_TMP/k2.err" &&
	fail "second keeper started: $(cat "$XH_TMP/k2.id")"
grep -q 'already bound in this network namespace' "$XH_TMP/k2.err" || fail "second keeper: $(cat "$XH_TMP/k2.err")"

# --- memory: report the keeper's Pss ------------------------------------------------------
PSS=$(awk '/^Pss:/ {print $2}' "/proc/$KPID/smaps_rollup")

# --- keeper_stop: the keeper exits, the client hears of it, the program is detached ---------
echo_start e5
"$HARNESS" stop "$C" xdp0 "$KPID" "$KSTART" 2>"$XH_TMP/stop.err" || fail "stop: $(cat "$XH_TMP/stop.err")"
gone "$KPID" || fail "keeper $KPID still runs after keeper_stop"
wait_line "$XH_TMP/e5.err" 'took the endpoint back' "$EPID" || fail "client not told: $(cat "$XH_TMP/e5.err")"
wait_gone "$EPID" || fail "xdp_echo still runs without its keeper"
[ -z "$(xdp_prog_id c xdp0)" ] || fail "endpoint program still attached"
grep -q 'signal 15 from pid' "$KLOG" || fail "keeper log: $(tail -3 "$KLOG")"
"$HARNESS" stop "$C" xdp0 "$KPID" "$KSTART" || fail "second keeper_stop failed"
# Nothing of the keeper's session runs any more (zombies wait for init).
left=$(ps -o pid=,stat= -s "$KSID" | awk '$2 !~ /Z/')
[ -z "$left" ] || fail "processes left in the keeper's session: $left"

# --- the container's init exits: so does the keeper ---------------------------------------
sleep 600 &
INIT2=$!
PIDS+=("$INIT2")
start_keeper "$INIT2" k3
echo_start e6
ping_ok "$ADDR"
kill -9 "$INIT2"
wait "$INIT2" 2>/dev/null
wait_gone "$KPID" || fail "keeper outlived the container's init"
grep -q "container init $INIT2 exited" "$KLOG" || fail "keeper log: $(tail -3 "$KLOG")"
wait_gone "$EPID" || fail "xdp_echo still runs without its keeper"

# Sanitizer builds: whatever ran in the background said nothing.
if grep -l -E 'Sanitizer|runtime error' "$XH_TMP"/*.err "$XH_TMP"/*.out 2>/dev/null; then
	fail "sanitizer reports: $(grep -h -E -A5 'Sanitizer|runtime error' "$XH_TMP"/*.err "$XH_TMP"/*.out)"
fi

pass "keeper Pss ${PSS} kB"
