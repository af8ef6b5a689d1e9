// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The catalogue of frames the packet-level tests run: one of each kind the
 * parser distinguishes, well-formed and malformed, with the struct packet
 * fields parse_packet() must report for it (the offsets are written out as
 * numbers on purpose: they are the contract, not something to recompute with
 * the parser's own logic).
 *
 * The parser suite checks each entry, the truncation test cuts each one at
 * every length, and the program suite runs them all through
 * xdp_pass/xdp_drop/xdp_redirect/xdp_capture.
 */
#include "prog_test.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_arp.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

/* struct packet's frag values (enum frag_kind in bpf/parsing.h). */
enum { NONE = 0, FIRST = 1, LATER = 2 };

#define ICMP_ECHO 8
#define ICMP_DEST_UNREACH 3
#define ICMP_PORT_UNREACH 3
#define ICMPV6_ECHO_REQUEST 128
#define IPPROTO_NONE_V6 59 /* IPv6 "no next header" */

/* --- not IP ------------------------------------------------------------------ */

static void eth_unknown(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0x88b5); /* IEEE local experimental */
	frame_payload(f, 46);
	frame_finish(f);
}

static void eth_8023_length(struct frame *f)
{
	frame_eth(f, NULL, NULL, 46); /* 802.3: a length, not an EtherType */
	frame_payload(f, 46);
	frame_finish(f);
}

static void arp_request(struct frame *f)
{
	frame_eth(f, (const uint8_t *)"\xff\xff\xff\xff\xff\xff", NULL, 0);
	frame_arp(f, ARPOP_REQUEST, htonl(FRAME_IP4_SRC), htonl(FRAME_IP4_DST));
	frame_finish(f);
}

static void vlan_arp(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_vlan(f, ETH_P_8021Q, 10);
	frame_arp(f, ARPOP_REPLY, htonl(FRAME_IP4_SRC), htonl(FRAME_IP4_DST));
	frame_finish(f);
}

/* --- IPv4 ------------------------------------------------------------------- */

static void ipv4_tcp(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv4(f, NULL);
	frame_tcp(f, &(struct tcp_spec){ .sport = 40000, .dport = 80, .flags = FRAME_TCP_SYN });
	frame_payload(f, 10);
	frame_finish(f);
}

static void ipv4_udp(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv4(f, NULL);
	frame_udp(f, 5353, 53);
	frame_payload(f, 30);
	frame_finish(f);
}

static void ipv4_icmp_echo(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv4(f, NULL);
	frame_icmp(f, ICMP_ECHO, 0, 0x1234, 1);
	frame_payload(f, 56);
	frame_finish(f);
}

/* A port unreachable quoting the UDP datagram that caused it. */
static void ipv4_icmp_unreach(struct frame *f)
{
	struct frame quoted;

	frame_init(&quoted);
	frame_ipv4(&quoted, &(struct ip4_spec){ .saddr = htonl(FRAME_IP4_DST),
						.daddr = htonl(FRAME_IP4_SRC) });
	frame_udp(&quoted, 33434, 5000);
	frame_payload(&quoted, 12);
	frame_finish(&quoted);

	frame_eth(f, NULL, NULL, 0);
	frame_ipv4(f, NULL);
	frame_icmp(f, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, 0);
	frame_bytes(f, quoted.data, 20 + 8); /* IP header + 8 bytes (RFC 792) */
	frame_finish(f);
}

static void ipv4_opts_tcp(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv4(f, &(struct ip4_spec){ .opt_len = 12 });
	frame_tcp(f, &(struct tcp_spec){ .sport = 1025, .dport = 443, .opt_len = 12 });
	frame_payload(f, 20);
	frame_finish(f);
}

static void ipv4_opts40_udp(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv4(f, &(struct ip4_spec){ .opt_len = 40 }); /* IHL 15 */
	frame_udp(f, 67, 68);
	frame_payload(f, 16);
	frame_finish(f);
}

static void ipv4_gre(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv4(f, &(struct ip4_spec){ .proto = IPPROTO_GRE });
	frame_payload(f, 24);
	frame_finish(f);
}

static void ipv4_df_tcp(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv4(f, &(struct ip4_spec){ .dont_frag = true, .id = 7 });
	frame_tcp(f, &(struct tcp_spec){ .sport = 22, .dport = 50000 });
	frame_finish(f);
}

