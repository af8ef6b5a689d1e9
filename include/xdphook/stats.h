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

/* Pinned next to each program ("meta"): what user space needs to describe
 * the attachment without any other state. Written once at attach. */
#define XDPHOOK_NAME_LEN 16
#define XDPHOOK_OWNER_LEN 64

enum xdphook_attach {
	XDPHOOK_ATTACH_LIBXDP = 1, /* libxdp: dispatcher or single program */
	XDPHOOK_ATTACH_LINK = 2,   /* pinned bpf_link */
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
