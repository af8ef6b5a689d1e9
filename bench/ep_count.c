/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ep_count: count the frames an AF_XDP socket receives (bench helper).
 *
 *   ep_count [-b] [-w] [-c CPU] [-t MS] [-d SECONDS]  the xdphook endpoint of
 *                                                     this netns (libxdp_endpoint)
 *   ep_count -i DEV [-q QUEUE] [-b] [-w] [-c CPU] [-t MS] [-d SECONDS]
 *                                                     a socket of its own on DEV,
 *                                                     with the capture program
 *   ep_count -D [-c CPU] [-t MS] [-d SECONDS]          the endpoint with its direct
 *                                                     sockets on the NIC's queues
 *                                                     (host mode, `direct`), read
 *                                                     with xdp_endpoint_receive()
 *
 * Both ways use the same UMEM and ring sizes and the same receive loop, so
 * the only difference the benchmark sees is the path in front of the socket
 * (NIC -> veth -> xdp0 vs the NIC itself). Prints the progress lines of
 * bench.h: frames received and frames the kernel dropped for want of room.
 * Busy-polls: the CPU it is pinned to is the consumer's alone. -b also
 * turns on preferred busy polling of the socket's queue (SO_PREFER_BUSY_POLL,
 * SO_BUSY_POLL, SO_BUSY_POLL_BUDGET): with napi_defer_hard_irqs and
 * gro_flush_timeout on the device, its receive NAPI runs in our recvfrom()
 * calls, on our CPU, instead of in softirq on the sender's; on veths it
 * cannot (Linux 6.18: their XDP frames carry no NAPI id, see the message
 * at the end). -w sleeps in poll() while the RX ring is empty, for sharing
 * the CPU with a threaded NAPI (test/bench/datapath.sh NAPI_THREADED=xdp0).
 */
#include "bench.h"

#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/xsk.h>
#include <xdp_endpoint.h>

#include "xdp_capture.skel.h"

#define FRAME_SIZE 2048u
#define NFRAMES 1024u             /* 2 MiB of UMEM, the endpoint's default */
#define RING_SIZE (2 * NFRAMES)   /* a fill ring of twice the frames never runs short,
                                   * see lib/xsk.c */
#define BATCH 64u

struct counter {
	struct xsk_ring_prod *fill;
	struct xsk_ring_cons *rx;
	int fd;
	uint32_t frame_size, nframes;
	uint64_t frames;
	bool busy_poll;   /* drive the device's NAPI from recvfrom() (-b) */
	bool wait;        /* sleep in poll() while the ring is empty (-w) */
};

/* A socket of our own on DEV (the direct case). */
struct direct {
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp, rx;
	struct xdp_capture *skel;
};

static uint64_t dropped(void *ctx)
{
	struct counter *c = ctx;
	struct xdp_statistics st = { 0 };
	socklen_t len = sizeof(st);

	if (getsockopt(c->fd, SOL_XDP, XDP_STATISTICS, &st, &len))
		return 0;
	return st.rx_dropped + st.rx_ring_full;
}

static void give(struct counter *c, const uint64_t *addrs, uint32_t n)
{
	uint32_t idx;

	/* Never short: the fill ring has room for twice the frames. */
	if (!n || xsk_ring_prod__reserve(c->fill, n, &idx) != n)
		return;
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(c->fill, idx + i) = addrs[i];
	xsk_ring_prod__submit(c->fill, n);
}

