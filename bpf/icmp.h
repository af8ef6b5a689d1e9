/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ICMP and ICMPv6 for the host-mode policy: which messages are errors,
 * echoes or neighbour discovery, and the packet an error quotes.
 *
 * An error (destination unreachable, packet too big, time exceeded,
 * parameter problem) carries the start of the packet that caused it: its IP
 * header and at least the first 8 bytes of its L4 header (RFC 792, RFC 4443
 * quotes as much as fits). Those 8 bytes hold the TCP/UDP ports and the
 * ICMP echo id, which is all the policy needs.
 */
#ifndef XDPHOOK_ICMP_H
#define XDPHOOK_ICMP_H

#include "parsing.h"

/* Not <linux/icmp.h> (see parsing.h): the types we need. */
#define XH_ICMP_ECHOREPLY 0
#define XH_ICMP_DEST_UNREACH 3
#define XH_ICMP_ECHO 8
#define XH_ICMP_TIME_EXCEEDED 11
#define XH_ICMP_PARAMETERPROB 12

#define XH_ICMP6_DEST_UNREACH 1
#define XH_ICMP6_PKT_TOOBIG 2
#define XH_ICMP6_TIME_EXCEED 3
#define XH_ICMP6_PARAMPROB 4
#define XH_ICMP6_ECHO_REQUEST 128
#define XH_ICMP6_ECHO_REPLY 129
#define XH_ICMP6_ND_FIRST 133 /* router solicitation */
#define XH_ICMP6_ND_LAST 137  /* redirect */

#define XH_ICMP_HLEN 8 /* type, code, checksum, 4 bytes "rest of header" */

enum icmp_kind {
	ICMP_K_OTHER = 0,    /* informational we do not forward: ND, MLD, ... */
	ICMP_K_ERROR,
	ICMP_K_ECHO_REQUEST,
	ICMP_K_ECHO_REPLY,
};

/* Classify an ICMP (proto IPPROTO_ICMP) or ICMPv6 message by type. */
static __always_inline int icmp_kind(__u8 proto, __u8 type)
{
	if (proto == IPPROTO_ICMP) {
		switch (type) {
		case XH_ICMP_DEST_UNREACH:
		case XH_ICMP_TIME_EXCEEDED:
		case XH_ICMP_PARAMETERPROB:
			return ICMP_K_ERROR;
		case XH_ICMP_ECHO:
			return ICMP_K_ECHO_REQUEST;
		case XH_ICMP_ECHOREPLY:
			return ICMP_K_ECHO_REPLY;
		}
	} else if (proto == IPPROTO_ICMPV6) {
		switch (type) {
		case XH_ICMP6_DEST_UNREACH:
		case XH_ICMP6_PKT_TOOBIG:
		case XH_ICMP6_TIME_EXCEED:
		case XH_ICMP6_PARAMPROB:
			return ICMP_K_ERROR;
		case XH_ICMP6_ECHO_REQUEST:
			return ICMP_K_ECHO_REQUEST;
		case XH_ICMP6_ECHO_REPLY:
			return ICMP_K_ECHO_REPLY;
		}
	}
	return ICMP_K_OTHER;
}

/* Echo identifier (host order) of an ICMP header whose 8 bytes are in the
 * frame. */
static __always_inline __u16 icmp_echo_id(const __u8 *icmp)
{
	return (__u16)icmp[4] << 8 | icmp[5];
}

/* The packet quoted by an ICMP error. */
struct quote {
	__u8 proto;     /* its L4 protocol */
	__u8 kind;      /* ICMP/ICMPv6: enum icmp_kind of the quoted message */
	__u16 sport;    /* TCP/UDP ports, host order */
	__u16 dport;
	__u16 echo_id;  /* quoted echo request/reply: its id */
	void *l4;       /* its L4 header (at least 4 bytes of TCP/UDP or 8 of
	                 * ICMP are in the frame) */
};

/* Headers before a quote can be long (IPv6 extension headers); offsets
 * beyond this are not followed (and keep the verifier's arithmetic
 * bounded). */
#define XH_MAX_L4_OFF 2048

/*
 * Parse the packet quoted by an ICMP error whose 8-byte ICMP header starts
 * at icmp (inside the frame): the quoted IP header (IPv6 when v6, else
 * IPv4, as the error itself), with IPv4 options or IPv6 extension headers,
 * then the start of its L4 header. Returns 0 with q filled, or -1 when the
 * quote is truncated or malformed, or is a non-first fragment (no ports to
 * follow). For protocols other than TCP, UDP and ICMP only q->proto is set.
 *
 * The callers run it in a global (separately verified) function: inlined
 * into every path of the outer parse it multiplies the verifier's states.
 */
static __always_inline int parse_quote(__u8 *icmp, void *end, int v6, struct quote *q)
{
	struct hdr_cursor c = { .pos = icmp + XH_ICMP_HLEN, .end = end };
	struct packet inner;
	__u8 *l4;
	int proto;

	__builtin_memset(&inner, 0, sizeof(inner));
	__builtin_memset(q, 0, sizeof(*q));
	if (v6)
		proto = parse_ip6hdr(&c, &inner);
	else
		proto = parse_iphdr(&c, &inner);
	if (proto < 0 || inner.frag == FRAG_LATER)
		return -1;
	l4 = c.pos;
	q->proto = proto;
	q->l4 = l4;
	switch (proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		if ((void *)(l4 + 4) > end)
			return -1;
		q->sport = (__u16)l4[0] << 8 | l4[1];
		q->dport = (__u16)l4[2] << 8 | l4[3];
		return 0;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if ((void *)(l4 + XH_ICMP_HLEN) > end)
			return -1;
		q->kind = icmp_kind(proto, l4[0]);
		q->echo_id = icmp_echo_id(l4);
		return 0;
	default:
		return 0;
	}
}

/* The ICMP header of an error at l4_off in the frame of ctx, or NULL when
 * it is not whole inside the frame (for the global functions, which get
 * offsets rather than packet pointers). */
static __always_inline __u8 *icmp_at(struct xdp_md *ctx, __u32 l4_off)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *icmp;

	if (l4_off > XH_MAX_L4_OFF)
		return 0;
	icmp = data + l4_off;
	if ((void *)(icmp + XH_ICMP_HLEN) > end)
		return 0;
	return icmp;
}

#endif
