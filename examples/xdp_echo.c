/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp_echo: the smallest useful sandbox on an xdphook endpoint. It answers,
 * for the addresses in the endpoint's description:
 *   ARP requests, ICMP echo, ICMPv6 echo and neighbor solicitations, and
 *   UDP on any port (the datagram goes back as it came).
 * Everything else is dropped. It prints a line with "ready" once the
 * endpoint is open, and exits on SIGINT/SIGTERM with the frames it got
 * per socket.
 *
 *   xdp_echo                      take the endpoint (libxdp_endpoint), with
 *                                 the direct sockets on the NIC's RX queues
 *                                 where the keeper offers them (host mode,
 *                                 `direct`); replies always leave on xdp0
 *   xdp_echo --no-direct          the veth path alone (as older clients)
 *   xdp_echo --try-tx             also try to give each direct socket a TX
 *                                 ring and say what the kernel answered
 *                                 (it must refuse: EBUSY)
 *   xdp_endpoint -- xdp_echo      the same through the exec wrapper
 *
 * Frames never leave the UMEM: a reply is written over the request and
 * the same frame goes out on the TX ring; it comes back through the
 * completion ring and returns to the fill ring. All rings are at least as
 * large as the number of frames used, so no ring can ever be full.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_xdp.h>
#include <xdp_endpoint.h>

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#define BATCH 64
#define MAX_SOCKS (1 + XDP_ENDPOINT_MAX_DIRECT)

