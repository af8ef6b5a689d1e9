/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A small frame builder for packet-level tests (BPF_PROG_TEST_RUN).
 *
 * A frame is built outermost header first, one call per header:
 *
 *	struct frame f;
 *
 *	frame_init(&f);
 *	frame_eth(&f, NULL, NULL, 0);
 *	frame_vlan(&f, ETH_P_8021Q, 100);
 *	frame_ipv4(&f, &(struct ip4_spec){ .opt_len = 8 });
 *	frame_tcp(&f, &(struct tcp_spec){ .sport = 1234, .dport = 80 });
 *	frame_payload(&f, 32);
 *	frame_finish(&f);
 *
 * Each header that has a "next protocol" field (EtherType, IPv4 protocol,
 * IPv6 next header) gets it from the header pushed after it, unless the
 * caller gave one explicitly (a non-zero type/proto/nexthdr argument).
 * frame_finish() then fills every length (IPv4 tot_len, IPv6 payload_len,
 * UDP len) and every checksum (IPv4 header, TCP/UDP/ICMP/ICMPv6), so the
 * result is a frame a real stack would accept.
 *
 * The builder remembers where each header is (struct frame_layer), so tests
 * can derive offsets and header boundaries instead of hard-coding them, and
 * can break a header after frame_finish() (frame_hdr() returns a pointer to
 * it) to test malformed frames; frame_fix_checksums() re-does only the
 * checksums after such an edit, leaving the broken field alone.
 *
 * Frames need not start with Ethernet: building a bare IPv4 packet and
 * appending it with frame_bytes() gives, e.g., the quoted datagram of an
 * ICMP error.
 *
 * Misuse (overflowing the buffer, impossible option lengths, a VLAN tag
 * after an IP header, ...) is a bug in the test: it aborts with a message.
 *
 * Values are host order unless the field says otherwise; addresses are in
 * network order (as in struct in_addr / in6_addr).
 */
#ifndef XDPHOOK_TEST_FRAMES_H
#define XDPHOOK_TEST_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* Room for any test frame; BPF_PROG_TEST_RUN takes up to about 3.5 KiB of
 * linear XDP data, so this stays well inside it. */
#define FRAME_MAX 2048
#define FRAME_MAX_LAYERS 16

/* Defaults used when a spec leaves an address zero. */
extern const uint8_t frame_mac_src[6];  /* 02:00:00:00:00:01 */
extern const uint8_t frame_mac_dst[6];  /* 02:00:00:00:00:02 */
#define FRAME_IP4_SRC 0xc0000201u       /* 192.0.2.1 (host order) */
#define FRAME_IP4_DST 0xc0000202u       /* 192.0.2.2 */
extern const struct in6_addr frame_ip6_src; /* 2001:db8::1 */
extern const struct in6_addr frame_ip6_dst; /* 2001:db8::2 */

enum frame_kind {
	FRAME_ETH,
	FRAME_VLAN,
	FRAME_ARP,
	FRAME_IPV4,
	FRAME_IPV6,
	FRAME_IPV6_HOPOPTS,
	FRAME_IPV6_DSTOPTS,
	FRAME_IPV6_FRAG,
	FRAME_TCP,
	FRAME_UDP,
	FRAME_ICMP,
	FRAME_ICMPV6,
	FRAME_PAYLOAD, /* frame_payload() and frame_bytes(): no header */
};

/* One header (or payload run) of a frame: [off, off + len). */
struct frame_layer {
	enum frame_kind kind;
	uint16_t off;
	uint16_t len;
	bool auto_next; /* next-protocol field taken from the following layer */
};

struct frame {
	/* data starts 2 bytes into an 8-byte aligned block, as the kernel's
	 * NET_IP_ALIGN does: everything after a 14-byte Ethernet header is
	 * then 4-byte aligned and frame_hdr() pointers can be used as
	 * struct iphdr * etc. (not so for frames that begin without Ethernet:
	 * edit those byte-wise). */
	uint8_t align_pad[2];
	uint8_t data[FRAME_MAX];
	size_t len;
	struct frame_layer layer[FRAME_MAX_LAYERS];
	int nlayers;
} __attribute__((aligned(8)));

struct ip4_spec {
	uint32_t saddr, daddr; /* network order; 0: FRAME_IP4_SRC/DST */
	uint8_t proto;         /* 0: from the next layer */
	uint8_t ttl;           /* 0: 64 */
	uint8_t tos;
	uint16_t id;
	uint16_t frag_off;     /* fragment offset in 8-byte units */
	bool more_frags;       /* MF */
	bool dont_frag;        /* DF */
	uint8_t opt_len;       /* bytes of options: 0..40, multiple of 4 */
};

struct ip6_spec {
	struct in6_addr saddr, daddr; /* all zero: frame_ip6_src/dst */
	uint8_t nexthdr;       /* 0: from the next layer */
	uint8_t hop_limit;     /* 0: 64 */
	uint32_t flow_label;
};

struct tcp_spec {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;         /* FRAME_TCP_*; 0: ACK */
	uint16_t window;       /* 0: 65535 */
	uint8_t opt_len;       /* bytes of options: 0..40, multiple of 4 */
};

