// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * parse_packet() (bpf/parsing.h) through the test-only parse_probe XDP
 * program: the verdict says whether the frame parsed (XDP_PASS) or not
 * (XDP_DROP), the probe_out map holds the struct packet fields.
 */
#include "prog_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/tcp.h>
#include <linux/ip.h>

#include "parse_probe.skel.h"

struct probe {
	struct parse_probe *skel;
	int prog_fd;
	__u64 runs; /* runs so far, to check each run updated the result */
};

static int probe_setup(void **state)
{
	static struct probe p;

	*state = NULL;
	if (geteuid() != 0)
		return 0; /* every test skips */
	memset(&p, 0, sizeof(p));
	p.skel = parse_probe__open_and_load();
	if (!p.skel) {
		fprintf(stderr, "parse_probe: open/load failed: %s\n", strerror(errno));
		return -1;
	}
	p.prog_fd = bpf_program__fd(p.skel->progs.parse_probe);
	*state = &p;
	return 0;
}

static int probe_teardown(void **state)
{
	struct probe *p = *state;

	if (p)
		parse_probe__destroy(p->skel);
	return 0;
}

/* Run the probe on data[0..len). Returns the syscall's result (0 or
 * -errno); on success fills *verdict and *r and checks that this very run
 * wrote *r. */
static int probe_run(struct probe *p, const void *data, size_t len,
		     uint32_t *verdict, struct probe_result *r)
{
	__u32 key = 0;
	int err;

	err = xdp_run(p->prog_fd, data, len, NULL, verdict);
	if (err)
		return err;
	assert_int_equal(bpf_map__lookup_elem(p->skel->maps.probe_out, &key, sizeof(key),
					      r, sizeof(*r), 0), 0);
	assert_int_equal(r->runs, ++p->runs);
	return 0;
}

/* Print every field that differs; return how many do. */
static int diff_result(const char *what, size_t len, const struct probe_result *got,
		       const struct probe_result *want)
{
	int n = 0;

#define FIELD(f)                                                                       \
	do {                                                                           \
		if (got->f != want->f) {                                               \
			print_error("%s (%zu bytes): %s = %lld, want %lld\n", what, len, \
				    #f, (long long)got->f, (long long)want->f);         \
			n++;                                                           \
		}                                                                      \
	} while (0)
	FIELD(rc);
	FIELD(l3_proto);
	FIELD(l4_proto);
	FIELD(vlans);
	FIELD(vlan_id[0]);
	FIELD(vlan_id[1]);
	FIELD(frag);
	FIELD(has_ip4);
	FIELD(has_ip6);
	FIELD(has_l4);
	FIELD(ip_hdr_len);
	FIELD(l3_off);
	FIELD(l4_off);
	FIELD(sport);
	FIELD(dport);
#undef FIELD
	return n;
}

/* Run one frame; check the verdict and, for XDP_PASS, every field (for
 * XDP_DROP only rc). Returns the number of mismatches (printed). */
static int check_frame(struct probe *p, const char *what, const void *data, size_t len,
		       uint32_t want_verdict, const struct probe_result *want)
{
	struct probe_result got;
	uint32_t verdict;
	int err;

	err = probe_run(p, data, len, &verdict, &got);
	if (err) {
		print_error("%s (%zu bytes): BPF_PROG_TEST_RUN: %s\n", what, len, strerror(-err));
		return 1;
	}
	if (verdict != want_verdict) {
		print_error("%s (%zu bytes): verdict %s, want %s (rc %d)\n", what, len,
			    verdict == XDP_PASS ? "PASS" : verdict == XDP_DROP ? "DROP" : "?",
			    want_verdict == XDP_PASS ? "PASS" : "DROP", got.rc);
		return 1;
	}
	if (want_verdict == XDP_DROP)
		return got.rc == -1 ? 0 : (print_error("%s: rc %d on DROP\n", what, got.rc), 1);
	return diff_result(what, len, &got, want);
}

/* --- every catalogue frame, whole ------------------------------------------- */

static void test_catalog(void **state)
{
	struct frame f;
	size_t i;
	int bad = 0;

	skip_unless_root();
	for (i = 0; i < catalog_len; i++) {
		catalog_build(&catalog[i], &f);
		bad += check_frame(*state, catalog[i].name, f.data, f.len, catalog[i].verdict,
				   &catalog[i].want);
	}
	if (bad)
		fail_msg("%d mismatches", bad);
}

/* --- IPv4 header lengths ------------------------------------------------------ */

/* Every IHL from 5 (no options) to 15 (40 bytes), with TCP, UDP and ICMP. */
static void test_ipv4_every_ihl(void **state)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP };
	struct frame f;
	int ihl, bad = 0;
	size_t i;

	skip_unless_root();
	for (ihl = 5; ihl <= 15; ihl++) {
		for (i = 0; i < sizeof(protos); i++) {
			struct probe_result want = {
				.l3_proto = ETH_P_IP, .has_ip4 = 1, .l3_off = 14,
				.ip_hdr_len = ihl * 4, .l4_proto = protos[i],
				.l4_off = 14 + ihl * 4, .has_l4 = 1,
			};
			char what[64];

			frame_init(&f);
			frame_eth(&f, NULL, NULL, 0);
			frame_ipv4(&f, &(struct ip4_spec){ .opt_len = (ihl - 5) * 4 });
			if (protos[i] == IPPROTO_TCP) {
				frame_tcp(&f, &(struct tcp_spec){ .sport = 100 + ihl, .dport = 80 });
				want.sport = 100 + ihl;
				want.dport = 80;
			} else if (protos[i] == IPPROTO_UDP) {
				frame_udp(&f, 200 + ihl, 53);
				want.sport = 200 + ihl;
				want.dport = 53;
			} else {
				frame_icmp(&f, 8, 0, 1, 1);
				want.dport = 8;
			}
			frame_payload(&f, 4);
			frame_finish(&f);
			snprintf(what, sizeof(what), "ihl %d proto %u", ihl, protos[i]);
			bad += check_frame(*state, what, f.data, f.len, XDP_PASS, &want);
		}
	}
	if (bad)
		fail_msg("%d mismatches", bad);
}

