/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * AF_XDP sockets over one shared UMEM (see xsk.h for the sizing).
 *
 * The UMEM is split into one slice of set->frames frames per socket.
 * A socket only ever receives into frames taken from its own fill ring, and
 * we hand each received frame back to the fill ring of the socket it came
 * from, so the slices never mix and no cross-queue bookkeeping is needed.
 *
 * Returning frames: the kernel takes fill-ring entries in batches and
 * publishes its consumer index only when it fetches the next batch, so a
 * frame can come back through the RX ring while its old fill-ring slot
 * still looks occupied. With a fill ring of twice the frames that never
 * blocks a refill (at most one batch of up to all frames is unpublished,
 * plus the frames we gave back since). Frames that still find no slot wait
 * in a per-socket stash and go first on the next call, so a frame is never
 * lost and the RX ring is never held up.
 */
#include "xsk.h"

#include <errno.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <xdp/xsk.h>

#include "util.h"

/* The completion ring is never used (we do not transmit), but the kernel
 * insists on one per queue; keep it minimal. */
#define XSK_COMP_SIZE 64u
#define XSK_BUSY_RETRIES 100         /* x 20 ms */
#define XSK_BUSY_WAIT_NS 20000000L
#define XSK_MAX_SOCKETS 1024

struct xsk_sock {
	struct xsk_socket *xsk;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	uint32_t queue;
	uint32_t nstash;
	uint64_t *stash; /* frames to give back to the fill ring, set->frames at most */
};

struct xh_xsk_set {
	void *area;
	size_t area_size;
	struct xsk_umem *umem;
	uint32_t frames;  /* per socket: its UMEM slice, its RX ring */
	bool zerocopy;
	int n;            /* sockets created so far */
	int next;         /* socket xh_xsk_set_recv() starts with, for fairness */
	struct pollfd *pfds;
	uint64_t *stashes; /* the sockets' stashes, one allocation */
	struct xsk_sock socks[]; /* stable addresses: libxdp keeps pointers to the rings */
};

/* ------------------------------------------------------------------------ */

