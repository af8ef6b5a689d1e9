/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The endpoint keeper process (see keeper.h), build/xdphook-keeper: one
 * process, one thread, one poll loop over a signalfd (SIGTERM/SIGINT), a
 * pidfd of the container's init, the listening socket and at most one
 * client connection.
 *
 * A program of its own, exec'd by keeper_start(), not a fork of the hook:
 * it lives as long as the container, and a forked hook carries the hook's
 * pages (libbpf, libxdp, libnl, loaded objects: ~1 MiB of Pss) where this
 * needs libc and jansson (~0.3 MiB). It links no libbpf: the two XSKMAP
 * operations are bpf(2) calls of its own.
 *
 * Invocation (keeper_start): fds 0-2 on /dev/null, KEEPER_FD_* open,
 * nothing else; argv as KEEPER_ARGV_* says.
 *
 * Host mode with `direct` (the description lists the NIC's RX queues): on
 * a client's DIRECT the keeper makes one AF_XDP socket per queue in the
 * NIC's netns (KEEPER_FD_HOSTNS), binds each itself (fill, completion and
 * RX rings, no TX ring) and hands them over (BOUND): with the client's
 * UMEM memfd, on a registration of their own of that memory (zero-copy
 * where the NIC can: a UMEM first bound on the veth xdp0 would make them
 * copy mode); without, XDP_SHARED_UMEM on the client's socket 0. On
 * READY they go into the NIC program's direct_xsks at their queue, after
 * socket 0 into xdp0's XSKMAP; they leave in the opposite order when the
 * client goes.
 */
#define _GNU_SOURCE
#include "keeper.h"
#include "endpoint_proto.h"
#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <linux/if_xdp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>

#define KEEPER_BACKLOG 8
/* Lines about clients: anyone in the netns can connect, as often as it
 * likes, and the log lives in /run (memory). At most LOG_BURST lines per
 * window, none once the log has grown to LOG_MAX bytes. */
#define LOG_BURST 60
#define LOG_WINDOW_NS (60ull * 1000000000ull)
#define LOG_MAX (1 << 20)
/* The kernel frees a closed socket's hold on a queue in a work item: a
 * bind right after the previous client went away may see EBUSY. */
#define BIND_BUSY_TRIES 100
#define BIND_BUSY_WAIT_NS 20000000L

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

/* What keeper_start() passed on the command line. */
struct keeper_conf {
	const char *id, *ifname, *socket_name, *desc_json;
	int ifindex, init_pid;
	uint32_t queue, key; /* xdp0's, and socket 0's key in the XSKMAP */
	uint32_t uids[XH_KEEPER_MAX_UIDS];
	size_t n_uids;
};

enum phase {
	IDLE,      /* no client */
	HANDSHAKE, /* the client has the socket, READY not yet there */
	BOUND,     /* HANDSHAKE, and the client has the direct sockets too */
	ACTIVE,    /* the socket is in the XSKMAP (and the direct ones if bound) */
};

struct keeper {
	struct keeper_conf c;
	int log_fd, map_fd, pidfd, sig_fd, listen_fd;
	int xsk_fd;            /* the socket the current or next client gets */
	int client_fd;
	enum phase phase;
	bool exiting;          /* the last words are never rate limited */
	struct ucred peer;
	uint64_t deadline_ns;  /* HANDSHAKE: when the client is dropped */
	uint64_t log_window_ns;
	unsigned int log_lines, log_dropped;
	char *buf;             /* one record */
	/* direct (n_direct > 0): the NIC's netns and ours, the NIC program's
	 * direct_xsks, the queues, and the sockets handed out (-1: none) */
	int host_ns, own_ns, nic_map;
	bool direct_in_map;
	bool zc_allowed;       /* the DESC's "zerocopy": the node allows it */
	size_t n_direct;
	struct xh_ep_direct direct[XDP_ENDPOINT_MAX_DIRECT];
	int dfd[XDP_ENDPOINT_MAX_DIRECT];
};

/* ---- log ---------------------------------------------------------------------- */

static void klog_v(struct keeper *k, const char *fmt, va_list ap)
{
	char line[768], ts[32];
	struct timespec now;
	struct tm tm;
	size_t len;
	int n;

	line[0] = '\0';
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line) - 1, "%s.%03ldZ keeper[%d] %s: ", ts, now.tv_nsec / 1000000,
		     getpid(), k->c.id);
	if (n > 0 && (size_t)n < sizeof(line) - 1)
		vsnprintf(line + n, sizeof(line) - 1 - (size_t)n, fmt, ap);
	/* Cut lines end with their newline too (one byte was kept for it). */
	len = strlen(line);
	line[len++] = '\n';
	/* One write per line with O_APPEND: lines never interleave. */
	if (write(k->log_fd, line, len) < 0) {
		/* nowhere left to say it */
	}
}

