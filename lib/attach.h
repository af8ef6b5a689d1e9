/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Attaching xdphook programs so that they outlive the tool, and finding
 * them again: every attachment owns one bpffs directory
 *   /sys/fs/bpf/xdphook/v2/dev-<netns cookie>-<ifindex>/
 * holding "meta" (struct xdphook_meta), so status and detach need no other
 * state, and either the program (prog) with its non-internal maps by name
 * (xh_attach: libxdp), or the bpf_link that holds the device (xh_attach_link,
 * for a program loaded once and attached to many devices) with the maps
 * its users read.
 *
 * A program shared by several devices has a directory of its own,
 *   /sys/fs/bpf/xdphook/v2/shared-<netns cookie>-<name>/
 * with prog, its maps and a meta (attach XDPHOOK_ATTACH_SHARED, ifindex 0);
 * status lists it too.
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
/* Raised when a pinned map's layout changes, so one build never feeds
 * another's maps (v2: the NIC program's ports and pod4_slots, xdp0's shared
 * endpoint with ep_xsks and ep_stats). */
#define XH_PIN_VERSION "v2"
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

/* A loaded program attached through a pinned bpf_link (where the kernel
 * has XDP links, 5.9+; else a plain netlink attach that refuses to replace
 * anything): no libxdp, no dispatcher, nothing loaded or verified. */
struct xh_pin_obj {
	const char *name;
	int fd;
};

struct xh_link_req {
	int prog_fd;
	int ifindex;             /* in the calling thread's netns */
	const char *ifname;
	enum xh_mode mode;
	const char *program;     /* label in status */
	const char *owner;
	int target_ifindex;      /* redirect target, 0 if none */
	const char *target;
	const struct xh_pin_obj *pins; /* also pinned in the device's directory */
	size_t n_pins;
};

/* Attach req->prog_fd to req->ifindex and pin link, meta and req->pins.
 * -EEXIST if xdphook pins exist there; -EBUSY naming the program if the
 * device has one. On failure nothing is left attached or pinned. */
int xh_attach_link(const struct xh_link_req *req);

/* The XDP program on ifindex (caller's netns) as "'name' (id N)" in buf;
 * -ENOENT if it has none. */
int xh_xdp_holder(int ifindex, char *buf, size_t size);

/* Detach what xdphook attached on ifindex (current netns) and remove its
 * pins; if the device is gone, just the pins. -ENOENT if nothing of ours
 * is there. */
int xh_detach(int ifindex);

/* Remove the pins of (cookie, ifindex) without touching any device: for
 * devices that are gone or in a namespace we cannot enter. */
int xh_unpin(uint64_t cookie, int ifindex);
/* Open the pinned object `name` of (cookie, ifindex): an fd or -errno. */
int xh_pin_open(uint64_t cookie, int ifindex, const char *name);
/* The meta of (cookie, ifindex): -ENOENT if there is none. */
int xh_pin_meta(uint64_t cookie, int ifindex, struct xdphook_meta *meta);
/* Per-verdict counters of the attachment (cookie, ifindex), whichever way
 * its program counts (xdphook_stats, or per device: "ifstats"); zeros if
 * none. */
void xh_pin_counters(uint64_t cookie, int ifindex, struct xdphook_counter out[XDPHOOK_VERDICTS]);

/* ---- programs shared by several devices ---------------------------------- */

/* The directory of shared program `name` of netns cookie. */
int xh_shared_dir(uint64_t cookie, const char *name, char *buf, size_t size);
/* Open the pinned object `name` in dir: an fd or -errno. */
int xh_dir_open(const char *dir, const char *name);
/* Publish a loaded object as shared program dir: prog, every non-internal
 * map, meta and pins (more names, e.g. "ifstats"), pinned into a scratch
 * directory (new-<name of dir>) that is then renamed into place, so dir is
 * complete or absent. -EEXIST if dir exists. */
int xh_pin_shared(struct bpf_object *obj, int prog_fd, const struct xdphook_meta *meta,
		  const struct xh_pin_obj *pins, size_t n_pins, const char *dir);
/* Remove a pin directory and its pins (a missing one is fine). */
void xh_pin_dir_remove(const char *dir);

struct xh_status {
	char pin_dir[PATH_MAX];
	struct xdphook_meta meta;
	struct xdphook_counter verdict[XDPHOOK_VERDICTS];
	bool shared;      /* a shared program's own directory: no device */
	bool this_netns;  /* the attachment is in the caller's netns */
	bool attached;    /* program still attached to the device (this netns only) */
	bool prog_alive;  /* the program still exists in the kernel */
};

/* Call fn for every attachment pinned under XH_PIN_BASE, sorted by path. */
int xh_status_walk(int (*fn)(const struct xh_status *st, void *ctx), void *ctx);

/* Sum a per-CPU array of struct xdphook_counter. */
int xh_read_counters(int map_fd, struct xdphook_counter out[XDPHOOK_VERDICTS]);
/* Sum the per-CPU entry of device ifindex of netns cookie in a shared
 * program's per-device map (include/xdphook/stats.h: an array is indexed
 * by the cookie's slot); ifindex 0: every entry (the whole program).
 * -ENOENT if the device has none. */
int xh_read_ifcounters(int map_fd, uint64_t cookie, uint32_t ifindex,
		       struct xdphook_counter out[XDPHOOK_VERDICTS]);

#endif
