/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp_gen's malformed frame kinds (xdp_gen -k): truncated frames, bad IPv4
 * header lengths, inconsistent total lengths, IPv4 and IPv6 fragments,
 * IPv6 extension header chains, VLAN tags, random garbage.
 *
 * Each kind is one fixed frame of at most XDP_GEN_RAW_MAX bytes, built
 * here in user space from the addresses given; the generator's per-copy
 * program writes it into every copy (see bpf/xdp_gen.bpf.c). Header-only, so
 * that the packet-level tests (test/prog/test_malformed.c) run exactly the
 * frames the generator sends through the hook's programs.
 *
 * Every frame has the one defect its name says and is otherwise well
 * formed: correct IPv4 header checksums over what the header claims to
 * be, lengths consistent except where they are the defect. Garbage comes
 * from a fixed-seed generator: the same bytes in every run.
 */
#ifndef XDPHOOK_BENCH_XDP_GEN_KINDS_H
#define XDPHOOK_BENCH_XDP_GEN_KINDS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "xdp_gen.h"

/* Where the frames go: Ethernet, IPv4 and IPv6 addresses (network order),
 * UDP ports (host order). */
struct xdp_gen_addrs {
	uint8_t dst_mac[6], src_mac[6];
	uint8_t src4[4], dst4[4];
	uint8_t src6[16], dst6[16];
	uint16_t sport, dport;
};

struct xdp_gen_kind {
	const char *name;
	const char *group;  /* xdp_gen -k takes a group name for all of its kinds */
	int family;         /* 4 or 6: the addresses it needs; 0: none */
	const char *what;
	/* Write the frame into buf (XDP_GEN_RAW_MAX bytes, zeroed); returns
	 * its length, XDP_GEN_RAW_MIN..XDP_GEN_RAW_MAX. */
	uint32_t (*build)(const struct xdp_gen_addrs *a, uint8_t *buf);
};

/* ---- pieces ------------------------------------------------------------------ */

