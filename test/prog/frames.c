// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Frame builder for packet-level tests; see frames.h. */
#include "frames.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_ether.h>
#include <linux/if_arp.h>

const uint8_t frame_mac_src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
const uint8_t frame_mac_dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };
const struct in6_addr frame_ip6_src = { .s6_addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
const struct in6_addr frame_ip6_dst = { .s6_addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 } };

/* Fixed header sizes (wire format). */
enum {
	ETH_LEN = 14,
	VLAN_LEN = 4,
	ARP_LEN = 28,
	IP4_LEN = 20,
	IP6_LEN = 40,
	FRAG6_LEN = 8,
	TCP_LEN = 20,
	UDP_LEN = 8,
	ICMP_LEN = 8,
};

/* Where each header keeps its checksum (offset inside the header). */
enum {
	IP4_CSUM = 10,
	TCP_CSUM = 16,
	UDP_CSUM = 6,
	ICMP_CSUM = 2,
};

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("frames: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

/* --- byte access (the frame is a byte buffer: no alignment assumptions) ---- */

static void put8(uint8_t *p, uint8_t v) { p[0] = v; }
static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* --- checksums ------------------------------------------------------------ */

uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s = sum;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += get16(p + i);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	/* Fold the carries back in now so the sum can be chained. */
	while (s >> 32)
		s = (s & 0xffffffff) + (s >> 32);
	return (uint32_t)s;
}

uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t inet_csum(const void *data, size_t len)
{
	return csum_fold(csum_add(0, data, len));
}

uint16_t l4_csum_v4(uint32_t saddr, uint32_t daddr, uint8_t proto,
		    const void *l4, size_t len)
{
	uint8_t pseudo[12];
	uint32_t sum;

	/* RFC 793/768: source, destination, zero, protocol, L4 length. */
	memcpy(pseudo, &saddr, 4);
	memcpy(pseudo + 4, &daddr, 4);
	put8(pseudo + 8, 0);
	put8(pseudo + 9, proto);
	put16(pseudo + 10, (uint16_t)len);
	sum = csum_add(0, pseudo, sizeof(pseudo));
	return csum_fold(csum_add(sum, l4, len));
}

/* Addresses as 16 raw bytes: inside a frame they need not be aligned. */
static uint16_t l4_csum_v6_raw(const uint8_t *saddr, const uint8_t *daddr,
			       uint8_t proto, const void *l4, size_t len)
{
	uint8_t pseudo[40];
	uint32_t sum;

	/* RFC 8200 8.1: source, destination, 32-bit length, 3 zero bytes, next
	 * header. */
	memcpy(pseudo, saddr, 16);
	memcpy(pseudo + 16, daddr, 16);
	put32(pseudo + 32, (uint32_t)len);
	put32(pseudo + 36, proto);
	sum = csum_add(0, pseudo, sizeof(pseudo));
	return csum_fold(csum_add(sum, l4, len));
}

uint16_t l4_csum_v6(const struct in6_addr *saddr, const struct in6_addr *daddr,
		    uint8_t proto, const void *l4, size_t len)
{
	return l4_csum_v6_raw(saddr->s6_addr, daddr->s6_addr, proto, l4, len);
}

/* --- layers ----------------------------------------------------------------- */

const char *frame_kind_name(enum frame_kind kind)
{
	static const char *const names[] = {
		[FRAME_ETH] = "eth", [FRAME_VLAN] = "vlan", [FRAME_ARP] = "arp",
		[FRAME_IPV4] = "ipv4", [FRAME_IPV6] = "ipv6",
		[FRAME_IPV6_HOPOPTS] = "ipv6-hopopts", [FRAME_IPV6_DSTOPTS] = "ipv6-dstopts",
		[FRAME_IPV6_FRAG] = "ipv6-frag", [FRAME_TCP] = "tcp", [FRAME_UDP] = "udp",
		[FRAME_ICMP] = "icmp", [FRAME_ICMPV6] = "icmpv6", [FRAME_PAYLOAD] = "payload",
	};

	if ((unsigned int)kind < sizeof(names) / sizeof(names[0]) && names[kind])
		return names[kind];
	return "?";
}

/* The EtherType announcing a header of this kind, or -1 (tpid for VLAN). */
static int ethertype_of(enum frame_kind kind, uint16_t tpid)
{
	switch (kind) {
	case FRAME_VLAN: return tpid;
	case FRAME_ARP:  return ETH_P_ARP;
	case FRAME_IPV4: return ETH_P_IP;
	case FRAME_IPV6: return ETH_P_IPV6;
	default:         return -1;
	}
}

