// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bpf/xdp_nic.bpf.c (NIC ingress, pod and host mode) and bpf/tc_clone.bpf.c
 * (its host-mode TC companion) under BPF_PROG_TEST_RUN.
 *
 * Every test loads the program afresh, fills its maps, runs frames built
 * with frames.c and checks the verdict, the frame the program leaves
 * behind against one built independently with the expected headers (so
 * each rewritten checksum is compared with a full recomputation by
 * frames.c), and finally the per-verdict counters against what ran.
 */
#include "hook_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <xdphook/policy.h>

#include "pod_map.h"

#include "xdp_nic.skel.h"
#include "tc_clone.skel.h"

#define LO 1              /* a device that exists in any netns: the target */
#define NO_DEV 4242       /* an ifindex never put into tx_ports */

/* Pod mode: pod 10.1.0.5 / fd00:1::5 behind lo; 10.1.0.6 behind a veth
 * missing from tx_ports. */
static const uint8_t pod_mac[6] = { 0x02, 0xaa, 0, 0, 0, 0x05 };
static const uint8_t xh_mac[6] = { 0x02, 0xbb, 0, 0, 0, 0x01 };

/* Host mode: the NIC's (and so the sandbox's) addresses are the builder's
 * default destinations 192.0.2.2 / 2001:db8::2. */
#define SB_EPH_LO 50000
#define SB_EPH_HI 59999
#define HOST_EPH_LO 32768
#define HOST_EPH_HI 49999

struct nic {
	struct xdp_nic *skel;
	int fd;
	struct tally t;
};

static int nic_setup(void **state)
{
	static struct nic n;
	__u32 ifi = LO;

	*state = NULL;
	if (geteuid() != 0)
		return 0;
	memset(&n, 0, sizeof(n));
	n.skel = xdp_nic__open_and_load();
	if (!n.skel) {
		print_error("xdp_nic: open/load failed: %s\n", strerror(errno));
		return -1;
	}
	n.fd = bpf_program__fd(n.skel->progs.xdphook_nic);
	if (bpf_map__update_elem(n.skel->maps.tx_ports, &ifi, sizeof(ifi), &ifi, sizeof(ifi),
				 BPF_ANY)) {
		print_error("tx_ports: %s\n", strerror(errno));
		xdp_nic__destroy(n.skel);
		return -1;
	}
	*state = &n;
	return 0;
}

static int nic_teardown(void **state)
{
	struct nic *n = *state;

	if (n)
		xdp_nic__destroy(n->skel);
	return 0;
}

static struct nic *nic_state(void **state)
{
	skip_unless_root();
	assert_non_null(*state);
	return *state;
}

static struct xh_ip key4(uint32_t a)
{
	struct xh_ip k;

	memset(&k, 0, sizeof(k));
	k.family = XH_AF_INET;
	memcpy(k.addr, &a, 4);
	return k;
}

static struct xh_ip key6(struct in6_addr a)
{
	struct xh_ip k;

	memset(&k, 0, sizeof(k));
	k.family = XH_AF_INET6;
	memcpy(k.addr, &a, 16);
	return k;
}

static void add_pod(struct nic *n, struct xh_ip k, __u32 ifi)
{
	struct xh_pod_dest d = { .ifindex = ifi };

	memcpy(d.dst_mac, pod_mac, 6);
	memcpy(d.src_mac, xh_mac, 6);
	/* IPv4 pods in pod4_slots or pods4, as hook/setup.c puts them. */
	if (k.family == XH_AF_INET) {
		uint32_t a;

		memcpy(&a, k.addr, 4);
		assert_int_equal(xh_pod4_add(bpf_map__fd(n->skel->maps.pod4_slots),
					     bpf_map__fd(n->skel->maps.pods4), a, &d), 0);
	} else
		assert_int_equal(bpf_map__update_elem(n->skel->maps.pods, &k, sizeof(k), &d, sizeof(d),
						      BPF_ANY), 0);
}

/* One slot of ports, as hook/host.c writes it: flags added to what is
 * there, published with its sandbox port. */
static void set_port(struct nic *n, uint8_t proto, uint16_t port, uint8_t flag, uint16_t to)
{
	__u32 s = xh_port_slot(proto, port), k = s / 2;
	struct xh_port_pair v;

	assert_int_equal(bpf_map__lookup_elem(n->skel->maps.ports, &k, sizeof(k), &v, sizeof(v), 0), 0);
	v.slot[s % 2].flags |= flag;
	if (flag == XH_PORT_PUBLISHED)
		v.slot[s % 2].port = to;
	assert_int_equal(bpf_map__update_elem(n->skel->maps.ports, &k, sizeof(k), &v, sizeof(v), BPF_ANY),
			 0);
}

static void publish(struct nic *n, uint8_t proto, uint16_t host, uint16_t sandbox)
{
	set_port(n, proto, host, XH_PORT_PUBLISHED, sandbox);
}

static void reserve(struct nic *n, uint8_t proto, uint16_t port)
{
	set_port(n, proto, port, XH_PORT_RESERVED, 0);
}

/* The NIC's addresses, as hook/host.c puts them into host_mode: the
 * frames' 192.0.2.2 and 2001:db8::2 second (the program looks past the
 * first), and one more of each; a slot past n_addr4/n_addr6 is unused. */
static void nic_addrs(struct xh_host_policy *hp)
{
	struct in6_addr a = ip6("2001:db8::7"), b = ip6("2001:db8::8");

	hp->n_addr4 = 2;
	hp->addr4[0] = ip4("192.0.2.7");
	hp->addr4[1] = htonl(FRAME_IP4_DST);
	hp->addr4[2] = ip4("192.0.2.8");
	hp->n_addr6 = 2;
	memcpy(hp->addr6[0], &a, 16);
	memcpy(hp->addr6[1], &frame_ip6_dst, 16);
	memcpy(hp->addr6[2], &b, 16);
}

static void host_policy(struct nic *n, __u32 ifi, bool publish_all)
{
	struct xh_host_policy hp = {
		.ifindex = ifi,
		.publish_all = publish_all,
		.sandbox_eph_lo = SB_EPH_LO, .sandbox_eph_hi = SB_EPH_HI,
		.host_eph_lo = HOST_EPH_LO, .host_eph_hi = HOST_EPH_HI,
	};
	__u32 zero = 0;

	nic_addrs(&hp);

	assert_int_equal(bpf_map__update_elem(n->skel->maps.host_mode, &zero, sizeof(zero),
					      &hp, sizeof(hp), BPF_ANY), 0);
}

/* The host-mode sandbox of these tests: 8080/tcp -> 80, 5000/udp -> 53,
 * 2222/tcp -> 2222 published; 22/tcp, 68/udp, 546/udp reserved. */
static void host_setup(struct nic *n, bool publish_all)
{
	host_policy(n, LO, publish_all);
	publish(n, IPPROTO_TCP, 8080, 80);
	publish(n, IPPROTO_UDP, 5000, 53);
	publish(n, IPPROTO_TCP, 2222, 2222);
	reserve(n, IPPROTO_TCP, 22);
	reserve(n, IPPROTO_UDP, 68);
	reserve(n, IPPROTO_UDP, 546);
}

/* Run a flow; want_fl NULL: the frame must come out unchanged. */
static void run_flow(struct nic *n, const struct flow *in_fl, uint32_t verdict,
		     const struct flow *want_fl, const char *what)
{
	struct frame in, want;

	flow_build(&in, in_fl);
	if (want_fl)
		flow_build(&want, want_fl);
	xdp_check(n->fd, &in, NULL, verdict, want_fl ? &want : NULL, &n->t, what);
}

/* Every cut of f that leaves a header incomplete: to the kernel, as is. */
static void run_truncations(struct nic *n, const struct frame *f, const char *what)
{
	size_t len, need = parser_needs(f);
	struct frame cut;

	for (len = ETH_HLEN; len < need; len++) {
		cut = *f;
		cut.len = len;
		xdp_check(n->fd, &cut, NULL, XDP_PASS, NULL, &n->t, what);
	}
}

/* --- nothing configured ------------------------------------------------------------- */

/* With empty maps every frame, whole or cut, goes to the kernel unchanged. */
static void test_nic_unconfigured(void **state)
{
	struct nic *n = nic_state(state);
	struct frame f, cut;
	size_t i, len;

	for (i = 0; i < catalog_len; i++) {
		catalog_build(&catalog[i], &f);
		xdp_check(n->fd, &f, NULL, XDP_PASS, NULL, &n->t, catalog[i].name);
		for (len = ETH_HLEN; len < f.len; len++) {
			cut = f;
			cut.len = len;
			xdp_check(n->fd, &cut, NULL, XDP_PASS, NULL, &n->t, catalog[i].name);
		}
	}
	tally_expect(n->skel->maps.xdphook_stats, &n->t);
}