static inline void xg_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t xg_sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static inline uint16_t xg_csum(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline uint8_t *xg_eth(const struct xdp_gen_addrs *a, uint8_t *p, uint16_t type)
{
	memcpy(p, a->dst_mac, 6);
	memcpy(p + 6, a->src_mac, 6);
	xg_put16(p + 12, type);
	return p + 14;
}

/* 802.1Q/802.1ad tag: the TPID goes into the EtherType before it (p - 2). */
static inline uint8_t *xg_vlan(uint8_t *p, uint16_t tpid, uint16_t vid, uint16_t inner)
{
	xg_put16(p - 2, tpid);
	xg_put16(p, vid);
	xg_put16(p + 2, inner);
	return p + 4;
}

/* IPv4 header, IHL as given (only 20 bytes written, options zero), the
 * checksum over ihl * 4 bytes of what is there (at most hdr_room). */
struct xg_ip4 {
	uint8_t ihl;
	uint16_t tot_len;
	uint16_t id;
	uint16_t frag;   /* flags and offset field as on the wire */
	uint8_t proto;
};

static inline uint8_t *xg_ip4(const struct xdp_gen_addrs *a, uint8_t *p, const struct xg_ip4 *s)
{
	size_t hl = s->ihl >= 5 ? (size_t)s->ihl * 4 : 20;

	p[0] = (uint8_t)(0x40 | s->ihl);
	xg_put16(p + 2, s->tot_len);
	xg_put16(p + 4, s->id);
	xg_put16(p + 6, s->frag);
	p[8] = 64;
	p[9] = s->proto;
	memcpy(p + 12, a->src4, 4);
	memcpy(p + 16, a->dst4, 4);
	xg_put16(p + 10, xg_csum(xg_sum16(p, hl, 0)));
	return p + 20;
}

static inline uint8_t *xg_ip6(const struct xdp_gen_addrs *a, uint8_t *p, uint8_t nexthdr,
			      uint16_t payload_len)
{
	p[0] = 0x60;
	xg_put16(p + 4, payload_len);
	p[6] = nexthdr;
	p[7] = 64;
	memcpy(p + 8, a->src6, 16);
	memcpy(p + 24, a->dst6, 16);
	return p + 40;
}

/* An 8-byte hop-by-hop / destination options header (PadN), or a type 0
 * routing header with no segments left. */
static inline uint8_t *xg_ext8(uint8_t *p, uint8_t nexthdr, int routing)
{
	p[0] = nexthdr;
	p[1] = 0;
	if (routing) {
		p[2] = 0; /* type 0, segments left 0: nothing to route */
		p[3] = 0;
	} else {
		p[2] = 1; /* PadN, 4 bytes of padding */
		p[3] = 4;
	}
	return p + 8;
}

static inline uint8_t *xg_frag6(uint8_t *p, uint8_t nexthdr, uint16_t offset, int more,
				uint32_t id)
{
	p[0] = nexthdr;
	xg_put16(p + 2, (uint16_t)(offset << 3 | (more ? 1 : 0)));
	p[4] = (uint8_t)(id >> 24);
	p[5] = (uint8_t)(id >> 16);
	p[6] = (uint8_t)(id >> 8);
	p[7] = (uint8_t)id;
	return p + 8;
}

/* UDP header and len - 8 bytes of payload (a counting pattern). */
static inline uint8_t *xg_udp(const struct xdp_gen_addrs *a, uint8_t *p, uint16_t len)
{
	xg_put16(p, a->sport);
	xg_put16(p + 2, a->dport);
	xg_put16(p + 4, len);
	for (uint16_t i = 8; i < len; i++)
		p[i] = (uint8_t)i;
	return p + len;
}

/* UDP checksum over IPv6 (where it is mandatory) for the segment at udp. */
static inline void xg_udp6_csum(const struct xdp_gen_addrs *a, uint8_t *udp, uint16_t len)
{
	uint32_t sum = xg_sum16(a->src6, 16, 0);
	uint16_t c;

	sum = xg_sum16(a->dst6, 16, sum);
	sum += len + 17;
	c = xg_csum(xg_sum16(udp, len, sum));
	xg_put16(udp + 6, c ? c : 0xffff);
}

static inline uint8_t *xg_payload(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(0xa0 + i);
	return p + len;
}

/* A whole, valid IPv4/UDP packet of udp_len bytes of UDP after the header. */
static inline uint8_t *xg_ip4_udp(const struct xdp_gen_addrs *a, uint8_t *p, uint16_t udp_len)
{
	p = xg_ip4(a, p, &(struct xg_ip4){ .ihl = 5, .tot_len = (uint16_t)(20 + udp_len),
					   .proto = 17 });
	return xg_udp(a, p, udp_len);
}

/* xorshift32, fixed seeds: garbage that is the same in every run. */
static inline void xg_random(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t x = seed;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)(x >> 11);
	}
}

#define XG_LEN(end, buf) ((uint32_t)((end) - (buf)))

/* ---- the kinds ------------------------------------------------------------------ */

/* Truncated: shorter than the headers they start. */
static inline uint32_t xg_trunc_eth(const struct xdp_gen_addrs *a, uint8_t *b)
{
	return XG_LEN(xg_eth(a, b, 0x0800), b); /* 14 bytes: the shortest XDP frame */
}

static inline uint32_t xg_trunc_ip4(const struct xdp_gen_addrs *a, uint8_t *b)
{
	xg_ip4_udp(a, xg_eth(a, b, 0x0800), 40);
	return 14 + 10; /* half an IPv4 header */
}

static inline uint32_t xg_trunc_udp4(const struct xdp_gen_addrs *a, uint8_t *b)
{
	xg_ip4_udp(a, xg_eth(a, b, 0x0800), 40);
	return 14 + 20 + 4; /* half a UDP header, tot_len says 60 */
}

static inline uint32_t xg_trunc_ip6(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *l4 = xg_ip6(a, xg_eth(a, b, 0x86dd), 17, 40);

	xg_udp(a, l4, 40);
	return 14 + 30;
}

static inline uint32_t xg_trunc_ext6(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *p = xg_ip6(a, xg_eth(a, b, 0x86dd), 0 /* hop-by-hop */, 48);

	p = xg_ext8(p, 17, 0);
	xg_udp(a, p, 40);
	return 14 + 40 + 4; /* cut inside the hop-by-hop header */
}

