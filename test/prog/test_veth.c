// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bpf/xdp_veth.bpf.c (what the sandbox sends, on the host-side veth) under
 * BPF_PROG_TEST_RUN: the source check, the pod-mode fast path with a real
 * bpf_fib_lookup() in a private network namespace, and the host-mode port
 * translation. Output frames are compared with frames built independently
 * (checksums recomputed in full by frames.c), counters with what ran.
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

struct veth {
	struct xdp_veth *skel;
	int fd;
	struct tally t;
	int saved_ns;             /* fast path test: the namespace we left */
	unsigned int xh, nic;     /* ... and its devices */
};

static void add_src_ip(struct veth *v, bool v6, const char *addr)
{
	struct xh_ip k;
	uint8_t one = 1;

	memset(&k, 0, sizeof(k));
	if (v6) {
		struct in6_addr a = ip6(addr);

		k.family = XH_AF_INET6;
		memcpy(k.addr, &a, 16);
	} else {
		uint32_t a = ip4(addr);

		k.family = XH_AF_INET;
		memcpy(k.addr, &a, 4);
	}
	assert_int_equal(bpf_map__update_elem(v->skel->maps.src_ips, &k, sizeof(k), &one, 1,
					      BPF_ANY), 0);
}

static void set_cfg(struct veth *v, uint32_t mode, uint32_t nic_ifindex)
{
	struct xh_veth_cfg cfg = { .mode = mode, .nic_ifindex = nic_ifindex };
	__u32 zero = 0;

	memcpy(cfg.sandbox_mac, SANDBOX_MAC, 6);
	assert_int_equal(bpf_map__update_elem(v->skel->maps.veth_cfg, &zero, sizeof(zero),
					      &cfg, sizeof(cfg), BPF_ANY), 0);
}

static void add_fastpath(struct veth *v, const char *prefix, unsigned int len)
{
	struct xh_lpm_key k;
	uint8_t one = 1;

	memset(&k, 0, sizeof(k));
	if (strchr(prefix, ':')) {
		struct in6_addr a = ip6(prefix);

		k.family = XH_AF_INET6;
		memcpy(k.addr, &a, 16);
	} else {
		uint32_t a = ip4(prefix);

		k.family = XH_AF_INET;
		memcpy(k.addr, &a, 4);
	}
	k.prefixlen = XH_LPM_PREFIX(len);
	assert_int_equal(bpf_map__update_elem(v->skel->maps.fastpath, &k, sizeof(k), &one, 1,
					      BPF_ANY), 0);
}

