/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp_gen's programs: a fan-out that multiplies seed frames in XDP, and
 * the per-copy program that turns each copy into the frame asked for.
 *
 * User space sends seed frames into a veth it owns (bench/xdp_gen.c); on
 * the peer, xdp_gen_fanout broadcasts every seed over the `fanout` devmap,
 * whose entries all name the device frames leave from (DEV). The kernel
 * clones the seed once per entry and runs the entry's program,
 * xdp_gen_copy, on each clone before it is sent out of DEV, i.e. to DEV's
 * veth peer. No BPF_PROG_TEST_RUN live frames: a kernel may refuse them.
 *
 * The seed is a complete frame of the first template user space built
 * (bench/xdp_gen.h), and every copy a fresh clone of it: the program gives
 * each its ports from the sequences below and the UDP checksum; for IMIX
 * its length and the headers of that length too.
 *
 * Counters and sequences are plain globals, not per CPU and not atomic:
 * the seed veth has one queue, so one NAPI instance at a time runs the
 * fan-out and flushes the devmap, which runs the copies' programs; they
 * never run concurrently, and stay exact when NAPI moves between CPUs.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../bench/xdp_gen.h"

const volatile struct xdp_gen_cfg cfg;

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, XDP_GEN_FANOUT_MAX);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} fanout SEC(".maps");

struct xdp_gen_state gen_state;

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
int xdp_gen_fanout(struct xdp_md *ctx)
{
	/* Only our seeds: nothing else has their length here (the helper
	 * netns has no IPv6, and IPv4 without addresses sends nothing). */
	if (ctx->data_end - ctx->data != cfg.max_len)
		return XDP_DROP;
	gen_state.seeds++;
	return bpf_redirect_map(&fanout, 0, BPF_F_BROADCAST);
}

/* One malformed frame of the next kind: its bytes copied whole (the seed
 * is XDP_GEN_RAW_MAX long), then cut to its length (at least the 14 bytes
 * the kernel insists on). */
static __always_inline int make_raw(struct xdp_md *ctx)
{
	__u32 t = next_in(&gen_state.raw_next, cfg.nraw);
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 *dst = data;
	int i;

	if (t >= XDP_GEN_KINDS_MAX || data + XDP_GEN_RAW_MAX > data_end)
		return XDP_DROP;
#pragma unroll
	for (i = 0; i < XDP_GEN_RAW_MAX / 8; i++)
		dst[i] = ((const volatile __u64 *)cfg.raw[t].data)[i];
	if (cfg.raw[t].len < XDP_GEN_RAW_MAX &&
	    bpf_xdp_adjust_tail(ctx, (int)cfg.raw[t].len - XDP_GEN_RAW_MAX))
		return XDP_DROP;
	gen_state.raw_sent[t]++;
	return XDP_PASS;
}

static __always_inline int make_copy(struct xdp_md *ctx)
{
	struct xdp_gen_state *st = &gen_state;
	struct udp_ports *udp;
	__u32 t = 0, sport, dport, sum;
	__u64 *dst;
	void *data, *data_end;
	int i;

	/* -n: copies past the count are dropped here, before they take a
	 * place in the sequences, so exactly `budget` leave. Of the last
	 * seed's copies the first are dropped, not the last: the devmap
	 * flushes (wakes DEV's peer) only with its last bulk, and skips that
	 * when the program dropped the whole bulk, leaving the copies sent
	 * before it in the peer's ring. */
	__u32 left_in_seed = st->seed_left;

	/* Every seed gives exactly cfg.fanout copies, one after another. */
	if (!left_in_seed)
		left_in_seed = cfg.fanout;
	st->seed_left = left_in_seed - 1;
	if (st->copies + left_in_seed > st->budget)
		return XDP_DROP;
	st->copies++;
	if (cfg.nraw)
		return make_raw(ctx);

	/* IMIX 7:4:1: the seed is as long as the longest frame; shrinking
	 * is all it takes, and the headers of the size chosen. */
	if (cfg.ntmpl == XDP_GEN_SIZES) {
		__u32 pos = next_in(&st->size_i, 12);

		t = pos < 7 ? 0 : pos < 11 ? 1 : 2;
		if (cfg.tmpl[t].len < cfg.max_len &&
		    bpf_xdp_adjust_tail(ctx, (int)cfg.tmpl[t].len - (int)cfg.max_len))
			return XDP_DROP;
	}

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + XDP_GEN_HDR > data_end)
		return XDP_DROP;

	/* One size: the seed is the template's frame already (its copies are
	 * fresh clones). IMIX: headers in 8-byte words. */
	if (cfg.ntmpl == XDP_GEN_SIZES) {
		dst = data;
#pragma unroll
		for (i = 0; i < XDP_GEN_HDR / 8; i++)
			dst[i] = ((const volatile __u64 *)cfg.tmpl[t].hdr)[i];
	}

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
	return XDP_PASS;
}

/* On every fan-out entry: runs on each copy before DEV sends it. With
 * cfg.discard (-Z) every copy is made and then dropped: the generator's
 * own cost per frame, for the benchmark. */
SEC("xdp/devmap")
int xdp_gen_copy(struct xdp_md *ctx)
{
	int verdict = make_copy(ctx);

	return cfg.discard ? XDP_DROP : verdict;
}

/* The same code as a plain XDP program: the kernel does not test-run
 * devmap programs, so the packet-level tests run this one. */
SEC("xdp")
int xdp_gen_copy_test(struct xdp_md *ctx)
{
	return make_copy(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
