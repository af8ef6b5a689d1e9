/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libxdp_endpoint: the client side of the endpoint protocol
 * (include/xdp_endpoint.h). No libxdp calls: the raw AF_XDP sequence on the
 * socket the keeper hands over, then libxdp's ring structs filled so that
 * the inline helpers of <xdp/xsk.h> work on them unchanged.
 */
#define _GNU_SOURCE
#include "xdp_endpoint.h"
#include "endpoint_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

/* The kernel frees a closed socket's hold on the queue in a work item:
 * right after the previous client went away, bind may see EBUSY. */
#define BIND_BUSY_TRIES 100
#define BIND_BUSY_WAIT_NS 20000000L

struct ring_map {
	void *addr;
	size_t len;
};

/* One AF_XDP socket with its rings: socket 0 (xdp0), or a direct one on
 * a NIC RX queue (no TX ring: ring[TX] is 0). */
struct ep_sock {
	int fd;
	uint32_t ring[XH_EP_NRINGS];
	struct ring_map map[XH_EP_NRINGS];
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
};

struct xdp_endpoint {
	struct xh_ep_desc desc;
	char *json;             /* the description as received */
	int ctl_fd, umem_fd;
	void *umem;
	uint64_t umem_size;
	uint32_t frame_size;
	uint32_t fill_frames;   /* F_DIRECT: frames [0, n) were put on the fill rings */
	struct xdp_mmap_offsets off; /* one kernel: the same for every socket */
	size_t n_socks;         /* 1 + bound.n */
	size_t next_rx;         /* xdp_endpoint_receive: the socket to start at */
	struct xh_ep_direct bound[XDP_ENDPOINT_MAX_DIRECT]; /* what BOUND said */
	struct ep_sock s[1 + XDP_ENDPOINT_MAX_DIRECT];
};

const char *xdp_endpoint_strerror(int err)
{
	return xh_ep_strerror(err);
}

static struct xdp_endpoint *ep_new(void)
{
	struct xdp_endpoint *ep = calloc(1, sizeof(*ep));

	if (!ep)
		return NULL;
	ep->ctl_fd = ep->umem_fd = -1;
	ep->n_socks = 1;
	for (size_t i = 0; i < 1 + XDP_ENDPOINT_MAX_DIRECT; i++)
		ep->s[i].fd = -1;
	return ep;
}

void xdp_endpoint_close(struct xdp_endpoint *ep)
{
	if (!ep)
		return;
	for (size_t k = 0; k < 1 + XDP_ENDPOINT_MAX_DIRECT; k++) {
		struct ep_sock *so = &ep->s[k];

		for (int i = 0; i < XH_EP_NRINGS; i++)
			if (so->map[i].addr)
				munmap(so->map[i].addr, so->map[i].len);
		/* The sockets before the UMEM they use; the keeper connection
		 * last, so the keeper takes the entries out of the XSKMAPs
		 * after the sockets are gone (either order is safe: a closed
		 * socket leaves the maps itself). */
		if (so->fd >= 0)
			close(so->fd);
	}
	if (ep->umem)
		munmap(ep->umem, ep->umem_size);
	if (ep->umem_fd >= 0)
		close(ep->umem_fd);
	if (ep->ctl_fd >= 0)
		close(ep->ctl_fd);
	free(ep->json);
	free(ep);
}

/* ---- the raw AF_XDP sequence ---------------------------------------------------- */

static int umem_alloc(struct xdp_endpoint *ep, bool memfd)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;

	if (memfd) {
		ep->umem_fd = memfd_create("xdp_endpoint_umem", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (ep->umem_fd < 0)
			return xh_ep_err(-errno, "memfd for the UMEM: %s", strerror(errno));
		if (ftruncate(ep->umem_fd, (off_t)ep->umem_size))
			return xh_ep_err(-errno, "memfd of %llu bytes: %s",
					 (unsigned long long)ep->umem_size, strerror(errno));
		/* Whoever gets the memfd later cannot shrink it under the
		 * mappings (SIGBUS) or change its size at all. */
		if (fcntl(ep->umem_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL))
			return xh_ep_err(-errno, "seal the UMEM memfd: %s", strerror(errno));
		flags = MAP_SHARED;
	}
	ep->umem = mmap(NULL, ep->umem_size, PROT_READ | PROT_WRITE, flags, ep->umem_fd, 0);
	if (ep->umem == MAP_FAILED) {
		ep->umem = NULL;
		return xh_ep_err(-errno, "UMEM of %llu bytes: %s", (unsigned long long)ep->umem_size,
				 strerror(errno));
	}
	return 0;
}