struct echo {
	struct xdp_endpoint *ep;
	uint8_t *umem;
	uint8_t mac[6];
	uint64_t frames, replies;
	uint64_t per_socket[MAX_SOCKS];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* ---- wire formats ---------------------------------------------------------- *
 *
 * Our own packed layouts rather than the libc ones: behind the 14-byte
 * Ethernet header everything sits 2 bytes off a 4-byte boundary, where the
 * libc structs (with their 32-bit members) must not be used. Multi-byte
 * fields are in network byte order.
 */
#define PACKED __attribute__((packed))

struct eth { uint8_t dst[6], src[6]; uint16_t type; } PACKED;
struct arp { uint16_t htype, ptype; uint8_t hlen, plen; uint16_t op;
	     uint8_t sha[6], spa[4], tha[6], tpa[4]; } PACKED;
struct ip4 { uint8_t vhl, tos; uint16_t len, id, frag; uint8_t ttl, proto; uint16_t csum;
	     uint8_t src[4], dst[4]; } PACKED;
struct ip6 { uint8_t vtc[4]; uint16_t plen; uint8_t next, hlim; uint8_t src[16], dst[16]; } PACKED;
struct icmp { uint8_t type, code; uint16_t csum; } PACKED; /* ICMP and ICMPv6 alike */
struct udp { uint16_t sport, dport, len, csum; } PACKED;
/* Neighbor solicitation / advertisement with one link-layer address option. */
struct nd { struct icmp h; uint8_t flags, reserved[3]; uint8_t target[16];
	    uint8_t opt_type, opt_len, lladdr[6]; } PACKED;

#define ETH_ARP 0x0806
#define ETH_IP4 0x0800
#define ETH_IP6 0x86dd
#define PROTO_ICMP 1
#define PROTO_UDP 17
#define PROTO_ICMP6 58
#define ICMP_ECHO_REQ 8
#define ICMP_ECHO_REP 0
#define ICMP6_ECHO_REQ 128
#define ICMP6_ECHO_REP 129
#define ND_SOLICIT 135
#define ND_ADVERT 136
#define ND_FLAG_SOLICITED 0x40
#define ND_FLAG_OVERRIDE 0x20
#define ND_OPT_TARGET_LL 2

/* ---- checksums ---------------------------------------------------------- */

static uint32_t sum16(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* ICMPv6 checksum: the IPv6 pseudo header, then the message. */
static uint16_t icmp6_csum(const struct ip6 *ip6, const void *msg, size_t len)
{
	uint32_t sum = sum16(ip6->src, 32, 0);

	sum += (uint32_t)len + PROTO_ICMP6;
	return fold(sum16(msg, len, sum));
}

/* ---- who we are ----------------------------------------------------------- */

static bool our_addr(const struct echo *e, int family, const uint8_t *addr)
{
	size_t n = xdp_endpoint_addr_count(e->ep), len = family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < n; i++) {
		const struct xdp_endpoint_addr *a = xdp_endpoint_addr(e->ep, i);

		if (a->family == family && !memcmp(a->addr, addr, len))
			return true;
	}
	return false;
}

/* The reply goes back where the request came from, from us. */
static void eth_reply(const struct echo *e, struct eth *eth)
{
	memcpy(eth->dst, eth->src, 6);
	memcpy(eth->src, e->mac, 6);
}

static void swap(uint8_t *a, uint8_t *b, size_t len)
{
	uint8_t t[16];

	memcpy(t, a, len);
	memcpy(a, b, len);
	memcpy(b, t, len);
}

/* ---- ARP ---------------------------------------------------------------------- */

static uint32_t arp(struct echo *e, struct eth *eth, uint32_t len)
{
	struct arp *a = (void *)(eth + 1);

	if (len < sizeof(*eth) + sizeof(*a) || a->htype != htons(1) || a->ptype != htons(ETH_IP4) ||
	    a->hlen != 6 || a->plen != 4 || a->op != htons(1) || !our_addr(e, AF_INET, a->tpa))
		return 0;
	/* "tpa is at our MAC", to whoever asked. */
	swap(a->spa, a->tpa, 4);
	memcpy(a->tha, a->sha, 6);
	memcpy(a->sha, e->mac, 6);
	a->op = htons(2);
	eth_reply(e, eth);
	return sizeof(*eth) + sizeof(*a);
}

/* ---- IPv4: ICMP echo, UDP ------------------------------------------------------ */

static uint32_t ipv4(struct echo *e, struct eth *eth, uint32_t len)
{
	struct ip4 *ip = (void *)(eth + 1);
	uint32_t hlen, tot;
	uint8_t *l4;

	if (len < sizeof(*eth) + sizeof(*ip) || ip->vhl >> 4 != 4 || (ip->vhl & 15) < 5)
		return 0;
	hlen = (ip->vhl & 15) * 4u;
	tot = ntohs(ip->len);
	/* Whole, unfragmented, for us. */
	if (tot < hlen || tot > len - sizeof(*eth) || (ntohs(ip->frag) & 0x3fff) ||
	    !our_addr(e, AF_INET, ip->dst))
		return 0;
	l4 = (uint8_t *)ip + hlen;
	if (ip->proto == PROTO_ICMP) {
		struct icmp *icmp = (void *)l4;

		if (tot - hlen < sizeof(*icmp) || icmp->type != ICMP_ECHO_REQ || icmp->code)
			return 0;
		icmp->type = ICMP_ECHO_REP;
		icmp->csum = 0;
		icmp->csum = fold(sum16(icmp, tot - hlen, 0));
	} else if (ip->proto == PROTO_UDP) {
		struct udp *udp = (void *)l4;

		if (tot - hlen < sizeof(*udp))
			return 0;
		/* Swapping addresses and ports leaves the checksum as it is. */
		swap((uint8_t *)&udp->sport, (uint8_t *)&udp->dport, 2);
	} else {
		return 0;
	}
	swap(ip->src, ip->dst, 4);
	ip->ttl = 64;
	ip->csum = 0;
	ip->csum = fold(sum16(ip, hlen, 0));
	eth_reply(e, eth);
	return sizeof(*eth) + tot;
}

/* ---- IPv6: ICMPv6 echo, neighbor solicitation, UDP ------------------------------ */

/* NS for one of our addresses -> NA with our MAC, over the request. */
static uint32_t neighbor(struct echo *e, struct eth *eth, struct ip6 *ip6, uint32_t plen)
{
	static const uint8_t unspecified[16], all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	struct nd *nd = (void *)(ip6 + 1);
	bool dad = !memcmp(ip6->src, unspecified, 16);

	/* The option may be missing from the request (DAD has none); the
	 * answer always has one (the frame has room for it). */
	if (plen < offsetof(struct nd, opt_type) || ip6->hlim != 255 || nd->h.code ||
	    !our_addr(e, AF_INET6, nd->target))
		return 0;
	/* A duplicate address check (from ::) is answered to all nodes;
	 * eth_reply() sends to the request's source, so their MAC goes there. */
	if (dad) {
		memcpy(ip6->dst, all_nodes, 16);
		memcpy(eth->src, all_nodes_mac, 6);
	} else {
		memcpy(ip6->dst, ip6->src, 16);
	}
	memcpy(ip6->src, nd->target, 16);
	ip6->plen = htons(sizeof(*nd));
	ip6->hlim = 255;
	nd->h.type = ND_ADVERT;
	nd->flags = dad ? ND_FLAG_OVERRIDE : ND_FLAG_SOLICITED | ND_FLAG_OVERRIDE;
	memset(nd->reserved, 0, sizeof(nd->reserved));
	nd->opt_type = ND_OPT_TARGET_LL;
	nd->opt_len = 1; /* units of 8 bytes */
	memcpy(nd->lladdr, e->mac, 6);
	nd->h.csum = 0;
	nd->h.csum = icmp6_csum(ip6, nd, sizeof(*nd));
	eth_reply(e, eth);
	return sizeof(*eth) + sizeof(*ip6) + sizeof(*nd);
}

static uint32_t ipv6(struct echo *e, struct eth *eth, uint32_t len)
{
	struct ip6 *ip6 = (void *)(eth + 1);
	uint32_t plen;

	if (len < sizeof(*eth) + sizeof(*ip6) || ip6->vtc[0] >> 4 != 6)
		return 0;
	plen = ntohs(ip6->plen);
	if (plen > len - sizeof(*eth) - sizeof(*ip6))
		return 0;
	if (ip6->next == PROTO_ICMP6 && plen >= sizeof(struct icmp)) {
		struct icmp *icmp = (void *)(ip6 + 1);

		/* To a solicited-node group, so before the destination check. */
		if (icmp->type == ND_SOLICIT)
			return neighbor(e, eth, ip6, plen);
		if (icmp->type != ICMP6_ECHO_REQ || icmp->code || !our_addr(e, AF_INET6, ip6->dst))
			return 0;
		icmp->type = ICMP6_ECHO_REP;
		swap(ip6->src, ip6->dst, 16);
		icmp->csum = 0;
		icmp->csum = icmp6_csum(ip6, icmp, plen);
	} else if (ip6->next == PROTO_UDP && plen >= sizeof(struct udp) &&
		   our_addr(e, AF_INET6, ip6->dst)) {
		struct udp *udp = (void *)(ip6 + 1);

		swap((uint8_t *)&udp->sport, (uint8_t *)&udp->dport, 2);
		swap(ip6->src, ip6->dst, 16);
	} else {
		return 0;
	}
	ip6->hlim = 64;
	eth_reply(e, eth);
	return sizeof(*eth) + sizeof(*ip6) + plen;
}

/* The length of the reply written over the frame, or 0 for none. */
static uint32_t answer(struct echo *e, uint8_t *frame, uint32_t len)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct eth *eth = (void *)frame;

