/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp_nic: ingress of a host NIC, shared by every xdphook container on it
 * (map layouts: include/xdphook/policy.h). Each frame goes either to one
 * container's host-side veth xh-... (XDP_REDIRECT through tx_ports) or to
 * the host kernel (XDP_PASS), which is also where anything we cannot or
 * need not judge goes: unparseable frames, VLAN-tagged frames (they belong
 * to a VLAN device on top of the NIC; XDP runs before the kernel strips the
 * tag in software), non-IP frames, broadcast and multicast.
 *
 * Pod mode: the destination address is a pod's (`pods`): rewrite the
 * Ethernet addresses (the sandbox's MAC, from xh-...'s), forward one hop
 * (TTL - 1, IPv4 checksum fixed) and redirect. TTL <= 1 goes to the kernel,
 * which answers with ICMP time exceeded. Later fragments carry the same
 * destination address, so every fragment is judged on its own.
 *
 * Host mode (host_mode[0].ifindex set, one sandbox per NIC, owning the
 * NIC's addresses and MAC), for unicast frames to one of the NIC's
 * addresses (in host_mode[0]; judged before the pods maps, which never
 * hold a NIC address, so these frames cost no pods lookup):
 *
 *   TCP/UDP to port P:
 *     P published (ports[slot(proto, P)]) -> sandbox, P translated
 *     P in the sandbox's ephemeral range -> sandbox (its connections)
 *     publish_all, P neither in the host's ephemeral range nor reserved
 *                                       -> sandbox
 *     otherwise                         -> host
 *   ICMP / ICMPv6:
 *     echo reply, id in the sandbox range -> sandbox (its pings)
 *     echo request                        -> sandbox with publish_all
 *     error (unreachable, too big, time exceeded, parameter problem):
 *       it quotes a packet that left from the NIC's address, so the
 *       quoted *source* is the local end: a quoted TCP/UDP source port is
 *       judged as a destination port above (so an error about a
 *       published port goes to the sandbox, with the quoted port
 *       translated back to the sandbox's and every checksum fixed), a
 *       quoted echo request by its id, a quoted echo reply (we answered a
 *       ping) and other protocols by publish_all; unparseable -> host
 *     anything else (ND, MLD, redirects, router discovery) -> host
 *   other protocols: sandbox with publish_all, else host
 *   non-first fragments (no L4 header): as the first fragment of their
 *     datagram, recorded in `frags`; no record (it came first, or was
 *     evicted) -> host
 *
 * Host mode with `direct`: a frame for the sandbox goes straight into the
 * sandbox's AF_XDP socket on the NIC queue it arrived on (`direct_xsks`,
 * slot = rx_queue_index; the keeper fills it once the client is ready and
 * empties it when the client goes), else through the veth as above.
 *
 * Translation and rewriting happen only once the redirect is certain: a
 * frame that falls back to XDP_PASS reaches the kernel unchanged.
 */
#include "parsing.h"
#include "rewrite.h"
#include "icmp.h"
#include "stats.h"
#include <xdphook/policy.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XH_MAX_PODS);
	__type(key, struct xh_ip);
	__type(value, struct xh_pod_dest);
} pods SEC(".maps");

/* IPv4 pods: direct-mapped by the address's low bits (policy.h), and the
 * addresses whose slot another one holds, keyed by the bare address
 * (network order: a 4-byte key hashes in about half the time of struct
 * xh_ip). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XH_POD4_SLOTS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xh_pod4_slot);
} pod4_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XH_MAX_PODS);
	__type(key, __u32);
	__type(value, struct xh_pod_dest);
} pods4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, XH_MAX_PODS);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xh_host_policy);
} host_mode SEC(".maps");

/* Published and reserved ports, a slot per protocol and port (policy.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XH_PORT_SLOTS / 2);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xh_port_pair);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XH_MAX_FRAGS);
	__type(key, struct xh_frag_key);
	__type(value, struct xh_frag_val);
} frags SEC(".maps");

/* Host mode, direct: the sandbox's sockets bound to the NIC's RX queues. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XH_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} direct_xsks SEC(".maps");

/* The destination address of an IP packet as a map key (see rewrite.h on
 * testing both ip4 and ip6). */