static int umem_register(struct xdp_endpoint *ep)
{
	struct xdp_umem_reg reg = {
		.addr = (uintptr_t)ep->umem,
		.len = ep->umem_size,
		.chunk_size = ep->frame_size,
		.headroom = 0,
	};

	if (!setsockopt(ep->s[0].fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)))
		return 0;
	if (errno == ENOBUFS || errno == EPERM || errno == ENOMEM)
		return xh_ep_err(-errno, "register UMEM of %llu KiB: %s (locked-memory limit, see "
				 "ulimit -l)", (unsigned long long)ep->umem_size >> 10, strerror(errno));
	return xh_ep_err(-errno, "register UMEM: %s", strerror(errno));
}

static const int ring_opt[XH_EP_NRINGS] = {
	XDP_UMEM_FILL_RING, XDP_UMEM_COMPLETION_RING, XDP_RX_RING, XDP_TX_RING,
};

static int rings_size(struct xdp_endpoint *ep)
{
	struct ep_sock *so = &ep->s[0];
	socklen_t len = sizeof(ep->off);

	for (int i = 0; i < XH_EP_NRINGS; i++)
		if (setsockopt(so->fd, SOL_XDP, ring_opt[i], &so->ring[i], sizeof(so->ring[i])))
			return xh_ep_err(-errno, "%s ring of %u: %s", xh_ep_ring_name(i), so->ring[i],
					 strerror(errno));
	if (getsockopt(so->fd, SOL_XDP, XDP_MMAP_OFFSETS, &ep->off, &len))
		return xh_ep_err(-errno, "XDP_MMAP_OFFSETS: %s", strerror(errno));
	return 0;
}

static const struct xdp_ring_offset *ring_off(const struct xdp_endpoint *ep, int i)
{
	const struct xdp_ring_offset *o[XH_EP_NRINGS] = { &ep->off.fr, &ep->off.cr, &ep->off.rx,
							  &ep->off.tx };
	return o[i];
}

/* mmap ring i of socket so and point libxdp's struct at it. Works on a
 * bound socket as well, which is how a process that got the socket through
 * exec maps it, and how the direct sockets (bound by the keeper) are. */
static int ring_map(struct xdp_endpoint *ep, struct ep_sock *so, int i)
{
	const struct xdp_ring_offset *o = ring_off(ep, i);
	size_t len = o->desc + so->ring[i] * xh_ep_ring_entry(i);
	struct xsk_ring_prod *p = NULL;
	struct xsk_ring_cons *c = NULL;
	void *m;

	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, so->fd,
		 (off_t)xh_ep_ring_pgoff(i));
	if (m == MAP_FAILED)
		return xh_ep_err(-errno, "mmap %s ring of socket %zu: %s", xh_ep_ring_name(i),
				 (size_t)(so - ep->s), strerror(errno));
	so->map[i] = (struct ring_map){ .addr = m, .len = len };
	if (i == XDP_ENDPOINT_RING_FILL)
		p = &so->fill;
	else if (i == XDP_ENDPOINT_RING_TX)
		p = &so->tx;
	else
		c = i == XDP_ENDPOINT_RING_RX ? &so->rx : &so->comp;
	/* The same layout for both structs (DEFINE_XSK_RING); a producer's
	 * cached_cons runs one ring ahead (see xsk_prod_nb_free). The indexes
	 * are read, not assumed zero: after exec the rings may be in use. */
	if (p) {
		p->mask = so->ring[i] - 1;
		p->size = so->ring[i];
		p->producer = (uint32_t *)((char *)m + o->producer);
		p->consumer = (uint32_t *)((char *)m + o->consumer);
		p->flags = (uint32_t *)((char *)m + o->flags);
		p->ring = (char *)m + o->desc;
		p->cached_prod = __atomic_load_n(p->producer, __ATOMIC_ACQUIRE);
		p->cached_cons = __atomic_load_n(p->consumer, __ATOMIC_ACQUIRE) + so->ring[i];
	} else {
		c->mask = so->ring[i] - 1;
		c->size = so->ring[i];
		c->producer = (uint32_t *)((char *)m + o->producer);
		c->consumer = (uint32_t *)((char *)m + o->consumer);
		c->flags = (uint32_t *)((char *)m + o->flags);
		c->ring = (char *)m + o->desc;
		c->cached_prod = __atomic_load_n(c->producer, __ATOMIC_ACQUIRE);
		c->cached_cons = __atomic_load_n(c->consumer, __ATOMIC_ACQUIRE);
	}
	return 0;
}

