/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp_gen's program, run by BPF_PROG_TEST_RUN in live-frames mode: each
 * run is one frame, and XDP_TX sends it out of the ingress device (the
 * kernel turns it into a redirect to that device), i.e. to the veth peer.
 *
 * Live frames come from a page pool and are recycled: whatever the
 * receiving side did to a frame (a forwarding path rewrites MACs and the
 * TTL, NAT rewrites addresses and ports) is still in the page the next
 * time it is handed to us. So every frame gets its complete headers
 * written again here, from the read-only config user space filled in
 * before loading (bench/xdp_gen.h), and its ports from a per-CPU counter.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../bench/xdp_gen.h"

const volatile struct xdp_gen_cfg cfg;

/* Where the port and size sequences are. Global, not per CPU: one
 * generator process runs the program, one run at a time, so the sequences
 * stay exact when it moves between CPUs (per-CPU copies would restart). */
struct xdp_gen_state gen_state;

struct udp_ports {
	__be16 source, dest, len, check;
};

/* Raw mode: the next kind, and frames sent per kind (read by user space
 * after the run); global for the same reason. */
__u32 raw_next;
__u64 raw_sent[XDP_GEN_KINDS_MAX];

/* The next value of a cycle 0 .. n-1 (no division in the fast path). */
static __always_inline __u32 next_in(__u32 *i, __u32 n)
{
	__u32 v = *i;

	*i = v + 1 >= n ? 0 : v + 1;
	return v;
}

/* One malformed frame of the next kind: its bytes copied whole (the frame
 * comes in XDP_GEN_RAW_MAX long), then cut to its length (at least the
 * 14 bytes the kernel insists on). */
static __always_inline int send_raw(struct xdp_md *ctx)
{
	__u32 t = next_in(&raw_next, cfg.nraw);
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 *dst = data;
	int i;

	if (t >= XDP_GEN_KINDS_MAX || data + XDP_GEN_RAW_MAX > data_end)
		return XDP_ABORTED;
#pragma unroll
	for (i = 0; i < XDP_GEN_RAW_MAX / 8; i++)
		dst[i] = ((const volatile __u64 *)cfg.raw[t].data)[i];
	if (cfg.raw[t].len < XDP_GEN_RAW_MAX &&
	    bpf_xdp_adjust_tail(ctx, (int)cfg.raw[t].len - XDP_GEN_RAW_MAX))
		return XDP_ABORTED;
	raw_sent[t]++;
	return XDP_TX;
}

SEC("xdp")
int xdp_gen(struct xdp_md *ctx)
{
	struct xdp_gen_state *st = &gen_state;
	struct udp_ports *udp;
	__u32 t = 0, sport, dport, sum;
	__u64 *dst;
	void *data, *data_end;
	int i;

	/* Attached to lo only to stay in the XDP dispatcher (see xdp_gen.c):
	 * real traffic there goes on untouched. */
	if (ctx->ingress_ifindex != cfg.ifindex)
		return XDP_PASS;
	if (cfg.nraw)
		return send_raw(ctx);

	/* IMIX 7:4:1. The kernel restores the frame's full length before
	 * each run, so shrinking is all it takes. */
	if (cfg.ntmpl == XDP_GEN_SIZES) {
		__u32 pos = next_in(&st->size_i, 12);

		t = pos < 7 ? 0 : pos < 11 ? 1 : 2;
		if (cfg.tmpl[t].len < cfg.max_len &&
		    bpf_xdp_adjust_tail(ctx, (int)cfg.tmpl[t].len - (int)cfg.max_len))
			return XDP_ABORTED;
	}

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + XDP_GEN_HDR > data_end)
		return XDP_ABORTED;

	/* Headers (and the first payload bytes) in 8-byte words. */
	dst = data;
#pragma unroll
	for (i = 0; i < XDP_GEN_HDR / 8; i++)
		dst[i] = ((const volatile __u64 *)cfg.tmpl[t].hdr)[i];

	/* udp_off is 34 or 54: inside the 64 bytes checked above. */
	udp = data + (cfg.udp_off == 54 ? 54 : 34);
	sport = cfg.sport_lo + next_in(&st->sport_i, cfg.sport_n);
	dport = cfg.dport_lo + next_in(&st->dport_i, cfg.dport_n);
	udp->source = bpf_htons(sport);
	udp->dest = bpf_htons(dport);
	/* The ports are 16-bit words of the sum like any other. */
	sum = cfg.tmpl[t].csum_base + sport + dport;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	udp->check = bpf_htons(sum ? sum : 0xffff); /* 0 means "no checksum" */
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
