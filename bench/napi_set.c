/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * napi_set: NAPI settings of a device in some network namespace, as the
 * hook would make them (lib/netlink.c xh_napi_set), for the benchmark.
 *
 *   napi_set NETNS-PATH DEV [threaded=0|1] [defer=N] [gro_flush=NS]
 *
 * NETNS-PATH is a netns file (/run/netns/X, /proc/PID/ns/net); "-" is ours.
 * Prints the pid of each NAPI kernel thread of DEV afterwards, one a line
 * (none unless threaded), for pinning or renicing them.
 * Works where a sysfs write cannot: a container's sysfs is mounted
 * read-only, and the netns's sysfs superblock with it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "netlink.h"
#include "netns.h"
#include "util.h"

struct dev_index {
	const char *name;
	int ifindex;
};

static int index_here(void *ctx)
{
	struct dev_index *d = ctx;

	return xh_link_index(d->name, &d->ifindex);
}

static int setting(const char *arg, struct xh_napi_cfg *cfg)
{
	const char *eq = strchr(arg, '=');
	uint64_t v;

	if (!eq || xh_parse_u64(eq + 1, &v) || v > INT64_MAX)
		return -EINVAL;
	if (!strncmp(arg, "threaded=", 9) && v <= 1)
		cfg->threaded = (int)v;
	else if (!strncmp(arg, "defer=", 6))
		cfg->defer_hard_irqs = (int64_t)v;
	else if (!strncmp(arg, "gro_flush=", 10))
		cfg->gro_flush_timeout = (int64_t)v;
	else
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	struct xh_napi_cfg cfg = { .threaded = -1, .defer_hard_irqs = -1, .gro_flush_timeout = -1 };
	struct dev_index d;
	cleanup_close int ns = -1;
	int err;

	if (argc < 4) {
		fputs("usage: napi_set NETNS-PATH|- DEV [threaded=0|1] [defer=N] [gro_flush=NS]...\n", stderr);
		return 2;
	}
	for (int i = 3; i < argc; i++)
		if (setting(argv[i], &cfg)) {
			fprintf(stderr, "napi_set: %s: not threaded=0|1, defer=N or gro_flush=NS\n", argv[i]);
			return 2;
		}
	if (strcmp(argv[1], "-")) {
		ns = open(argv[1], O_RDONLY | O_CLOEXEC);
		if (ns < 0) {
			fprintf(stderr, "napi_set: %s: %s\n", argv[1], strerror(errno));
			return 1;
		}
	}
	d.name = argv[2];
	err = ns < 0 ? index_here(&d) : xh_netns_run(ns, index_here, &d);
	if (!err) {
		err = xh_napi_set(ns, d.ifindex, &cfg);
		if (err > 0)
			err = 0;
	}
	if (!err) {
		int pids[64];
		size_t n;

		err = xh_napi_threads(ns, d.ifindex, pids, 64, &n);
		for (size_t i = 0; !err && i < n; i++)
			printf("%d\n", pids[i]);
	}
	if (err) {
		fprintf(stderr, "napi_set: %s: %s\n", argv[2], xh_strerror(err));
		return 1;
	}
	return 0;
}