static __always_inline void dst_key(const struct packet *p, struct xh_ip *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	if (p->ip4) {
		k->family = XH_AF_INET;
		__builtin_memcpy(k->addr, &p->ip4->daddr, 4);
	} else if (p->ip6) {
		k->family = XH_AF_INET6;
		__builtin_memcpy(k->addr, &p->ip6->daddr, 16);
	}
}

/* ---- pod mode ---------------------------------------------------------------- */

/* The pod behind IPv4 address a (network order), or NULL. */
static __always_inline struct xh_pod_dest *pod4_dest(__be32 a)
{
	__u32 slot = xh_pod4_slot(bpf_ntohl(a));
	struct xh_pod4_slot *e = bpf_map_lookup_elem(&pod4_slots, &slot);

	if (!e)
		return 0; /* every slot exists: only for the verifier */
	if (e->addr == a && a) /* 0: a free slot, never a pod */
		return &e->dest;
	if (e->more)
		return bpf_map_lookup_elem(&pods4, &a);
	return 0;
}

/* To pod pd: only once the redirect is certain, rewrite the Ethernet
 * addresses and take one hop off (the caller checked TTL > 1; the
 * redirect only records the target, nothing is sent before we return). */
static __always_inline int pod_forward(struct ethhdr *eth, struct iphdr *ip4,
				       struct ipv6hdr *ip6, const struct xh_pod_dest *pd)
{
	int action = bpf_redirect_map(&tx_ports, pd->ifindex, XDP_PASS);

	if (action != XDP_REDIRECT)
		return action;
	eth_set_macs12(eth, pd->dst_mac);
	if (ip4)
		ip4_dec_ttl(ip4);
	else if (ip6)
		ip6->hop_limit--;
	return action;
}

/* XDP verdict for a frame to a pod, or -1 when the destination is no pod. */
static __always_inline int to_pod(struct packet *p)
{
	struct xh_pod_dest *pd;
	struct xh_ip k;

	if (p->ip4) {
		pd = pod4_dest(p->ip4->daddr);
	} else {
		dst_key(p, &k);
		pd = bpf_map_lookup_elem(&pods, &k);
	}
	if (!pd)
		return -1;
	if (ip_ttl(p) <= 1)
		return XDP_PASS;
	return pod_forward(p->eth, p->ip4, p->ip6, pd);
}

/* ---- host mode --------------------------------------------------------------- */

/* To the host-mode sandbox: its socket on this RX queue if it has one
 * (an array lookup; its fallback 0 is no verdict of ours), else its veth.
 * A sandbox without `direct` never has one: its frames skip the call. */
static __always_inline int to_sandbox(struct xdp_md *ctx, const struct xh_host_policy *hp,
				      __u32 veth)
{
	if (hp->direct &&
	    bpf_redirect_map(&direct_xsks, ctx->rx_queue_index, 0) == XDP_REDIRECT)
		return XDP_REDIRECT;
	return bpf_redirect_map(&tx_ports, veth, XDP_PASS);
}

static __always_inline int in_range(__u16 v, __u16 lo, __u16 hi)
{
	return lo && v >= lo && v <= hi;
}

/* Does a TCP/UDP frame to local port `port` belong to the sandbox? *xlate is
 * set to the sandbox's port when it is published under another one. */
