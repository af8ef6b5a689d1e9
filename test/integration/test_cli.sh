#!/bin/bash
# The command line as a user meets it: exit codes 0/1/2, one-line errors
# that name the device and the reason, help, bpffs mounted when missing.
. "$(dirname "$0")/lib.sh"
ns_new a

"$LOADER" -help | grep -q "xdp_loader -program pass|drop -device IFACE" || fail "-help text"
"$LOADER" --help >/dev/null || fail "--help exit code"

expect_fail 2 "^xdp_loader: nothing to do" "$LOADER"
expect_fail 2 "unknown option '-bogus'" "$LOADER" -bogus
expect_fail 2 "unknown program 'fast'" "$LOADER" -program fast -device lo
expect_fail 2 "-device IFACE is required" "$LOADER" -program drop
expect_fail 2 "unknown mode 'turbo'" "$LOADER" -program drop -device lo -mode turbo
expect_fail 2 "-redirect takes FROMDEV TODEV" "$LOADER" -redirect lo
expect_fail 2 "apply to -program tcpdump" "$LOADER" -program pass -device lo -count 3
[ "$(wc -l <"$XH_TMP/err")" = 1 ] || fail "usage error is not one line: $(cat "$XH_TMP/err")"

# Missing device: failure (1), named.
for p in drop pass tcpdump; do
	expect_fail 1 "^xdp_loader: none$XH_TAG: .*no such device" in_ns a "$LOADER" -program $p -device "none$XH_TAG"
done
expect_fail 1 "^xdp_loader: none$XH_TAG: detach: no such device" in_ns a "$LOADER" -detach -device "none$XH_TAG"
[ "$(wc -l <"$XH_TMP/err")" = 1 ] || fail "error is not one line: $(cat "$XH_TMP/err")"

# -status with nothing of ours in this netns.
in_ns a "$LOADER" -status -json | jq -e '[.[] | select(.this_netns)] == []' >/dev/null || fail "status -json"

# bpffs is mounted when missing: in a private mount namespace without it.
out=$(unshare -m --propagation private sh -c '
	while mountpoint -q /sys/fs/bpf; do umount /sys/fs/bpf || exit 3; done
	"$1" -status >/dev/null || exit 4
	mountpoint -q /sys/fs/bpf || exit 5
	stat -f -c %T /sys/fs/bpf' sh "$LOADER") || fail "bpffs auto-mount (rc $?)"
[ "$out" = bpf_fs ] || fail "mounted $out at /sys/fs/bpf, not bpffs"
pass
