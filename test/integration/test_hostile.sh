#!/bin/bash
# Hostile input (issue 6), next to a resident runc container with the hook:
#  * the hook run directly with hostile state JSON on stdin: 10 MiB (from a
#    file and from a pipe that keeps writing), deep nesting, a wrong type
#    in every field, NUL bytes, invalid UTF-8, duplicate keys, ids with
#    path tricks / control characters / too many characters, annotations
#    with out-of-range values and overlapping publish rules, annotations
#    the node config does not allow (what
#    test_hook_errors.sh does not cover already): each exits 1 with one
#    printable line `xdp_hook: <id>: <step>: <reason>` naming the thing and
#    the reason, and leaves the node exactly as it was;
#  * clients of the resident container's keeper sending garbage, short,
#    empty and oversized records, lying lengths, bad versions and types,
#    messages of the wrong direction, their own fds (up to 250 in one
#    record), bursts, a flood of connections, and a client that never
#    finishes the handshake: each is turned away with a message saying why;
#  * the resident container is unaffected: its state, its keeper (same
#    process, no fd gained), and a proper client (xdp_echo) that then
#    answers ping from world through NIC -> xh- -> xdp0 -> AF_XDP.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container.sh"
command -v runc >/dev/null || skip "runc is not installed"
CLIENT="$BUILD/test/ep_client"
ECHO="$BUILD/xdp_echo"
for f in "$CLIENT" "$ECHO"; do [ -x "$f" ] || fail "$f is not built (make test-integration builds it)"; done

topo_new
before_all=$(host_snapshot)

# --- the resident container ---------------------------------------------------------
R=xht-$XH_TAG-res
b=$(bundle_new res '{"io.xdphook.ips":"10.77.1.5/32","io.xdphook.nic":"nic0"}')
ctr_create runc "$R" "$b" || fail "runc create: $(cat "$XH_TMP/$R.err")"
rpid=$(ctr_pid runc "$R")
r() { nsenter --net="/proc/$rpid/ns/net" "$@"; }
KPID=$(jq -r .keeper.pid "/run/xdphook/$R/state.json")
kill -0 "$KPID" || fail "no keeper for the resident container"
rstate=$(md5sum <"/run/xdphook/$R/state.json")
kfds=$(ls "/proc/$KPID/fd" | wc -l)

# The "container" of the hostile invocations: a process in netns ctr.
ns_new ctr
nsenter --net="/run/netns/$(ns ctr)" sleep 600 &
sleeper=$!
at_exit "kill $sleeper"
snap() {
	host_snapshot
	in_ns ctr ip -o link show | awk -F': ' '{print $2}' | sort
	ls -1 /run/xdphook | grep -E "^xht-$XH_TAG-" | sort
}
before=$(snap)
ok_id=xht-$XH_TAG-h

# hook_fails REGEX [STAGE]: stdin -> the hook; exit 1, one printable line
# matching REGEX, nothing changed.
hook_fails() {
	local re=$1 stage=${2:-createRuntime} rc line
	in_ns host "$HOOK" $stage >"$XH_TMP/out" 2>"$XH_TMP/err"; rc=$?
	line=$(head -c 300 "$XH_TMP/err" | cat -v)
	[ "$rc" = 1 ] || fail "exit $rc, want 1, for /$re/ (stderr: $line)"
	[ "$(wc -l <"$XH_TMP/err")" = 1 ] || fail "not one line for /$re/: $line"
	LC_ALL=C grep -q '[^[:print:]]' "$XH_TMP/err" && fail "unprintable bytes in the message: $line"
	[ "$(wc -c <"$XH_TMP/err")" -le 400 ] || fail "message of $(wc -c <"$XH_TMP/err") bytes: $line"
	grep -Eq -- "$re" "$XH_TMP/err" || fail "stderr lacks /$re/: $line"
	[ -s "$XH_TMP/out" ] && fail "output on stdout for /$re/: $(cat -v "$XH_TMP/out")"
	[ "$(snap)" = "$before" ] || fail "left behind after /$re/: $(diff <(echo "$before") <(snap))"
	# (often run in a pipeline's subshell: count in a file)
	cat "$XH_TMP/err" >>"$XH_TMP/refusals"
	[ -n "${VERBOSE:-}" ] && echo "  $(cat "$XH_TMP/err")"
	return 0
}
# state ID [members]: a state JSON for the sleeper.
state() {
	printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":%s,"bundle":"/nonexistent"%s}' \
		"$1" "$sleeper" "${2:+,$2}"
}
ann() { state "$ok_id" "\"annotations\":{$1}"; }
# hook_ok: a no-op (io.xdphook.enable=false) that must succeed.
hook_ok() {
	in_ns host "$HOOK" createRuntime >"$XH_TMP/out" 2>"$XH_TMP/err" || fail "refused: $(cat -v "$XH_TMP/err")"
	[ "$(snap)" = "$before" ] || fail "a no-op changed something: $(diff <(echo "$before") <(snap))"
}