/* Give the stashed frames back to the kernel, as many as fit now. */
static void refill(struct xsk_sock *s)
{
	uint32_t idx = 0, n = s->nstash;

	if (!n)
		return;
	if (xsk_prod_nb_free(&s->fill, n) < n)
		n = xsk_prod_nb_free(&s->fill, n);
	if (!n || xsk_ring_prod__reserve(&s->fill, n, &idx) != n)
		return;
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&s->fill, idx + i) = s->stash[--s->nstash];
	xsk_ring_prod__submit(&s->fill, n);
	/* Zero-copy drivers stop when the fill ring ran dry and want a kick. */
	if (xsk_ring_prod__needs_wakeup(&s->fill))
		recvfrom(xsk_socket__fd(s->xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

static void stock_fill_ring(struct xsk_sock *s, uint64_t slice, uint32_t frames)
{
	for (uint32_t i = 0; i < frames; i++)
		s->stash[s->nstash++] = slice + (uint64_t)(frames - 1 - i) * XH_XSK_FRAME_SIZE;
	refill(s);
}

static bool sock_zerocopy(int fd)
{
	struct xdp_options opts = { 0 };
	socklen_t len = sizeof(opts);

	if (getsockopt(fd, SOL_XDP, XDP_OPTIONS, &opts, &len))
		return false;
	return opts.flags & XDP_OPTIONS_ZEROCOPY;
}

static void umem_destroy(struct xh_xsk_set *set)
{
	if (set->umem)
		xsk_umem__delete(set->umem);
	set->umem = NULL;
	if (set->area)
		munmap(set->area, set->area_size);
	set->area = NULL;
}

static int umem_create_frames(struct xh_xsk_set *set, int nqueues, uint32_t frames)
{
	const struct xsk_umem_config cfg = {
		.fill_size = 2 * frames,
		.comp_size = XSK_COMP_SIZE,
		.frame_size = XH_XSK_FRAME_SIZE,
		.frame_headroom = 0,
		.flags = 0,
	};
	int err;

	set->frames = frames;
	set->area_size = (size_t)nqueues * frames * XH_XSK_FRAME_SIZE;
	/* Page-aligned anonymous memory; the kernel pins it at registration. */
	set->area = mmap(NULL, set->area_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	if (set->area == MAP_FAILED) {
		set->area = NULL;
		return -errno;
	}
	/* Frames are reused round-robin over the whole UMEM: with huge pages
	 * (where the kernel has them) reading a frame costs no TLB miss.
	 * Before registration, which faults the pages in. Best effort. */
	madvise(set->area, set->area_size, MADV_HUGEPAGE);
	/* The first socket uses the UMEM's own fill/completion rings. */
	err = xsk_umem__create(&set->umem, set->area, set->area_size, &set->socks[0].fill,
			       &set->socks[0].comp, &cfg);
	if (err) {
		set->umem = NULL;
		umem_destroy(set);
	}
	return err;
}

/* As many frames per queue as allowed (see xsk.h): halve while the kernel
 * refuses to pin the UMEM (ENOBUFS: RLIMIT_MEMLOCK) or memory is short. */
static int umem_create(struct xh_xsk_set *set, int nqueues)
{
	uint32_t frames = XH_XSK_FRAMES_MAX;
	int err;

	while (frames > XH_XSK_FRAMES_MIN &&
	       (uint64_t)nqueues * frames * XH_XSK_FRAME_SIZE > XH_XSK_UMEM_MAX)
		frames /= 2;
	for (;;) {
		err = umem_create_frames(set, nqueues, frames);
		if (!(err == -ENOBUFS || err == -EPERM || err == -ENOMEM) || frames <= XH_XSK_FRAMES_MIN)
			break;
		frames /= 2;
	}
	if (err == -ENOBUFS || err == -EPERM)
		return xh_err(err, "register UMEM of %zu MiB: %s (locked-memory limit, see ulimit -l)",
			      set->area_size >> 20, strerror(-err));
	if (err)
		return xh_err(err, "register UMEM of %zu MiB: %s", set->area_size >> 20, strerror(-err));
	return 0;
}

static int sock_create(struct xh_xsk_set *set, const char *ifname, int i, uint32_t queue)
{
	const struct xsk_socket_config cfg = {
		.rx_size = set->frames,
		.tx_size = 0,
		/* The caller loads its own program with its own XSKMAP. */
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = 0,
		/* No XDP_COPY/XDP_ZEROCOPY: zero-copy where the driver has it. */
		.bind_flags = XDP_USE_NEED_WAKEUP,
	};
	struct xsk_sock *s = &set->socks[i];
	int err;

	s->queue = queue;
	for (int tries = 0;; tries++) {
		err = xsk_socket__create_shared(&s->xsk, ifname, queue, set->umem, &s->rx, NULL,
						&s->fill, &s->comp, &cfg);
		/* The kernel detaches a closed socket's buffer pool from its
		 * queue in a work item, after close() returned: a socket that
		 * just went away still holds the queue for a moment. */
		if (err != -EBUSY || tries >= XSK_BUSY_RETRIES)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = XSK_BUSY_WAIT_NS }, NULL);
	}
	if (err) {
		s->xsk = NULL;
		if (err == -EINVAL)
			return xh_err(err, "queue %u: bind: %s (no such RX queue?)", queue, strerror(-err));
		if (err == -EBUSY)
			return xh_err(err, "queue %u: %s (another AF_XDP socket is bound to it)", queue,
				      strerror(-err));
		return xh_err(err, "queue %u: %s", queue, strerror(-err));
	}
	set->n++;
	stock_fill_ring(s, (uint64_t)i * set->frames * XH_XSK_FRAME_SIZE, set->frames);
	if (s->nstash)
		return xh_err(-ENOSPC, "queue %u: cannot stock the fill ring", queue);
	set->pfds[i].fd = xsk_socket__fd(s->xsk);
	set->pfds[i].events = POLLIN;
	return 0;
}

int xh_xsk_set_create(const char *ifname, const uint32_t *queues, int nqueues,
		      struct xh_xsk_set **out)
{
	struct xh_xsk_set *set;
	int err;

	if (!ifname || !queues || !out || nqueues < 1 || nqueues > XSK_MAX_SOCKETS)
		return -EINVAL;
	for (int i = 0; i < nqueues; i++)
		for (int j = 0; j < i; j++)
			if (queues[i] == queues[j])
				return xh_err(-EINVAL, "queue %u given twice", queues[i]);

	set = calloc(1, sizeof(*set) + (size_t)nqueues * sizeof(set->socks[0]));
	if (!set)
		return -ENOMEM;
	set->pfds = calloc((size_t)nqueues, sizeof(*set->pfds));
	if (!set->pfds) {
		free(set);
		return -ENOMEM;
	}
	err = umem_create(set, nqueues);
	if (!err) {
		set->stashes = calloc((size_t)nqueues * set->frames, sizeof(*set->stashes));
		if (!set->stashes)
			err = -ENOMEM;
		for (int i = 0; !err && i < nqueues; i++)
			set->socks[i].stash = set->stashes + (size_t)i * set->frames;
	}
	for (int i = 0; !err && i < nqueues; i++)
		err = sock_create(set, ifname, i, queues[i]);
	if (err) {
		xh_xsk_set_destroy(set);
		return err;
	}
	/* Sockets sharing a UMEM on one device share its copy/zero-copy mode. */
	set->zerocopy = sock_zerocopy(xsk_socket__fd(set->socks[0].xsk));
	*out = set;
	return 0;
}

void xh_xsk_set_destroy(struct xh_xsk_set *set)
{
	if (!set)
		return;
	/* The first socket owns the UMEM's fd: delete it last, then the UMEM. */
	for (int i = set->n - 1; i >= 0; i--)
		xsk_socket__delete(set->socks[i].xsk);
	umem_destroy(set);
	free(set->stashes);
	free(set->pfds);
	free(set);
}

int xh_xsk_set_count(const struct xh_xsk_set *set)
{
	return set->n;
}

int xh_xsk_set_fd(const struct xh_xsk_set *set, int i)
{
	if (i < 0 || i >= set->n)
		return -EINVAL;
	return xsk_socket__fd(set->socks[i].xsk);
}

uint32_t xh_xsk_set_queue(const struct xh_xsk_set *set, int i)
{
	return i >= 0 && i < set->n ? set->socks[i].queue : 0;
}

bool xh_xsk_set_zerocopy(const struct xh_xsk_set *set)
{
	return set->zerocopy;
}

uint32_t xh_xsk_set_frames(const struct xh_xsk_set *set)
{
	return set->frames;
}

/* ------------------------------------------------------------------------ */

/* Take up to budget frames from one socket. *taken says how many were
 * consumed (including one fn failed on); they all go back to the fill ring. */
static int sock_recv(struct xh_xsk_set *set, struct xsk_sock *s, uint32_t budget,
		     xh_xsk_frame_fn fn, void *ctx, uint32_t *taken)
{
	uint32_t idx = 0, n, i;
	int err = 0;

	*taken = 0;
	refill(s); /* what did not fit last time */
	n = xsk_ring_cons__peek(&s->rx, budget, &idx);
	if (!n)
		return 0;
	for (i = 0; i < n && !err; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&s->rx, idx + i);

		err = fn(ctx, xsk_umem__get_data(set->area, d->addr), d->len, (int)s->queue);
		/* Back to the start of the frame (aligned mode). The stash
		 * cannot overflow: it holds distinct frames of this socket. */
		s->stash[s->nstash++] = d->addr & ~(uint64_t)(XH_XSK_FRAME_SIZE - 1);
	}
	/* i frames were taken; the rest stay in the RX ring for next time. */
	if (i < n)
		xsk_ring_cons__cancel(&s->rx, n - i);
	xsk_ring_cons__release(&s->rx, i);
	refill(s);
	*taken = i;
	return err;
}

