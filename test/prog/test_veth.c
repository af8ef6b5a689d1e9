// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bpf/xdp_veth.bpf.c (what the sandbox sends, on the host-side veth) under
 * BPF_PROG_TEST_RUN: the source check, the pod-mode fast path with a real
 * bpf_fib_lookup() in a private network namespace, and the host-mode port
 * translation. Output frames are compared with frames built independently
 * (checksums recomputed in full by frames.c), counters with what ran.
 *
 * One program serves every container's veth, its maps keyed by the ingress
 * device: every frame runs with ctx->ingress_ifindex set (the loopback
 * device unless a test says otherwise), entries are written for that
 * device, and the counters read are that device's. test_veth_devices runs
 * two devices with different configurations side by side.
 */
#include "hook_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <xdphook/policy.h>

#include "xdp_veth.skel.h"

/* The sandbox: the builder's default source MAC (frame_arp() announces it
 * too), addresses 10.1.0.5 and fd00:1::5 in pod mode. */
#define SANDBOX_MAC frame_mac_src
static const uint8_t xh_mac[6] = { 0x02, 0xbb, 0, 0, 0, 0x01 };
static const uint8_t evil_mac[6] = { 0x02, 0x66, 0, 0, 0, 0x66 };

/* The loopback device: always there, the one BPF_PROG_TEST_RUN uses
 * when the context names none. */
#define LO_IFINDEX 1

struct veth {
	struct xdp_veth *skel;
	int fd;
	unsigned int dev;         /* ingress device of the frames run */
	struct tally t;           /* what ran on dev */
	int saved_ns;             /* fast path test: the namespace we left */
	unsigned int xh, nic;     /* ... and its devices */
};

static void add_src_ip_on(struct veth *v, unsigned int dev, bool v6, const char *addr)
{
	struct xh_veth_ip k;
	uint8_t one = 1;

	memset(&k, 0, sizeof(k));
	k.ifindex = dev;
	if (v6) {
		struct in6_addr a = ip6(addr);

		k.ip.family = XH_AF_INET6;
		memcpy(k.ip.addr, &a, 16);
	} else {
		uint32_t a = ip4(addr);

		k.ip.family = XH_AF_INET;
		memcpy(k.ip.addr, &a, 4);
	}
	assert_int_equal(bpf_map__update_elem(v->skel->maps.src_ips, &k, sizeof(k), &one, 1,
					      BPF_ANY), 0);
}

static void add_src_ip(struct veth *v, bool v6, const char *addr)
{
	add_src_ip_on(v, v->dev, v6, addr);
}

/* veth_dev[dev], as the hook writes it: the configuration in every
 * CPU's copy, counters at zero. */
static void set_dev(struct veth *v, unsigned int dev, const struct xh_veth_cfg *cfg)
{
	int ncpu = libbpf_num_possible_cpus(), cpu;
	struct xh_veth_dev *val;
	__u32 key = dev;

	assert_true(ncpu > 0);
	val = calloc((size_t)ncpu, sizeof(*val));
	assert_non_null(val);
	for (cpu = 0; cpu < ncpu; cpu++)
		val[cpu].cfg = *cfg;
	assert_int_equal(bpf_map__update_elem(v->skel->maps.veth_dev, &key, sizeof(key), val,
					      sizeof(*val) * ncpu, BPF_ANY), 0);
	free(val);
}

static void set_cfg_on(struct veth *v, unsigned int dev, uint32_t mode, uint32_t nic_ifindex,
		       const uint8_t *mac)
{
	struct xh_veth_cfg cfg = { .mode = mode, .nic_ifindex = nic_ifindex };

	memcpy(cfg.sandbox_mac, mac, 6);
	set_dev(v, dev, &cfg);
}

static void set_cfg(struct veth *v, uint32_t mode, uint32_t nic_ifindex)
{
	set_cfg_on(v, v->dev, mode, nic_ifindex, SANDBOX_MAC);
}

static void add_fastpath_on(struct veth *v, unsigned int dev, const char *prefix, unsigned int len)
{
	struct xh_veth_lpm_key k;
	uint8_t one = 1;

	memset(&k, 0, sizeof(k));
	k.ifindex = dev;
	if (strchr(prefix, ':')) {
		struct in6_addr a = ip6(prefix);

		k.family = XH_AF_INET6;
		memcpy(k.addr, &a, 16);
	} else {
		uint32_t a = ip4(prefix);

		k.family = XH_AF_INET;
		memcpy(k.addr, &a, 4);
	}
	k.prefixlen = XH_VETH_LPM_PREFIX(len);
	assert_int_equal(bpf_map__update_elem(v->skel->maps.fastpath, &k, sizeof(k), &one, 1,
					      BPF_ANY), 0);
}

static void add_fastpath(struct veth *v, const char *prefix, unsigned int len)
{
	add_fastpath_on(v, v->dev, prefix, len);
}

