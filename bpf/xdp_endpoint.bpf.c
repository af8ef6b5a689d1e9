/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp_endpoint: on xdp0 inside the container, every frame goes to the
 * AF_XDP socket of its RX queue in `xsks`, which the keeper fills once the
 * sandbox's client is ready (include/xdphook/policy.h). Until then, or when
 * the client went away, frames go to the container's kernel stack, which
 * has no address on xdp0 and so drops them politely. The hook attaches it
 * where xdp_endpoint_shared cannot serve the container (its slot taken,
 * a kernel before 6.2, netns mode).
 */
#include "stats.h"
#include <xdphook/policy.h>

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XH_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

SEC("xdp")
int xdphook_endpt(struct xdp_md *ctx)
{
	return count_verdict(ctx, bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
