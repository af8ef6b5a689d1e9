// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdp_gen's programs (bpf/xdp_gen.bpf.c), frame by frame with plain
 * BPF_PROG_TEST_RUN: the fan-out takes only seeds and broadcasts them; the
 * per-copy program gives every copy its ports, a correct UDP checksum and
 * (IMIX) its length and headers, sends exactly the budget (dropping the
 * first copies of the last seed, not the last) and -k frames byte for byte.
 * The kernel does not test-run devmap programs: xdp_gen_copy_test is the
 * same code as a plain XDP program.
 *
 * Templates are built here from the layout bench/xdp_gen.h describes,
 * independently of bench/xdp_gen.c; checksums are checked with
 * test/prog/frames.c's.
 */
#include "prog_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../../bench/xdp_gen_kinds.h" /* and xdp_gen.h, before the skeleton */
#include "xdp_gen.skel.h"

static const uint8_t src4[4] = { 10, 9, 0, 1 }, dst4[4] = { 10, 9, 0, 2 };
static const uint8_t src6[16] = { 0xfd, 9, [15] = 1 }, dst6[16] = { 0xfd, 9, [15] = 2 };

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A template of len bytes: ports and UDP checksum 0, payload zeros. */
static void tmpl_build(struct xdp_gen_tmpl *t, int v6, uint32_t len)
{
	uint8_t *p = t->hdr, *ip = p + 14, *udp = ip + (v6 ? 40 : 20);
	uint32_t ulen = len - (v6 ? 54 : 34), sum;

	memset(t, 0, sizeof(*t));
	t->len = len;
	memset(p, 0x02, 12);
	if (!v6) {
		put16(p + 12, 0x0800);
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(len - 14));
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, src4, 4);
		memcpy(ip + 16, dst4, 4);
		put16(ip + 10, inet_csum(ip, 20));
		sum = csum_add(17 + ulen, ip + 12, 8);
	} else {
		put16(p + 12, 0x86dd);
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)ulen);
		ip[6] = 17;
		ip[7] = 64;
		memcpy(ip + 8, src6, 16);
		memcpy(ip + 24, dst6, 16);
		sum = csum_add(17 + ulen, ip + 8, 32);
	}
	put16(udp + 4, (uint16_t)ulen);
	t->csum_base = csum_add(sum, udp, 8);
}

struct gen {
	struct xdp_gen *skel;
	int fanout_fd, copy_fd;
};

/* Open and load with cfg as set up by fill(). */
static void gen_load(struct gen *g, void (*fill)(struct xdp_gen_cfg *c), uint64_t budget)
{
	struct xdp_gen_cfg *c;

	g->skel = xdp_gen__open();
	assert_non_null(g->skel);
	c = (struct xdp_gen_cfg *)&g->skel->rodata->cfg;
	fill(c);
	assert_int_equal(xdp_gen__load(g->skel), 0);
	g->skel->bss->gen_state.budget = budget;
	g->fanout_fd = bpf_program__fd(g->skel->progs.xdp_gen_fanout);
	g->copy_fd = bpf_program__fd(g->skel->progs.xdp_gen_copy_test);
}

/* One run on in[0..len): the verdict, and the frame after it in out. */
static uint32_t run(int fd, const uint8_t *in, uint32_t len, uint8_t *out, uint32_t *out_len)
{
	static uint8_t scratch[4096];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = len,
		    .data_out = out ? out : scratch, .data_size_out = sizeof(scratch), .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(fd, &o), 0);
	if (out_len)
		*out_len = o.data_size_out;
	return o.retval;
}

/* The seed as xdp_gen sends it: the first template's frame. */
static void seed_of(const struct xdp_gen_cfg *c, uint8_t *seed)
{
	memset(seed, 0, c->max_len);
	memcpy(seed, c->tmpl[0].hdr, XDP_GEN_HDR);
}

