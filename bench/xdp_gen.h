/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp_gen: layouts shared by the generator (bench/xdp_gen.c) and its XDP
 * program (bpf/xdp_gen.bpf.c).
 *
 * User space builds each frame's first XDP_GEN_HDR bytes (Ethernet, IP and
 * UDP headers, then payload zeros) once, with both ports 0 and the UDP
 * checksum left out; the per-copy program copies them into every frame and
 * adds the ports, so only the ports and the UDP checksum are computed per
 * frame.
 */
#ifndef XDPHOOK_BENCH_XDP_GEN_H
#define XDPHOOK_BENCH_XDP_GEN_H

#include <linux/types.h>

#define XDP_GEN_HDR 64       /* copied per frame: eth + IPv6 + UDP is 62 */
#define XDP_GEN_MIN_LEN 64   /* shortest frame (without FCS) */
#define XDP_GEN_SIZES 3      /* IMIX: 64, 576, 1500 bytes, 7:4:1 */
#define XDP_GEN_FANOUT_MAX 32 /* copies per seed frame */

struct xdp_gen_tmpl {
	__u8 hdr[XDP_GEN_HDR];
	/* Ones' complement sum (not folded) of the UDP pseudo header, UDP
	 * header and payload with both ports 0: add the ports, fold, invert. */
	__u32 csum_base;
	__u32 len;           /* frame length, without FCS */
};

/* Malformed frame kinds (xdp_gen -k, bench/xdp_gen_kinds.h): whole
 * frames of up to XDP_GEN_RAW_MAX bytes, sent in turn, as they are. */
#define XDP_GEN_RAW_MAX 128
#define XDP_GEN_RAW_MIN 14   /* the kernel's shortest XDP frame: Ethernet */
#define XDP_GEN_KINDS_MAX 32

struct xdp_gen_raw {
	__u8 data[XDP_GEN_RAW_MAX];
	__u32 len;
	__u32 pad;
};

struct xdp_gen_cfg {
	struct xdp_gen_tmpl tmpl[XDP_GEN_SIZES];
	__u32 ntmpl;         /* 1, or XDP_GEN_SIZES for IMIX */
	__u32 max_len;       /* the frame the kernel hands in: the longest template */
	__u32 fanout;        /* copies per seed: the fan-out map's entries */
	__u32 discard;       /* -Z: make every copy, then drop it */
	__u32 udp_off;       /* offset of the UDP header: 34 (IPv4) or 54 (IPv6) */
	__u32 sport_lo, sport_n; /* ports lo .. lo + n - 1, host order */
	__u32 dport_lo, dport_n;
	__u32 nraw;          /* > 0: send raw[0 .. nraw - 1] in turn, nothing else */
	/* 8-byte aligned: the program copies them in 8-byte words */
	struct xdp_gen_raw raw[XDP_GEN_KINDS_MAX] __attribute__((aligned(8)));
};

/* The programs' counters and sequences (their .bss; user space reads
 * them through the mmapped section and sets budget before attaching). */
struct xdp_gen_state {
	__u64 budget;        /* copies to send at most */
	__u64 copies;        /* copies that left (<= budget) */
	__u64 seeds;         /* seed frames the fan-out saw */
	__u32 seed_left;     /* copies of the current seed still to come */
	__u32 sport_i, dport_i, size_i;
	__u32 raw_next;      /* -k: the next kind */
	__u64 raw_sent[XDP_GEN_KINDS_MAX]; /* -k: copies sent per kind */
};

#endif