# --- size -------------------------------------------------------------------------------
big="$XH_TMP/big.json"
{ printf '{"id":"%s","status":"creating","pid":%s,"annotations":{"a":"' "$ok_id" "$sleeper"
  head -c $((10 << 20)) /dev/zero | tr '\0' a; printf '"}}'; } >"$big"
hook_fails '^xdp_hook: -: read state: input larger than 1048576 bytes$' <"$big"
# From a pipe whose writer would go on: the hook stops reading and exits.
{ cat "$big" "$big" 2>/dev/null; } | hook_fails '^xdp_hook: -: read state: input larger than 1048576 bytes$'
head -c $(( (1 << 20) + 1 )) "$big" | hook_fails 'read state: input larger than 1048576 bytes'
: | hook_fails '^xdp_hook: -: read state: state: empty$'

# --- nesting -----------------------------------------------------------------------------
deep() { printf '{"id":"%s","pid":%s,"x":' "$ok_id" "$sleeper"; printf "%*s" "$1" "" | tr ' ' '['
	 printf "%*s" "$1" "" | tr ' ' ']'; printf '}'; }
deep 100000 | hook_fails '^xdp_hook: -: read state: state: nested deeper than 32 levels$'
deep 32 | hook_fails 'nested deeper than 32 levels' # the state object is level 1
# Unbalanced, and brackets in strings (which do not count).
{ printf '{"id":"%s","x":' "$ok_id"; printf "%*s" 5000 "" | tr ' ' '{'; } | hook_fails 'read state: state: nested deeper'
ann "\"io.xdphook.enable\":\"false\",\"x\":\"$(printf "%*s" 5000 "" | tr ' ' '[')\"" | hook_ok

# --- a wrong type in every field ------------------------------------------------------------
for v in 5 null '[]' '{}' true 1.5; do
	t=$(jq -r type <<<"$v" | sed 's/^number$/integer/; s/^object$/object/')
	[ "$v" = 1.5 ] && t="fractional number"
	[ "$v" = true ] && t=boolean
	printf '{"id":%s,"pid":%s}' "$v" "$sleeper" | hook_fails "^xdp_hook: -: read state: state: \"id\" must be a string, got $t\$"
done
printf '{"pid":%s}' "$sleeper" | hook_fails '^xdp_hook: -: read state: state: no "id"$'
state "$ok_id" '"status":5' | hook_fails 'invalid JSON.*duplicate object key' # status given twice
printf '{"id":"%s","status":5,"pid":%s}' "$ok_id" "$sleeper" | hook_fails 'state: "status" must be a string, got integer$'
for v in '"12"' 1.5 true '[]' '{}' -1 4294967296 1e3; do
	printf '{"id":"%s","status":"creating","pid":%s}' "$ok_id" "$v" | hook_fails 'read state: state: "pid" (must be an integer, got|-?[0-9]+ out of range)'
