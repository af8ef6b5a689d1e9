/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xdp_loader -program tcpdump: frames of a captured queue go to that queue's
 * AF_XDP socket and not to the kernel; queues without a socket pass. */
#include "stats.h"

#define XDPHOOK_MAX_QUEUES 64

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XDPHOOK_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xdphook_xsks SEC(".maps");

SEC("xdp")
int xdphook_capture(struct xdp_md *ctx)
{
	return count_verdict(ctx, bpf_redirect_map(&xdphook_xsks, ctx->rx_queue_index, XDP_PASS));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
