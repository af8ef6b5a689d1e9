// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * build/test/test_progs: the packet-level test binary (`make test-prog`).
 *
 * Suites (cmocka groups, each with its own summary):
 *   frames    the frame builder itself: checksums, lengths, layer table
 *             (no privileges needed)
 *   parser    bpf/parsing.h through test/prog/parse_probe.bpf.c
 *   programs  xdp_pass, xdp_drop, xdp_redirect, xdp_capture
 *   xdp_gen   the generator's fan-out and per-copy programs
 * The BPF suites need root; without it their tests are skipped.
 *
 * Exit status: 0 when every test passed (or was skipped), 1 otherwise.
 */
#include "hook_test.h"
#include "prog_test.h"

#include <arpa/inet.h>
#include <string.h>

#include <linux/if_ether.h>

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

static uint16_t be16_at(const struct frame *f, size_t off)
{
	return (uint16_t)(f->data[off] << 8 | f->data[off + 1]);
}

/* --- checksum helpers ---------------------------------------------------------- */

/* The example of RFC 1071 section 3: sum 0xddf2, checksum 0x220d. */
static void test_csum_rfc1071(void **state)
{
	static const uint8_t data[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint32_t sum;

	(void)state;
	sum = csum_add(0, data, sizeof(data));
	assert_int_equal(csum_fold(sum), 0x220d);
	/* Chaining partial sums gives the same result. */
	sum = csum_add(csum_add(0, data, 4), data + 4, 4);
	assert_int_equal(csum_fold(sum), 0x220d);
	/* An odd trailing byte is the high byte of a zero-padded word. */
	assert_int_equal(inet_csum("\x01", 1), 0xfeff);
}

/* A well-known IPv4 header (192.168.0.1 -> 192.168.0.199, UDP) whose
 * checksum is 0xb861. */
static void test_csum_ipv4_header(void **state)
{
	uint8_t hdr[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			    0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };

	(void)state;
	assert_int_equal(inet_csum(hdr, sizeof(hdr)), 0xb861);
	hdr[10] = 0xb8;
	hdr[11] = 0x61;
	assert_int_equal(inet_csum(hdr, sizeof(hdr)), 0);
}

/* L4 checksums of two catalogue frames, checked against values computed by
 * an independent implementation (Python, from the frames' bytes). */
static void test_csum_known_frames(void **state)
{
	struct frame f;
	size_t i;

	(void)state;
	for (i = 0; i < catalog_len; i++) {
		catalog_build(&catalog[i], &f);
		if (!strcmp(catalog[i].name, "ipv4-udp"))
			assert_int_equal(be16_at(&f, 34 + 6), 0x939e);
		else if (!strcmp(catalog[i].name, "ipv6-tcp"))
			assert_int_equal(be16_at(&f, 54 + 16), 0x8ab6);
		else if (!strcmp(catalog[i].name, "ipv6-icmpv6-echo"))
			assert_int_equal(be16_at(&f, 54 + 2), 0x2cfa);
	}
}

/* A byte some checksum covers: the last one when an L4 checksum runs to the
 * end of the frame, else the TTL of an IPv4 header; -1 when nothing is
 * checksummed (not IP, or a later fragment over IPv6). */
static long checksummed_byte(const struct frame *f)
{
	const struct frame_layer *ip4 = frame_find(f, FRAME_IPV4, 0);
	static const enum frame_kind l4[] = { FRAME_TCP, FRAME_UDP, FRAME_ICMP, FRAME_ICMPV6 };
	size_t i;

	for (i = 0; i < sizeof(l4) / sizeof(l4[0]); i++)
		if (frame_find(f, l4[i], 0))
			return (long)f->len - 1;
	return ip4 ? ip4->off + 8 : -1;
}

/* Every catalogue frame carries correct checksums (the malformed ones were
 * re-checksummed after their edit), and a flipped bit breaks them. */
static void test_catalog_checksums(void **state)
{
	struct frame f;
	size_t i;
	long at;

	(void)state;
	for (i = 0; i < catalog_len; i++) {
		catalog_build(&catalog[i], &f);
		if (!frame_checksums_ok(&f))
			fail_msg("%s: bad checksum", catalog[i].name);
		at = checksummed_byte(&f);
		if (at < 0)
			continue;
		f.data[at] ^= 0x10;
		if (frame_checksums_ok(&f))
			fail_msg("%s: corrupted byte %ld not detected", catalog[i].name, at);
	}
}

/* --- lengths, protocols and the layer table ---------------------------------------- */

static void expect_layer(const struct frame *f, enum frame_kind kind, int n, size_t off,
			 size_t len)
{
	const struct frame_layer *l = frame_find(f, kind, n);

	assert_non_null(l);
	assert_int_equal(l->off, off);
	assert_int_equal(l->len, len);
}

static void test_layout_qinq_ipv4_tcp(void **state)
{
	struct frame f;

	(void)state;
	frame_init(&f);
	frame_eth(&f, NULL, NULL, 0);
	frame_vlan(&f, ETH_P_8021AD, 200);
	frame_vlan(&f, ETH_P_8021Q, 300);
	frame_ipv4(&f, &(struct ip4_spec){ .opt_len = 12, .more_frags = true, .frag_off = 0 });
	frame_tcp(&f, &(struct tcp_spec){ .sport = 1, .dport = 2, .opt_len = 12 });
	frame_payload(&f, 20);
	frame_finish(&f);

	assert_int_equal(f.len, 14 + 4 + 4 + 32 + 32 + 20);
	expect_layer(&f, FRAME_ETH, 0, 0, 14);
	expect_layer(&f, FRAME_VLAN, 0, 14, 4);
	expect_layer(&f, FRAME_VLAN, 1, 18, 4);
	expect_layer(&f, FRAME_IPV4, 0, 22, 32);
	expect_layer(&f, FRAME_TCP, 0, 54, 32);
	expect_layer(&f, FRAME_PAYLOAD, 0, 86, 20);
	assert_null(frame_find(&f, FRAME_VLAN, 2));

	assert_int_equal(be16_at(&f, 12), ETH_P_8021AD);   /* outer TPID */
	assert_int_equal(be16_at(&f, 14) & 0xfff, 200);
	assert_int_equal(be16_at(&f, 16), ETH_P_8021Q);    /* inner TPID */
	assert_int_equal(be16_at(&f, 18) & 0xfff, 300);
	assert_int_equal(be16_at(&f, 20), ETH_P_IP);
	assert_int_equal(f.data[22], 0x48);                /* v4, IHL 8 */
	assert_int_equal(be16_at(&f, 22 + 2), 32 + 32 + 20); /* tot_len */
	assert_int_equal(be16_at(&f, 22 + 6), 0x2000);     /* MF, offset 0 */
	assert_int_equal(f.data[22 + 9], IPPROTO_TCP);
	assert_int_equal(f.data[54 + 12] >> 4, 8);          /* doff */
}

static void test_layout_ipv6_ext(void **state)
{
	struct frame f;

	(void)state;
	frame_init(&f);
	frame_eth(&f, NULL, NULL, 0);
	frame_ipv6(&f, NULL);
	frame_ipv6_hopopts(&f, 16);
	frame_ipv6_frag(&f, 3, true, 0, 0x01020304);
	frame_udp(&f, 10, 20);
	frame_payload(&f, 5);
	frame_finish(&f);

	assert_int_equal(be16_at(&f, 12), ETH_P_IPV6);
	assert_int_equal(be16_at(&f, 14 + 4), 16 + 8 + 8 + 5); /* payload_len */
	assert_int_equal(f.data[14 + 6], IPPROTO_HOPOPTS);
	assert_int_equal(f.data[54], IPPROTO_FRAGMENT);        /* hbh next */
	assert_int_equal(f.data[55], 1);                       /* hbh (16 / 8) - 1 */
	assert_int_equal(f.data[70], IPPROTO_UDP);             /* frag next */
	assert_int_equal(be16_at(&f, 72), 3 << 3 | 1);         /* offset 3, M */
	assert_int_equal(be16_at(&f, 78 + 4), 8 + 5);          /* udp len */
	assert_true(frame_checksums_ok(&f));
}

/* Ethernet padding is a trailer, not part of the IP packet. */
static void test_pad(void **state)
{
	struct frame f;

	(void)state;
	frame_init(&f);
	frame_eth(&f, NULL, NULL, 0);
	frame_ipv4(&f, NULL);
	frame_udp(&f, 1, 2);
	frame_finish(&f);
	assert_int_equal(f.len, 42);
	frame_pad_to(&f, 60);
	assert_int_equal(f.len, 60);
	assert_int_equal(be16_at(&f, 14 + 2), 28);
	assert_true(frame_checksums_ok(&f));
}

int frames_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_rfc1071),
		cmocka_unit_test(test_csum_ipv4_header),
		cmocka_unit_test(test_csum_known_frames),
		cmocka_unit_test(test_catalog_checksums),
		cmocka_unit_test(test_layout_qinq_ipv4_tcp),
		cmocka_unit_test(test_layout_ipv6_ext),
		cmocka_unit_test(test_pad),
	};

	return cmocka_run_group_tests_name("frames", tests, NULL, NULL);
}

int malformed_tests(void); /* test_malformed.c */

int main(void)
{
	int failed = 0;

	failed += frames_tests();
	failed += parser_tests();
	failed += program_tests();
	failed += nic_tests();
	failed += veth_tests();
	failed += endpoint_tests();
	failed += malformed_tests();
	failed += xdp_gen_tests();
	return failed ? 1 : 0;
}