done
printf '{"id":"%s","pid":%s,"bundle":5}' "$ok_id" "$sleeper" | hook_fails 'state: "bundle" must be a string, got integer'
printf '{"id":"%s","pid":%s,"bundlePath":[]}' "$ok_id" "$sleeper" | hook_fails 'state: "bundlePath" must be a string, got array'
for v in '[]' '"x"' 5 true; do
	printf '{"id":"%s","pid":%s,"annotations":%s}' "$ok_id" "$sleeper" "$v" | hook_fails 'state: "annotations" must be an object, got'
done
for v in 5 null '{}' '[]' false; do
	ann "\"io.xdphook.mode\":$v" | hook_fails 'state: annotation "io.xdphook.mode" must be a string, got'
done
ann '"evil\u001b[2J":5' | hook_fails 'state: annotation "evil\\x1b\[2J" must be a string, got integer'
printf '"just a string"' | hook_fails 'read state: state: invalid JSON at line 1'
printf '42' | hook_fails 'read state: state: invalid JSON at line 1'

# --- NUL bytes, bad UTF-8, duplicates, garbage ------------------------------------------------------
printf '{"id":"a\0b","pid":%s}' "$sleeper" | hook_fails '^xdp_hook: -: read state: state: NUL byte at offset 8$'
{ state "$ok_id"; printf '\0'; } | hook_fails 'read state: state: NUL byte at offset'
printf '\0' | hook_fails 'read state: state: NUL byte at offset 0$'
printf '{"id":"a\\u0000b","pid":%s}' "$sleeper" | hook_fails 'read state: state: invalid JSON at line 1 column [0-9]+: .*NUL'
ann '"io.xdphook.nic":"nic0\u0000evil"' | hook_fails 'read state: state: invalid JSON.*NUL'
printf '{"id":"\xff\xfe","pid":%s}' "$sleeper" | hook_fails 'read state: state: invalid JSON.*(UTF-8|byte 0xff)'
printf '{"id":"%s","id":"other","pid":%s}' "$ok_id" "$sleeper" | hook_fails 'read state: state: invalid JSON.*duplicate object key'
ann '"io.xdphook.mode":"pod","io.xdphook.mode":"host"' | hook_fails 'invalid JSON.*duplicate object key'
# Random bytes with a JSON-ish start: refused as NUL or invalid JSON, printably.
for _ in 1 2 3 4 5; do
	{ printf '{"id":"'; head -c 4096 /dev/urandom; } | hook_fails 'read state: state: (NUL byte|invalid JSON)'
done

# --- ids with path tricks, control characters, length ----------------------------------------------
for id in /etc/passwd a/b .. . .hidden -rf _x 'a b' '../../../../tmp/x' 'x/../../y' '$(reboot)' 'a*' 'é' 'a\nb' 'a\tb' 'a\u001b[31mb' 'a\rb'; do
	state "$id" | hook_fails "^xdp_hook: .*: state: container id \".*\": bad character 0x[0-9a-f]{2} at position [0-9]+"
	# teardown too: never a path outside /run/xdphook
	printf '{"id":"%s","status":"stopped"}' "$id" | hook_fails "^xdp_hook: .*: state: container id \".*\": bad character" poststop
done
state "$(printf 'a%.0s' $(seq 129))" | hook_fails 'state: container id is too long \(129 chars, at most 128\)'
state "$(printf 'a%.0s' $(seq 100000))" | hook_fails 'state: container id is too long \(100000 chars, at most 128\)'
printf '{"id":"","status":"stopped"}' | hook_fails 'state: container id is empty' poststop
# 128 characters is fine (a no-op here).
state "$(printf 'a%.0s' $(seq 128))" '"annotations":{"io.xdphook.enable":"false"}' | hook_ok

