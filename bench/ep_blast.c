/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ep_blast: a sandbox that transmits as fast as it can (bench helper).
 *
 *   ep_blast -D DST-IPV4 [-p DPORT] [-s BYTES] [-c CPU] [-t MS] [-d SECONDS]
 *   ep_blast -i DEV -D DST-IPV4 [-m DST-MAC] [-S SRC-IPV4] [-p DPORT] ...
 *   ... [-B TX-BUDGET]: frames per sendto() in copy mode (kernel default 32)
 *
 * Takes the xdphook endpoint of this netns (libxdp_endpoint) and sends UDP
 * from the sandbox's first IPv4 address and its MAC to DST through the
 * gateway (MAC from the description), source ports spread over the
 * sandbox's ephemeral range. With -i, a copy-mode AF_XDP socket of its own
 * on queue 0 of DEV instead (the same UMEM and ring sizes), frames from
 * DEV's MAC and SRC (default 10.77.0.1) to DST-MAC (default
 * 02:00:00:00:00:02): the ceiling of AF_XDP transmit on that device, with
 * no xdphook in the way. Every UMEM frame is written once: in copy mode
 * the kernel copies a frame out and never writes into it. Prints the
 * progress lines of bench.h with the frames the kernel has completed.
 */
#include "bench.h"
#include "csum.h"

#include <arpa/inet.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <netinet/ether.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <xdp_endpoint.h>

#define BATCH 64u
#define RING_SIZE 2048u
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9 /* uapi <linux/if_xdp.h>, Linux 6.17 */
#endif
#define OWN_FRAME_SIZE 4096u    /* the endpoint's default frame and UMEM sizes */
#define OWN_NFRAMES 1024u

/* What the send loop works on: the endpoint's, or a socket of our own. */
struct sender {
	struct xsk_ring_prod *tx;
	struct xsk_ring_cons *comp;
	uint8_t *umem;
	uint32_t frame_size, nframes;
	int fd;
};

/* -i: a copy-mode AF_XDP socket of our own on queue 0 of ifindex, the raw
 * sequence (as libxdp_endpoint does it), with TX and completion rings. */
struct own {
	struct xsk_ring_prod tx, fill;
	struct xsk_ring_cons comp;
	void *umem, *map[3];
	size_t umem_len, map_len[3];
	int fd;
};

static int own_ring(struct own *o, int i, int opt_size, off_t pgoff, const struct xdp_ring_offset *off,
		    uint32_t entry, void *r, bool prod)
{
	uint32_t size = RING_SIZE;
	struct xsk_ring_prod *p = r;
	struct xsk_ring_cons *c = r;
	void *m;

	/* First call: the size; second, with the offsets: the mapping. */
	if (!off)
		return setsockopt(o->fd, SOL_XDP, opt_size, &size, sizeof(size)) ? -errno : 0;
	o->map_len[i] = off->desc + size * entry;
	m = mmap(NULL, o->map_len[i], PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, o->fd, pgoff);
	if (m == MAP_FAILED)
		return -errno;
	o->map[i] = m;
	if (prod) {
		p->mask = size - 1;
		p->size = size;
		p->producer = (uint32_t *)((char *)m + off->producer);
		p->consumer = (uint32_t *)((char *)m + off->consumer);
		p->flags = (uint32_t *)((char *)m + off->flags);
		p->ring = (char *)m + off->desc;
		p->cached_prod = 0;
		p->cached_cons = size;
	} else {
		c->mask = size - 1;
		c->size = size;
		c->producer = (uint32_t *)((char *)m + off->producer);
		c->consumer = (uint32_t *)((char *)m + off->consumer);
		c->flags = (uint32_t *)((char *)m + off->flags);
		c->ring = (char *)m + off->desc;
		c->cached_prod = c->cached_cons = 0;
	}
	return 0;
}

