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
 * shared maps or the pins runs under the global lock, but the keeper's
 * insert and removal of socket 0 at the container's own key.
 */
#include "endpoint_prog.h"
#include "shared_prog.h"
#include "attach.h"
#include "util.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdlib.h>
#include <string.h>

#include "xdp_endpoint_shared.skel.h"

struct ep_prog {
	int prog, slot, stats, xsks;
};
#define EP_PROG_INIT { .prog = -1, .slot = -1, .stats = -1, .xsks = -1 }

static const struct shared_map ep_maps[] = {
	{ "ep_slot", offsetof(struct ep_prog, slot), BPF_MAP_TYPE_ARRAY, sizeof(uint32_t), sizeof(uint64_t) },
	{ "ep_stats", offsetof(struct ep_prog, stats), BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(uint32_t),
	  sizeof(struct xdphook_ifcounters) },
	{ "ep_xsks", offsetof(struct ep_prog, xsks), BPF_MAP_TYPE_XSKMAP, sizeof(uint32_t), sizeof(uint32_t) },
};

/* Load the program and publish it as dir. -EOPNOTSUPP if it does not
 * load: this kernel lacks what it needs (bpf_cast_to_kern_ctx(), BTF). */
static int load(const struct shared_prog *sp, uint64_t cookie, const char *dir)
{
	struct xdp_endpoint_shared *skel = xdp_endpoint_shared__open_and_load();
	int err;

	if (!skel)
		return -EOPNOTSUPP;
	/* The program-wide xdphook_stats counts frames of a netns without
	 * a slot (should stay at zero). */
	err = shared_prog_pin(sp, cookie, skel->obj, bpf_program__fd(skel->progs.xdphook_endpt), NULL, 0, dir);
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

static const struct shared_prog ep_shared = {
	.name = "endpoint",
	.prog_offset = offsetof(struct ep_prog, prog),
	.maps = ep_maps,
	.n_maps = ARRAY_SIZE(ep_maps),
	.load = load,
	.in_use = in_use,
};

int ep_prog_release(uint64_t host_cookie, bool dry_run)
{
	return shared_prog_release(&ep_shared, host_cookie, dry_run);
}

static uint32_t slot_of(uint64_t cookie)
{
	return (uint32_t)(cookie & (XH_EP_SLOTS - 1));
}

/* The slot's counters and sockets emptied: whatever a predecessor left
 * (one that died before its teardown) is not the next owner's. The
 * socket of a client that outlived its keeper stays in the XSKMAP until
 * deleted here. */
static int slot_clear(const struct ep_prog *ep, uint32_t slot)
{
	int ncpu = libbpf_num_possible_cpus();
	cleanup_free struct xdphook_ifcounters *zero = NULL;

	if (ncpu < 0)
		return xh_err(ncpu, "possible CPUs: %s", strerror(-ncpu));
	zero = calloc((size_t)ncpu, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	for (uint32_t q = 0; q < XH_EP_QUEUES; q++) {
		uint32_t key = slot * XH_EP_QUEUES + q;

		if (bpf_map_delete_elem(ep->xsks, &key) && errno != ENOENT)
			return xh_err(-errno, "ep_xsks map: %s", strerror(errno));
	}
	if (bpf_map_update_elem(ep->stats, &slot, zero, BPF_ANY))
		return xh_err(-errno, "ep_stats map: %s", strerror(errno));
	return 0;
}

/* Under the global lock. */
static int take_locked(struct hook *h, uint32_t queues, int *stats_fd)
{
	struct ep_prog ep = EP_PROG_INIT;
	uint64_t cookie = h->st.netns_cookie, owner = 0;
	uint32_t slot = slot_of(cookie);
	int err;

	if (queues > XH_EP_QUEUES)
		return -EOPNOTSUPP;
	err = shared_prog_get(&ep_shared, h->st.host_cookie, &ep);
	if (!err && bpf_map_lookup_elem(ep.slot, &slot, &owner))
		err = xh_err(-errno, "ep_slot map: %s", strerror(errno));
	/* Another live container's (teardown frees a slot, of a setup that
	 * failed too): this one gets a program of its own on xdp0. */
	if (!err && owner && owner != cookie)
		err = -EOPNOTSUPP;
	/* The slot's counters and sockets before the slot: a frame that
	 * finds the slot ours finds nothing of another's. */
	if (!err)
		err = slot_clear(&ep, slot);
	if (!err && bpf_map_update_elem(ep.slot, &slot, &cookie, BPF_ANY))
		err = xh_err(-errno, "ep_slot map: %s", strerror(errno));
	if (!err) {
		*stats_fd = steal_fd(&ep.stats);
		err = steal_fd(&ep.prog);
	}
	shared_prog_close(&ep_shared, &ep);
	return err;
}

int ep_prog_take(struct hook *h, uint32_t queues, int *stats_fd)
{
	int lock, err;

	if (h->lock_fd >= 0)
		return take_locked(h, queues, stats_fd);
	lock = xh_lock();
	if (lock < 0)
		return xh_err(lock, "lock %s: %s", XH_LOCK_FILE, strerror(-lock));
	h->lock_fd = lock;
	err = take_locked(h, queues, stats_fd);
	xh_unlock(&h->lock_fd);
	return err;
}

int ep_prog_xsks(const struct xh_state *st, uint32_t queue, uint32_t *key)
{
	struct ep_prog ep = EP_PROG_INIT;
	uint64_t owner = 0;
	uint32_t slot = slot_of(st->netns_cookie);
	int err;

	if (!st->netns_cookie || queue >= XH_EP_QUEUES)
		return -ENOENT;
	err = shared_prog_open(&ep_shared, st->host_cookie, &ep);
	if (err == -EPROTO)
		err = -ENOENT;
	if (!err && (bpf_map_lookup_elem(ep.slot, &slot, &owner) || owner != st->netns_cookie))
		err = -ENOENT;
	if (!err) {
		*key = slot * XH_EP_QUEUES + queue;
		err = steal_fd(&ep.xsks);
	}
	shared_prog_close(&ep_shared, &ep);
	return err;
}

void ep_prog_drop(const struct xh_state *st)
{
	struct ep_prog ep = EP_PROG_INIT;
	uint64_t cookie = st->netns_cookie, owner = 0, zero = 0;
	uint32_t slot = slot_of(cookie);

	if (!cookie || shared_prog_open(&ep_shared, st->host_cookie, &ep))
		return;
	/* ep_slot first: from then on frames from our netns go to the kernel
	 * and the slot is free. Only ours: the slot may be another's. Then
	 * its socket (a client that outlived the keeper still holds it) and
	 * counters, also of a free slot (a teardown that died half-way). */
	if (!bpf_map_lookup_elem(ep.slot, &slot, &owner) &&
	    (!owner || (owner == cookie && !bpf_map_update_elem(ep.slot, &slot, &zero, BPF_ANY))))
		slot_clear(&ep, slot);
	shared_prog_close(&ep_shared, &ep);
	ep_prog_release(st->host_cookie, false);
}