# --- what a pod author may decide: the node config's "annotations" ---------------------------
# This test's node config allows the default keys and nic; the issue's
# attack (a pod taking the NIC's traffic) is refused, naming the
# annotation and the file, before anything is created.
N="config: annotation io.xdphook.%s: not allowed by the node config $XH_NODE_CONFIG"
ann '"io.xdphook.mode":"host","io.xdphook.publish":"all","io.xdphook.nic":"nic0"' |
	hook_fails "^xdp_hook: $ok_id: $(printf "$N" mode) \(its \"annotations\" key; annotations may set: enable, nic, ips, umem_size, allowed_uids\)\$"
for k in publish reserve fastpath; do
	ann "\"io.xdphook.$k\":\"22\"" | hook_fails "$(printf "$N" $k)"
done
ann '"io.xdphook.annotations":"all"' | hook_fails "config: annotation io.xdphook.annotations: only the node config \($XH_NODE_CONFIG\) sets it"
# refused whatever the value: a hostile one reaches no parser
ann '"io.xdphook.fastpath":"\u001b[2J"' | hook_fails "$(printf "$N" fastpath)"
# No "annotations" key: the default list, without nic.
echo '{"mode":"pod"}' >"$XH_TMP/plain.json"
ann '"io.xdphook.nic":"nic0"' | XDPHOOK_CONFIG="$XH_TMP/plain.json" hook_fails \
	"not allowed by the node config $XH_TMP/plain.json .*annotations may set: enable, ips, umem_size, allowed_uids\)\$"
# An empty list: not even enable.
echo '{"annotations":[]}' >"$XH_TMP/none.json"
ann '"io.xdphook.enable":"false"' | XDPHOOK_CONFIG="$XH_TMP/none.json" hook_fails "annotations may set: none\)\$"

# The value checks below: a node that allows every key.
node_config '{"annotations": "all"}'

# --- annotations: out of range, overlapping, malformed ----------------------------------------------
host() { ann "\"io.xdphook.mode\":\"host\",\"io.xdphook.publish\":\"$1\""; }
A="^xdp_hook: $ok_id: config: annotation io.xdphook"
host '0:80' | hook_fails "$A.publish: \"0:80\": port 0 out of range 1..65535\$"
host '65536' | hook_fails "$A.publish: \"65536\": port 65536 out of range 1..65535\$"
host '80:99999/udp' | hook_fails "$A.publish: \"80:99999/udp\": port 99999 out of range"
host '99999999999999999999999' | hook_fails "$A.publish: \"9+\": port 9+ out of range"
host '-1' | hook_fails "$A.publish: \"-1\": \"\" is not a port number"
host '80/sctp' | hook_fails "$A.publish: \"80/sctp\": bad protocol \"sctp\" \\(tcp or udp\\)"
host '1-70000' | hook_fails "$A.publish: \"1-70000\": port 70000 out of range"
host '90-80' | hook_fails "$A.publish: \"90-80\": port range 90-80 runs backwards"
host '80-81:90' | hook_fails "$A.publish: \"80-81:90\": host range has 2 ports, sandbox range 1"
host '1:2:3' | hook_fails "$A.publish: \"1:2:3\": too many ':'"
host '80,,81' | hook_fails "$A.publish: \"80,,81\": empty item in the list"
host 'all,80' | hook_fails "$A.publish: \"all\": \"all\" cannot be combined"
host '8080:80,8080:81' | hook_fails "$A.publish: host port 8080/tcp published twice \\(8080:80/tcp and 8080:81/tcp\\)"
host '8080:80,8081:80' | hook_fails "$A.publish: sandbox port 80/tcp is the target of two rules"
host '8000-8010:9000-9010,8005:7005' | hook_fails "$A.publish: host port 8005/tcp published twice"
host '53/udp,1000-1100:1-101/udp,60:53/udp' | hook_fails "$A.publish: sandbox port 53/udp is the target of two rules"
host "$(seq -s, 1000 1064)" | hook_fails "$A.publish: more than 64 rules"
host '1000-5999' | hook_fails "$A.publish: 5000 ports published, at most 4096"
host "$(printf '8%.0s' $(seq 5000))" | hook_fails "$A.publish: \"8+\\.\\.\\.\": too long"
ann '"io.xdphook.mode":"host","io.xdphook.reserve":"70000"' | hook_fails "$A.reserve: \"70000\": port 70000 out of range"
ann '"io.xdphook.mode":"host","io.xdphook.reserve":"0/udp"' | hook_fails "$A.reserve: \"0/udp\": port 0 out of range"
ann '"io.xdphook.publish":"8080:80"' | hook_fails "config: annotation io.xdphook.publish applies to mode host only"
for v in 1T 0 3M -1 99999999999999999999M 512; do
	ann "\"io.xdphook.umem_size\":\"$v\"" | hook_fails "$A.umem_size: \"$v\": "