/* --- pod mode ------------------------------------------------------------------------- */

static void test_pod_v4(void **state)
{
	struct nic *n = nic_state(state);
	struct flow in = { .daddr4 = ip4("10.1.0.5"), .sport = 40000, .dport = 80,
			   .payload = 33 };
	struct flow out = in;
	char what[64];
	int ttl;

	add_pod(n, key4(ip4("10.1.0.5")), LO);
	add_pod(n, key4(ip4("10.1.0.6")), NO_DEV);

	/* Hit: MACs of the pod's veth pair, one hop less; the IPv4 checksum,
	 * updated incrementally, must equal frames.c's full recomputation
	 * for every TTL (the carries differ). */
	out.dmac = pod_mac;
	out.smac = xh_mac;
	for (ttl = 2; ttl <= 255; ttl++) {
		in.ttl = (uint8_t)ttl;
		out.ttl = (uint8_t)(ttl - 1);
		snprintf(what, sizeof(what), "pod v4 ttl %d", ttl);
		run_flow(n, &in, XDP_REDIRECT, &out, what);
	}

	/* IPv4 options and UDP: same. */
	in.ttl = out.ttl = 0;
	in.ip_opts = out.ip_opts = 12;
	in.proto = out.proto = IPPROTO_UDP;
	out.ttl = 63;
	run_flow(n, &in, XDP_REDIRECT, &out, "pod v4 options");

	/* TTL 1 and 0: the kernel sends time exceeded. */
	in.ttl = 1;
	run_flow(n, &in, XDP_PASS, NULL, "pod v4 ttl 1");
	in.ttl = 0; /* the builder's 0 means 64: set it by hand below */
	{
		struct frame f;
		struct iphdr *iph;

		flow_build(&f, &in);
		iph = frame_hdr(&f, FRAME_IPV4, 0);
		iph->ttl = 0;
		frame_fix_checksums(&f);
		xdp_check(n->fd, &f, NULL, XDP_PASS, NULL, &n->t, "pod v4 ttl 0");
	}

	/* Miss: another address, and a pod whose veth is not in tx_ports. */
	in.daddr4 = ip4("10.1.0.7");
	run_flow(n, &in, XDP_PASS, NULL, "pod v4 miss");
	in.daddr4 = ip4("10.1.0.6");
	run_flow(n, &in, XDP_PASS, NULL, "pod v4 no devmap entry");

	/* Tagged, broadcast or multicast: not forwarded. */
	in.daddr4 = ip4("10.1.0.5");
	in.vlan = 7;
	run_flow(n, &in, XDP_PASS, NULL, "pod v4 vlan");
	in.vlan = 0;
	in.dmac = (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	run_flow(n, &in, XDP_PASS, NULL, "pod v4 broadcast");
	in.dmac = (const uint8_t[6]){ 0x01, 0x00, 0x5e, 0, 0, 1 };
	run_flow(n, &in, XDP_PASS, NULL, "pod v4 multicast");

	tally_expect(n->skel->maps.xdphook_stats, &n->t);
	assert_int_equal(n->t.by_verdict[XDP_REDIRECT].packets, 254 + 1);
}

/* pod4_slots direct-maps addresses by their low 12 bits: 10.1.0.5,
 * 10.1.16.5 and 10.1.32.5 share a slot. The second and third go to the
 * pods4 hash, each still reaching its own pod; an address of the slot
 * that is no pod's, and 0.0.0.0 against a free slot, reach nobody;
 * removing the slot's holder or a hashed address leaves the others. */
static void test_pod_v4_collision(void **state)
{
	static const uint8_t mac2[6] = { 0x02, 0xaa, 0, 0, 0, 0x06 };
	struct nic *n = nic_state(state);
	int slots = bpf_map__fd(n->skel->maps.pod4_slots);
	int hash = bpf_map__fd(n->skel->maps.pods4);
	uint32_t a = ip4("10.1.0.5"), b = ip4("10.1.16.5"), c = ip4("10.1.32.5");
	struct xh_pod_dest d = { .ifindex = LO }, d2 = { .ifindex = LO };
	struct flow in = { .sport = 40000, .dport = 80 }, out;
	struct xh_pod4_slot e;
	uint32_t s = xh_pod4_slot(ntohl(a)), k;

	assert_int_equal(s, xh_pod4_slot(ntohl(b)));
	assert_int_equal(s, xh_pod4_slot(ntohl(c)));
	memcpy(d.dst_mac, pod_mac, 6);
	memcpy(d.src_mac, xh_mac, 6);
	memcpy(d2.dst_mac, mac2, 6);
	memcpy(d2.src_mac, xh_mac, 6);
	assert_int_equal(xh_pod4_add(slots, hash, a, &d), 0);
	assert_int_equal(xh_pod4_add(slots, hash, b, &d2), 0);
	/* Each address one pod's, wherever it lives. */
	assert_int_equal(xh_pod4_add(slots, hash, a, &d2), -EEXIST);
	assert_int_equal(xh_pod4_add(slots, hash, b, &d), -EEXIST);
	assert_int_equal(xh_pod4_add(slots, hash, 0, &d), -EINVAL);
	assert_int_equal(bpf_map_lookup_elem(slots, &s, &e), 0);
	assert_int_equal(e.addr, a);
	assert_int_equal(e.more, 1);
	assert_int_equal(bpf_map_lookup_elem(hash, &b, &d), 0);

	in.daddr4 = a;
	out = in;
	out.dmac = pod_mac;
	out.smac = xh_mac;
	out.ttl = 63;
	run_flow(n, &in, XDP_REDIRECT, &out, "slot holder");
	in.daddr4 = out.daddr4 = b;
	out.dmac = mac2;
	run_flow(n, &in, XDP_REDIRECT, &out, "collision, from pods4");
	in.daddr4 = c;
	run_flow(n, &in, XDP_PASS, NULL, "same slot, no pod");
	{
		/* A free slot (address 0) caught with a dest being written
		 * into it: 0.0.0.0 is still nobody's. */
		struct xh_pod4_slot half = { .dest = d };
		struct frame f;
		struct iphdr *iph;

		k = 0;
		assert_int_equal(bpf_map_update_elem(slots, &k, &half, BPF_ANY), 0);
		flow_build(&f, &in);
		iph = frame_hdr(&f, FRAME_IPV4, 0);
		iph->daddr = 0;
		frame_fix_checksums(&f);
		xdp_check(n->fd, &f, NULL, XDP_PASS, NULL, &n->t, "0.0.0.0, free slot");
	}

	/* Not ours (another device): left alone. */
	assert_int_equal(xh_pod4_del(slots, hash, a, NO_DEV), 0);
	in.daddr4 = out.daddr4 = a;
	out.dmac = pod_mac;
	run_flow(n, &in, XDP_REDIRECT, &out, "removed by another: still there");
	/* The holder goes: the hashed address stays reachable. */
	assert_int_equal(xh_pod4_del(slots, hash, a, LO), 0);
	run_flow(n, &in, XDP_PASS, NULL, "slot holder removed");
	in.daddr4 = out.daddr4 = b;
	out.dmac = mac2;
	run_flow(n, &in, XDP_REDIRECT, &out, "collision after the holder went");
	/* The last hashed address of the slot goes: more cleared. */
	assert_int_equal(xh_pod4_del(slots, hash, b, LO), 0);
	run_flow(n, &in, XDP_PASS, NULL, "hashed address removed");
	assert_int_equal(bpf_map_lookup_elem(slots, &s, &e), 0);
	assert_int_equal(e.addr, 0);
	assert_int_equal(e.more, 0);
	assert_int_not_equal(bpf_map_get_next_key(hash, NULL, &k), 0);
	/* Removing what is not there: no error. */
	assert_int_equal(xh_pod4_del(slots, hash, c, LO), 0);
	tally_expect(n->skel->maps.xdphook_stats, &n->t);
	assert_int_equal(n->t.by_verdict[XDP_REDIRECT].packets, 4);
}

static void test_pod_v6(void **state)
{
	struct nic *n = nic_state(state);
	struct flow in = { .v6 = true, .daddr6 = ip6("fd00:1::5"), .proto = IPPROTO_UDP,
			   .sport = 53, .dport = 40000, .payload = 20 };
	struct flow out = in;

	add_pod(n, key6(ip6("fd00:1::5")), LO);
	add_pod(n, key6(ip6("fd00:1::6")), NO_DEV);
	/* An IPv4 pod with the same first bytes must not match an IPv6 key. */
	add_pod(n, key4(ip4("253.0.0.1")), LO);

	out.dmac = pod_mac;
	out.smac = xh_mac;
	out.ttl = 63;
	run_flow(n, &in, XDP_REDIRECT, &out, "pod v6 udp");
	in.proto = out.proto = IPPROTO_TCP;
	in.ttl = 2;
	out.ttl = 1;
	run_flow(n, &in, XDP_REDIRECT, &out, "pod v6 tcp hop 2");

	in.ttl = 1;
	run_flow(n, &in, XDP_PASS, NULL, "pod v6 hop 1");
	in.ttl = 0;
	in.daddr6 = ip6("fd00:1::7");
	run_flow(n, &in, XDP_PASS, NULL, "pod v6 miss");
	in.daddr6 = ip6("fd00:1::6");
	run_flow(n, &in, XDP_PASS, NULL, "pod v6 no devmap entry");
	in.daddr6 = ip6("fd00:1::5");
	in.vlan = 7;
	run_flow(n, &in, XDP_PASS, NULL, "pod v6 vlan");

	tally_expect(n->skel->maps.xdphook_stats, &n->t);
	assert_int_equal(n->t.by_verdict[XDP_REDIRECT].packets, 2);
}

/* The frames xdp_nic's fast path (fast4) takes, IPv4 without options
 * carrying TCP or UDP, to a pod and to a published port of a host-mode
 * sandbox on the same NIC, cut inside a header or with a malformed L4
 * header: to the kernel, unchanged, as the general parser decides. */
static void test_fast_malformed(void **state)
{
	struct nic *n = nic_state(state);
	const struct flow flows[] = {
		{ .daddr4 = ip4("10.1.0.5"), .sport = 1, .dport = 2 },
		{ .daddr4 = ip4("10.1.0.5"), .proto = IPPROTO_UDP, .sport = 1, .dport = 2 },
		{ .sport = 1, .dport = 8080 },
		{ .proto = IPPROTO_UDP, .sport = 1, .dport = 5000 },
	};
	struct frame f, bad;

	add_pod(n, key4(ip4("10.1.0.5")), LO);
	host_setup(n, false);
	for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
		flow_build(&f, &flows[i]);
		run_truncations(n, &f, "fast path truncated");
		if (flows[i].proto == IPPROTO_UDP) {
			bad = f;
			((struct udphdr *)frame_hdr(&bad, FRAME_UDP, 0))->len = htons(7);
			xdp_check(n->fd, &bad, NULL, XDP_PASS, NULL, &n->t, "fast path udp len 7");
			continue;
		}
		bad = f;
		((struct tcphdr *)frame_hdr(&bad, FRAME_TCP, 0))->doff = 4;
		xdp_check(n->fd, &bad, NULL, XDP_PASS, NULL, &n->t, "fast path tcp doff 4");
		bad = f;
		((struct tcphdr *)frame_hdr(&bad, FRAME_TCP, 0))->doff = 15;
		xdp_check(n->fd, &bad, NULL, XDP_PASS, NULL, &n->t, "fast path tcp doff past end");
	}
	tally_expect(n->skel->maps.xdphook_stats, &n->t);
	assert_int_equal(n->t.by_verdict[XDP_REDIRECT].packets, 0);
}

