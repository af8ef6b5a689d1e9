/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Packet summaries like `tcpdump -n -e`.
 *
 * Safety model: the frame is untrusted. All input goes through struct view
 * (a pointer and the number of bytes that may be read) and the u8_at() /
 * be16_at() / be32_at() accessors, which return 0 for any byte outside the
 * view instead of reading it. Decoders check has() first so that truncated
 * frames print "[|proto]" rather than zeros, but a missed check yields a
 * wrong line, never an out-of-bounds read. Sub-views are clamped to their
 * parent, and every loop consumes input, so the work is bounded by len.
 *
 * Output goes through put(), an snprintf-like accumulator that never writes
 * past the buffer and keeps counting, so the return value says how long the
 * whole line would have been.
 */
#include "pktprint.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define ETH_HLEN_ 14
#define ETH_MIN_TYPE 0x0600 /* below: an 802.3 length field, not a type */

#define ETYPE_IPV4 0x0800
#define ETYPE_ARP 0x0806
#define ETYPE_IPV6 0x86dd
#define ETYPE_8021Q 0x8100
#define ETYPE_8021AD 0x88a8
#define ETYPE_QINQ_9100 0x9100

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

/* IPv6 extension headers we walk (RFC 8200 4.1). */
#define NH_HOPOPTS 0
#define NH_ROUTING 43
#define NH_FRAGMENT 44
#define NH_AH 51
#define NH_DSTOPTS 60
#define IP6_MAX_EXT 16 /* more than any sane packet; the walk is bounded by len anyway */

/* ------------------------------------------------------------------------ */
/* output */

struct out {
	char *buf;
	size_t size;
	size_t len; /* length of the whole line so far, even past size */
};

static void __attribute__((format(printf, 2, 3))) put(struct out *o, const char *fmt, ...)
{
	size_t room = o->len < o->size ? o->size - o->len : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

/* ------------------------------------------------------------------------ */
/* input */

struct view {
	const uint8_t *p;
	size_t len;
};

static bool has(const struct view *v, size_t n)
{
	return v->len >= n;
}

static uint8_t u8_at(const struct view *v, size_t off)
{
	return off < v->len ? v->p[off] : 0;
}

static uint16_t be16_at(const struct view *v, size_t off)
{
	return (uint16_t)(u8_at(v, off) << 8 | u8_at(v, off + 1));
}

static uint32_t be32_at(const struct view *v, size_t off)
{
	return (uint32_t)be16_at(v, off) << 16 | be16_at(v, off + 2);
}

/* Bytes [off, off + n) of v, clamped to what v holds (possibly empty). */
static struct view sub(const struct view *v, size_t off, size_t n)
{
	struct view s = { v->p, 0 };

	if (off >= v->len)
		return s;
	s.p = v->p + off;
	s.len = v->len - off < n ? v->len - off : n;
	return s;
}

static struct view rest_of(const struct view *v, size_t off)
{
	return sub(v, off, SIZE_MAX);
}

/* ------------------------------------------------------------------------ */
/* addresses */

#define MAC_STRLEN 18

static void fmt_mac(char s[MAC_STRLEN], const struct view *v, size_t off)
{
	snprintf(s, MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", u8_at(v, off), u8_at(v, off + 1),
		 u8_at(v, off + 2), u8_at(v, off + 3), u8_at(v, off + 4), u8_at(v, off + 5));
}

static bool nonzero(const struct view *v, size_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (u8_at(v, off + i))
			return true;
	return false;
}

struct addrs {
	char src[INET6_ADDRSTRLEN];
	char dst[INET6_ADDRSTRLEN];
};

static void fmt_ip4(char s[INET6_ADDRSTRLEN], const struct view *v, size_t off)
{
	snprintf(s, INET6_ADDRSTRLEN, "%u.%u.%u.%u", u8_at(v, off), u8_at(v, off + 1),
		 u8_at(v, off + 2), u8_at(v, off + 3));
}

static void fmt_ip6(char s[INET6_ADDRSTRLEN], const struct view *v, size_t off)
{
	struct in6_addr a;

	/* Byte by byte: the frame may be anywhere, in6_addr is aligned. */
	for (size_t i = 0; i < sizeof(a.s6_addr); i++)
		a.s6_addr[i] = u8_at(v, off + i);
	if (!inet_ntop(AF_INET6, &a, s, INET6_ADDRSTRLEN))
		snprintf(s, INET6_ADDRSTRLEN, "?");
}

/* ------------------------------------------------------------------------ */
/* names */

struct name {
	unsigned int num;
	const char *name;
};

static const char *lookup(const struct name *t, size_t n, unsigned int num, const char *dflt)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].num == num)
			return t[i].name;
	return dflt;
}

