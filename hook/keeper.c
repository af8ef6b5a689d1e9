/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The endpoint keeper (see keeper.h). One process, one thread, one poll
 * loop over: a signalfd (SIGTERM/SIGINT), a pidfd of the container's init,
 * the listening socket and at most one client connection.
 *
 * Start-up: the caller forks the keeper, which calls setsid() (a session
 * of its own, away from the runtime's terminal and signals; it never opens
 * a terminal, so leading the session gives it none) and is reparented
 * once the hook exits. One fork, not the classic two: the second costs a
 * fork of the whole hook and a wait for the intermediate child, on every
 * container start. A readiness pipe carries the keeper's verdict back to
 * the caller; the keeper closes its end once it listens, before serving
 * anyone.
 */
#define _GNU_SOURCE
#include "keeper.h"
#include "attach.h"
#include "endpoint_proto.h"
#include "state.h"
#include "util.h"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <linux/if_xdp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define KEEPER_NAME "xdphook-keeper"
#define KEEPER_READY_MS 10000
#define KEEPER_BACKLOG 8
/* Lines about clients: anyone in the netns can connect, as often as it
 * likes, and the log lives in /run (memory). At most LOG_BURST lines per
 * window, none once the log has grown to LOG_MAX bytes. */
#define LOG_BURST 60
#define LOG_WINDOW_NS (60ull * 1000000000ull)
#define LOG_MAX (1 << 20)

/* What the keeper tells keeper_start() through the pipe, once. */
struct ready_msg {
	int32_t err;     /* 0: listening; else a negative errno */
	int32_t pid;
	uint64_t start;
	char detail[256];
};

enum phase {
	IDLE,      /* no client */
	HANDSHAKE, /* the client has the socket, READY not yet there */
	ACTIVE,    /* the socket is in the XSKMAP */
};

