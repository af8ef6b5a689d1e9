/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Packet summaries: crafted frames against the exact lines (checked against
 * tcpdump 4.99 -n -e, except that TCP sequence numbers are absolute like
 * tcpdump -S, and no hex dumps or application decoding), and every
 * truncation of every frame from an exactly-sized heap copy, so the
 * sanitizer build catches any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "pktprint.h"
#include "util.h"

/* 2023-11-14 22:13:20.123456 UTC */
static const struct timespec TS = { .tv_sec = 1700000000, .tv_nsec = 123456789 };
#define T "22:13:20.123456 "

#define MAC_A "02:00:00:00:00:01"
#define MAC_B "02:00:00:00:00:02"
#define MAC_BC "ff:ff:ff:ff:ff:ff"

/* ------------------------------------------------------------------------ */
/* a tiny frame builder (network byte order) */

struct frame {
	uint8_t b[2048];
	size_t len;
};

static void add(struct frame *f, const void *p, size_t n)
{
	assert_true(f->len + n <= sizeof(f->b));
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void add8(struct frame *f, unsigned int v)
{
	uint8_t b = (uint8_t)v;

	add(f, &b, 1);
}

static void add16(struct frame *f, unsigned int v)
{
	add8(f, v >> 8);
	add8(f, v);
}

static void add32(struct frame *f, uint32_t v)
{
	add16(f, v >> 16);
	add16(f, v & 0xffff);
}

static void add_zero(struct frame *f, size_t n)
{
	while (n--)
		add8(f, 0);
}

static void add_mac(struct frame *f, const char *s)
{
	unsigned int m[6];

	assert_int_equal(sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]), 6);
	for (int i = 0; i < 6; i++)
		add8(f, m[i]);
}

static void add_ip4(struct frame *f, const char *s)
{
	uint8_t a[4];

	assert_int_equal(inet_pton(AF_INET, s, a), 1);
	add(f, a, 4);
}

static void add_ip6(struct frame *f, const char *s)
{
	uint8_t a[16];

	assert_int_equal(inet_pton(AF_INET6, s, a), 1);
	add(f, a, 16);
}

static void set16(struct frame *f, size_t off, unsigned int v)
{
	f->b[off] = (uint8_t)(v >> 8);
	f->b[off + 1] = (uint8_t)v;
}

static void eth(struct frame *f, const char *dst, const char *src, unsigned int type)
{
	f->len = 0;
	add_mac(f, dst);
	add_mac(f, src);
	add16(f, type);
}

static void vlan(struct frame *f, unsigned int prio, unsigned int dei, unsigned int vid,
		 unsigned int inner)
{
	add16(f, prio << 13 | dei << 12 | vid);
	add16(f, inner);
}

/* IPv4 header with opt_words 4-byte option words (router alert, then NOPs);
 * returns its offset for ip4_end(). */
static size_t ip4(struct frame *f, unsigned int proto, const char *src, const char *dst,
		  unsigned int opt_words, unsigned int frag)
{
	size_t off = f->len;

	add8(f, 0x40 | (5 + opt_words));
	add8(f, 0);
	add16(f, 0); /* total length: ip4_end() */
	add16(f, 0x1234);
	add16(f, frag);
	add8(f, 64);
	add8(f, proto);
	add16(f, 0);
	add_ip4(f, src);
	add_ip4(f, dst);
	for (unsigned int i = 0; i < opt_words; i++)
		add32(f, i == 0 ? 0x94040000 : 0x01010101);
	return off;
}

static void ip4_end(struct frame *f, size_t off)
{
	set16(f, off + 2, (unsigned int)(f->len - off));
}

static size_t ip6(struct frame *f, unsigned int nh, const char *src, const char *dst)
{
	size_t off = f->len;

	add32(f, 0x60000000);
	add16(f, 0); /* payload length: ip6_end() */
	add8(f, nh);
	add8(f, 64);
	add_ip6(f, src);
	add_ip6(f, dst);
	return off;
}

static void ip6_end(struct frame *f, size_t off)
{
	set16(f, off + 4, (unsigned int)(f->len - off - 40));
}

