/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Test helper: clients of the keeper that misbehave, and small checks.
 *
 *   ep_client garbage|oversize|badlen|withfd|early|twice|hugelen|short|empty|
 *             badversion|badtype|wrongdir|manyfds|fdsdesc|burst|silent
 *       connect to @xdphook/endpoint, take the description (and close the
 *       socket it came with), then send one bad thing:
 *         garbage   random bytes            oversize  a record > the limit
 *         badlen    a header lying about its length
 *         withfd    a READY carrying an fd of ours
 *         early     READY without binding the socket
 *         twice     a second DESC-typed record (wrong direction)
 *         hugelen   a READY header claiming 4 GiB of payload
 *         short     3 bytes: less than a header
 *         empty     a record of 0 bytes
 *         badversion, badtype   a header with version 99 / type 77
 *         wrongdir  an OK record (keeper -> client only)
 *         manyfds   a READY carrying 250 fds (more than the keeper takes)
 *         fdsdesc   a DESC-typed record carrying 3 fds
 *         burst     64 garbage records back to back
 *         silent    nothing at all (the keeper times the handshake out;
 *                   waits up to 20 s)
 *       and expect the keeper to close the connection (after an ERROR, or
 *       not). Prints "closed: <error text or EOF>"; exit 0 when closed.
 *   ep_client flood N
 *       N connections at once, none reading: the first gets the
 *       description, every other an ERROR; prints "flood: 1 served, K
 *       refused (<first refusal text>)", exit 0 when K = N - 1.
 *   ep_client refused
 *       connect and expect an ERROR first: prints "refused: <text>".
 *   ep_client hold
 *       take the endpoint with libxdp_endpoint, print "held", wait for a
 *       signal.
 *   ep_client env
 *       xdp_endpoint_from_env(): print what it found, then wait (up to 10 s)
 *       for one frame on the RX ring: "frame LEN".
 *   ep_client udp ADDR PORT TEXT
 *       send TEXT, expect it back within 2 s: "echo: TEXT".
 *   ep_client direct anon|memfd N
 *       anon: a client as before "direct_memfd": socket 0 on an anonymous
 *       UMEM, an empty DIRECT (the direct sockets share socket 0's UMEM).
 *       memfd: socket 0 on a sealed memfd UMEM with headroom 0, a DIRECT
 *       with that memfd but headroom 128 (the keeper cannot check it):
 *       frames on sockets of the keeper's own registration then start
 *       128 bytes further into their frame than on socket 0's UMEM, which
 *       tells which UMEM a socket is on (this kernel has no XDP sock_diag).
 *       Prints "direct: nic0/Q:MODE:UMEM ...", "ok" after OK, then reads
 *       the direct sockets until N frames came (10 s at most):
 *       "received N at OFFSET[,OFFSET]" (the frames' offsets in their
 *       chunk); exit 0 when exactly N.
 *   ep_client direct unsealed|small|sparse|notmemfd
 *       a DIRECT with a bad UMEM memfd (no seals; half the size; sealed
 *       but never registered, so its pages are not there; /dev/null) and
 *       expect the keeper to close: "closed: <error text>".
 */
#define _GNU_SOURCE
#include "endpoint_proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

static int fail(const char *what, int err)
{
	fprintf(stderr, "ep_client: %s: %s\n", what, xh_ep_strerror(err));
	return 1;
}

static int connect_keeper(void)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	xh_ep_abstract_addr(XDP_ENDPOINT_SOCKET, &sa, &len);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, len))
		return -errno;
	return fd;
}

/* Wait up to rounds / 2 s for the keeper to end the connection; say how. */
static int expect_close(int fd, int rounds)
{
	char *buf = malloc(XDP_ENDPOINT_MSG_MAX), text[XDP_ENDPOINT_ERROR_MAX] = "EOF";
	struct pollfd p = { .fd = fd, .events = POLLIN };
	bool reset = false;

	for (int i = 0; i < rounds && buf; i++) {
		const void *payload;
		size_t len;
		uint16_t type;
		int code, err;

		if (poll(&p, 1, 500) <= 0)
			continue;
		err = xh_ep_recv(fd, buf, &type, &payload, &len, NULL, MSG_DONTWAIT);
		/* Closed with records of ours unread, the keeper's socket
		 * resets ours: the reset is reported before what is still
		 * queued (its ERROR). Read on to the end. */
		if (err == -ECONNRESET && !reset) {
			reset = true;
			i--;
			continue;
		}
		if (err == -EPIPE || err == -ECONNRESET || (reset && err == -EAGAIN)) {
			printf("closed: %s\n", text);
			free(buf);
			return 0;
		}
		if (!err && type == XDP_ENDPOINT_MSG_ERROR)
			xh_ep_error_decode(payload, len, &code, text, sizeof(text));
	}
	free(buf);
	printf("still open\n");
	return 1;
}