static void __attribute__((format(printf, 2, 3))) klog(struct keeper *k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	klog_v(k, fmt, ap);
	va_end(ap);
}

/* klog for what clients cause: rate limited. */
static void __attribute__((format(printf, 2, 3))) klog_client(struct keeper *k, const char *fmt, ...)
{
	uint64_t now = xh_now_ns(CLOCK_MONOTONIC);
	va_list ap;

	if (now - k->log_window_ns > LOG_WINDOW_NS) {
		if (k->log_dropped)
			klog(k, "%u client messages not logged (rate limit)", k->log_dropped);
		k->log_window_ns = now;
		k->log_lines = k->log_dropped = 0;
	}
	if (k->log_lines >= LOG_BURST || lseek(k->log_fd, 0, SEEK_END) > LOG_MAX) {
		k->log_dropped++;
		return;
	}
	k->log_lines++;
	va_start(ap, fmt);
	klog_v(k, fmt, ap);
	va_end(ap);
}

/* ---- the XSKMAP: bpf(2) directly, no libbpf in this process -------------------- */

static int bpf_map_op(int cmd, int map_fd, uint32_t key, const int *value)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (uint32_t)map_fd;
	attr.key = (uint64_t)(uintptr_t)&key;
	attr.value = (uint64_t)(uintptr_t)value;
	attr.flags = BPF_ANY;
	return (int)syscall(__NR_bpf, cmd, &attr, sizeof(attr));
}

/* 0, or -1 with errno, as libbpf's. */
static int map_update(int map_fd, uint32_t key, int xsk_fd)
{
	return bpf_map_op(BPF_MAP_UPDATE_ELEM, map_fd, key, &xsk_fd);
}

static int map_delete(int map_fd, uint32_t key)
{
	return bpf_map_op(BPF_MAP_DELETE_ELEM, map_fd, key, NULL);
}

/* ---- clients ------------------------------------------------------------------- */

static int new_xsk(void)
{
	int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return xh_err(-errno, "AF_XDP socket: %s", strerror(errno));
	return fd;
}

/* Tell a client why it is turned away (best effort: it may be gone). */
static void send_error(int fd, int err, const char *msg)
{
	cleanup_free char *json = NULL;

	if (!xh_ep_error_encode(err, msg, &json))
		xh_ep_send(fd, XDP_ENDPOINT_MSG_ERROR, json, strlen(json), -1);
}

static void refuse(struct keeper *k, int fd, const struct ucred *cr, int err, const char *msg)
{
	klog_client(k, "refused pid %d uid %u: %s", cr->pid, cr->uid, msg);
	send_error(fd, err, msg);
	close(fd);
}

/* The client is gone or dropped: its socket leaves the XSKMAP (frames fall
 * back to XDP_PASS) and is closed; the next client gets a fresh one. */
/* The direct sockets out of the NIC program's map (first: from then on
 * frames take the veth path) and closed. */
static void direct_drop(struct keeper *k)
{
	for (size_t i = 0; i < k->n_direct; i++) {
		if (k->direct_in_map && map_delete(k->nic_map, k->direct[i].queue) && errno != ENOENT)
			klog(k, "direct_xsks: remove queue %u: %s", k->direct[i].queue, strerror(errno));
		if (k->dfd[i] >= 0)
			close(k->dfd[i]);
		k->dfd[i] = -1;
	}
	k->direct_in_map = false;
}

static void drop_client(struct keeper *k, const char *why)
{
	direct_drop(k);
	if (k->phase == ACTIVE) {
		if (map_delete(k->map_fd, k->c.key) && errno != ENOENT)
			klog(k, "XSKMAP: remove queue %u: %s", k->c.queue, strerror(errno));
	}
	if (k->phase != IDLE && k->exiting)
		klog(k, "client pid %d uid %u: %s", k->peer.pid, k->peer.uid, why);
	else if (k->phase != IDLE)
		klog_client(k, "client pid %d uid %u: %s", k->peer.pid, k->peer.uid, why);
	if (k->client_fd >= 0)
		close(k->client_fd);
	k->client_fd = -1;
	/* Handed out: whatever the client did to it (UMEM, rings, bind) is
	 * not for the next one. */
	if (k->phase != IDLE && k->xsk_fd >= 0) {
		close(k->xsk_fd);
		k->xsk_fd = -1;
	}
	k->phase = IDLE;
}

