/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp_endpoint, shared: the same job as xdp_endpoint.bpf.c (every frame on
 * xdp0 to the AF_XDP socket of its RX queue, else XDP_PASS), done by one
 * program for every container of the host (map layouts:
 * include/xdphook/policy.h).
 *
 * Why: attaching a program the kernel runs nowhere else yet adds it to the
 * XDP dispatcher, which costs a synchronize_rcu() (over 10 ms here), and
 * the device's deletion pays another to take it out again. A program that
 * already runs on another xdp0 costs neither.
 *
 * A frame finds its container by the network namespace it arrived in: the
 * netns cookie, unique for the life of the system (ifindexes repeat from
 * one namespace to the next). XDP has no bpf_get_netns_cookie(), so it is
 * read from the receive queue's device (bpf_cast_to_kern_ctx(), Linux
 * 6.2); where that is missing the program does not load and the hook
 * attaches the container's own program to xdp0 itself.
 *
 * A container's slot is its netns cookie modulo XH_EP_SLOTS: ep_slot[slot]
 * holds the cookie that owns it (0: free), ep_stats[slot] the container's
 * verdict counters, and ep_xsks[slot * XH_EP_QUEUES + RX queue] its AF_XDP
 * socket, which the keeper puts there. A frame costs the cookie's loads,
 * two array lookups (inlined by the verifier), one compare and the
 * redirect: no tail call (an indirect jump, a retpoline on this kernel:
 * it cost ~16 ns a frame, more than the rest of the program), no program
 * per container to load. (The rare container whose slot is taken by a
 * live one is given its own xdp_endpoint on xdp0 instead.) Array updates
 * wait for no grace period (a map of maps would: every update and delete
 * from user space is a synchronize_rcu()). A frame from a netns without a
 * slot goes to the kernel, counted in xdphook_stats; one of a container
 * without a socket (no client yet) too, counted in its ep_stats.
 */
#include "stats.h"
#include "ifstats.h"
#include <xdphook/policy.h>

/* Just the fields read here; CO-RE finds them in the running kernel. */
struct net {
	__u64 net_cookie;
} __attribute__((preserve_access_index));

typedef struct {
	struct net *net;
} possible_net_t;

struct net_device {
	possible_net_t nd_net;
} __attribute__((preserve_access_index));

struct xdp_rxq_info {
	struct net_device *dev;
} __attribute__((preserve_access_index));

struct xdp_buff {
	struct xdp_rxq_info *rxq;
} __attribute__((preserve_access_index));

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XH_EP_SLOTS);
	__type(key, __u32);
	__type(value, __u64); /* netns cookie of the slot's xdp0, 0: free */
} ep_slot SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XH_EP_SLOTS);
	__type(key, __u32);
	__type(value, struct xdphook_ifcounters);
} ep_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XH_EP_SLOTS * XH_EP_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} ep_xsks SEC(".maps");

_Static_assert((XH_EP_SLOTS & (XH_EP_SLOTS - 1)) == 0, "XH_EP_SLOTS must be a power of two");

SEC("xdp")
int xdphook_endpt(struct xdp_md *ctx)
{
	struct xdp_buff *xdp = bpf_cast_to_kern_ctx(ctx);
	__u64 cookie = xdp->rxq->dev->nd_net.net->net_cookie;
	__u32 slot = (__u32)cookie & (XH_EP_SLOTS - 1);
	__u32 queue = ctx->rx_queue_index;
	__u64 *owner = bpf_map_lookup_elem(&ep_slot, &slot);
	struct xdphook_ifcounters *c;

	if (!owner || *owner != cookie)
		return count_verdict(ctx, XDP_PASS);
	c = bpf_map_lookup_elem(&ep_stats, &slot);
	if (queue >= XH_EP_QUEUES)
		return count_verdict_in(c, ctx, XDP_PASS);
	return count_verdict_in(c, ctx, bpf_redirect_map(&ep_xsks, slot * XH_EP_QUEUES + queue, XDP_PASS));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