static __always_inline int port_to_sandbox(__u8 proto, __u16 port,
					   const struct xh_host_policy *hp, __u16 *xlate)
{
	__u32 slot = xh_port_slot(proto, port), k = slot / 2, half;
	struct xh_port_pair *pair;
	struct xh_port_pol v;
	__u64 both;

	*xlate = 0;
	pair = bpf_map_lookup_elem(&ports, &k);
	if (!pair)
		return 0; /* every entry exists: only for the verifier */
	/* The slot's half as a scalar: a pointer at a variable offset into
	 * the entry would multiply the verifier's states past its limit. */
	__builtin_memcpy(&both, pair, sizeof(both));
	half = both >> (((slot & 1) ^ (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)) * 32);
	__builtin_memcpy(&v, &half, sizeof(v));
	if (v.flags & XH_PORT_PUBLISHED) {
		if (v.port != port)
			*xlate = v.port;
		return 1;
	}
	if (in_range(port, hp->sandbox_eph_lo, hp->sandbox_eph_hi))
		return 1;
	if (!hp->publish_all)
		return 0;
	if (in_range(port, hp->host_eph_lo, hp->host_eph_hi))
		return 0;
	return !(v.flags & XH_PORT_RESERVED);
}

/* Verdict for a TCP/UDP frame (header at l4) to the NIC address, local
 * port dport: to the sandbox, translated once the redirect is certain, or
 * to the host. */
static __always_inline int host_l4_verdict(struct xdp_md *ctx, const struct xh_host_policy *hp,
					   void *l4, __u8 proto, __u16 dport)
{
	void *end = (void *)(long)ctx->data_end;
	__u16 xlate = 0;
	int action = XDP_PASS;

	if (port_to_sandbox(proto, dport, hp, &xlate))
		action = to_sandbox(ctx, hp, hp->ifindex);
	if (action == XDP_REDIRECT && xlate)
		l4_set_port(l4, end, proto, L4_DPORT, xlate, 0);
	return action;
}

/* The same for the general path (IPv6, IPv4 options, first fragments),
 * its L4 header at l4_off: a global function, verified once on its own.
 * Inlined there too, the verifier walked twice the states (700 k of its
 * million instructions); the fast path keeps it inline (the call and the
 * second host_mode lookup cost ~3 ns a frame). */
__attribute__((noinline)) int nic_host_l4(struct xdp_md *ctx, __u32 l4_off, __u32 proto,
					  __u32 dport)
{
	void *l4 = (void *)(long)ctx->data + (l4_off & 0xfff);
	struct xh_host_policy *hp;
	__u32 zero = 0;

	hp = bpf_map_lookup_elem(&host_mode, &zero);
	if (!hp)
		return XDP_PASS;
	return host_l4_verdict(ctx, hp, l4, proto, dport);
}

/*
 * An ICMP error to the NIC address, whose ICMP header is at l4_off (v6:
 * ICMPv6). It quotes a packet that left from this address, so the quoted
 * *source* is the local end: a quoted TCP/UDP source port is judged as the
 * destination port of an arriving packet (port_to_sandbox), and when it is
 * a published port the quote gets the sandbox's port back (with the quoted
 * L4 checksum, if quoted, and the ICMP checksum fixed); a quoted echo
 * request by its id, a quoted echo reply (we answered a ping) and other
 * protocols by publish_all. Returns the XDP verdict.
 *
 * A global function, verified once on its own rather than inlined into
 * every path of the outer parse.
 */
__attribute__((noinline)) int nic_icmp_error(struct xdp_md *ctx, __u32 l4_off, __u32 v6)
{
	void *end = (void *)(long)ctx->data_end;
	__u8 *icmp = icmp_at(ctx, l4_off);
	struct xh_host_policy *hp;
	__u16 xlate = 0;
	struct quote q;
	__u32 zero = 0;
	int sandbox, action;

	hp = bpf_map_lookup_elem(&host_mode, &zero);
	if (!hp || !hp->ifindex || !icmp)
		return XDP_PASS;
	if (parse_quote(icmp, end, v6, &q) < 0)
		return XDP_PASS;
	switch (q.proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		sandbox = port_to_sandbox(q.proto, q.sport, hp, &xlate);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (q.kind == ICMP_K_ECHO_REQUEST)
			sandbox = in_range(q.echo_id, hp->sandbox_eph_lo, hp->sandbox_eph_hi);
		else
			sandbox = q.kind == ICMP_K_ECHO_REPLY && hp->publish_all;
		break;
	default:
		sandbox = hp->publish_all;
		break;
	}
	if (!sandbox)
		return XDP_PASS;
	action = to_sandbox(ctx, hp, hp->ifindex);
	if (action == XDP_REDIRECT && xlate && q.l4)
		l4_set_port(q.l4, end, q.proto, L4_SPORT, xlate, (__u16 *)(icmp + 2));
	return action;
}