static bool uid_allowed(const struct keeper *k, uid_t uid)
{
	for (size_t i = 0; i < k->c.n_uids; i++)
		if (k->c.uids[i] == uid)
			return true;
	return false;
}

static void serve(struct keeper *k, int fd, const struct ucred *cr)
{
	char msg[160];
	int err;

	if (k->xsk_fd < 0 && (k->xsk_fd = new_xsk()) < 0) {
		err = k->xsk_fd;
		snprintf(msg, sizeof(msg), "keeper: %s", xh_strerror(err));
		refuse(k, fd, cr, err, msg);
		return;
	}
	err = xh_ep_send(fd, XDP_ENDPOINT_MSG_DESC, k->c.desc_json, strlen(k->c.desc_json), k->xsk_fd);
	if (err) {
		klog_client(k, "pid %d: send description: %s", cr->pid, xh_ep_strerror(err));
		close(fd);
		return;
	}
	k->client_fd = fd;
	k->peer = *cr;
	k->phase = HANDSHAKE;
	k->deadline_ns = xh_now_ns(CLOCK_MONOTONIC) + XDP_ENDPOINT_HANDSHAKE_MS * 1000000ull;
	klog_client(k, "client pid %d uid %u: socket handed over", cr->pid, cr->uid);
}

static void on_connect(struct keeper *k, int fd)
{
	struct ucred cr = { 0 };
	socklen_t len = sizeof(cr);
	char msg[160];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len)) {
		klog_client(k, "SO_PEERCRED: %s", strerror(errno));
		close(fd);
		return;
	}
	if (!uid_allowed(k, cr.uid)) {
		snprintf(msg, sizeof(msg), "uid %u is not allowed to take the endpoint", cr.uid);
		refuse(k, fd, &cr, EACCES, msg);
		return;
	}
	if (k->phase != IDLE) {
		snprintf(msg, sizeof(msg), "endpoint busy: held by pid %d (uid %u)", k->peer.pid,
			 k->peer.uid);
		refuse(k, fd, &cr, EBUSY, msg);
		return;
	}
	serve(k, fd, &cr);
}

static void accept_all(struct keeper *k)
{
	for (;;) {
		int fd = accept4(k->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd >= 0) {
			on_connect(k, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN) {
			klog_client(k, "accept: %s", strerror(errno));
			/* Out of fds or memory: do not spin on a readable socket. */
			nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
		}
		return;
	}
}

/* Did the client bind the socket? The kernel takes unbound sockets into an
 * XSKMAP and then drops every frame redirected to them, so ask first.
 * Probe: bind() refuses a socket that is already bound with EBUSY before
 * it looks at the address, and an unbound one with ENODEV for ifindex 0
 * (no device has it): the probe itself never binds. Anything else (e.g.
 * EINVAL after SO_BINDTODEVICE) is left for the kernel to judge. */
static bool xsk_unbound(int fd)
{
	struct sockaddr_xdp sa = { .sxdp_family = AF_XDP, .sxdp_ifindex = 0 };

	return bind(fd, (struct sockaddr *)&sa, sizeof(sa)) && errno == ENODEV;
}

static void on_ready(struct keeper *k)
{
	char msg[256];

	if (xsk_unbound(k->xsk_fd)) {
		snprintf(msg, sizeof(msg), "READY, but the socket is not bound (bind it to %s queue %u)",
			 k->c.ifname, k->c.queue);
		send_error(k->client_fd, EINVAL, msg);
		drop_client(k, msg);
		return;
	}
	if (map_update(k->map_fd, k->c.key, k->xsk_fd)) {
		int err = -errno;

		snprintf(msg, sizeof(msg), "XSKMAP insert for %s queue %u: %s (is the socket bound to it?)",
			 k->c.ifname, k->c.queue, strerror(errno));
		send_error(k->client_fd, err, msg);
		drop_client(k, msg);
		return;
	}
	/* Socket 0 first: a frame already on its way through the veth when
	 * a queue switches to its direct socket still finds a socket. */
	k->phase = ACTIVE;
	k->direct_in_map = k->dfd[0] >= 0;
	for (size_t i = 0; k->direct_in_map && i < k->n_direct; i++) {
		if (!map_update(k->nic_map, k->direct[i].queue, k->dfd[i]))
			continue;
		snprintf(msg, sizeof(msg), "direct_xsks insert for %s queue %u: %s", k->direct[i].ifname,
			 k->direct[i].queue, strerror(errno));
		send_error(k->client_fd, errno, msg);
		drop_client(k, msg);
		return;
	}
	if (xh_ep_send(k->client_fd, XDP_ENDPOINT_MSG_OK, NULL, 0, -1)) {
		drop_client(k, "gone before OK");
		return;
	}
	klog_client(k, "client pid %d uid %u: ready, socket in the XSKMAP", k->peer.pid, k->peer.uid);
}

/* ---- direct sockets ---------------------------------------------------------------- */

/* socket() in the NIC's netns (an AF_XDP socket resolves its bind ifindex
 * in the netns it was created in), at base + queue (KEEPER_FD_DIRECT or
 * KEEPER_FD_DIRECT_SHARED: which UMEM it will be on). The switch back is
 * not optional: this process serves the container netns. */
static int direct_create(struct keeper *k, int base)
{
	int err = 0;

	if (setns(k->host_ns, CLONE_NEWNET))
		return xh_err(-errno, "enter the NIC's network namespace: %s", strerror(errno));
	for (size_t i = 0; !err && i < k->n_direct; i++) {
		int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			err = xh_err(-errno, "AF_XDP socket: %s", strerror(errno));
			break;
		}
		k->dfd[i] = dup3(fd, base + (int)k->direct[i].queue, O_CLOEXEC);
		close(fd);
		if (k->dfd[i] < 0)
			err = xh_err(-errno, "AF_XDP socket at fd %u: %s", base + k->direct[i].queue,
				     strerror(errno));
	}
	if (setns(k->own_ns, CLONE_NEWNET)) {
		klog(k, "back into the container network namespace: %s; exiting", strerror(errno));
		_exit(1);
	}
	return err;
}

