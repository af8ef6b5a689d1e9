/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The xdp_endpoint program shared by every xdp0 of the host (see
 * endpoint_prog.h; map layouts: include/xdphook/policy.h).
 *
 * A program of each container's own would cost its setup and its teardown
 * a synchronize_rcu() each (the kernel's XDP dispatcher adds a program
 * attached for the first time and drops it when its last device goes):
 * over 10 ms apiece, most of what the hook spends. The shared one pays
 * that once, with the first container.
 *
 * Lifetime: like xdp_veth's, loaded with the first container that needs
 * it, unpinned with the last (ep_slot empty). Everything touching the
 * shared maps or the pins runs under the global lock.
 */
#include "endpoint_prog.h"
#include "attach.h"
#include "util.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xdp_endpoint_shared.skel.h"

#define EP_PROG_NAME "endpoint"

struct ep_prog {
	int prog, slot, progs;
};
#define EP_PROG_INIT { .prog = -1, .slot = -1, .progs = -1 }

/* The maps and what their pinned layout must be. */
static const struct {
	const char *name;
	size_t offset; /* of the fd in struct ep_prog */
	uint32_t type, key_size, value_size;
} ep_maps[] = {
	{ "ep_slot", offsetof(struct ep_prog, slot), BPF_MAP_TYPE_ARRAY, sizeof(uint32_t), sizeof(uint64_t) },
	{ "ep_progs", offsetof(struct ep_prog, progs), BPF_MAP_TYPE_PROG_ARRAY, sizeof(uint32_t),
	  sizeof(uint32_t) },
};

static int *map_fd(struct ep_prog *ep, size_t i)
{
	return (int *)((char *)ep + ep_maps[i].offset);
}

static void ep_close(struct ep_prog *ep)
{
	if (ep->prog >= 0)
		close(ep->prog);
	ep->prog = -1;
	for (size_t i = 0; i < ARRAY_SIZE(ep_maps); i++) {
		if (*map_fd(ep, i) >= 0)
			close(*map_fd(ep, i));
		*map_fd(ep, i) = -1;
	}
}

static int shared_dir(uint64_t cookie, char *dir, size_t size)
{
	return xh_shared_dir(cookie, EP_PROG_NAME, dir, size);
}

/* Open the pins of dir, checking each map's layout. -ENOENT if there is
 * no program, -EPROTO if a map is missing or laid out otherwise (pinned by
 * another build). */
static int open_dir(const char *dir, struct ep_prog *ep)
{
	ep->prog = xh_dir_open(dir, "prog");
	if (ep->prog < 0) {
		int err = ep->prog;

		ep->prog = -1;
		return err;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ep_maps); i++) {
		struct bpf_map_info info = {};
		uint32_t len = sizeof(info);
		int fd = xh_dir_open(dir, ep_maps[i].name);

		*map_fd(ep, i) = fd;
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != ep_maps[i].type ||
		    info.key_size != ep_maps[i].key_size || info.value_size != ep_maps[i].value_size) {
			ep_close(ep);
			return xh_err(-EPROTO, "%s/%s is missing or has another layout (pinned by another "
					       "xdphook build?)", dir, ep_maps[i].name);
		}
	}
	return 0;
}

/* Load the program and publish it as dir. -EOPNOTSUPP if it does not
 * load: this kernel lacks what it needs (bpf_cast_to_kern_ctx(), BTF). */
static int load(uint64_t cookie, const char *dir)
{
	struct xdp_endpoint_shared *skel = xdp_endpoint_shared__open_and_load();
	struct xdphook_meta meta = {
		.netns_cookie = cookie,
		.attach = XDPHOOK_ATTACH_SHARED,
		.attached_ns = xh_now_ns(CLOCK_REALTIME),
		.ifname = "(shared)",
		.program = EP_PROG_NAME,
		.owner = "xdp_hook",
	};
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);
	int prog_fd, err;

	if (!skel)
		return -EOPNOTSUPP;
	prog_fd = bpf_program__fd(skel->progs.xdphook_endpt);
	err = bpf_obj_get_info_by_fd(prog_fd, &info, &len) ? xh_err(-errno, "program info: %s", strerror(errno)) : 0;
	meta.prog_id = info.id;
	/* The program-wide xdphook_stats counts frames of a netns without
	 * an entry (should stay at zero). */
	if (!err)
		err = xh_pin_shared(skel->obj, prog_fd, &meta, NULL, 0, dir);
	/* The pins hold program and maps from here on. */
	xdp_endpoint_shared__destroy(skel);
	return err;
}

/* Any container's slot taken? ep_slot is written last at setup and
 * cleared first at teardown: one batch read of the whole array. An
 * ep_slot of another layout (another build's) is in use if it has any
 * entry; without an ep_slot we cannot tell: in use. */
