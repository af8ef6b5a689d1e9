/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Per-device verdict counters of a program shared by several devices
 * (include/xdphook/stats.h): the program looks up the device's entry (its
 * own map, whose value starts with struct xdphook_ifcounters) and counts
 * there. The per-program counterpart is stats.h; a program includes one of
 * the two (xdp0's shared endpoint program both: xdphook_stats takes the
 * frames of no container).
 */
#ifndef XDPHOOK_BPF_IFSTATS_H
#define XDPHOOK_BPF_IFSTATS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <xdphook/stats.h>

/* Count the frame under its verdict in c and return the verdict, so a
 * program ends with `return count_verdict_in(c, ctx, action);`. */
static __always_inline int count_verdict_in(struct xdphook_ifcounters *c, struct xdp_md *ctx,
					    int action)
{
	/* 64 bits, so no zero-extension comes between the check and the use. */
	__u64 v = (__u32)action;

	if (!c)
		return action;
	if (v >= XDPHOOK_VERDICTS)
		v = XDP_ABORTED;
	/* clang folds the clamp above into a form the verifier cannot bound
	 * (checks one register, indexes with another): check again on an
	 * opaque copy, right where it indexes. */
	barrier_var(v);
	if (v >= XDPHOOK_VERDICTS)
		return action;
	c->verdict[v].packets++;
	c->verdict[v].bytes += ctx->data_end - ctx->data;
	return action;
}

#endif