static int take_desc(int fd, int *xsk)
{
	char *buf = malloc(XDP_ENDPOINT_MSG_MAX);
	const void *payload;
	size_t len;
	uint16_t type = 0;
	int err = buf ? xh_ep_recv(fd, buf, &type, &payload, &len, xsk, 0) : -ENOMEM;

	if (!err && type != XDP_ENDPOINT_MSG_DESC)
		err = -EPROTO;
	free(buf);
	return err;
}

static int misbehave(const char *how)
{
	struct xdp_endpoint_msg_hdr h = { XDP_ENDPOINT_MAGIC, XDP_ENDPOINT_VERSION, 0, 0 };
	union {
		struct cmsghdr c;
		char space[CMSG_SPACE(250 * sizeof(int))];
	} ctl;
	static char big[XDP_ENDPOINT_MSG_MAX + 512];
	int fds[250], nfds = 0, rounds = 10;
	struct iovec iov = { .iov_base = &h, .iov_len = sizeof(h) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fd = connect_keeper(), xsk = -1, err;

	if (fd < 0)
		return fail("connect", fd);
	err = take_desc(fd, &xsk);
	if (err)
		return fail("description", err);
	close(xsk);
	if (!strcmp(how, "garbage")) {
		if (getrandom(big, 300, 0) != 300)
			return fail("getrandom", -errno);
		iov = (struct iovec){ .iov_base = big, .iov_len = 300 };
	} else if (!strcmp(how, "oversize")) {
		h.type = XDP_ENDPOINT_MSG_READY;
		memcpy(big, &h, sizeof(h));
		iov = (struct iovec){ .iov_base = big, .iov_len = sizeof(big) };
	} else if (!strcmp(how, "badlen")) {
		h.type = XDP_ENDPOINT_MSG_READY;
		h.len = 4096;
	} else if (!strcmp(how, "withfd")) {
		int null = open("/dev/null", O_RDONLY);

		h.type = XDP_ENDPOINT_MSG_READY;
		memset(&ctl, 0, sizeof(ctl));
		m.msg_control = ctl.space;
		m.msg_controllen = CMSG_SPACE(sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &null, sizeof(int));
	} else if (!strcmp(how, "early")) {
		h.type = XDP_ENDPOINT_MSG_READY;
	} else if (!strcmp(how, "twice")) {
		h.type = XDP_ENDPOINT_MSG_DESC;
	} else if (!strcmp(how, "hugelen")) {
		h.type = XDP_ENDPOINT_MSG_READY;
		h.len = UINT32_MAX;
	} else if (!strcmp(how, "short")) {
		iov.iov_len = 3;
	} else if (!strcmp(how, "empty")) {
		iov.iov_len = 0;
	} else if (!strcmp(how, "badversion")) {
		h.type = XDP_ENDPOINT_MSG_READY;
		h.version = 99;
	} else if (!strcmp(how, "badtype")) {
		h.type = 77;
	} else if (!strcmp(how, "wrongdir")) {
		h.type = XDP_ENDPOINT_MSG_OK;
	} else if (!strcmp(how, "manyfds") || !strcmp(how, "fdsdesc")) {
		h.type = how[0] == 'm' ? XDP_ENDPOINT_MSG_READY : XDP_ENDPOINT_MSG_DESC;
		nfds = how[0] == 'm' ? 250 : 3;
		for (int i = 0; i < nfds; i++)
			if ((fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
				return fail("open /dev/null", -errno);
		memset(&ctl, 0, sizeof(ctl));
		m.msg_control = ctl.space;
		m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	} else if (!strcmp(how, "burst")) {
		/* Back to back, without waiting for the keeper: all queued
		 * before it reads the first (SEQPACKET keeps them apart). */
		for (int i = 0; i < 64; i++) {
			if (getrandom(big, 100 + i, 0) != 100 + i)
				return fail("getrandom", -errno);
			if (send(fd, big, 100 + i, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				break; /* the keeper closed it already, or the queue is full */
		}
		return expect_close(fd, rounds);
	} else if (!strcmp(how, "silent")) {
		return expect_close(fd, 2 * (XDP_ENDPOINT_HANDSHAKE_MS / 1000) + 20);
	} else {
		fprintf(stderr, "ep_client: unknown misbehaviour %s\n", how);
		return 2;
	}
	if (sendmsg(fd, &m, MSG_NOSIGNAL) < 0)
		return fail("send", -errno);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	return expect_close(fd, rounds);
}

/* n connections before reading any: one served, n - 1 refused. */
static int flood(int n)
{
	char *buf = malloc(XDP_ENDPOINT_MSG_MAX), first[XDP_ENDPOINT_ERROR_MAX] = "";
	int fds[256], served = 0, refused = 0, other = 0;

	if (!buf || n < 2 || n > 256)
		return fail("flood", -EINVAL);
	for (int i = 0; i < n; i++)
		if ((fds[i] = connect_keeper()) < 0)
			return fail("connect", fds[i]);
	for (int i = 0; i < n; i++) {
		struct pollfd p = { .fd = fds[i], .events = POLLIN };
		const void *payload;
		size_t len;
		uint16_t type = 0;
		int xsk = -1, code, err = -ETIMEDOUT;
		char text[XDP_ENDPOINT_ERROR_MAX];

		if (poll(&p, 1, 5000) == 1)
			err = xh_ep_recv(fds[i], buf, &type, &payload, &len, &xsk, MSG_DONTWAIT);
		if (!err && type == XDP_ENDPOINT_MSG_DESC && xsk >= 0) {
			served++;
			close(xsk);
		} else if (!err && type == XDP_ENDPOINT_MSG_ERROR &&
			   !xh_ep_error_decode(payload, len, &code, text, sizeof(text))) {
			if (!refused++)
				snprintf(first, sizeof(first), "%s", text);
		} else {
			other++;
		}
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
	free(buf);
	printf("flood: %d served, %d refused (%s), %d other\n", served, refused, first, other);
	return served == 1 && refused == n - 1 ? 0 : 1;
}

static int refused(void)
{
	char *buf = malloc(XDP_ENDPOINT_MSG_MAX), text[XDP_ENDPOINT_ERROR_MAX];
	const void *payload;
	size_t len;
	uint16_t type = 0;
	int fd = connect_keeper(), xsk = -1, code, err;

	if (fd < 0)
		return fail("connect", fd);
	err = buf ? xh_ep_recv(fd, buf, &type, &payload, &len, &xsk, 0) : -ENOMEM;
	if (!err && type == XDP_ENDPOINT_MSG_ERROR &&
	    !xh_ep_error_decode(payload, len, &code, text, sizeof(text))) {
		printf("refused: errno %d: %s\n", code, text);
		free(buf);
		return 0;
	}
	printf("not refused (type %u, err %d)\n", type, err);
	free(buf);
	return 1;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int hold(void)
{
	struct xdp_endpoint *ep;
	int err = xdp_endpoint_open(NULL, &ep);

	if (err)
		return fail("open", err);
	printf("held\n");
	fflush(stdout);
	while (!stop)
		pause();
	xdp_endpoint_close(ep);
	return 0;
}

static int env(void)
{
	const char *fds = getenv("LISTEN_FDS"), *names = getenv("LISTEN_FDNAMES");
	char pid[24];
	struct xdp_endpoint *ep;
	struct xsk_ring_prod *fill;
	struct xsk_ring_cons *rx;
	uint32_t idx;
	int err;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	printf("LISTEN_FDS=%s LISTEN_FDNAMES=%s LISTEN_PID=%s\n", fds ? fds : "-",
	       names ? names : "-", getenv("LISTEN_PID") && !strcmp(getenv("LISTEN_PID"), pid)
					    ? "self" : "other");
	err = xdp_endpoint_from_env(&ep);
	if (err)
		return fail("from_env", err);
	printf("endpoint %s ifindex %d fd %d umem_fd %d umem %llu frames %u env_left %s\n",
	       xdp_endpoint_ifname(ep), xdp_endpoint_ifindex(ep), xdp_endpoint_fd(ep),
	       xdp_endpoint_umem_fd(ep), (unsigned long long)xdp_endpoint_umem_size(ep),
	       xdp_endpoint_frame_count(ep), getenv("LISTEN_FDS") ? "yes" : "no");
	fflush(stdout);
	/* One frame in, proving the rings and the UMEM are mapped right. */
	fill = xdp_endpoint_fill(ep);
	rx = xdp_endpoint_rx(ep);
	if (xsk_ring_prod__reserve(fill, 16, &idx) != 16)
		return fail("fill ring", -ENOSPC);
	for (uint32_t i = 0; i < 16; i++)
		*xsk_ring_prod__fill_addr(fill, idx + i) = (uint64_t)i * xdp_endpoint_frame_size(ep);
	xsk_ring_prod__submit(fill, 16);
	for (int i = 0; i < 100; i++) {
		struct pollfd p = { .fd = xdp_endpoint_fd(ep), .events = POLLIN };

		poll(&p, 1, 100);
		if (xsk_ring_cons__peek(rx, 1, &idx) == 1) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(rx, idx);
			const uint8_t *f = xsk_umem__get_data(xdp_endpoint_umem(ep), d->addr);

			printf("frame %u ethertype %02x%02x\n", d->len, f[12], f[13]);
			xsk_ring_cons__release(rx, 1);
			xdp_endpoint_close(ep);
			return 0;
		}
	}
	xdp_endpoint_close(ep);
	printf("no frame\n");
	return 1;
}

static int udp(const char *addr, const char *port, const char *text)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (void *)&ss;
	struct sockaddr_in6 *s6 = (void *)&ss;
	char buf[512];
	int fd;
	ssize_t n;
	struct timeval tv = { .tv_sec = 2 };

	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)atoi(port));
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)atoi(port));
	} else {
		return fail(addr, -EINVAL);
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&ss, sizeof(ss)) || send(fd, text, strlen(text), 0) < 0)
		return fail("udp", -errno);
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return fail("udp receive", -errno);
	buf[n] = '\0';
	printf("echo: %s\n", buf);
	return strcmp(buf, text) != 0;
}