static void run(struct counter *c, const struct bench_opts *bo)
{
	struct bench_ticker t;
	uint64_t addrs[BATCH];

	for (uint32_t i = 0; i < c->nframes;) {
		uint32_t n = 0;

		while (n < BATCH && i < c->nframes)
			addrs[n++] = (uint64_t)i++ * c->frame_size;
		give(c, addrs, n);
	}
	bench_ticker_start(&t, bo);
	do {
		uint32_t idx, n = xsk_ring_cons__peek(c->rx, BATCH, &idx);

		/* Nothing written to the rings while they are empty: a store
		 * on every spin would keep their cache lines bouncing between
		 * us and the kernel's producer. */
		if (!n && c->wait) {
			struct pollfd p = { .fd = c->fd, .events = POLLIN };

			poll(&p, 1, 100);
		}
		if (n) {
			for (uint32_t i = 0; i < n; i++)
				addrs[i] = xsk_ring_cons__rx_desc(c->rx, idx + i)->addr;
			xsk_ring_cons__release(c->rx, n);
			give(c, addrs, n);
			c->frames += n;
		}
		/* Busy polling: this call runs the receive NAPI of the
		 * socket's queue here, on our CPU. Otherwise only drivers in
		 * zero-copy mode ask for it. */
		if (c->busy_poll || xsk_ring_prod__needs_wakeup(c->fill))
			recvfrom(c->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	} while (bench_tick(&t, c->frames, dropped, c));
	/* The NAPI the socket is tied to (set by its first frame): 0 means
	 * busy polling never ran (on Linux 6.18 a veth's XDP frames carry
	 * no NAPI id, so it cannot). */
	if (c->busy_poll) {
		unsigned int id = 0;
		socklen_t len = sizeof(id);

		getsockopt(c->fd, SOL_SOCKET, SO_INCOMING_NAPI_ID, &id, &len);
		fprintf(stderr, "ep_count: busy polling: the socket's NAPI id is %u%s\n", id,
			id ? "" : " (never polled)");
	}
}

/* Preferred busy polling (the device's NAPI runs in our recvfrom() calls
 * rather than in softirq on whichever CPU scheduled it); takes effect with
 * napi_defer_hard_irqs and gro_flush_timeout set on the device. */
static int busy_poll_on(int fd)
{
	int one = 1, usecs = 20, budget = BATCH;

	if (setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &usecs, sizeof(usecs)) ||
	    setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, sizeof(budget)))
		return -errno;
	return 0;
}