static void add_publish_rev_on(struct veth *v, unsigned int dev, uint8_t proto, uint16_t sandbox_port,
			       uint16_t host_port)
{
	struct xh_veth_port k = { .ifindex = dev, .port = { .proto = proto, .port = sandbox_port } };
	struct xh_port_val val = { .port = host_port };

	assert_int_equal(bpf_map__update_elem(v->skel->maps.publish_rev, &k, sizeof(k), &val,
					      sizeof(val), BPF_ANY), 0);
}

/* The per-device counters of dev must equal t (dev 0: the catch-all). */
static void expect_counted(struct veth *v, unsigned int dev, const struct tally *t)
{
	tally_expect_dev(v->skel->maps.veth_dev, sizeof(struct xh_veth_dev), dev, t);
}

static int veth_load(struct veth *v)
{
	v->skel = xdp_veth__open_and_load();
	if (!v->skel) {
		print_error("xdp_veth: open/load failed: %s\n", strerror(errno));
		return -1;
	}
	v->fd = bpf_program__fd(v->skel->progs.xdphook_veth);
	v->dev = LO_IFINDEX;
	/* The catch-all entry, as the hook creates it with the program: no
	 * configuration, counters. */
	set_dev(v, 0, &(struct xh_veth_cfg){ 0 });
	return 0;
}

/* Run a frame on the device v->dev (the program's only notion of which
 * container sent it), or on dev. */
static void check_on(struct veth *v, unsigned int dev, struct tally *t, const struct frame *in,
		     uint32_t verdict, const struct frame *want, const char *what)
{
	struct xdp_md ctx = { .ingress_ifindex = dev };

	xdp_check(v->fd, in, &ctx, verdict, want, t, what);
}

static void check(struct veth *v, const struct frame *in, uint32_t verdict, const struct frame *want,
		  const char *what)
{
	check_on(v, v->dev, &v->t, in, verdict, want, what);
}

static int veth_setup(void **state)
{
	static struct veth v;

	*state = NULL;
	if (geteuid() != 0)
		return 0;
	memset(&v, 0, sizeof(v));
	v.saved_ns = -1;
	if (veth_load(&v))
		return -1;
	*state = &v;
	return 0;
}

static int veth_teardown(void **state)
{
	struct veth *v = *state;

	if (v) {
		xdp_veth__destroy(v->skel);
		netns_leave(v->saved_ns);
	}
	return 0;
}

static struct veth *veth_state(void **state)
{
	skip_unless_root();
	assert_non_null(*state);
	return *state;
}

/* A pod-mode flow from the sandbox to `dst`. */
static struct flow from_pod(bool v6, const char *dst)
{
	struct flow fl = { .v6 = v6, .dmac = xh_mac, .smac = SANDBOX_MAC, .sport = 40000,
			   .dport = 443, .payload = 17 };

	if (v6) {
		fl.saddr6 = ip6("fd00:1::5");
		fl.daddr6 = ip6(dst);
	} else {
		fl.saddr4 = ip4("10.1.0.5");
		fl.daddr4 = ip4(dst);
	}
	return fl;
}

static void run_on(struct veth *v, unsigned int dev, struct tally *t, const struct flow *in_fl,
		   uint32_t verdict, const struct flow *want_fl, const char *what)
{
	struct frame in, want;

	flow_build(&in, in_fl);
	if (want_fl)
		flow_build(&want, want_fl);
	check_on(v, dev, t, &in, verdict, want_fl ? &want : NULL, what);
}

static void run(struct veth *v, const struct flow *in_fl, uint32_t verdict, const struct flow *want_fl,
		const char *what)
{
	run_on(v, v->dev, &v->t, in_fl, verdict, want_fl, what);
}

