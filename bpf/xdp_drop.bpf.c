/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xdp_loader -program drop: every frame dropped, counted. */
#include "stats.h"

SEC("xdp")
int xdphook_drop(struct xdp_md *ctx)
{
	return count_verdict(ctx, XDP_DROP);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