/* Every ring socket so has (a direct socket: no TX ring). */
static int rings_map(struct xdp_endpoint *ep, struct ep_sock *so)
{
	for (int i = 0; i < XH_EP_NRINGS; i++) {
		int err = so->ring[i] ? ring_map(ep, so, i) : 0;

		if (err)
			return err;
	}
	return 0;
}

static int all_rings_map(struct xdp_endpoint *ep)
{
	int err = 0;

	for (size_t k = 0; !err && k < ep->n_socks; k++)
		err = rings_map(ep, &ep->s[k]);
	return err;
}

static int xsk_bind(struct xdp_endpoint *ep)
{
	struct sockaddr_xdp sa = {
		.sxdp_family = AF_XDP,
		.sxdp_ifindex = (uint32_t)ep->desc.ifindex,
		.sxdp_queue_id = ep->desc.queue,
		.sxdp_flags = XDP_USE_NEED_WAKEUP | (ep->desc.xdp_copy ? XDP_COPY : 0),
	};

	for (int tries = 0;; tries++) {
		if (!bind(ep->s[0].fd, (struct sockaddr *)&sa, sizeof(sa)))
			return 0;
		if (errno != EBUSY || tries >= BIND_BUSY_TRIES)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = BIND_BUSY_WAIT_NS }, NULL);
	}
	return xh_ep_err(-errno, "bind to %s (ifindex %d) queue %u: %s", ep->desc.ifname,
			 ep->desc.ifindex, ep->desc.queue, strerror(errno));
}

/* ---- the keeper conversation ---------------------------------------------------- */

static int connect_keeper(const char *name, int timeout_ms)
{
	struct sockaddr_un sa;
	socklen_t len;
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	ep_cleanup_close int fd = -1;
	int err = xh_ep_abstract_addr(name, &sa, &len);

	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return xh_ep_err(-errno, "unix socket: %s", strerror(errno));
	/* Bounded handshake: every receive below times out with EAGAIN. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return xh_ep_err(-errno, "SO_RCVTIMEO: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, len)) {
		if (errno == ECONNREFUSED || errno == ENOENT)
			return xh_ep_err(-ECONNREFUSED, "connect @%s: no xdphook keeper in this "
					 "network namespace", name);
		return xh_ep_err(-errno, "connect @%s: %s", name, strerror(errno));
	}
	return ep_steal_fd(&fd);
}

/* Wait for one record of type want (with up to max fds into fds, *nfds
 * of them); an ERROR becomes its errno + message. want's payload is kept
 * NUL-terminated in ep->json (DESC) or *text (BOUND, the caller frees). */
static int expect_fds(struct xdp_endpoint *ep, uint16_t want, int *fds, size_t max, size_t *nfds,
		      char **bound)
{
	ep_cleanup_free char *buf = malloc(XDP_ENDPOINT_MSG_MAX);
	char text[XDP_ENDPOINT_ERROR_MAX];
	const void *pl = NULL;
	const void **payload = &pl;
	size_t plen = 0, *len = &plen;
	uint16_t type = 0;
	int err, code;

	if (!buf)
		return -ENOMEM;
	err = xh_ep_recv_fds(ep->ctl_fd, buf, &type, payload, len, fds, max, nfds, 0);
	if (err == -EAGAIN)
		return xh_ep_err(-ETIMEDOUT, "keeper: no answer in time");
	if (err == -EPIPE)
		return xh_ep_err(-ECONNRESET, "keeper closed the connection");
	if (err)
		return xh_ep_err(err, "keeper: %s", xh_ep_strerror(err));
	if (type == XDP_ENDPOINT_MSG_ERROR) {
		err = xh_ep_error_decode(*payload, *len, &code, text, sizeof(text));
		if (err)
			return xh_ep_err(err, "keeper: %s", xh_ep_strerror(err));
		return xh_ep_err(-code, "keeper: %s", text);
	}
	if (type != want) {
		for (size_t i = 0; nfds && i < *nfds; i++)
			close(fds[i]);
		return xh_ep_err(-EPROTO, "keeper: message type %u, expected %u", type, want);
	}
	/* The payload lives in buf: keep a NUL-terminated copy. */
	if (want == XDP_ENDPOINT_MSG_DESC && !(ep->json = strndup(*payload, *len)))
		return -ENOMEM;
	if (bound && !(*bound = strndup(*payload, *len)))
		return -ENOMEM;
	return 0;
}

static int expect(struct xdp_endpoint *ep, uint16_t want, int *fd)
{
	size_t n = 0;
	int err = expect_fds(ep, want, fd, fd ? 1 : 0, &n, NULL);

	if (fd && !n)
		*fd = -1;
	return err;
}

static int take_description(struct xdp_endpoint *ep)
{
	socklen_t dlen = sizeof(int);
	int domain = 0, fd = -1, err = expect(ep, XDP_ENDPOINT_MSG_DESC, &fd);

	if (err)
		return err;
	ep->s[0].fd = fd;
	if (fd < 0)
		return xh_ep_err(-EPROTO, "keeper: description came without a socket");
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) || domain != AF_XDP)
		return xh_ep_err(-EPROTO, "keeper: the fd it sent is not an AF_XDP socket");
	err = xh_ep_desc_from_json(ep->json, strlen(ep->json), &ep->desc);
	if (err)
		return xh_ep_err(err, "keeper: %s", xh_ep_strerror(err));
	return 0;
}