struct keeper {
	const struct keeper_args *a;
	const char *desc_json;
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
		     getpid(), k->a->id);
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
		uint32_t key = k->a->desc->queue;

		if (bpf_map_delete_elem(k->map_fd, &key) && errno != ENOENT)
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
	for (size_t i = 0; i < k->a->n_uids; i++)
		if (k->a->allowed_uids[i] == uid)
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
	err = xh_ep_send(fd, XDP_ENDPOINT_MSG_DESC, k->desc_json, strlen(k->desc_json), k->xsk_fd);
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
	uint32_t key = k->a->desc->queue;
	char msg[256];

	if (xsk_unbound(k->xsk_fd)) {
		snprintf(msg, sizeof(msg), "READY, but the socket is not bound (bind it to %s queue %u)",
			 k->a->desc->ifname, key);
		send_error(k->client_fd, EINVAL, msg);
		drop_client(k, msg);
		return;
	}
	if (bpf_map_update_elem(k->map_fd, &key, &k->xsk_fd, BPF_ANY)) {
		int err = -errno;

		snprintf(msg, sizeof(msg), "XSKMAP insert for %s queue %u: %s (is the socket bound to it?)",
			 k->a->desc->ifname, key, strerror(errno));
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
			klog(k, "container init %d exited: exiting", k->a->init_pid);
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

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Close every fd but keep[0..n) (each >= 0, at most 16). */
static void close_all_except(const int *keep, size_t n)
{
	int sorted[16];
	unsigned int from = 0;

	memcpy(sorted, keep, n * sizeof(int));
	qsort(sorted, n, sizeof(int), cmp_int);
	for (size_t i = 0; i < n; i++) {
		if ((unsigned int)sorted[i] > from)
			close_range(from, (unsigned int)sorted[i] - 1, 0);
		from = (unsigned int)sorted[i] + 1;
	}
	close_range(from, ~0u, 0);
}

static int stdio_to_null(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return xh_err(-errno, "/dev/null: %s", strerror(errno));
	for (int i = 0; i < 3; i++)
		if (dup2(fd, i) < 0)
			return xh_err(-errno, "dup2: %s", strerror(errno));
	if (fd > 2)
		close(fd);
	return 0;
}

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

/* Everything between fork and listening; the fds it gets are kept. */
static int keeper_init(struct keeper *k, int netns_fd)
{
	const char *name = k->a->socket_name ? k->a->socket_name : XDP_ENDPOINT_SOCKET;
	int err;

	prctl(PR_SET_NAME, KEEPER_NAME);
	/* Forked from the hook: give back the heap the hook freed (loaded
	 * objects, netlink buffers), or it stays resident for the container's
	 * whole life (~50 KiB of Pss). */
	malloc_trim(0);
	if (chdir("/"))
		return xh_err(-errno, "chdir /: %s", strerror(errno));
	umask(077);
	err = stdio_to_null();
	if (err)
		return err;
	if ((k->sig_fd = signals_to_fd()) < 0)
		return k->sig_fd;
	/* For good: the AF_XDP socket must be created in the netns that owns
	 * xdp0, and the abstract name bound in it. */
	if (setns(netns_fd, CLONE_NEWNET))
		return xh_err(-errno, "enter the container network namespace: %s", strerror(errno));
	close(netns_fd);
	if ((k->listen_fd = listen_here(name)) < 0)
		return k->listen_fd;
	/* One socket ready now: a netns without AF_XDP fails here, not later. */
	if ((k->xsk_fd = new_xsk()) < 0)
		return k->xsk_fd;
	k->buf = malloc(XDP_ENDPOINT_MSG_MAX);
	return k->buf ? 0 : -ENOMEM;
}

static void report(int pipe_fd, int err)
{
	struct ready_msg r = { .err = err, .pid = getpid() };

	if (!err)
		xh_proc_start_time(getpid(), &r.start);
	else
		snprintf(r.detail, sizeof(r.detail), "%s", xh_strerror(err));
	if (write(pipe_fd, &r, sizeof(r)) != sizeof(r)) {
		/* the caller gave up on us; it kills us on timeout */
	}
	close(pipe_fd);
}

/* stdio_to_null() takes 0-2: what we keep must live above. */
static void above_stdio(int *fd)
{
	if (*fd <= 2)
		*fd = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
}

static void __attribute__((noreturn)) keeper_main(struct keeper *k, int netns_fd, int pipe_fd)
{
	int err;

	above_stdio(&k->log_fd);
	above_stdio(&k->map_fd);
	above_stdio(&k->pidfd);
	above_stdio(&netns_fd);
	above_stdio(&pipe_fd);
	int keep[] = { k->log_fd, k->map_fd, k->pidfd, netns_fd, pipe_fd };

	for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
		if (keep[i] < 0)
			_exit(1); /* out of fds: the caller sees the pipe close */
	close_all_except(keep, ARRAY_SIZE(keep));
	err = keeper_init(k, netns_fd);
	report(pipe_fd, err);
	if (err)
		_exit(1);
	klog(k, "listening on @%s for %s (ifindex %d) queue %u, init pid %d",
	     k->a->socket_name ? k->a->socket_name : XDP_ENDPOINT_SOCKET, k->a->desc->ifname,
	     k->a->desc->ifindex, k->a->desc->queue, k->a->init_pid);
	run(k);
	k->exiting = true;
	drop_client(k, "endpoint taken back, keeper exiting");
	/* _exit: atexit handlers and stdio buffers belong to the hook. */
	_exit(0);
}

/* ---- keeper_start ------------------------------------------------------------------ */

static int open_log(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd;

	if (xh_snprintf(dir, sizeof(dir), "%s", path) < 0)
		return xh_err(-ENAMETOOLONG, "log path too long");
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		xh_mkdir_p(dir, 0700);
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return xh_err(-errno, "keeper log %s: %s", path, strerror(errno));
	return fd;
}

static int open_map(const struct keeper_args *a)
{
	int fd;

	if (a->xsks_fd >= 0) {
		fd = fcntl(a->xsks_fd, F_DUPFD_CLOEXEC, 3);
		return fd < 0 ? xh_err(-errno, "XSKMAP fd: %s", strerror(errno)) : fd;
	}
	fd = xh_pin_open(a->netns_cookie, a->desc->ifindex, "xsks");
	if (fd < 0)
		return xh_err(fd, "XSKMAP pin of %s (ifindex %d): %s", a->desc->ifname,
			      a->desc->ifindex, strerror(-fd));
	return fd;
}

/* A pidfd of the container's init, checked against its start time so a
 * recycled pid is not mistaken for it. */
static int open_init(const struct keeper_args *a)
{
	cleanup_close int fd = pidfd_open(a->init_pid, 0);
	uint64_t start;

	if (fd < 0)
		return xh_err(errno == ESRCH ? -ESRCH : -errno, "container init %d: %s", a->init_pid,
			      strerror(errno));
	if (a->init_start && (xh_proc_start_time(a->init_pid, &start) || start != a->init_start))
		return xh_err(-ESRCH, "container init %d: gone (pid reused)", a->init_pid);
	return steal_fd(&fd);
}

static int check_args(const struct keeper_args *a)
{
	if (!a || !a->desc || !a->id || !a->log_path || a->netns_fd < 0 || a->init_pid <= 0)
		return xh_err(-EINVAL, "keeper: missing arguments");
	if (!a->n_uids || !a->allowed_uids)
		return xh_err(-EINVAL, "keeper: no allowed uids");
	return 0;
}

/* Read exactly len bytes from fd within the deadline; 0, -ETIMEDOUT, or
 * -EPIPE when the writers closed it first. */
static int read_by(int fd, void *buf, size_t len, uint64_t deadline_ns)
{
	size_t got = 0;

	while (got < len) {
		uint64_t now = xh_now_ns(CLOCK_MONOTONIC);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (now >= deadline_ns)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)((deadline_ns - now) / 1000000 + 1));
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n == 0)
			return -EPIPE;
		if (n > 0)
			got += (size_t)n;
	}
	return 0;
}

