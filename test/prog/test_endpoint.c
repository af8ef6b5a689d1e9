// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bpf/xdp_endpoint.bpf.c (on xdp0 inside the container) under
 * BPF_PROG_TEST_RUN: with no AF_XDP socket in its XSKMAP (before the
 * sandbox's client is ready) every frame goes to the kernel, unchanged,
 * and is counted.
 */
#include "hook_test.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <xdphook/policy.h>

#include "xdp_endpoint.skel.h"

#define LOOPBACK_IFINDEX 1

static void test_endpoint_empty(void **state)
{
	struct xdp_md lo_q0 = { .ingress_ifindex = LOOPBACK_IFINDEX, .rx_queue_index = 0 };
	struct tally t = { 0 };
	struct xdp_endpoint *skel;
	struct frame f, cut;
	size_t i, len;
	int fd;

	(void)state;
	skip_unless_root();
	skel = xdp_endpoint__open_and_load();
	assert_non_null(skel);
	fd = bpf_program__fd(skel->progs.xdphook_endpt);
	assert_int_equal(bpf_map__max_entries(skel->maps.xsks), XH_MAX_QUEUES);

	for (i = 0; i < catalog_len; i++) {
		catalog_build(&catalog[i], &f);
		xdp_check(fd, &f, NULL, XDP_PASS, NULL, &t, catalog[i].name);
		xdp_check(fd, &f, &lo_q0, XDP_PASS, NULL, &t, catalog[i].name);
		for (len = ETH_HLEN; len < f.len; len += 7) {
			cut = f;
			cut.len = len;
			xdp_check(fd, &cut, NULL, XDP_PASS, NULL, &t, catalog[i].name);
		}
	}
	tally_expect(skel->maps.xdphook_stats, &t);
	assert_true(t.by_verdict[XDP_PASS].packets > 2 * catalog_len);
	xdp_endpoint__destroy(skel);
}

/* The map takes AF_XDP sockets only: nothing else can be slipped in. */
static void test_endpoint_map_sockets_only(void **state)
{
	struct xdp_endpoint *skel;
	__u32 q = 0;
	int fd;

	(void)state;
	skip_unless_root();
	skel = xdp_endpoint__open_and_load();
	assert_non_null(skel);
	fd = bpf_program__fd(skel->progs.xdphook_endpt);
	assert_int_not_equal(bpf_map__update_elem(skel->maps.xsks, &q, sizeof(q), &fd,
						  sizeof(fd), BPF_ANY), 0);
	xdp_endpoint__destroy(skel);
}

int endpoint_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint_empty),
		cmocka_unit_test(test_endpoint_map_sockets_only),
	};

	return cmocka_run_group_tests_name("endpoint", tests, NULL, NULL);
}