done
for v in '' -5 4294967295 root '0,,1'; do
	ann "\"io.xdphook.allowed_uids\":\"$v\"" | hook_fails "$A.allowed_uids: "
done
for v in 300.1.1.1 10.0.0.1/33 0.0.0.1 224.0.0.1 127.0.0.1 ::1 ff02::1 10.0.0.1/x; do
	ann "\"io.xdphook.ips\":\"$v\"" | hook_fails "$A.ips: \"$v\": "
done
ann '"io.xdphook.fastpath":"10.0.0.1/24"' | hook_fails "$A.fastpath: \"10.0.0.1/24\": "
ann '"io.xdphook.enable":"yes"' | hook_fails "$A.enable: \"yes\": must be true or false"
ann '"io.xdphook.mode":"Host"' | hook_fails "$A.mode: \"Host\": must be pod, host or netns"
ann '"io.xdphook.nic":"../../etc"' | hook_fails "$A.nic: \"../../etc\": character 0x2f not allowed"
ann '"io.xdphook.nic":"aaaaaaaaaaaaaaaaaaaa"' | hook_fails "$A.nic: \"a+\": interface name longer than 15"
ann '"io.xdphook.nic":"a\u001bb"' | hook_fails "$A.nic: \"a\\\\x1bb\": character 0x1b not allowed"
ann '"io.xdphook.Mode":"host"' | hook_fails "config: annotation io.xdphook.Mode: unknown key"
ann '"io.xdphook.":"x"' | hook_fails "config: annotation io.xdphook.: unknown key"
ann '"io.xdphook.\u001b[2J":"x"' | hook_fails 'config: annotation io.xdphook.\\x1b\[2J: unknown key'

# --- the node config file (XDPHOOK_CONFIG): not a file, too open, too big, bad values -------
cfg_fails() { # cfg_fails PATH REGEX
	state "$ok_id" | XDPHOOK_CONFIG="$1" hook_fails "^xdp_hook: $ok_id: config: $2"
}
C=$XH_TMP/cfg
mkdir -p "$C/dir"
mkfifo "$C/fifo" # opened without blocking, refused
cfg_fails "$C/fifo" "$C/fifo: not a regular file\$"
cfg_fails "$C/dir" "$C/dir: not a regular file\$"
ln -s /dev/zero "$C/zero"
cfg_fails "$C/zero" "$C/zero: not a regular file\$"
echo '{}' >"$C/open.json"; chmod 0666 "$C/open.json"
cfg_fails "$C/open.json" "$C/open.json: writable by every user; refusing it"
cp "$big" "$C/big.json"
cfg_fails "$C/big.json" "$C/big.json: larger than 1048576 bytes"
deep 1000 >"$C/deep.json"
cfg_fails "$C/deep.json" "$C/deep.json: nested deeper than 32 levels"
printf '{"mode":"pod"}\0' >"$C/nul.json"
cfg_fails "$C/nul.json" "$C/nul.json: NUL byte at offset 14"
cf() { printf '%s' "$2" >"$C/$1.json"; cfg_fails "$C/$1.json" "$C/$1.json: $3"; }
cf enable '{"enable":"true"}' 'enable: must be a boolean, got string'
cf umem '{"umem_size":1.5}' 'umem_size: must be .*, got fractional number'
cf uid '{"allowed_uids":[-1]}' 'allowed_uids: "-1": not a numeric uid'
cf comma '{"publish":["80,81"]}' 'publish: "80,81": one value per array item'
cf pubint '{"publish":[70000]}' 'publish: "70000": port 70000 out of range'
cf nested '{"reserve":[[22]]}' 'reserve: item 0 must be a string or an integer, got array'
cf dup '{"mode":"pod","mode":"host"}' 'invalid JSON .*duplicate object key'
cf notobj '[]' 'invalid JSON|must be a JSON object'
cf annkey '{"annotations":["mode","bogus"]}' 'annotations: "bogus": not a config key'
cf annself '{"annotations":["annotations"]}' 'annotations: "annotations": only the node config sets it'
cf annall '{"annotations":["all","mode"]}' 'annotations: "all": "all" cannot be combined with keys'
cf anntype '{"annotations":true}' 'annotations: must be a string or an array of strings, got boolean'