/* tcpdump's spelling, so lines compare with what operators know. */
static const struct name ethertypes[] = {
	{ ETYPE_IPV4, "IPv4" },
	{ ETYPE_ARP, "ARP" },
	{ ETYPE_IPV6, "IPv6" },
	{ ETYPE_8021Q, "802.1Q" },
	{ ETYPE_8021AD, "802.1Q-QinQ" },
	{ ETYPE_QINQ_9100, "802.1Q-9100" },
	{ 0x8035, "Reverse ARP" },
	{ 0x8809, "Slow Protocols" },
	{ 0x8847, "MPLS unicast" },
	{ 0x8848, "MPLS multicast" },
	{ 0x8863, "PPPoE D" },
	{ 0x8864, "PPPoE S" },
	{ 0x888e, "EAPOL" },
	{ 0x88cc, "LLDP" },
	{ 0x88e5, "MACsec" },
	{ 0x88f7, "PTP" },
	{ 0x8902, "CFM" },
	{ 0x9000, "Loopback" },
};

static bool is_vlan(uint16_t type)
{
	return type == ETYPE_8021Q || type == ETYPE_8021AD || type == ETYPE_QINQ_9100;
}

/* Ethertypes whose payload we decode (the line goes on after ": "). */
static bool decoded(uint16_t type)
{
	return is_vlan(type) || type == ETYPE_IPV4 || type == ETYPE_IPV6 || type == ETYPE_ARP;
}

static const struct name ipprotos[] = {
	{ 2, "IGMP" },   { 4, "IPIP" }, { 41, "IP6" }, { 47, "GRE" },   { 50, "ESP" },
	{ 51, "AH" },    { 89, "OSPF" }, { 103, "PIM" }, { 112, "VRRP" }, { 132, "SCTP" },
};

static const struct name icmp6_types[] = {
	{ 1, "destination unreachable" },
	{ 3, "time exceeded in-transit" },
	{ 4, "parameter problem" },
	{ 130, "multicast listener query" },
	{ 131, "multicast listener report" },
	{ 132, "multicast listener done" },
	{ 133, "router solicitation" },
	{ 134, "router advertisement" },
	{ 137, "redirect" },
	{ 143, "multicast listener report v2" },
};

/* ------------------------------------------------------------------------ */
/* layer 4 */

static void print_tcp(struct out *o, const struct addrs *a, const struct view *v, uint32_t plen)
{
	static const char letters[] = "FSRP.UEW"; /* bit 0 .. bit 7, tcpdump's order */
	char flags[sizeof(letters)];
	uint32_t seq, ack, dlen;
	unsigned int doff, fl, n = 0;

	if (!has(v, 4)) {
		put(o, "%s > %s: [|tcp]", a->src, a->dst);
		return;
	}
	put(o, "%s.%u > %s.%u: ", a->src, be16_at(v, 0), a->dst, be16_at(v, 2));
	if (!has(v, 20)) {
		put(o, "[|tcp]");
		return;
	}
	seq = be32_at(v, 4);
	ack = be32_at(v, 8);
	doff = (u8_at(v, 12) >> 4) * 4u;
	fl = u8_at(v, 13);
	if (doff < 20) {
		put(o, "[bad hdr length %u - too short, < 20]", doff);
		return;
	}
	if (doff > plen) {
		put(o, "[bad hdr length %u - too long, > %u]", doff, plen);
		return;
	}
	dlen = plen - doff;
	for (unsigned int i = 0; i < 8; i++)
		if (fl & (1u << i))
			flags[n++] = letters[i];
	flags[n] = '\0';
	put(o, "Flags [%s]", n ? flags : "none");
	if (dlen || (fl & (TCP_SYN | TCP_FIN | TCP_RST))) {
		put(o, ", seq %u", seq);
		if (dlen)
			put(o, ":%u", seq + dlen);
	}
	if (fl & TCP_ACK)
		put(o, ", ack %u", ack);
	put(o, ", win %u", be16_at(v, 14));
	if (fl & TCP_URG)
		put(o, ", urg %u", be16_at(v, 18));
	put(o, ", length %u", dlen);
}

/* first_frag: the datagram continues in later fragments, so its length
 * field may exceed this packet. */