static void ipv4_frag_first_tcp(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv4(f, &(struct ip4_spec){ .more_frags = true, .id = 99 });
	frame_tcp(f, &(struct tcp_spec){ .sport = 1234, .dport = 8080 });
	frame_payload(f, 1000);
	frame_finish(f);
}

static void ipv4_frag_middle(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv4(f, &(struct ip4_spec){ .proto = IPPROTO_TCP, .frag_off = 185,
					  .more_frags = true, .id = 99 });
	frame_payload(f, 64);
	frame_finish(f);
}

static void ipv4_frag_last_udp(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv4(f, &(struct ip4_spec){ .proto = IPPROTO_UDP, .frag_off = 370, .id = 99 });
	frame_payload(f, 64);
	frame_finish(f);
}

static void ipv4_frag_offset_top(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv4(f, &(struct ip4_spec){ .proto = IPPROTO_TCP, .frag_off = 0x1000 });
	frame_payload(f, 8);
	frame_finish(f);
}

static void ipv4_frag_later_opts(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv4(f, &(struct ip4_spec){ .proto = IPPROTO_UDP, .frag_off = 1, .opt_len = 4 });
	/* Looks like a UDP header with length 0, but it is data: not parsed. */
	frame_bytes(f, "\x00\x35\x00\x35\x00\x00\x00\x00", 8);
	frame_finish(f);
}

/* --- IPv6 ------------------------------------------------------------------- */

static void ipv6_tcp(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv6(f, NULL);
	frame_tcp(f, &(struct tcp_spec){ .sport = 443, .dport = 60000, .opt_len = 20 });
	frame_payload(f, 40);
	frame_finish(f);
}

static void ipv6_udp(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv6(f, NULL);
	frame_udp(f, 546, 547);
	frame_payload(f, 20);
	frame_finish(f);
}

static void ipv6_icmpv6_echo(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv6(f, NULL);
	frame_icmp6(f, ICMPV6_ECHO_REQUEST, 0, 1, 2);
	frame_payload(f, 56);
	frame_finish(f);
}

static void ipv6_hopopts_udp(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv6(f, NULL);
	frame_ipv6_hopopts(f, 8);
	frame_udp(f, 1000, 2000);
	frame_payload(f, 8);
	frame_finish(f);
}

static void ipv6_hopopts_frag_first_udp(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv6(f, NULL);
	frame_ipv6_hopopts(f, 16);
	frame_ipv6_frag(f, 0, true, 0, 0xabcd);
	frame_udp(f, 4789, 4789);
	frame_payload(f, 32);
	frame_finish(f);
}

static void ipv6_dstopts_tcp(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv6(f, NULL);
	frame_ipv6_dstopts(f, 16);
	frame_tcp(f, &(struct tcp_spec){ .sport = 179, .dport = 33000 });
	frame_finish(f);
}

static void ipv6_frag_later_udp(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv6(f, NULL);
	frame_ipv6_frag(f, 100, false, IPPROTO_UDP, 0xabcd);
	frame_payload(f, 64);
	frame_finish(f);
}

/* Fragment offsets with only the lowest / only the highest bit of the field
 * set: every bit of it counts. */
static void ipv6_frag_offset(struct frame *f, uint16_t offset)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv6(f, NULL);
	frame_ipv6_frag(f, offset, false, IPPROTO_UDP, 1);
	frame_payload(f, 8);
	frame_finish(f);
}

static void ipv6_frag_offset1(struct frame *f) { ipv6_frag_offset(f, 1); }
static void ipv6_frag_offset_top(struct frame *f) { ipv6_frag_offset(f, 0x1000); }

/* The fragmentable part of the original packet began with a destination
 * options header: a later fragment names it in its fragment header, but
 * what follows is data from the middle of the packet, not that header. */
static void ipv6_frag_later_dstopts(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv6(f, NULL);
	frame_ipv6_frag(f, 100, true, IPPROTO_DSTOPTS, 0xabcd);
	frame_payload(f, 64);
	frame_finish(f);
}

/* An extension header chain longer than 255 bytes. */
static void ipv6_hopopts_big_tcp(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv6(f, NULL);
	frame_ipv6_hopopts(f, 256);
	frame_tcp(f, &(struct tcp_spec){ .sport = 5001, .dport = 5002 });
	frame_finish(f);
}