/* Rings (no TX ring: this socket never transmits, whoever holds it) and
 * bind to (NIC, queue). on: the socket whose UMEM it shares
 * (XDP_SHARED_UMEM: the kernel takes no copy/zero-copy flag then, the
 * socket gets the mode that UMEM was first bound with), or -1 for the
 * socket that registered a UMEM of its own: XDP_COPY, or where the node
 * allows zero-copy no mode flag, which has the kernel try zero-copy and
 * fall back to copy where the driver cannot (xp_assign_dev). XDP_OPTIONS
 * then says which it got. */
static int direct_bind(struct keeper *k, size_t i, int on)
{
	struct xh_ep_direct *d = &k->direct[i];
	static const int opt[XH_EP_DIRECT_RINGS] = { XDP_UMEM_FILL_RING, XDP_UMEM_COMPLETION_RING,
						     XDP_RX_RING };
	struct sockaddr_xdp sa = {
		.sxdp_family = AF_XDP,
		.sxdp_ifindex = (uint32_t)d->ifindex,
		.sxdp_queue_id = d->queue,
		.sxdp_flags = on >= 0        ? XDP_SHARED_UMEM
			      : k->zc_allowed ? XDP_USE_NEED_WAKEUP
					      : XDP_USE_NEED_WAKEUP | XDP_COPY,
		.sxdp_shared_umem_fd = on >= 0 ? (uint32_t)on : 0,
	};
	struct xdp_options o = { 0 };
	socklen_t len = sizeof(o);

	for (int r = 0; r < XH_EP_DIRECT_RINGS; r++)
		if (setsockopt(k->dfd[i], SOL_XDP, opt[r], &d->ring[r], sizeof(d->ring[r])))
			return xh_err(-errno, "%s queue %u: %s ring: %s", d->ifname, d->queue,
				      xh_ep_ring_name(r), strerror(errno));
	/* A bind that fails leaves the socket as it was (verified: EBUSY,
	 * and XDP_ZEROCOPY refused on a veth, then bound again): retry. */
	for (int tries = 0; bind(k->dfd[i], (struct sockaddr *)&sa, sizeof(sa)); tries++) {
		if (errno != EBUSY || tries >= BIND_BUSY_TRIES)
			return xh_err(-errno, "bind to %s (ifindex %d) queue %u: %s", d->ifname, d->ifindex,
				      d->queue, strerror(errno));
		nanosleep(&(struct timespec){ .tv_nsec = BIND_BUSY_WAIT_NS }, NULL);
	}
	d->zerocopy = !getsockopt(k->dfd[i], SOL_XDP, XDP_OPTIONS, &o, &len) &&
		      (o.flags & XDP_OPTIONS_ZEROCOPY);
	d->own_umem = on != k->xsk_fd;
	return 0;
}