static void print_udp(struct out *o, const struct addrs *a, const struct view *v, uint32_t plen,
		      bool first_frag)
{
	unsigned int ulen;

	if (!has(v, 4)) {
		put(o, "%s > %s: [|udp]", a->src, a->dst);
		return;
	}
	put(o, "%s.%u > %s.%u: ", a->src, be16_at(v, 0), a->dst, be16_at(v, 2));
	if (!has(v, 8)) {
		put(o, "[|udp]");
		return;
	}
	ulen = be16_at(v, 4);
	if (ulen < 8)
		put(o, "UDP, bad length %u < 8", ulen);
	else if (ulen > plen && !first_frag)
		put(o, "UDP, bad length %u > %u", ulen - 8, plen - 8);
	else
		put(o, "UDP, length %u", ulen - 8);
}

static void print_icmp(struct out *o, const struct view *v, uint32_t plen)
{
	unsigned int type;

	if (!has(v, 4)) {
		put(o, "ICMP [|icmp]");
		return;
	}
	type = u8_at(v, 0);
	if (type != 0 && type != 8) {
		put(o, "ICMP type %u, code %u, length %u", type, u8_at(v, 1), plen);
		return;
	}
	put(o, "ICMP echo %s", type == 8 ? "request" : "reply");
	if (!has(v, 8)) {
		put(o, " [|icmp]");
		return;
	}
	put(o, ", id %u, seq %u, length %u", be16_at(v, 4), be16_at(v, 6), plen);
}

static void print_icmp6(struct out *o, const struct view *v, uint32_t plen)
{
	char tgt[INET6_ADDRSTRLEN];
	unsigned int type;

	if (!has(v, 4)) {
		put(o, "ICMP6 [|icmp6]");
		return;
	}
	type = u8_at(v, 0);
	switch (type) {
	case 128:
	case 129:
		put(o, "ICMP6, echo %s", type == 128 ? "request" : "reply");
		if (!has(v, 8)) {
			put(o, " [|icmp6]");
			return;
		}
		put(o, ", id %u, seq %u", be16_at(v, 4), be16_at(v, 6));
		break;
	case 135:
	case 136:
		put(o, "ICMP6, neighbor %s", type == 135 ? "solicitation" : "advertisement");
		if (!has(v, 24)) {
			put(o, " [|icmp6]");
			return;
		}
		fmt_ip6(tgt, v, 8);
		put(o, ", %s %s", type == 135 ? "who has" : "tgt is", tgt);
		break;
	case 2:
		put(o, "ICMP6, packet too big");
		if (!has(v, 8)) {
			put(o, " [|icmp6]");
			return;
		}
		put(o, ", mtu %u", be32_at(v, 4));
		break;
	default: {
		const char *name = lookup(icmp6_types, ARRAY_SIZE(icmp6_types), type, NULL);

		if (name)
			put(o, "ICMP6, %s", name);
		else
			put(o, "ICMP6, type %u, code %u", type, u8_at(v, 1));
	}
	}
	put(o, ", length %u", plen);
}

/* The upper layer of an IPv4 or IPv6 packet, plen bytes on the wire.
 * addrs_done: the IP layer already printed "src > dst: " (IPv6 with
 * extension headers; TCP and UDP print the addresses again with their ports,
 * like tcpdump). first_frag: more fragments follow. */
static void print_l4(struct out *o, const struct addrs *a, unsigned int proto,
		     const struct view *v, uint32_t plen, bool addrs_done, bool first_frag)
{
	const char *name;

	if (proto == IPPROTO_TCP) {
		print_tcp(o, a, v, plen);
		return;
	}
	if (proto == IPPROTO_UDP) {
		print_udp(o, a, v, plen, first_frag);
		return;
	}
	if (!addrs_done)
		put(o, "%s > %s: ", a->src, a->dst);
	switch (proto) {
	case IPPROTO_ICMP:
		print_icmp(o, v, plen);
		break;
	case IPPROTO_ICMPV6:
		print_icmp6(o, v, plen);
		break;
	default:
		name = lookup(ipprotos, ARRAY_SIZE(ipprotos), proto, NULL);
		if (name)
			put(o, "%s, length %u", name, plen);
		else
			put(o, "ip-proto-%u %u", proto, plen);
	}
}

/* ------------------------------------------------------------------------ */
/* layer 3 */