# The resident container's id again, for another process: refused before
# anything of the resident's is touched.
printf '{"id":"%s","status":"creating","pid":%s,"annotations":{"io.xdphook.nic":"nic0","io.xdphook.ips":"10.77.1.7/32"}}' \
	"$R" "$sleeper" | hook_fails "^xdp_hook: $R: state: a container with this id is already live \\(init pid $rpid\\)\$"

# The hook still sets up a container while hostile invocations run next
# to it (they fail before taking the node lock).
( for _ in $(seq 20); do in_ns host "$HOOK" createRuntime <"$big" >/dev/null 2>&1
	deep 100000 | in_ns host "$HOOK" createRuntime >/dev/null 2>&1; done ) &
storm=$!
at_exit "kill $storm"
R2=xht-$XH_TAG-res2
b2=$(bundle_new res2 '{"io.xdphook.ips":"10.77.1.6/32","io.xdphook.nic":"nic0"}')
ctr_create runc "$R2" "$b2" || fail "runc create during hostile invocations: $(cat "$XH_TMP/$R2.err")"
wait "$storm"
[ "$(in_ns host "$HOOK" list -json | jq -r --arg id "$R2" '.[] | select(.id == $id) | .status')" = ready ] ||
	fail "$R2 not ready: $(in_ns host "$HOOK" list -json)"
runc_ delete -f "$R2" || fail "delete $R2"
[ "$(snap)" = "$before" ] || fail "$R2 left: $(diff <(echo "$before") <(snap))"

# The resident container did not notice any of it.
[ "$(md5sum <"/run/xdphook/$R/state.json")" = "$rstate" ] || fail "the resident container's state changed"
kill -0 "$KPID" || fail "the resident keeper died"
cases=$(wc -l <"$XH_TMP/refusals")
echo "hook: $cases hostile inputs refused"

