// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The xdp_loader programs (bpf/xdp_{pass,drop,redirect,capture}.bpf.c)
 * under BPF_PROG_TEST_RUN: verdicts for every catalogue frame and every
 * truncation of it, and the per-CPU xdphook_stats counters they keep.
 *
 * Each test loads its skeleton afresh, so the counters start at zero and
 * must end at exactly what the test ran.
 */
#include "prog_test.h"
#include "hook_test.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>

#include "xdp_pass.skel.h"
#include "xdp_drop.skel.h"
#include "xdp_redirect.skel.h"
#include "xdp_capture.skel.h"

#define LOOPBACK_IFINDEX 1

/* Run every catalogue frame, whole, expecting `want`. */
static void run_catalog(int prog_fd, const struct xdp_md *ctx, uint32_t want,
			struct tally *t)
{
	struct frame f;
	size_t i;

	for (i = 0; i < catalog_len; i++) {
		catalog_build(&catalog[i], &f);
		xdp_expect(prog_fd, f.data, f.len, ctx, want, catalog[i].name);
		tally_add(t, want, f.len);
	}
}

/* Run every catalogue frame cut at every length, expecting `want` whenever
 * the kernel runs the program at all (from ETH_HLEN bytes on; shorter
 * frames are refused with -EINVAL and must not be counted). */
static void run_catalog_truncated(int prog_fd, uint32_t want, struct tally *t)
{
	struct frame f;
	uint32_t verdict;
	size_t i, len;
	int err;

	for (i = 0; i < catalog_len; i++) {
		catalog_build(&catalog[i], &f);
		for (len = 0; len <= f.len; len++) {
			if (len < ETH_HLEN) {
				err = xdp_run(prog_fd, f.data, len, NULL, &verdict);
				if (err != -EINVAL)
					fail_msg("%s cut to %zu: syscall returned %d, want -EINVAL",
						 catalog[i].name, len, err);
				continue;
			}
			xdp_expect(prog_fd, f.data, len, NULL, want, catalog[i].name);
			tally_add(t, want, len);
		}
	}
}

/* --- pass / drop ------------------------------------------------------------------ */

static void test_pass(void **state)
{
	struct tally t = { 0 };
	struct xdp_pass *skel;
	int fd;

	(void)state;
	skip_unless_root();
	skel = xdp_pass__open_and_load();
	assert_non_null(skel);
	fd = bpf_program__fd(skel->progs.xdphook_pass);

	run_catalog(fd, NULL, XDP_PASS, &t);
	run_catalog_truncated(fd, XDP_PASS, &t);
	tally_expect(skel->maps.xdphook_stats, &t);
	assert_true(t.by_verdict[XDP_PASS].packets > catalog_len);
	xdp_pass__destroy(skel);
}

static void test_drop(void **state)
{
	struct tally t = { 0 };
	struct xdp_drop *skel;
	int fd;

	(void)state;
	skip_unless_root();
	skel = xdp_drop__open_and_load();
	assert_non_null(skel);
	fd = bpf_program__fd(skel->progs.xdphook_drop);

	run_catalog(fd, NULL, XDP_DROP, &t);
	run_catalog_truncated(fd, XDP_DROP, &t);
	tally_expect(skel->maps.xdphook_stats, &t);
	assert_true(t.by_verdict[XDP_DROP].packets > catalog_len);
	xdp_drop__destroy(skel);
}

/* --- redirect ---------------------------------------------------------------------- */

/* Slot 0 of the devmap decides: empty -> XDP_PASS, a device -> XDP_REDIRECT
 * (BPF_PROG_TEST_RUN only reports the verdict; nothing is transmitted). */
static void test_redirect(void **state)
{
	struct tally t = { 0 };
	struct xdp_redirect *skel;
	__u32 slot = 0, ifindex = LOOPBACK_IFINDEX;
	int fd;

	(void)state;
	skip_unless_root();
	skel = xdp_redirect__open_and_load();
	assert_non_null(skel);
	fd = bpf_program__fd(skel->progs.xdphook_redir);

	run_catalog(fd, NULL, XDP_PASS, &t);

	assert_int_equal(bpf_map__update_elem(skel->maps.xdphook_tx, &slot, sizeof(slot),
					      &ifindex, sizeof(ifindex), BPF_ANY), 0);
	run_catalog(fd, NULL, XDP_REDIRECT, &t);

	/* The target went away: back to the kernel stack. */
	assert_int_equal(bpf_map__delete_elem(skel->maps.xdphook_tx, &slot, sizeof(slot), 0), 0);
	run_catalog(fd, NULL, XDP_PASS, &t);

	tally_expect(skel->maps.xdphook_stats, &t);
	assert_int_equal(t.by_verdict[XDP_REDIRECT].packets, catalog_len);
	assert_int_equal(t.by_verdict[XDP_PASS].packets, 2 * catalog_len);
	xdp_redirect__destroy(skel);
}

/* --- capture ------------------------------------------------------------------------ */

/* Run f on a queue the kernel may refuse to simulate: refused (-EINVAL, not
 * counted) or XDP_PASS (counted) are both fine. */
static void run_other_queue(int prog_fd, const struct frame *f, const struct xdp_md *ctx,
			    const char *what, struct tally *t)
{
	uint32_t verdict;
	int err;

	err = xdp_run(prog_fd, f->data, f->len, ctx, &verdict);
	if (err == 0) {
		print_message("capture: kernel runs %s\n", what);
		assert_int_equal(verdict, XDP_PASS);
		tally_add(t, verdict, f->len);
	} else {
		print_message("capture: kernel refuses %s: %s\n", what, strerror(-err));
		assert_int_equal(err, -EINVAL);
	}
}

/* No AF_XDP socket in the xskmap for the frame's queue: XDP_PASS, frames go
 * on to the kernel. */
static void test_capture_empty(void **state)
{
	struct xdp_md lo_q0 = { .ingress_ifindex = LOOPBACK_IFINDEX, .rx_queue_index = 0 };
	struct xdp_md lo_q1 = { .ingress_ifindex = LOOPBACK_IFINDEX, .rx_queue_index = 1 };
	struct xdp_md q1 = { .rx_queue_index = 1 };
	struct tally t = { 0 };
	struct xdp_capture *skel;
	struct frame f;
	int fd;

	(void)state;
	skip_unless_root();
	skel = xdp_capture__open_and_load();
	assert_non_null(skel);
	fd = bpf_program__fd(skel->progs.xdphook_capture);

	run_catalog(fd, NULL, XDP_PASS, &t);      /* queue 0, no device */
	run_catalog(fd, &lo_q0, XDP_PASS, &t);    /* queue 0 of lo */
	run_catalog_truncated(fd, XDP_PASS, &t);

	/* Other queues: the kernel only accepts an rx_queue_index that the
	 * ingress device really has (lo has one) and none without a device.
	 * Should that change, the empty map must still mean XDP_PASS. */
	catalog_build(&catalog[0], &f);
	run_other_queue(fd, &f, &lo_q1, "queue 1 of lo", &t);
	run_other_queue(fd, &f, &q1, "queue 1 without a device", &t);

	tally_expect(skel->maps.xdphook_stats, &t);
	xdp_capture__destroy(skel);
}

int program_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass),
		cmocka_unit_test(test_drop),
		cmocka_unit_test(test_redirect),
		cmocka_unit_test(test_capture_empty),
	};

	return cmocka_run_group_tests_name("programs", tests, NULL, NULL);
}
