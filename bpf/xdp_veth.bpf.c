/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp_veth: ingress of a container's host-side veth xh-..., i.e. what the
 * sandbox sends (map layouts: include/xdphook/policy.h).
 *
 * One program serves every xh-... of a network namespace (verifying it
 * takes far longer than anything else a container's setup does), so all
 * it knows is keyed by the device the frame came in on,
 * ctx->ingress_ifindex: its configuration and counters (one entry, one
 * lookup), addresses, fast-path prefixes and published ports.
 *
 * Source check first: the sandbox is not trusted with the host's network.
 * A frame must come from sandbox_mac and, for IP, from one of src_ips (IPv6
 * also link-local, and :: for ICMPv6: DAD and MLD); ARP must announce
 * sandbox_mac and one of src_ips (or 0.0.0.0, an ARP probe). Anything we
 * cannot verify is dropped: unparseable frames, VLAN tags, other
 * EtherTypes, and every frame of a device without a veth_dev entry.
 *
 * Pod mode: destinations in `fastpath` leave straight out of the NIC when
 * the kernel's FIB agrees (bpf_fib_lookup() with the ingress device, so
 * policy routing applies): Ethernet addresses from the lookup, TTL - 1,
 * redirect. Everything else goes to the kernel (XDP_PASS), so kube-proxy,
 * masquerade, NetworkPolicy and the host firewall still see it: other
 * destinations, TTL <= 1 (the kernel sends time exceeded), no neighbour yet
 * (the kernel resolves it), a route through another device, too big for the
 * MTU, link-local sources (never routed), ARP and ND for the gateway.
 *
 * Host mode: the sandbox owns the NIC's addresses and MAC and addresses the
 * real gateway itself, so everything leaves through the NIC unchanged
 * (ARP and ND too: the replies come back to the host and tc_clone copies
 * them to the sandbox) except published ports: a source port that is a
 * published sandbox port becomes the host port (publish_rev), and an ICMP
 * error the sandbox sends about a packet it received gets the quoted
 * destination port translated the same way, checksums fixed.
 */
#include "parsing.h"
#include "rewrite.h"
#include "icmp.h"
#include <xdphook/policy.h>
#include "ifstats.h"

#define AF_INET 2
#define AF_INET6 10

/* Written by user space only, as containers come and go: allocated as
 * used (BPF_F_NO_PREALLOC) rather than sized for a full node up front. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, XH_MAX_VETHS + 1); /* + the catch-all 0 */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct xh_veth_dev);
} veth_dev SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XH_MAX_SRC_IPS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xh_veth_ip);
	__type(value, __u8);
} src_ips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XH_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xh_veth_lpm_key);
	__type(value, __u8);
} fastpath SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XH_MAX_REV_PORTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xh_veth_port);
	__type(value, struct xh_port_val);
} publish_rev SEC(".maps");

/* ARP for IPv4 over Ethernet (not <linux/if_arp.h>: it pulls in
 * <linux/netdevice.h>, see parsing.h). */
#define XH_ARPHRD_ETHER 1

struct arp_eth {
	__be16 hrd;
	__be16 pro;
	__u8 hln;
	__u8 pln;
	__be16 op;
	__u8 sha[ETH_ALEN];
	__u8 spa[4];
	__u8 tha[ETH_ALEN];
	__u8 tpa[4];
};

static __always_inline int is_src_ip(__u32 ifindex, __u8 family, const void *addr)
{
	struct xh_veth_ip k;

	__builtin_memset(&k, 0, sizeof(k));
	k.ifindex = ifindex;
	k.ip.family = family;
	__builtin_memcpy(k.ip.addr, addr, family == XH_AF_INET ? 4 : 16);
	return bpf_map_lookup_elem(&src_ips, &k) != 0;
}

/* ARP from the sandbox must speak for itself: its MAC as sender hardware
 * address, one of its addresses (or 0.0.0.0) as sender protocol address. */
static __always_inline int arp_ok(struct packet *p, void *end, const struct xh_veth_cfg *cfg,
				  __u32 ifindex)
{
	struct arp_eth *a = (void *)(p->eth + 1); /* untagged: checked */

	if ((void *)(a + 1) > end)
		return 0;
	if (a->hrd != bpf_htons(XH_ARPHRD_ETHER) || a->pro != bpf_htons(ETH_P_IP) ||
	    a->hln != ETH_ALEN || a->pln != 4)
		return 0;
	if (!mac_equal(a->sha, cfg->sandbox_mac))
		return 0;
	if ((a->spa[0] | a->spa[1] | a->spa[2] | a->spa[3]) == 0)
		return 1; /* a probe (RFC 5227) */
	return is_src_ip(ifindex, XH_AF_INET, a->spa);
}