/* The IP protocol / IPv6 next header announcing this kind, or -1. */
static int ipproto_of(enum frame_kind kind)
{
	switch (kind) {
	case FRAME_IPV4:         return IPPROTO_IPIP;
	case FRAME_IPV6:         return IPPROTO_IPV6;
	case FRAME_IPV6_HOPOPTS: return IPPROTO_HOPOPTS;
	case FRAME_IPV6_DSTOPTS: return IPPROTO_DSTOPTS;
	case FRAME_IPV6_FRAG:    return IPPROTO_FRAGMENT;
	case FRAME_TCP:          return IPPROTO_TCP;
	case FRAME_UDP:          return IPPROTO_UDP;
	case FRAME_ICMP:         return IPPROTO_ICMP;
	case FRAME_ICMPV6:       return IPPROTO_ICMPV6;
	default:                 return -1;
	}
}

static bool is_ipv6_ext(enum frame_kind kind)
{
	return kind == FRAME_IPV6_HOPOPTS || kind == FRAME_IPV6_DSTOPTS ||
	       kind == FRAME_IPV6_FRAG;
}

/* Write the new layer's protocol number into the previous layer's "next"
 * field, if that one was left to be inferred. */
static void link_prev(struct frame *f, enum frame_kind kind, uint16_t tpid)
{
	struct frame_layer *prev;
	uint8_t *h;
	int id;

	if (f->nlayers == 0)
		return;
	prev = &f->layer[f->nlayers - 1];
	h = f->data + prev->off;

	switch (prev->kind) {
	case FRAME_ETH:
	case FRAME_VLAN:
		id = ethertype_of(kind, tpid);
		if (id < 0)
			die("%s cannot follow %s", frame_kind_name(kind), frame_kind_name(prev->kind));
		if (prev->auto_next)
			put16(h + (prev->kind == FRAME_ETH ? 12 : 2), (uint16_t)id);
		break;
	case FRAME_IPV4:
	case FRAME_IPV6:
	case FRAME_IPV6_HOPOPTS:
	case FRAME_IPV6_DSTOPTS:
	case FRAME_IPV6_FRAG:
		id = ipproto_of(kind);
		if (id < 0)
			die("%s cannot follow %s", frame_kind_name(kind), frame_kind_name(prev->kind));
		if (prev->auto_next)
			put8(h + (prev->kind == FRAME_IPV4 ? 9 : prev->kind == FRAME_IPV6 ? 6 : 0),
			     (uint8_t)id);
		break;
	default:
		die("%s cannot follow %s (use frame_bytes() for raw data)",
		    frame_kind_name(kind), frame_kind_name(prev->kind));
	}
	prev->auto_next = false;
}

/* Reserve len zeroed bytes for a new layer and return them. */
static uint8_t *push(struct frame *f, enum frame_kind kind, size_t len, bool auto_next)
{
	struct frame_layer *l;
	uint8_t *h;

	if (f->nlayers == FRAME_MAX_LAYERS)
		die("more than %d layers", FRAME_MAX_LAYERS);
	if (len > FRAME_MAX - f->len)
		die("frame longer than %d bytes", FRAME_MAX);
	h = f->data + f->len;
	memset(h, 0, len);
	l = &f->layer[f->nlayers++];
	l->kind = kind;
	l->off = (uint16_t)f->len;
	l->len = (uint16_t)len;
	l->auto_next = auto_next;
	f->len += len;
	return h;
}

/* Link to the previous layer, then push. */
static uint8_t *push_hdr(struct frame *f, enum frame_kind kind, size_t len,
			 bool auto_next, uint16_t tpid)
{
	link_prev(f, kind, tpid);
	return push(f, kind, len, auto_next);
}

void frame_init(struct frame *f)
{
	memset(f, 0, sizeof(*f));
}

/* --- headers ---------------------------------------------------------------- */

void frame_eth(struct frame *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	uint8_t *h;

	if (f->nlayers)
		die("eth must be the first layer");
	h = push(f, FRAME_ETH, ETH_LEN, type == 0);
	memcpy(h, dst ? dst : frame_mac_dst, 6);
	memcpy(h + 6, src ? src : frame_mac_src, 6);
	put16(h + 12, type);
}

void frame_vlan(struct frame *f, uint16_t tpid, uint16_t vid)
{
	uint8_t *h;

	if (vid > 0x0fff)
		die("vlan id %u out of range", vid);
	h = push_hdr(f, FRAME_VLAN, VLAN_LEN, true, tpid);
	put16(h, vid); /* PCP 0, DEI 0 */
}

