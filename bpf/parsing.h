/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Header parsing shared by every xdphook BPF program.
 *
 * Each parse_*() takes a cursor, checks the header fits before data_end,
 * advances the cursor past it and returns the next protocol (or a small
 * non-negative value); it returns -1 when the frame is truncated or the
 * header is malformed. Callers treat -1 as "cannot judge this frame" and
 * normally XDP_PASS it to the kernel.
 *
 * parse_packet() runs the whole chain and fills struct packet, the summary
 * the policy programs decide on.
 */
#ifndef XDPHOOK_PARSING_H
#define XDPHOOK_PARSING_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
/* Not <linux/icmp.h>: it pulls in <linux/if.h> and through it glibc's
 * <sys/socket.h>, which cannot be compiled for -target bpf (gnu/stubs-32.h).
 * The parser reads ICMP's type/code as bytes and needs nothing from it. */
#include <linux/icmpv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef ETH_P_8021Q
#define ETH_P_8021Q 0x8100
#endif
#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

#define PARSE_MAX_VLANS 2
#define PARSE_MAX_IPV6_EXT 6

struct hdr_cursor {
	void *pos;
	void *end;
};

struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/* IPv6 fragment header (RFC 8200 4.5). */
struct frag6_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | M flag */
	__be32 id;
};

enum frag_kind {
	FRAG_NONE = 0,
	FRAG_FIRST = 1, /* offset 0, more fragments: carries the L4 header */
	FRAG_LATER = 2, /* offset > 0: no L4 header */
};

struct packet {
	__u16 l3_proto;          /* ETH_P_* host order after VLAN tags, 0 none */
	__u8 l4_proto;           /* IPPROTO_*; 0 when not parsed */
	__u8 vlans;              /* number of VLAN tags stripped by the parser */
	__u16 vlan_id[PARSE_MAX_VLANS];
	__u8 frag;               /* enum frag_kind */
	__u8 frag_proto;         /* fragments only: IPv4 protocol, or the IPv6
	                          * fragment header's next header (the same in
	                          * every fragment of a datagram) */
	__u32 frag_id;           /* fragments only: IPv4 id / IPv6 fragment id,
	                          * host order */
	__u16 ip_hdr_len;        /* IPv4 IHL * 4, or IPv6 40 + extension headers
	                          * (16 bits: an IPv6 chain can exceed 255) */
	__u16 l3_off;            /* offsets from the start of the frame */
	__u16 l4_off;
	__u16 sport;             /* host order; ICMP: type/code in dport/sport 0 */
	__u16 dport;
	struct ethhdr *eth;
	struct iphdr *ip4;       /* exactly one of ip4/ip6 when l3 is IP */
	struct ipv6hdr *ip6;
	void *l4;                /* tcphdr/udphdr/icmphdr/icmp6hdr, or NULL */
};

static __always_inline int cursor_fits(struct hdr_cursor *c, __u32 len)
{
	return c->pos + len <= c->end;
}

/* Ethernet plus up to PARSE_MAX_VLANS 802.1Q/802.1ad tags. Returns the inner
 * EtherType (network order) or -1. */
static __always_inline int parse_ethhdr(struct hdr_cursor *c, struct packet *p)
{
	struct ethhdr *eth = c->pos;
	__be16 proto;
	int i;

	if (!cursor_fits(c, sizeof(*eth)))
		return -1;
	c->pos = eth + 1;
	p->eth = eth;
	proto = eth->h_proto;

#pragma unroll
	for (i = 0; i < PARSE_MAX_VLANS; i++) {
		struct vlan_hdr *vh = c->pos;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if (!cursor_fits(c, sizeof(*vh)))
			return -1;
		c->pos = vh + 1;
		p->vlan_id[i] = bpf_ntohs(vh->tci) & 0x0fff;
		p->vlans = i + 1;
		proto = vh->encap_proto;
	}
	/* A third tag is more than we parse: let the kernel judge it. */
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD))
		return -1;
	return proto;
}

/* IPv4 with options. Returns the L4 protocol or -1. */
static __always_inline int parse_iphdr(struct hdr_cursor *c, struct packet *p)
{
	struct iphdr *iph = c->pos;
	__u32 hlen;
	__u16 frag;

	if (!cursor_fits(c, sizeof(*iph)))
		return -1;
	if (iph->version != 4)
		return -1;
	hlen = iph->ihl * 4;
	if (hlen < sizeof(*iph) || !cursor_fits(c, hlen))
		return -1;
	if (bpf_ntohs(iph->tot_len) < hlen)
		return -1;
	c->pos += hlen;
	p->ip4 = iph;
	p->ip_hdr_len = hlen;

	frag = bpf_ntohs(iph->frag_off);
	if (frag & 0x1fff)
		p->frag = FRAG_LATER;
	else if (frag & 0x2000)
		p->frag = FRAG_FIRST;
	if (p->frag) {
		p->frag_proto = iph->protocol;
		p->frag_id = bpf_ntohs(iph->id);
	}
	return iph->protocol;
}