# --- hostile clients of the resident keeper ----------------------------------------------------
klog="/run/xdphook/$R/keeper.log"
bad_client() { # bad_client HOW REGEX
	r "$CLIENT" "$1" >"$XH_TMP/c-$1" 2>&1 || fail "client $1: $(cat "$XH_TMP/c-$1")"
	grep -Eq -- "^closed: $2" "$XH_TMP/c-$1" || fail "client $1: $(cat "$XH_TMP/c-$1"), want /closed: $2/"
	kill -0 "$KPID" 2>/dev/null || fail "keeper died of client '$1': $(tail -5 "$klog")"
	[ -n "${VERBOSE:-}" ] && echo "  $1: $(cat "$XH_TMP/c-$1")"
	return 0
}
# First (the keeper's log, which the test reads here, is rate limited):
# a client that never sends READY holds the endpoint for the handshake
# timeout only: meanwhile others are turned away, then it is dropped.
nsenter --net="/proc/$rpid/ns/net" "$CLIENT" silent >"$XH_TMP/c-silent" 2>&1 &
silent=$!
at_exit "kill $silent"
wait_line "$klog" "client pid $silent uid 0: socket handed over" "$silent" || fail "silent client not served: $(tail -3 "$klog")"
r "$CLIENT" refused >"$XH_TMP/refused" 2>&1 || fail "during the silent client: $(cat "$XH_TMP/refused")"
grep -q "refused: errno 16: endpoint busy: held by pid $silent" "$XH_TMP/refused" || fail "during the silent client: $(cat "$XH_TMP/refused")"
wait "$silent" || fail "silent client: $(cat "$XH_TMP/c-silent")"
grep -q '^closed: no READY within the handshake timeout' "$XH_TMP/c-silent" || fail "silent client: $(cat "$XH_TMP/c-silent")"
kill -0 "$KPID" || fail "keeper died"
bad_client garbage 'bad message: bad magic 0x[0-9a-f]{8}: not the xdphook endpoint protocol'
bad_client oversize 'bad message: message larger than 32768 bytes'
bad_client badlen 'bad message: header says 4096 payload bytes, record has 0'
bad_client hugelen 'bad message: header says 4294967295 payload bytes, record has 0'
bad_client short 'bad message: message of 3 bytes: shorter than its header'
bad_client empty 'EOF'
bad_client badversion 'bad message: protocol version 99, want 1'
bad_client badtype 'bad message: message type 77 unknown'
bad_client wrongdir 'unexpected message type 3'
bad_client twice 'unexpected message type 1'
bad_client fdsdesc 'unexpected message type 1'
bad_client withfd 'READY, but the socket is not bound'
bad_client manyfds 'READY, but the socket is not bound'
bad_client burst 'bad message: bad magic'
r "$CLIENT" flood 64 >"$XH_TMP/flood" 2>&1 || fail "flood: $(cat "$XH_TMP/flood")"
grep -Eq '^flood: 1 served, 63 refused \(endpoint busy: held by pid [0-9]+ \(uid 0\)\), 0 other$' "$XH_TMP/flood" ||
	fail "flood: $(cat "$XH_TMP/flood")"

# --- the resident container still works ------------------------------------------------------
now_fds=$(ls "/proc/$KPID/fd" | wc -l)
[ "$now_fds" -le "$kfds" ] || fail "keeper holds $now_fds fds, $kfds before the clients: $(ls -l "/proc/$KPID/fd")"
[ "$(jq -r .keeper.pid "/run/xdphook/$R/state.json")" = "$KPID" ] || fail "another keeper"
nsenter --net="/proc/$rpid/ns/net" "$ECHO" >"$XH_TMP/echo" 2>&1 &
epid=$!
at_exit "kill $epid"
wait_line "$XH_TMP/echo" ready "$epid" || fail "xdp_echo after the hostile clients: $(cat "$XH_TMP/echo")"
in_ns world ping -c 3 -i 0.2 -W 1 -q 10.77.1.5 >"$XH_TMP/ping" 2>&1 || fail "ping through the endpoint: $(cat "$XH_TMP/ping")"
kill "$epid"; wait "$epid" 2>/dev/null
pss=$(awk '/^Pss:/ {print $2}' "/proc/$KPID/smaps_rollup")

runc_ delete -f "$R" || fail "delete"
wait_gone "$KPID" || fail "keeper outlived its container"
[ "$(host_snapshot)" = "$before_all" ] || fail "teardown left: $(diff <(echo "$before_all") <(host_snapshot))"
if grep -l -E 'Sanitizer|runtime error' "$XH_TMP"/*.err "$XH_TMP"/c-* "$XH_TMP/echo" 2>/dev/null; then
	fail "sanitizer reports: $(grep -h -E -A5 'Sanitizer|runtime error' "$XH_TMP"/*.err "$XH_TMP"/c-* "$XH_TMP/echo")"
fi
pass "$cases hostile hook inputs and 17 hostile clients refused; keeper unaffected (Pss $pss kB)"