static void echo(struct frame *f, unsigned int type, unsigned int id, unsigned int seq, size_t data)
{
	add8(f, type);
	add8(f, 0);
	add16(f, 0);
	add16(f, id);
	add16(f, seq);
	for (size_t i = 0; i < data; i++)
		add8(f, (unsigned int)i);
}

static void tcp(struct frame *f, unsigned int sport, unsigned int dport, uint32_t seq, uint32_t ack,
		unsigned int flags, unsigned int win, size_t data)
{
	add16(f, sport);
	add16(f, dport);
	add32(f, seq);
	add32(f, ack);
	add8(f, 5 << 4);
	add8(f, flags);
	add16(f, win);
	add16(f, 0);
	add16(f, 0);
	add_zero(f, data);
}

static void udp(struct frame *f, unsigned int sport, unsigned int dport, size_t data)
{
	add16(f, sport);
	add16(f, dport);
	add16(f, (unsigned int)(8 + data));
	add16(f, 0);
	add_zero(f, data);
}

static void arp(struct frame *f, unsigned int op, const char *sha, const char *spa, const char *tha,
		const char *tpa)
{
	add16(f, 1);
	add16(f, 0x0800);
	add8(f, 6);
	add8(f, 4);
	add16(f, op);
	add_mac(f, sha);
	add_ip4(f, spa);
	add_mac(f, tha);
	add_ip4(f, tpa);
}

static void pad60(struct frame *f)
{
	if (f->len < 60)
		add_zero(f, 60 - f->len);
}

/* ------------------------------------------------------------------------ */
/* the frames */

static void f_arp_request(struct frame *f)
{
	eth(f, MAC_BC, MAC_A, 0x0806);
	arp(f, 1, MAC_A, "10.0.0.1", "00:00:00:00:00:00", "10.0.0.2");
}

static void f_arp_request_padded(struct frame *f)
{
	f_arp_request(f);
	pad60(f);
}

static void f_arp_reply(struct frame *f)
{
	eth(f, MAC_A, MAC_B, 0x0806);
	arp(f, 2, MAC_B, "10.0.0.2", MAC_A, "10.0.0.1");
}

static void f_icmp_echo_request(struct frame *f)
{
	size_t ip;

	eth(f, MAC_B, MAC_A, 0x0800);
	ip = ip4(f, 1, "10.0.0.1", "10.0.0.2", 0, 0);
	echo(f, 8, 5, 1, 56);
	ip4_end(f, ip);
}

static void f_icmp_echo_reply(struct frame *f)
{
	size_t ip;

	eth(f, MAC_A, MAC_B, 0x0800);
	ip = ip4(f, 1, "10.0.0.2", "10.0.0.1", 0, 0);
	echo(f, 0, 5, 1, 56);
	ip4_end(f, ip);
}

static void f_icmp_unreachable(struct frame *f)
{
	size_t ip;

	eth(f, MAC_A, MAC_B, 0x0800);
	ip = ip4(f, 1, "10.0.0.2", "10.0.0.1", 0, 0);
	add8(f, 3);
	add8(f, 3);
	add_zero(f, 34);
	ip4_end(f, ip);
}

static void f_ip_options_udp(struct frame *f)
{
	size_t ip;

	eth(f, MAC_B, MAC_A, 0x0800);
	ip = ip4(f, 17, "10.0.0.1", "10.0.0.2", 2, 0);
	udp(f, 5, 53, 12);
	ip4_end(f, ip);
}

static void f_udp_padded(struct frame *f)
{
	size_t ip;

	eth(f, MAC_B, MAC_A, 0x0800);
	ip = ip4(f, 17, "10.0.0.1", "10.0.0.2", 0, 0);
	udp(f, 1000, 2000, 2);
	ip4_end(f, ip);
	pad60(f); /* the padding is not UDP payload */
}

static void tcp_frame(struct frame *f, unsigned int flags, size_t data)
{
	size_t ip;

	eth(f, MAC_B, MAC_A, 0x0800);
	ip = ip4(f, 6, "10.0.0.1", "10.0.0.2", 0, 0);
	tcp(f, 1234, 80, 1000, 5001, flags, 64240, data);
	ip4_end(f, ip);
}

static void f_tcp_syn(struct frame *f)
{
	tcp_frame(f, 0x02, 0);
}