/* IPv6 and its extension headers (hop-by-hop, routing, destination options,
 * fragment). Returns the upper-layer protocol or -1. */
static __always_inline int parse_ip6hdr(struct hdr_cursor *c, struct packet *p)
{
	struct ipv6hdr *ip6h = c->pos;
	__u8 nexthdr;
	int i;

	if (!cursor_fits(c, sizeof(*ip6h)))
		return -1;
	if (ip6h->version != 6)
		return -1;
	c->pos = ip6h + 1;
	p->ip6 = ip6h;
	nexthdr = ip6h->nexthdr;

#pragma unroll
	for (i = 0; i < PARSE_MAX_IPV6_EXT; i++) {
		if (nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
		    nexthdr == IPPROTO_DSTOPTS) {
			__u8 *ext = c->pos;

			if (!cursor_fits(c, 2))
				return -1;
			if (!cursor_fits(c, (ext[1] + 1) * 8))
				return -1;
			nexthdr = ext[0];
			c->pos += (ext[1] + 1) * 8;
		} else if (nexthdr == IPPROTO_FRAGMENT) {
			struct frag6_hdr *fh = c->pos;
			__u16 off;

			if (!cursor_fits(c, sizeof(*fh)))
				return -1;
			c->pos = fh + 1;
			off = bpf_ntohs(fh->frag_off);
			if (off & 0xfff8)
				p->frag = FRAG_LATER;
			else if (off & 1)
				p->frag = FRAG_FIRST;
			nexthdr = fh->nexthdr;
			p->frag_proto = nexthdr;
			p->frag_id = bpf_ntohl(fh->id);
			/* A later fragment carries data from the middle of the
			 * packet: nexthdr names the first header of the
			 * fragmentable part, which is not here. */
			if (p->frag == FRAG_LATER)
				break;
		} else {
			break;
		}
	}
	if (p->frag != FRAG_LATER &&
	    (nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
	     nexthdr == IPPROTO_DSTOPTS || nexthdr == IPPROTO_FRAGMENT))
		return -1; /* longer chain than we follow */
	p->ip_hdr_len = c->pos - (void *)ip6h;
	return nexthdr;
}

static __always_inline int parse_tcphdr(struct hdr_cursor *c, struct packet *p)
{
	struct tcphdr *th = c->pos;
	__u32 len;

	if (!cursor_fits(c, sizeof(*th)))
		return -1;
	len = th->doff * 4;
	if (len < sizeof(*th) || !cursor_fits(c, len))
		return -1;
	c->pos += len;
	p->sport = bpf_ntohs(th->source);
	p->dport = bpf_ntohs(th->dest);
	return 0;
}

static __always_inline int parse_udphdr(struct hdr_cursor *c, struct packet *p)
{
	struct udphdr *uh = c->pos;

	if (!cursor_fits(c, sizeof(*uh)))
		return -1;
	if (bpf_ntohs(uh->len) < sizeof(*uh))
		return -1;
	c->pos = uh + 1;
	p->sport = bpf_ntohs(uh->source);
	p->dport = bpf_ntohs(uh->dest);
	return 0;
}

/* ICMP and ICMPv6 share the 8-byte type/code/checksum/rest layout. */
static __always_inline int parse_icmphdr(struct hdr_cursor *c, struct packet *p)
{
	__u8 *h = c->pos;

	if (!cursor_fits(c, 8))
		return -1;
	c->pos += 8;
	p->dport = h[0]; /* type */
	p->sport = h[1]; /* code */
	return 0;
}

/* Parse Ethernet/VLAN, IPv4/IPv6 and TCP/UDP/ICMP. Returns 0 when every
 * header present was parsed (including frames that are not IP, like ARP,
 * and non-first fragments, which have no L4 header), -1 when truncated or
 * malformed. */
static __always_inline int parse_packet(struct xdp_md *ctx, struct packet *p)
{
	struct hdr_cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	void *start = c.pos;
	int proto, l4;

	__builtin_memset(p, 0, sizeof(*p));
	proto = parse_ethhdr(&c, p);
	if (proto < 0)
		return -1;
	p->l3_proto = bpf_ntohs(proto);
	p->l3_off = c.pos - start;

	if (proto == bpf_htons(ETH_P_IP))
		l4 = parse_iphdr(&c, p);
	else if (proto == bpf_htons(ETH_P_IPV6))
		l4 = parse_ip6hdr(&c, p);
	else
		return 0;
	if (l4 < 0)
		return -1;
	p->l4_proto = l4;
	p->l4_off = c.pos - start;
	if (p->frag == FRAG_LATER)
		return 0;

	p->l4 = c.pos;
	switch (l4) {
	case IPPROTO_TCP:
		return parse_tcphdr(&c, p);
	case IPPROTO_UDP:
		return parse_udphdr(&c, p);
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return parse_icmphdr(&c, p);
	default:
		p->l4 = 0;
		return 0;
	}
}

#endif
