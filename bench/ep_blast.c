/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ep_blast: a sandbox that transmits as fast as it can (bench helper).
 *
 *   ep_blast -D DST-IPV4 [-p DPORT] [-s BYTES] [-c CPU] [-t MS] [-d SECONDS]
 *
 * Takes the xdphook endpoint of this netns (libxdp_endpoint) and sends UDP
 * from the sandbox's first IPv4 address and its MAC to DST through the
 * gateway (MAC from the description), source ports spread over the
 * sandbox's ephemeral range. Every UMEM frame is written once: in copy
 * mode the kernel copies a frame out and never writes into it. Prints the
 * progress lines of bench.h with the frames the kernel has completed.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <poll.h>
#include <sys/socket.h>

#include <xdp_endpoint.h>

#define BATCH 64u
#define RING_SIZE 2048u

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
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
	return (uint16_t)~sum;
}

/* Ethernet, IPv4, UDP with both checksums, zero payload. */
static void build(uint8_t *f, uint32_t len, const uint8_t *src_mac, const uint8_t *dst_mac,
		  const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport)
{
	uint8_t *ip = f + 14, *udp = ip + 20;
	uint16_t ulen = (uint16_t)(len - 34), sum;

	memset(f, 0, len);
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, src_mac, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(len - 14));
	put16(ip + 6, 0x4000); /* DF: the id may stay 0 */
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	put16(ip + 10, fold(sum16(ip, 20, 0)));
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, ulen);
	/* pseudo header (addresses, protocol, length), then header and payload */
	sum = fold(sum16(udp, ulen, sum16(ip + 12, 8, 17u + ulen)));
	put16(udp + 6, sum ? sum : 0xffff);
}

static const struct xdp_endpoint_gateway *gateway4(struct xdp_endpoint *ep)
{
	for (size_t i = 0; i < xdp_endpoint_gateway_count(ep); i++)
		if (xdp_endpoint_gateway(ep, i)->family == AF_INET)
			return xdp_endpoint_gateway(ep, i);
	return NULL;
}

static const struct xdp_endpoint_addr *addr4(struct xdp_endpoint *ep)
{
	for (size_t i = 0; i < xdp_endpoint_addr_count(ep); i++)
		if (xdp_endpoint_addr(ep, i)->family == AF_INET)
			return xdp_endpoint_addr(ep, i);
	return NULL;
}

static int usage(void)
{
	fputs("usage: ep_blast -D DST-IPV4 [-p DPORT] [-s BYTES] [-c CPU] [-t INTERVAL-MS] [-d SECONDS]\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct xdp_endpoint_opts o = { .sz = sizeof(o), .ring_size = RING_SIZE };
	const struct xdp_endpoint_gateway *gw;
	const struct xdp_endpoint_addr *src;
	struct xdp_endpoint *ep;
	struct bench_ticker t;
	struct xsk_ring_prod *tx;
	struct xsk_ring_cons *comp;
	uint8_t dst[4], *umem;
	uint64_t *free_frames, done = 0;
	uint32_t nfree, nframes, fsize;
	uint16_t eph_lo, eph_hi;
	long dport = 9, size = 64, cpu = -1, interval_ms = 1000, seconds = 0, v;
	bool have_dst = false;
	int opt, err;

	while ((opt = getopt(argc, argv, "D:p:s:c:t:d:")) != -1) {
		if (opt == 'D') {
			have_dst = inet_pton(AF_INET, optarg, dst) == 1;
			if (!have_dst)
				return usage();
			continue;
		}
		v = bench_num(optarg);
		if (v < 0)
			return usage();
		switch (opt) {
		case 'p': dport = v; break;
		case 's': size = v; break;
		case 'c': cpu = v; break;
		case 't': interval_ms = v ? v : 1; break;
		case 'd': seconds = v; break;
		default: return usage();
		}
	}
	if (optind != argc || !have_dst || dport > 65535 || size < 60 || size > 1514)
		return usage();
	bench_signals();
	err = bench_pin((int)cpu);
	if (err) {
		fprintf(stderr, "ep_blast: pin to CPU %ld: %s\n", cpu, strerror(-err));
		return 1;
	}
	err = xdp_endpoint_open(&o, &ep);
	if (err) {
		fprintf(stderr, "ep_blast: endpoint: %s\n", xdp_endpoint_strerror(err));
		return 1;
	}
	gw = gateway4(ep);
	src = addr4(ep);
	if (!gw || !src || (uint32_t)size > xdp_endpoint_frame_size(ep)) {
		fprintf(stderr, "ep_blast: endpoint: %s\n",
			!gw ? "no IPv4 gateway" : !src ? "no IPv4 address" : "frame size above the UMEM's");
		xdp_endpoint_close(ep);
		return 1;
	}
	xdp_endpoint_ephemeral(ep, &eph_lo, &eph_hi);
	if (!eph_lo || eph_hi < eph_lo)
		eph_lo = eph_hi = 40000;

	/* Every frame we may have in flight, each with its own source port. */
	umem = xdp_endpoint_umem(ep);
	fsize = xdp_endpoint_frame_size(ep);
	nframes = xdp_endpoint_frame_count(ep);
	if (nframes > RING_SIZE)
		nframes = RING_SIZE;
	free_frames = calloc(nframes, sizeof(*free_frames));
	if (!free_frames) {
		xdp_endpoint_close(ep);
		return 1;
	}
	for (uint32_t i = 0; i < nframes; i++) {
		free_frames[i] = (uint64_t)i * fsize;
		build(umem + free_frames[i], (uint32_t)size, xdp_endpoint_mac(ep), gw->mac, src->addr, dst,
		      (uint16_t)(eph_lo + i % (eph_hi - eph_lo + 1u)), (uint16_t)dport);
	}
	nfree = nframes;
	tx = xdp_endpoint_tx(ep);
	comp = xdp_endpoint_completion(ep);

	bench_ticker_start(&t, interval_ms, (double)seconds);
	do {
		uint32_t idx, n;

		/* Frames the kernel has sent are ours again. */
		n = xsk_ring_cons__peek(comp, BATCH, &idx);
		if (n) { /* no store while empty: see ep_count.c */
			for (uint32_t i = 0; i < n; i++)
				free_frames[nfree++] = *xsk_ring_cons__comp_addr(comp, idx + i);
			xsk_ring_cons__release(comp, n);
			done += n;
		}

		n = nfree < BATCH ? nfree : BATCH;
		if (n && xsk_ring_prod__reserve(tx, n, &idx) == n) {
			for (uint32_t i = 0; i < n; i++) {
				struct xdp_desc *d = xsk_ring_prod__tx_desc(tx, idx + i);

				d->addr = free_frames[--nfree];
				d->len = (uint32_t)size;
				d->options = 0;
			}
			xsk_ring_prod__submit(tx, n);
		}
		/* Copy mode transmits in this call, a batch at a time. */
		xdp_endpoint_kick_tx(ep);
	} while (bench_tick(&t, done, NULL, NULL));

	free(free_frames);
	xdp_endpoint_close(ep);
	return 0;
}