	if (len < sizeof(*eth))
		return 0;
	/* Ours, broadcast (ARP) or IPv6 multicast (neighbor solicitations). */
	if (memcmp(eth->dst, e->mac, 6) && memcmp(eth->dst, bcast, 6) &&
	    !(eth->dst[0] == 0x33 && eth->dst[1] == 0x33))
		return 0;
	switch (ntohs(eth->type)) {
	case ETH_ARP:
		return arp(e, eth, len);
	case ETH_IP4:
		return ipv4(e, eth, len);
	case ETH_IP6:
		return ipv6(e, eth, len);
	default:
		return 0;
	}
}

/* ---- the rings ------------------------------------------------------------------ */

/* Frames the kernel has sent go back to the fill rings. */
static void reclaim(struct echo *e)
{
	struct xsk_ring_cons *comp = xdp_endpoint_completion(e->ep);
	uint64_t addrs[BATCH];
	uint32_t idx, n = xsk_ring_cons__peek(comp, BATCH, &idx);

	for (uint32_t i = 0; i < n; i++)
		addrs[i] = *xsk_ring_cons__comp_addr(comp, idx + i);
	xsk_ring_cons__release(comp, n);
	xdp_endpoint_refill(e->ep, addrs, n);
}

/* From every socket (xdp0's and the direct ones); replies go out on
 * xdp0's TX ring, the only one there is. */