static bool in_use(const char *dir)
{
	cleanup_close int fd = xh_dir_open(dir, "ep_slot");
	cleanup_free uint32_t *keys = calloc(XH_EP_SLOTS, sizeof(*keys));
	cleanup_free uint64_t *owners = calloc(XH_EP_SLOTS, sizeof(*owners));
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info), out_batch, count = XH_EP_SLOTS;
	uint8_t key[64];
	int err;

	if (fd < 0 || !keys || !owners || bpf_obj_get_info_by_fd(fd, &info, &len))
		return true;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != sizeof(*keys) ||
	    info.value_size != sizeof(*owners) || info.max_entries != XH_EP_SLOTS)
		return info.key_size > sizeof(key) || !bpf_map_get_next_key(fd, NULL, key);
	err = bpf_map_lookup_batch(fd, NULL, &out_batch, keys, owners, &count, &opts);
	if (err && errno != ENOENT) /* ENOENT: the whole array in one go */
		return true;
	for (uint32_t i = 0; i < count; i++)
		if (owners[i])
			return true;
	return false;
}

int ep_prog_release(uint64_t host_cookie, bool dry_run)
{
	char dir[PATH_MAX];
	cleanup_close int prog = -1;

	if (shared_dir(host_cookie, dir, sizeof(dir)))
		return 0;
	prog = xh_dir_open(dir, "prog");
	if (prog < 0 || in_use(dir))
		return 0;
	/* Links left by devices whose entries are gone keep the program
	 * itself alive, not its pins. */
	if (!dry_run)
		xh_pin_dir_remove(dir);
	return 1;
}

static int ep_get(uint64_t cookie, struct ep_prog *ep)
{
	char dir[PATH_MAX];
	int err = shared_dir(cookie, dir, sizeof(dir));

	if (err)
		return err;
	err = open_dir(dir, ep);
	/* Another layout, and nobody uses it: replace it. */
	if (err == -EPROTO && ep_prog_release(cookie, false))
		err = -ENOENT;
	if (err != -ENOENT)
		return err;
	err = load(cookie, dir);
	return err ? err : open_dir(dir, ep);
}

static uint32_t slot_of(uint64_t cookie)
{
	return (uint32_t)(cookie & (XH_EP_SLOTS - 1));
}

/* Under the global lock. */
static int take_locked(struct hook *h, int prog)
{
	struct ep_prog ep = EP_PROG_INIT;
	uint64_t cookie = h->st.netns_cookie, owner = 0;
	uint32_t slot = slot_of(cookie);
	int err;

	err = ep_get(h->st.host_cookie, &ep);
	if (!err && bpf_map_lookup_elem(ep.slot, &slot, &owner))
		err = xh_err(-errno, "ep_slot map: %s", strerror(errno));
	/* Another live container's (teardown frees a slot, of a setup that
	 * failed too): this one gets a program of its own on xdp0. */
	if (!err && owner && owner != cookie)
		err = -EOPNOTSUPP;
	/* The program before the slot: a frame that finds the slot finds it. */
	if (!err && bpf_map_update_elem(ep.progs, &slot, &prog, BPF_ANY))
		err = xh_err(-errno, "ep_progs map: %s", strerror(errno));
	if (!err && bpf_map_update_elem(ep.slot, &slot, &cookie, BPF_ANY))
		err = xh_err(-errno, "ep_slot map: %s", strerror(errno));
	if (!err)
		err = steal_fd(&ep.prog);
	ep_close(&ep);
	return err;
}

int ep_prog_take(struct hook *h, int prog)
{
	int lock, err;

	if (h->lock_fd >= 0)
		return take_locked(h, prog);
	lock = xh_lock();
	if (lock < 0)
		return xh_err(lock, "lock %s: %s", XH_LOCK_FILE, strerror(-lock));
	h->lock_fd = lock;
	err = take_locked(h, prog);
	xh_unlock(&h->lock_fd);
	return err;
}

void ep_prog_drop(const struct xh_state *st)
{
	struct ep_prog ep = EP_PROG_INIT;
	char dir[PATH_MAX];
	uint64_t cookie = st->netns_cookie, owner = 0, zero = 0;
	uint32_t slot = slot_of(cookie);

	if (!cookie || shared_dir(st->host_cookie, dir, sizeof(dir)) || open_dir(dir, &ep))
		return;
	/* ep_slot first: from then on frames from our netns go to the kernel
	 * and the slot is free. Only ours: the slot may be another's. */
	if (!bpf_map_lookup_elem(ep.slot, &slot, &owner) && owner == cookie) {
		bpf_map_update_elem(ep.slot, &slot, &zero, BPF_ANY);
		bpf_map_delete_elem(ep.progs, &slot);
	}
	ep_close(&ep);
	ep_prog_release(st->host_cookie, false);
}