/* IHL below 5, and tot_len below the header length for every IHL: both
 * malformed, so the parser must give up (the kernel will drop them). */
static void test_ipv4_bad_lengths(void **state)
{
	static const struct probe_result drop = { .rc = -1 };
	struct iphdr *iph;
	struct frame f;
	int ihl, tot, bad = 0;
	char what[64];

	skip_unless_root();
	for (ihl = 0; ihl < 5; ihl++) {
		frame_init(&f);
		frame_eth(&f, NULL, NULL, 0);
		frame_ipv4(&f, NULL);
		frame_udp(&f, 1, 2);
		frame_payload(&f, 40); /* enough bytes whatever IHL claims */
		frame_finish(&f);
		iph = frame_hdr(&f, FRAME_IPV4, 0);
		iph->ihl = ihl;
		frame_fix_checksums(&f);
		snprintf(what, sizeof(what), "ihl %d", ihl);
		bad += check_frame(*state, what, f.data, f.len, XDP_DROP, &drop);
	}
	for (ihl = 5; ihl <= 15; ihl++) {
		for (tot = 0; tot < ihl * 4; tot++) {
			frame_init(&f);
			frame_eth(&f, NULL, NULL, 0);
			frame_ipv4(&f, &(struct ip4_spec){ .opt_len = (ihl - 5) * 4 });
			frame_udp(&f, 1, 2);
			frame_finish(&f);
			iph = frame_hdr(&f, FRAME_IPV4, 0);
			iph->tot_len = htons(tot);
			frame_fix_checksums(&f);
			snprintf(what, sizeof(what), "ihl %d tot_len %d", ihl, tot);
			bad += check_frame(*state, what, f.data, f.len, XDP_DROP, &drop);
		}
	}
	if (bad)
		fail_msg("%d mismatches", bad);
}

/* --- TCP data offsets --------------------------------------------------------- */