/* A pod frame cut inside any header, and a pod frame whose IP header is
 * malformed: to the kernel, unchanged. */
static void test_pod_malformed(void **state)
{
	struct nic *n = nic_state(state);
	struct flow fl = { .daddr4 = ip4("10.1.0.5"), .sport = 1, .dport = 2, .ip_opts = 8 };
	struct frame f;
	struct iphdr *iph;

	add_pod(n, key4(ip4("10.1.0.5")), LO);
	add_pod(n, key6(frame_ip6_dst), LO);
	flow_build(&f, &fl);
	run_truncations(n, &f, "pod v4 truncated");
	iph = frame_hdr(&f, FRAME_IPV4, 0);
	iph->ihl = 4;
	frame_fix_checksums(&f);
	xdp_check(n->fd, &f, NULL, XDP_PASS, NULL, &n->t, "pod v4 ihl 4");

	fl = (struct flow){ .v6 = true, .proto = IPPROTO_UDP, .sport = 1, .dport = 2 };
	flow_build(&f, &fl);
	run_truncations(n, &f, "pod v6 truncated");
	tally_expect(n->skel->maps.xdphook_stats, &n->t);
	assert_int_equal(n->t.by_verdict[XDP_REDIRECT].packets, 0);
}

/* --- host mode: ports ------------------------------------------------------------------ */

/* Published ports: translated, TCP and UDP, IPv4 and IPv6, with the L4
 * checksum updated incrementally and compared with a full recomputation
 * over many different sums. */
static void test_host_publish(void **state)
{
	struct nic *n = nic_state(state);
	static const struct { bool v6; uint8_t proto; uint16_t host, sandbox; } cases[] = {
		{ false, IPPROTO_TCP, 8080, 80 }, { true, IPPROTO_TCP, 8080, 80 },
		{ false, IPPROTO_UDP, 5000, 53 }, { true, IPPROTO_UDP, 5000, 53 },
	};
	struct flow in, out;
	char what[64];
	size_t c;
	uint32_t i;

	host_setup(n, false);
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (i = 0; i < 64; i++) {
			in = (struct flow){ .v6 = cases[c].v6, .proto = cases[c].proto,
					    .sport = (uint16_t)(1024 + i * 977),
					    .dport = cases[c].host, .seq = i * 0x9e3779b9u,
					    .payload = i % 7 };
			out = in;
			out.dport = cases[c].sandbox;
			snprintf(what, sizeof(what), "publish %s/%s %u #%u",
				 cases[c].v6 ? "v6" : "v4",
				 cases[c].proto == IPPROTO_TCP ? "tcp" : "udp", cases[c].host, i);
			run_flow(n, &in, XDP_REDIRECT, &out, what);
		}
	}

	/* IPv4 options before the TCP header. */
	in = (struct flow){ .ip_opts = 40, .sport = 33333, .dport = 8080, .payload = 5 };
	out = in;
	out.dport = 80;
	run_flow(n, &in, XDP_REDIRECT, &out, "publish v4 options");

	/* Published under its own number: to the sandbox, untouched. */
	in = (struct flow){ .sport = 1234, .dport = 2222 };
	run_flow(n, &in, XDP_REDIRECT, NULL, "publish same port");

	/* Not one of the NIC's addresses (another local address, routed
	 * traffic): the host's business even for a published port. */
	in = (struct flow){ .daddr4 = ip4("192.0.2.99"), .sport = 1234, .dport = 8080 };
	run_flow(n, &in, XDP_PASS, NULL, "publish other address");
	in = (struct flow){ .v6 = true, .daddr6 = ip6("2001:db8::99"), .sport = 1234,
			    .dport = 8080 };
	run_flow(n, &in, XDP_PASS, NULL, "publish other address v6");
	/* The NIC's other address is the sandbox's too; one in a slot past
	 * the count is nobody's. */
	in = (struct flow){ .daddr4 = ip4("192.0.2.7"), .sport = 1234, .dport = 2222 };
	run_flow(n, &in, XDP_REDIRECT, NULL, "publish first address");
	in = (struct flow){ .v6 = true, .daddr6 = ip6("2001:db8::7"), .sport = 1234,
			    .dport = 2222 };
	run_flow(n, &in, XDP_REDIRECT, NULL, "publish first address v6");
	in = (struct flow){ .daddr4 = ip4("192.0.2.8"), .sport = 1234, .dport = 2222 };
	run_flow(n, &in, XDP_PASS, NULL, "publish unused slot");
	in = (struct flow){ .v6 = true, .daddr6 = ip6("2001:db8::8"), .sport = 1234,
			    .dport = 2222 };
	run_flow(n, &in, XDP_PASS, NULL, "publish unused slot v6");

	/* Written through a mapping, as hook/host.c does: one struct
	 * xh_port_pol per slot (policy.h), 9000/udp published as 9001. */
	{
		int fd = bpf_map__fd(n->skel->maps.ports);
		size_t len = XH_PORT_SLOTS * sizeof(struct xh_port_pol);
		struct xh_port_pol *slot = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		assert_true(slot != MAP_FAILED);
		slot[xh_port_slot(IPPROTO_UDP, 9000)] =
			(struct xh_port_pol){ .port = 9001, .flags = XH_PORT_PUBLISHED };
		munmap(slot, len);
		in = (struct flow){ .proto = IPPROTO_UDP, .sport = 1234, .dport = 9000 };
		out = in;
		out.dport = 9001;
		run_flow(n, &in, XDP_REDIRECT, &out, "published through the mapping");
		in.dport = 9001;
		run_flow(n, &in, XDP_PASS, NULL, "its neighbour slot");
	}

	/* ports holds TCP and UDP apart: 5000 is published for UDP only,
	 * 8080 for TCP only; the last slot of each protocol. */
	in = (struct flow){ .sport = 1234, .dport = 5000 };
	run_flow(n, &in, XDP_PASS, NULL, "5000/tcp not published");
	in = (struct flow){ .proto = IPPROTO_UDP, .sport = 1234, .dport = 8080 };
	run_flow(n, &in, XDP_PASS, NULL, "8080/udp not published");
	publish(n, IPPROTO_UDP, 65535, 65535);
	in = (struct flow){ .proto = IPPROTO_UDP, .sport = 1234, .dport = 65535 };
	run_flow(n, &in, XDP_REDIRECT, NULL, "65535/udp published");
	in = (struct flow){ .sport = 1234, .dport = 65535 };
	run_flow(n, &in, XDP_PASS, NULL, "65535/tcp not published");
	tally_expect(n->skel->maps.xdphook_stats, &n->t);
}