static void f_tcp_synack(struct frame *f)
{
	tcp_frame(f, 0x12, 0);
}

static void f_tcp_psh_ack(struct frame *f)
{
	tcp_frame(f, 0x18, 18);
}

static void f_tcp_ack(struct frame *f)
{
	tcp_frame(f, 0x10, 0);
}

static void f_tcp_fin_ack(struct frame *f)
{
	tcp_frame(f, 0x11, 0);
}

static void f_tcp_rst(struct frame *f)
{
	tcp_frame(f, 0x04, 0);
}

static void f_tcp_all_flags(struct frame *f)
{
	tcp_frame(f, 0xff, 1);
}

static void f_tcp_no_flags(struct frame *f)
{
	tcp_frame(f, 0x00, 0);
}

static void f_icmp6_echo(struct frame *f)
{
	size_t ip;

	eth(f, MAC_B, MAC_A, 0x86dd);
	ip = ip6(f, 58, "2001:db8::1", "2001:db8::2");
	echo(f, 128, 7, 3, 56);
	ip6_end(f, ip);
}

static void f_icmp6_echo_reply(struct frame *f)
{
	size_t ip;

	eth(f, MAC_A, MAC_B, 0x86dd);
	ip = ip6(f, 58, "2001:db8::2", "2001:db8::1");
	echo(f, 129, 7, 3, 56);
	ip6_end(f, ip);
}

static void nd(struct frame *f, unsigned int type, const char *src, const char *dst, const char *tgt)
{
	size_t ip = ip6(f, 58, src, dst);

	add8(f, type);
	add8(f, 0);
	add16(f, 0);
	add32(f, type == 136 ? 0x60000000 : 0);
	add_ip6(f, tgt);
	add8(f, type == 135 ? 1 : 2); /* source/target link-layer address option */
	add8(f, 1);
	add_mac(f, MAC_A);
	ip6_end(f, ip);
}

static void f_icmp6_ns(struct frame *f)
{
	eth(f, "33:33:ff:00:00:02", MAC_A, 0x86dd);
	nd(f, 135, "fe80::1", "ff02::1:ff00:2", "fe80::2");
}

static void f_icmp6_na(struct frame *f)
{
	eth(f, MAC_A, MAC_B, 0x86dd);
	nd(f, 136, "fe80::2", "fe80::1", "fe80::2");
}

static void f_icmp6_rs(struct frame *f)
{
	size_t ip;

	eth(f, "33:33:00:00:00:02", MAC_A, 0x86dd);
	ip = ip6(f, 58, "fe80::1", "ff02::2");
	add32(f, 133u << 24);
	add32(f, 0);
	add16(f, 0x0101);
	add_mac(f, MAC_A);
	ip6_end(f, ip);
}

static void f_icmp6_ra(struct frame *f)
{
	size_t ip;

	eth(f, "33:33:00:00:00:01", MAC_B, 0x86dd);
	ip = ip6(f, 58, "fe80::2", "ff02::1");
	add32(f, 134u << 24);
	add32(f, 0x40000708);
	add_zero(f, 8);
	add16(f, 0x0101);
	add_mac(f, MAC_B);
	ip6_end(f, ip);
}

static void f_ip6_tcp(struct frame *f)
{
	size_t ip;

	eth(f, MAC_B, MAC_A, 0x86dd);
	ip = ip6(f, 6, "2001:db8::1", "2001:db8::2");
	tcp(f, 40000, 443, 1, 0, 0x02, 65535, 0);
	ip6_end(f, ip);
}

static void f_ip6_hbh_mld(struct frame *f)
{
	size_t ip;

	eth(f, "33:33:00:00:00:16", MAC_A, 0x86dd);
	ip = ip6(f, 0, "fe80::1", "ff02::16");
	add32(f, 58u << 24 | 0x0502); /* next ICMPv6, len 0, router alert... */
	add32(f, 0x00000100);         /* ...MLD, PadN */
	add32(f, 143u << 24);
	add32(f, 1);
	add32(f, 0x04000000);
	add_ip6(f, "ff02::fb");
	ip6_end(f, ip);
}