static void print_ip4(struct out *o, const struct view *v)
{
	unsigned int ihl, tot, frag, off, id, proto;
	struct addrs a;
	struct view l4;
	bool mf;

	if (!has(v, 20)) {
		put(o, "[|ip]");
		return;
	}
	if (u8_at(v, 0) >> 4 != 4) {
		put(o, "bad-version %u", u8_at(v, 0) >> 4);
		return;
	}
	ihl = (u8_at(v, 0) & 0x0f) * 4u;
	tot = be16_at(v, 2);
	if (ihl < 20) {
		put(o, "bad-hlen %u", ihl);
		return;
	}
	if (tot < ihl) {
		put(o, "bad-len %u", tot);
		return;
	}
	if (!has(v, ihl)) { /* options cut off */
		put(o, "[|ip]");
		return;
	}
	id = be16_at(v, 4);
	frag = be16_at(v, 6);
	off = (frag & 0x1fff) * 8u;
	mf = frag & 0x2000;
	proto = u8_at(v, 9);
	fmt_ip4(a.src, v, 12);
	fmt_ip4(a.dst, v, 16);
	/* The payload ends where the header says (Ethernet padding follows),
	 * or earlier if the capture was cut. */
	l4 = sub(v, ihl, tot - ihl);

	if (off) { /* later fragment: no upper-layer header in here */
		put(o, "%s > %s: ip-proto-%u (frag %u:%u@%u%s)", a.src, a.dst, proto, id, tot - ihl, off,
		    mf ? "+" : "");
		return;
	}
	if (tot > v->len)
		put(o, "truncated-ip - %zu bytes missing! ", tot - v->len);
	print_l4(o, &a, proto, &l4, tot - ihl, false, mf);
	if (mf)
		put(o, " (frag %u:%u@0+)", id, tot - ihl);
}

/* tcpdump's labels for the extension headers it walks. */
static const char *ext_name(unsigned int nh)
{
	switch (nh) {
	case NH_HOPOPTS:
		return "HBH";
	case NH_ROUTING:
		return "srcrt";
	case NH_AH:
		return "AH";
	default:
		return "DSTOPT";
	}
}

static void print_ip6(struct out *o, const struct view *v)
{
	struct view rest;
	struct addrs a;
	uint32_t wire; /* payload bytes on the wire from rest.p on; rest.len <= wire */
	unsigned int nh, hl;
	bool addrs_done = false, first_frag = false;

	if (!has(v, 40)) {
		put(o, "[|ip6]");
		return;
	}
	if (u8_at(v, 0) >> 4 != 6) {
		put(o, "bad-version %u", u8_at(v, 0) >> 4);
		return;
	}
	wire = be16_at(v, 4);
	nh = u8_at(v, 6);
	fmt_ip6(a.src, v, 8);
	fmt_ip6(a.dst, v, 24);
	rest = sub(v, 40, wire);

	for (int i = 0; i < IP6_MAX_EXT; i++) {
		if (nh != NH_HOPOPTS && nh != NH_ROUTING && nh != NH_DSTOPTS && nh != NH_AH &&
		    nh != NH_FRAGMENT) {
			print_l4(o, &a, nh, &rest, wire, addrs_done, first_frag);
			return;
		}
		if (!addrs_done) {
			put(o, "%s > %s: ", a.src, a.dst);
			addrs_done = true;
		}
		if (nh == NH_FRAGMENT) {
			unsigned int offset;

			if (!has(&rest, 8)) {
				put(o, "[|frag]");
				return;
			}
			nh = u8_at(&rest, 0);
			offset = be16_at(&rest, 2) & 0xfff8;
			first_frag = be16_at(&rest, 2) & 1;
			rest = rest_of(&rest, 8);
			wire -= 8;
			put(o, "frag (%u|%u)", offset, wire);
			if (offset) /* later fragment: nothing more to decode */
				return;
			put(o, " ");
			continue;
		}
		if (!has(&rest, 2)) {
			put(o, "[|ip6]");
			return;
		}
		/* AH counts 4-byte units minus 2, the others 8-byte units minus 1. */
		hl = nh == NH_AH ? (u8_at(&rest, 1) + 2u) * 4 : (u8_at(&rest, 1) + 1u) * 8;
		put(o, "%s ", ext_name(nh));
		if (!has(&rest, hl)) {
			put(o, "[|ip6]");
			return;
		}
		nh = u8_at(&rest, 0);
		rest = rest_of(&rest, hl);
		wire -= hl;
	}
	put(o, "[|ip6]"); /* absurdly many extension headers */
}