static int open_direct(const char *dev, uint32_t queue, struct direct *d, struct counter *c)
{
	struct xsk_umem_config ucfg = { .fill_size = RING_SIZE, .comp_size = BATCH,
					.frame_size = FRAME_SIZE };
	/* No XDP_COPY/XDP_ZEROCOPY: zero-copy where the driver has it, like
	 * xdp_loader -program tcpdump. */
	struct xsk_socket_config scfg = { .rx_size = RING_SIZE,
					  .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
					  .bind_flags = XDP_USE_NEED_WAKEUP };
	int ifindex = (int)if_nametoindex(dev), fd, err;

	if (!ifindex)
		return -ENODEV;
	d->area = mmap(NULL, (size_t)NFRAMES * FRAME_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (d->area == MAP_FAILED)
		return -errno;
	err = xsk_umem__create(&d->umem, d->area, (uint64_t)NFRAMES * FRAME_SIZE, &d->fill, &d->comp, &ucfg);
	if (!err)
		err = xsk_socket__create(&d->xsk, dev, queue, d->umem, &d->rx, NULL, &scfg);
	if (err)
		return err;
	d->skel = xdp_capture__open_and_load();
	if (!d->skel)
		return -errno;
	fd = xsk_socket__fd(d->xsk);
	if (bpf_map__update_elem(d->skel->maps.xdphook_xsks, &queue, sizeof(queue), &fd, sizeof(fd), 0))
		return -errno;
	/* An unpinned link: gone with the process. */
	d->skel->links.xdphook_capture = bpf_program__attach_xdp(d->skel->progs.xdphook_capture, ifindex);
	if (!d->skel->links.xdphook_capture)
		return -errno;
	c->fill = &d->fill;
	c->rx = &d->rx;
	c->fd = fd;
	c->frame_size = FRAME_SIZE;
	c->nframes = NFRAMES;
	return 0;
}

static void close_direct(struct direct *d)
{
	xdp_capture__destroy(d->skel);
	if (d->xsk)
		xsk_socket__delete(d->xsk);
	if (d->umem)
		xsk_umem__delete(d->umem);
	if (d->area && d->area != MAP_FAILED)
		munmap(d->area, (size_t)NFRAMES * FRAME_SIZE);
}

/* -D: what the kernel dropped on every socket of the endpoint. */
static uint64_t dropped_all(void *ctx)
{
	struct xdp_endpoint *ep = ctx;
	uint64_t n = 0;

	for (size_t i = 0; i < xdp_endpoint_socket_count(ep); i++) {
		struct xdp_statistics st = { 0 };
		socklen_t len = sizeof(st);

		if (!getsockopt(xdp_endpoint_fd_n(ep, i), SOL_XDP, XDP_STATISTICS, &st, &len))
			n += st.rx_dropped + st.rx_ring_full;
	}
	return n;
}

/* -D: the same loop over every socket, through the library's receive and
 * refill (which stocked the fill rings at open). */
static void run_direct(struct xdp_endpoint *ep, const struct bench_opts *bo)
{
	struct xdp_endpoint_frame f[BATCH];
	uint64_t addrs[BATCH], frames = 0;
	struct bench_ticker t;

	bench_ticker_start(&t, bo);
	do {
		uint32_t n = xdp_endpoint_receive(ep, f, BATCH);

		for (uint32_t i = 0; i < n; i++)
			addrs[i] = f[i].addr;
		xdp_endpoint_refill(ep, addrs, n);
		frames += n;
	} while (bench_tick(&t, frames, dropped_all, ep));
}

static int usage(void)
{
	fputs("usage: ep_count [-i DEV [-q QUEUE] | -D] [-b] [-w] " BENCH_USAGE "\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct direct d = { 0 };
	struct counter c = { 0 };
	struct xdp_endpoint *ep = NULL;
	const char *dev = NULL;
	struct bench_opts bo = BENCH_OPTS_INIT;
	long queue = 0;
	bool busy = false, direct = false;
	int opt, err;

	while ((opt = bench_getopt(argc, argv, "i:q:bwD" BENCH_OPTS, &bo)) != -1) {
		switch (opt) {
		case 'i': dev = optarg; break;
		case 'q':
			queue = bench_num(optarg);
			if (queue < 0)
				return usage();
			break;
		case 'b': busy = true; break;
		case 'w': c.wait = true; break;
		case 'D': direct = true; break;
		default: return usage();
		}
	}
	if (optind != argc || (direct && (dev || busy || c.wait)))
		return usage();
	if (bench_start("ep_count", &bo))
		return 1;
	if (dev) {
		err = open_direct(dev, (uint32_t)queue, &d, &c);
		if (err) {
			fprintf(stderr, "ep_count: %s: AF_XDP socket on queue %ld: %s\n", dev, queue, strerror(-err));
			close_direct(&d);
			return 1;
		}
	} else {
		/* -D: every frame but one on the fill rings (the library
		 * spreads them; socket 0 idles with its share). */
		struct xdp_endpoint_opts o = { .sz = sizeof(o), .umem_size = (uint64_t)NFRAMES * FRAME_SIZE,
					       .ring_size = RING_SIZE,
					       .flags = direct ? XDP_ENDPOINT_F_DIRECT : 0,
					       .fill_frames = NFRAMES - 1 };

		err = xdp_endpoint_open(&o, &ep);
		if (err) {
			fprintf(stderr, "ep_count: endpoint: %s\n", xdp_endpoint_strerror(err));
			return 1;
		}
		if (direct && xdp_endpoint_socket_count(ep) < 2) {
			fprintf(stderr, "ep_count: -D: the keeper offered no direct sockets\n");
			xdp_endpoint_close(ep);
			return 1;
		}
		if (direct) {
			run_direct(ep, &bo);
			xdp_endpoint_close(ep);
			return 0;
		}
		c.fill = xdp_endpoint_fill(ep);
		c.rx = xdp_endpoint_rx(ep);
		c.fd = xdp_endpoint_fd(ep);
		c.frame_size = xdp_endpoint_frame_size(ep);
		c.nframes = xdp_endpoint_frame_count(ep);
	}
	if (busy) {
		err = busy_poll_on(c.fd);
		if (err) {
			fprintf(stderr, "ep_count: busy polling: %s\n", strerror(-err));
			if (dev)
				close_direct(&d);
			xdp_endpoint_close(ep);
			return 1;
		}
		c.busy_poll = true;
	}
	run(&c, &bo);
	if (dev)
		close_direct(&d);
	xdp_endpoint_close(ep);
	return 0;
}
