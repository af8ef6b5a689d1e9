/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#define _GNU_SOURCE
#include "netns.h"
#include "attach.h"
#include "util.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

int xh_netns_open_pid(int pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return xh_err(errno == ENOENT ? -ESRCH : -errno, "open %s: %s", path,
			      errno == ENOENT ? "no such process" : strerror(errno));
	return fd;
}

int xh_netns_run(int netns_fd, int (*fn)(void *ctx), void *ctx)
{
	cleanup_close int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int rc;

	if (self < 0)
		return -errno;
	if (setns(netns_fd, CLONE_NEWNET))
		return xh_err(-errno, "enter network namespace: %s", strerror(errno));
	rc = fn(ctx);
	if (setns(self, CLONE_NEWNET))
		abort();
	return rc;
}

static int cookie_here(void *ctx)
{
	return xh_netns_cookie(ctx);
}

int xh_netns_cookie_of(int netns_fd, uint64_t *cookie)
{
	return xh_netns_run(netns_fd, cookie_here, cookie);
}
