#!/bin/bash
# xdp_gen (the benchmark's generator) sends exactly the frames asked for,
# and every one of them well formed: through a forwarding hop, which
# rewrites MACs and the TTL, every copy the fan-out made carries the
# generator's headers, checksums and its own ports in sequence.
. "$(dirname "$0")/lib.sh"
GEN="$BUILD/xdp_gen"
[ -x "$GEN" ] || fail "$GEN is not built"
command -v tcpdump >/dev/null || skip "tcpdump is not installed"
N=10000

# gen --g0--m0-- mid --m1--s0-- sink; mid forwards IPv4 and IPv6.
ns_new gen; ns_new mid; ns_new sink
G=xg$XH_TAG M0=xm0$XH_TAG M1=xm1$XH_TAG S=xs$XH_TAG
veth_new "$G" gen "$M0" mid
veth_new "$M1" mid "$S" sink
for n in mid sink; do
	in_ns $n sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
		net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
in_ns mid sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
in_ns mid ip addr add 10.78.0.1/24 dev "$M0"
in_ns mid ip addr add 10.78.1.1/24 dev "$M1"
in_ns sink ip addr add 10.78.1.2/24 dev "$S"
in_ns mid ip -6 addr add fd78:1::1/64 dev "$M1" nodad
in_ns sink ip -6 addr add fd78:1::2/64 dev "$S" nodad
in_ns mid ip -6 route add fd78::/64 dev "$M0"
# m0 receives XDP frames (GRO); nobody sends partial checksums.
veth_xdp_ready mid "$M0"
in_ns mid ethtool -K "$M1" tx off >/dev/null
in_ns mid ping -c 1 -W 2 -q 10.78.1.2 >/dev/null || fail "mid cannot reach sink"
in_ns mid ping -6 -c 1 -W 2 -q fd78:1::2 >/dev/null || fail "mid cannot reach sink over IPv6"
mac() { ip -n "$(ns "$1")" -j link show "$2" | jq -r '.[0].address'; }
M0_MAC=$(mac mid "$M0") M1_MAC=$(mac mid "$M1")
gen() { in_ns gen "$GEN" -i "$G" -m "$M0_MAC" "$@"; }

# Usage and errors: one line, exit 2 for usage, 1 for failures.
expect_fail 2 'usage: xdp_gen' gen -S 10.78.0.2
expect_fail 2 'xdp_gen: -m nomac: ' in_ns gen "$GEN" -i "$G" -m nomac -S 10.78.0.2 -D 10.78.1.2
expect_fail 2 'not of one address family' gen -S 10.78.0.2 -D fd78:1::2
expect_fail 1 "xdp_gen: nosuch$XH_TAG: No such device" in_ns gen "$GEN" -i "nosuch$XH_TAG" -m "$M0_MAC" -S 10.78.0.2 -D 10.78.1.2
expect_fail 2 'xdp_gen: -s 40: must be 64\.\.' gen -S 10.78.0.2 -D 10.78.1.2 -s 40

# 1. Exactly N frames, at full speed, counted by XDP_DROP on the peer.
in_ns mid "$LOADER" -program drop -device "$M0" >/dev/null || fail "attach drop"
at_exit "in_ns mid $LOADER -detach -device $M0"
out=$(gen -S 10.78.0.2 -D 10.78.1.2 -n $N) || fail "xdp_gen: $out"
grep -q "sent $N frames" <<<"$out" || fail "xdp_gen says: $out"
st=$(in_ns mid "$LOADER" -status -json | jq -c --arg d "$M0" '.[] | select(.this_netns and .device == $d) | .counters')
[ "$(jq .drop.packets <<<"$st")" = $N ] || fail "peer counted $(jq .drop.packets <<<"$st") frames, want $N"
[ "$(jq .drop.bytes <<<"$st")" = $((N * 64)) ] || fail "peer counted $(jq .drop.bytes <<<"$st") bytes, want $((N * 64))"
in_ns mid "$LOADER" -detach -device "$M0" >/dev/null || fail "detach drop"

# udp_noports PROTO(4|6): datagrams sink's kernel took for port-less UDP
# (it checks the UDP checksum first: a bad one counts as InCsumErrors).
udp_noports() {
	if [ "$1" = 4 ]; then
		in_ns sink awk '/^Udp:/ {if (h) {print $3; exit} h = 1}' /proc/net/snmp
	else
		in_ns sink awk '$1 == "Udp6NoPorts" {print $2}' /proc/net/snmp6
	fi
}
csum_errors() {
	in_ns sink awk '/^Udp:/ {if (h) {print $8; exit} h = 1}' /proc/net/snmp
	in_ns sink awk '$1 == "Udp6InCsumErrors" {print $2}' /proc/net/snmp6
}