void frame_arp(struct frame *f, uint16_t op, uint32_t sip, uint32_t tip)
{
	uint8_t *h = push_hdr(f, FRAME_ARP, ARP_LEN, false, 0);

	put16(h, ARPHRD_ETHER);
	put16(h + 2, ETH_P_IP);
	put8(h + 4, 6);
	put8(h + 5, 4);
	put16(h + 6, op);
	memcpy(h + 8, frame_mac_src, 6);
	memcpy(h + 14, &sip, 4);
	/* Target MAC stays zero: unknown in a request. */
	memcpy(h + 24, &tip, 4);
}

void frame_ipv4(struct frame *f, const struct ip4_spec *spec)
{
	static const struct ip4_spec defaults;
	const struct ip4_spec *s = spec ? spec : &defaults;
	uint32_t saddr = s->saddr ? s->saddr : htonl(FRAME_IP4_SRC);
	uint32_t daddr = s->daddr ? s->daddr : htonl(FRAME_IP4_DST);
	uint16_t frag;
	uint8_t *h;

	if (s->opt_len > 40 || s->opt_len % 4)
		die("ipv4 options of %u bytes", s->opt_len);
	if (s->frag_off > 0x1fff)
		die("ipv4 fragment offset %u out of range", s->frag_off);
	h = push_hdr(f, FRAME_IPV4, IP4_LEN + s->opt_len, s->proto == 0, 0);

	put8(h, 0x40 | (IP4_LEN + s->opt_len) / 4); /* version 4, IHL */
	put8(h + 1, s->tos);
	/* h + 2 tot_len: frame_finish() */
	put16(h + 4, s->id);
	frag = s->frag_off | (s->more_frags ? 0x2000 : 0) | (s->dont_frag ? 0x4000 : 0);
	put16(h + 6, frag);
	put8(h + 8, s->ttl ? s->ttl : 64);
	put8(h + 9, s->proto);
	/* h + 10 checksum: frame_finish() */
	memcpy(h + 12, &saddr, 4);
	memcpy(h + 16, &daddr, 4);
	/* Options: NOPs, which any receiver must accept. */
	memset(h + IP4_LEN, 1, s->opt_len);
}

static bool addr6_is_zero(const struct in6_addr *a)
{
	static const struct in6_addr zero;

	return memcmp(a, &zero, sizeof(zero)) == 0;
}

void frame_ipv6(struct frame *f, const struct ip6_spec *spec)
{
	static const struct ip6_spec defaults;
	const struct ip6_spec *s = spec ? spec : &defaults;
	uint8_t *h;

	if (s->flow_label > 0xfffff)
		die("ipv6 flow label %#x out of range", s->flow_label);
	h = push_hdr(f, FRAME_IPV6, IP6_LEN, s->nexthdr == 0, 0);

	put32(h, 6u << 28 | s->flow_label); /* version 6, traffic class 0 */
	/* h + 4 payload_len: frame_finish() */
	put8(h + 6, s->nexthdr);
	put8(h + 7, s->hop_limit ? s->hop_limit : 64);
	memcpy(h + 8, addr6_is_zero(&s->saddr) ? &frame_ip6_src : &s->saddr, 16);
	memcpy(h + 24, addr6_is_zero(&s->daddr) ? &frame_ip6_dst : &s->daddr, 16);
}

static void ipv6_options(struct frame *f, enum frame_kind kind, size_t len)
{
	uint8_t *h;

	if (len < 8 || len > 2048 || len % 8)
		die("ipv6 %s header of %zu bytes", frame_kind_name(kind), len);
	if (f->nlayers == 0 || (f->layer[f->nlayers - 1].kind != FRAME_IPV6 &&
				!is_ipv6_ext(f->layer[f->nlayers - 1].kind)))
		die("%s must follow ipv6 or an extension header", frame_kind_name(kind));
	h = push_hdr(f, kind, len, true, 0);
	put8(h + 1, (uint8_t)(len / 8 - 1));
	/* One PadN option fills the rest (RFC 8200 4.2): type 1, length. */
	put8(h + 2, 1);
	put8(h + 3, (uint8_t)(len - 4));
}

void frame_ipv6_hopopts(struct frame *f, size_t len)
{
	ipv6_options(f, FRAME_IPV6_HOPOPTS, len);
}

void frame_ipv6_dstopts(struct frame *f, size_t len)
{
	ipv6_options(f, FRAME_IPV6_DSTOPTS, len);
}