static void print_arp(struct out *o, const struct view *v)
{
	char sha[MAC_STRLEN], tha[MAC_STRLEN], spa[INET6_ADDRSTRLEN], tpa[INET6_ADDRSTRLEN];
	unsigned int htype, ptype, hln, pln, op;

	if (!has(v, 8)) {
		put(o, "[|arp]");
		return;
	}
	htype = be16_at(v, 0);
	ptype = be16_at(v, 2);
	hln = u8_at(v, 4);
	pln = u8_at(v, 5);
	op = be16_at(v, 6);
	if (htype != 1 || ptype != ETYPE_IPV4 || hln != 6 || pln != 4) {
		put(o, "htype %u, ptype 0x%04x, hlen %u, plen %u, opcode %u, length %zu", htype, ptype,
		    hln, pln, op, v->len);
		return;
	}
	if (!has(v, 28)) {
		put(o, "[|arp]");
		return;
	}
	fmt_mac(sha, v, 8);
	fmt_ip4(spa, v, 14);
	fmt_mac(tha, v, 18);
	fmt_ip4(tpa, v, 24);
	switch (op) {
	case 1:
		put(o, "Request who-has %s", tpa);
		if (nonzero(v, 18, 6))
			put(o, " (%s)", tha);
		put(o, " tell %s", spa);
		break;
	case 2:
		put(o, "Reply %s is-at %s", spa, sha);
		break;
	case 3:
		put(o, "Reverse Request who-is %s tell %s", tha, sha);
		break;
	case 4:
		put(o, "Reverse Reply %s at %s", tha, tpa);
		break;
	default:
		put(o, "Unknown (%u)", op);
	}
	put(o, ", length %zu", v->len);
}

static void print_llc(struct out *o, const struct view *v)
{
	if (!has(v, 3)) {
		put(o, "[|llc]");
		return;
	}
	put(o, "LLC, dsap 0x%02x, ssap 0x%02x, ctrl 0x%02x, length %zu", u8_at(v, 0), u8_at(v, 1),
	    u8_at(v, 2), v->len);
}

/* The payload of an Ethernet frame of the given type. VLAN tags are
 * unwrapped in a loop (each consumes 4 bytes), so any stack of them is fine. */
static void print_ethertype(struct out *o, uint16_t type, struct view v)
{
	while (is_vlan(type)) {
		unsigned int tci;

		if (!has(&v, 4)) {
			put(o, "[|vlan]");
			return;
		}
		tci = be16_at(&v, 0);
		type = be16_at(&v, 2);
		v = rest_of(&v, 4);
		put(o, "vlan %u, p %u%s, ", tci & 0x0fff, tci >> 13, (tci & 0x1000) ? ", DEI" : "");
		if (type < ETH_MIN_TYPE) {
			print_llc(o, &v);
			return;
		}
		put(o, "ethertype %s (0x%04x)", lookup(ethertypes, ARRAY_SIZE(ethertypes), type, "Unknown"),
		    type);
		if (!decoded(type))
			return;
		put(o, ", ");
	}
	switch (type) {
	case ETYPE_IPV4:
		print_ip4(o, &v);
		break;
	case ETYPE_IPV6:
		print_ip6(o, &v);
		break;
	case ETYPE_ARP:
		print_arp(o, &v);
		break;
	}
}

static void print_time(struct out *o, const struct timespec *ts)
{
	time_t sec = ts->tv_sec;
	long usec = ts->tv_nsec / 1000;
	struct tm tm;

	if (usec < 0 || usec > 999999)
		usec = 0;
	if (!localtime_r(&sec, &tm)) {
		put(o, "??:??:??.%06ld ", usec);
		return;
	}
	put(o, "%02d:%02d:%02d.%06ld ", tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
}

int xh_pkt_format(char *buf, size_t size, const struct timespec *ts, const void *frame,
		  uint32_t len)
{
	struct out o = { buf, size, 0 };
	struct view v = { frame, frame ? len : 0 }, payload;
	char src[MAC_STRLEN], dst[MAC_STRLEN];
	uint16_t type;

	if (!buf || !size || (!frame && len))
		return -EINVAL;
	buf[0] = '\0';
	if (ts)
		print_time(&o, ts);
	if (!has(&v, ETH_HLEN_)) {
		put(&o, "[|ether]");
		goto done;
	}
	fmt_mac(dst, &v, 0);
	fmt_mac(src, &v, 6);
	type = be16_at(&v, 12);
	put(&o, "%s > %s, ", src, dst);
	payload = rest_of(&v, ETH_HLEN_);
	if (type < ETH_MIN_TYPE) {
		put(&o, "802.3, length %u: ", type);
		print_llc(&o, &payload);
		goto done;
	}
	put(&o, "ethertype %s (0x%04x), length %u",
	    lookup(ethertypes, ARRAY_SIZE(ethertypes), type, "Unknown"), type, len);
	if (decoded(type)) {
		put(&o, ": ");
		print_ethertype(&o, type, payload);
	}
done:
	return o.len > INT_MAX ? INT_MAX : (int)o.len;
}