/* UDP checksums: 0 over IPv4 (no checksum) stays 0; a result of 0 is sent
 * as 0xffff, as a full recomputation does. */
static void test_host_udp_csum(void **state)
{
	struct nic *n = nic_state(state);
	struct flow fl = { .proto = IPPROTO_UDP, .sport = 4444, .dport = 5000, .payload = 8 };
	struct frame in, want;
	struct udphdr *uh;
	uint8_t *pl;
	uint16_t c, w;

	host_setup(n, false);

	/* Checksum 0 over IPv4: translated port, checksum still 0. */
	flow_build(&in, &fl);
	((struct udphdr *)frame_hdr(&in, FRAME_UDP, 0))->check = 0;
	fl.dport = 53;
	flow_build(&want, &fl);
	((struct udphdr *)frame_hdr(&want, FRAME_UDP, 0))->check = 0;
	xdp_check(n->fd, &in, NULL, XDP_REDIRECT, &want, &n->t, "udp csum 0");

	/* Choose the first payload word so that the translated datagram sums
	 * to 0xffff (checksum 0, sent as 0xffff): adding the current checksum
	 * to a covered word does that. */
	flow_build(&want, &fl);
	uh = frame_hdr(&want, FRAME_UDP, 0);
	pl = (uint8_t *)(uh + 1);
	c = ntohs(uh->check);
	w = (uint16_t)(pl[0] << 8 | pl[1]);
	{
		uint32_t s = (uint32_t)w + c;

		s = (s & 0xffff) + (s >> 16);
		pl[0] = (uint8_t)(s >> 8);
		pl[1] = (uint8_t)s;
	}
	frame_fix_checksums(&want);
	assert_int_equal(ntohs(uh->check), 0xffff);
	in = want;
	((struct udphdr *)frame_hdr(&in, FRAME_UDP, 0))->dest = htons(5000);
	frame_fix_checksums(&in);
	assert_int_not_equal(ntohs(((struct udphdr *)frame_hdr(&in, FRAME_UDP, 0))->check),
			     0xffff);
	xdp_check(n->fd, &in, NULL, XDP_REDIRECT, &want, &n->t, "udp csum result 0");
	tally_expect(n->skel->maps.xdphook_stats, &n->t);
}

/* Port policy without publish_all: only published ports and the sandbox's
 * ephemeral range reach the sandbox. */
static void test_host_ports(void **state)
{
	struct nic *n = nic_state(state);
	int v6;

	host_setup(n, false);
	for (v6 = 0; v6 <= 1; v6++) {
		struct flow fl = { .v6 = v6, .sport = 443 };

		fl.dport = SB_EPH_LO;
		run_flow(n, &fl, XDP_REDIRECT, NULL, "sandbox eph lo");
		fl.dport = SB_EPH_HI;
		fl.proto = IPPROTO_UDP;
		run_flow(n, &fl, XDP_REDIRECT, NULL, "sandbox eph hi udp");
		fl.proto = 0;
		fl.dport = SB_EPH_HI + 1;
		run_flow(n, &fl, XDP_PASS, NULL, "above sandbox eph");
		fl.dport = HOST_EPH_LO;
		run_flow(n, &fl, XDP_PASS, NULL, "host eph");
		fl.dport = 9999;
		run_flow(n, &fl, XDP_PASS, NULL, "unpublished");
		fl.dport = 22;
		run_flow(n, &fl, XDP_PASS, NULL, "reserved");
		/* 8080/udp is not published: the protocol is part of the key. */
		fl.proto = IPPROTO_UDP;
		fl.dport = 8080;
		run_flow(n, &fl, XDP_PASS, NULL, "8080/udp");
		/* Other protocols need publish_all. */
		fl.proto = IPPROTO_GRE;
		fl.payload = 8;
		run_flow(n, &fl, XDP_PASS, NULL, "gre");
	}

	/* A range with lo 0 is empty, whatever hi says. */
	{
		struct xh_host_policy hp = { .ifindex = LO, .sandbox_eph_hi = 60000,
					     .host_eph_hi = 60000 };
		struct flow fl = { .sport = 443, .dport = SB_EPH_LO };
		__u32 zero = 0;

		nic_addrs(&hp);
		assert_int_equal(bpf_map__update_elem(n->skel->maps.host_mode, &zero,
						      sizeof(zero), &hp, sizeof(hp), BPF_ANY), 0);
		run_flow(n, &fl, XDP_PASS, NULL, "empty sandbox range");
		hp.publish_all = 1;
		assert_int_equal(bpf_map__update_elem(n->skel->maps.host_mode, &zero,
						      sizeof(zero), &hp, sizeof(hp), BPF_ANY), 0);
		fl.dport = HOST_EPH_LO;
		run_flow(n, &fl, XDP_REDIRECT, NULL, "empty host range");
	}

	/* No host-mode sandbox (ifindex 0): nothing leaves. */
	host_policy(n, 0, true);
	{
		struct flow fl = { .sport = 1, .dport = 8080 };

		run_flow(n, &fl, XDP_PASS, NULL, "host mode off");
	}
	tally_expect(n->skel->maps.xdphook_stats, &n->t);
	assert_int_equal(n->t.by_verdict[XDP_REDIRECT].packets, 5);
}

/* publish_all: everything but reserved ports, the host's ephemeral range
 * and what the host needs (ARP, ND: see test_host_link). */
static void test_host_publish_all(void **state)
{
	struct nic *n = nic_state(state);
	struct flow out;
	int v6;

	host_setup(n, true);
	for (v6 = 0; v6 <= 1; v6++) {
		struct flow fl = { .v6 = v6, .sport = 443 };

		fl.dport = 9999;
		run_flow(n, &fl, XDP_REDIRECT, NULL, "any port");
		fl.dport = SB_EPH_LO;
		run_flow(n, &fl, XDP_REDIRECT, NULL, "sandbox eph");
		fl.dport = HOST_EPH_LO;
		run_flow(n, &fl, XDP_PASS, NULL, "host eph lo");
		fl.dport = HOST_EPH_HI;
		run_flow(n, &fl, XDP_PASS, NULL, "host eph hi");
		fl.dport = HOST_EPH_LO - 1;
		run_flow(n, &fl, XDP_REDIRECT, NULL, "below host eph");
		fl.dport = 22;
		run_flow(n, &fl, XDP_PASS, NULL, "reserve 22/tcp");
		fl.proto = IPPROTO_UDP;
		run_flow(n, &fl, XDP_REDIRECT, NULL, "22/udp not reserved");
		fl.dport = v6 ? 546 : 68;
		run_flow(n, &fl, XDP_PASS, NULL, "reserve dhcp client");
		/* Published still translates. */
		fl.dport = 5000;
		out = fl;
		out.dport = 53;
		run_flow(n, &fl, XDP_REDIRECT, &out, "publish with publish_all");
		/* Published and reserved: published wins. */
		reserve(n, IPPROTO_UDP, 5000);
		run_flow(n, &fl, XDP_REDIRECT, &out, "published and reserved");
		fl.proto = IPPROTO_GRE;
		fl.payload = 8;
		run_flow(n, &fl, XDP_REDIRECT, NULL, "gre");
	}
	tally_expect(n->skel->maps.xdphook_stats, &n->t);
}

/* The redirect must be certain before anything is rewritten: with the
 * sandbox's veth missing from tx_ports the kernel gets the frame as it
 * arrived, published port and all. */
