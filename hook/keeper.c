/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Starting and stopping the endpoint keeper (see keeper.h); the keeper
 * itself is keeper_run.c, a program of its own.
 *
 * Start-up: posix_spawn with setsid() (a session of its own, away from the
 * runtime's terminal and signals; it never opens a terminal, so leading
 * the session gives it none), the fds it needs moved to KEEPER_FD_*, every
 * other one closed and 0-2 on /dev/null (the runtime waits for EOF on the
 * hook's stdout/stderr). One child, not the classic double fork: the
 * keeper is reparented once the hook exits. A readiness pipe carries the keeper's
 * verdict back; the keeper closes its end once it listens, before serving
 * anyone.
 */
#define _GNU_SOURCE
#include "keeper.h"
#include "attach.h"
#include "endpoint_proto.h"
#include "state.h"
#include "util.h"

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define KEEPER_READY_MS 10000

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
	if (!a->n_uids || !a->allowed_uids || a->n_uids > XH_KEEPER_MAX_UIDS)
		return xh_err(-EINVAL, "keeper: no allowed uids, or more than %d", XH_KEEPER_MAX_UIDS);
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
 * killed (if need be) and reaped: it is still our child (which is also why
 * its pid cannot have been reused when we read its start time). */
static int wait_ready(int fd, pid_t keeper, int *pid_out, uint64_t *start_out)
{
	uint64_t deadline = xh_now_ns(CLOCK_MONOTONIC) + KEEPER_READY_MS * 1000000ull;
	struct keeper_ready r;
	int err = read_by(fd, &r, sizeof(r), deadline);

	if (!err && !r.err)
		err = xh_proc_start_time(keeper, start_out);
	if (err) {
		kill(keeper, SIGKILL);
		while (waitpid(keeper, NULL, 0) < 0 && errno == EINTR)
			;
		return xh_err(err == -EPIPE ? -ECHILD : err, "keeper %d: %s", keeper,
			      err == -EPIPE ? "exited before it listened" : err == -ETIMEDOUT ?
			      "not ready in time" : "gone");
	}
	if (r.err) {
		while (waitpid(keeper, NULL, 0) < 0 && errno == EINTR)
			;
		r.detail[sizeof(r.detail) - 1] = '\0';
		return xh_err(r.err, "%s", r.detail);
	}
	*pid_out = keeper;
	return 0;
}

/* The keeper program: a->exe, else xdphook-keeper next to our own binary. */
static int keeper_exe(const struct keeper_args *a, char *buf, size_t size)
{
	char self[PATH_MAX];
	ssize_t n;

	if (a->exe)
		return xh_snprintf(buf, size, "%s", a->exe) < 0 ? -ENAMETOOLONG : 0;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return xh_err(-errno, "/proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	if (xh_snprintf(buf, size, "%s/" KEEPER_PROGRAM, dirname(self)) < 0)
		return -ENAMETOOLONG;
	if (access(buf, X_OK))
		return xh_err(-errno, "%s: %s", buf, strerror(errno));
	return 0;
}

/* posix_spawn (a vfork, not a copy of the hook's page tables): a session
 * of its own, fds[i] as KEEPER_FD_FIRST + i, 0-2 on /dev/null, nothing
 * else. fds are first copied above every target, so that no dup2 over a
 * target clobbers a source still to be moved. */
static int spawn_keeper(const char *exe, char **argv, const int *fds, int nfds, pid_t *pid)
{
	int high[KEEPER_NFDS_DIRECT], err = 0;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;

	for (int i = 0; i < nfds; i++)
		high[i] = -1;
	for (int i = 0; !err && i < nfds; i++)
		if ((high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, KEEPER_FD_DIRECT_END)) < 0)
			err = xh_err(-errno, "keeper fds: %s", strerror(errno));
	if (!err && (err = -posix_spawn_file_actions_init(&fa)) == 0) {
		if ((err = -posix_spawnattr_init(&attr)) == 0) {
			for (int i = 0; !err && i < nfds; i++)
				err = -posix_spawn_file_actions_adddup2(&fa, high[i], KEEPER_FD_FIRST + i);
			if (!err)
				err = -posix_spawn_file_actions_addclosefrom_np(&fa, KEEPER_FD_FIRST + nfds);
			for (int i = 0; !err && i < 3; i++)
				err = -posix_spawn_file_actions_addopen(&fa, i, "/dev/null", O_RDWR, 0);
			if (!err)
				err = -posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
			if (!err && (err = -posix_spawn(pid, exe, &fa, &attr, argv, environ)))
				err = xh_err(err, "start %s: %s", exe, strerror(-err));
			posix_spawnattr_destroy(&attr);
		}
		posix_spawn_file_actions_destroy(&fa);
	}
	for (int i = 0; i < nfds; i++)
		if (high[i] >= 0)
			close(high[i]);
	return err;
}

int keeper_start(const struct keeper_args *a, int *pid_out, uint64_t *start_out)
{
	cleanup_free char *json = NULL;
	cleanup_close int log_fd = -1, map_fd = -1, pidfd = -1, rd = -1, wr = -1;
	cleanup_close int host_ns = -1, nic_map = -1;
	char exe[PATH_MAX], ifindex[16], queue[16], key[16], init[16], uids[XH_KEEPER_MAX_UIDS * 11 + 1] = "";
	char *argv[KEEPER_ARGC + 1] = { 0 };
	int pipefd[2], err;
	pid_t pid;

	if ((err = check_args(a)))
		return err;
	if ((err = keeper_exe(a, exe, sizeof(exe))))
		return err;
	if ((err = xh_ep_desc_to_json(a->desc, &json)))
		return xh_err(err, "endpoint description: %s", xh_ep_strerror(err));
	if ((log_fd = open_log(a->log_path)) < 0)
		return log_fd;
	if ((map_fd = open_map(a)) < 0)
		return map_fd;
	if ((pidfd = open_init(a)) < 0)
		return pidfd;
	if (a->desc->n_direct) {
		nic_map = xh_pin_open(a->host_cookie, a->desc->direct[0].ifindex, "direct_xsks");
		if (nic_map < 0)
			return xh_err(nic_map, "the NIC program's direct_xsks map (%s): %s",
				      a->desc->direct[0].ifname, strerror(-nic_map));
		host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (host_ns < 0)
			return xh_err(-errno, "/proc/self/ns/net: %s", strerror(errno));
	}
	if (pipe2(pipefd, O_CLOEXEC))
		return xh_err(-errno, "pipe: %s", strerror(errno));
	rd = pipefd[0];
	wr = pipefd[1];
	snprintf(ifindex, sizeof(ifindex), "%d", a->desc->ifindex);
	snprintf(queue, sizeof(queue), "%u", a->desc->queue);
	snprintf(key, sizeof(key), "%u", a->xsks_fd >= 0 ? a->xsks_key : a->desc->queue);
	snprintf(init, sizeof(init), "%d", a->init_pid);
	for (size_t i = 0; i < a->n_uids; i++)
		snprintf(uids + strlen(uids), sizeof(uids) - strlen(uids), "%s%u", i ? "," : "",
			 a->allowed_uids[i]);
	argv[0] = (char *)KEEPER_PROGRAM;
	argv[KEEPER_ARGV_ID] = (char *)a->id;
	argv[KEEPER_ARGV_IFNAME] = (char *)a->desc->ifname;
	argv[KEEPER_ARGV_IFINDEX] = ifindex;
	argv[KEEPER_ARGV_QUEUE] = queue;
	argv[KEEPER_ARGV_INIT_PID] = init;
	argv[KEEPER_ARGV_SOCKET] = (char *)(a->socket_name ? a->socket_name : XDP_ENDPOINT_SOCKET);
	argv[KEEPER_ARGV_UIDS] = uids;
	argv[KEEPER_ARGV_DESC] = json;
	argv[KEEPER_ARGV_KEY] = key;

	{
		const int fds[KEEPER_NFDS_DIRECT] = { log_fd, map_fd, pidfd, a->netns_fd, wr, host_ns, nic_map };

		if ((err = spawn_keeper(exe, argv, fds, a->desc->n_direct ? KEEPER_NFDS_DIRECT : KEEPER_NFDS,
					&pid)))
			return err;
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
