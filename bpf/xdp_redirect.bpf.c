/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xdp_loader -redirect FROM TO: every frame arriving on FROM leaves through
 * the device in slot 0 of the devmap, unchanged (a patch cable). When the
 * slot is empty (the target went away) frames go to the kernel stack. */
#include "stats.h"

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} xdphook_tx SEC(".maps");

SEC("xdp")
int xdphook_redir(struct xdp_md *ctx)
{
	return count_verdict(ctx, bpf_redirect_map(&xdphook_tx, 0, XDP_PASS));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
