/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Attaching xdphook programs so that they outlive the tool, and finding
 * them again: every attachment owns one bpffs directory
 *   /sys/fs/bpf/xdphook/v1/dev-<netns cookie>-<ifindex>/
 * holding the program (prog), its non-internal maps by name, and "meta"
 * (struct xdphook_meta), so status and detach need no other state.
 */
#ifndef XDPHOOK_ATTACH_H
#define XDPHOOK_ATTACH_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include <xdphook/stats.h>

#define XH_BPFFS "/sys/fs/bpf"
#define XH_PIN_ROOT XH_BPFFS "/xdphook"
#define XH_PIN_VERSION "v1"
#define XH_PIN_BASE XH_PIN_ROOT "/" XH_PIN_VERSION

enum xh_mode {
	XH_MODE_AUTO = 0, /* let the kernel choose (native where supported) */
	XH_MODE_NATIVE,
	XH_MODE_SKB,
};

int xh_mode_parse(const char *s, enum xh_mode *mode);
const char *xh_mode_name(enum xh_mode mode);
/* "native", "skb", "hw" or "auto" from XDP_FLAGS_* */
const char *xh_xdp_flags_name(uint32_t xdp_flags);

/* Mount bpffs at /sys/fs/bpf if nothing is mounted there. */
int xh_bpffs_ensure(void);
/* Cookie of the calling thread's network namespace. */
int xh_netns_cookie(uint64_t *cookie);
/* The pin directory for (cookie, ifindex). */
int xh_pin_dir(uint64_t cookie, int ifindex, char *buf, size_t size);

/* Refuse kernels older than 5.4 (XDP_FLAGS_REPLACE-era features, AF_XDP
 * need-wakeup). Returns -EOPNOTSUPP with a detail. */
int xh_kernel_check(void);

struct xh_attach_req {
	struct bpf_object *obj;  /* opened, not yet loaded (a skeleton's obj) */
	const char *prog_name;   /* the SEC("xdp") function to attach */
	int ifindex;
	const char *ifname;
	enum xh_mode mode;
	const char *program;     /* label in status: pass, drop, redirect, ... */
	const char *owner;       /* "xdp_loader" or a container id */
	int target_ifindex;      /* redirect target, 0 if none */
	const char *target;
	/* Called after load and attach, before pinning: fill maps. */
	int (*setup)(struct bpf_object *obj, void *ctx);
	void *setup_ctx;
};

/* Load and attach so it persists after exit; pin prog, maps, meta.
 * -EEXIST if xdphook already attached there; -EBUSY naming the program if
 * a foreign program holds the device and cannot be shared. On failure
 * nothing is left attached or pinned. */
int xh_attach(const struct xh_attach_req *req);

/* Detach what xdphook attached on ifindex (current netns) and remove its
 * pins; if the device is gone, just the pins. -ENOENT if nothing of ours
 * is there. */
int xh_detach(int ifindex);

/* Remove the pins of (cookie, ifindex) without touching any device: for
 * devices that are gone or in a namespace we cannot enter. */
int xh_unpin(uint64_t cookie, int ifindex);
/* Open the pinned object `name` of (cookie, ifindex): an fd or -errno. */
int xh_pin_open(uint64_t cookie, int ifindex, const char *name);

struct xh_status {
	char pin_dir[PATH_MAX];
	struct xdphook_meta meta;
	struct xdphook_counter verdict[XDPHOOK_VERDICTS];
	bool this_netns;  /* the attachment is in the caller's netns */
	bool attached;    /* program still attached to the device (this netns only) */
	bool prog_alive;  /* the program still exists in the kernel */
};

/* Call fn for every attachment pinned under XH_PIN_BASE, sorted by path. */
int xh_status_walk(int (*fn)(const struct xh_status *st, void *ctx), void *ctx);

/* Sum a per-CPU array of struct xdphook_counter. */
int xh_read_counters(int map_fd, struct xdphook_counter out[XDPHOOK_VERDICTS]);

#endif