static void ip6_frag(struct frame *f, unsigned int offset, bool more, size_t data)
{
	size_t ip;

	eth(f, MAC_B, MAC_A, 0x86dd);
	ip = ip6(f, 44, "2001:db8::1", "2001:db8::2");
	add8(f, 17);
	add8(f, 0);
	add16(f, offset | more);
	add32(f, 0xabcd);
	if (!offset) {
		add16(f, 5);
		add16(f, 53);
		add16(f, 8 + 300); /* the whole datagram, more than this fragment */
		add16(f, 0);
	}
	add_zero(f, data);
	ip6_end(f, ip);
}

static void f_ip6_frag_first(struct frame *f)
{
	ip6_frag(f, 0, true, 100);
}

static void f_ip6_frag_later(struct frame *f)
{
	ip6_frag(f, 104, false, 200);
}

static void f_vlan_icmp(struct frame *f)
{
	size_t ip;

	eth(f, MAC_B, MAC_A, 0x8100);
	vlan(f, 0, 0, 10, 0x0800);
	ip = ip4(f, 1, "10.0.0.1", "10.0.0.2", 0, 0);
	echo(f, 8, 5, 1, 56);
	ip4_end(f, ip);
}

static void f_qinq_icmp(struct frame *f)
{
	size_t ip;

	eth(f, MAC_B, MAC_A, 0x88a8);
	vlan(f, 3, 0, 100, 0x8100);
	vlan(f, 5, 1, 200, 0x0800);
	ip = ip4(f, 1, "10.0.0.1", "10.0.0.2", 0, 0);
	echo(f, 8, 5, 1, 56);
	ip4_end(f, ip);
}

static void f_vlan_arp(struct frame *f)
{
	eth(f, MAC_BC, MAC_A, 0x8100);
	vlan(f, 0, 0, 10, 0x0806);
	arp(f, 1, MAC_A, "10.0.0.1", "00:00:00:00:00:00", "10.0.0.2");
}

static void f_ip4_frag_first(struct frame *f)
{
	size_t ip;

	eth(f, MAC_B, MAC_A, 0x0800);
	ip = ip4(f, 1, "10.0.0.1", "10.0.0.2", 0, 0x2000);
	echo(f, 8, 5, 1, 1472);
	ip4_end(f, ip);
}

static void f_ip4_frag_later(struct frame *f)
{
	size_t ip;

	eth(f, MAC_B, MAC_A, 0x0800);
	ip = ip4(f, 1, "10.0.0.1", "10.0.0.2", 0, 185);
	add_zero(f, 20);
	ip4_end(f, ip);
}

static void f_unknown_ethertype(struct frame *f)
{
	eth(f, MAC_B, MAC_A, 0x1234);
	pad60(f);
}

static void f_lldp(struct frame *f)
{
	eth(f, "01:80:c2:00:00:0e", MAC_A, 0x88cc);
	pad60(f);
}

static void f_stp(struct frame *f)
{
	eth(f, "01:80:c2:00:00:00", MAC_A, 38);
	add8(f, 0x42);
	add8(f, 0x42);
	add8(f, 0x03);
	pad60(f);
}

static void f_ip_unknown_proto(struct frame *f)
{
	size_t ip;

	eth(f, MAC_B, MAC_A, 0x0800);
	ip = ip4(f, 99, "10.0.0.1", "10.0.0.2", 0, 0);
	add_zero(f, 20);
	ip4_end(f, ip);
}

static void f_ip_bad_hlen(struct frame *f)
{
	eth(f, MAC_B, MAC_A, 0x0800);
	add8(f, 0x44);
	add_zero(f, 30);
}

static void f_ip_cut_short(struct frame *f)
{
	f_icmp_echo_request(f);
	set16(f, 14 + 2, 1000); /* header claims more than there is */
}

static void f_udp_bad_length(struct frame *f)
{
	size_t ip;

	eth(f, MAC_B, MAC_A, 0x0800);
	ip = ip4(f, 17, "10.0.0.1", "10.0.0.2", 0, 0);
	udp(f, 1, 2, 4);
	set16(f, f->len - 12 + 4, 100);
	ip4_end(f, ip);
}

static void f_tcp_bad_doff(struct frame *f)
{
	tcp_frame(f, 0x02, 0);
	f->b[14 + 20 + 12] = 3 << 4;
}

/* ------------------------------------------------------------------------ */