/* ---- direct: an old-style DIRECT, and bad memfds ---------------------------------- */

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

/* The fill and RX ring of a direct socket, mapped by hand. */
struct dring {
	uint32_t *prod, *cons, size;
	void *desc;
};

static int dring_map(int fd, int opt_pgoff, const struct xdp_ring_offset *o, uint32_t size,
		     size_t entry, struct dring *r)
{
	char *m = mmap(NULL, o->desc + size * entry, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		       fd, opt_pgoff == 0 ? XDP_PGOFF_RX_RING : (off_t)XDP_UMEM_PGOFF_FILL_RING);

	if (m == MAP_FAILED)
		return -errno;
	*r = (struct dring){ .prod = (uint32_t *)(m + o->producer), .cons = (uint32_t *)(m + o->consumer),
			     .size = size, .desc = m + o->desc };
	return 0;
}

static int expect_type(int fd, char *buf, uint16_t want, int *fds, size_t max, size_t *n,
		       const void **payload, size_t *len)
{
	char text[XDP_ENDPOINT_ERROR_MAX];
	uint16_t type = 0;
	int code, err = xh_ep_recv_fds(fd, buf, &type, payload, len, fds, max, n, 0);

	if (!err && type == XDP_ENDPOINT_MSG_ERROR &&
	    !xh_ep_error_decode(*payload, *len, &code, text, sizeof(text))) {
		fprintf(stderr, "ep_client: keeper: %s\n", text);
		return -code;
	}
	return err ? err : type == want ? 0 : -EPROTO;
}