/* IPv4 header length: below the minimum, beyond the packet. */
static inline uint32_t xg_ihl_low(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *p = xg_ip4(a, xg_eth(a, b, 0x0800),
			    &(struct xg_ip4){ .ihl = 3, .tot_len = 50, .proto = 17 });

	return XG_LEN(xg_udp(a, p, 30), b);
}

static inline uint32_t xg_ihl_zero(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *p = xg_ip4(a, xg_eth(a, b, 0x0800),
			    &(struct xg_ip4){ .ihl = 0, .tot_len = 50, .proto = 17 });

	return XG_LEN(xg_udp(a, p, 30), b);
}

static inline uint32_t xg_ihl_past_end(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *p = xg_eth(a, b, 0x0800);

	/* 60 bytes of header claimed, 28 bytes of packet there (the checksum
	 * covers the 60 bytes, UDP header and zeros, as a receiver reading
	 * past the frame would see them). */
	xg_udp(a, p + 20, 8);
	xg_ip4(a, p, &(struct xg_ip4){ .ihl = 15, .tot_len = 28, .proto = 17 });
	return 14 + 28;
}

/* tot_len against the frame: longer, below the header, cutting the UDP header. */
static inline uint32_t xg_totlen_long(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *p = xg_ip4(a, xg_eth(a, b, 0x0800),
			    &(struct xg_ip4){ .ihl = 5, .tot_len = 1400, .proto = 17 });

	return XG_LEN(xg_udp(a, p, 40), b);
}

static inline uint32_t xg_totlen_short(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *p = xg_ip4(a, xg_eth(a, b, 0x0800),
			    &(struct xg_ip4){ .ihl = 5, .tot_len = 12, .proto = 17 });

	return XG_LEN(xg_udp(a, p, 40), b);
}

static inline uint32_t xg_totlen_cut_l4(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *p = xg_ip4(a, xg_eth(a, b, 0x0800),
			    &(struct xg_ip4){ .ihl = 5, .tot_len = 24, .proto = 17 });

	return XG_LEN(xg_udp(a, p, 40), b); /* the UDP header lies past tot_len */
}

static inline uint32_t xg_totlen_zero(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *p = xg_ip4(a, xg_eth(a, b, 0x0800),
			    &(struct xg_ip4){ .ihl = 5, .tot_len = 0, .proto = 17 });

	return XG_LEN(xg_udp(a, p, 40), b);
}

/* IPv4 fragments of one datagram (id 0x4242): first, a middle one, the
 * last one, and a first fragment too short to hold the UDP header. */
static inline uint32_t xg_frag4_first(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *p = xg_ip4(a, xg_eth(a, b, 0x0800),
			    &(struct xg_ip4){ .ihl = 5, .tot_len = 20 + 48, .id = 0x4242,
					      .frag = 0x2000, .proto = 17 });

	xg_udp(a, p, 48);
	xg_put16(p + 4, 48 + 1480); /* the datagram's UDP length */
	return XG_LEN(p + 48, b);
}

static inline uint32_t xg_frag4_middle(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *p = xg_ip4(a, xg_eth(a, b, 0x0800),
			    &(struct xg_ip4){ .ihl = 5, .tot_len = 20 + 48, .id = 0x4242,
					      .frag = 0x2000 | 6, .proto = 17 });

	return XG_LEN(xg_payload(p, 48), b);
}

static inline uint32_t xg_frag4_last(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *p = xg_ip4(a, xg_eth(a, b, 0x0800),
			    &(struct xg_ip4){ .ihl = 5, .tot_len = 20 + 40, .id = 0x4242,
					      .frag = 185, .proto = 17 });

	return XG_LEN(xg_payload(p, 40), b);
}

static inline uint32_t xg_frag4_tiny(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *p = xg_ip4(a, xg_eth(a, b, 0x0800),
			    &(struct xg_ip4){ .ihl = 5, .tot_len = 20 + 4, .id = 0x4343,
					      .frag = 0x2000, .proto = 17 });

	xg_put16(p, a->sport);
	xg_put16(p + 2, a->dport);
	return XG_LEN(p + 4, b); /* RFC 1858: the ports only, no UDP length */
}

/* IPv6 extension header chains: hop-by-hop, destination options, routing,
 * destination options before UDP (4 headers); 7 headers (more than the
 * parser follows); a hop-by-hop header claiming 2 KiB. */
