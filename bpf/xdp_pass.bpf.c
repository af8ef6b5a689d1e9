/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xdp_loader -program pass: every frame to the kernel stack, counted. */
#include "stats.h"

SEC("xdp")
int xdphook_pass(struct xdp_md *ctx)
{
	return count_verdict(ctx, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