/* Verdict for an ICMP/ICMPv6 message to the NIC address. */
static __always_inline int icmp_verdict(struct xdp_md *ctx, struct packet *p,
					const struct xh_host_policy *hp)
{
	void *end = (void *)(long)ctx->data_end;
	__u8 *icmp = p->l4;
	int sandbox;

	if (!icmp || (void *)(icmp + XH_ICMP_HLEN) > end)
		return XDP_PASS;
	switch (icmp_kind(p->l4_proto, icmp[0])) {
	case ICMP_K_ECHO_REPLY:
		/* Replies to the sandbox's pings: it uses ids from its range. */
		sandbox = in_range(icmp_echo_id(icmp), hp->sandbox_eph_lo, hp->sandbox_eph_hi);
		break;
	case ICMP_K_ECHO_REQUEST:
		sandbox = hp->publish_all;
		break;
	case ICMP_K_ERROR:
		return nic_icmp_error(ctx, p->l4_off, p->ip6 != 0);
	default:
		return XDP_PASS; /* ND, MLD, redirects, router discovery */
	}
	return sandbox ? to_sandbox(ctx, hp, hp->ifindex) : XDP_PASS;
}

static __always_inline void frag_key(const struct packet *p, struct xh_frag_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->proto = p->frag_proto;
	k->id = p->frag_id;
	if (p->ip4) {
		k->family = XH_AF_INET;
		__builtin_memcpy(k->src, &p->ip4->saddr, 4);
		__builtin_memcpy(k->dst, &p->ip4->daddr, 4);
	} else if (p->ip6) {
		k->family = XH_AF_INET6;
		__builtin_memcpy(k->src, &p->ip6->saddr, 16);
		__builtin_memcpy(k->dst, &p->ip6->daddr, 16);
	}
}

/* A later fragment goes where its first fragment went. */
static __always_inline int later_fragment(struct xdp_md *ctx, const struct packet *p,
					  const struct xh_host_policy *hp)
{
	struct xh_frag_val *v;
	struct xh_frag_key k;

	frag_key(p, &k);
	v = bpf_map_lookup_elem(&frags, &k);
	if (!v || !v->ifindex)
		return XDP_PASS;
	return to_sandbox(ctx, hp, v->ifindex);
}

/* Is the frame's destination one of the NIC's addresses (host_mode[0])?
 * A NIC has a few: comparing them costs less than hashing the address. */
static __always_inline int nic_addr4(const struct xh_host_policy *hp, __be32 a)
{
	for (__u32 i = 0; i < XH_HOST_ADDRS && i < hp->n_addr4; i++)
		if (hp->addr4[i] == a)
			return 1;
	return 0;
}

static __always_inline int to_nic_addr(const struct packet *p, const struct xh_host_policy *hp)
{
	if (p->ip4) {
		return nic_addr4(hp, p->ip4->daddr);
	} else if (p->ip6) {
		const __u32 *a = (const __u32 *)&p->ip6->daddr;

		for (__u32 i = 0; i < XH_HOST_ADDRS && i < hp->n_addr6; i++)
			if (hp->addr6[i][0] == a[0] && hp->addr6[i][1] == a[1] &&
			    hp->addr6[i][2] == a[2] && hp->addr6[i][3] == a[3])
				return 1;
	}
	return 0;
}

