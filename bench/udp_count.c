/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * udp_count: count the UDP datagrams a kernel socket receives (bench
 * helper: the end of the docker -p style path, DNAT -> veth -> socket).
 *
 *   udp_count -p PORT [-6] [-c CPU] [-t MS] [-d SECONDS]
 *
 * recvmmsg() in batches, non-blocking, busy-polling on its own CPU; a
 * large receive buffer, so what it reports is what the path delivers
 * rather than what one wakeup costs. Prints the progress lines of bench.h
 * (dropped: always 0, not tracked).
 */
#include "bench.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define RCVBUF (8 << 20)

static int usage(void)
{
	fputs("usage: udp_count -p PORT [-6] " BENCH_USAGE "\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	static char bufs[BATCH][2048];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
	struct bench_opts bo = BENCH_OPTS_INIT;
	struct bench_ticker t;
	long port = -1;
	int opt, fd, rcvbuf = RCVBUF, v6only = 0, family = AF_INET;
	uint64_t frames = 0;

	while ((opt = bench_getopt(argc, argv, "p:6" BENCH_OPTS, &bo)) != -1) {
		switch (opt) {
		case '6': family = AF_INET6; break;
		case 'p': port = bench_num(optarg); break; /* -1: checked below */
		default: return usage();
		}
	}
	if (optind != argc || port < 1 || port > 65535)
		return usage();
	if (bench_start("udp_count", &bo))
		return 1;
	/* One IPv6 socket takes IPv4 too, unless -6 asks for IPv6 only. */
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("udp_count: socket");
		return 1;
	}
	v6only = family == AF_INET6;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	/* FORCE: above rmem_max, we are root. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	sa.sin6_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "udp_count: bind port %ld: %s\n", port, strerror(errno));
		return 1;
	}
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = sizeof(bufs[i]) };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	bench_ticker_start(&t, &bo);
	do {
		int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);

		if (n > 0)
			frames += (uint64_t)n;
	} while (bench_tick(&t, frames, NULL, NULL));
	close(fd);
	return 0;
}