/* Socket 0 on mem (the UMEM), its four rings, bound to the description's
 * device and queue in copy mode. */
static int bind0(int xsk, const struct xh_ep_desc *d, void *mem)
{
	static const int opt[XH_EP_NRINGS] = { XDP_UMEM_FILL_RING, XDP_UMEM_COMPLETION_RING,
					       XDP_RX_RING, XDP_TX_RING };
	struct xdp_umem_reg reg = { .addr = (uintptr_t)mem, .len = d->umem_size,
				    .chunk_size = d->frame_size };
	struct sockaddr_xdp sa = { .sxdp_family = AF_XDP, .sxdp_ifindex = (uint32_t)d->ifindex,
				   .sxdp_queue_id = d->queue, .sxdp_flags = XDP_COPY };

	if (setsockopt(xsk, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)))
		return -errno;
	for (int i = 0; i < XH_EP_NRINGS; i++)
		if (setsockopt(xsk, SOL_XDP, opt[i], &d->ring[i], sizeof(d->ring[i])))
			return -errno;
	/* The previous client's socket leaves the queue in a kernel work
	 * item: EBUSY for a while (as libxdp_endpoint, retry, bounded). */
	for (int tries = 0; bind(xsk, (struct sockaddr *)&sa, sizeof(sa)); tries++) {
		if (errno != EBUSY || tries >= 100)
			return -errno;
		nanosleep(&(struct timespec){ .tv_nsec = 20000000L }, NULL);
	}
	return 0;
}

