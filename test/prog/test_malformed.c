// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The malformed frames xdp_gen sends (xdp_gen -k, bench/xdp_gen_kinds.h),
 * byte for byte, through the parser (parse_probe) and the NIC program in
 * pod mode, addressed to a pod: the packet-level side of
 * test/integration/test_malformed.sh, which sends the same frames at rate.
 *
 * Policy (bpf/xdp_nic.bpf.c): what the parser cannot judge, VLAN-tagged
 * frames and non-IP frames go to the kernel unchanged (XDP_PASS); an IP
 * packet it can parse goes to the pod whose address it is sent to, every
 * fragment on its own, forwarded one hop (MACs rewritten, TTL - 1, IPv4
 * header checksum fixed) and otherwise untouched. The parser checks the
 * headers it reads against the frame, not the IPv4 total length against
 * the frame: a packet whose tot_len claims more than the frame holds (or
 * ends before the UDP header the frame holds) parses, and the pod's stack
 * judges it.
 *
 * The same frames sent by a pod (from its MAC and addresses) meet xdp_veth
 * on the host-side veth: what it cannot parse, and VLAN tags, are dropped
 * (the sandbox is not trusted with the host's network); IP packets it can
 * parse go on (here to the kernel: no fast-path prefix is configured).
 */
#include "hook_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <xdphook/policy.h>

#include "pod_map.h"

#include "parse_probe.skel.h"
#include "xdp_nic.skel.h"
#include "xdp_veth.skel.h"
#include "../../bench/xdp_gen_kinds.h"

#define LO 1 /* the pod's veth stand-in: a device every netns has */

/* The integration test's addresses: world 10.77.0.2 / fd77::2 sends to the
 * pod 10.77.1.5 / fd77:1::5. */
static const uint8_t pod_mac[6] = { 0x02, 0xaa, 0, 0, 0, 0x05 };
static const uint8_t xh_mac[6] = { 0x02, 0xbb, 0, 0, 0, 0x01 };

enum parse_want { PARSES, FAILS, EITHER };

struct kind_want {
	const char *name;
	uint32_t nic;          /* the NIC program's verdict for it */
	uint32_t veth;         /* xdp_veth's, sent by the sandbox (no fast path) */
	enum parse_want parse; /* parse_packet() */
};

static const struct kind_want wants[] = {
	{ "trunc-eth", XDP_PASS, XDP_DROP, FAILS },
	{ "trunc-ip4", XDP_PASS, XDP_DROP, FAILS },
	{ "trunc-udp4", XDP_PASS, XDP_DROP, FAILS },
	{ "trunc-ip6", XDP_PASS, XDP_DROP, FAILS },
	{ "trunc-ext6", XDP_PASS, XDP_DROP, FAILS },
	{ "ihl-low", XDP_PASS, XDP_DROP, FAILS },
	{ "ihl-zero", XDP_PASS, XDP_DROP, FAILS },
	{ "ihl-past-end", XDP_PASS, XDP_DROP, FAILS },
	{ "totlen-long", XDP_REDIRECT, XDP_PASS, PARSES },
	{ "totlen-short", XDP_PASS, XDP_DROP, FAILS },
	{ "totlen-cut-l4", XDP_REDIRECT, XDP_PASS, PARSES },
	{ "totlen-zero", XDP_PASS, XDP_DROP, FAILS },
	{ "frag4-first", XDP_REDIRECT, XDP_PASS, PARSES },
	{ "frag4-middle", XDP_REDIRECT, XDP_PASS, PARSES },
	{ "frag4-last", XDP_REDIRECT, XDP_PASS, PARSES },
	{ "frag4-tiny", XDP_PASS, XDP_DROP, FAILS },
	{ "ext6-chain", XDP_REDIRECT, XDP_PASS, PARSES },
	{ "ext6-long", XDP_PASS, XDP_DROP, FAILS },
	{ "ext6-past-end", XDP_PASS, XDP_DROP, FAILS },
	{ "frag6-first", XDP_REDIRECT, XDP_PASS, PARSES },
	{ "frag6-later", XDP_REDIRECT, XDP_PASS, PARSES },
	{ "vlan", XDP_PASS, XDP_DROP, PARSES },
	{ "qinq", XDP_PASS, XDP_DROP, PARSES },
	{ "vlan-triple", XDP_PASS, XDP_DROP, FAILS },
	{ "vlan-trunc", XDP_PASS, XDP_DROP, FAILS },
	{ "garbage-ip4", XDP_PASS, XDP_DROP, EITHER },
	{ "garbage-ip6", XDP_PASS, XDP_DROP, EITHER },
	{ "garbage", XDP_PASS, XDP_DROP, EITHER },
};

struct mal {
	struct xdp_nic *nic;
	struct parse_probe *probe;
	struct xdp_veth *veth;
	int nic_fd, probe_fd, veth_fd;
	struct xdp_gen_addrs a;
};

static void addrs(struct xdp_gen_addrs *a)
{
	memset(a, 0, sizeof(*a));
	memcpy(a->dst_mac, (const uint8_t[6]){ 0x02, 0x77, 0, 0, 0, 0x01 }, 6);
	memcpy(a->src_mac, (const uint8_t[6]){ 0x02, 0x77, 0, 0, 0, 0x02 }, 6);
	inet_pton(AF_INET, "10.77.0.2", a->src4);
	inet_pton(AF_INET, "10.77.1.5", a->dst4);
	inet_pton(AF_INET6, "fd77::2", a->src6);
	inet_pton(AF_INET6, "fd77:1::5", a->dst6);
	a->sport = 9;
	a->dport = 9;
}

static void add_pod(struct mal *m, int family, const uint8_t *addr, size_t len)
{
	struct xh_pod_dest d = { .ifindex = LO };
	struct xh_ip k;

	memset(&k, 0, sizeof(k));
	k.family = family;
	memcpy(k.addr, addr, len);
	memcpy(d.dst_mac, pod_mac, 6);
	memcpy(d.src_mac, xh_mac, 6);
	/* IPv4 pods in pod4_slots or pods4, as hook/setup.c puts them. */
	if (family == XH_AF_INET) {
		uint32_t a;

		memcpy(&a, k.addr, 4);
		assert_int_equal(xh_pod4_add(bpf_map__fd(m->nic->maps.pod4_slots),
					     bpf_map__fd(m->nic->maps.pods4), a, &d), 0);
	} else
		assert_int_equal(bpf_map__update_elem(m->nic->maps.pods, &k, sizeof(k), &d, sizeof(d),
						      BPF_ANY), 0);
}

static int mal_setup(void **state)
{
	static struct mal m;
	__u32 ifi = LO;

	*state = NULL;
	if (geteuid() != 0)
		return 0;
	memset(&m, 0, sizeof(m));
	addrs(&m.a);
	m.nic = xdp_nic__open_and_load();
	m.probe = parse_probe__open_and_load();
	m.veth = xdp_veth__open_and_load();
	if (!m.nic || !m.probe || !m.veth ||
	    bpf_map__update_elem(m.nic->maps.tx_ports, &ifi, sizeof(ifi), &ifi, sizeof(ifi),
				 BPF_ANY)) {
		print_error("xdp_nic/parse_probe/xdp_veth: load or tx_ports: %s\n", strerror(errno));
		xdp_nic__destroy(m.nic);
		parse_probe__destroy(m.probe);
		xdp_veth__destroy(m.veth);
		return -1;
	}
	m.nic_fd = bpf_program__fd(m.nic->progs.xdphook_nic);
	m.probe_fd = bpf_program__fd(m.probe->progs.parse_probe);
	m.veth_fd = bpf_program__fd(m.veth->progs.xdphook_veth);
	*state = &m;
	return 0;
}

static int mal_teardown(void **state)
{
	struct mal *m = *state;

	if (m) {
		xdp_nic__destroy(m->nic);
		parse_probe__destroy(m->probe);
		xdp_veth__destroy(m->veth);
	}
	return 0;
}

static const struct kind_want *want_of(const char *name)
{
	for (size_t i = 0; i < sizeof(wants) / sizeof(wants[0]); i++)
		if (!strcmp(wants[i].name, name))
			return &wants[i];
	return NULL;
}

/* The frame of kind k as xdp_gen sends it. */
static void kind_frame(const struct mal *m, const struct xdp_gen_kind *k, struct frame *f)
{
	uint8_t buf[XDP_GEN_RAW_MAX];
	uint32_t len = xdp_gen_kind_build(k, &m->a, buf);

	assert_in_range(len, XDP_GEN_RAW_MIN, XDP_GEN_RAW_MAX);
	frame_init(f);
	frame_bytes(f, buf, len);
}

/* What forwarding one hop to the pod makes of f: MACs, TTL / hop limit,
 * the IPv4 header checksum computed afresh (the program updates it
 * incrementally: the two must agree). The IP header follows Ethernet. */
static void forwarded(const struct frame *f, struct frame *out)
{
	uint8_t *ip;

	*out = *f;
	memcpy(out->data, pod_mac, 6);
	memcpy(out->data + 6, xh_mac, 6);
	ip = out->data + ETH_HLEN;
	if ((ip[0] >> 4) == 4) {
		size_t hl = (size_t)(ip[0] & 0xf) * 4;

		ip[8]--;
		ip[10] = ip[11] = 0;
		uint16_t c = inet_csum(ip, hl);
		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;
	} else {
		ip[7]--;
	}
}

/* Every kind has an expectation here, and every expectation a kind. */
static void test_kinds_listed(void **state)
{
	(void)state;
	assert_int_equal(XDP_GEN_NKINDS, sizeof(wants) / sizeof(wants[0]));
	assert_true(XDP_GEN_NKINDS <= XDP_GEN_KINDS_MAX);
	for (size_t i = 0; i < XDP_GEN_NKINDS; i++)
		if (!want_of(xdp_gen_kinds[i].name))
			fail_msg("kind %s: no expectation", xdp_gen_kinds[i].name);
}

/* Each frame is the same in every build (garbage included), the length
 * within what the generator can send. */
static void test_kinds_stable(void **state)
{
	struct xdp_gen_addrs a;
	uint8_t b1[XDP_GEN_RAW_MAX], b2[XDP_GEN_RAW_MAX];

	(void)state;
	addrs(&a);
	for (size_t i = 0; i < XDP_GEN_NKINDS; i++) {
		uint32_t l1 = xdp_gen_kind_build(&xdp_gen_kinds[i], &a, b1);
		uint32_t l2 = xdp_gen_kind_build(&xdp_gen_kinds[i], &a, b2);

		assert_int_equal(l1, l2);
		assert_memory_equal(b1, b2, l1);
		assert_in_range(l1, XDP_GEN_RAW_MIN, XDP_GEN_RAW_MAX);
	}
}

static void test_kinds_parse(void **state)
{
	struct mal *m = *state;
	int bad = 0;

	skip_unless_root();
	assert_non_null(m);
	for (size_t i = 0; i < XDP_GEN_NKINDS; i++) {
		const struct xdp_gen_kind *k = &xdp_gen_kinds[i];
		const struct kind_want *w = want_of(k->name);
		struct probe_result r;
		struct frame f;
		uint32_t verdict, key = 0;

		kind_frame(m, k, &f);
		assert_int_equal(xdp_run(m->probe_fd, f.data, f.len, NULL, &verdict), 0);
		assert_int_equal(bpf_map__lookup_elem(m->probe->maps.probe_out, &key, sizeof(key), &r,
						      sizeof(r), 0), 0);
		if (w->parse == EITHER)
			continue;
		if ((w->parse == PARSES) != (r.rc == 0)) {
			print_error("%s: parse_packet() returned %d, want %s\n", k->name, r.rc,
				    w->parse == PARSES ? "0" : "-1");
			bad++;
		}
	}
	if (bad)
		fail_msg("%d kinds parsed other than expected", bad);
}

/* Through the NIC program, addressed to the pod: the verdict, the frame
 * left behind (unchanged for the kernel, forwarded for the pod), and the
 * counters. */
static void test_kinds_nic_pod(void **state)
{
	struct mal *m = *state;
	struct tally t = { 0 };
	size_t redirected = 0;

	skip_unless_root();
	assert_non_null(m);
	add_pod(m, XH_AF_INET, m->a.dst4, 4);
	add_pod(m, XH_AF_INET6, m->a.dst6, 16);
	for (size_t i = 0; i < XDP_GEN_NKINDS; i++) {
		const struct xdp_gen_kind *k = &xdp_gen_kinds[i];
		const struct kind_want *w = want_of(k->name);
		struct frame f, fwd;

		kind_frame(m, k, &f);
		if (w->nic == XDP_REDIRECT) {
			forwarded(&f, &fwd);
			xdp_check(m->nic_fd, &f, NULL, XDP_REDIRECT, &fwd, &t, k->name);
			redirected++;
		} else {
			xdp_check(m->nic_fd, &f, NULL, w->nic, NULL, &t, k->name);
		}
	}
	tally_expect(m->nic->maps.xdphook_stats, &t);
	assert_int_equal(t.by_verdict[XDP_REDIRECT].packets, redirected);
}

/* Addressed to no pod (no pod configured): every kind goes to the kernel
 * unchanged. */
static void test_kinds_nic_host(void **state)
{
	struct mal *m = *state;
	struct tally t = { 0 };

	skip_unless_root();
	assert_non_null(m);
	for (size_t i = 0; i < XDP_GEN_NKINDS; i++) {
		struct frame f;

		kind_frame(m, &xdp_gen_kinds[i], &f);
		xdp_check(m->nic_fd, &f, NULL, XDP_PASS, NULL, &t, xdp_gen_kinds[i].name);
	}
	tally_expect(m->nic->maps.xdphook_stats, &t);
}

/* xdp_veth, pod mode, for the pod on the loopback device: its MAC is the
 * frames' source MAC, its addresses their sources; no fast path. */
static void veth_pod(struct mal *m)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xh_veth_dev *val;
	struct xh_veth_ip k;
	__u32 dev = LO;
	uint8_t one = 1;

	assert_true(ncpu > 0);
	val = calloc((size_t)ncpu, sizeof(*val));
	assert_non_null(val);
	for (int cpu = 0; cpu < ncpu; cpu++) {
		val[cpu].cfg.mode = XH_POD;
		val[cpu].cfg.nic_ifindex = LO;
		memcpy(val[cpu].cfg.sandbox_mac, m->a.src_mac, 6);
	}
	assert_int_equal(bpf_map__update_elem(m->veth->maps.veth_dev, &dev, sizeof(dev), val,
					      sizeof(*val) * ncpu, BPF_ANY), 0);
	free(val);
	memset(&k, 0, sizeof(k));
	k.ifindex = LO;
	k.ip.family = XH_AF_INET;
	memcpy(k.ip.addr, m->a.src4, 4);
	assert_int_equal(bpf_map__update_elem(m->veth->maps.src_ips, &k, sizeof(k), &one, 1,
					      BPF_ANY), 0);
	memset(&k, 0, sizeof(k));
	k.ifindex = LO;
	k.ip.family = XH_AF_INET6;
	memcpy(k.ip.addr, m->a.src6, 16);
	assert_int_equal(bpf_map__update_elem(m->veth->maps.src_ips, &k, sizeof(k), &one, 1,
					      BPF_ANY), 0);
}