static void ipv6_ext_chain(struct frame *f, int n)
{
	int i;

	frame_eth(f, NULL, NULL, 0);
	frame_ipv6(f, NULL);
	frame_ipv6_hopopts(f, 8);
	for (i = 1; i < n; i++)
		frame_ipv6_dstopts(f, 8);
	frame_udp(f, 7, 7);
	frame_finish(f);
}

/* The parser follows up to 6 extension headers (PARSE_MAX_IPV6_EXT). */
static void ipv6_ext_chain6(struct frame *f) { ipv6_ext_chain(f, 6); }
static void ipv6_ext_chain7(struct frame *f) { ipv6_ext_chain(f, 7); }

static void ipv6_no_next(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv6(f, &(struct ip6_spec){ .nexthdr = IPPROTO_NONE_V6 });
	frame_finish(f);
}

/* --- VLAN ------------------------------------------------------------------- */

static void vlan_ipv4_udp(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_vlan(f, ETH_P_8021Q, 100);
	frame_ipv4(f, NULL);
	frame_udp(f, 123, 123);
	frame_payload(f, 48);
	frame_finish(f);
}

/* 802.1ad outer + 802.1Q inner tag, IPv4 options, TCP options. */
static void qinq_ipv4_opts_tcp(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_vlan(f, ETH_P_8021AD, 200);
	frame_vlan(f, ETH_P_8021Q, 300);
	frame_ipv4(f, &(struct ip4_spec){ .opt_len = 12 });
	frame_tcp(f, &(struct tcp_spec){ .sport = 3306, .dport = 41000, .opt_len = 12 });
	frame_payload(f, 20);
	frame_finish(f);
}

static void qinq_ipv6_udp(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_vlan(f, ETH_P_8021AD, 1);
	frame_vlan(f, ETH_P_8021Q, 4094);
	frame_ipv6(f, NULL);
	frame_udp(f, 500, 4500);
	frame_payload(f, 10);
	frame_finish(f);
}

/* Priority and DEI bits in the TCI are not part of the VLAN id. */
static void vlan_pcp_dei(struct frame *f)
{
	uint8_t *tci;

	vlan_ipv4_udp(f);
	tci = frame_hdr(f, FRAME_VLAN, 0);
	tci[0] |= 0xb0; /* PCP 5, DEI 1 */
}

static void vlan_triple(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_vlan(f, ETH_P_8021AD, 1);
	frame_vlan(f, ETH_P_8021Q, 2);
	frame_vlan(f, ETH_P_8021Q, 3);
	frame_ipv4(f, NULL);
	frame_udp(f, 1, 2);
	frame_finish(f);
}

/* --- TCP ---------------------------------------------------------------------- */

static void tcp_opts40(struct frame *f)
{
	frame_eth(f, NULL, NULL, 0);
	frame_ipv4(f, NULL);
	frame_tcp(f, &(struct tcp_spec){ .sport = 9, .dport = 10, .opt_len = 40 });
	frame_finish(f);
}

static void tcp_doff(struct frame *f, uint8_t doff, size_t payload)
{
	struct tcphdr *th;

	frame_eth(f, NULL, NULL, 0);
	frame_ipv4(f, NULL);
	frame_tcp(f, &(struct tcp_spec){ .sport = 9, .dport = 10 });
	frame_payload(f, payload);
	frame_finish(f);
	th = frame_hdr(f, FRAME_TCP, 0);
	th->doff = doff;
	frame_fix_checksums(f);
}

static void tcp_doff4(struct frame *f) { tcp_doff(f, 4, 16); }
static void tcp_doff0(struct frame *f) { tcp_doff(f, 0, 16); }
/* doff 15 (60 bytes) with only 20 + 16 bytes left in the frame. */
static void tcp_doff_past_end(struct frame *f) { tcp_doff(f, 15, 16); }

/* --- malformed IP / UDP ------------------------------------------------------- */

static void ipv4_ihl(struct frame *f, uint8_t ihl)
{
	struct iphdr *iph;

	ipv4_udp(f);
	iph = frame_hdr(f, FRAME_IPV4, 0);
	iph->ihl = ihl;
	frame_fix_checksums(f);
}

static void ipv4_ihl4(struct frame *f) { ipv4_ihl(f, 4); }
static void ipv4_ihl0(struct frame *f) { ipv4_ihl(f, 0); }