/* The caller's side of the readiness pipe. A keeper that is not ready is
 * killed (if need be) and reaped: it is still our child. */
static int wait_ready(int fd, pid_t keeper, int *pid_out, uint64_t *start_out)
{
	uint64_t deadline = xh_now_ns(CLOCK_MONOTONIC) + KEEPER_READY_MS * 1000000ull;
	struct ready_msg r;
	int err = read_by(fd, &r, sizeof(r), deadline);

	if (err) {
		kill(keeper, SIGKILL);
		while (waitpid(keeper, NULL, 0) < 0 && errno == EINTR)
			;
		return xh_err(err == -EPIPE ? -ECHILD : err, "keeper %d: %s", keeper,
			      err == -EPIPE ? "exited before it listened" : "not ready in time");
	}
	if (r.err) {
		while (waitpid(keeper, NULL, 0) < 0 && errno == EINTR)
			;
		r.detail[sizeof(r.detail) - 1] = '\0';
		return xh_err(r.err, "%s", r.detail);
	}
	*pid_out = keeper;
	*start_out = r.start;
	return 0;
}

int keeper_start(const struct keeper_args *a, int *pid_out, uint64_t *start_out)
{
	struct keeper k = { .a = a, .log_fd = -1, .map_fd = -1, .pidfd = -1, .sig_fd = -1,
			    .listen_fd = -1, .xsk_fd = -1, .client_fd = -1 };
	cleanup_free char *json = NULL;
	cleanup_close int log_fd = -1, map_fd = -1, pidfd = -1, rd = -1, wr = -1;
	int pipefd[2], err;
	pid_t pid;

	if ((err = check_args(a)))
		return err;
	if ((err = xh_ep_desc_to_json(a->desc, &json)))
		return xh_err(err, "endpoint description: %s", xh_ep_strerror(err));
	if ((log_fd = open_log(a->log_path)) < 0)
		return log_fd;
	if ((map_fd = open_map(a)) < 0)
		return map_fd;
	if ((pidfd = open_init(a)) < 0)
		return pidfd;
	if (pipe2(pipefd, O_CLOEXEC))
		return xh_err(-errno, "pipe: %s", strerror(errno));
	rd = pipefd[0];
	wr = pipefd[1];
	k.desc_json = json;
	k.log_fd = log_fd;
	k.map_fd = map_fd;
	k.pidfd = pidfd;

	fflush(NULL); /* nothing buffered may be written twice */
	pid = fork();
	if (pid < 0)
		return xh_err(-errno, "fork: %s", strerror(errno));
	if (pid == 0) {
		if (setsid() < 0)
			_exit(1);
		keeper_main(&k, a->netns_fd, wr);
	}
	close(steal_fd(&wr));
	return wait_ready(rd, pid, pid_out, start_out);
}

/* ---- keeper_stop -------------------------------------------------------------------- */

static int wait_exit(int pidfd, int timeout_ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	uint64_t deadline = xh_now_ns(CLOCK_MONOTONIC) + (uint64_t)timeout_ms * 1000000ull;

	for (;;) {
		uint64_t now = xh_now_ns(CLOCK_MONOTONIC);
		int n;

		if (now >= deadline)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)((deadline - now) / 1000000 + 1));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

int keeper_stop(int pid, uint64_t start)
{
	cleanup_close int pidfd = -1;
	uint64_t now_start;
	siginfo_t info;
	int err;

	if (pid <= 0)
		return 0;
	pidfd = pidfd_open(pid, 0);
	if (pidfd < 0)
		return errno == ESRCH ? 0 : xh_err(-errno, "keeper %d: %s", pid, strerror(errno));
	/* With the pidfd held, the pid cannot be recycled under us: check it
	 * is still our keeper before signalling it. */
	if (start && (xh_proc_start_time(pid, &now_start) || now_start != start))
		return 0;
	if (pidfd_send_signal(pidfd, SIGTERM, NULL, 0) && errno != ESRCH)
		return xh_err(-errno, "keeper %d: SIGTERM: %s", pid, strerror(errno));
	err = wait_exit(pidfd, KEEPER_STOP_TIMEOUT_MS);
	if (err == -ETIMEDOUT) {
		pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
		err = wait_exit(pidfd, KEEPER_STOP_TIMEOUT_MS);
	}
	if (err)
		return xh_err(err, "keeper %d: did not exit: %s", pid, strerror(-err));
	/* Reap it if it is our child (tests); ECHILD otherwise, which is fine. */
	waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED | WNOHANG);
	return 0;
}