struct expect {
	const char *name;
	void (*build)(struct frame *f);
	const char *line;
};

#define E(fn, line) { #fn, fn, line }
#define ETH_AB MAC_A " > " MAC_B ", "
#define ETH_BA MAC_B " > " MAC_A ", "
#define IP4_98 ETH_AB "ethertype IPv4 (0x0800), length 98: "
#define IP4_54 ETH_AB "ethertype IPv4 (0x0800), length 54: "
#define IP6_AB ETH_AB "ethertype IPv6 (0x86dd), "

static const struct expect cases[] = {
	E(f_arp_request, T MAC_A " > " MAC_BC ", ethertype ARP (0x0806), length 42: "
	  "Request who-has 10.0.0.2 tell 10.0.0.1, length 28"),
	E(f_arp_request_padded, T MAC_A " > " MAC_BC ", ethertype ARP (0x0806), length 60: "
	  "Request who-has 10.0.0.2 tell 10.0.0.1, length 46"),
	E(f_arp_reply, T ETH_BA "ethertype ARP (0x0806), length 42: "
	  "Reply 10.0.0.2 is-at 02:00:00:00:00:02, length 28"),
	E(f_icmp_echo_request, T IP4_98 "10.0.0.1 > 10.0.0.2: ICMP echo request, id 5, seq 1, length 64"),
	E(f_icmp_echo_reply, T ETH_BA "ethertype IPv4 (0x0800), length 98: "
	  "10.0.0.2 > 10.0.0.1: ICMP echo reply, id 5, seq 1, length 64"),
	E(f_icmp_unreachable, T ETH_BA "ethertype IPv4 (0x0800), length 70: "
	  "10.0.0.2 > 10.0.0.1: ICMP type 3, code 3, length 36"),
	E(f_ip_options_udp, T ETH_AB "ethertype IPv4 (0x0800), length 62: "
	  "10.0.0.1.5 > 10.0.0.2.53: UDP, length 12"),
	E(f_udp_padded, T ETH_AB "ethertype IPv4 (0x0800), length 60: "
	  "10.0.0.1.1000 > 10.0.0.2.2000: UDP, length 2"),
	E(f_tcp_syn, T IP4_54 "10.0.0.1.1234 > 10.0.0.2.80: Flags [S], seq 1000, win 64240, length 0"),
	E(f_tcp_synack, T IP4_54 "10.0.0.1.1234 > 10.0.0.2.80: Flags [S.], seq 1000, ack 5001, "
	  "win 64240, length 0"),
	E(f_tcp_psh_ack, T ETH_AB "ethertype IPv4 (0x0800), length 72: 10.0.0.1.1234 > 10.0.0.2.80: "
	  "Flags [P.], seq 1000:1018, ack 5001, win 64240, length 18"),
	E(f_tcp_ack, T IP4_54 "10.0.0.1.1234 > 10.0.0.2.80: Flags [.], ack 5001, win 64240, length 0"),
	E(f_tcp_fin_ack, T IP4_54 "10.0.0.1.1234 > 10.0.0.2.80: Flags [F.], seq 1000, ack 5001, "
	  "win 64240, length 0"),
	E(f_tcp_rst, T IP4_54 "10.0.0.1.1234 > 10.0.0.2.80: Flags [R], seq 1000, win 64240, length 0"),
	E(f_tcp_all_flags, T ETH_AB "ethertype IPv4 (0x0800), length 55: 10.0.0.1.1234 > 10.0.0.2.80: "
	  "Flags [FSRP.UEW], seq 1000:1001, ack 5001, win 64240, urg 0, length 1"),
	E(f_tcp_no_flags, T IP4_54 "10.0.0.1.1234 > 10.0.0.2.80: Flags [none], win 64240, length 0"),
	E(f_icmp6_echo, T IP6_AB "length 118: 2001:db8::1 > 2001:db8::2: "
	  "ICMP6, echo request, id 7, seq 3, length 64"),
	E(f_icmp6_echo_reply, T ETH_BA "ethertype IPv6 (0x86dd), length 118: 2001:db8::2 > 2001:db8::1: "
	  "ICMP6, echo reply, id 7, seq 3, length 64"),
	E(f_icmp6_ns, T MAC_A " > 33:33:ff:00:00:02, ethertype IPv6 (0x86dd), length 86: "
	  "fe80::1 > ff02::1:ff00:2: ICMP6, neighbor solicitation, who has fe80::2, length 32"),
	E(f_icmp6_na, T ETH_BA "ethertype IPv6 (0x86dd), length 86: "
	  "fe80::2 > fe80::1: ICMP6, neighbor advertisement, tgt is fe80::2, length 32"),
	E(f_icmp6_rs, T MAC_A " > 33:33:00:00:00:02, ethertype IPv6 (0x86dd), length 70: "
	  "fe80::1 > ff02::2: ICMP6, router solicitation, length 16"),
	E(f_icmp6_ra, T MAC_B " > 33:33:00:00:00:01, ethertype IPv6 (0x86dd), length 78: "
	  "fe80::2 > ff02::1: ICMP6, router advertisement, length 24"),
	E(f_ip6_tcp, T IP6_AB "length 74: 2001:db8::1.40000 > 2001:db8::2.443: "
	  "Flags [S], seq 1, win 65535, length 0"),
	E(f_ip6_hbh_mld, T MAC_A " > 33:33:00:00:00:16, ethertype IPv6 (0x86dd), length 90: "
	  "fe80::1 > ff02::16: HBH ICMP6, multicast listener report v2, length 28"),
	E(f_ip6_frag_first, T IP6_AB "length 170: 2001:db8::1 > 2001:db8::2: frag (0|108) "
	  "2001:db8::1.5 > 2001:db8::2.53: UDP, length 300"),
	E(f_ip6_frag_later, T IP6_AB "length 262: 2001:db8::1 > 2001:db8::2: frag (104|200)"),
	E(f_vlan_icmp, T ETH_AB "ethertype 802.1Q (0x8100), length 102: vlan 10, p 0, "
	  "ethertype IPv4 (0x0800), 10.0.0.1 > 10.0.0.2: ICMP echo request, id 5, seq 1, length 64"),
	E(f_qinq_icmp, T ETH_AB "ethertype 802.1Q-QinQ (0x88a8), length 106: vlan 100, p 3, "
	  "ethertype 802.1Q (0x8100), vlan 200, p 5, DEI, ethertype IPv4 (0x0800), "
	  "10.0.0.1 > 10.0.0.2: ICMP echo request, id 5, seq 1, length 64"),
	E(f_vlan_arp, T MAC_A " > " MAC_BC ", ethertype 802.1Q (0x8100), length 46: vlan 10, p 0, "
	  "ethertype ARP (0x0806), Request who-has 10.0.0.2 tell 10.0.0.1, length 28"),
	E(f_ip4_frag_first, T ETH_AB "ethertype IPv4 (0x0800), length 1514: 10.0.0.1 > 10.0.0.2: "
	  "ICMP echo request, id 5, seq 1, length 1480 (frag 4660:1480@0+)"),
	E(f_ip4_frag_later, T IP4_54 "10.0.0.1 > 10.0.0.2: ip-proto-1 (frag 4660:20@1480)"),
	E(f_unknown_ethertype, T ETH_AB "ethertype Unknown (0x1234), length 60"),
	E(f_lldp, T MAC_A " > 01:80:c2:00:00:0e, ethertype LLDP (0x88cc), length 60"),
	E(f_stp, T MAC_A " > 01:80:c2:00:00:00, 802.3, length 38: "
	  "LLC, dsap 0x42, ssap 0x42, ctrl 0x03, length 46"),
	E(f_ip_unknown_proto, T IP4_54 "10.0.0.1 > 10.0.0.2: ip-proto-99 20"),
	E(f_ip_bad_hlen, T ETH_AB "ethertype IPv4 (0x0800), length 45: bad-hlen 16"),
	E(f_ip_cut_short, T IP4_98 "truncated-ip - 916 bytes missing! 10.0.0.1 > 10.0.0.2: "
	  "ICMP echo request, id 5, seq 1, length 980"),
	E(f_udp_bad_length, T ETH_AB "ethertype IPv4 (0x0800), length 46: "
	  "10.0.0.1.1 > 10.0.0.2.2: UDP, bad length 92 > 4"),
	E(f_tcp_bad_doff, T IP4_54 "10.0.0.1.1234 > 10.0.0.2.80: [bad hdr length 12 - too short, < 20]"),
};

