// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Helpers shared by the packet-level test suites; see prog_test.h. */
#include "prog_test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

void skip_unless_root(void)
{
	if (geteuid() != 0) {
		print_message("not root: BPF_PROG_TEST_RUN needs CAP_BPF/CAP_NET_ADMIN\n");
		skip();
	}
}

int xdp_run(int prog_fd, const void *data, size_t len, const struct xdp_md *ctx,
	    uint32_t *verdict)
{
	struct xdp_md md;
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = data,
		.data_size_in = (__u32)len,
		.repeat = 1,
	);

	if (ctx) {
		/* The kernel wants data_end to be the frame length, the rest of
		 * the layout comes from data_in. */
		md = *ctx;
		md.data = 0;
		md.data_meta = 0;
		md.data_end = (__u32)len;
		opts.ctx_in = &md;
		opts.ctx_size_in = sizeof(md);
	}
	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -errno;
	*verdict = opts.retval;
	return 0;
}

void xdp_expect(int prog_fd, const void *data, size_t len, const struct xdp_md *ctx,
		uint32_t want, const char *what)
{
	uint32_t verdict = ~0u;
	int err = xdp_run(prog_fd, data, len, ctx, &verdict);

	if (err)
		fail_msg("%s (%zu bytes): BPF_PROG_TEST_RUN: %s", what, len, strerror(-err));
	if (verdict != want)
		fail_msg("%s (%zu bytes): verdict %u, want %u", what, len, verdict, want);
}

void stats_read(const struct bpf_map *stats, struct xdphook_counter out[XDPHOOK_VERDICTS])
{
	int ncpu = libbpf_num_possible_cpus();
	struct xdphook_counter *percpu;
	__u32 key;
	int cpu;

	assert_true(ncpu > 0);
	percpu = calloc((size_t)ncpu, sizeof(*percpu));
	assert_non_null(percpu);
	for (key = 0; key < XDPHOOK_VERDICTS; key++) {
		assert_int_equal(bpf_map__lookup_elem(stats, &key, sizeof(key), percpu,
						      sizeof(*percpu) * ncpu, 0), 0);
		out[key].packets = 0;
		out[key].bytes = 0;
		for (cpu = 0; cpu < ncpu; cpu++) {
			out[key].packets += percpu[cpu].packets;
			out[key].bytes += percpu[cpu].bytes;
		}
	}
	free(percpu);
}