static void test_host_no_devmap(void **state)
{
	struct nic *n = nic_state(state);
	struct flow fl = { .sport = 1234, .dport = 8080 };
	__u32 ifi = LO;

	host_setup(n, true);
	assert_int_equal(bpf_map__delete_elem(n->skel->maps.tx_ports, &ifi, sizeof(ifi), 0), 0);
	run_flow(n, &fl, XDP_PASS, NULL, "published, no devmap entry");
	fl.dport = 9999;
	run_flow(n, &fl, XDP_PASS, NULL, "publish_all, no devmap entry");
	tally_expect(n->skel->maps.xdphook_stats, &n->t);
}

/* --- every checksum value ------------------------------------------------------------- */

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

static uint16_t oc_add(uint16_t a, uint16_t b)
{
	uint32_t s = (uint32_t)a + b;

	return (uint16_t)((s & 0xffff) + (s >> 16));
}

/* Change the 16-bit word at word_off (covered by the checksum at csum_off)
 * so that frames.c's full recomputation gives `target`: with c = ~S the
 * current checksum, S' = S - w + w' must be ~target, so w' = w + ~target + c
 * (ones' complement). False in the rare case where the +0/-0 ambiguity of
 * ones' complement makes it come out as the other zero. */
static bool force_csum(struct frame *f, size_t word_off, size_t csum_off, uint16_t target)
{
	uint16_t w = get16(f->data + word_off), c = get16(f->data + csum_off);

	put16(f->data + word_off, oc_add(oc_add(w, (uint16_t)~target), c));
	frame_fix_checksums(f);
	return get16(f->data + csum_off) == target;
}

/*
 * The incremental updates against a full recomputation for every value the
 * checksum can have before the update, so every carry pattern of RFC 1624's
 * arithmetic (and the result 0) is met: the IPv4 header checksum through a
 * pod forward (TTL - 1), the TCP checksum through a published port.
 */
static void test_csum_every_value(void **state)
{
	/* Both directions of the port change: ~old + new below and above
	 * 0x10000, so that the second carry fold is needed somewhere. */
	static const uint16_t ports[][2] = { { 8080, 80 }, { 81, 65000 } };
	struct nic *n = nic_state(state);
	struct flow pod = { .daddr4 = ip4("10.1.0.5"), .sport = 1, .dport = 2 };
	struct frame in, want, tmpl_ip, tmpl_tcp[2];
	size_t ip_off, tcp_off, pl_off;
	uint32_t target, done_ip = 0, done_tcp = 0;
	int i;

	add_pod(n, key4(ip4("10.1.0.5")), LO);
	host_setup(n, false);
	publish(n, IPPROTO_TCP, 81, 65000);
	flow_build(&tmpl_ip, &pod);
	ip_off = frame_find(&tmpl_ip, FRAME_IPV4, 0)->off;
	for (i = 0; i < 2; i++) {
		struct flow pub = { .sport = 40000, .dport = ports[i][0], .payload = 2 };

		flow_build(&tmpl_tcp[i], &pub);
	}
	tcp_off = frame_find(&tmpl_tcp[0], FRAME_TCP, 0)->off;
	pl_off = frame_find(&tmpl_tcp[0], FRAME_PAYLOAD, 0)->off;

	for (target = 0; target < 0xffff; target++) {
		/* IPv4 header: the id word steers the header checksum. */
		in = tmpl_ip;
		if (force_csum(&in, ip_off + 4, ip_off + 10, (uint16_t)target)) {
			want = in;
			memcpy(want.data, pod_mac, 6);
			memcpy(want.data + 6, xh_mac, 6);
			want.data[ip_off + 8]--;
			frame_fix_checksums(&want);
			xdp_check(n->fd, &in, NULL, XDP_REDIRECT, &want, NULL, "ipv4 csum sweep");
			done_ip++;
		}
		/* TCP: the payload word steers the TCP checksum. */
		for (i = 0; i < 2; i++) {
			in = tmpl_tcp[i];
			if (!force_csum(&in, pl_off, tcp_off + 16, (uint16_t)target))
				continue;
			want = in;
			put16(want.data + tcp_off + 2, ports[i][1]);
			frame_fix_checksums(&want);
			xdp_check(n->fd, &in, NULL, XDP_REDIRECT, &want, NULL, "tcp csum sweep");
			done_tcp++;
		}
	}
	print_message("checksum sweep: %u IPv4, %u TCP values\n", done_ip, done_tcp);
	assert_true(done_ip > 0xff00 && done_tcp > 2 * 0xff00);
}

/* --- host mode: ICMP ------------------------------------------------------------------- */

/* An ICMP(v6) error from a router (the flow's default source) to the NIC
 * address, quoting `quoted` (cut to quote_l4 L4 bytes, 0: whole). */
static void icmp_error(struct frame *f, bool v6, uint8_t type, uint8_t code,
		       const struct flow *quoted, size_t quote_l4)
{
	struct frame q;

	flow_build_bare(&q, quoted, quote_l4);
	frame_init(f);
	frame_eth(f, NULL, NULL, 0);
	if (v6) {
		frame_ipv6(f, NULL);
		frame_icmp6(f, type, code, 0, type == ICMPV6_PKT_TOOBIG ? 1280 : 0);
	} else {
		frame_ipv4(f, NULL);
		frame_icmp(f, type, code, 0, 0);
	}
	frame_bytes(f, q.data, q.len);
	frame_finish(f);
}

/* The packet an error quotes: sent from the NIC address (the builder's
 * default destination) to the remote end (its default source). */
static struct flow sent(bool v6, uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct flow fl = { .v6 = v6, .proto = proto, .sport = sport, .dport = dport,
			   .payload = 24 };

	if (v6) {
		fl.saddr6 = frame_ip6_dst;
		fl.daddr6 = frame_ip6_src;
	} else {
		fl.saddr4 = htonl(FRAME_IP4_DST);
		fl.daddr4 = htonl(FRAME_IP4_SRC);
	}
	return fl;
}

static void run_error(struct nic *n, bool v6, const struct flow *quoted, size_t quote_l4,
		      uint32_t verdict, const struct flow *want_quoted, const char *what)
{
	uint8_t type = v6 ? ICMPV6_DEST_UNREACH : 3;
	uint8_t code = v6 ? ICMPV6_PORT_UNREACH : 3;
	struct frame in, want;

	icmp_error(&in, v6, type, code, quoted, quote_l4);
	if (want_quoted)
		icmp_error(&want, v6, type, code, want_quoted, quote_l4);
	xdp_check(n->fd, &in, NULL, verdict, want_quoted ? &want : NULL, &n->t, what);
}

