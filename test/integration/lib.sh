# Shared helpers for integration tests (sourced). Every test:
#   . "$(dirname "$0")/lib.sh"
#   ns_new world; ...; pass / fail / skip
# Names are unique per run (XH_TAG), everything made here is registered and
# removed by the EXIT trap even when the test fails.
set -u
: "${BUILD:?BUILD must point at the build directory}"
LOADER="$BUILD/xdp_loader"
XH_TAG="${XH_TAG:-$(printf '%04x' $(( ($$ ^ RANDOM) & 0xffff )))}"
XH_NETNS=()
XH_CLEANUP=()
XH_TMP=$(mktemp -d "/tmp/xht-$XH_TAG.XXXXXX")

xh_cleanup() {
	local i
	for (( i=${#XH_CLEANUP[@]}-1; i>=0; i-- )); do
		eval "${XH_CLEANUP[$i]}" >/dev/null 2>&1 || true
	done
	# Whatever a failed test left pinned for its namespaces, and the state
	# of its containers (passing tests check they left nothing themselves).
	for ns in "${XH_NETNS[@]}"; do
		nsenter --net="/run/netns/$ns" "$LOADER" -status -json 2>/dev/null |
			jq -r '.[] | select(.this_netns) | .pin_dir' 2>/dev/null | xargs -r rm -rf
	done
	rm -rf /run/xdphook/xht-"$XH_TAG"-* 2>/dev/null
	for ns in "${XH_NETNS[@]}"; do
		ip netns del "$ns" >/dev/null 2>&1 || true
	done
	rm -rf "$XH_TMP"
}
trap xh_cleanup EXIT
trap 'exit 1' INT TERM

# at_exit CMD: run CMD (a string) at cleanup, in reverse order of registration.
at_exit() { XH_CLEANUP+=("$1"); }

# node_config JSON: the node config (XDPHOOK_CONFIG) of every hook this
# test runs, directly or through a runtime (container.sh passes it on).
# The tests' containers pick their NIC (nic0) by annotation, which the
# node must allow; host-mode tests allow mode and publish too.
XH_NODE_CONFIG="$XH_TMP/node.json"
export XDPHOOK_CONFIG="$XH_NODE_CONFIG"
node_config() { echo "$1" >"$XH_NODE_CONFIG"; }
node_config '{"annotations": ["enable", "ips", "allowed_uids", "umem_size", "nic"]}'

pass() { echo "PASS: ${0##*/}${1:+: $1}"; exit 0; }
fail() { echo "FAIL: ${0##*/}: $*" >&2; exit 1; }
skip() { echo "SKIP: ${0##*/}: $*"; exit 77; }

# ns_new NAME: create netns xht-$XH_TAG-NAME with lo up and IPv6 off;
# prints nothing, sets nothing: use "$(ns NAME)" for the full name.
ns() { echo "xht-$XH_TAG-$1"; }
ns_new() {
	local n; n=$(ns "$1")
	ip netns add "$n" || fail "cannot create netns $n"
	XH_NETNS+=("$n")
	ip -n "$n" link set lo up
	in_ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}
# in_ns NAME CMD...: run CMD in the netns, keeping the host mount namespace
# (so bpffs pins stay visible; `ip netns exec` would remount /sys).
in_ns() { local n; n=$(ns "$1"); shift; nsenter --net="/run/netns/$n" "$@"; }

# ns_bg NS CMD...: CMD in the background in netns NS (a name as for in_ns,
# or a netns file: /proc/PID/ns/net), its pid in BG_PID, killed at cleanup
# on every exit path (earlier: bg_kill "$BG_PID"). nsenter execs CMD, so
# BG_PID is CMD itself; `in_ns ... &` (any function in the background)
# would give a subshell, and killing that leaves CMD running. Redirect the
# call (ns_bg NS CMD >FILE 2>&1); do not run it in $(...) or with &.
ns_bg() {
	local net=$1; shift
	[[ $net == /* ]] || net=/run/netns/$(ns "$net")
	nsenter --net="$net" "$@" &
	BG_PID=$!
	at_exit "bg_kill $BG_PID"
}
# bg_kill PID...: SIGTERM to each that is still a child of this shell (a pid
# reused by someone else is left alone), SIGKILL to one of those still
# there after ~10 s.
bg_kill() {
	local p mine=()
	for p; do
		[ "$(ps -o ppid= -p "$p" 2>/dev/null)" -eq $BASHPID ] 2>/dev/null && kill "$p" 2>/dev/null && mine+=("$p")
	done
	for p in "${mine[@]}"; do wait_gone "$p" || kill -KILL "$p" 2>/dev/null; done
	return 0
}

# veth_new NAME_A NS_A NAME_B NS_B [ip-link-args...]: veth pair, one end in
# each namespace, both up. Device names must be <= 15 chars.
veth_new() {
	local a=$1 nsa=$2 b=$3 nsb=$4; shift 4
	ip link add "$a" netns "$(ns "$nsa")" "$@" type veth peer name "$b" netns "$(ns "$nsb")" \
		|| fail "cannot create veth $a/$b"
	ip -n "$(ns "$nsa")" link set "$a" up
	ip -n "$(ns "$nsb")" link set "$b" up
}

# A veth that receives redirected XDP frames needs GRO (or an XDP program)
# on its peer; a veth that sends must not send partial checksums.
veth_xdp_ready() { in_ns "$1" ethtool -K "$2" gro on tx off >/dev/null; }

mac_of() { ip -n "$(ns "$1")" -j link show dev "$2" | jq -r '.[0].address'; }

# Bounded polling (~10 s): wait_line FILE REGEX PID -- until FILE has a line
# matching REGEX, or PID is gone.
wait_line() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || { grep -Eq -- "$2" "$1" 2>/dev/null; return; }
		sleep 0.05
	done
	return 1
}
# gone PID: not running (a zombie waiting for its reaper counts as gone).
gone() { [ ! -e "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
wait_gone() {
	local i
	for ((i = 0; i < 200; i++)); do gone "$1" && return 0; sleep 0.05; done
	return 1
}

# expect_fail RC REGEX CMD...: CMD must exit with RC and print REGEX on stderr.
expect_fail() {
	local want=$1 re=$2 rc; shift 2
	"$@" >"$XH_TMP/out" 2>"$XH_TMP/err"; rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, want $want (stderr: $(cat "$XH_TMP/err"))"
	grep -Eq -- "$re" "$XH_TMP/err" || fail "'$*' stderr lacks /$re/: $(cat "$XH_TMP/err")"
}

# pins_of_dev NS DEV: list xdphook pins for that device (by netns cookie is
# not visible from shell, so by the meta the loader shows in -status -json).
xdp_prog_id() { in_ns "$1" ip -j link show dev "$2" | grep -o '"prog":{[^}]*"id":[0-9]*' | grep -o '[0-9]*$' | head -1; }