static void test_tcp_every_doff(void **state)
{
	static const struct probe_result drop = { .rc = -1 };
	struct tcphdr *th;
	struct frame f;
	int doff, bad = 0;
	char what[64];

	skip_unless_root();
	for (doff = 5; doff <= 15; doff++) {
		struct probe_result want = {
			.l3_proto = ETH_P_IP, .has_ip4 = 1, .l3_off = 14, .ip_hdr_len = 20,
			.l4_proto = IPPROTO_TCP, .l4_off = 34, .has_l4 = 1,
			.sport = 1000 + doff, .dport = 2000,
		};

		frame_init(&f);
		frame_eth(&f, NULL, NULL, 0);
		frame_ipv4(&f, NULL);
		frame_tcp(&f, &(struct tcp_spec){ .sport = 1000 + doff, .dport = 2000,
						  .opt_len = (doff - 5) * 4 });
		frame_finish(&f);
		snprintf(what, sizeof(what), "tcp doff %d", doff);
		bad += check_frame(*state, what, f.data, f.len, XDP_PASS, &want);
	}
	for (doff = 0; doff < 5; doff++) {
		frame_init(&f);
		frame_eth(&f, NULL, NULL, 0);
		frame_ipv4(&f, NULL);
		frame_tcp(&f, &(struct tcp_spec){ .sport = 1, .dport = 2 });
		frame_payload(&f, 40);
		frame_finish(&f);
		th = frame_hdr(&f, FRAME_TCP, 0);
		th->doff = doff;
		frame_fix_checksums(&f);
		snprintf(what, sizeof(what), "tcp doff %d", doff);
		bad += check_frame(*state, what, f.data, f.len, XDP_DROP, &drop);
	}
	if (bad)
		fail_msg("%d mismatches", bad);
}

/* --- truncation ------------------------------------------------------------------ */

/* Cut every catalogue frame at every length. Below ETH_HLEN the kernel
 * refuses to run an XDP program at all (-EINVAL). From there on the frame
 * parses exactly when the cut leaves every header the parser reads whole
 * (parser_needs(), from the builder's layer table) -- and then it reports
 * the same fields as for the whole frame, since it never looks further. */
static void test_truncation(void **state)
{
	struct probe_result whole;
	uint32_t verdict, want;
	struct frame f;
	size_t i, len, need;
	int err, bad = 0, runs = 0;
	char what[96];

	skip_unless_root();
	for (i = 0; i < catalog_len; i++) {
		catalog_build(&catalog[i], &f);
		need = parser_needs(&f);
		assert_true(need >= ETH_HLEN && need <= f.len);

		/* The whole frame: its fields are what every long enough cut
		 * must report (test_catalog checks them against the table). */
		assert_int_equal(probe_run(*state, f.data, f.len, &verdict, &whole), 0);
		if (verdict != catalog[i].verdict) {
			print_error("%s: whole frame verdict %u, want %u\n", catalog[i].name,
				    verdict, catalog[i].verdict);
			bad++;
			continue;
		}

		for (len = 0; len < ETH_HLEN; len++) {
			err = xdp_run(((struct probe *)*state)->prog_fd, f.data, len, NULL, &verdict);
			if (err != -EINVAL) {
				print_error("%s cut to %zu: syscall returned %d, want -EINVAL\n",
					    catalog[i].name, len, err);
				bad++;
			}
		}
		for (len = ETH_HLEN; len <= f.len; len++) {
			want = catalog[i].verdict == XDP_PASS && len >= need ? XDP_PASS : XDP_DROP;
			snprintf(what, sizeof(what), "%s cut (need %zu)", catalog[i].name, need);
			bad += check_frame(*state, what, f.data, len, want, &whole);
			runs++;
		}
	}
	print_message("truncation: %d runs over %zu frames\n", runs, catalog_len);
	if (bad)
		fail_msg("%d mismatches", bad);
}

int parser_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_catalog),
		cmocka_unit_test(test_ipv4_every_ihl),
		cmocka_unit_test(test_ipv4_bad_lengths),
		cmocka_unit_test(test_tcp_every_doff),
		cmocka_unit_test(test_truncation),
	};

	return cmocka_run_group_tests_name("parser", tests, probe_setup, probe_teardown);
}