/* IPv4, 64 bytes, source ports 1000-1002, destination port 7, 4 copies a seed. */
static void fill_v4(struct xdp_gen_cfg *c)
{
	tmpl_build(&c->tmpl[0], 0, 64);
	c->ntmpl = 1;
	c->max_len = 64;
	c->fanout = 4;
	c->udp_off = 34;
	c->sport_lo = 1000;
	c->sport_n = 3;
	c->dport_lo = 7;
	c->dport_n = 1;
}

static void test_fanout_takes_seeds_only(void **state)
{
	struct gen g;
	uint8_t seed[64], other[70] = { 0 };

	(void)state;
	skip_unless_root();
	gen_load(&g, fill_v4, UINT64_MAX);
	seed_of(&g.skel->rodata->cfg, seed);
	assert_int_equal(run(g.fanout_fd, seed, 64, NULL, NULL), XDP_REDIRECT);
	assert_int_equal(run(g.fanout_fd, seed, 64, NULL, NULL), XDP_REDIRECT);
	/* Not a seed (another length: the kernel's own frames). */
	assert_int_equal(run(g.fanout_fd, other, sizeof(other), NULL, NULL), XDP_DROP);
	assert_int_equal(g.skel->bss->gen_state.seeds, 2);
	xdp_gen__destroy(g.skel);
}

/* The UDP checksum of a copy, checked against the pseudo header. */
static void assert_udp_ok(const uint8_t *f, uint32_t len, int v6)
{
	const uint8_t *ip = f + 14, *udp = ip + (v6 ? 40 : 20);
	size_t ulen = len - (v6 ? 54 : 34);
	uint32_t s, d;

	assert_int_equal(get16(udp + 4), ulen);
	assert_int_not_equal(get16(udp + 6), 0);
	if (v6) {
		struct in6_addr s6, d6; /* aligned copies */

		memcpy(&s6, ip + 8, 16);
		memcpy(&d6, ip + 24, 16);
		assert_int_equal(l4_csum_v6(&s6, &d6, 17, udp, ulen), 0);
		assert_int_equal(get16(ip + 4), ulen);
	} else {
		memcpy(&s, ip + 12, 4);
		memcpy(&d, ip + 16, 4);
		assert_int_equal(l4_csum_v4(s, d, 17, udp, ulen), 0);
		assert_int_equal(inet_csum(ip, 20), 0);
		assert_int_equal(get16(ip + 2), len - 14);
	}
}

/* Budget 10 with 4 copies a seed: seeds 1 and 2 go whole, of seed 3 the
 * last two copies, and nothing after; the ports run on in sequence. */
static void test_copies_exact_budget(void **state)
{
	static const uint32_t want[12] = { XDP_PASS, XDP_PASS, XDP_PASS, XDP_PASS,
					   XDP_PASS, XDP_PASS, XDP_PASS, XDP_PASS,
					   XDP_DROP, XDP_DROP, XDP_PASS, XDP_PASS };
	struct gen g;
	uint8_t seed[64], out[4096];
	uint32_t len, passed = 0;

	(void)state;
	skip_unless_root();
	gen_load(&g, fill_v4, 10);
	seed_of(&g.skel->rodata->cfg, seed);
	for (int i = 0; i < 16; i++) {
		uint32_t v = run(g.copy_fd, seed, 64, out, &len);

		assert_int_equal(v, i < 12 ? want[i] : XDP_DROP);
		if (v != XDP_PASS)
			continue;
		assert_int_equal(len, 64);
		assert_memory_equal(out, seed, 34); /* Ethernet and IPv4 as they were */
		assert_int_equal(get16(out + 34), 1000 + passed % 3);
		assert_int_equal(get16(out + 36), 7);
		assert_udp_ok(out, len, 0);
		passed++;
	}
	assert_int_equal(passed, 10);
	assert_int_equal(g.skel->bss->gen_state.copies, 10);
	xdp_gen__destroy(g.skel);
}

/* IPv6 IMIX: 64, 576 and 1500 bytes 7:4:1 from a seed of 1500 bytes,
 * each with the headers of its length. */