static void test_host_icmp_errors(void **state)
{
	struct nic *n = nic_state(state);
	struct flow q, wq;
	struct frame in, want;
	int v6;

	host_setup(n, false);
	for (v6 = 0; v6 <= 1; v6++) {
		/* About a connection to a published port: the sandbox sent it
		 * from port 80, xdp_veth made that 8080; the sandbox must see
		 * its own port again, quoted checksum and ICMP checksum fixed
		 * (whole quote: the TCP checksum is in it). */
		q = sent(v6, IPPROTO_TCP, 8080, 40000);
		wq = q;
		wq.sport = 80;
		run_error(n, v6, &q, 0, XDP_REDIRECT, &wq, "error, published tcp");
		/* A minimal quote (8 bytes of TCP): ports, no checksum. */
		run_error(n, v6, &q, 8, XDP_REDIRECT, &wq, "error, published tcp, short");
		q = sent(v6, IPPROTO_UDP, 5000, 40000);
		wq = q;
		wq.sport = 53;
		run_error(n, v6, &q, 0, XDP_REDIRECT, &wq, "error, published udp");
		run_error(n, v6, &q, 8, XDP_REDIRECT, &wq, "error, published udp, 8 bytes");
		/* The sandbox's own connection, the host's own connection. */
		q = sent(v6, IPPROTO_UDP, SB_EPH_LO + 7, 53);
		run_error(n, v6, &q, 0, XDP_REDIRECT, NULL, "error, sandbox flow");
		q = sent(v6, IPPROTO_UDP, HOST_EPH_LO + 7, 53);
		run_error(n, v6, &q, 0, XDP_PASS, NULL, "error, host flow");
		/* Judged by the quoted source, not its destination port. */
		q = sent(v6, IPPROTO_TCP, HOST_EPH_LO + 7, 8080);
		run_error(n, v6, &q, 0, XDP_PASS, NULL, "error, host flow to 8080");
		q = sent(v6, IPPROTO_TCP, 9999, SB_EPH_LO);
		run_error(n, v6, &q, 0, XDP_PASS, NULL, "error, unpublished source");
		/* Other quoted protocols without publish_all: the host. */
		q = sent(v6, IPPROTO_GRE, 0, 0);
		run_error(n, v6, &q, 0, XDP_PASS, NULL, "error, gre");
		/* A quote cut inside its IP header or its ports: the host. */
		q = sent(v6, IPPROTO_TCP, 8080, 40000);
		run_error(n, v6, &q, 2, XDP_PASS, NULL, "error, ports cut");
	}

	/* An IPv4 quote with options, TCP checksum present. */
	q = sent(false, IPPROTO_TCP, 8080, 40000);
	q.ip_opts = 8;
	wq = q;
	wq.sport = 80;
	run_error(n, false, &q, 0, XDP_REDIRECT, &wq, "error, quote with options");

	/* Quoted UDP without checksum (0) keeps it. */
	q = sent(false, IPPROTO_UDP, 5000, 40000);
	wq = q;
	wq.sport = 53;
	icmp_error(&in, false, 3, 3, &q, 0);
	icmp_error(&want, false, 3, 3, &wq, 0);
	{
		size_t off = frame_find(&in, FRAME_PAYLOAD, 0)->off + 20 + 6;

		in.data[off] = in.data[off + 1] = 0;
		want.data[off] = want.data[off + 1] = 0;
		frame_fix_checksums(&in);
		frame_fix_checksums(&want);
	}
	xdp_check(n->fd, &in, NULL, XDP_REDIRECT, &want, &n->t, "error, quoted udp csum 0");

	/* Time exceeded and packet too big follow the same rule. */
	q = sent(false, IPPROTO_TCP, 8080, 40000);
	wq = q;
	wq.sport = 80;
	icmp_error(&in, false, 11, 0, &q, 0);
	icmp_error(&want, false, 11, 0, &wq, 0);
	xdp_check(n->fd, &in, NULL, XDP_REDIRECT, &want, &n->t, "time exceeded");
	q = sent(true, IPPROTO_TCP, SB_EPH_HI, 443);
	icmp_error(&in, true, ICMPV6_PKT_TOOBIG, 0, &q, 0);
	xdp_check(n->fd, &in, NULL, XDP_REDIRECT, NULL, &n->t, "packet too big");
	q = sent(true, IPPROTO_TCP, HOST_EPH_HI, 443);
	icmp_error(&in, true, ICMPV6_PKT_TOOBIG, 0, &q, 0);
	xdp_check(n->fd, &in, NULL, XDP_PASS, NULL, &n->t, "packet too big, host");

	/* With publish_all, a quoted unpublished, unreserved port is the
	 * sandbox's, a reserved one the host's. */
	host_policy(n, LO, true);
	q = sent(false, IPPROTO_TCP, 9999, 40000);
	run_error(n, false, &q, 0, XDP_REDIRECT, NULL, "error, publish_all");
	q = sent(false, IPPROTO_TCP, 22, 40000);
	run_error(n, false, &q, 0, XDP_PASS, NULL, "error, publish_all, reserved");
	q = sent(true, IPPROTO_GRE, 0, 0);
	run_error(n, true, &q, 0, XDP_REDIRECT, NULL, "error, publish_all, gre");
	tally_expect(n->skel->maps.xdphook_stats, &n->t);
}

static void echo(struct frame *f, bool v6, uint8_t type, uint16_t id)
{
	frame_init(f);
	frame_eth(f, NULL, NULL, 0);
	if (v6) {
		frame_ipv6(f, NULL);
		frame_icmp6(f, type, 0, id, 1);
	} else {
		frame_ipv4(f, NULL);
		frame_icmp(f, type, 0, id, 1);
	}
	frame_payload(f, 56);
	frame_finish(f);
}

/* An error about an echo: the quoted echo's id or kind decides. */
static void echo_error(struct frame *f, bool v6, uint8_t quoted_type, uint16_t id)
{
	struct frame q;

	frame_init(&q);
	if (v6) {
		frame_ipv6(&q, &(struct ip6_spec){ .saddr = frame_ip6_dst, .daddr = frame_ip6_src });
		frame_icmp6(&q, quoted_type, 0, id, 1);
	} else {
		frame_ipv4(&q, &(struct ip4_spec){ .saddr = htonl(FRAME_IP4_DST),
						   .daddr = htonl(FRAME_IP4_SRC) });
		frame_icmp(&q, quoted_type, 0, id, 1);
	}
	frame_payload(&q, 8);
	frame_finish(&q);
	frame_init(f);
	frame_eth(f, NULL, NULL, 0);
	if (v6) {
		frame_ipv6(f, NULL);
		frame_icmp6(f, ICMPV6_TIME_EXCEED, 0, 0, 0);
	} else {
		frame_ipv4(f, NULL);
		frame_icmp(f, 11, 0, 0, 0);
	}
	frame_bytes(f, q.data, q.len);
	frame_finish(f);
}

static void test_host_echo(void **state)
{
	struct nic *n = nic_state(state);
	struct frame f;
	int v6, all;

	host_setup(n, false);
	for (all = 0; all <= 1; all++) {
		host_policy(n, LO, all);
		for (v6 = 0; v6 <= 1; v6++) {
			uint8_t req = v6 ? ICMPV6_ECHO_REQUEST : 8;
			uint8_t rep = v6 ? ICMPV6_ECHO_REPLY : 0;

			/* Replies to the sandbox's pings (ids from its range). */
			echo(&f, v6, rep, SB_EPH_LO);
			xdp_check(n->fd, &f, NULL, XDP_REDIRECT, NULL, &n->t, "echo reply, sandbox");
			echo(&f, v6, rep, SB_EPH_HI);
			xdp_check(n->fd, &f, NULL, XDP_REDIRECT, NULL, &n->t, "echo reply, sandbox hi");
			echo(&f, v6, rep, 1);
			xdp_check(n->fd, &f, NULL, XDP_PASS, NULL, &n->t, "echo reply, host");
			/* Requests: the sandbox answers only with publish_all. */
			echo(&f, v6, req, SB_EPH_LO);
			xdp_check(n->fd, &f, NULL, all ? XDP_REDIRECT : XDP_PASS, NULL, &n->t,
				  "echo request");
			/* Errors about echoes. */
			echo_error(&f, v6, req, SB_EPH_LO + 1);
			xdp_check(n->fd, &f, NULL, XDP_REDIRECT, NULL, &n->t,
				  "error about a sandbox ping");
			echo_error(&f, v6, req, 7);
			xdp_check(n->fd, &f, NULL, XDP_PASS, NULL, &n->t, "error about a host ping");
			echo_error(&f, v6, rep, 7);
			xdp_check(n->fd, &f, NULL, all ? XDP_REDIRECT : XDP_PASS, NULL, &n->t,
				  "error about an echo reply");
		}
	}
	tally_expect(n->skel->maps.xdphook_stats, &n->t);
}

/* ARP, ND and other ICMP control messages stay with the host (tc_clone
 * copies ARP/ND to the sandbox), even with publish_all. */
