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
 * A container's slot is its cookie modulo XH_EP_SLOTS: ep_slot[slot] holds
 * the cookie that owns it (0: free), ep_progs[slot] the container's own
 * xdp_endpoint program (its XSKMAP and counters, what the keeper, status
 * and list use), tail-called. Two array lookups, no hashing: the frame
 * pays little more than the program of its own would cost. (The rare
 * container whose slot is taken by a live one is given its own program on
 * xdp0 instead.) A program in a PROG_ARRAY is attached nowhere, so it is
 * nothing to the dispatcher, and array updates wait for no grace period
 * (a map of maps would: every update and delete from user space is a
 * synchronize_rcu()). A frame from a netns without a slot (or whose
 * program is gone) goes to the kernel, counted in xdphook_stats.
 */
#include "stats.h"
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
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, XH_EP_SLOTS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} ep_progs SEC(".maps");

_Static_assert((XH_EP_SLOTS & (XH_EP_SLOTS - 1)) == 0, "XH_EP_SLOTS must be a power of two");

SEC("xdp")
int xdphook_endpt(struct xdp_md *ctx)
{
	struct xdp_buff *xdp = bpf_cast_to_kern_ctx(ctx);
	__u64 cookie = xdp->rxq->dev->nd_net.net->net_cookie;
	__u32 slot = (__u32)cookie & (XH_EP_SLOTS - 1);
	__u64 *owner = bpf_map_lookup_elem(&ep_slot, &slot);

	if (owner && *owner == cookie)
		bpf_tail_call(ctx, &ep_progs, slot);
	return count_verdict(ctx, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