/* The client's memfd as a UMEM: a memfd (it has seals) that can neither
 * shrink nor grow under the registration, at least g->size bytes, all of
 * them already allocated (the client registered it on socket 0, which
 * faulted every page in): pinning it here allocates nothing, so nothing
 * is charged to the keeper. */
static int umem_fd_check(int fd, const struct xh_ep_umem_geom *g)
{
	const int need = F_SEAL_SHRINK | F_SEAL_GROW;
	int seals = fcntl(fd, F_GET_SEALS);
	struct stat st;

	if (seals < 0)
		return xh_err(-EINVAL, "the UMEM fd is not a memfd (F_GET_SEALS: %s)", strerror(errno));
	if ((seals & need) != need)
		return xh_err(-EINVAL, "the UMEM memfd is not sealed with F_SEAL_SHRINK and F_SEAL_GROW");
	if (fstat(fd, &st))
		return xh_err(-errno, "the UMEM memfd: fstat: %s", strerror(errno));
	if ((uint64_t)st.st_size < g->size)
		return xh_err(-EINVAL, "the UMEM memfd holds %lld bytes, less than the UMEM's %llu",
			      (long long)st.st_size, (unsigned long long)g->size);
	if ((uint64_t)st.st_blocks * 512 < g->size)
		return xh_err(-EINVAL, "the UMEM memfd has %llu of the UMEM's %llu bytes allocated "
			      "(register it on socket 0 first)",
			      (unsigned long long)st.st_blocks * 512, (unsigned long long)g->size);
	return 0;
}

/* The NIC sockets' own registration of the client's UMEM, on the first
 * queue's socket: the same memfd pages from offset 0, the same chunk size
 * and headroom as socket 0's, so a frame address means the same bytes in
 * both and the client keeps one frame pool. Mapped only for the
 * registration: the kernel pins the pages, the keeper's Pss stays small. */
static int umem_register(struct keeper *k, int fd, const struct xh_ep_umem_geom *g)
{
	struct xdp_umem_reg reg = { .len = g->size, .chunk_size = g->frame_size,
				    .headroom = g->headroom };
	void *m;
	int err = umem_fd_check(fd, g);

	if (err)
		return err;
	m = mmap(NULL, g->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return xh_err(-errno, "map the UMEM memfd: %s", strerror(errno));
	reg.addr = (uintptr_t)m;
	if (setsockopt(k->dfd[0], SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)))
		err = xh_err(-errno, "register the UMEM (%llu bytes, frames of %u, headroom %u) on "
			     "%s queue %u: %s", (unsigned long long)g->size, g->frame_size, g->headroom,
			     k->direct[0].ifname, k->direct[0].queue, strerror(errno));
	munmap(m, g->size);
	return err;
}

/* DIRECT: payload and memfd both (the NIC sockets on a UMEM of their own)
 * or neither (socket 0's UMEM, as before "direct_memfd"). */
static void on_direct(struct keeper *k, const char *payload, size_t len, int memfd)
{
	cleanup_free char *json = NULL;
	struct xh_ep_umem_geom g = { 0 };
	char msg[300];
	int err = 0;

	if (!k->n_direct)
		err = xh_err(-EOPNOTSUPP, "no direct sockets here (host mode with \"direct\" only)");
	else if (xsk_unbound(k->xsk_fd))
		err = xh_err(-EINVAL, "DIRECT before socket 0 is bound to %s", k->c.ifname);
	else if (len && memfd < 0)
		err = xh_err(-EINVAL, "DIRECT names a UMEM but came without its memfd");
	else if (!len && memfd >= 0)
		err = xh_err(-EINVAL, "DIRECT came with an fd but without the UMEM's geometry");
	else if (len && (err = xh_ep_direct_from_json(payload, len, &g)))
		err = xh_err(err, "%s", xh_ep_strerror(err));
	if (!err)
		err = direct_create(k, memfd >= 0 ? KEEPER_FD_DIRECT : KEEPER_FD_DIRECT_SHARED);
	if (!err && memfd >= 0)
		err = umem_register(k, memfd, &g);
	for (size_t i = 0; !err && i < k->n_direct; i++)
		err = direct_bind(k, i, memfd < 0 ? k->xsk_fd : i ? k->dfd[0] : -1);
	if (memfd >= 0)
		close(memfd);
	if (!err)
		err = xh_ep_bound_to_json(k->direct, k->n_direct, &json);
	if (!err)
		err = xh_ep_send_fds(k->client_fd, XDP_ENDPOINT_MSG_BOUND, json, strlen(json), k->dfd,
				     k->n_direct);
	if (err) {
		snprintf(msg, sizeof(msg), "direct: %s", xh_strerror(err));
		send_error(k->client_fd, err, msg);
		drop_client(k, msg);
		return;
	}
	k->phase = BOUND;
	klog_client(k, "client pid %d uid %u: %zu direct sockets bound (%s, %s)", k->peer.pid,
		    k->peer.uid, k->n_direct, k->direct[0].own_umem ? "own UMEM" : "xdp0's UMEM",
		    k->direct[0].zerocopy ? "zero-copy" : "copy");
}