static int veth_load(struct veth *v)
{
	v->skel = xdp_veth__open_and_load();
	if (!v->skel) {
		print_error("xdp_veth: open/load failed: %s\n", strerror(errno));
		return -1;
	}
	v->fd = bpf_program__fd(v->skel->progs.xdphook_veth);
	return 0;
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

static void run(struct veth *v, const struct flow *in_fl, const struct xdp_md *ctx,
		uint32_t verdict, const struct flow *want_fl, const char *what)
{
	struct frame in, want;

	flow_build(&in, in_fl);
	if (want_fl)
		flow_build(&want, want_fl);
	xdp_check(v->fd, &in, ctx, verdict, want_fl ? &want : NULL, &v->t, what);
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

/* Before the hook wrote veth_cfg nothing can be checked: all dropped. */
static void test_veth_unconfigured(void **state)
{
	struct veth *v = veth_state(state);
	struct frame f;
	size_t i;

	for (i = 0; i < catalog_len; i++) {
		catalog_build(&catalog[i], &f);
		xdp_check(v->fd, &f, NULL, XDP_DROP, NULL, &v->t, catalog[i].name);
	}
	/* An unknown mode is no configuration either. */
	set_cfg(v, 7, 1);
	catalog_build(&catalog[0], &f);
	xdp_check(v->fd, &f, NULL, XDP_DROP, NULL, &v->t, "unknown mode");
	tally_expect(v->skel->maps.xdphook_stats, &v->t);
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
		run(v, &fl, NULL, XDP_PASS, NULL, "own source");
		fl.proto = IPPROTO_UDP;
		run(v, &fl, NULL, XDP_PASS, NULL, "own source udp");
		fl.proto = 0;

		fl.smac = evil_mac;
		run(v, &fl, NULL, XDP_DROP, NULL, "spoofed MAC");
		fl.smac = SANDBOX_MAC;
		if (v6)
			fl.saddr6 = ip6("fd00:1::6");
		else
			fl.saddr4 = ip4("10.1.0.6");
		run(v, &fl, NULL, XDP_DROP, NULL, "spoofed IP");
		/* The other family's address does not count. */
		if (v6)
			fl.saddr6 = ip6("::ffff:10.1.0.5");
		run(v, &fl, NULL, XDP_DROP, NULL, "spoofed IP 2");

		/* Tagged frames are nothing a sandbox may send. */
		fl = from_pod(v6, v6 ? "2001:db8:9::9" : "198.18.0.9");
		fl.vlan = 5;
		run(v, &fl, NULL, XDP_DROP, NULL, "vlan");
	}

	/* ARP: the sandbox speaks for itself only. */
	arp(&f, SANDBOX_MAC, 1, "10.1.0.5", "169.254.1.1");
	xdp_check(v->fd, &f, NULL, XDP_PASS, NULL, &v->t, "arp request");
	arp(&f, SANDBOX_MAC, 2, "10.1.0.5", "169.254.1.1");
	xdp_check(v->fd, &f, NULL, XDP_PASS, NULL, &v->t, "arp reply");
	arp(&f, SANDBOX_MAC, 1, "0.0.0.0", "10.1.0.5");
	xdp_check(v->fd, &f, NULL, XDP_PASS, NULL, &v->t, "arp probe");
	arp(&f, SANDBOX_MAC, 2, "10.1.0.1", "10.1.0.9");
	xdp_check(v->fd, &f, NULL, XDP_DROP, NULL, &v->t, "arp spoofed sender IP");
	arp(&f, evil_mac, 1, "10.1.0.5", "169.254.1.1");
	xdp_check(v->fd, &f, NULL, XDP_DROP, NULL, &v->t, "arp spoofed Ethernet source");
	arp(&f, SANDBOX_MAC, 2, "10.1.0.5", "169.254.1.1");
	memcpy(f.data + frame_find(&f, FRAME_ARP, 0)->off + 8, evil_mac, 6);
	xdp_check(v->fd, &f, NULL, XDP_DROP, NULL, &v->t, "arp spoofed sender MAC");
	arp(&f, SANDBOX_MAC, 1, "10.1.0.5", "169.254.1.1");
	f.data[frame_find(&f, FRAME_ARP, 0)->off + 1] = 6; /* hardware type IEEE 802 */
	xdp_check(v->fd, &f, NULL, XDP_DROP, NULL, &v->t, "arp other hardware type");
	arp(&f, SANDBOX_MAC, 1, "10.1.0.5", "169.254.1.1");
	f.len -= 1;
	xdp_check(v->fd, &f, NULL, XDP_DROP, NULL, &v->t, "arp truncated");

	/* IPv6 link-local (any protocol) and :: (ICMPv6: DAD, MLD) from the
	 * sandbox's MAC: to the kernel (ND with the gateway). */
	icmp6_from(&f, "fe80::5", "ff02::1:ff00:1", 135);
	xdp_check(v->fd, &f, NULL, XDP_PASS, NULL, &v->t, "ns from link-local");
	icmp6_from(&f, "febf::5", "ff02::2", 133);
	xdp_check(v->fd, &f, NULL, XDP_PASS, NULL, &v->t, "rs from fe80::/10");
	icmp6_from(&f, "::", "ff02::1:ff00:5", 135);
	xdp_check(v->fd, &f, NULL, XDP_PASS, NULL, &v->t, "dad from ::");
	icmp6_from(&f, "fec0::5", "ff02::2", 133);
	xdp_check(v->fd, &f, NULL, XDP_DROP, NULL, &v->t, "site-local is no link-local");
	icmp6_from(&f, "fe80::5", "ff02::1:ff00:1", 135);
	memcpy(f.data + 6, evil_mac, 6);
	xdp_check(v->fd, &f, NULL, XDP_DROP, NULL, &v->t, "link-local, spoofed MAC");
	fl = from_pod(true, "fe80::1");
	fl.saddr6 = ip6("fe80::5");
	run(v, &fl, NULL, XDP_PASS, NULL, "tcp from link-local");
	fl.proto = IPPROTO_UDP;
	flow_build(&f, &fl);
	ip6_src_unspecified(&f);
	xdp_check(v->fd, &f, NULL, XDP_DROP, NULL, &v->t, "udp from ::");

	/* Other EtherTypes, unparseable frames: dropped. */
	frame_init(&f);
	frame_eth(&f, xh_mac, SANDBOX_MAC, 0x88cc); /* LLDP */
	frame_payload(&f, 40);
	frame_finish(&f);
	xdp_check(v->fd, &f, NULL, XDP_DROP, NULL, &v->t, "lldp");
	fl = from_pod(false, "198.18.0.9");
	flow_build(&f, &fl);
	{
		size_t need = parser_needs(&f), len;
		struct frame cut;

		for (len = ETH_HLEN; len < need; len++) {
			cut = f;
			cut.len = len;
			xdp_check(v->fd, &cut, NULL, XDP_DROP, NULL, &v->t, "truncated");
		}
	}
	((struct iphdr *)frame_hdr(&f, FRAME_IPV4, 0))->ihl = 4;
	frame_fix_checksums(&f);
	xdp_check(v->fd, &f, NULL, XDP_DROP, NULL, &v->t, "ihl 4");

	tally_expect(v->skel->maps.xdphook_stats, &v->t);
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
 * forwarding on. Fast path prefixes: 198.51.100.0/25, 192.0.2.0/24,
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
	    sh("ip link add nic0 address %s type veth peer name nicp", nic_mac_s) ||
	    sh("ip link add oth0 type veth peer name othp") ||
	    sh("for d in xh0 xhp nic0 nicp oth0 othp; do ip link set $d up || exit 1; done") ||
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
	struct xdp_md ctx = { .ingress_ifindex = v->xh };
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
	run(v, &in, &ctx, XDP_REDIRECT, &out, "fast path v4");
	in.ip_opts = out.ip_opts = 8;
	in.proto = out.proto = IPPROTO_UDP;
	in.ttl = 2;
	out.ttl = 1;
	run(v, &in, &ctx, XDP_REDIRECT, &out, "fast path v4 options udp ttl 2");
	/* Through the gateway: its MAC. */
	in = from_pod(false, "192.0.2.55");
	out = in;
	out.dmac = nbr_mac;
	out.smac = nic_mac;
	out.ttl = 63;
	run(v, &in, &ctx, XDP_REDIRECT, &out, "fast path v4 via gateway");
	in = from_pod(true, "2001:db8:100::7");
	out = in;
	out.dmac = nbr_mac;
	out.smac = nic_mac;
	out.ttl = 63;
	run(v, &in, &ctx, XDP_REDIRECT, &out, "fast path v6");

	/* The kernel's turn: TTL 1, no neighbour yet, another device, not a
	 * fast-path prefix (although routable), too big for the MTU, a
	 * link-local source, forwarding off. */
	in = from_pod(false, "198.51.100.7");
	in.ttl = 1;
	run(v, &in, &ctx, XDP_PASS, NULL, "ttl 1");
	in = from_pod(true, "2001:db8:100::7");
	in.ttl = 1;
	run(v, &in, &ctx, XDP_PASS, NULL, "hop limit 1");
	in = from_pod(false, "198.51.100.8");
	run(v, &in, &ctx, XDP_PASS, NULL, "no neighbour");
	in = from_pod(true, "2001:db8:100::8");
	run(v, &in, &ctx, XDP_PASS, NULL, "no neighbour v6");
	in = from_pod(false, "203.0.113.7");
	run(v, &in, &ctx, XDP_PASS, NULL, "other device");
	in = from_pod(false, "198.51.100.70");
	run(v, &in, &ctx, XDP_PASS, NULL, "other device by policy rule");
	in = from_pod(false, "198.51.100.200");
	run(v, &in, &ctx, XDP_PASS, NULL, "not a fast-path prefix");
	in = from_pod(false, "198.51.100.7");
	in.payload = 1500;
	run(v, &in, &ctx, XDP_PASS, NULL, "bigger than the MTU");
	in = from_pod(true, "2001:db8:100::7");
	in.saddr6 = ip6("fe80::5");
	run(v, &in, &ctx, XDP_PASS, NULL, "link-local source");
	set_forwarding(false);
	in = from_pod(false, "198.51.100.7");
	run(v, &in, &ctx, XDP_PASS, NULL, "forwarding off");
	set_forwarding(true);
	/* Spoofed sources never get as far as the lookup. */
	in.saddr4 = ip4("198.51.100.9");
	run(v, &in, &ctx, XDP_DROP, NULL, "spoofed, fast-path destination");

	tally_expect(v->skel->maps.xdphook_stats, &v->t);
	assert_int_equal(v->t.by_verdict[XDP_REDIRECT].packets, 4);
}

/* --- host mode --------------------------------------------------------------------------- */

/* The host-mode sandbox owns the NIC's addresses (the builder's default
 * destinations) and MAC; 80/tcp is published as 8080, 53/udp as 5000. */
static void host_setup(struct veth *v)
{
	struct xh_port_key k = { .proto = IPPROTO_TCP, .port = 80 };
	struct xh_port_val val = { .port = 8080 };

	set_cfg(v, XH_HOST, 77);
	add_src_ip(v, false, "192.0.2.2");
	add_src_ip(v, true, "2001:db8::2");
	assert_int_equal(bpf_map__update_elem(v->skel->maps.publish_rev, &k, sizeof(k), &val,
					      sizeof(val), BPF_ANY), 0);
	k.proto = IPPROTO_UDP;
	k.port = 53;
	val.port = 5000;
	assert_int_equal(bpf_map__update_elem(v->skel->maps.publish_rev, &k, sizeof(k), &val,
					      sizeof(val), BPF_ANY), 0);
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
			run(v, &in, NULL, XDP_REDIRECT, &out, what);
		}
		/* Everything else leaves unchanged. */
		in = from_host(v6, IPPROTO_TCP, 40000, 80);
		run(v, &in, NULL, XDP_REDIRECT, NULL, "unpublished source");
		in = from_host(v6, IPPROTO_UDP, 80, 53);
		run(v, &in, NULL, XDP_REDIRECT, NULL, "80/udp not published");
		in = from_host(v6, IPPROTO_GRE, 0, 0);
		run(v, &in, NULL, XDP_REDIRECT, NULL, "gre");
		/* Still source-checked. */
		in = from_host(v6, IPPROTO_TCP, 80, 1234);
		in.smac = evil_mac;
		run(v, &in, NULL, XDP_DROP, NULL, "spoofed MAC");
		in.smac = SANDBOX_MAC;
		if (v6)
			in.saddr6 = ip6("2001:db8::3");
		else
			in.saddr4 = ip4("192.0.2.3");
		run(v, &in, NULL, XDP_DROP, NULL, "spoofed IP");

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
		xdp_check(v->fd, &f, NULL, XDP_REDIRECT, &want, &v->t, "error about 80/tcp");
		error_from_host(&f, v6, &q, 8);
		error_from_host(&want, v6, &wq, 8);
		xdp_check(v->fd, &f, NULL, XDP_REDIRECT, &want, &v->t, "error, short quote");
		q.proto = wq.proto = IPPROTO_UDP;
		q.dport = 53;
		wq.dport = 5000;
		error_from_host(&f, v6, &q, 0);
		error_from_host(&want, v6, &wq, 0);
		xdp_check(v->fd, &f, NULL, XDP_REDIRECT, &want, &v->t, "error about 53/udp");
		q.dport = 54;
		error_from_host(&f, v6, &q, 0);
		xdp_check(v->fd, &f, NULL, XDP_REDIRECT, NULL, &v->t, "error about 54/udp");
	}

	/* ARP and ND go out too (replies come back through tc_clone). */
	arp(&f, SANDBOX_MAC, 1, "192.0.2.2", "192.0.2.1");
	xdp_check(v->fd, &f, NULL, XDP_REDIRECT, NULL, &v->t, "arp");
	arp(&f, SANDBOX_MAC, 1, "10.1.0.5", "192.0.2.1");
	xdp_check(v->fd, &f, NULL, XDP_DROP, NULL, &v->t, "arp spoofed");
	icmp6_from(&f, "fe80::2", "ff02::1:ff00:1", 135);
	xdp_check(v->fd, &f, NULL, XDP_REDIRECT, NULL, &v->t, "ns");

	/* A later fragment: no ports, unchanged. */
	frame_init(&f);
	frame_eth(&f, NULL, SANDBOX_MAC, 0);
	frame_ipv4(&f, &(struct ip4_spec){ .saddr = htonl(FRAME_IP4_DST),
					   .daddr = htonl(FRAME_IP4_SRC), .frag_off = 3,
					   .proto = IPPROTO_TCP, .id = 9 });
	frame_bytes(&f, "\x00\x50\x00\x50", 4); /* looks like ports 80/80: data */
	frame_payload(&f, 20);
	frame_finish(&f);
	xdp_check(v->fd, &f, NULL, XDP_REDIRECT, NULL, &v->t, "later fragment");
	tally_expect(v->skel->maps.xdphook_stats, &v->t);
}

int veth_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_veth_unconfigured, veth_setup, veth_teardown),
		cmocka_unit_test_setup_teardown(test_veth_source, veth_setup, veth_teardown),
		cmocka_unit_test_setup_teardown(test_veth_fastpath, fastpath_setup, veth_teardown),
		cmocka_unit_test_setup_teardown(test_veth_host, veth_setup, veth_teardown),
	};

	return cmocka_run_group_tests_name("veth", tests, NULL, NULL);
}