/* The memfd a bad DIRECT carries: kind says how it is bad. */
static int bad_memfd(const char *kind, uint64_t size)
{
	int fd;

	if (!strcmp(kind, "notmemfd"))
		return open("/dev/null", O_RDWR | O_CLOEXEC);
	fd = memfd_create("ep_client", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, (off_t)(!strcmp(kind, "small") ? size / 2 : size)))
		return -errno;
	if (strcmp(kind, "unsealed") && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
		return -errno;
	if (!strcmp(kind, "unsealed") || !strcmp(kind, "small")) {
		/* Allocated: only the seal or the size is wrong. */
		void *m = mmap(NULL, size / 2, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);

		if (m == MAP_FAILED)
			return -errno;
		memset(m, 1, size / 2);
		munmap(m, size / 2);
	}
	return fd;
}

static int direct(const char *kind, int want)
{
	static char buf[XDP_ENDPOINT_MSG_MAX];
	static struct xh_ep_desc desc, *d = &desc;
	char *json = NULL;
	struct xh_ep_direct b[XDP_ENDPOINT_MAX_DIRECT];
	struct dring fill[XDP_ENDPOINT_MAX_DIRECT], rx[XDP_ENDPOINT_MAX_DIRECT];
	struct pollfd p[XDP_ENDPOINT_MAX_DIRECT];
	int ctl = connect_keeper(), xsk = -1, fds[XDP_ENDPOINT_MAX_DIRECT], bad = -1, got = 0, err;
	bool anon = !strcmp(kind, "anon"), good = anon || !strcmp(kind, "memfd");
	uint64_t offsets = 0; /* bit k: a frame at k * 64 into its chunk */
	struct xdp_mmap_offsets off;
	socklen_t olen = sizeof(off);
	size_t nfds = 0, n = 0, len;
	const void *payload;
	void *mem;

	if (ctl < 0)
		return fail("connect", ctl);
	err = expect_type(ctl, buf, XDP_ENDPOINT_MSG_DESC, &xsk, 1, &nfds, &payload, &len);
	if (!err)
		err = nfds ? xh_ep_desc_from_json(payload, len, d) : -EPROTO;
	if (err)
		return fail("description", err);
	if (!anon && (bad = bad_memfd(kind, d->umem_size)) < 0)
		return fail(kind, bad);
	/* Socket 0's UMEM: the memfd itself for "memfd" and "unsealed". */
	if (!strcmp(kind, "memfd") || !strcmp(kind, "unsealed"))
		mem = mmap(NULL, d->umem_size, PROT_READ | PROT_WRITE, MAP_SHARED, bad, 0);
	else
		mem = mmap(NULL, d->umem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || (err = bind0(xsk, d, mem)))
		return fail("socket 0", mem == MAP_FAILED ? -errno : err);
	if (!anon) {
		struct xh_ep_umem_geom g = { .size = d->umem_size, .frame_size = d->frame_size,
					     .headroom = good ? 128 : 0 };

		if (!(err = xh_ep_direct_to_json(&g, &json)))
			err = xh_ep_send(ctl, XDP_ENDPOINT_MSG_DIRECT, json, strlen(json), bad);
		free(json);
		if (err)
			return fail("DIRECT", err);
		if (!good)
			return expect_close(ctl, 20);
	} else {
		err = xh_ep_send(ctl, XDP_ENDPOINT_MSG_DIRECT, NULL, 0, -1);
	}
	if (!err)
		err = expect_type(ctl, buf, XDP_ENDPOINT_MSG_BOUND, fds, XDP_ENDPOINT_MAX_DIRECT, &nfds,
				  &payload, &len);
	if (!err)
		err = xh_ep_bound_from_json(payload, len, b, &n);
	if (!err && (n != nfds || !n || getsockopt(fds[0], SOL_XDP, XDP_MMAP_OFFSETS, &off, &olen)))
		err = -EPROTO;
	if (err)
		return fail("BOUND", err);
	printf("direct:");
	for (size_t i = 0; i < n; i++) {
		printf(" %s/%u:%s:%s", b[i].ifname, b[i].queue, b[i].zerocopy ? "zero-copy" : "copy",
		       b[i].own_umem ? "own" : "xdp0");
		if ((err = dring_map(fds[i], 1, &off.fr, b[i].ring[0], sizeof(uint64_t), &fill[i])) ||
		    (err = dring_map(fds[i], 0, &off.rx, b[i].ring[2], sizeof(struct xdp_desc), &rx[i])))
			return fail("map a direct socket's rings", err);
		p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	}
	printf("\n");
	/* 16 frames on each fill ring, from the UMEM's start. */
	for (size_t i = 0; i < n; i++) {
		for (uint32_t k = 0; k < 16; k++)
			((uint64_t *)fill[i].desc)[k] = (i * 16 + k) * d->frame_size;
		__atomic_store_n(fill[i].prod, 16, __ATOMIC_RELEASE);
	}
	err = xh_ep_send(ctl, XDP_ENDPOINT_MSG_READY, NULL, 0, -1);
	if (!err)
		err = expect_type(ctl, buf, XDP_ENDPOINT_MSG_OK, NULL, 0, NULL, &payload, &len);
	if (err)
		return fail("READY", err);
	printf("ok\n");
	fflush(stdout);
	/* Each frame back onto the fill ring it came from. */
	for (int round = 0; round < 100 && got < want && !stop; round++) {
		poll(p, n, 100);
		for (size_t i = 0; i < n; i++) {
			uint32_t c = *rx[i].cons, e = __atomic_load_n(rx[i].prod, __ATOMIC_ACQUIRE);
			uint32_t f = *fill[i].prod;

			for (; c != e; c++, f++, got++) {
				uint64_t a = ((struct xdp_desc *)rx[i].desc)[c & (rx[i].size - 1)].addr;

				offsets |= 1ull << ((a & (d->frame_size - 1)) / 64 % 64);
				((uint64_t *)fill[i].desc)[f & (fill[i].size - 1)] = a;
			}
			__atomic_store_n(rx[i].cons, c, __ATOMIC_RELEASE);
			__atomic_store_n(fill[i].prod, f, __ATOMIC_RELEASE);
		}
	}
	printf("received %d at", got);
	for (int k = 0; k < 64; k++)
		if (offsets & (1ull << k))
			printf("%s%d", offsets & ((1ull << k) - 1) ? "," : " ", k * 64);
	printf("\n");
	return got != want;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (argc == 2 && !strcmp(argv[1], "refused"))
		return refused();
	if (argc == 2 && !strcmp(argv[1], "hold"))
		return hold();
	if (argc == 2 && !strcmp(argv[1], "env"))
		return env();
	if (argc == 5 && !strcmp(argv[1], "udp"))
		return udp(argv[2], argv[3], argv[4]);
	if (argc >= 3 && !strcmp(argv[1], "direct"))
		return direct(argv[2], argc > 3 ? atoi(argv[3]) : 0);
	if (argc == 3 && !strcmp(argv[1], "flood"))
		return flood(atoi(argv[2]));
	if (argc == 2)
		return misbehave(argv[1]);
	fprintf(stderr, "usage: ep_client garbage|oversize|badlen|withfd|early|twice|hugelen|short|"
			"empty|badversion|badtype|wrongdir|manyfds|fdsdesc|burst|silent|refused|hold|env"
			"|udp ADDR PORT TEXT|flood N|direct KIND [N]\n");
	return 2;
}