static int own_open(struct own *o, int ifindex, struct sender *s)
{
	struct xdp_umem_reg reg = { .chunk_size = OWN_FRAME_SIZE };
	struct sockaddr_xdp sa = { .sxdp_family = AF_XDP, .sxdp_ifindex = (uint32_t)ifindex,
				   .sxdp_flags = XDP_COPY | XDP_USE_NEED_WAKEUP };
	struct xdp_mmap_offsets off;
	socklen_t len = sizeof(off);
	int err;

	o->fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (o->fd < 0)
		return -errno;
	o->umem_len = (size_t)OWN_NFRAMES * OWN_FRAME_SIZE;
	o->umem = mmap(NULL, o->umem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (o->umem == MAP_FAILED) {
		o->umem = NULL;
		return -errno;
	}
	reg.addr = (uintptr_t)o->umem;
	reg.len = o->umem_len;
	if (setsockopt(o->fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)))
		return -errno;
	/* The fill ring must exist to bind; nothing is received. */
	if ((err = own_ring(o, 0, XDP_UMEM_FILL_RING, 0, NULL, 0, &o->fill, true)) ||
	    (err = own_ring(o, 0, XDP_UMEM_COMPLETION_RING, 0, NULL, 0, &o->comp, false)) ||
	    (err = own_ring(o, 0, XDP_TX_RING, 0, NULL, 0, &o->tx, true)))
		return err;
	if (getsockopt(o->fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &len))
		return -errno;
	if ((err = own_ring(o, 1, XDP_UMEM_COMPLETION_RING, (off_t)XDP_UMEM_PGOFF_COMPLETION_RING, &off.cr,
			    sizeof(uint64_t), &o->comp, false)) ||
	    (err = own_ring(o, 2, XDP_TX_RING, (off_t)XDP_PGOFF_TX_RING, &off.tx, sizeof(struct xdp_desc),
			    &o->tx, true)))
		return err;
	if (bind(o->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -errno;
	*s = (struct sender){ .tx = &o->tx, .comp = &o->comp, .umem = o->umem,
			      .frame_size = OWN_FRAME_SIZE, .nframes = OWN_NFRAMES, .fd = o->fd };
	return 0;
}

static void own_close(struct own *o)
{
	for (int i = 0; i < 3; i++)
		if (o->map[i])
			munmap(o->map[i], o->map_len[i]);
	if (o->fd > 0)
		close(o->fd);
	if (o->umem)
		munmap(o->umem, o->umem_len);
}

static int dev_mac(const char *dev, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

/* Kick the kernel into sending what is on the TX ring. */
static void kick(const struct sender *s)
{
	if (xsk_ring_prod__needs_wakeup(s->tx))
		sendto(s->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
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
	put16(ip + 10, csum_final(csum_add(ip, 20, 0)));
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, ulen);
	/* pseudo header (addresses, protocol, length), then header and payload */
	sum = csum_final(csum_add(udp, ulen, csum_add(ip + 12, 8, 17u + ulen)));
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
	fputs("usage: ep_blast [-i DEV [-m DST-MAC] [-S SRC-IPV4]] -D DST-IPV4 [-p DPORT] [-s BYTES]\n"
	      "                [-B TX-BUDGET] " BENCH_USAGE "\n",
	      stderr);
	return 2;
}

/* The endpoint's sender and addresses: the sandbox's MAC and first IPv4
 * address, the gateway's MAC, the sandbox's ephemeral ports. */
static int from_endpoint(struct xdp_endpoint **epp, struct sender *s, uint8_t *src_mac, uint8_t *dst_mac,
			 uint8_t *src, uint16_t *eph_lo, uint16_t *eph_hi)
{
	struct xdp_endpoint_opts o = { .sz = sizeof(o), .ring_size = RING_SIZE };
	const struct xdp_endpoint_gateway *gw;
	const struct xdp_endpoint_addr *a;
	struct xdp_endpoint *ep;
	int err = xdp_endpoint_open(&o, &ep);

	if (err) {
		fprintf(stderr, "ep_blast: endpoint: %s\n", xdp_endpoint_strerror(err));
		return err;
	}
	*epp = ep;
	gw = gateway4(ep);
	a = addr4(ep);
	if (!gw || !a) {
		fprintf(stderr, "ep_blast: endpoint: %s\n", !gw ? "no IPv4 gateway" : "no IPv4 address");
		return -ENOENT;
	}
	memcpy(src_mac, xdp_endpoint_mac(ep), 6);
	memcpy(dst_mac, gw->mac, 6);
	memcpy(src, a->addr, 4);
	xdp_endpoint_ephemeral(ep, eph_lo, eph_hi);
	*s = (struct sender){ .tx = xdp_endpoint_tx(ep), .comp = xdp_endpoint_completion(ep),
			      .umem = xdp_endpoint_umem(ep), .frame_size = xdp_endpoint_frame_size(ep),
			      .nframes = xdp_endpoint_frame_count(ep), .fd = xdp_endpoint_fd(ep) };
	return 0;
}

int main(int argc, char **argv)
{
	struct xdp_endpoint *ep = NULL;
	struct own own = { .fd = -1 };
	struct sender snd = { .fd = -1 };
	struct bench_opts bo = BENCH_OPTS_INIT;
	struct bench_ticker t;
	uint8_t dst[4], src[4] = { 10, 77, 0, 1 }, src_mac[6], dst_mac[6] = { 2, 0, 0, 0, 0, 2 };
	uint64_t *free_frames = NULL, done = 0;
	uint32_t nfree, nframes;
	uint16_t eph_lo = 0, eph_hi = 0;
	const char *dev = NULL;
	long dport = 9, size = 64, budget = 0, v;
	bool have_dst = false;
	int opt, err, rc = 1;

	while ((opt = bench_getopt(argc, argv, "i:m:S:D:p:s:B:" BENCH_OPTS, &bo)) != -1) {
		switch (opt) {
		case 'i':
			dev = optarg;
			continue;
		case 'm':
			if (!ether_aton(optarg))
				return usage();
			memcpy(dst_mac, ether_aton(optarg), 6);
			continue;
		case 'S':
			if (inet_pton(AF_INET, optarg, src) != 1)
				return usage();
			continue;
		case 'D':
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
		case 'B': budget = v; break;
		default: return usage();
		}
	}
	if (optind != argc || !have_dst || dport > 65535 || size < 60 || size > 1514)
		return usage();
	if (bench_start("ep_blast", &bo))
		return 1;
	if (dev) {
		int ifindex = (int)if_nametoindex(dev);

		err = ifindex ? dev_mac(dev, src_mac) : -ENODEV;
		if (!err)
			err = own_open(&own, ifindex, &snd);
		if (err) {
			fprintf(stderr, "ep_blast: %s: AF_XDP socket on queue 0: %s\n", dev, strerror(-err));
			goto out;
		}
	} else if (from_endpoint(&ep, &snd, src_mac, dst_mac, src, &eph_lo, &eph_hi)) {
		goto out;
	}
	/* -B: frames the kernel sends per sendto() in copy mode (its
	 * default is 32; XDP_MAX_TX_SKB_BUDGET, Linux 6.17). */
	if (budget) {
		uint32_t b = (uint32_t)budget;

		if (setsockopt(snd.fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &b, sizeof(b))) {
			fprintf(stderr, "ep_blast: -B %ld: %s\n", budget, strerror(errno));
			goto out;
		}
	}
	if ((uint32_t)size > snd.frame_size) {
		fprintf(stderr, "ep_blast: -s %ld: above the UMEM's frame size %u\n", size, snd.frame_size);
		goto out;
	}
	if (!eph_lo || eph_hi < eph_lo)
		eph_lo = eph_hi = 40000;

	/* Every frame we may have in flight, each with its own source port. */
	nframes = snd.nframes < RING_SIZE ? snd.nframes : RING_SIZE;
	free_frames = calloc(nframes, sizeof(*free_frames));
	if (!free_frames)
		goto out;
	for (uint32_t i = 0; i < nframes; i++) {
		free_frames[i] = (uint64_t)i * snd.frame_size;
		build(snd.umem + free_frames[i], (uint32_t)size, src_mac, dst_mac, src, dst,
		      (uint16_t)(eph_lo + i % (eph_hi - eph_lo + 1u)), (uint16_t)dport);
	}
	nfree = nframes;

	bench_ticker_start(&t, &bo);
	do {
		uint32_t idx, n;

		/* Frames the kernel has sent are ours again. */
		n = xsk_ring_cons__peek(snd.comp, BATCH, &idx);
		if (n) { /* no store while empty: see ep_count.c */
			for (uint32_t i = 0; i < n; i++)
				free_frames[nfree++] = *xsk_ring_cons__comp_addr(snd.comp, idx + i);
			xsk_ring_cons__release(snd.comp, n);
			done += n;
		}

		n = nfree < BATCH ? nfree : BATCH;
		if (n && xsk_ring_prod__reserve(snd.tx, n, &idx) == n) {
			for (uint32_t i = 0; i < n; i++) {
				struct xdp_desc *d = xsk_ring_prod__tx_desc(snd.tx, idx + i);

				d->addr = free_frames[--nfree];
				d->len = (uint32_t)size;
				d->options = 0;
			}
			xsk_ring_prod__submit(snd.tx, n);
		}
		/* Copy mode transmits in this call, a batch at a time. */
		kick(&snd);
	} while (bench_tick(&t, done, NULL, NULL));
	rc = 0;
out:
	free(free_frames);
	own_close(&own);
	xdp_endpoint_close(ep);
	return rc;
}
