/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Header rewriting for the forwarding programs: Ethernet addresses, TTL /
 * hop limit, TCP/UDP ports, each with the incremental checksum update of
 * RFC 1624 (a forwarded frame is changed in a few bytes; summing the whole
 * segment again would cost a pass over the payload).
 *
 * Checksum arithmetic works on the 16-bit words exactly as they are stored
 * in the frame: the ones' complement sum is byte-order independent
 * (RFC 1071 2(B)), so no byte swapping is needed.
 */
#ifndef XDPHOOK_REWRITE_H
#define XDPHOOK_REWRITE_H

#include "parsing.h"

/* Fold a 32-bit sum of 16-bit words to 16 bits with end-around carry. */
static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* RFC 1624 eqn. 3: the checksum `check` after one 16-bit word it covers
 * changed from `old` to `new`: HC' = ~(~HC + ~m + m'). Unlike eqn. 2 it
 * never yields 0xffff where a full recomputation would give 0x0000, so the
 * result is bit-for-bit what recomputing the whole checksum gives. */
static __always_inline __u16 csum_replace16(__u16 check, __u16 old, __u16 new)
{
	__u32 sum = (__u16)~check + (__u16)~old + (__u32)new;

	return (__u16)~csum_fold32(sum);
}

static __always_inline int mac_equal(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] &&
	       a[3] == b[3] && a[4] == b[4] && a[5] == b[5];
}

/* Group bit of the destination: broadcast and multicast. */
static __always_inline int mac_is_multicast(const __u8 *mac)
{
	return mac[0] & 1;
}

static __always_inline void eth_set_macs(struct ethhdr *eth, const __u8 *dst,
					 const __u8 *src)
{
	__builtin_memcpy(eth->h_dest, dst, ETH_ALEN);
	__builtin_memcpy(eth->h_source, src, ETH_ALEN);
}

/* Both Ethernet addresses from `macs`, the destination's 6 bytes followed
 * by the source's (the header's own order), as three 32-bit words where
 * eth_set_macs moves 12 single bytes (struct ethhdr is packed). `macs`
 * must be 4-byte aligned; the frame need not be (XDP allows unaligned
 * packet access where the CPU does). */
static __always_inline void eth_set_macs12(struct ethhdr *eth, const __u8 *macs)
{
	const __u32 *s = (const __u32 *)macs;
	__u32 *d = (__u32 *)eth;

	d[0] = s[0];
	d[1] = s[1];
	d[2] = s[2];
}

/*
 * A note for everything below that takes a struct packet: exactly one of
 * ip4/ip6 is set for an IP packet, but the verifier cannot know that (nor
 * that a packet pointer is never NULL), so each is tested before use.
 */

/* TTL or hop limit of an IP packet; 0 when it is none. */
static __always_inline __u8 ip_ttl(const struct packet *p)
{
	if (p->ip4)
		return p->ip4->ttl;
	if (p->ip6)
		return p->ip6->hop_limit;
	return 0;
}

/* IPv4's TTL - 1, the header checksum following (TTL shares its 16-bit
 * word with the protocol). */
static __always_inline void ip4_dec_ttl(struct iphdr *iph)
{
	__u16 old, new;

	old = bpf_htons((__u16)iph->ttl << 8 | iph->protocol);
	iph->ttl--;
	new = bpf_htons((__u16)iph->ttl << 8 | iph->protocol);
	iph->check = csum_replace16(iph->check, old, new);
}

/* Forwarding one hop: TTL - 1 with the IPv4 header checksum following (TTL
 * shares its 16-bit word with the protocol), or hop limit - 1 (IPv6 has no
 * header checksum). Callers make sure the TTL is above 1 first. */
static __always_inline void ip_dec_ttl(struct packet *p)
{
	if (p->ip4)
		ip4_dec_ttl(p->ip4);
	else if (p->ip6)
		p->ip6->hop_limit--;
}

#define L4_SPORT 0 /* offsets of the ports in TCP and UDP headers */
#define L4_DPORT 2

/*
 * Set the source (off L4_SPORT) or destination (L4_DPORT) port of the TCP or
 * UDP header at l4 to `port` (host order) and fix the L4 checksum. The
 * pseudo header does not contain ports, so IPv4 and IPv6 are the same.
 *
 * UDP checksum 0 means "no checksum" (IPv4; in IPv6 it is invalid either
 * way) and stays 0; a UDP checksum that comes out as 0 is sent as 0xffff
 * (RFC 768), as a full recomputation would.
 *
 * For a header quoted inside an ICMP error only the first 8 bytes need to
 * be present (RFC 792): the TCP checksum is then fixed only when the quote
 * reaches it, and `outer` (the ICMP checksum, covering the quote) follows
 * every 16-bit word changed here. outer is NULL for a real L4 header.
 *
 * Returns 0, or -1 when the ports are not inside the frame.
 */
static __always_inline int l4_set_port(void *l4, void *end, __u8 proto, int off,
				       __u16 port, __u16 *outer)
{
	__u16 *pp = l4 + off;
	__u16 *cp;
	__u16 old, new = bpf_htons(port);
	__u16 oldc, newc;

	if ((void *)(pp + 1) > end)
		return -1;
	old = *pp;
	if (old == new)
		return 0;
	*pp = new;
	if (outer)
		*outer = csum_replace16(*outer, old, new);

	if (proto == IPPROTO_TCP)
		cp = l4 + __builtin_offsetof(struct tcphdr, check);
	else if (proto == IPPROTO_UDP)
		cp = l4 + __builtin_offsetof(struct udphdr, check);
	else
		return 0;
	if ((void *)(cp + 1) > end)
		return 0; /* a short quote: the checksum is not in it */
	oldc = *cp;
	if (proto == IPPROTO_UDP && oldc == 0)
		return 0;
	newc = csum_replace16(oldc, old, new);
	if (proto == IPPROTO_UDP && newc == 0)
		newc = 0xffff;
	*cp = newc;
	if (outer)
		*outer = csum_replace16(*outer, oldc, newc);
	return 0;
}

#endif