/* Format len bytes of f from an exactly-sized heap copy, so that a read
 * past the end is a sanitizer error rather than a silent success. */
static int format_copy(char *buf, size_t size, const struct timespec *ts, const struct frame *f,
		       size_t len)
{
	uint8_t *copy = NULL;
	int n;

	if (len) {
		copy = malloc(len);
		assert_non_null(copy);
		memcpy(copy, f->b, len);
	}
	n = xh_pkt_format(buf, size, ts, copy, (uint32_t)len);
	free(copy);
	return n;
}

static void exact_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct frame f = { .len = 0 };
		char line[1024];
		int n;

		cases[i].build(&f);
		n = format_copy(line, sizeof(line), &TS, &f, f.len);
		if (strcmp(line, cases[i].line)) {
			print_error("%s:\n  got  %s\n  want %s\n", cases[i].name, line, cases[i].line);
			fail();
		}
		assert_int_equal(n, strlen(line));
	}
}

/* Every prefix of every frame: no crash, no over-read (sanitizer build),
 * some output, and a truncated frame says so. */
static void every_truncation(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct frame f = { .len = 0 };

		cases[i].build(&f);
		for (size_t len = 0; len <= f.len; len++) {
			char line[1024];
			int n = format_copy(line, sizeof(line), &TS, &f, len);

			assert_true(n > (int)strlen(T));
			assert_int_equal(n, strlen(line));
			assert_memory_equal(line, T, strlen(T));
			if (len < 14)
				assert_string_equal(line, T "[|ether]");
			/* the Ethernet layer always reports the frame length */
			assert_non_null(strstr(line, len < 14 ? "[|ether]" : "length"));
		}
	}
}