static void on_client(struct keeper *k)
{
	const void *payload;
	uint16_t type = 0;
	size_t len, nfd = 0;
	char msg[600];
	int fd = -1, err = xh_ep_recv_fds(k->client_fd, k->buf, &type, &payload, &len, &fd, 1, &nfd,
					  MSG_DONTWAIT);

	/* Only a DIRECT's memfd is kept (xh_ep_recv_fds closes the rest). */
	if (err == -EAGAIN)
		return;
	if (err == -EPIPE) {
		drop_client(k, "went away");
		return;
	}
	if (err) {
		snprintf(msg, sizeof(msg), "bad message: %s", xh_ep_strerror(err));
		send_error(k->client_fd, err, msg);
		drop_client(k, msg);
		return;
	}
	if ((k->phase == HANDSHAKE || k->phase == BOUND) && type == XDP_ENDPOINT_MSG_READY) {
		on_ready(k);
		return;
	}
	if (k->phase == HANDSHAKE && type == XDP_ENDPOINT_MSG_DIRECT) {
		on_direct(k, (const char *)payload, len, nfd ? fd : -1);
		return;
	}
	if (nfd)
		close(fd);
	snprintf(msg, sizeof(msg), "unexpected message type %u", type);
	send_error(k->client_fd, EPROTO, msg);
	drop_client(k, msg);
}

/* ---- the loop --------------------------------------------------------------------- */

static int handshake_timeout_ms(const struct keeper *k)
{
	uint64_t now = xh_now_ns(CLOCK_MONOTONIC);

	if (k->phase != HANDSHAKE && k->phase != BOUND)
		return -1;
	return now >= k->deadline_ns ? 0 : (int)((k->deadline_ns - now) / 1000000 + 1);
}

static void run(struct keeper *k)
{
	for (;;) {
		struct pollfd p[4] = {
			{ .fd = k->sig_fd, .events = POLLIN },
			{ .fd = k->pidfd, .events = POLLIN },
			{ .fd = k->listen_fd, .events = POLLIN },
			{ .fd = k->client_fd, .events = POLLIN },
		};
		int n = poll(p, 4, handshake_timeout_ms(k));

		if (n < 0 && errno != EINTR) {
			klog(k, "poll: %s; exiting", strerror(errno));
			return;
		}
		if (n > 0 && p[0].revents) {
			struct signalfd_siginfo si;

			if (read(k->sig_fd, &si, sizeof(si)) == sizeof(si))
				klog(k, "signal %u from pid %u: exiting", si.ssi_signo, si.ssi_pid);
			return;
		}
		if (n > 0 && p[1].revents) {
			klog(k, "container init %d exited: exiting", k->c.init_pid);
			return;
		}
		/* The client first: one that just left frees the endpoint for
		 * one that connects in the same round. */
		if (n > 0 && p[3].revents)
			on_client(k);
		if (n > 0 && p[2].revents)
			accept_all(k);
		if ((k->phase == HANDSHAKE || k->phase == BOUND) && !handshake_timeout_ms(k)) {
			send_error(k->client_fd, ETIMEDOUT, "no READY within the handshake timeout");
			drop_client(k, "no READY within the handshake timeout");
		}
	}
}

/* ---- the keeper process ------------------------------------------------------------ */