void frame_ipv6_frag(struct frame *f, uint16_t offset, bool more, uint8_t nexthdr,
		     uint32_t id)
{
	uint8_t *h;

	if (offset > 0x1fff)
		die("ipv6 fragment offset %u out of range", offset);
	if (f->nlayers == 0 || (f->layer[f->nlayers - 1].kind != FRAME_IPV6 &&
				!is_ipv6_ext(f->layer[f->nlayers - 1].kind)))
		die("ipv6-frag must follow ipv6 or an extension header");
	h = push_hdr(f, FRAME_IPV6_FRAG, FRAG6_LEN, nexthdr == 0, 0);
	put8(h, nexthdr);
	put16(h + 2, (uint16_t)(offset << 3 | (more ? 1 : 0)));
	put32(h + 4, id);
}

void frame_tcp(struct frame *f, const struct tcp_spec *s)
{
	uint8_t *h;

	if (s->opt_len > 40 || s->opt_len % 4)
		die("tcp options of %u bytes", s->opt_len);
	h = push_hdr(f, FRAME_TCP, TCP_LEN + s->opt_len, false, 0);
	put16(h, s->sport);
	put16(h + 2, s->dport);
	put32(h + 4, s->seq);
	put32(h + 8, s->ack);
	put8(h + 12, (uint8_t)((TCP_LEN + s->opt_len) / 4) << 4); /* doff */
	put8(h + 13, s->flags ? s->flags : FRAME_TCP_ACK);
	put16(h + 14, s->window ? s->window : 65535);
	/* h + 16 checksum: frame_finish(); urgent pointer 0 */
	if (s->opt_len) {
		memset(h + TCP_LEN, 1, s->opt_len); /* NOP */
		if (s->opt_len >= 4) {
			put8(h + TCP_LEN, 2);       /* MSS, length 4 */
			put8(h + TCP_LEN + 1, 4);
			put16(h + TCP_LEN + 2, 1460);
		}
	}
}

void frame_udp(struct frame *f, uint16_t sport, uint16_t dport)
{
	uint8_t *h = push_hdr(f, FRAME_UDP, UDP_LEN, false, 0);

	put16(h, sport);
	put16(h + 2, dport);
	/* length and checksum: frame_finish() */
}

static void icmp_common(struct frame *f, enum frame_kind kind, uint8_t type,
			uint8_t code, uint16_t id, uint16_t seq)
{
	uint8_t *h = push_hdr(f, kind, ICMP_LEN, false, 0);

	put8(h, type);
	put8(h + 1, code);
	put16(h + 4, id);
	put16(h + 6, seq);
}

void frame_icmp(struct frame *f, uint8_t type, uint8_t code, uint16_t id, uint16_t seq)
{
	icmp_common(f, FRAME_ICMP, type, code, id, seq);
}

void frame_icmp6(struct frame *f, uint8_t type, uint8_t code, uint16_t id, uint16_t seq)
{
	icmp_common(f, FRAME_ICMPV6, type, code, id, seq);
}

void frame_payload(struct frame *f, size_t len)
{
	uint8_t *p = push(f, FRAME_PAYLOAD, len, false);
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)i;
}

void frame_bytes(struct frame *f, const void *data, size_t len)
{
	memcpy(push(f, FRAME_PAYLOAD, len, false), data, len);
}

void frame_pad_to(struct frame *f, size_t len)
{
	if (len > FRAME_MAX)
		die("cannot pad to %zu bytes", len);
	if (len > f->len) {
		memset(f->data + f->len, 0, len - f->len);
		f->len = len;
	}
}

/* --- inspecting ------------------------------------------------------------ */

const struct frame_layer *frame_find(const struct frame *f, enum frame_kind kind, int n)
{
	int i;

	for (i = 0; i < f->nlayers; i++)
		if (f->layer[i].kind == kind && n-- == 0)
			return &f->layer[i];
	return NULL;
}

void *frame_hdr(struct frame *f, enum frame_kind kind, int n)
{
	const struct frame_layer *l = frame_find(f, kind, n);

	return l ? f->data + l->off : NULL;
}

size_t frame_end_of(const struct frame *f, bool (*keep)(enum frame_kind kind))
{
	size_t end = 0;
	int i;

	for (i = 0; i < f->nlayers; i++)
		if (keep(f->layer[i].kind))
			end = f->layer[i].off + f->layer[i].len;
	return end;
}

/* --- lengths and checksums --------------------------------------------------- */