static void test_host_link(void **state)
{
	static const uint8_t types6[] = { 130, 133, 134, 135, 136, 137, 143 };
	static const uint8_t types4[] = { 5, 9, 10, 13 };
	struct nic *n = nic_state(state);
	struct frame f;
	size_t i;

	host_setup(n, true);
	frame_init(&f);
	frame_eth(&f, (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, NULL, 0);
	frame_arp(&f, 1, htonl(FRAME_IP4_SRC), htonl(FRAME_IP4_DST));
	frame_finish(&f);
	xdp_check(n->fd, &f, NULL, XDP_PASS, NULL, &n->t, "arp request");
	frame_init(&f);
	frame_eth(&f, NULL, NULL, 0);
	frame_arp(&f, 2, htonl(FRAME_IP4_SRC), htonl(FRAME_IP4_DST));
	frame_finish(&f);
	xdp_check(n->fd, &f, NULL, XDP_PASS, NULL, &n->t, "arp reply");

	for (i = 0; i < sizeof(types6); i++) {
		/* Unicast to the NIC address: only the type keeps it here. */
		frame_init(&f);
		frame_eth(&f, NULL, NULL, 0);
		frame_ipv6(&f, &(struct ip6_spec){ .hop_limit = 255 });
		frame_icmp6(&f, types6[i], 0, 0, 0);
		frame_payload(&f, 24);
		frame_finish(&f);
		xdp_check(n->fd, &f, NULL, XDP_PASS, NULL, &n->t, "icmpv6 control");
	}
	/* A neighbour solicitation to the solicited-node multicast group. */
	frame_init(&f);
	frame_eth(&f, (const uint8_t[6]){ 0x33, 0x33, 0xff, 0, 0, 2 }, NULL, 0);
	frame_ipv6(&f, &(struct ip6_spec){ .daddr = ip6("ff02::1:ff00:2"), .hop_limit = 255 });
	frame_icmp6(&f, 135, 0, 0, 0);
	frame_payload(&f, 24);
	frame_finish(&f);
	xdp_check(n->fd, &f, NULL, XDP_PASS, NULL, &n->t, "neighbour solicitation");

	for (i = 0; i < sizeof(types4); i++) {
		frame_init(&f);
		frame_eth(&f, NULL, NULL, 0);
		frame_ipv4(&f, NULL);
		frame_icmp(&f, types4[i], 0, 0, 0);
		frame_payload(&f, 12);
		frame_finish(&f);
		xdp_check(n->fd, &f, NULL, XDP_PASS, NULL, &n->t, "icmp control");
	}
	tally_expect(n->skel->maps.xdphook_stats, &n->t);
	assert_int_equal(n->t.by_verdict[XDP_REDIRECT].packets, 0);
}

/* VLAN tags, broadcast, truncated and malformed frames: the host's. */
static void test_host_malformed(void **state)
{
	struct nic *n = nic_state(state);
	struct flow fl = { .sport = 1, .dport = 8080, .ip_opts = 4 };
	struct frame f;
	struct tcphdr *th;
	struct iphdr *iph;
	int v6;

	host_setup(n, true);
	for (v6 = 0; v6 <= 1; v6++) {
		fl.v6 = v6;
		fl.vlan = 100;
		run_flow(n, &fl, XDP_PASS, NULL, "vlan, published port");
		fl.vlan = 0;
		fl.dmac = (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
		run_flow(n, &fl, XDP_PASS, NULL, "broadcast, published port");
		fl.dmac = NULL;
		flow_build(&f, &fl);
		run_truncations(n, &f, "truncated, published port");
		/* A TCP header claiming more than the frame holds. */
		th = frame_hdr(&f, FRAME_TCP, 0);
		th->doff = 15;
		frame_fix_checksums(&f);
		xdp_check(n->fd, &f, NULL, XDP_PASS, NULL, &n->t, "tcp doff past end");
	}
	fl.v6 = false;
	flow_build(&f, &fl);
	iph = frame_hdr(&f, FRAME_IPV4, 0);
	iph->ihl = 15; /* options beyond the end of the frame */
	frame_fix_checksums(&f);
	xdp_check(n->fd, &f, NULL, XDP_PASS, NULL, &n->t, "ipv4 ihl past end");
	tally_expect(n->skel->maps.xdphook_stats, &n->t);
	assert_int_equal(n->t.by_verdict[XDP_REDIRECT].packets, 0);
}

/* --- host mode: fragments ----------------------------------------------------------------- */

static void fragment(struct frame *f, bool v6, uint32_t id, uint16_t offset, bool more,
		     uint16_t dport)
{
	frame_init(f);
	frame_eth(f, NULL, NULL, 0);
	if (v6) {
		frame_ipv6(f, NULL);
		frame_ipv6_frag(f, offset, more, offset ? IPPROTO_UDP : 0, id);
	} else {
		frame_ipv4(f, &(struct ip4_spec){ .id = (uint16_t)id, .frag_off = offset,
						  .more_frags = more,
						  .proto = offset ? IPPROTO_UDP : 0 });
	}
	if (!offset)
		frame_udp(f, 7777, dport);
	frame_payload(f, offset ? 40 : 32);
	frame_finish(f);
}

static uint32_t frag_record(struct nic *n, bool v6, uint32_t id)
{
	struct xh_frag_key k;
	struct xh_frag_val v;
	struct in6_addr s6 = frame_ip6_src, d6 = frame_ip6_dst;
	uint32_t s4 = htonl(FRAME_IP4_SRC), d4 = htonl(FRAME_IP4_DST);

	memset(&k, 0, sizeof(k));
	k.family = v6 ? XH_AF_INET6 : XH_AF_INET;
	k.proto = IPPROTO_UDP;
	k.id = id;
	memcpy(k.src, v6 ? (void *)&s6 : (void *)&s4, v6 ? 16 : 4);
	memcpy(k.dst, v6 ? (void *)&d6 : (void *)&d4, v6 ? 16 : 4);
	if (bpf_map__lookup_elem(n->skel->maps.frags, &k, sizeof(k), &v, sizeof(v), 0))
		return ~0u;
	return v.ifindex;
}

static void test_host_fragments(void **state)
{
	struct nic *n = nic_state(state);
	struct frame in, want;
	int v6;

	host_setup(n, false);
	for (v6 = 0; v6 <= 1; v6++) {
		uint32_t id = v6 ? 0x01020304 : 0x1234;

		/* A later fragment before any first one: the host. */
		fragment(&in, v6, id, 8, false, 0);
		xdp_check(n->fd, &in, NULL, XDP_PASS, NULL, &n->t, "later fragment, no record");
		assert_int_equal(frag_record(n, v6, id), ~0u);

		/* First fragment to a published port: translated (its UDP
		 * checksum covers the whole datagram; the incremental update
		 * is right for it too), and recorded. */
		fragment(&in, v6, id, 0, true, 5000);
		fragment(&want, v6, id, 0, true, 53);
		xdp_check(n->fd, &in, NULL, XDP_REDIRECT, &want, &n->t, "first fragment");
		assert_int_equal(frag_record(n, v6, id), LO);

		/* Its later fragments follow, untouched. */
		fragment(&in, v6, id, 5, true, 0);
		xdp_check(n->fd, &in, NULL, XDP_REDIRECT, NULL, &n->t, "middle fragment");
		fragment(&in, v6, id, 10, false, 0);
		xdp_check(n->fd, &in, NULL, XDP_REDIRECT, NULL, &n->t, "last fragment");

		/* Another datagram (id) has no record. */
		fragment(&in, v6, id + 1, 5, false, 0);
		xdp_check(n->fd, &in, NULL, XDP_PASS, NULL, &n->t, "other id");

		/* The id comes round again, this time for the host: the
		 * record is overwritten, later fragments go to the host. */
		fragment(&in, v6, id, 0, true, 9999);
		xdp_check(n->fd, &in, NULL, XDP_PASS, NULL, &n->t, "first fragment, host");
		assert_int_equal(frag_record(n, v6, id), 0);
		fragment(&in, v6, id, 5, false, 0);
		xdp_check(n->fd, &in, NULL, XDP_PASS, NULL, &n->t, "later fragment, host");
	}

	/* IPv6: the key's protocol is the fragment header's next header, the
	 * same in every fragment even when more extension headers follow it
	 * in the first one. */
	frame_init(&in);
	frame_eth(&in, NULL, NULL, 0);
	frame_ipv6(&in, NULL);
	frame_ipv6_frag(&in, 0, true, 0, 77);
	frame_ipv6_dstopts(&in, 8);
	frame_udp(&in, 7777, SB_EPH_LO);
	frame_payload(&in, 16);
	frame_finish(&in);
	xdp_check(n->fd, &in, NULL, XDP_REDIRECT, NULL, &n->t, "first fragment, dstopts");
	frame_init(&in);
	frame_eth(&in, NULL, NULL, 0);
	frame_ipv6(&in, NULL);
	frame_ipv6_frag(&in, 4, false, IPPROTO_DSTOPTS, 77);
	frame_payload(&in, 16);
	frame_finish(&in);
	xdp_check(n->fd, &in, NULL, XDP_REDIRECT, NULL, &n->t, "later fragment, dstopts");

	tally_expect(n->skel->maps.xdphook_stats, &n->t);
	assert_int_equal(n->t.by_verdict[XDP_REDIRECT].packets, 8);
}

/* --- tc_clone ------------------------------------------------------------------------------ */

/* A private netns with "nic0" (the NIC the program runs on, for the skb's
 * device and packet type) and "xh0" (the clone target), veth pairs (this
 * kernel may have no dummy driver). */
struct clone {
	struct tc_clone *skel;
	int fd;
	int saved_ns;
	unsigned int nic, xh;
};

static const char nic_mac_str[] = "02:00:00:00:00:02"; /* frame_mac_dst */

static int clone_setup(void **state)
{
	static struct clone c;

	*state = NULL;
	if (geteuid() != 0)
		return 0;
	memset(&c, 0, sizeof(c));
	c.saved_ns = netns_enter();
	if (c.saved_ns < 0)
		return -1;
	if (sh("ip link add nic0 address %s type veth peer name nicp", nic_mac_str) ||
	    sh("ip link add xh0 type veth peer name xhp") ||
	    /* The test counts xh0's transmitted frames: no IPv6 of its own
	     * (router solicitations, MLD) may add to them. */
	    sh("sysctl -qw net.ipv6.conf.xh0.disable_ipv6=1") ||
	    sh("ip link set nic0 up") || sh("ip link set nicp up") ||
	    sh("ip link set xh0 up") || sh("ip link set xhp up"))
		goto fail;
	c.nic = if_nametoindex("nic0");
	c.xh = if_nametoindex("xh0");
	c.skel = tc_clone__open_and_load();
	if (!c.nic || !c.xh || !c.skel) {
		print_error("tc_clone: setup failed: %s\n", strerror(errno));
		goto fail;
	}
	c.fd = bpf_program__fd(c.skel->progs.xdphook_clone);
	*state = &c;
	return 0;
fail:
	tc_clone__destroy(c.skel);
	netns_leave(c.saved_ns);
	return -1;
}

static int clone_teardown(void **state)
{
	struct clone *c = *state;

	if (c) {
		tc_clone__destroy(c->skel);
		netns_leave(c->saved_ns); /* the namespace and its devices go */
	}
	return 0;
}

static void clone_stats_read(struct clone *c, uint64_t out[XH_CLONE_STATS])
{
	int ncpu = libbpf_num_possible_cpus(), cpu;
	struct xdphook_counter pc[ncpu];
	__u32 k;

	for (k = 0; k < XH_CLONE_STATS; k++) {
		assert_int_equal(bpf_map__lookup_elem(c->skel->maps.clone_stats, &k, sizeof(k),
						      pc, sizeof(pc), 0), 0);
		out[k] = 0;
		for (cpu = 0; cpu < ncpu; cpu++)
			out[k] += pc[cpu].packets;
	}
}

static void set_target(struct clone *c, __u32 ifi)
{
	struct xh_clone_cfg cfg = { .ifindex = ifi };
	__u32 zero = 0;

	assert_int_equal(bpf_map__update_elem(c->skel->maps.clone_cfg, &zero, sizeof(zero),
					      &cfg, sizeof(cfg), BPF_ANY), 0);
}

static void nd_frame(struct frame *f, const uint8_t *dmac, uint8_t type, bool hopopts)
{
	frame_init(f);
	frame_eth(f, dmac, NULL, 0);
	frame_ipv6(f, &(struct ip6_spec){ .hop_limit = 255 });
	if (hopopts)
		frame_ipv6_hopopts(f, 8);
	frame_icmp6(f, type, 0, 0, 0);
	frame_payload(f, 24);
	frame_finish(f);
}

static void test_clone(void **state)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mcast6[6] = { 0x33, 0x33, 0xff, 0, 0, 2 };
	static const uint8_t other[6] = { 0x02, 0x99, 0, 0, 0, 9 };
	struct clone *c;
	struct __sk_buff ctx;
	struct frame arp, ns, na, ra, rs, redir, echo_req, mld, rr, udp, arp_other, nd_hbh;
	uint64_t st[XH_CLONE_STATS], tx0;
	struct flow fl = { .proto = IPPROTO_UDP, .sport = 1, .dport = 2 };
	int i, seen = 0;

	skip_unless_root();
	c = *state;
	assert_non_null(c);
	memset(&ctx, 0, sizeof(ctx));
	ctx.ifindex = c->nic;

	frame_init(&arp);
	frame_eth(&arp, bcast, NULL, 0);
	frame_arp(&arp, 1, htonl(FRAME_IP4_SRC), htonl(FRAME_IP4_DST));
	frame_finish(&arp);
	frame_init(&arp_other);
	frame_eth(&arp_other, other, NULL, 0);
	frame_arp(&arp_other, 2, htonl(FRAME_IP4_SRC), htonl(FRAME_IP4_DST));
	frame_finish(&arp_other);
	nd_frame(&ns, mcast6, 135, false);
	nd_frame(&na, NULL, 136, false);          /* unicast to nic0's MAC */
	nd_frame(&ra, mcast6, 134, false);
	nd_frame(&rs, mcast6, 133, false);         /* the first ND type */
	nd_frame(&redir, NULL, 137, false);        /* the last */
	nd_frame(&mld, mcast6, 132, false);        /* just outside: MLD done */
	nd_frame(&rr, mcast6, 138, false);         /* router renumbering */
	nd_frame(&echo_req, NULL, ICMPV6_ECHO_REQUEST, false);
	nd_frame(&nd_hbh, mcast6, 136, true);      /* behind a hop-by-hop header */
	flow_build(&udp, &fl);

	/* No target yet: counted, not copied, original untouched. */
	tc_check(c->fd, &arp, &ctx, TC_ACT_OK, NULL, "arp, no target");
	tc_check(c->fd, &ns, &ctx, TC_ACT_OK, NULL, "ns, no target");
	seen += 2;
	clone_stats_read(c, st);
	assert_int_equal(st[XH_CLONE_NO_TARGET], 2);
	assert_int_equal(st[XH_CLONE_ARP] + st[XH_CLONE_ND], 0);

	/* Copies reach xh0 (its tx counter), originals go on. */
	set_target(c, c->xh);
	tx0 = link_tx_packets(c->xh);
	tc_check(c->fd, &arp, &ctx, TC_ACT_OK, NULL, "arp");
	tc_check(c->fd, &ns, &ctx, TC_ACT_OK, NULL, "ns");
	tc_check(c->fd, &na, &ctx, TC_ACT_OK, NULL, "na");
	tc_check(c->fd, &ra, &ctx, TC_ACT_OK, NULL, "ra");
	tc_check(c->fd, &rs, &ctx, TC_ACT_OK, NULL, "rs");
	tc_check(c->fd, &redir, &ctx, TC_ACT_OK, NULL, "redirect");
	tc_check(c->fd, &nd_hbh, &ctx, TC_ACT_OK, NULL, "na behind hop-by-hop");
	seen += 7;
	/* Not copied: IPv4, echo, ARP for another station. */
	tc_check(c->fd, &udp, &ctx, TC_ACT_OK, NULL, "udp");
	tc_check(c->fd, &echo_req, &ctx, TC_ACT_OK, NULL, "echo");
	tc_check(c->fd, &arp_other, &ctx, TC_ACT_OK, NULL, "arp for another station");
	tc_check(c->fd, &mld, &ctx, TC_ACT_OK, NULL, "mld done");
	tc_check(c->fd, &rr, &ctx, TC_ACT_OK, NULL, "router renumbering");
	seen += 5;
	clone_stats_read(c, st);
	assert_int_equal(st[XH_CLONE_ARP], 1);
	assert_int_equal(st[XH_CLONE_ND], 6);
	assert_int_equal(st[XH_CLONE_FAIL], 0);
	/* The device counts asynchronously on some kernels: allow a moment. */
	for (i = 0; i < 50 && link_tx_packets(c->xh) < tx0 + 7; i++)
		usleep(10000);
	assert_int_equal(link_tx_packets(c->xh) - tx0, 7);

	/* A target that is down or gone: the clone fails, the host still
	 * gets the original. */
	assert_int_equal(sh("ip link set xh0 down"), 0);
	tc_check(c->fd, &arp, &ctx, TC_ACT_OK, NULL, "arp, target down");
	set_target(c, 9999);
	tc_check(c->fd, &ns, &ctx, TC_ACT_OK, NULL, "ns, no such target");
	seen += 2;
	clone_stats_read(c, st);
	assert_int_equal(st[XH_CLONE_FAIL], 2);
	assert_int_equal(st[XH_CLONE_ARP], 1);
	assert_int_equal(st[XH_CLONE_ND], 6);
	assert_int_equal(st[XH_CLONE_SEEN], seen);
}

int nic_tests(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, nic_setup, nic_teardown)
		T(test_nic_unconfigured),
		T(test_pod_v4),
		T(test_pod_v6),
		T(test_pod_malformed),
		T(test_pod_v4_collision),
		T(test_fast_malformed),
		T(test_host_publish),
		T(test_host_udp_csum),
		T(test_host_ports),
		T(test_host_publish_all),
		T(test_host_no_devmap),
		T(test_host_icmp_errors),
		T(test_host_echo),
		T(test_host_link),
		T(test_host_malformed),
		T(test_host_fragments),
		T(test_csum_every_value),
#undef T
		cmocka_unit_test_setup_teardown(test_clone, clone_setup, clone_teardown),
	};

	return cmocka_run_group_tests_name("nic", tests, NULL, NULL);
}