static void receive(struct echo *e)
{
	struct xsk_ring_prod *tx = xdp_endpoint_tx(e->ep);
	struct xdp_endpoint_frame f[BATCH];
	uint64_t back[BATCH];
	uint32_t len[BATCH], tidx = 0, nback = 0, nsent = 0;
	uint32_t n = xdp_endpoint_receive(e->ep, f, BATCH);

	if (!n)
		return;
	for (uint32_t i = 0; i < n; i++) {
		len[i] = answer(e, xsk_umem__get_data(e->umem, f[i].addr), f[i].len);
		nsent += len[i] != 0;
		e->per_socket[f[i].socket]++;
	}
	/* Never short: the TX ring holds every frame we use. */
	if (nsent && xsk_ring_prod__reserve(tx, nsent, &tidx) != nsent)
		nsent = 0, memset(len, 0, sizeof(len));
	for (uint32_t i = 0; i < n; i++) {
		if (!len[i]) {
			back[nback++] = f[i].addr;
			continue;
		}
		struct xdp_desc *t = xsk_ring_prod__tx_desc(tx, tidx++);

		t->addr = f[i].addr;
		t->len = len[i];
		t->options = 0;
	}
	if (nsent) {
		xsk_ring_prod__submit(tx, nsent);
		xdp_endpoint_kick_tx(e->ep);
	}
	xdp_endpoint_refill(e->ep, back, nback);
	e->frames += n;
	e->replies += nsent;
}

/* Hand every frame we use to the kernel for receiving (unless the
 * library did, with the direct sockets). */
static void stock(struct echo *e, uint32_t frames)
{
	uint32_t fs = xdp_endpoint_frame_size(e->ep);
	uint64_t addrs[BATCH];

	for (uint32_t i = 0; i < frames;) {
		uint32_t n = 0;

		while (n < BATCH && i < frames)
			addrs[n++] = (uint64_t)i++ * fs;
		xdp_endpoint_refill(e->ep, addrs, n);
	}
}

/* A direct socket must never get a TX ring: the sandbox's frames leave
 * through xdp0's source check only. Say what the kernel answers. */
static void try_tx(struct xdp_endpoint *ep)
{
	for (size_t i = 1; i < xdp_endpoint_socket_count(ep); i++) {
		uint32_t size = 64;
		int rc = setsockopt(xdp_endpoint_fd_n(ep, i), SOL_XDP, XDP_TX_RING, &size, sizeof(size));

		printf("xdp_echo: TX ring on %s queue %u: %s\n", xdp_endpoint_ifname_n(ep, i),
		       xdp_endpoint_queue_n(ep, i), rc ? strerror(errno) : "accepted");
	}
}