static int signals_to_fd(void)
{
	sigset_t mask;
	int fd;

	/* Inherited dispositions are the hook's business, not ours. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return xh_err(-errno, "sigprocmask: %s", strerror(errno));
	fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return xh_err(-errno, "signalfd: %s", strerror(errno));
	return fd;
}

static int listen_here(const char *name)
{
	struct sockaddr_un sa;
	socklen_t len;
	int err = xh_ep_abstract_addr(name, &sa, &len);
	cleanup_close int fd = -1;

	if (err)
		return xh_err(err, "%s", xh_ep_strerror(err));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return xh_err(-errno, "unix socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sa, len)) {
		if (errno == EADDRINUSE)
			return xh_err(-EADDRINUSE, "@%s is already bound in this network namespace "
				      "(another keeper?)", name);
		return xh_err(-errno, "bind @%s: %s", name, strerror(errno));
	}
	if (listen(fd, KEEPER_BACKLOG))
		return xh_err(-errno, "listen @%s: %s", name, strerror(errno));
	return steal_fd(&fd);
}

/* Can a bound socket's rings still be mapped (Linux 6.x: the client maps
 * the direct sockets' rings after the keeper bound them)? Tried on lo of
 * this netns in copy mode, with a UMEM of a few frames. */
static int probe_remap(void)
{
	const size_t frames = 16, umem_len = frames * XH_EP_FRAME_SIZE;
	const uint32_t ring = XDP_ENDPOINT_RING_MIN;
	cleanup_close int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	struct sockaddr_xdp sa = { .sxdp_family = AF_XDP, .sxdp_flags = XDP_COPY };
	struct xdp_mmap_offsets off;
	socklen_t len = sizeof(off);
	void *umem, *m;
	int err = 0;

	if (fd < 0)
		return xh_err(-errno, "AF_XDP socket: %s", strerror(errno));
	umem = mmap(NULL, umem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (umem == MAP_FAILED)
		return xh_err(-errno, "probe UMEM: %s", strerror(errno));
	struct xdp_umem_reg reg = { .addr = (uintptr_t)umem, .len = umem_len,
				    .chunk_size = XH_EP_FRAME_SIZE };
	sa.sxdp_ifindex = if_nametoindex("lo");
	if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &ring, sizeof(ring)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &ring, sizeof(ring)) ||
	    setsockopt(fd, SOL_XDP, XDP_RX_RING, &ring, sizeof(ring)) ||
	    getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &len) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		err = xh_err(-errno, "direct: probe socket on lo: %s", strerror(errno));
	if (!err) {
		m = mmap(NULL, off.fr.desc + ring * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, (off_t)XDP_UMEM_PGOFF_FILL_RING);
		if (m == MAP_FAILED)
			err = xh_err(-EOPNOTSUPP, "direct: this kernel cannot map the rings of a bound "
				     "AF_XDP socket (%s; Linux 6.6 or later can): the keeper binds the "
				     "direct sockets, the sandbox maps them", strerror(errno));
		else
			munmap(m, off.fr.desc + ring * sizeof(uint64_t));
	}
	munmap(umem, umem_len);
	return err;
}

/* The direct sockets' queues from the description; the fds they need. */
static int direct_init(struct keeper *k)
{
	cleanup_free struct xh_ep_desc *d = calloc(1, sizeof(*d));
	int err;

	k->host_ns = k->own_ns = k->nic_map = -1;
	for (size_t i = 0; i < XDP_ENDPOINT_MAX_DIRECT; i++)
		k->dfd[i] = -1;
	if (!d)
		return -ENOMEM;
	err = xh_ep_desc_from_json(k->c.desc_json, strlen(k->c.desc_json), d);
	if (err)
		return xh_err(err, "keeper: description: %s", xh_ep_strerror(err));
	k->n_direct = d->n_direct;
	k->zc_allowed = d->n_direct && d->direct[0].zerocopy;
	memcpy(k->direct, d->direct, sizeof(k->direct));
	for (size_t i = 0; i < k->n_direct; i++) {
		k->direct[i].ring[0] = d->ring[XDP_ENDPOINT_RING_FILL];
		k->direct[i].ring[1] = d->ring[XDP_ENDPOINT_RING_COMPLETION];
		k->direct[i].ring[2] = d->ring[XDP_ENDPOINT_RING_RX];
	}
	if (k->n_direct) {
		k->host_ns = KEEPER_FD_HOSTNS;
		k->nic_map = KEEPER_FD_NIC_MAP;
	}
	return 0;
}

