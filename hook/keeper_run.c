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
 */
#define _GNU_SOURCE
#include "keeper.h"
#include "endpoint_proto.h"
#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/if_xdp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
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

/* What keeper_start() passed on the command line. */
struct keeper_conf {
	const char *id, *ifname, *socket_name, *desc_json;
	int ifindex, init_pid;
	uint32_t queue;
	uint32_t uids[XH_KEEPER_MAX_UIDS];
	size_t n_uids;
};

enum phase {
	IDLE,      /* no client */
	HANDSHAKE, /* the client has the socket, READY not yet there */
	ACTIVE,    /* the socket is in the XSKMAP */
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
static void drop_client(struct keeper *k, const char *why)
{
	if (k->phase == ACTIVE) {
		uint32_t key = k->c.queue;

		if (map_delete(k->map_fd, key) && errno != ENOENT)
			klog(k, "XSKMAP: remove queue %u: %s", key, strerror(errno));
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
	uint32_t key = k->c.queue;
	char msg[256];

	if (xsk_unbound(k->xsk_fd)) {
		snprintf(msg, sizeof(msg), "READY, but the socket is not bound (bind it to %s queue %u)",
			 k->c.ifname, key);
		send_error(k->client_fd, EINVAL, msg);
		drop_client(k, msg);
		return;
	}
	if (map_update(k->map_fd, key, k->xsk_fd)) {
		int err = -errno;

		snprintf(msg, sizeof(msg), "XSKMAP insert for %s queue %u: %s (is the socket bound to it?)",
			 k->c.ifname, key, strerror(errno));
		send_error(k->client_fd, err, msg);
		drop_client(k, msg);
		return;
	}
	k->phase = ACTIVE;
	if (xh_ep_send(k->client_fd, XDP_ENDPOINT_MSG_OK, NULL, 0, -1)) {
		drop_client(k, "gone before OK");
		return;
	}
	klog_client(k, "client pid %d uid %u: ready, socket in the XSKMAP", k->peer.pid, k->peer.uid);
}

static void on_client(struct keeper *k)
{
	const void *payload;
	uint16_t type = 0;
	size_t len;
	char msg[600];
	int err = xh_ep_recv(k->client_fd, k->buf, &type, &payload, &len, NULL, MSG_DONTWAIT);

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
	if (k->phase == HANDSHAKE && type == XDP_ENDPOINT_MSG_READY) {
		on_ready(k);
		return;
	}
	snprintf(msg, sizeof(msg), "unexpected message type %u", type);
	send_error(k->client_fd, EPROTO, msg);
	drop_client(k, msg);
}

/* ---- the loop --------------------------------------------------------------------- */

static int handshake_timeout_ms(const struct keeper *k)
{
	uint64_t now = xh_now_ns(CLOCK_MONOTONIC);

	if (k->phase != HANDSHAKE)
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
		if (k->phase == HANDSHAKE && !handshake_timeout_ms(k)) {
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

/* Everything between exec and listening. */
static int keeper_init(struct keeper *k)
{
	if (chdir("/"))
		return xh_err(-errno, "chdir /: %s", strerror(errno));
	umask(077);
	if ((k->sig_fd = signals_to_fd()) < 0)
		return k->sig_fd;
	/* For good: the AF_XDP socket must be created in the netns that owns
	 * xdp0, and the abstract name bound in it. */
	if (setns(KEEPER_FD_NETNS, CLONE_NEWNET))
		return xh_err(-errno, "enter the container network namespace: %s", strerror(errno));
	close(KEEPER_FD_NETNS);
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