static void arp(struct frame *f, const uint8_t *eth_src, uint16_t op, const char *sip,
		const char *tip)
{
	frame_init(f);
	frame_eth(f, (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, eth_src, 0);
	frame_arp(f, op, ip4(sip), ip4(tip));
	frame_finish(f);
}

/* Make the IPv6 source of f :: (the builder reads :: as "default"). */
static void ip6_src_unspecified(struct frame *f)
{
	memset(f->data + frame_find(f, FRAME_IPV6, 0)->off + 8, 0, 16);
	frame_fix_checksums(f);
}

/* ND (or any ICMPv6) from the sandbox with source `src`. */
static void icmp6_from(struct frame *f, const char *src, const char *dst, uint8_t type)
{
	frame_init(f);
	frame_eth(f, (const uint8_t[6]){ 0x33, 0x33, 0, 0, 0, 1 }, SANDBOX_MAC, 0);
	frame_ipv6(f, &(struct ip6_spec){ .saddr = ip6(src), .daddr = ip6(dst),
					  .hop_limit = 255 });
	frame_icmp6(f, type, 0, 0, 0);
	frame_payload(f, 24);
	frame_finish(f);
	if (strcmp(src, "::") == 0)
		ip6_src_unspecified(f);
}

/* --- source check ----------------------------------------------------------------------- */

/* A device without an entry cannot have its source checked: all dropped,
 * counted under the catch-all entry. */
static void test_veth_unconfigured(void **state)
{
	struct veth *v = veth_state(state);
	struct tally none = { 0 };
	struct frame f;
	size_t i;

	for (i = 0; i < catalog_len; i++) {
		catalog_build(&catalog[i], &f);
		check_on(v, v->dev, &none, &f, XDP_DROP, NULL, catalog[i].name);
	}
	/* The context naming no device is the loopback too. */
	catalog_build(&catalog[0], &f);
	xdp_check(v->fd, &f, NULL, XDP_DROP, NULL, &none, "no ingress device given");
	expect_counted(v, 0, &none);
	/* An unknown mode is no configuration either; counted as the
	 * device's own from the moment it has an entry. */
	set_cfg(v, 7, 1);
	check(v, &f, XDP_DROP, NULL, "unknown mode");
	expect_counted(v, v->dev, &v->t);
	expect_counted(v, 0, &none);
}

static void test_veth_source(void **state)
{
	struct veth *v = veth_state(state);
	struct flow fl;
	struct frame f;
	int v6;

	set_cfg(v, XH_POD, 1);
	add_src_ip(v, false, "10.1.0.5");
	add_src_ip(v, true, "fd00:1::5");

	for (v6 = 0; v6 <= 1; v6++) {
		/* Own MAC and address, no fast path: the kernel routes it. */
		fl = from_pod(v6, v6 ? "2001:db8:9::9" : "198.18.0.9");
		run(v, &fl, XDP_PASS, NULL, "own source");
		fl.proto = IPPROTO_UDP;
		run(v, &fl, XDP_PASS, NULL, "own source udp");
		fl.proto = 0;

		fl.smac = evil_mac;
		run(v, &fl, XDP_DROP, NULL, "spoofed MAC");
		fl.smac = SANDBOX_MAC;
		if (v6)
			fl.saddr6 = ip6("fd00:1::6");
		else
			fl.saddr4 = ip4("10.1.0.6");
		run(v, &fl, XDP_DROP, NULL, "spoofed IP");
		/* The other family's address does not count. */
		if (v6)
			fl.saddr6 = ip6("::ffff:10.1.0.5");
		run(v, &fl, XDP_DROP, NULL, "spoofed IP 2");

		/* Tagged frames are nothing a sandbox may send. */
		fl = from_pod(v6, v6 ? "2001:db8:9::9" : "198.18.0.9");
		fl.vlan = 5;
		run(v, &fl, XDP_DROP, NULL, "vlan");
	}

	/* ARP: the sandbox speaks for itself only. */
	arp(&f, SANDBOX_MAC, 1, "10.1.0.5", "169.254.1.1");
	check(v, &f, XDP_PASS, NULL, "arp request");
	arp(&f, SANDBOX_MAC, 2, "10.1.0.5", "169.254.1.1");
	check(v, &f, XDP_PASS, NULL, "arp reply");
	arp(&f, SANDBOX_MAC, 1, "0.0.0.0", "10.1.0.5");
	check(v, &f, XDP_PASS, NULL, "arp probe");
	arp(&f, SANDBOX_MAC, 2, "10.1.0.1", "10.1.0.9");
	check(v, &f, XDP_DROP, NULL, "arp spoofed sender IP");
	arp(&f, evil_mac, 1, "10.1.0.5", "169.254.1.1");
	check(v, &f, XDP_DROP, NULL, "arp spoofed Ethernet source");
	arp(&f, SANDBOX_MAC, 2, "10.1.0.5", "169.254.1.1");
	memcpy(f.data + frame_find(&f, FRAME_ARP, 0)->off + 8, evil_mac, 6);
	check(v, &f, XDP_DROP, NULL, "arp spoofed sender MAC");
	arp(&f, SANDBOX_MAC, 1, "10.1.0.5", "169.254.1.1");
	f.data[frame_find(&f, FRAME_ARP, 0)->off + 1] = 6; /* hardware type IEEE 802 */
	check(v, &f, XDP_DROP, NULL, "arp other hardware type");
	arp(&f, SANDBOX_MAC, 1, "10.1.0.5", "169.254.1.1");
	f.len -= 1;
	check(v, &f, XDP_DROP, NULL, "arp truncated");

	/* IPv6 link-local (any protocol) and :: (ICMPv6: DAD, MLD) from the
	 * sandbox's MAC: to the kernel (ND with the gateway). */
	icmp6_from(&f, "fe80::5", "ff02::1:ff00:1", 135);
	check(v, &f, XDP_PASS, NULL, "ns from link-local");
	icmp6_from(&f, "febf::5", "ff02::2", 133);
	check(v, &f, XDP_PASS, NULL, "rs from fe80::/10");
	icmp6_from(&f, "::", "ff02::1:ff00:5", 135);
	check(v, &f, XDP_PASS, NULL, "dad from ::");
	icmp6_from(&f, "fec0::5", "ff02::2", 133);
	check(v, &f, XDP_DROP, NULL, "site-local is no link-local");
	icmp6_from(&f, "fe80::5", "ff02::1:ff00:1", 135);
	memcpy(f.data + 6, evil_mac, 6);
	check(v, &f, XDP_DROP, NULL, "link-local, spoofed MAC");
	fl = from_pod(true, "fe80::1");
	fl.saddr6 = ip6("fe80::5");
	run(v, &fl, XDP_PASS, NULL, "tcp from link-local");
	fl.proto = IPPROTO_UDP;
	flow_build(&f, &fl);
	ip6_src_unspecified(&f);
	check(v, &f, XDP_DROP, NULL, "udp from ::");

	/* Other EtherTypes, unparseable frames: dropped. */
	frame_init(&f);
	frame_eth(&f, xh_mac, SANDBOX_MAC, 0x88cc); /* LLDP */
	frame_payload(&f, 40);
	frame_finish(&f);
	check(v, &f, XDP_DROP, NULL, "lldp");
	fl = from_pod(false, "198.18.0.9");
	flow_build(&f, &fl);
	{
		size_t need = parser_needs(&f), len;
		struct frame cut;

		for (len = ETH_HLEN; len < need; len++) {
			cut = f;
			cut.len = len;
			check(v, &cut, XDP_DROP, NULL, "truncated");
		}
	}
	((struct iphdr *)frame_hdr(&f, FRAME_IPV4, 0))->ihl = 4;
	frame_fix_checksums(&f);
	check(v, &f, XDP_DROP, NULL, "ihl 4");

	expect_counted(v, v->dev, &v->t);
}

/* --- pod mode: fast path ------------------------------------------------------------------ */

/*
 * bpf_fib_lookup() asks the FIB of the ingress device's namespace, so the
 * test builds one: a private netns with
 *   xh0  (veth, peer xhp)    the container's host-side veth: ingress
 *   nic0 (veth, peer nicp)   the NIC: 198.51.100.1/24, 2001:db8:100::1/64,
 *                            MAC 02:00:00:00:01:01; neighbours .7/::7 and
 *                            .70, .200 (permanent); 192.0.2.0/24 via .7
 *   oth0 (veth, peer othp)   another device: 203.0.113.1/24, neighbour .7
 *   a rule: from xh0 to 198.51.100.64/26 through oth0 (table 100), which
 *   the lookup must honour (flags 0: FIB rules; ifindex: the ingress)
 *   xh1  (veth, peer xh1p)   a second container's veth, with a fast path
 *                            of its own: 192.0.2.0/24 only
 * forwarding on. Fast path prefixes of xh0: 198.51.100.0/25, 192.0.2.0/24,
 * 203.0.113.0/24, 2001:db8:100::/64.
 */
static const char nic_mac_s[] = "02:00:00:00:01:01";
static const char nbr_mac_s[] = "02:00:00:00:01:07";

static int fastpath_setup(void **state)
{
	static struct veth v;
	int ns;

	*state = NULL;
	if (geteuid() != 0)
		return 0;
	memset(&v, 0, sizeof(v));
	ns = netns_enter();
	if (ns < 0)
		return -1;
	v.saved_ns = ns;
	if (sh("ip link add xh0 type veth peer name xhp") ||
	    sh("ip link add xh1 type veth peer name xh1p") ||
	    sh("ip link add nic0 address %s type veth peer name nicp", nic_mac_s) ||
	    sh("ip link add oth0 type veth peer name othp") ||
	    sh("for d in xh0 xhp xh1 xh1p nic0 nicp oth0 othp; do ip link set $d up || exit 1; done") ||
	    sh("ip addr add 198.51.100.1/24 dev nic0") ||
	    sh("ip -6 addr add 2001:db8:100::1/64 dev nic0 nodad") ||
	    sh("ip addr add 203.0.113.1/24 dev oth0") ||
	    sh("ip neigh add 198.51.100.7 lladdr %s dev nic0 nud permanent", nbr_mac_s) ||
	    sh("ip neigh add 198.51.100.200 lladdr %s dev nic0 nud permanent", nbr_mac_s) ||
	    sh("ip -6 neigh add 2001:db8:100::7 lladdr %s dev nic0 nud permanent", nbr_mac_s) ||
	    sh("ip neigh add 203.0.113.7 lladdr %s dev oth0 nud permanent", nbr_mac_s) ||
	    sh("ip route add 192.0.2.0/24 via 198.51.100.7") ||
	    sh("ip neigh add 198.51.100.70 lladdr %s dev nic0 nud permanent", nbr_mac_s) ||
	    sh("ip route add 198.51.100.64/26 dev oth0 table 100") ||
	    sh("ip rule add iif xh0 to 198.51.100.64/26 lookup 100"))
		goto fail;
	v.xh = if_nametoindex("xh0");
	v.nic = if_nametoindex("nic0");
	if (!v.xh || !v.nic || veth_load(&v))
		goto fail;
	/* bpf_fib_lookup() routes from the ingress device: xh0. */
	v.dev = v.xh;
	*state = &v;
	return 0;
fail:
	netns_leave(ns);
	return -1;
}

static void set_forwarding(bool on)
{
	write_file("/proc/sys/net/ipv4/ip_forward", on ? "1" : "0");
	write_file("/proc/sys/net/ipv6/conf/all/forwarding", on ? "1" : "0");
}

static void test_veth_fastpath(void **state)
{
	struct veth *v = veth_state(state);
	uint8_t nic_mac[6], nbr_mac[6];
	struct flow in, out;

	mac_parse(nic_mac_s, nic_mac);
	mac_parse(nbr_mac_s, nbr_mac);
	set_forwarding(true);
	set_cfg(v, XH_POD, v->nic);
	add_src_ip(v, false, "10.1.0.5");
	add_src_ip(v, true, "fd00:1::5");
	add_fastpath(v, "198.51.100.0", 25);
	add_fastpath(v, "192.0.2.0", 24);
	add_fastpath(v, "203.0.113.0", 24);
	add_fastpath(v, "2001:db8:100::", 64);

	/* Hit: MACs from the FIB and the neighbour table, one hop less. */
	in = from_pod(false, "198.51.100.7");
	out = in;
	out.dmac = nbr_mac;
	out.smac = nic_mac;
	out.ttl = 63;
	run(v, &in, XDP_REDIRECT, &out, "fast path v4");
	in.ip_opts = out.ip_opts = 8;
	in.proto = out.proto = IPPROTO_UDP;
	in.ttl = 2;
	out.ttl = 1;
	run(v, &in, XDP_REDIRECT, &out, "fast path v4 options udp ttl 2");
	/* Through the gateway: its MAC. */
	in = from_pod(false, "192.0.2.55");
	out = in;
	out.dmac = nbr_mac;
	out.smac = nic_mac;
	out.ttl = 63;
	run(v, &in, XDP_REDIRECT, &out, "fast path v4 via gateway");
	in = from_pod(true, "2001:db8:100::7");
	out = in;
	out.dmac = nbr_mac;
	out.smac = nic_mac;
	out.ttl = 63;
	run(v, &in, XDP_REDIRECT, &out, "fast path v6");

	/* The kernel's turn: TTL 1, no neighbour yet, another device, not a
	 * fast-path prefix (although routable), too big for the MTU, a
	 * link-local source, forwarding off. */
	in = from_pod(false, "198.51.100.7");
	in.ttl = 1;
	run(v, &in, XDP_PASS, NULL, "ttl 1");
	in = from_pod(true, "2001:db8:100::7");
	in.ttl = 1;
	run(v, &in, XDP_PASS, NULL, "hop limit 1");
	in = from_pod(false, "198.51.100.8");
	run(v, &in, XDP_PASS, NULL, "no neighbour");
	in = from_pod(true, "2001:db8:100::8");
	run(v, &in, XDP_PASS, NULL, "no neighbour v6");
	in = from_pod(false, "203.0.113.7");
	run(v, &in, XDP_PASS, NULL, "other device");
	in = from_pod(false, "198.51.100.70");
	run(v, &in, XDP_PASS, NULL, "other device by policy rule");
	in = from_pod(false, "198.51.100.200");
	run(v, &in, XDP_PASS, NULL, "not a fast-path prefix");
	in = from_pod(false, "198.51.100.7");
	in.payload = 1500;
	run(v, &in, XDP_PASS, NULL, "bigger than the MTU");
	in = from_pod(true, "2001:db8:100::7");
	in.saddr6 = ip6("fe80::5");
	run(v, &in, XDP_PASS, NULL, "link-local source");
	set_forwarding(false);
	in = from_pod(false, "198.51.100.7");
	run(v, &in, XDP_PASS, NULL, "forwarding off");
	set_forwarding(true);
	/* Spoofed sources never get as far as the lookup. */
	in.saddr4 = ip4("198.51.100.9");
	run(v, &in, XDP_DROP, NULL, "spoofed, fast-path destination");

	expect_counted(v, v->dev, &v->t);
	assert_int_equal(v->t.by_verdict[XDP_REDIRECT].packets, 4);
}

/* Two containers' veths: each has its own fast-path prefixes (the trie is
 * keyed by the ingress device first). */
static void test_veth_fastpath_per_device(void **state)
{
	struct veth *v = veth_state(state);
	unsigned int xh1 = ifindex("xh1");
	struct tally t1 = { 0 };
	uint8_t nic_mac[6], nbr_mac[6];
	struct flow in, out;

	mac_parse(nic_mac_s, nic_mac);
	mac_parse(nbr_mac_s, nbr_mac);
	set_forwarding(true);
	set_cfg(v, XH_POD, v->nic);
	add_src_ip(v, false, "10.1.0.5");
	add_fastpath(v, "198.51.100.0", 25);
	set_cfg_on(v, xh1, XH_POD, v->nic, SANDBOX_MAC);
	add_src_ip_on(v, xh1, false, "10.1.0.5");
	add_fastpath_on(v, xh1, "192.0.2.0", 24);

	in = from_pod(false, "198.51.100.7");
	out = in;
	out.dmac = nbr_mac;
	out.smac = nic_mac;
	out.ttl = 63;
	run(v, &in, XDP_REDIRECT, &out, "xh0: its prefix");
	run_on(v, xh1, &t1, &in, XDP_PASS, NULL, "xh1: xh0's prefix is not its own");
	in = from_pod(false, "192.0.2.55");
	out = in;
	out.dmac = nbr_mac;
	out.smac = nic_mac;
	out.ttl = 63;
	run_on(v, xh1, &t1, &in, XDP_REDIRECT, &out, "xh1: its prefix");
	run(v, &in, XDP_PASS, NULL, "xh0: xh1's prefix is not its own");

	expect_counted(v, v->dev, &v->t);
	expect_counted(v, xh1, &t1);
}

/* --- host mode --------------------------------------------------------------------------- */

/* The host-mode sandbox owns the NIC's addresses (the builder's default
 * destinations) and MAC; 80/tcp is published as 8080, 53/udp as 5000. */
static void host_setup(struct veth *v)
{
	set_cfg(v, XH_HOST, 77);
	add_src_ip(v, false, "192.0.2.2");
	add_src_ip(v, true, "2001:db8::2");
	add_publish_rev_on(v, v->dev, IPPROTO_TCP, 80, 8080);
	add_publish_rev_on(v, v->dev, IPPROTO_UDP, 53, 5000);
}

/* From the host-mode sandbox (NIC address) to the remote end. */
static struct flow from_host(bool v6, uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct flow fl = { .v6 = v6, .proto = proto, .sport = sport, .dport = dport,
			   .smac = SANDBOX_MAC, .payload = 9 };

	if (v6) {
		fl.saddr6 = frame_ip6_dst;
		fl.daddr6 = frame_ip6_src;
	} else {
		fl.saddr4 = htonl(FRAME_IP4_DST);
		fl.daddr4 = htonl(FRAME_IP4_SRC);
	}
	return fl;
}

/* An ICMP error from the sandbox about `quoted` (a packet it received). */
static void error_from_host(struct frame *f, bool v6, const struct flow *quoted,
			    size_t quote_l4)
{
	struct frame q;

	flow_build_bare(&q, quoted, quote_l4);
	frame_init(f);
	frame_eth(f, NULL, SANDBOX_MAC, 0);
	if (v6) {
		frame_ipv6(f, &(struct ip6_spec){ .saddr = frame_ip6_dst, .daddr = frame_ip6_src });
		frame_icmp6(f, ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH, 0, 0);
	} else {
		frame_ipv4(f, &(struct ip4_spec){ .saddr = htonl(FRAME_IP4_DST),
						  .daddr = htonl(FRAME_IP4_SRC) });
		frame_icmp(f, 3, 3, 0, 0);
	}
	frame_bytes(f, q.data, q.len);
	frame_finish(f);
}

static void test_veth_host(void **state)
{
	struct veth *v = veth_state(state);
	struct flow in, out, q, wq;
	struct frame f, want;
	char what[64];
	uint32_t i;
	int v6;

	host_setup(v);
	for (v6 = 0; v6 <= 1; v6++) {
		/* Published sandbox ports leave as the host's, checksums
		 * compared with a full recomputation over many sums. */
		for (i = 0; i < 32; i++) {
			in = from_host(v6, i & 1 ? IPPROTO_UDP : IPPROTO_TCP, i & 1 ? 53 : 80,
				       (uint16_t)(1024 + i * 1543));
			in.seq = i * 0x9e3779b9u;
			in.payload = i % 5;
			out = in;
			out.sport = i & 1 ? 5000 : 8080;
			snprintf(what, sizeof(what), "published source %s #%u", v6 ? "v6" : "v4", i);
			run(v, &in, XDP_REDIRECT, &out, what);
		}
		/* Everything else leaves unchanged. */
		in = from_host(v6, IPPROTO_TCP, 40000, 80);
		run(v, &in, XDP_REDIRECT, NULL, "unpublished source");
		in = from_host(v6, IPPROTO_UDP, 80, 53);
		run(v, &in, XDP_REDIRECT, NULL, "80/udp not published");
		in = from_host(v6, IPPROTO_GRE, 0, 0);
		run(v, &in, XDP_REDIRECT, NULL, "gre");
		/* Still source-checked. */
		in = from_host(v6, IPPROTO_TCP, 80, 1234);
		in.smac = evil_mac;
		run(v, &in, XDP_DROP, NULL, "spoofed MAC");
		in.smac = SANDBOX_MAC;
		if (v6)
			in.saddr6 = ip6("2001:db8::3");
		else
			in.saddr4 = ip4("192.0.2.3");
		run(v, &in, XDP_DROP, NULL, "spoofed IP");

		/* An error about a packet the sandbox received on its port 80
		 * (the remote end sent it to 8080): quoted destination port
		 * and checksums as the remote end knows them. */
		q = from_host(v6, IPPROTO_TCP, 33000, 80);
		if (v6) {
			q.saddr6 = frame_ip6_src;
			q.daddr6 = frame_ip6_dst;
		} else {
			q.saddr4 = htonl(FRAME_IP4_SRC);
			q.daddr4 = htonl(FRAME_IP4_DST);
		}
		wq = q;
		wq.dport = 8080;
		error_from_host(&f, v6, &q, 0);
		error_from_host(&want, v6, &wq, 0);
		check(v, &f, XDP_REDIRECT, &want, "error about 80/tcp");
		error_from_host(&f, v6, &q, 8);
		error_from_host(&want, v6, &wq, 8);
		check(v, &f, XDP_REDIRECT, &want, "error, short quote");
		q.proto = wq.proto = IPPROTO_UDP;
		q.dport = 53;
		wq.dport = 5000;
		error_from_host(&f, v6, &q, 0);
		error_from_host(&want, v6, &wq, 0);
		check(v, &f, XDP_REDIRECT, &want, "error about 53/udp");
		q.dport = 54;
		error_from_host(&f, v6, &q, 0);
		check(v, &f, XDP_REDIRECT, NULL, "error about 54/udp");
	}

	/* ARP and ND go out too (replies come back through tc_clone). */
	arp(&f, SANDBOX_MAC, 1, "192.0.2.2", "192.0.2.1");
	check(v, &f, XDP_REDIRECT, NULL, "arp");
	arp(&f, SANDBOX_MAC, 1, "10.1.0.5", "192.0.2.1");
	check(v, &f, XDP_DROP, NULL, "arp spoofed");
	icmp6_from(&f, "fe80::2", "ff02::1:ff00:1", 135);
	check(v, &f, XDP_REDIRECT, NULL, "ns");

	/* A later fragment: no ports, unchanged. */
	frame_init(&f);
	frame_eth(&f, NULL, SANDBOX_MAC, 0);
	frame_ipv4(&f, &(struct ip4_spec){ .saddr = htonl(FRAME_IP4_DST),
					   .daddr = htonl(FRAME_IP4_SRC), .frag_off = 3,
					   .proto = IPPROTO_TCP, .id = 9 });
	frame_bytes(&f, "\x00\x50\x00\x50", 4); /* looks like ports 80/80: data */
	frame_payload(&f, 20);
	frame_finish(&f);
	check(v, &f, XDP_REDIRECT, NULL, "later fragment");
	expect_counted(v, v->dev, &v->t);
}

/* --- several devices -------------------------------------------------------------------- */

/*
 * One program, four veth ends in a private namespace (d1..d4) standing for
 * four containers' xh-..., configured differently; the same frame gets
 * each device's verdict, translation and counters:
 *   d1  host mode, NIC 77: 192.0.2.2 and 2001:db8::2; 80/tcp as 8080, 53/udp as 5000
 *   d2  host mode, NIC 78: 192.0.2.2 only; 80/tcp as 9090
 *   d3  pod mode: 10.1.0.5
 *   d4  pod mode: 10.1.0.5 from another MAC
 *   d5  nothing (a device the hook never configured)
 */
static int devices_setup(void **state)
{
	static struct veth v;
	int ns;

	*state = NULL;
	if (geteuid() != 0)
		return 0;
	memset(&v, 0, sizeof(v));
	ns = netns_enter();
	if (ns < 0)
		return -1;
	v.saved_ns = ns;
	if (sh("ip link add d1 type veth peer name d2") || sh("ip link add d3 type veth peer name d4") ||
	    sh("ip link add d5 type veth peer name d6") || veth_load(&v)) {
		netns_leave(ns);
		return -1;
	}
	*state = &v;
	return 0;
}

static void test_veth_devices(void **state)
{
	struct veth *v = veth_state(state);
	unsigned int d[6];
	struct tally t[6] = { 0 }, none = { 0 };
	struct flow in, out, q, wq;
	struct frame f, want;
	int i;

	for (i = 1; i <= 5; i++) {
		char name[8];

		snprintf(name, sizeof(name), "d%d", i);
		d[i] = ifindex(name);
	}
	set_cfg_on(v, d[1], XH_HOST, 77, SANDBOX_MAC);
	add_src_ip_on(v, d[1], false, "192.0.2.2");
	add_src_ip_on(v, d[1], true, "2001:db8::2");
	add_publish_rev_on(v, d[1], IPPROTO_TCP, 80, 8080);
	add_publish_rev_on(v, d[1], IPPROTO_UDP, 53, 5000);
	set_cfg_on(v, d[2], XH_HOST, 78, SANDBOX_MAC);
	add_src_ip_on(v, d[2], false, "192.0.2.2");
	add_publish_rev_on(v, d[2], IPPROTO_TCP, 80, 9090);
	set_cfg_on(v, d[3], XH_POD, 77, SANDBOX_MAC);
	add_src_ip_on(v, d[3], false, "10.1.0.5");
	set_cfg_on(v, d[4], XH_POD, 77, evil_mac);
	add_src_ip_on(v, d[4], false, "10.1.0.5");

	/* The same frame, each device's own translation, or none. */
	in = from_host(false, IPPROTO_TCP, 80, 1234);
	out = in;
	out.sport = 8080;
	run_on(v, d[1], &t[1], &in, XDP_REDIRECT, &out, "d1: 80/tcp as 8080");
	out.sport = 9090;
	run_on(v, d[2], &t[2], &in, XDP_REDIRECT, &out, "d2: 80/tcp as 9090");
	run_on(v, d[3], &t[3], &in, XDP_DROP, NULL, "d3: not its address");
	run_on(v, d[5], &none, &in, XDP_DROP, NULL, "d5: not configured");
	in = from_host(false, IPPROTO_UDP, 53, 1234);
	out = in;
	out.sport = 5000;
	run_on(v, d[1], &t[1], &in, XDP_REDIRECT, &out, "d1: 53/udp as 5000");
	run_on(v, d[2], &t[2], &in, XDP_REDIRECT, NULL, "d2: 53/udp not published");
	in = from_host(true, IPPROTO_TCP, 80, 1234);
	out = in;
	out.sport = 8080;
	run_on(v, d[1], &t[1], &in, XDP_REDIRECT, &out, "d1: v6 80/tcp as 8080");
	run_on(v, d[2], &t[2], &in, XDP_DROP, NULL, "d2: no v6 address");

	/* An ICMP error (veth_icmp_error finds the device by itself). */
	q = from_host(false, IPPROTO_TCP, 33000, 80);
	q.saddr4 = htonl(FRAME_IP4_SRC);
	q.daddr4 = htonl(FRAME_IP4_DST);
	wq = q;
	wq.dport = 8080;
	error_from_host(&f, false, &q, 0);
	error_from_host(&want, false, &wq, 0);
	check_on(v, d[1], &t[1], &f, XDP_REDIRECT, &want, "d1: error about 80/tcp");
	wq.dport = 9090;
	error_from_host(&want, false, &wq, 0);
	check_on(v, d[2], &t[2], &f, XDP_REDIRECT, &want, "d2: error about 80/tcp");

	/* Pod mode: address and MAC are each device's own. */
	in = from_pod(false, "198.18.0.9");
	run_on(v, d[3], &t[3], &in, XDP_PASS, NULL, "d3: its pod address");
	run_on(v, d[1], &t[1], &in, XDP_DROP, NULL, "d1: d3's address");
	run_on(v, d[4], &t[4], &in, XDP_DROP, NULL, "d4: d3's MAC");
	in.smac = evil_mac;
	run_on(v, d[4], &t[4], &in, XDP_PASS, NULL, "d4: its MAC");
	run_on(v, d[3], &t[3], &in, XDP_DROP, NULL, "d3: d4's MAC");
	arp(&f, SANDBOX_MAC, 1, "10.1.0.5", "169.254.1.1");
	check_on(v, d[3], &t[3], &f, XDP_PASS, NULL, "d3: arp");
	check_on(v, d[1], &t[1], &f, XDP_DROP, NULL, "d1: d3's arp");

	for (i = 1; i <= 4; i++)
		expect_counted(v, d[i], &t[i]);
	expect_counted(v, 0, &none);

	/* d1's container goes (teardown: veth_dev first, then the rest):
	 * d1 drops, counted under the catch-all; d2 keeps its translation. */
	{
		__u32 key = d[1];

		assert_int_equal(bpf_map__delete_elem(v->skel->maps.veth_dev, &key, sizeof(key), 0), 0);
	}
	in = from_host(false, IPPROTO_TCP, 80, 1234);
	run_on(v, d[1], &none, &in, XDP_DROP, NULL, "d1: gone");
	out = in;
	out.sport = 9090;
	run_on(v, d[2], &t[2], &in, XDP_REDIRECT, &out, "d2: still 80/tcp as 9090");
	expect_counted(v, d[2], &t[2]);
	expect_counted(v, 0, &none);
}

int veth_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_veth_unconfigured, veth_setup, veth_teardown),
		cmocka_unit_test_setup_teardown(test_veth_source, veth_setup, veth_teardown),
		cmocka_unit_test_setup_teardown(test_veth_fastpath, fastpath_setup, veth_teardown),
		cmocka_unit_test_setup_teardown(test_veth_fastpath_per_device, fastpath_setup, veth_teardown),
		cmocka_unit_test_setup_teardown(test_veth_host, veth_setup, veth_teardown),
		cmocka_unit_test_setup_teardown(test_veth_devices, devices_setup, veth_teardown),
	};

	return cmocka_run_group_tests_name("veth", tests, NULL, NULL);
}