static inline uint32_t xg_ext6_chain(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *ip = xg_eth(a, b, 0x86dd), *p, *udp;

	p = xg_ip6(a, ip, 0, 32 + 24);
	p = xg_ext8(p, 60, 0);
	p = xg_ext8(p, 43, 0);
	p = xg_ext8(p, 60, 1);
	udp = xg_ext8(p, 17, 0);
	p = xg_udp(a, udp, 24);
	xg_udp6_csum(a, udp, 24);
	return XG_LEN(p, b);
}

static inline uint32_t xg_ext6_long(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *p = xg_ip6(a, xg_eth(a, b, 0x86dd), 0, 7 * 8 + 16), *udp;

	p = xg_ext8(p, 60, 0);
	for (int i = 0; i < 5; i++)
		p = xg_ext8(p, 60, 0);
	udp = xg_ext8(p, 17, 0);
	p = xg_udp(a, udp, 16);
	xg_udp6_csum(a, udp, 16);
	return XG_LEN(p, b);
}

static inline uint32_t xg_ext6_past_end(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *p = xg_ip6(a, xg_eth(a, b, 0x86dd), 0, 2048);

	p[0] = 17;
	p[1] = 255; /* (255 + 1) * 8 bytes */
	p[2] = 1;
	p[3] = 4;
	return XG_LEN(xg_payload(p + 8, 40), b);
}

/* IPv6 fragments (id 0x60606060): first (behind a hop-by-hop header),
 * and a later one. */
static inline uint32_t xg_frag6_first(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *p = xg_ip6(a, xg_eth(a, b, 0x86dd), 0, 8 + 8 + 48), *udp;

	p = xg_ext8(p, 44, 0);
	udp = xg_frag6(p, 17, 0, 1, 0x60606060);
	p = xg_udp(a, udp, 48);
	xg_put16(udp + 4, 48 + 1448);
	return XG_LEN(p, b);
}

static inline uint32_t xg_frag6_later(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *p = xg_ip6(a, xg_eth(a, b, 0x86dd), 44, 8 + 40);

	p = xg_frag6(p, 17, 181, 0, 0x60606060);
	return XG_LEN(xg_payload(p, 40), b);
}

/* VLAN tags: one 802.1Q, 802.1ad + 802.1Q, three, and a tag cut short. */
static inline uint32_t xg_vlan1(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *p = xg_vlan(xg_eth(a, b, 0), 0x8100, 100, 0x0800);

	return XG_LEN(xg_ip4_udp(a, p, 30), b);
}

static inline uint32_t xg_qinq(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *p = xg_vlan(xg_eth(a, b, 0), 0x88a8, 200, 0);

	p = xg_vlan(p, 0x8100, 300, 0x86dd);
	p = xg_ip6(a, p, 17, 30);
	xg_udp(a, p, 30);
	xg_udp6_csum(a, p, 30);
	return XG_LEN(p + 30, b);
}

static inline uint32_t xg_vlan3(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *p = xg_vlan(xg_eth(a, b, 0), 0x88a8, 1, 0);

	p = xg_vlan(p, 0x8100, 2, 0);
	p = xg_vlan(p, 0x8100, 3, 0x0800);
	return XG_LEN(xg_ip4_udp(a, p, 30), b);
}

static inline uint32_t xg_vlan_trunc(const struct xdp_gen_addrs *a, uint8_t *b)
{
	xg_eth(a, b, 0x8100);
	b[14] = 0; /* half a tag */
	b[15] = 100;
	return 16;
}

/* Garbage after a proper Ethernet header: claiming IPv4 (version 4, any
 * IHL), claiming IPv6, and any EtherType. */
static inline uint32_t xg_garbage4(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *p = xg_eth(a, b, 0x0800);

	xg_random(p, 63, 0x1badb002);
	p[0] = (uint8_t)(0x40 | (p[0] & 0x0f));
	return 14 + 63;
}

static inline uint32_t xg_garbage6(const struct xdp_gen_addrs *a, uint8_t *b)
{
	uint8_t *p = xg_eth(a, b, 0x86dd);

	xg_random(p, 90, 0xdeadbeef);
	p[0] = (uint8_t)(0x60 | (p[0] & 0x0f));
	return 14 + 90;
}

