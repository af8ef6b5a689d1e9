/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tc_clone: on the NIC's clsact ingress in host mode. The host-mode sandbox
 * shares the NIC's MAC and addresses with the host, so both need what the
 * link says about neighbours and routers: ARP and IPv6 neighbour discovery
 * (router/neighbour solicitation and advertisement, redirect: ICMPv6
 * 133-137). xdp_nic passes those to the host; here a copy goes to the
 * sandbox's xh-... (clone_cfg), and the original goes on (TC_ACT_OK,
 * always). Frames for other stations (promiscuous mode) and VLAN-tagged
 * frames (a VLAN device's business) are not copied.
 *
 * TC rather than XDP because an XDP program cannot send a frame to two
 * places. Counters: clone_stats (include/xdphook/policy.h); the XDP
 * xdphook_stats layout is per XDP verdict and does not fit a TC program.
 */
#include "parsing.h"
#include "icmp.h"
#include <linux/pkt_cls.h>
#include <xdphook/stats.h>
#include <xdphook/policy.h>

#define XH_PACKET_OTHERHOST 3 /* <linux/if_packet.h> PACKET_OTHERHOST */

/* Bytes to have in the linear part for an ND message without extension
 * headers: Ethernet, IPv6, the ICMPv6 header. */
#define ND_NEED (ETH_HLEN + sizeof(struct ipv6hdr) + XH_ICMP_HLEN)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xh_clone_cfg);
} clone_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XH_CLONE_STATS);
	__type(key, __u32);
	__type(value, struct xdphook_counter);
} clone_stats SEC(".maps");

static __always_inline void count(struct __sk_buff *skb, __u32 stat)
{
	struct xdphook_counter *c = bpf_map_lookup_elem(&clone_stats, &stat);

	if (c) {
		c->packets++;
		c->bytes += skb->len;
	}
}

/* XH_CLONE_ARP, XH_CLONE_ND, or 0 for frames that stay with the host. */
static __always_inline __u32 classify(struct __sk_buff *skb)
{
	struct hdr_cursor c;
	struct packet p;
	__u8 *icmp;
	int proto;

	if (skb->vlan_present || skb->pkt_type == XH_PACKET_OTHERHOST)
		return 0;
	if (skb->protocol == bpf_htons(ETH_P_ARP))
		return XH_CLONE_ARP;
	if (skb->protocol != bpf_htons(ETH_P_IPV6))
		return 0;

	/* Drivers usually leave the headers in the linear part; make sure. */
	if (skb->data + ND_NEED > skb->data_end && skb->len >= ND_NEED)
		bpf_skb_pull_data(skb, ND_NEED);

	__builtin_memset(&p, 0, sizeof(p));
	c.pos = (void *)(long)skb->data;
	c.end = (void *)(long)skb->data_end;
	if (parse_ethhdr(&c, &p) != bpf_htons(ETH_P_IPV6))
		return 0;
	proto = parse_ip6hdr(&c, &p);
	if (proto != IPPROTO_ICMPV6 || p.frag == FRAG_LATER)
		return 0;
	icmp = c.pos;
	if ((void *)(icmp + XH_ICMP_HLEN) > c.end)
		return 0;
	if (icmp[0] < XH_ICMP6_ND_FIRST || icmp[0] > XH_ICMP6_ND_LAST)
		return 0;
	return XH_CLONE_ND;
}

SEC("tc")
int xdphook_clone(struct __sk_buff *skb)
{
	struct xh_clone_cfg *cfg;
	__u32 zero = 0, kind;

	count(skb, XH_CLONE_SEEN);
	kind = classify(skb);
	if (!kind)
		return TC_ACT_OK;
	cfg = bpf_map_lookup_elem(&clone_cfg, &zero);
	if (!cfg || !cfg->ifindex) {
		count(skb, XH_CLONE_NO_TARGET);
		return TC_ACT_OK;
	}
	/* Egress of xh-...: the copy crosses the veth into the container. */
	if (bpf_clone_redirect(skb, cfg->ifindex, 0))
		count(skb, XH_CLONE_FAIL);
	else
		count(skb, kind);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
