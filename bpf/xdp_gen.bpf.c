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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdp_gen_state);
} xdp_gen_state SEC(".maps");

struct udp_ports {
	__be16 source, dest, len, check;
};

/* The next value of a cycle 0 .. n-1 (no division in the fast path). */
static __always_inline __u32 next_in(__u32 *i, __u32 n)
{
	__u32 v = *i;

	*i = v + 1 >= n ? 0 : v + 1;
	return v;
}

SEC("xdp")
int xdp_gen(struct xdp_md *ctx)
{
	struct xdp_gen_state *st;
	struct udp_ports *udp;
	__u32 zero = 0, t = 0, sport, dport, sum;
	__u64 *dst;
	void *data, *data_end;
	int i;

	/* Attached to lo only to stay in the XDP dispatcher (see xdp_gen.c):
	 * real traffic there goes on untouched. */
	if (ctx->ingress_ifindex != cfg.ifindex)
		return XDP_PASS;
	st = bpf_map_lookup_elem(&xdp_gen_state, &zero);
	if (!st)
		return XDP_ABORTED;

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