/* Cut at header boundaries: the missing layer is named. */
static void truncated_layers(void **state)
{
	struct frame f = { .len = 0 };
	char line[512];

	(void)state;
	f_icmp_echo_request(&f);
	format_copy(line, sizeof(line), NULL, &f, 14 + 19);
	assert_string_equal(line, ETH_AB "ethertype IPv4 (0x0800), length 33: [|ip]");
	format_copy(line, sizeof(line), NULL, &f, 14 + 20 + 3);
	assert_non_null(strstr(line, "10.0.0.1 > 10.0.0.2: ICMP [|icmp]"));
	format_copy(line, sizeof(line), NULL, &f, 14 + 20 + 7);
	assert_non_null(strstr(line, "ICMP echo request [|icmp]"));

	f_tcp_syn(&f);
	format_copy(line, sizeof(line), NULL, &f, 14 + 20 + 3);
	assert_non_null(strstr(line, "10.0.0.1 > 10.0.0.2: [|tcp]"));
	format_copy(line, sizeof(line), NULL, &f, 14 + 20 + 19);
	assert_non_null(strstr(line, "10.0.0.1.1234 > 10.0.0.2.80: [|tcp]"));

	f_ip_options_udp(&f);
	format_copy(line, sizeof(line), NULL, &f, 14 + 22); /* inside the options */
	assert_non_null(strstr(line, "length 36: [|ip]"));
	format_copy(line, sizeof(line), NULL, &f, 14 + 28 + 7);
	assert_non_null(strstr(line, "10.0.0.1.5 > 10.0.0.2.53: [|udp]"));

	f_arp_request(&f);
	format_copy(line, sizeof(line), NULL, &f, 14 + 27);
	assert_non_null(strstr(line, "length 41: [|arp]"));

	f_vlan_icmp(&f);
	format_copy(line, sizeof(line), NULL, &f, 14 + 3);
	assert_non_null(strstr(line, "length 17: [|vlan]"));

	f_icmp6_ns(&f);
	format_copy(line, sizeof(line), NULL, &f, 14 + 39);
	assert_non_null(strstr(line, "[|ip6]"));
	format_copy(line, sizeof(line), NULL, &f, 14 + 40 + 23);
	assert_non_null(strstr(line, "ICMP6, neighbor solicitation [|icmp6]"));

	f_ip6_frag_first(&f);
	format_copy(line, sizeof(line), NULL, &f, 14 + 40 + 7);
	assert_non_null(strstr(line, "2001:db8::1 > 2001:db8::2: [|frag]"));
}

