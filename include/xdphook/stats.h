/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Layouts shared by the BPF programs and user space. */
#ifndef XDPHOOK_STATS_H
#define XDPHOOK_STATS_H

#include <linux/types.h>

/* Every program counts packets and bytes per verdict in a per-CPU array
 * indexed by the XDP action (XDP_ABORTED .. XDP_REDIRECT). */
#define XDPHOOK_VERDICTS 5

struct xdphook_counter {
	__u64 packets;
	__u64 bytes;
};

/* A program shared by several devices (xdp_veth serves every container's
 * xh-... of a network namespace) counts per device instead, in a
 * PERCPU_HASH keyed by the ingress ifindex (__u32) whose value starts with
 * struct xdphook_ifcounters; more per-device data may follow (xdp_veth
 * keeps the device's configuration there, so a frame costs one lookup).
 * User space creates a device's entry before attaching the program there
 * and deletes it after detaching; key 0 takes frames from a device without
 * an entry (should stay at zero). Each device's pin directory, and the
 * shared program's own, pin that map as "ifstats": readers take the entry
 * of meta.ifindex (the sum of all in the shared program's directory), the
 * per-CPU values round_up(value_size, 8) bytes apart. A PERCPU_ARRAY
 * instead (xdp0's shared endpoint program: one xdp0 per netns) is indexed
 * by the slot of meta.netns_cookie, the cookie modulo its max_entries. */
struct xdphook_ifcounters {
	struct xdphook_counter verdict[XDPHOOK_VERDICTS];
};

/* Pinned next to each program ("meta"): what user space needs to describe
 * the attachment without any other state. Written once at attach. */
#define XDPHOOK_NAME_LEN 16
#define XDPHOOK_OWNER_LEN 64

enum xdphook_attach {
	XDPHOOK_ATTACH_LIBXDP = 1, /* libxdp: dispatcher or single program */
	XDPHOOK_ATTACH_LINK = 2,   /* pinned bpf_link */
	XDPHOOK_ATTACH_NETLINK = 3, /* plain netlink attach (kernels without XDP
	                             * links), detached like a libxdp one */
	XDPHOOK_ATTACH_SHARED = 4, /* not attached itself: a program shared by
	                            * several devices, each of which has its own
	                            * directory (ifindex 0, ifname "(shared)") */
};

struct xdphook_meta {
	__u64 netns_cookie;
	__u32 ifindex;
	__u32 prog_id;
	__u32 xdp_flags;  /* XDP_FLAGS_* mode the program was attached with */
	__u32 attach;     /* enum xdphook_attach */
	__u64 attached_ns; /* CLOCK_REALTIME at attach */
	char ifname[XDPHOOK_NAME_LEN];
	char program[XDPHOOK_NAME_LEN]; /* pass, drop, redirect, ... */
	char owner[XDPHOOK_OWNER_LEN];  /* "xdp_loader" or the container id */
	__u32 target_ifindex;           /* redirect target, 0 if none */
	char target[XDPHOOK_NAME_LEN];
};

#endif
