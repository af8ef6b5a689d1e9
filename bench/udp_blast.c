/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * udp_blast: send UDP as fast as a kernel socket can (bench helper: the
 * sandbox's transmit the way a container has it today, sendmmsg -> veth ->
 * host forward + SNAT -> NIC).
 *
 *   udp_blast -D DST-IPV4 [-p DPORT] [-s PAYLOAD-BYTES] [-c CPU] [-t MS] [-d SECONDS]
 *
 * sendmmsg() in batches of 64 on a connected socket, 18-byte payloads by
 * default (a 64-byte frame on the wire). Prints the progress lines of
 * bench.h with the datagrams the kernel took.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64

static int usage(void)
{
	fputs("usage: udp_blast -D DST-IPV4 [-p DPORT] [-s PAYLOAD-BYTES] " BENCH_USAGE "\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	static char payload[1472];
	struct mmsghdr msgs[BATCH];
	struct iovec iov = { .iov_base = payload, .iov_len = 18 };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct bench_opts bo = BENCH_OPTS_INIT;
	struct bench_ticker t;
	int opt, fd, sndbuf = 4 << 20;
	uint64_t frames = 0;
	bool dst = false;
	long v;

	while ((opt = bench_getopt(argc, argv, "D:p:s:" BENCH_OPTS, &bo)) != -1) {
		switch (opt) {
		case 'D':
			dst = inet_pton(AF_INET, optarg, &sa.sin_addr) == 1;
			if (!dst)
				return usage();
			break;
		case 'p':
			v = bench_num(optarg);
			if (v < 1 || v > 65535)
				return usage();
			sa.sin_port = htons((uint16_t)v);
			break;
		case 's':
			v = bench_num(optarg);
			if (v < 0 || v > (long)sizeof(payload))
				return usage();
			iov.iov_len = (size_t)v;
			break;
		default: return usage();
		}
	}
	if (optind != argc || !dst)
		return usage();
	if (bench_start("udp_blast", &bo))
		return 1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("udp_blast: socket");
		return 1;
	}
	/* FORCE: above wmem_max, we are root. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	for (int i = 0; i < BATCH; i++)
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov, .msg_iovlen = 1 } };
	bench_ticker_start(&t, &bo);
	do {
		int n = sendmmsg(fd, msgs, BATCH, MSG_DONTWAIT);

		if (n > 0)
			frames += (uint64_t)n;
	} while (bench_tick(&t, frames, NULL, NULL));
	close(fd);
	return 0;
}