/* Everything between exec and listening. */
static int keeper_init(struct keeper *k)
{
	int err;

	if (chdir("/"))
		return xh_err(-errno, "chdir /: %s", strerror(errno));
	umask(077);
	if ((k->sig_fd = signals_to_fd()) < 0)
		return k->sig_fd;
	if ((err = direct_init(k)))
		return err;
	/* For good: the AF_XDP socket must be created in the netns that owns
	 * xdp0, and the abstract name bound in it. (With direct sockets the
	 * keeper visits the NIC's netns to make them: it keeps this one.) */
	if (setns(KEEPER_FD_NETNS, CLONE_NEWNET))
		return xh_err(-errno, "enter the container network namespace: %s", strerror(errno));
	if (k->n_direct)
		k->own_ns = KEEPER_FD_NETNS;
	else
		close(KEEPER_FD_NETNS);
	if (k->n_direct && (err = probe_remap()))
		return err;
	if ((k->listen_fd = listen_here(k->c.socket_name)) < 0)
		return k->listen_fd;
	/* One socket ready now: a netns without AF_XDP fails here, not later. */
	if ((k->xsk_fd = new_xsk()) < 0)
		return k->xsk_fd;
	k->buf = malloc(XDP_ENDPOINT_MSG_MAX);
	return k->buf ? 0 : -ENOMEM;
}

static void report(int err)
{
	struct keeper_ready r = { .err = err };

	if (err)
		snprintf(r.detail, sizeof(r.detail), "%s", xh_strerror(err));
	if (write(KEEPER_FD_READY, &r, sizeof(r)) != sizeof(r)) {
		/* the caller gave up on us; it kills us on timeout */
	}
	close(KEEPER_FD_READY);
}

static int parse_conf(int argc, char **argv, struct keeper_conf *c)
{
	uint32_t v;
	char *p, *end;

	if (argc != KEEPER_ARGC)
		return xh_err(-EINVAL, "keeper: %d arguments, want %d", argc, KEEPER_ARGC);
	c->id = argv[KEEPER_ARGV_ID];
	c->ifname = argv[KEEPER_ARGV_IFNAME];
	c->socket_name = argv[KEEPER_ARGV_SOCKET];
	c->desc_json = argv[KEEPER_ARGV_DESC];
	if (xh_parse_u32(argv[KEEPER_ARGV_IFINDEX], INT_MAX, &v))
		return xh_err(-EINVAL, "keeper: bad ifindex");
	c->ifindex = (int)v;
	if (xh_parse_u32(argv[KEEPER_ARGV_QUEUE], UINT32_MAX, &c->queue))
		return xh_err(-EINVAL, "keeper: bad queue");
	if (xh_parse_u32(argv[KEEPER_ARGV_KEY], UINT32_MAX, &c->key))
		return xh_err(-EINVAL, "keeper: bad XSKMAP key");
	if (xh_parse_u32(argv[KEEPER_ARGV_INIT_PID], INT_MAX, &v) || !v)
		return xh_err(-EINVAL, "keeper: bad init pid");
	c->init_pid = (int)v;
	/* "UID,UID,...": keeper_start() wrote it */
	for (p = argv[KEEPER_ARGV_UIDS]; *p; p = *end ? end + 1 : end) {
		char num[16];
		size_t len = strcspn(p, ",");

		end = p + len;
		if (!len || len >= sizeof(num) || c->n_uids == XH_KEEPER_MAX_UIDS)
			return xh_err(-EINVAL, "keeper: bad uid list");
		memcpy(num, p, len);
		num[len] = '\0';
		if (xh_parse_u32(num, UINT32_MAX, &c->uids[c->n_uids++]))
			return xh_err(-EINVAL, "keeper: bad uid list");
	}
	return c->n_uids ? 0 : xh_err(-EINVAL, "keeper: no allowed uids");
}

int main(int argc, char **argv)
{
	struct keeper k = { .log_fd = KEEPER_FD_LOG, .map_fd = KEEPER_FD_MAP, .pidfd = KEEPER_FD_INIT,
			    .sig_fd = -1, .listen_fd = -1, .xsk_fd = -1, .client_fd = -1 };
	int err;

	err = parse_conf(argc, argv, &k.c);
	if (!err)
		err = keeper_init(&k);
	report(err);
	if (err) {
		free(k.buf);
		return 1;
	}
	klog(&k, "listening on @%s for %s (ifindex %d) queue %u, init pid %d", k.c.socket_name,
	     k.c.ifname, k.c.ifindex, k.c.queue, k.c.init_pid);
	run(&k);
	k.exiting = true;
	drop_client(&k, "endpoint taken back, keeper exiting");
	free(k.buf);
	return 0;
}