/* IPv4 with 4 bytes of options (IHL 6) and nothing after it; tot_len is
 * then set to `tot_len`. */
static void ipv4_opts_tot_len(struct frame *f, uint16_t tot_len)
{
	struct iphdr *iph;

	frame_eth(f, NULL, NULL, 0);
	frame_ipv4(f, &(struct ip4_spec){ .opt_len = 4, .proto = IPPROTO_GRE });
	frame_finish(f);
	iph = frame_hdr(f, FRAME_IPV4, 0);
	iph->tot_len = htons(tot_len);
	frame_fix_checksums(f);
}

static void ipv4_tot_len_lt_ihl(struct frame *f) { ipv4_opts_tot_len(f, 23); }
static void ipv4_tot_len_eq_ihl(struct frame *f) { ipv4_opts_tot_len(f, 24); }

static void ipv4_bad_version(struct frame *f)
{
	struct iphdr *iph;

	ipv4_udp(f);
	iph = frame_hdr(f, FRAME_IPV4, 0);
	iph->version = 6;
	frame_fix_checksums(f);
}

static void ipv6_bad_version(struct frame *f)
{
	uint8_t *ip6;

	ipv6_udp(f);
	ip6 = frame_hdr(f, FRAME_IPV6, 0);
	ip6[0] = (uint8_t)(0x40 | (ip6[0] & 0x0f));
}

static void udp_len7(struct frame *f)
{
	struct udphdr *uh;

	ipv4_udp(f);
	uh = frame_hdr(f, FRAME_UDP, 0);
	uh->len = htons(7);
	frame_fix_checksums(f);
}

/* --- helpers ---------------------------------------------------------------------- */

static bool parser_reads(enum frame_kind kind)
{
	switch (kind) {
	case FRAME_ARP:     /* only the EtherType is looked at */
	case FRAME_PAYLOAD:
		return false;
	default:
		return true;
	}
}

size_t parser_needs(const struct frame *f)
{
	return frame_end_of(f, parser_reads);
}

void catalog_build(const struct catalog_entry *e, struct frame *f)
{
	frame_init(f);
	e->build(f);
}

/* --- the table ---------------------------------------------------------------- */

#define PASS(name_, build_, ...) \
	{ .name = name_, .build = build_, .verdict = XDP_PASS, .want = { __VA_ARGS__ } }
#define DROP(name_, build_) \
	{ .name = name_, .build = build_, .verdict = XDP_DROP, .want = { .rc = -1 } }

/* Shorthands for the fields most entries share. */
#define IP4 .l3_proto = ETH_P_IP, .has_ip4 = 1
#define IP6 .l3_proto = ETH_P_IPV6, .has_ip6 = 1