int xh_xsk_set_recv(struct xh_xsk_set *set, unsigned int max, xh_xsk_frame_fn fn, void *ctx)
{
	unsigned int total = 0;
	int start = set->next;

	if (!fn)
		return -EINVAL;
	for (int k = 0; k < set->n; k++) {
		struct xsk_sock *s = &set->socks[(start + k) % set->n];
		uint32_t budget = XH_XSK_BATCH, taken;
		int err;

		if (max) {
			if (total >= max)
				break;
			if (max - total < budget)
				budget = max - total;
		}
		err = sock_recv(set, s, budget, fn, ctx, &taken);
		total += taken;
		if (err)
			return err;
	}
	/* Start with the next socket next time so one busy queue cannot
	 * starve the others when max is small. */
	set->next = (start + 1) % set->n;
	return (int)total;
}

int xh_xsk_set_poll(struct xh_xsk_set *set, int timeout_ms)
{
	int n = poll(set->pfds, (nfds_t)set->n, timeout_ms);

	if (n < 0)
		return -errno;
	return n;
}

int xh_xsk_set_stats(const struct xh_xsk_set *set, struct xh_xsk_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (int i = 0; i < set->n; i++) {
		struct xdp_statistics x = { 0 };
		socklen_t len = sizeof(x);

		if (getsockopt(xsk_socket__fd(set->socks[i].xsk), SOL_XDP, XDP_STATISTICS, &x, &len))
			return xh_err(-errno, "queue %u: XDP_STATISTICS: %s", set->socks[i].queue,
				      strerror(errno));
		st->rx_dropped += x.rx_dropped;
		st->rx_invalid_descs += x.rx_invalid_descs;
		st->rx_ring_full += x.rx_ring_full;
		st->rx_fill_ring_empty_descs += x.rx_fill_ring_empty_descs;
	}
	return 0;
}

uint64_t xh_xsk_stats_dropped(const struct xh_xsk_stats *st)
{
	/* A frame that found no fill buffer counts in both rx_dropped and
	 * rx_fill_ring_empty_descs: do not add the latter. */
	return st->rx_dropped + st->rx_ring_full;
}