/* A frame to one of the NIC's addresses, host mode (hp->ifindex set). */
static __always_inline int to_host_sandbox(struct xdp_md *ctx, struct packet *p,
					   const struct xh_host_policy *hp)
{
	struct xh_frag_key fk;
	struct xh_frag_val fv;
	int action;

	if (p->frag == FRAG_LATER)
		return later_fragment(ctx, p, hp);

	switch (p->l4_proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		/* p->l4 is set for these (the verifier wants to see it). */
		action = p->l4 ? nic_host_l4(ctx, p->l4_off, p->l4_proto, p->dport) : XDP_PASS;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		action = icmp_verdict(ctx, p, hp);
		break;
	default:
		action = hp->publish_all ? to_sandbox(ctx, hp, hp->ifindex) : XDP_PASS;
		break;
	}

	if (p->frag == FRAG_FIRST) {
		frag_key(p, &fk);
		fv.ifindex = action == XDP_REDIRECT ? hp->ifindex : 0;
		/* Also for the host: a stale record under the same key (ids
		 * wrap) must not steal this datagram's later fragments. */
		bpf_map_update_elem(&frags, &fk, &fv, BPF_ANY);
	}
	return action;
}

/*
 * The common frame, judged without the general parser: untagged unicast
 * IPv4 without options or fragmentation, carrying TCP or UDP, to a pod or
 * to the host-mode sandbox's NIC address. It makes the checks
 * parse_packet makes for such a frame (one parse_packet would refuse goes
 * to the kernel either way) and nothing more, and decides as the general
 * path does (host mode first, then the pods). Returns -1 for any other
 * frame, which the general path then judges.
 */
static __always_inline int fast4(struct xdp_md *ctx, const struct xh_host_policy *hp)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = data + sizeof(*eth);
	void *l4 = iph + 1;
	struct xh_pod_dest *pd;

	if (l4 + sizeof(struct udphdr) > end)
		return -1;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || mac_is_multicast(eth->h_dest))
		return -1;
	/* Version 4, IHL 5; no MF, no offset; tot_len covers the header. */
	if (*(__u8 *)iph != 0x45 || (iph->frag_off & bpf_htons(0x3fff)) ||
	    bpf_ntohs(iph->tot_len) < sizeof(*iph))
		return -1;
	if (iph->protocol == IPPROTO_UDP) {
		if (bpf_ntohs(((struct udphdr *)l4)->len) < sizeof(struct udphdr))
			return -1;
	} else if (iph->protocol == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > end || th->doff < 5 || l4 + th->doff * 4 > end)
			return -1;
	} else {
		return -1;
	}
	/* The ports sit at the same offsets in TCP and UDP. */
	if (hp->ifindex && nic_addr4(hp, iph->daddr))
		return host_l4_verdict(ctx, hp, l4, iph->protocol,
				       bpf_ntohs(((struct udphdr *)l4)->dest));
	pd = pod4_dest(iph->daddr);
	if (!pd || iph->ttl <= 1)
		return XDP_PASS;
	return pod_forward(eth, iph, 0, pd);
}

SEC("xdp")
int xdphook_nic(struct xdp_md *ctx)
{
	struct xh_host_policy *hp;
	struct packet p;
	__u32 zero = 0;
	int action;

	hp = bpf_map_lookup_elem(&host_mode, &zero);
	if (hp) {
		action = fast4(ctx, hp);
		if (action >= 0)
			return count_verdict(ctx, action);
	}
	if (parse_packet(ctx, &p) < 0)
		return count_verdict(ctx, XDP_PASS);
	if (p.vlans || (!p.ip4 && !p.ip6) || mac_is_multicast(p.eth->h_dest))
		return count_verdict(ctx, XDP_PASS);

	/* Host mode first: no pod holds a NIC address (the claim keeps every
	 * address one container's), so the order changes no verdict, and the
	 * sandbox's frames skip the pods lookup. */
	if (hp && hp->ifindex && to_nic_addr(&p, hp))
		return count_verdict(ctx, to_host_sandbox(ctx, &p, hp));
	action = to_pod(&p);
	return count_verdict(ctx, action < 0 ? XDP_PASS : action);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