/* Sent by the pod: dropped unless it parses as IP, then unchanged. */
static void test_kinds_veth_sandbox(void **state)
{
	struct mal *m = *state;
	struct xdp_md ctx = { .ingress_ifindex = LO };
	struct tally t = { 0 };
	size_t dropped = 0;

	skip_unless_root();
	assert_non_null(m);
	veth_pod(m);
	for (size_t i = 0; i < XDP_GEN_NKINDS; i++) {
		const struct xdp_gen_kind *k = &xdp_gen_kinds[i];
		const struct kind_want *w = want_of(k->name);
		struct frame f;

		kind_frame(m, k, &f);
		xdp_check(m->veth_fd, &f, &ctx, w->veth, NULL, &t, k->name);
		dropped += w->veth == XDP_DROP;
	}
	tally_expect_dev(m->veth->maps.veth_dev, sizeof(struct xh_veth_dev), LO, &t);
	assert_true(dropped >= XDP_GEN_NKINDS / 2);
}

int malformed_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds_listed),
		cmocka_unit_test(test_kinds_stable),
		cmocka_unit_test_setup_teardown(test_kinds_parse, mal_setup, mal_teardown),
		cmocka_unit_test_setup_teardown(test_kinds_nic_host, mal_setup, mal_teardown),
		cmocka_unit_test_setup_teardown(test_kinds_nic_pod, mal_setup, mal_teardown),
		cmocka_unit_test_setup_teardown(test_kinds_veth_sandbox, mal_setup, mal_teardown),
	};

	return cmocka_run_group_tests_name("malformed", tests, NULL, NULL);
}