static int apply_opts(struct xdp_endpoint *ep, const struct xdp_endpoint_opts *o)
{
	ep->umem_size = o->umem_size ? o->umem_size : ep->desc.umem_size;
	ep->frame_size = ep->desc.frame_size;
	memcpy(ep->s[0].ring, ep->desc.ring, sizeof(ep->s[0].ring));
	if (o->ring_size)
		for (int i = 0; i < XH_EP_NRINGS; i++)
			ep->s[0].ring[i] = o->ring_size;
	if (!ep->umem_size || ep->umem_size % ep->frame_size || ep->umem_size > XDP_ENDPOINT_UMEM_MAX)
		return xh_ep_err(-EINVAL, "UMEM size %llu: not a multiple of %u up to %llu",
				 (unsigned long long)ep->umem_size, ep->frame_size,
				 XDP_ENDPOINT_UMEM_MAX);
	if (o->ring_size && (o->ring_size & (o->ring_size - 1)))
		return xh_ep_err(-EINVAL, "ring size %u: not a power of two", o->ring_size);
	return 0;
}

/* ---- direct sockets --------------------------------------------------------------- */

/* DIRECT, then BOUND: the sockets on the NIC's RX queues, bound by the
 * keeper on our UMEM; their rings mapped. */
static int take_direct(struct xdp_endpoint *ep)
{
	int fds[XDP_ENDPOINT_MAX_DIRECT];
	ep_cleanup_free char *json = NULL, *geom = NULL;
	struct xh_ep_umem_geom g = { .size = ep->umem_size, .frame_size = ep->frame_size,
				     .headroom = 0 /* as umem_register() */ };
	size_t nfds = 0, n = 0;
	int err = 0;

	/* A keeper that takes it gets the UMEM's memfd: the direct sockets
	 * then sit on a registration of their own of the same memory
	 * (zero-copy where the NIC can), not on socket 0's (xdp0: copy). */
	if (ep->desc.direct_memfd && ep->umem_fd >= 0)
		err = xh_ep_direct_to_json(&g, &geom);
	if (!err)
		err = xh_ep_send(ep->ctl_fd, XDP_ENDPOINT_MSG_DIRECT, geom, geom ? strlen(geom) : 0,
				 geom ? ep->umem_fd : -1);

	if (!err)
		err = expect_fds(ep, XDP_ENDPOINT_MSG_BOUND, fds, XDP_ENDPOINT_MAX_DIRECT, &nfds, &json);
	if (err)
		return err;
	/* Ours from here on, whatever follows: closed with ep. */
	for (size_t i = 0; i < nfds; i++)
		ep->s[1 + i].fd = fds[i];
	err = xh_ep_bound_from_json(json, strlen(json), ep->bound, &n);
	if (err)
		return xh_ep_err(err, "keeper: %s", xh_ep_strerror(err));
	if (n != nfds)
		return xh_ep_err(-EPROTO, "keeper: BOUND lists %zu sockets and came with %zu", n, nfds);
	for (size_t i = 0; i < n; i++) {
		struct ep_sock *so = &ep->s[1 + i];

		so->ring[XDP_ENDPOINT_RING_FILL] = ep->bound[i].ring[0];
		so->ring[XDP_ENDPOINT_RING_COMPLETION] = ep->bound[i].ring[1];
		so->ring[XDP_ENDPOINT_RING_RX] = ep->bound[i].ring[2];
	}
	ep->n_socks = 1 + n;
	for (size_t k = 1; !err && k < ep->n_socks; k++)
		err = rings_map(ep, &ep->s[k]);
	return err;
}

