/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pkt_count: count the frames an AF_PACKET socket with a TPACKET_V3 RX
 * ring receives on a device (bench helper: what a sandbox reading its
 * interface the way runsc does by default gets, next to AF_XDP).
 *
 *   pkt_count -i DEV [-c CPU] [-t MS] [-d SECONDS]
 *
 * Busy-polls the ring's blocks on its own CPU (the kernel fills them in
 * softirq on the sender's); a block is handed back as soon as it is
 * counted. Prints the progress lines of bench.h: frames received, and
 * frames the kernel dropped for want of room (PACKET_STATISTICS).
 */
#include "bench.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define BLOCK_SIZE (1u << 20)
#define BLOCK_NR 64u
#define FRAME_SIZE 2048u

static int usage(void)
{
	fputs("usage: pkt_count -i DEV " BENCH_USAGE "\n", stderr);
	return 2;
}

/* The kernel resets its counters on every read: keep the sum. */
static uint64_t dropped(void *ctx)
{
	static uint64_t sum;
	struct tpacket_stats_v3 s;
	socklen_t len = sizeof(s);

	if (!getsockopt(*(int *)ctx, SOL_PACKET, PACKET_STATISTICS, &s, &len))
		sum += s.tp_drops;
	return sum;
}

int main(int argc, char **argv)
{
	struct tpacket_req3 req = {
		.tp_block_size = BLOCK_SIZE,
		.tp_block_nr = BLOCK_NR,
		.tp_frame_size = FRAME_SIZE,
		.tp_frame_nr = BLOCK_SIZE / FRAME_SIZE * BLOCK_NR,
		.tp_retire_blk_tov = 1, /* ms: a partly filled block is not held back */
	};
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct bench_opts bo = BENCH_OPTS_INIT;
	int opt, fd, version = TPACKET_V3;
	const char *dev = NULL;
	struct bench_ticker t;
	uint64_t frames = 0;
	unsigned int block = 0;
	uint8_t *ring;

	while ((opt = bench_getopt(argc, argv, "i:" BENCH_OPTS, &bo)) != -1) {
		if (opt != 'i')
			return usage();
		dev = optarg;
	}
	if (optind != argc || !dev)
		return usage();
	sll.sll_ifindex = (int)if_nametoindex(dev);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "pkt_count: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	if (bench_start("pkt_count", &bo))
		return 1;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req))) {
		perror("pkt_count: TPACKET_V3 socket");
		return 1;
	}
	ring = mmap(NULL, (size_t)BLOCK_SIZE * BLOCK_NR, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, fd, 0);
	if (ring == MAP_FAILED)
		ring = mmap(NULL, (size_t)BLOCK_SIZE * BLOCK_NR, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ring == MAP_FAILED || bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("pkt_count: ring");
		return 1;
	}
	dropped(&fd); /* from zero */
	bench_ticker_start(&t, &bo);
	do {
		struct tpacket_block_desc *b = (void *)(ring + (size_t)block * BLOCK_SIZE);

		if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			continue;
		frames += b->hdr.bh1.num_pkts;
		__atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		block = (block + 1) % BLOCK_NR;
	} while (bench_tick(&t, frames, dropped, &fd));
	close(fd);
	return 0;
}
