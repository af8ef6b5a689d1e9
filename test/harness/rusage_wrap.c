/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Test helper: run a short-lived program (the hook, as an OCI runtime runs
 * it) and record what it cost.
 *
 *   rusage_wrap LOG PROG ARGS...
 *
 * Runs PROG with ARGS, stdin/stdout/stderr inherited, waits for it with
 * wait4() and appends one line to LOG:
 *
 *   <ARGS[1] or "-"> maxrss_kb <peak RSS> ms <wall time> rc <exit status>
 *
 * (ru_maxrss of PROG and of whatever of its children it waited for), then
 * exits as PROG did. A bundle's hook path points here to measure the hook's
 * peak memory on every invocation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	struct rusage ru;
	long long t0;
	int status, fd, rc;
	char line[512];
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: rusage_wrap LOG PROG ARGS...\n");
		return 2;
	}
	t0 = now_ms();
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "rusage_wrap: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execv(argv[2], argv + 2);
		fprintf(stderr, "rusage_wrap: exec %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "rusage_wrap: wait4: %s\n", strerror(errno));
			return 1;
		}
	}
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	snprintf(line, sizeof(line), "%s maxrss_kb %ld ms %lld rc %d\n",
		 argc > 3 ? argv[3] : "-", ru.ru_maxrss, now_ms() - t0, rc);
	/* Concurrent invocations append whole lines (O_APPEND, one write). */
	fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		fprintf(stderr, "rusage_wrap: %s: %s\n", argv[1], strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc ? rc : 1;
	}
	close(fd);
	return rc;
}