# capture COUNT PROTO ARGS...: COUNT frames through mid to sink. The
# count is exact from sink's kernel: COUNT more port-less UDP datagrams,
# none with a bad checksum (so every frame was well formed when mid
# forwarded it and when sink took it). The content comes from a capture
# (printed as tcpdump -e -vv lines): tcpdump hands over every frame at once
# (--immediate-mode) and exits after COUNT (-c). On a loaded machine a
# packet socket can miss frames the kernel delivered: then the content
# checks run on those captured.
capture() {
	local pcap="$XH_TMP/sink.pcap" n=$1 proto=$2 p i before; shift 2
	before=$(udp_noports "$proto")
	nsenter --net="/run/netns/$(ns sink)" timeout 20 tcpdump -i "$S" -n --immediate-mode -s 1600 -B 65536 -c "$n" \
		-w "$pcap" "udp and (dst port 7 or dst portrange 1000-1009)" 2>"$XH_TMP/tcpdump.err" & p=$!
	at_exit "kill $p 2>/dev/null"
	wait_line "$XH_TMP/tcpdump.err" listening $p || fail "tcpdump did not start: $(cat "$XH_TMP/tcpdump.err")"
	gen -n "$n" "$@" >/dev/null || fail "xdp_gen $*"
	for ((i = 0; i < 100; i++)); do
		[ $(( $(udp_noports "$proto") - before )) -ge "$n" ] && break
		sleep 0.1
	done
	got=$(( $(udp_noports "$proto") - before ))
	[ "$got" = "$n" ] || fail "sink's kernel took $got of $n IPv$proto datagrams"
	[ "$(csum_errors | awk '{s += $1} END {print s + 0}')" = 0 ] || fail "sink saw bad UDP checksums: $(csum_errors | paste -sd' ')"
	wait $p
	tcpdump -r "$pcap" -n -e -vv 2>/dev/null
}
# captured FILE WANT: frames in the capture; a short capture is a NOTE.
captured() {
	local c; c=$(grep -c "udp sum ok\|bad udp" "$1")
	[ "$c" -ge $(( $2 * 9 / 10 )) ] || fail "the capture holds only $c of $2 frames: $(grep -h packets "$XH_TMP/tcpdump.err" | paste -sd' ')"
	[ "$c" = "$2" ] || echo "NOTE: the capture missed $(( $2 - c )) of $2 frames the kernel took (loaded machine)" >&2
	echo "$c"
}

# 2. IPv4 through the hop: every frame forwarded (so its MACs, TTL and
# checksum were right when mid saw it), with the ports in sequence.
capture $N 4 -S 10.78.0.2 -D 10.78.1.2 -r 8000 -p 1000-1009 -P 2000-2099 >"$XH_TMP/v4"
c=$(captured "$XH_TMP/v4" $N)
[ "$(grep -c "udp sum ok" "$XH_TMP/v4")" = "$c" ] || fail "bad UDP checksums: $(grep -m3 -v 'udp sum ok' "$XH_TMP/v4")"
[ "$(grep -c "^.*$M1_MAC > .*ttl 63,.*length 50)" "$XH_TMP/v4")" = "$c" ] ||
	fail "frames not forwarded as sent: $(grep -m3 -v "ttl 63" "$XH_TMP/v4")"
# Frame i carries ports 2000 + i % 100 -> 1000 + i % 10: in every frame
# the two agree, and along the capture the source port steps by one.
grep -o '10\.78\.0\.2\.[0-9]* > 10\.78\.1\.2\.[0-9]*' "$XH_TMP/v4" |
	awk '{split($1, s, "."); split($3, d, ".")
		if ((s[5] - 2000) % 10 != d[5] - 1000) {print "frame " NR ": " $0; bad = 1}
		if (NR > 1 && s[5] != 2000 + (prev - 2000 + 1) % 100) steps++
		prev = s[5]}
		END {if (steps > 20) {print steps " jumps"; bad = 1}; exit bad}' ||
	fail "ports out of sequence"

# 3. IPv6 IMIX through the hop: 64/576/1500-byte frames 7:4:1, all valid.
M=3000
capture $M 6 -S fd78::2 -D fd78:1::2 -r 5000 -s imix -p 7 >"$XH_TMP/v6"
c=$(captured "$XH_TMP/v6" $M)
[ "$(grep -c "udp sum ok" "$XH_TMP/v6")" = "$c" ] || fail "bad UDP checksums: $(grep -m3 -v 'udp sum ok' "$XH_TMP/v6")"
[ "$(grep -c "hlim 63," "$XH_TMP/v6")" = "$c" ] || fail "hop limit not 63 after one hop: $(grep -m3 -v 'hlim 63,' "$XH_TMP/v6")"
sizes=$(grep -o 'length [0-9]*:' "$XH_TMP/v6" | tr -dc '0-9\n' | sort -n | uniq -c | awk '{printf "%s=%s ", $2, $1}')
if [ "$c" = $M ]; then
	[ "$sizes" = "64=1750 576=1000 1500=250 " ] || fail "IMIX frame sizes (length=count): $sizes"
else
	grep -o 'length [0-9]*:' "$XH_TMP/v6" | tr -dc '0-9\n' | grep -vxE '64|576|1500' | head -3 | grep -q . &&
		fail "IMIX frame sizes (length=count): $sizes"
fi
pass