static uint32_t frames_used(struct xdp_endpoint *ep)
{
	uint32_t n = xdp_endpoint_frame_count(ep);

	for (int r = XDP_ENDPOINT_RING_FILL; r <= XDP_ENDPOINT_RING_TX; r++)
		if (xdp_endpoint_ring_size(ep, r) < n)
			n = xdp_endpoint_ring_size(ep, r);
	return n;
}

static void print_ready(struct xdp_endpoint *ep)
{
	char buf[INET6_ADDRSTRLEN];

	printf("xdp_echo: ready on %s (ifindex %d, queue %u):", xdp_endpoint_ifname(ep),
	       xdp_endpoint_ifindex(ep), xdp_endpoint_queue(ep));
	for (size_t i = 0; i < xdp_endpoint_addr_count(ep); i++) {
		const struct xdp_endpoint_addr *a = xdp_endpoint_addr(ep, i);

		printf(" %s/%u", inet_ntop(a->family, a->addr, buf, sizeof(buf)), a->prefix_len);
	}
	for (size_t i = 1; i < xdp_endpoint_socket_count(ep); i++)
		printf("%s %s/%u:%s:%s", i == 1 ? "; direct" : "", xdp_endpoint_ifname_n(ep, i),
		       xdp_endpoint_queue_n(ep, i), xdp_endpoint_zerocopy_n(ep, i) ? "zero-copy" : "copy",
		       xdp_endpoint_own_umem_n(ep, i) ? "own-umem" : "xdp0-umem");
	printf("\n");
	fflush(stdout);
}

static void print_counts(const struct echo *e)
{
	fprintf(stderr, "xdp_echo: %llu frames, %llu answered; per socket:", (unsigned long long)e->frames,
		(unsigned long long)e->replies);
	for (size_t i = 0; i < xdp_endpoint_socket_count(e->ep); i++)
		fprintf(stderr, " %s/%u=%llu", xdp_endpoint_ifname_n(e->ep, i), xdp_endpoint_queue_n(e->ep, i),
			(unsigned long long)e->per_socket[i]);
	fputc('\n', stderr);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: poll returns */
	struct xdp_endpoint_opts opts = { .sz = sizeof(opts), .flags = XDP_ENDPOINT_F_DIRECT };
	struct echo e = { 0 };
	bool tx = false;
	int err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-direct"))
			opts.flags &= ~(unsigned int)XDP_ENDPOINT_F_DIRECT;
		else if (!strcmp(argv[i], "--try-tx"))
			tx = true;
		else {
			fputs("usage: xdp_echo [--no-direct] [--try-tx]   (or: xdp_endpoint -- xdp_echo)\n",
			      stderr);
			return 2;
		}
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	err = getenv("XDP_ENDPOINT_JSON") ? xdp_endpoint_from_env(&e.ep)
					  : xdp_endpoint_open(&opts, &e.ep);
	if (err) {
		fprintf(stderr, "xdp_echo: %s\n", xdp_endpoint_strerror(err));
		return 1;
	}
	e.umem = xdp_endpoint_umem(e.ep);
	memcpy(e.mac, xdp_endpoint_mac(e.ep), 6);
	if (!xdp_endpoint_fill_frames(e.ep))
		stock(&e, frames_used(e.ep));
	if (tx)
		try_tx(e.ep);
	print_ready(e.ep);

	while (!stop) {
		struct pollfd p[MAX_SOCKS + 1];
		size_t n = xdp_endpoint_pollfds(e.ep, p, MAX_SOCKS + 1);

		if (poll(p, n, 1000) < 0 && errno != EINTR) {
			perror("xdp_echo: poll");
			err = 1;
			break;
		}
		/* The keeper says nothing after OK: anything is its goodbye. */
		if (p[n - 1].revents) {
			fprintf(stderr, "xdp_echo: the keeper took the endpoint back\n");
			err = 1;
			break;
		}
		reclaim(&e);
		receive(&e);
	}
	print_counts(&e);
	xdp_endpoint_close(e.ep);
	return err;
}
