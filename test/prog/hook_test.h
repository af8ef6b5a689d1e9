/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Helpers for the packet-level tests of the hook's programs
 * (test_nic.c, test_veth.c, test_endpoint.c): running a frame and comparing
 * the frame the program leaves behind (data_out) with one the test built
 * independently, tallying what ran against the programs' counters, and a
 * private network namespace for tests that need real devices
 * (bpf_fib_lookup, bpf_clone_redirect).
 *
 * Include prog_test.h first (cmocka).
 */
#ifndef XDPHOOK_TEST_HOOK_TEST_H
#define XDPHOOK_TEST_HOOK_TEST_H

#include "prog_test.h"

struct bpf_map;
struct __sk_buff;

/* Suites (test_progs.c runs them; each returns its number of failures). */
int nic_tests(void);
int veth_tests(void);
int endpoint_tests(void);

/* What a test ran, per verdict (index: XDP action, or TC action for the TC
 * program), to compare with the program's counters. */
struct tally {
	struct xdphook_counter by_verdict[XDPHOOK_VERDICTS];
};

void tally_add(struct tally *t, uint32_t verdict, size_t len);

/* xdphook_stats of an XDP program must equal the tally, verdict by verdict. */
void tally_expect(const struct bpf_map *stats, const struct tally *t);
/* The same for device ifindex's entry (ifindex 0: the catch-all) of a
 * shared program's per-device map, whose values of value_size bytes start
 * with struct xdphook_ifcounters; a missing entry counts as zeros. */
void tally_expect_dev(const struct bpf_map *map, size_t value_size, uint32_t ifindex, const struct tally *t);

/*
 * Run `in` through an XDP program and check the verdict and the frame it
 * leaves: `want` (NULL: the input, unchanged) byte for byte, and the same
 * length. ctx may be NULL. On a mismatch the test fails with a hex dump of
 * both frames, naming `what`. Counts the run in t (may be NULL).
 */
void xdp_check(int prog_fd, const struct frame *in, const struct xdp_md *ctx,
	       uint32_t verdict, const struct frame *want, struct tally *t,
	       const char *what);

/* The same for a TC (SCHED_CLS) program: verdict is the TC action. */
void tc_check(int prog_fd, const struct frame *in, const struct __sk_buff *ctx,
	      uint32_t verdict, const struct frame *want, const char *what);

/* Fail with a dump unless got[0..got_len) equals want. */
void frame_expect_bytes(const uint8_t *got, size_t got_len, const struct frame *want,
			const char *what);

/* --- private network namespace ---------------------------------------------------- */

/* Move this (single-threaded) process into a new, empty network namespace
 * and bring lo up. Returns an fd of the namespace we came from, for
 * netns_leave(), or -1 (with a message). The private namespace disappears
 * with its devices when the last reference (this process, sockets opened in
 * it) goes. Use from cmocka setup/teardown, so a failing test still
 * returns to the original namespace. */
int netns_enter(void);
void netns_leave(int saved);

/* Run a shell command (in the current namespace, output discarded).
 * Returns 0, or -1 with a message. */
int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Write a string to a file (a sysctl under /proc/sys/net of the current
 * namespace); fail the test on error. */
void write_file(const char *path, const char *value);

/* ifindex of a device in the current namespace; fails the test if absent. */
unsigned int ifindex(const char *name);

/* tx_packets of a device in the current namespace (rtnetlink). */
uint64_t link_tx_packets(unsigned int ifindex);

/* Parse "aa:bb:cc:dd:ee:ff" / an IPv4 or IPv6 address (test constants). */
void mac_parse(const char *s, uint8_t mac[6]);
uint32_t ip4(const char *s);                  /* network order */
struct in6_addr ip6(const char *s);

#endif

/* --- frames for the hook tests ------------------------------------------------------ */

/* One TCP/UDP (or other protocol) packet; zero fields take the builder's
 * defaults (frames.h): 02:..:02 <- 02:..:01, 192.0.2.1 -> 192.0.2.2,
 * 2001:db8::1 -> 2001:db8::2, TTL 64. */
struct flow {
	bool v6;
	const uint8_t *dmac, *smac;
	uint32_t saddr4, daddr4;       /* network order */
	struct in6_addr saddr6, daddr6;
	uint8_t ttl;
	uint8_t proto;                 /* 0: TCP; TCP, UDP or a payload-only one */
	uint16_t sport, dport;
	uint32_t seq;                  /* TCP sequence number (varies the sum) */
	uint8_t ip_opts;               /* IPv4 option bytes */
	uint16_t vlan;                 /* 802.1Q tag, 0: none */
	size_t payload;
};

/* frame_init() and build the flow, lengths and checksums filled. */
void flow_build(struct frame *f, const struct flow *fl);

/* The IP packet of a flow without Ethernet (for quoting in an ICMP error),
 * cut to its IP header plus `l4_bytes` (0: whole). */
void flow_build_bare(struct frame *f, const struct flow *fl, size_t l4_bytes);