static inline uint32_t xg_garbage(const struct xdp_gen_addrs *a, uint8_t *b)
{
	xg_eth(a, b, 0);
	xg_random(b + 12, 49, 0xc0ffee11);
	return 12 + 49;
}

static const struct xdp_gen_kind xdp_gen_kinds[] = {
	{ "trunc-eth", "truncated", 0, "Ethernet header only, EtherType IPv4", xg_trunc_eth },
	{ "trunc-ip4", "truncated", 4, "10 bytes of IPv4 header", xg_trunc_ip4 },
	{ "trunc-udp4", "truncated", 4, "4 bytes of UDP header", xg_trunc_udp4 },
	{ "trunc-ip6", "truncated", 6, "30 bytes of IPv6 header", xg_trunc_ip6 },
	{ "trunc-ext6", "truncated", 6, "cut inside a hop-by-hop header", xg_trunc_ext6 },
	{ "ihl-low", "ihl", 4, "IPv4 IHL 3", xg_ihl_low },
	{ "ihl-zero", "ihl", 4, "IPv4 IHL 0", xg_ihl_zero },
	{ "ihl-past-end", "ihl", 4, "IPv4 IHL 15 in a 28-byte packet", xg_ihl_past_end },
	{ "totlen-long", "totlen", 4, "IPv4 tot_len 1400 in a 60-byte packet", xg_totlen_long },
	{ "totlen-short", "totlen", 4, "IPv4 tot_len 12, below the header", xg_totlen_short },
	{ "totlen-cut-l4", "totlen", 4, "IPv4 tot_len 24: UDP header past it", xg_totlen_cut_l4 },
	{ "totlen-zero", "totlen", 4, "IPv4 tot_len 0", xg_totlen_zero },
	{ "frag4-first", "frag4", 4, "IPv4 first fragment (MF, offset 0)", xg_frag4_first },
	{ "frag4-middle", "frag4", 4, "IPv4 middle fragment (MF, offset 48)", xg_frag4_middle },
	{ "frag4-last", "frag4", 4, "IPv4 last fragment (offset 1480)", xg_frag4_last },
	{ "frag4-tiny", "frag4", 4, "IPv4 first fragment of 4 bytes (ports only)", xg_frag4_tiny },
	{ "ext6-chain", "ext6", 6, "IPv6 hop-by-hop, dstopts, routing, dstopts, UDP", xg_ext6_chain },
	{ "ext6-long", "ext6", 6, "IPv6 chain of 7 extension headers", xg_ext6_long },
	{ "ext6-past-end", "ext6", 6, "IPv6 hop-by-hop header claiming 2 KiB", xg_ext6_past_end },
	{ "frag6-first", "frag6", 6, "IPv6 hop-by-hop + first fragment", xg_frag6_first },
	{ "frag6-later", "frag6", 6, "IPv6 later fragment (offset 1448)", xg_frag6_later },
	{ "vlan", "vlan", 4, "802.1Q tag, IPv4/UDP", xg_vlan1 },
	{ "qinq", "vlan", 6, "802.1ad + 802.1Q tags, IPv6/UDP", xg_qinq },
	{ "vlan-triple", "vlan", 4, "three VLAN tags, IPv4/UDP", xg_vlan3 },
	{ "vlan-trunc", "vlan", 0, "802.1Q TPID and half a tag", xg_vlan_trunc },
	{ "garbage-ip4", "garbage", 0, "EtherType IPv4, version 4, random bytes", xg_garbage4 },
	{ "garbage-ip6", "garbage", 0, "EtherType IPv6, version 6, random bytes", xg_garbage6 },
	{ "garbage", "garbage", 0, "random EtherType and bytes", xg_garbage },
};

#define XDP_GEN_NKINDS (sizeof(xdp_gen_kinds) / sizeof(xdp_gen_kinds[0]))

/* Build kind k into buf (XDP_GEN_RAW_MAX bytes): its length. */
static inline uint32_t xdp_gen_kind_build(const struct xdp_gen_kind *k,
					  const struct xdp_gen_addrs *a, uint8_t *buf)
{
	memset(buf, 0, XDP_GEN_RAW_MAX);
	return k->build(a, buf);
}

#endif