#define FRAME_TCP_FIN 0x01
#define FRAME_TCP_SYN 0x02
#define FRAME_TCP_RST 0x04
#define FRAME_TCP_PSH 0x08
#define FRAME_TCP_ACK 0x10

/* --- building ------------------------------------------------------------- */

void frame_init(struct frame *f);

/* dst/src NULL: frame_mac_dst/src. type 0: from the next layer (and stays 0
 * if nothing follows). */
void frame_eth(struct frame *f, const uint8_t *dst, const uint8_t *src, uint16_t type);

/* An 802.1Q (ETH_P_8021Q) or 802.1ad (ETH_P_8021AD) tag; the tpid goes into
 * the previous header's EtherType. */
void frame_vlan(struct frame *f, uint16_t tpid, uint16_t vid);

/* ARP for IPv4 over Ethernet, sender MAC frame_mac_src; addresses in network
 * order. */
void frame_arp(struct frame *f, uint16_t op, uint32_t sip, uint32_t tip);

void frame_ipv4(struct frame *f, const struct ip4_spec *spec); /* spec may be NULL */
void frame_ipv6(struct frame *f, const struct ip6_spec *spec); /* spec may be NULL */

/* IPv6 hop-by-hop or destination options header of len bytes (a multiple of
 * 8, 8..2048), padded with a PadN option. */
void frame_ipv6_hopopts(struct frame *f, size_t len);
void frame_ipv6_dstopts(struct frame *f, size_t len);

/* IPv6 fragment header: offset in 8-byte units, M flag. nexthdr 0: from the
 * next layer (give it explicitly for a later fragment, which has none). */
void frame_ipv6_frag(struct frame *f, uint16_t offset, bool more, uint8_t nexthdr,
		     uint32_t id);

/* TCP: options are an MSS option (when opt_len >= 4) padded with NOPs. */
void frame_tcp(struct frame *f, const struct tcp_spec *spec);
void frame_udp(struct frame *f, uint16_t sport, uint16_t dport);
/* ICMP/ICMPv6: type, code, checksum and 4 bytes "rest of header" (id/seq of
 * an echo). */
void frame_icmp(struct frame *f, uint8_t type, uint8_t code, uint16_t id, uint16_t seq);
void frame_icmp6(struct frame *f, uint8_t type, uint8_t code, uint16_t id, uint16_t seq);

/* len bytes of a recognisable pattern (i & 0xff), or the given bytes. */
void frame_payload(struct frame *f, size_t len);
void frame_bytes(struct frame *f, const void *data, size_t len);

/* Fill lengths and checksums. Call once, after the last header/payload. For
 * a first fragment the L4 checksum covers only the bytes in this frame (a
 * real one covers the reassembled datagram). */
void frame_finish(struct frame *f);

/* Only the checksums (after editing a finished frame on purpose). */
void frame_fix_checksums(struct frame *f);

/* Append zero bytes up to len (Ethernet minimum-size padding): the IP
 * lengths keep describing the packet without the trailer. */
void frame_pad_to(struct frame *f, size_t len);

/* --- inspecting ------------------------------------------------------------ */

/* The n-th (0 = first) layer of that kind, or NULL. */
const struct frame_layer *frame_find(const struct frame *f, enum frame_kind kind, int n);

/* Pointer to the header of the n-th layer of that kind, or NULL: cast it to
 * struct iphdr * etc. to edit a field (see the alignment note above). */
void *frame_hdr(struct frame *f, enum frame_kind kind, int n);

/* Offset just past the last layer for which keep(kind) is true, 0 if none:
 * e.g. how many bytes a parser must see to read every header it parses. */
size_t frame_end_of(const struct frame *f, bool (*keep)(enum frame_kind kind));

const char *frame_kind_name(enum frame_kind kind);

/* --- checksums -------------------------------------------------------------- */

/* Ones' complement sum of data as big-endian 16-bit words (an odd last byte
 * is padded with zero), added to sum; not folded. */
uint32_t csum_add(uint32_t sum, const void *data, size_t len);

/* Fold a sum to 16 bits and complement it: the value to store in a checksum
 * field, in host order (store it with htons()). */
uint16_t csum_fold(uint32_t sum);

/* RFC 1071 internet checksum of a buffer, host order. Over data that
 * includes a correct checksum field it is 0. */
uint16_t inet_csum(const void *data, size_t len);

/* TCP/UDP/ICMPv6 checksum of the L4 segment at l4 (len bytes, checksum field
 * included as it is) with the IPv4/IPv6 pseudo header. Host order; 0 over a
 * segment whose checksum is correct. For UDP a computed 0 is sent as 0xffff. */
uint16_t l4_csum_v4(uint32_t saddr, uint32_t daddr, uint8_t proto,
		    const void *l4, size_t len);
uint16_t l4_csum_v6(const struct in6_addr *saddr, const struct in6_addr *daddr,
		    uint8_t proto, const void *l4, size_t len);

/* True when every checksum in the frame (IPv4 headers, TCP/UDP/ICMP/ICMPv6
 * over the rest of the frame) is correct; UDP checksum 0 over IPv4 means
 * "none" and counts as correct. */
bool frame_checksums_ok(const struct frame *f);

#endif