/* The IP layer a layer belongs to: the nearest IPv4/IPv6 before it. */
static const struct frame_layer *enclosing_ip(const struct frame *f, int idx)
{
	while (--idx >= 0)
		if (f->layer[idx].kind == FRAME_IPV4 || f->layer[idx].kind == FRAME_IPV6)
			return &f->layer[idx];
	return NULL;
}

/* End of the IP packet a layer belongs to, from the IP header's own length
 * (not the frame's: Ethernet padding is not part of the packet). */
static size_t ip_end(const struct frame *f, const struct frame_layer *ip)
{
	size_t end;

	if (!ip)
		return f->len;
	if (ip->kind == FRAME_IPV4)
		end = ip->off + get16(f->data + ip->off + 2);
	else
		end = ip->off + IP6_LEN + get16(f->data + ip->off + 4);
	return end < f->len ? end : f->len;
}

/* Checksum of the L4 segment of layer idx as it stands (0 when correct). */
static uint16_t l4_sum(const struct frame *f, int idx)
{
	const struct frame_layer *l = &f->layer[idx];
	const struct frame_layer *ip = enclosing_ip(f, idx);
	const uint8_t *seg = f->data + l->off;
	size_t end = ip_end(f, ip);
	size_t len = end > l->off ? end - l->off : 0;
	const uint8_t *iph;
	uint32_t s, d;

	if (l->kind == FRAME_ICMP || !ip)
		return inet_csum(seg, len);
	iph = f->data + ip->off;
	if (ip->kind == FRAME_IPV4) {
		memcpy(&s, iph + 12, 4);
		memcpy(&d, iph + 16, 4);
		return l4_csum_v4(s, d, (uint8_t)ipproto_of(l->kind), seg, len);
	}
	return l4_csum_v6_raw(iph + 8, iph + 24, (uint8_t)ipproto_of(l->kind), seg, len);
}

static int csum_field(enum frame_kind kind)
{
	switch (kind) {
	case FRAME_TCP:    return TCP_CSUM;
	case FRAME_UDP:    return UDP_CSUM;
	case FRAME_ICMP:
	case FRAME_ICMPV6: return ICMP_CSUM;
	default:           return -1;
	}
}

void frame_fix_checksums(struct frame *f)
{
	int i;

	/* L4 first, innermost last would matter only for nested L4 layers,
	 * which the builder cannot produce; IPv4 headers do not cover L4. */
	for (i = 0; i < f->nlayers; i++) {
		struct frame_layer *l = &f->layer[i];
		uint8_t *h = f->data + l->off;
		int field = csum_field(l->kind);
		uint16_t sum;

		if (l->kind == FRAME_IPV4) {
			put16(h + IP4_CSUM, 0);
			put16(h + IP4_CSUM, inet_csum(h, l->len));
		} else if (field >= 0) {
			put16(h + field, 0);
			sum = l4_sum(f, i);
			/* UDP: 0 means "no checksum", so a real 0 is sent as
			 * 0xffff (RFC 768); the same value in ones' complement. */
			if (l->kind == FRAME_UDP && sum == 0)
				sum = 0xffff;
			put16(h + field, sum);
		}
	}
}

void frame_finish(struct frame *f)
{
	int i;

	for (i = 0; i < f->nlayers; i++) {
		struct frame_layer *l = &f->layer[i];
		uint8_t *h = f->data + l->off;
		size_t rest = f->len - l->off;

		if (rest > 0xffff)
			die("%s longer than 65535 bytes", frame_kind_name(l->kind));
		switch (l->kind) {
		case FRAME_IPV4:
			put16(h + 2, (uint16_t)rest);
			break;
		case FRAME_IPV6:
			put16(h + 4, (uint16_t)(rest - IP6_LEN));
			break;
		case FRAME_UDP:
			put16(h + 4, (uint16_t)rest);
			break;
		default:
			break;
		}
	}
	frame_fix_checksums(f);
}

bool frame_checksums_ok(const struct frame *f)
{
	int i;

	for (i = 0; i < f->nlayers; i++) {
		const struct frame_layer *l = &f->layer[i];
		const uint8_t *h = f->data + l->off;
		const struct frame_layer *ip;

		if (l->kind == FRAME_IPV4) {
			if (inet_csum(h, l->len) != 0)
				return false;
		} else if (csum_field(l->kind) >= 0) {
			ip = enclosing_ip(f, i);
			if (l->kind == FRAME_UDP && get16(h + UDP_CSUM) == 0 &&
			    ip && ip->kind == FRAME_IPV4)
				continue;
			if (l4_sum(f, i) != 0)
				return false;
		}
	}
	return true;
}