const struct catalog_entry catalog[] = {
	PASS("eth-unknown-type", eth_unknown, .l3_proto = 0x88b5, .l3_off = 14),
	PASS("eth-802.3-length", eth_8023_length, .l3_proto = 46, .l3_off = 14),
	PASS("arp", arp_request, .l3_proto = ETH_P_ARP, .l3_off = 14),
	PASS("vlan-arp", vlan_arp, .l3_proto = ETH_P_ARP, .vlans = 1, .vlan_id = { 10 },
	     .l3_off = 18),

	PASS("ipv4-tcp", ipv4_tcp, IP4, .l3_off = 14, .ip_hdr_len = 20,
	     .l4_proto = IPPROTO_TCP, .l4_off = 34, .has_l4 = 1, .sport = 40000, .dport = 80),
	PASS("ipv4-udp", ipv4_udp, IP4, .l3_off = 14, .ip_hdr_len = 20,
	     .l4_proto = IPPROTO_UDP, .l4_off = 34, .has_l4 = 1, .sport = 5353, .dport = 53),
	/* ICMP: type in dport, code in sport. */
	PASS("ipv4-icmp-echo", ipv4_icmp_echo, IP4, .l3_off = 14, .ip_hdr_len = 20,
	     .l4_proto = IPPROTO_ICMP, .l4_off = 34, .has_l4 = 1, .sport = 0, .dport = 8),
	PASS("ipv4-icmp-unreach", ipv4_icmp_unreach, IP4, .l3_off = 14, .ip_hdr_len = 20,
	     .l4_proto = IPPROTO_ICMP, .l4_off = 34, .has_l4 = 1, .sport = 3, .dport = 3),
	PASS("ipv4-opts-tcp", ipv4_opts_tcp, IP4, .l3_off = 14, .ip_hdr_len = 32,
	     .l4_proto = IPPROTO_TCP, .l4_off = 46, .has_l4 = 1, .sport = 1025, .dport = 443),
	PASS("ipv4-opts40-udp", ipv4_opts40_udp, IP4, .l3_off = 14, .ip_hdr_len = 60,
	     .l4_proto = IPPROTO_UDP, .l4_off = 74, .has_l4 = 1, .sport = 67, .dport = 68),
	PASS("ipv4-gre", ipv4_gre, IP4, .l3_off = 14, .ip_hdr_len = 20,
	     .l4_proto = IPPROTO_GRE, .l4_off = 34),
	PASS("ipv4-df-tcp", ipv4_df_tcp, IP4, .l3_off = 14, .ip_hdr_len = 20, .frag = NONE,
	     .l4_proto = IPPROTO_TCP, .l4_off = 34, .has_l4 = 1, .sport = 22, .dport = 50000),
	PASS("ipv4-frag-first-tcp", ipv4_frag_first_tcp, IP4, .l3_off = 14, .ip_hdr_len = 20,
	     .frag = FIRST, .l4_proto = IPPROTO_TCP, .l4_off = 34, .has_l4 = 1,
	     .sport = 1234, .dport = 8080),
	PASS("ipv4-frag-middle", ipv4_frag_middle, IP4, .l3_off = 14, .ip_hdr_len = 20,
	     .frag = LATER, .l4_proto = IPPROTO_TCP, .l4_off = 34),
	PASS("ipv4-frag-last-udp", ipv4_frag_last_udp, IP4, .l3_off = 14, .ip_hdr_len = 20,
	     .frag = LATER, .l4_proto = IPPROTO_UDP, .l4_off = 34),
	PASS("ipv4-frag-offset-4096", ipv4_frag_offset_top, IP4, .l3_off = 14, .ip_hdr_len = 20,
	     .frag = LATER, .l4_proto = IPPROTO_TCP, .l4_off = 34),
	PASS("ipv4-frag-later-opts", ipv4_frag_later_opts, IP4, .l3_off = 14, .ip_hdr_len = 24,
	     .frag = LATER, .l4_proto = IPPROTO_UDP, .l4_off = 38),

	PASS("ipv6-tcp", ipv6_tcp, IP6, .l3_off = 14, .ip_hdr_len = 40,
	     .l4_proto = IPPROTO_TCP, .l4_off = 54, .has_l4 = 1, .sport = 443, .dport = 60000),
	PASS("ipv6-udp", ipv6_udp, IP6, .l3_off = 14, .ip_hdr_len = 40,
	     .l4_proto = IPPROTO_UDP, .l4_off = 54, .has_l4 = 1, .sport = 546, .dport = 547),
	PASS("ipv6-icmpv6-echo", ipv6_icmpv6_echo, IP6, .l3_off = 14, .ip_hdr_len = 40,
	     .l4_proto = IPPROTO_ICMPV6, .l4_off = 54, .has_l4 = 1, .sport = 0, .dport = 128),
	PASS("ipv6-hopopts-udp", ipv6_hopopts_udp, IP6, .l3_off = 14, .ip_hdr_len = 48,
	     .l4_proto = IPPROTO_UDP, .l4_off = 62, .has_l4 = 1, .sport = 1000, .dport = 2000),
	PASS("ipv6-hopopts-frag-first-udp", ipv6_hopopts_frag_first_udp, IP6, .l3_off = 14,
	     .ip_hdr_len = 64, .frag = FIRST, .l4_proto = IPPROTO_UDP, .l4_off = 78,
	     .has_l4 = 1, .sport = 4789, .dport = 4789),
	PASS("ipv6-dstopts-tcp", ipv6_dstopts_tcp, IP6, .l3_off = 14, .ip_hdr_len = 56,
	     .l4_proto = IPPROTO_TCP, .l4_off = 70, .has_l4 = 1, .sport = 179, .dport = 33000),
	PASS("ipv6-frag-later-udp", ipv6_frag_later_udp, IP6, .l3_off = 14, .ip_hdr_len = 48,
	     .frag = LATER, .l4_proto = IPPROTO_UDP, .l4_off = 62),
	PASS("ipv6-frag-offset-1", ipv6_frag_offset1, IP6, .l3_off = 14, .ip_hdr_len = 48,
	     .frag = LATER, .l4_proto = IPPROTO_UDP, .l4_off = 62),
	PASS("ipv6-frag-offset-4096", ipv6_frag_offset_top, IP6, .l3_off = 14, .ip_hdr_len = 48,
	     .frag = LATER, .l4_proto = IPPROTO_UDP, .l4_off = 62),
	PASS("ipv6-frag-later-dstopts", ipv6_frag_later_dstopts, IP6, .l3_off = 14,
	     .ip_hdr_len = 48, .frag = LATER, .l4_proto = IPPROTO_DSTOPTS, .l4_off = 62),
	PASS("ipv6-hopopts-256-tcp", ipv6_hopopts_big_tcp, IP6, .l3_off = 14,
	     .ip_hdr_len = 296, .l4_proto = IPPROTO_TCP, .l4_off = 310, .has_l4 = 1,
	     .sport = 5001, .dport = 5002),
	PASS("ipv6-ext-chain-6", ipv6_ext_chain6, IP6, .l3_off = 14, .ip_hdr_len = 88,
	     .l4_proto = IPPROTO_UDP, .l4_off = 102, .has_l4 = 1, .sport = 7, .dport = 7),
	DROP("ipv6-ext-chain-7", ipv6_ext_chain7),
	PASS("ipv6-no-next-header", ipv6_no_next, IP6, .l3_off = 14, .ip_hdr_len = 40,
	     .l4_proto = IPPROTO_NONE_V6, .l4_off = 54),

	PASS("vlan-ipv4-udp", vlan_ipv4_udp, IP4, .vlans = 1, .vlan_id = { 100 }, .l3_off = 18,
	     .ip_hdr_len = 20, .l4_proto = IPPROTO_UDP, .l4_off = 38, .has_l4 = 1,
	     .sport = 123, .dport = 123),
	PASS("vlan-pcp-dei", vlan_pcp_dei, IP4, .vlans = 1, .vlan_id = { 100 }, .l3_off = 18,
	     .ip_hdr_len = 20, .l4_proto = IPPROTO_UDP, .l4_off = 38, .has_l4 = 1,
	     .sport = 123, .dport = 123),
	PASS("qinq-ipv4-opts-tcp", qinq_ipv4_opts_tcp, IP4, .vlans = 2, .vlan_id = { 200, 300 },
	     .l3_off = 22, .ip_hdr_len = 32, .l4_proto = IPPROTO_TCP, .l4_off = 54,
	     .has_l4 = 1, .sport = 3306, .dport = 41000),
	PASS("qinq-ipv6-udp", qinq_ipv6_udp, IP6, .vlans = 2, .vlan_id = { 1, 4094 },
	     .l3_off = 22, .ip_hdr_len = 40, .l4_proto = IPPROTO_UDP, .l4_off = 62,
	     .has_l4 = 1, .sport = 500, .dport = 4500),
	DROP("vlan-triple", vlan_triple),

	PASS("tcp-opts40", tcp_opts40, IP4, .l3_off = 14, .ip_hdr_len = 20,
	     .l4_proto = IPPROTO_TCP, .l4_off = 34, .has_l4 = 1, .sport = 9, .dport = 10),
	DROP("tcp-doff-4", tcp_doff4),
	DROP("tcp-doff-0", tcp_doff0),
	DROP("tcp-doff-past-end", tcp_doff_past_end),

	DROP("ipv4-ihl-4", ipv4_ihl4),
	DROP("ipv4-ihl-0", ipv4_ihl0),
	DROP("ipv4-tot-len-lt-ihl", ipv4_tot_len_lt_ihl),
	PASS("ipv4-tot-len-eq-ihl", ipv4_tot_len_eq_ihl, IP4, .l3_off = 14, .ip_hdr_len = 24,
	     .l4_proto = IPPROTO_GRE, .l4_off = 38),
	DROP("ipv4-version-6", ipv4_bad_version),
	DROP("ipv6-version-4", ipv6_bad_version),
	DROP("udp-len-7", udp_len7),
};

const size_t catalog_len = sizeof(catalog) / sizeof(catalog[0]);