enum src_kind {
	SRC_BAD = 0,
	SRC_OWN,        /* one of src_ips: may be routed */
	SRC_LINK,       /* IPv6 link-local or ::, stays on the link */
};

static __always_inline int ip_src_kind(struct packet *p, __u32 ifindex)
{
	const __u8 *a;

	if (p->ip4)
		return is_src_ip(ifindex, XH_AF_INET, &p->ip4->saddr) ? SRC_OWN : SRC_BAD;
	if (!p->ip6)
		return SRC_BAD;
	a = (const __u8 *)&p->ip6->saddr;
	if (is_src_ip(ifindex, XH_AF_INET6, a))
		return SRC_OWN;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return SRC_LINK; /* fe80::/10 */
	if (p->l4_proto == IPPROTO_ICMPV6 && p->ip6->saddr.in6_u.u6_addr32[0] == 0 &&
	    p->ip6->saddr.in6_u.u6_addr32[1] == 0 && p->ip6->saddr.in6_u.u6_addr32[2] == 0 &&
	    p->ip6->saddr.in6_u.u6_addr32[3] == 0)
		return SRC_LINK; /* ::, duplicate address detection, MLD */
	return SRC_BAD;
}

/* ---- pod mode ---------------------------------------------------------------- */

static __always_inline int pod_egress(struct xdp_md *ctx, struct packet *p,
				      const struct xh_veth_cfg *cfg, __u32 ifindex)
{
	struct bpf_fib_lookup fib;
	struct xh_veth_lpm_key k;
	int rc;

	__builtin_memset(&k, 0, sizeof(k));
	__builtin_memset(&fib, 0, sizeof(fib));
	k.ifindex = ifindex;
	if (p->ip4) {
		k.prefixlen = XH_VETH_LPM_PREFIX(32);
		k.family = XH_AF_INET;
		__builtin_memcpy(k.addr, &p->ip4->daddr, 4);
	} else if (p->ip6) {
		k.prefixlen = XH_VETH_LPM_PREFIX(128);
		k.family = XH_AF_INET6;
		__builtin_memcpy(k.addr, &p->ip6->daddr, 16);
	} else {
		return XDP_PASS;
	}
	if (!bpf_map_lookup_elem(&fastpath, &k))
		return XDP_PASS;
	if (ip_ttl(p) <= 1)
		return XDP_PASS;

	if (p->ip4) {
		fib.family = AF_INET;
		fib.tos = p->ip4->tos;
		fib.tot_len = bpf_ntohs(p->ip4->tot_len);
		fib.ipv4_src = p->ip4->saddr;
		fib.ipv4_dst = p->ip4->daddr;
	} else if (p->ip6) {
		fib.family = AF_INET6;
		/* Traffic class and flow label (the version nibble masked). */
		fib.flowinfo = *(__be32 *)p->ip6 & bpf_htonl(0x0fffffff);
		fib.tot_len = sizeof(struct ipv6hdr) + bpf_ntohs(p->ip6->payload_len);
		__builtin_memcpy(fib.ipv6_src, &p->ip6->saddr, 16);
		__builtin_memcpy(fib.ipv6_dst, &p->ip6->daddr, 16);
	}
	/* Protocol and ports, for FIB rules that match on them. */
	fib.l4_protocol = p->l4_proto;
	if (p->l4 && (p->l4_proto == IPPROTO_TCP || p->l4_proto == IPPROTO_UDP)) {
		fib.sport = bpf_htons(p->sport);
		fib.dport = bpf_htons(p->dport);
	}
	fib.ifindex = ifindex;

	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS || fib.ifindex != cfg->nic_ifindex)
		return XDP_PASS;
	eth_set_macs(p->eth, fib.dmac, fib.smac);
	ip_dec_ttl(p);
	return bpf_redirect(cfg->nic_ifindex, 0);
}

/* ---- host mode --------------------------------------------------------------- */

/*
 * An ICMP error the sandbox sends (ICMP header at l4_off; v6: ICMPv6) about
 * a packet it received: the quoted destination port is the sandbox's, the
 * remote end knows it by the host port, so a published one is translated
 * back (quoted L4 checksum, if quoted, and ICMP checksum fixed).
 *
 * A global function, verified once on its own rather than inlined into
 * every path of the outer parse (so it reads the device from ctx itself).
 * Returns 0.
 */