static void fill_v6_imix(struct xdp_gen_cfg *c)
{
	static const uint32_t lens[XDP_GEN_SIZES] = { 64, 576, 1500 };

	for (int i = 0; i < XDP_GEN_SIZES; i++)
		tmpl_build(&c->tmpl[i], 1, lens[i]);
	c->ntmpl = XDP_GEN_SIZES;
	c->max_len = 1500;
	c->fanout = 32;
	c->udp_off = 54;
	c->sport_lo = 2000;
	c->sport_n = 100;
	c->dport_lo = 1000;
	c->dport_n = 10;
}

static void test_copies_imix_ipv6(void **state)
{
	static uint8_t seed[1500], out[4096];
	uint32_t n[3] = { 0 }, len;
	struct gen g;

	(void)state;
	skip_unless_root();
	gen_load(&g, fill_v6_imix, UINT64_MAX);
	seed_of(&g.skel->rodata->cfg, seed);
	for (int i = 0; i < 24; i++) {
		assert_int_equal(run(g.copy_fd, seed, 1500, out, &len), XDP_PASS);
		if (len != 64 && len != 576 && len != 1500)
			fail_msg("copy %d: length %u", i, len);
		n[len == 64 ? 0 : len == 576 ? 1 : 2]++;
		assert_int_equal(get16(out + 12), 0x86dd);
		assert_int_equal(get16(out + 54), 2000 + i % 100);
		assert_int_equal(get16(out + 56), 1000 + i % 10);
		assert_udp_ok(out, len, 1);
	}
	assert_int_equal(n[0], 14);
	assert_int_equal(n[1], 8);
	assert_int_equal(n[2], 2);
	xdp_gen__destroy(g.skel);
}

/* -k: two kinds in turn, byte for byte and at their own lengths. */
static const char *const raw_kinds[2] = { "trunc-eth", "frag4-first" };

static void fill_raw(struct xdp_gen_cfg *c)
{
	struct xdp_gen_addrs a = { .dst_mac = { 2, 0, 0, 0, 0, 2 }, .src_mac = { 2, 0, 0, 0, 0, 1 },
				   .sport = 9, .dport = 9 };

	memcpy(a.src4, src4, 4);
	memcpy(a.dst4, dst4, 4);
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < XDP_GEN_NKINDS; i++)
			if (!strcmp(xdp_gen_kinds[i].name, raw_kinds[k]))
				c->raw[k].len = xdp_gen_kind_build(&xdp_gen_kinds[i], &a, c->raw[k].data);
	c->nraw = 2;
	c->max_len = XDP_GEN_RAW_MAX;
	c->fanout = 32;
}

static void test_copies_raw_kinds(void **state)
{
	uint8_t seed[XDP_GEN_RAW_MAX] = { 0 }, out[4096];
	const struct xdp_gen_cfg *c;
	uint32_t len;
	struct gen g;

	(void)state;
	skip_unless_root();
	gen_load(&g, fill_raw, UINT64_MAX);
	c = &g.skel->rodata->cfg;
	assert_int_not_equal(c->raw[0].len, 0);
	assert_int_not_equal(c->raw[1].len, 0);
	for (int i = 0; i < 6; i++) {
		const struct xdp_gen_raw *r = &c->raw[i % 2];

		assert_int_equal(run(g.copy_fd, seed, sizeof(seed), out, &len), XDP_PASS);
		assert_int_equal(len, r->len);
		assert_memory_equal(out, r->data, r->len);
	}
	assert_int_equal(g.skel->bss->gen_state.raw_sent[0], 3);
	assert_int_equal(g.skel->bss->gen_state.raw_sent[1], 3);
	xdp_gen__destroy(g.skel);
}

int xdp_gen_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fanout_takes_seeds_only),
		cmocka_unit_test(test_copies_exact_budget),
		cmocka_unit_test(test_copies_imix_ipv6),
		cmocka_unit_test(test_copies_raw_kinds),
	};

	return cmocka_run_group_tests_name("xdp_gen", tests, NULL, NULL);
}