/* Frames [0, n) onto the fill rings, round robin in batches: every socket
 * can receive from the moment the keeper puts it in the maps. */
static void stock(struct xdp_endpoint *ep, uint32_t n)
{
	uint64_t addrs[64];

	for (uint32_t f = 0; f < n;) {
		uint32_t k = 0;

		while (k < 64 && f < n)
			addrs[k++] = (uint64_t)f++ * ep->frame_size;
		xdp_endpoint_refill(ep, addrs, k);
	}
}

int xdp_endpoint_open(const struct xdp_endpoint_opts *opts, struct xdp_endpoint **out)
{
	struct xdp_endpoint_opts o = { .sz = sizeof(o) };
	struct xdp_endpoint *ep;
	int err;

	if (!out)
		return xh_ep_err(-EINVAL, "no place for the endpoint");
	/* Options of an older, smaller struct: take what it has. */
	if (opts)
		memcpy(&o, opts, opts->sz && opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	if (!o.timeout_ms)
		o.timeout_ms = XDP_ENDPOINT_HANDSHAKE_MS;
	ep = ep_new();
	if (!ep)
		return -ENOMEM;
	err = connect_keeper(o.socket_name ? o.socket_name : XDP_ENDPOINT_SOCKET, o.timeout_ms);
	if (err >= 0) {
		ep->ctl_fd = err;
		err = take_description(ep);
	}
	if (!err)
		err = apply_opts(ep, &o);
	/* Direct sockets of their own UMEM need it shareable: a memfd. */
	if (!err)
		err = umem_alloc(ep, (o.flags & XDP_ENDPOINT_F_MEMFD) ||
				 ((o.flags & XDP_ENDPOINT_F_DIRECT) && ep->desc.n_direct &&
				  ep->desc.direct_memfd));
	if (!err)
		err = umem_register(ep);
	if (!err)
		err = rings_size(ep);
	if (!err)
		err = rings_map(ep, &ep->s[0]);
	if (!err)
		err = xsk_bind(ep);
	if (!err && (o.flags & XDP_ENDPOINT_F_DIRECT) && ep->desc.n_direct)
		err = take_direct(ep);
	/* Only with direct sockets: without, the caller stocks socket 0 as
	 * it always did (fill_frames 0 says so). */
	if (!err && ep->n_socks > 1) {
		uint32_t frames = (uint32_t)(ep->umem_size / ep->frame_size), rings = 0;

		ep->fill_frames = o.fill_frames && o.fill_frames < frames ? o.fill_frames : frames / 2;
		/* No more in circulation than the fill rings hold together. */
		for (size_t i = 0; i < ep->n_socks; i++)
			rings += ep->s[i].ring[XDP_ENDPOINT_RING_FILL];
		if (ep->fill_frames > rings)
			ep->fill_frames = rings;
		stock(ep, ep->fill_frames);
	}
	if (!err)
		err = xh_ep_send(ep->ctl_fd, XDP_ENDPOINT_MSG_READY, NULL, 0, -1);
	if (!err)
		err = expect(ep, XDP_ENDPOINT_MSG_OK, NULL);
	if (err) {
		xdp_endpoint_close(ep);
		return err;
	}
	*out = ep;
	return 0;
}

/* ---- from the exec wrapper ----------------------------------------------------- */

/* LISTEN_PID must be us: the variables may have been inherited by a child
 * they were not meant for. */
static int env_for_us(void)
{
	const char *pid = getenv("LISTEN_PID"), *json = getenv("XDP_ENDPOINT_JSON");
	char self[24];

	if (!pid || !json || !getenv("LISTEN_FDS"))
		return xh_ep_err(-ENOENT, "no endpoint in the environment (LISTEN_FDS, "
				 "XDP_ENDPOINT_JSON: run under xdp_endpoint --)");
	snprintf(self, sizeof(self), "%d", (int)getpid());
	if (strcmp(pid, self))
		return xh_ep_err(-ENOENT, "LISTEN_PID=%s is not this process (%s)", pid, self);
	return 0;
}

static int check_fd(int fd, const char *name)
{
	if (fd < 3 || fcntl(fd, F_SETFD, FD_CLOEXEC))
		return xh_ep_err(-EBADF, "inherited fd %d (%s): not open", fd, name);
	return 0;
}

static void env_clear(void)
{
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	unsetenv("XDP_ENDPOINT_JSON");
}

static int from_layout(struct xdp_endpoint *ep, const struct xh_ep_layout *l)
{
	socklen_t len = sizeof(ep->off);
	int err;

	ep->umem_size = l->umem_size;
	ep->frame_size = l->frame_size;
	ep->fill_frames = l->fill_frames;
	memcpy(ep->s[0].ring, l->ring, sizeof(ep->s[0].ring));
	if ((err = check_fd(l->fd_xsk, "xsk")) || (err = check_fd(l->fd_umem, "umem")) ||
	    (err = check_fd(l->fd_ctl, "ctl")))
		return err;
	ep->s[0].fd = l->fd_xsk;
	ep->umem_fd = l->fd_umem;
	ep->ctl_fd = l->fd_ctl;
	for (size_t i = 0; i < l->n_direct; i++) {
		struct ep_sock *so = &ep->s[1 + i];

		if ((err = check_fd(l->fd_direct[i], "xsk-direct")))
			return err;
		so->fd = l->fd_direct[i];
		so->ring[XDP_ENDPOINT_RING_FILL] = l->direct[i].ring[0];
		so->ring[XDP_ENDPOINT_RING_COMPLETION] = l->direct[i].ring[1];
		so->ring[XDP_ENDPOINT_RING_RX] = l->direct[i].ring[2];
		ep->bound[i] = l->direct[i];
		ep->n_socks = 2 + i;
	}
	ep->umem = mmap(NULL, ep->umem_size, PROT_READ | PROT_WRITE, MAP_SHARED, ep->umem_fd, 0);
	if (ep->umem == MAP_FAILED) {
		ep->umem = NULL;
		return xh_ep_err(-errno, "mmap the UMEM memfd: %s", strerror(errno));
	}
	/* The kernel's offsets are authoritative; the JSON copy is for
	 * programs that do not ask. */
	if (getsockopt(ep->s[0].fd, SOL_XDP, XDP_MMAP_OFFSETS, &ep->off, &len))
		return xh_ep_err(-errno, "XDP_MMAP_OFFSETS on fd %d: %s", ep->s[0].fd, strerror(errno));
	return all_rings_map(ep);
}

int xdp_endpoint_from_env(struct xdp_endpoint **out)
{
	struct xh_ep_layout l;
	struct xdp_endpoint *ep;
	int err = env_for_us();

	if (err)
		return err;
	ep = ep_new();
	if (!ep)
		return -ENOMEM;
	ep->json = strdup(getenv("XDP_ENDPOINT_JSON"));
	if (!ep->json)
		err = -ENOMEM;
	if (!err)
		err = xh_ep_env_from_json(ep->json, &ep->desc, &l);
	if (!err)
		err = from_layout(ep, &l);
	/* What xdp_endpoint_json() gives: the description alone. */
	if (!err) {
		free(ep->json);
		ep->json = NULL;
		err = xh_ep_desc_to_json(&ep->desc, &ep->json);
	}
	if (err) {
		xdp_endpoint_close(ep);
		return err;
	}
	env_clear();
	*out = ep;
	return 0;
}

int xh_ep_layout_of(const struct xdp_endpoint *ep, const struct xh_ep_desc **desc,
		    struct xh_ep_layout *l)
{
	if (ep->umem_fd < 0)
		return xh_ep_err(-EINVAL, "the UMEM is not a memfd");
	memset(l, 0, sizeof(*l));
	l->umem_size = ep->umem_size;
	l->frame_size = ep->frame_size;
	l->fill_frames = ep->fill_frames;
	memcpy(l->ring, ep->s[0].ring, sizeof(l->ring));
	for (int i = 0; i < XH_EP_NRINGS; i++)
		l->off[i] = *ring_off(ep, i);
	l->fd_xsk = ep->s[0].fd;
	l->fd_umem = ep->umem_fd;
	l->fd_ctl = ep->ctl_fd;
	l->n_direct = ep->n_socks - 1;
	for (size_t i = 0; i < l->n_direct; i++) {
		l->direct[i] = ep->bound[i];
		l->fd_direct[i] = ep->s[1 + i].fd;
	}
	*desc = &ep->desc;
	return 0;
}

/* ---- accessors ----------------------------------------------------------------- */

int xdp_endpoint_fd(const struct xdp_endpoint *ep)
{
	return ep->s[0].fd;
}

int xdp_endpoint_ctl_fd(const struct xdp_endpoint *ep)
{
	return ep->ctl_fd;
}

struct xsk_ring_prod *xdp_endpoint_fill(struct xdp_endpoint *ep)
{
	return &ep->s[0].fill;
}

struct xsk_ring_cons *xdp_endpoint_completion(struct xdp_endpoint *ep)
{
	return &ep->s[0].comp;
}

struct xsk_ring_cons *xdp_endpoint_rx(struct xdp_endpoint *ep)
{
	return &ep->s[0].rx;
}

struct xsk_ring_prod *xdp_endpoint_tx(struct xdp_endpoint *ep)
{
	return &ep->s[0].tx;
}

int xdp_endpoint_kick_tx(struct xdp_endpoint *ep)
{
	if (!xsk_ring_prod__needs_wakeup(&ep->s[0].tx))
		return 0;
	if (sendto(ep->s[0].fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
		return 0;
	/* The kernel is still busy with earlier frames: not an error. */
	if (errno == EAGAIN || errno == EBUSY || errno == ENOBUFS || errno == ENETDOWN)
		return 0;
	return xh_ep_err(-errno, "TX wakeup: %s", strerror(errno));
}

/* ---- every socket -------------------------------------------------------------- */

size_t xdp_endpoint_socket_count(const struct xdp_endpoint *ep)
{
	return ep->n_socks;
}

int xdp_endpoint_fd_n(const struct xdp_endpoint *ep, size_t i)
{
	return i < ep->n_socks ? ep->s[i].fd : -1;
}

struct xsk_ring_prod *xdp_endpoint_fill_n(struct xdp_endpoint *ep, size_t i)
{
	return i < ep->n_socks ? &ep->s[i].fill : NULL;
}

struct xsk_ring_cons *xdp_endpoint_completion_n(struct xdp_endpoint *ep, size_t i)
{
	return i < ep->n_socks ? &ep->s[i].comp : NULL;
}

struct xsk_ring_cons *xdp_endpoint_rx_n(struct xdp_endpoint *ep, size_t i)
{
	return i < ep->n_socks ? &ep->s[i].rx : NULL;
}

const char *xdp_endpoint_ifname_n(const struct xdp_endpoint *ep, size_t i)
{
	return !i ? ep->desc.ifname : i < ep->n_socks ? ep->bound[i - 1].ifname : NULL;
}

int xdp_endpoint_ifindex_n(const struct xdp_endpoint *ep, size_t i)
{
	return !i ? ep->desc.ifindex : i < ep->n_socks ? ep->bound[i - 1].ifindex : -1;
}

uint32_t xdp_endpoint_queue_n(const struct xdp_endpoint *ep, size_t i)
{
	return !i ? ep->desc.queue : i < ep->n_socks ? ep->bound[i - 1].queue : 0;
}

bool xdp_endpoint_zerocopy_n(const struct xdp_endpoint *ep, size_t i)
{
	return !i ? !ep->desc.xdp_copy : i < ep->n_socks && ep->bound[i - 1].zerocopy;
}

bool xdp_endpoint_own_umem_n(const struct xdp_endpoint *ep, size_t i)
{
	return i && i < ep->n_socks && ep->bound[i - 1].own_umem;
}

uint32_t xdp_endpoint_fill_frames(const struct xdp_endpoint *ep)
{
	return ep->fill_frames;
}

size_t xdp_endpoint_pollfds(const struct xdp_endpoint *ep, struct pollfd *p, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < ep->n_socks; i++, n++)
		if (n < max)
			p[n] = (struct pollfd){ .fd = ep->s[i].fd, .events = POLLIN };
	if (n < max)
		p[n] = (struct pollfd){ .fd = ep->ctl_fd, .events = POLLIN };
	return n + 1;
}

uint32_t xdp_endpoint_receive(struct xdp_endpoint *ep, struct xdp_endpoint_frame *f, uint32_t max)
{
	uint32_t got = 0;

	/* Starting one socket further each call: no queue starves another. */
	for (size_t k = 0; k < ep->n_socks && got < max; k++) {
		size_t i = (ep->next_rx + k) % ep->n_socks;
		struct xsk_ring_cons *rx = &ep->s[i].rx;
		uint32_t idx, n = xsk_ring_cons__peek(rx, max - got, &idx);

		for (uint32_t j = 0; j < n; j++, got++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(rx, idx + j);

			f[got] = (struct xdp_endpoint_frame){ .addr = d->addr, .len = d->len,
							      .socket = (uint32_t)i };
		}
		if (n)
			xsk_ring_cons__release(rx, n);
	}
	ep->next_rx = (ep->next_rx + 1) % ep->n_socks;
	return got;
}

void xdp_endpoint_refill(struct xdp_endpoint *ep, const uint64_t *addrs, uint32_t n)
{
	while (n) {
		struct ep_sock *best = NULL;
		uint32_t idx, k, room = 0, fewest = UINT32_MAX;

		/* The fill ring holding the fewest frames (rings may differ in
		 * size: not the one with the most room), among those with room:
		 * what does not fit there goes to the next. */
		for (size_t i = 0; i < ep->n_socks; i++) {
			uint32_t size = ep->s[i].ring[XDP_ENDPOINT_RING_FILL];
			uint32_t free = xsk_prod_nb_free(&ep->s[i].fill, size);

			if (free && size - free < fewest) {
				fewest = size - free;
				best = &ep->s[i];
				room = free;
			}
		}
		/* Every fill ring full: cannot happen with at most as many
		 * frames in circulation as the rings hold (stock() keeps to it). */
		if (!best)
			return;
		k = n < room ? n : room;
		if (xsk_ring_prod__reserve(&best->fill, k, &idx) != k)
			return;
		for (uint32_t i = 0; i < k; i++)
			*xsk_ring_prod__fill_addr(&best->fill, idx + i) = addrs[i];
		xsk_ring_prod__submit(&best->fill, k);
		/* Zero-copy drivers ask for a wakeup to look at the fill ring. */
		if (xsk_ring_prod__needs_wakeup(&best->fill))
			recvfrom(best->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		addrs += k;
		n -= k;
	}
}

void *xdp_endpoint_umem(const struct xdp_endpoint *ep)
{
	return ep->umem;
}

uint64_t xdp_endpoint_umem_size(const struct xdp_endpoint *ep)
{
	return ep->umem_size;
}

int xdp_endpoint_umem_fd(const struct xdp_endpoint *ep)
{
	return ep->umem_fd;
}

uint32_t xdp_endpoint_frame_size(const struct xdp_endpoint *ep)
{
	return ep->frame_size;
}

uint32_t xdp_endpoint_frame_count(const struct xdp_endpoint *ep)
{
	return (uint32_t)(ep->umem_size / ep->frame_size);
}

uint32_t xdp_endpoint_ring_size(const struct xdp_endpoint *ep, enum xdp_endpoint_ring ring)
{
	return (unsigned int)ring < XH_EP_NRINGS ? ep->s[0].ring[ring] : 0;
}

const char *xdp_endpoint_ifname(const struct xdp_endpoint *ep)
{
	return ep->desc.ifname;
}

int xdp_endpoint_ifindex(const struct xdp_endpoint *ep)
{
	return ep->desc.ifindex;
}

uint32_t xdp_endpoint_queue(const struct xdp_endpoint *ep)
{
	return ep->desc.queue;
}

const uint8_t *xdp_endpoint_mac(const struct xdp_endpoint *ep)
{
	return ep->desc.mac;
}

unsigned int xdp_endpoint_mtu(const struct xdp_endpoint *ep)
{
	return ep->desc.mtu;
}

size_t xdp_endpoint_addr_count(const struct xdp_endpoint *ep)
{
	return ep->desc.n_addrs;
}

const struct xdp_endpoint_addr *xdp_endpoint_addr(const struct xdp_endpoint *ep, size_t i)
{
	return i < ep->desc.n_addrs ? &ep->desc.addrs[i] : NULL;
}

size_t xdp_endpoint_route_count(const struct xdp_endpoint *ep)
{
	return ep->desc.n_routes;
}

const struct xdp_endpoint_route *xdp_endpoint_route(const struct xdp_endpoint *ep, size_t i)
{
	return i < ep->desc.n_routes ? &ep->desc.routes[i] : NULL;
}

size_t xdp_endpoint_gateway_count(const struct xdp_endpoint *ep)
{
	return ep->desc.n_gateways;
}

const struct xdp_endpoint_gateway *xdp_endpoint_gateway(const struct xdp_endpoint *ep, size_t i)
{
	return i < ep->desc.n_gateways ? &ep->desc.gateways[i] : NULL;
}

void xdp_endpoint_ephemeral(const struct xdp_endpoint *ep, uint16_t *lo, uint16_t *hi)
{
	*lo = ep->desc.eph_lo;
	*hi = ep->desc.eph_hi;
}

const char *xdp_endpoint_json(const struct xdp_endpoint *ep)
{
	return ep->json;
}
