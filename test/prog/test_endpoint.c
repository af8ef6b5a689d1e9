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
#include "xdp_endpoint_shared.skel.h"

#include <sys/socket.h>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

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

static uint64_t netns_cookie_here(void)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	socklen_t len = sizeof(uint64_t);
	uint64_t cookie = 0;

	assert_true(fd >= 0);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len), 0);
	close(fd);
	return cookie;
}

/* Every catalog frame (whole) through prog, expecting verdict want;
 * counted in t. */
static void run_all(int prog, const struct xdp_md *ctx, uint32_t want, struct tally *t)
{
	struct frame f;

	for (size_t i = 0; i < catalog_len; i++) {
		catalog_build(&catalog[i], &f);
		xdp_check(prog, &f, ctx, want, NULL, t, catalog[i].name);
	}
}

static void slot_set(struct xdp_endpoint_shared *sh, uint32_t slot, uint64_t cookie)
{
	assert_int_equal(bpf_map__update_elem(sh->maps.ep_slot, &slot, sizeof(slot), &cookie, sizeof(cookie),
					      BPF_ANY), 0);
}

static void socket_set(struct xdp_endpoint_shared *sh, uint32_t slot, int xsk)
{
	uint32_t key = slot * XH_EP_QUEUES;

	if (xsk < 0)
		assert_int_equal(bpf_map__delete_elem(sh->maps.ep_xsks, &key, sizeof(key), 0), 0);
	else
		assert_int_equal(bpf_map__update_elem(sh->maps.ep_xsks, &key, sizeof(key), &xsk, sizeof(xsk),
						      BPF_ANY), 0);
}

/* bpf/xdp_endpoint_shared.bpf.c: a frame from a netns that owns its slot
 * (cookie modulo XH_EP_SLOTS) goes to the socket at the slot's key in
 * ep_xsks, or without one to the kernel, counted in the slot's ep_stats.
 * From any other netns, when the slot is another cookie's (same slot), or
 * once the slot is freed, it goes to the kernel, counted in the shared
 * program's own xdphook_stats: a socket at the key is never used then. */
static void test_endpoint_shared(void **state)
{
	struct xdp_md lo_q0 = { .ingress_ifindex = LOOPBACK_IFINDEX, .rx_queue_index = 0 };
	struct tally shared_t = { 0 }, slot_t = { 0 }, none_t = { 0 };
	struct xdp_endpoint_shared *sh;
	uint64_t here, elsewhere, same_slot;
	uint32_t slot, other_slot;
	int fd, xsk;

	(void)state;
	skip_unless_root();
	sh = xdp_endpoint_shared__open_and_load();
	if (!sh)
		skip(); /* before Linux 6.2: the hook attaches each container's program itself */
	assert_int_equal(bpf_map__max_entries(sh->maps.ep_xsks), XH_EP_SLOTS * XH_EP_QUEUES);
	xsk = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	assert_true(xsk >= 0);
	fd = bpf_program__fd(sh->progs.xdphook_endpt);
	here = netns_cookie_here();
	elsewhere = here + 1;             /* cookies are never reused: nobody's */
	same_slot = here + XH_EP_SLOTS;   /* nobody's either, but our slot */
	slot = (uint32_t)(here % XH_EP_SLOTS);
	other_slot = (uint32_t)(elsewhere % XH_EP_SLOTS);

	/* No slot for this netns: the kernel. */
	run_all(fd, NULL, XDP_PASS, &shared_t);
	/* Another container's slot and socket change nothing for us. */
	slot_set(sh, other_slot, elsewhere);
	socket_set(sh, other_slot, xsk);
	run_all(fd, &lo_q0, XDP_PASS, &shared_t);
	/* Nor does our slot held by another cookie, socket and all. */
	slot_set(sh, slot, same_slot);
	socket_set(sh, slot, xsk);
	run_all(fd, NULL, XDP_PASS, &shared_t);

	/* Ours, no socket yet: the kernel, counted as ours. */
	socket_set(sh, slot, -1);
	slot_set(sh, slot, here);
	run_all(fd, NULL, XDP_PASS, &slot_t);
	/* Ours, with the client's socket: redirected to it. */
	socket_set(sh, slot, xsk);
	run_all(fd, NULL, XDP_REDIRECT, &slot_t);
	run_all(fd, &lo_q0, XDP_REDIRECT, &slot_t);

	/* Slot freed (teardown clears ep_slot first): the kernel again. */
	slot_set(sh, slot, 0);
	run_all(fd, NULL, XDP_PASS, &shared_t);

	tally_expect(sh->maps.xdphook_stats, &shared_t);
	tally_expect_dev(sh->maps.ep_stats, sizeof(struct xdphook_ifcounters), slot, &slot_t);
	tally_expect_dev(sh->maps.ep_stats, sizeof(struct xdphook_ifcounters), other_slot, &none_t);
	assert_true(slot_t.by_verdict[XDP_REDIRECT].packets == 2 * catalog_len);
	close(xsk);
	xdp_endpoint_shared__destroy(sh);
}

int endpoint_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint_empty),
		cmocka_unit_test(test_endpoint_map_sockets_only),
		cmocka_unit_test(test_endpoint_shared),
	};

	return cmocka_run_group_tests_name("endpoint", tests, NULL, NULL);
}