__attribute__((noinline)) int veth_icmp_error(struct xdp_md *ctx, __u32 l4_off, __u32 v6)
{
	void *end = (void *)(long)ctx->data_end;
	__u8 *icmp = icmp_at(ctx, l4_off);
	struct xh_veth_port k = { 0 };
	struct xh_port_val *v;
	struct quote q;

	if (!icmp || parse_quote(icmp, end, v6, &q) < 0)
		return 0;
	if ((q.proto != IPPROTO_TCP && q.proto != IPPROTO_UDP) || !q.l4)
		return 0;
	k.ifindex = ctx->ingress_ifindex;
	k.port.proto = q.proto;
	k.port.port = q.dport;
	v = bpf_map_lookup_elem(&publish_rev, &k);
	if (v)
		l4_set_port(q.l4, end, q.proto, L4_DPORT, v->port, (__u16 *)(icmp + 2));
	return 0;
}

/* Host mode: published source ports back to the host's numbers. */
static __always_inline void host_translate(struct xdp_md *ctx, struct packet *p, __u32 ifindex)
{
	void *end = (void *)(long)ctx->data_end;
	struct xh_veth_port k = { 0 };
	struct xh_port_val *v;
	__u8 *icmp = p->l4;

	if (p->frag == FRAG_LATER || !icmp)
		return;
	if (p->l4_proto == IPPROTO_TCP || p->l4_proto == IPPROTO_UDP) {
		k.ifindex = ifindex;
		k.port.proto = p->l4_proto;
		k.port.port = p->sport;
		v = bpf_map_lookup_elem(&publish_rev, &k);
		if (v)
			l4_set_port(p->l4, end, p->l4_proto, L4_SPORT, v->port, 0);
		return;
	}
	if (p->l4_proto != IPPROTO_ICMP && p->l4_proto != IPPROTO_ICMPV6)
		return;
	if ((void *)(icmp + XH_ICMP_HLEN) > end)
		return;
	if (icmp_kind(p->l4_proto, icmp[0]) == ICMP_K_ERROR)
		veth_icmp_error(ctx, p->l4_off, p->ip6 != 0);
}

SEC("xdp")
int xdphook_veth(struct xdp_md *ctx)
{
	void *end = (void *)(long)ctx->data_end;
	__u32 ifindex = ctx->ingress_ifindex, none = 0;
	struct xdphook_ifcounters *stats;
	struct xh_veth_cfg *cfg;
	struct xh_veth_dev *dev;
	struct packet p;
	int src;

	dev = bpf_map_lookup_elem(&veth_dev, &ifindex);
	if (!dev) /* the catch-all: it counts, its zero configuration drops */
		dev = bpf_map_lookup_elem(&veth_dev, &none);
	if (!dev)
		return XDP_DROP;
	stats = &dev->stats;
	cfg = &dev->cfg;
	if (cfg->mode != XH_POD && cfg->mode != XH_HOST)
		return count_verdict_in(stats, ctx, XDP_DROP);
	if (parse_packet(ctx, &p) < 0 || p.vlans)
		return count_verdict_in(stats, ctx, XDP_DROP);
	if (!mac_equal(p.eth->h_source, cfg->sandbox_mac))
		return count_verdict_in(stats, ctx, XDP_DROP);

	if (p.l3_proto == ETH_P_ARP) {
		if (!arp_ok(&p, end, cfg, ifindex))
			return count_verdict_in(stats, ctx, XDP_DROP);
		if (cfg->mode == XH_HOST)
			return count_verdict_in(stats, ctx, bpf_redirect(cfg->nic_ifindex, 0));
		return count_verdict_in(stats, ctx, XDP_PASS); /* the host answers for the gateway */
	}
	if (!p.ip4 && !p.ip6)
		return count_verdict_in(stats, ctx, XDP_DROP);
	src = ip_src_kind(&p, ifindex);
	if (src == SRC_BAD)
		return count_verdict_in(stats, ctx, XDP_DROP);

	if (cfg->mode == XH_HOST) {
		host_translate(ctx, &p, ifindex);
		return count_verdict_in(stats, ctx, bpf_redirect(cfg->nic_ifindex, 0));
	}
	if (src == SRC_LINK)
		return count_verdict_in(stats, ctx, XDP_PASS);
	return count_verdict_in(stats, ctx, pod_egress(ctx, &p, cfg, ifindex));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
