/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Per-verdict counters every xdphook program keeps (see include/xdphook/stats.h). */
#ifndef XDPHOOK_BPF_STATS_H
#define XDPHOOK_BPF_STATS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <xdphook/stats.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDPHOOK_VERDICTS);
	__type(key, __u32);
	__type(value, struct xdphook_counter);
} xdphook_stats SEC(".maps");

/* Count the frame under its verdict and return the verdict, so a program
 * ends with `return count_verdict(ctx, action);`. */
static __always_inline int count_verdict(struct xdp_md *ctx, int action)
{
	__u32 key = (__u32)action;
	struct xdphook_counter *c;

	if (key >= XDPHOOK_VERDICTS)
		key = XDP_ABORTED;
	c = bpf_map_lookup_elem(&xdphook_stats, &key);
	if (c) {
		c->packets++;
		c->bytes += ctx->data_end - ctx->data;
	}
	return action;
}

#endif