/* snprintf semantics: a short buffer gets a terminated prefix and the
 * return value is the full length; no byte past size is touched. */
static void short_buffers(void **state)
{
	struct frame f = { .len = 0 };
	char full[512];
	int want;

	(void)state;
	f_qinq_icmp(&f);
	want = xh_pkt_format(full, sizeof(full), &TS, f.b, (uint32_t)f.len);
	assert_true(want > 0 && (size_t)want < sizeof(full));
	for (size_t size = 1; size <= (size_t)want + 1; size++) {
		char *buf = malloc(size);

		assert_non_null(buf);
		assert_int_equal(xh_pkt_format(buf, size, &TS, f.b, (uint32_t)f.len), want);
		assert_int_equal(strlen(buf), size - 1 < (size_t)want ? size - 1 : (size_t)want);
		assert_memory_equal(buf, full, strlen(buf));
		free(buf);
	}
}

static void arguments_and_no_timestamp(void **state)
{
	struct frame f = { .len = 0 };
	char line[256];

	(void)state;
	assert_int_equal(xh_pkt_format(NULL, 10, &TS, "x", 1), -EINVAL);
	assert_int_equal(xh_pkt_format(line, 0, &TS, "x", 1), -EINVAL);
	assert_int_equal(xh_pkt_format(line, sizeof(line), &TS, NULL, 1), -EINVAL);
	assert_true(xh_pkt_format(line, sizeof(line), NULL, NULL, 0) > 0);
	assert_string_equal(line, "[|ether]");

	f_arp_reply(&f);
	xh_pkt_format(line, sizeof(line), NULL, f.b, (uint32_t)f.len);
	assert_string_equal(line, ETH_BA "ethertype ARP (0x0806), length 42: "
			    "Reply 10.0.0.2 is-at 02:00:00:00:00:02, length 28");
}

/* Hostile inputs the crafted cases do not reach: a long stack of VLAN
 * tags, a chain of IPv6 extension headers, random bytes behind every
 * ethertype we decode. */
static void hostile_frames(void **state)
{
	static const unsigned int types[] = { 0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8, 0x0026 };
	struct frame f = { .len = 0 };
	char line[2048];
	uint32_t seed = 12345;

	(void)state;
	eth(&f, MAC_B, MAC_A, 0x8100);
	while (f.len + 4 < sizeof(f.b))
		vlan(&f, 7, 1, 4095, 0x8100);
	assert_true(format_copy(line, sizeof(line), &TS, &f, f.len) > 0);
	assert_non_null(strstr(line, "vlan 4095, p 7, DEI"));

	eth(&f, MAC_B, MAC_A, 0x86dd);
	ip6(&f, 0, "::1", "::2");
	for (int i = 0; i < 40; i++) {
		add8(&f, 60); /* each extension header says a destination-options header follows */
		add8(&f, 0);
		add_zero(&f, 6);
	}
	ip6_end(&f, 14);
	assert_true(format_copy(line, sizeof(line), &TS, &f, f.len) > 0);
	assert_non_null(strstr(line, "HBH DSTOPT"));
	assert_non_null(strstr(line, "[|ip6]"));

	for (int round = 0; round < 20000; round++) {
		size_t len = 14 + (size_t)(seed % 120);

		eth(&f, MAC_B, MAC_A, types[round % ARRAY_SIZE(types)]);
		while (f.len < len) {
			seed = seed * 1103515245u + 12345u;
			add8(&f, seed >> 16);
		}
		/* bias towards a plausible IP version nibble */
		if (round % 3 == 0)
			f.b[14] = (uint8_t)((f.b[12] == 0x86 ? 0x60 : 0x40) | (f.b[14] & 0x0f));
		assert_true(format_copy(line, sizeof(line), &TS, &f, f.len) > 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_lines),
		cmocka_unit_test(every_truncation),
		cmocka_unit_test(truncated_layers),
		cmocka_unit_test(short_buffers),
		cmocka_unit_test(arguments_and_no_timestamp),
		cmocka_unit_test(hostile_frames),
	};

	/* Timestamps are local time, like tcpdump: pin the zone. */
	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
