/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The xdp_veth program of the hook's network namespace, shared by every
 * container's xh-... there (map layouts: include/xdphook/policy.h).
 *
 * Verifying xdp_veth takes longer than everything else a container's setup
 * does together, so it is loaded once per network namespace and pinned
 * with its maps under XH_PIN_BASE/shared-<netns cookie>-veth/. A container
 * adds its entries, keyed by its veth's ifindex, and attaches the program
 * to its veth through a bpf_link pinned in the veth's own directory
 * (xh_attach_link). Attaching a program the kernel already runs elsewhere
 * also spares the XDP dispatcher update (a synchronize_rcu()) that every
 * new program costs.
 *
 * Lifetime: the program goes with the last container using it (veth_dev
 * has no entry but the catch-all then), like the NIC program. Keeping it
 * would spare the next first container one load, but leave pins behind on
 * a node that stopped using the hook, which nothing could tell from a
 * leak; a node that runs containers keeps it loaded anyway.
 *
 * Everything here runs under xh_lock().
 */
#include "hook.h"
#include "shared_prog.h"
#include "attach.h"
#include "util.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <string.h>

#include "xdp_veth.skel.h"

static const struct shared_map veth_maps[] = {
	{ "veth_dev", offsetof(struct veth_prog, dev), BPF_MAP_TYPE_PERCPU_HASH, sizeof(uint32_t),
	  sizeof(struct xh_veth_dev) },
	{ "src_ips", offsetof(struct veth_prog, ips), BPF_MAP_TYPE_HASH, sizeof(struct xh_veth_ip), sizeof(uint8_t) },
	{ "fastpath", offsetof(struct veth_prog, fastpath), BPF_MAP_TYPE_LPM_TRIE, sizeof(struct xh_veth_lpm_key),
	  sizeof(uint8_t) },
	{ "publish_rev", offsetof(struct veth_prog, publish_rev), BPF_MAP_TYPE_HASH, sizeof(struct xh_veth_port),
	  sizeof(struct xh_port_val) },
};

/* veth_dev[ifindex]: cfg in every CPU's copy, counters from zero (an
 * entry left by an earlier device with this ifindex must not count for
 * this one). */
static int set_dev(int fd, uint32_t ifindex, const struct xh_veth_cfg *cfg)
{
	int ncpu = libbpf_num_possible_cpus();

	/* struct xh_veth_dev is a multiple of 8 bytes: the kernel's per-CPU
	 * stride. */
	_Static_assert(sizeof(struct xh_veth_dev) % 8 == 0, "per-CPU values must be 8-byte multiples");
	if (ncpu < 0)
		return ncpu;
	cleanup_free struct xh_veth_dev *v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (int c = 0; c < ncpu; c++)
		v[c].cfg = *cfg;
	if (bpf_map_update_elem(fd, &ifindex, v, BPF_ANY))
		return xh_err(-errno, "veth_dev map: %s", strerror(errno));
	return 0;
}

/* Load xdp_veth (the verifier's long run) and publish it as dir. */
static int load(const struct shared_prog *sp, uint64_t cookie, const char *dir)
{
	struct xdp_veth *skel = xdp_veth__open_and_load();
	struct xh_veth_cfg none = { 0 };
	struct xh_pin_obj ifstats;
	int err;

	if (!skel)
		return xh_err(-errno, "load xdp_veth: %s", strerror(errno));
	/* The catch-all: counts frames from a device without an entry, and
	 * its zero configuration (no mode) drops them. */
	err = set_dev(bpf_map__fd(skel->maps.veth_dev), 0, &none);
	/* Where status finds the counters of the whole program. */
	ifstats = (struct xh_pin_obj){ "ifstats", bpf_map__fd(skel->maps.veth_dev) };
	if (!err)
		err = shared_prog_pin(sp, cookie, skel->obj, bpf_program__fd(skel->progs.xdphook_veth), &ifstats, 1,
				      dir);
	/* The pins hold program and maps from here on. */
	xdp_veth__destroy(skel);
	return err;
}

/* Does any device still have an entry? veth_dev is written last at setup
 * and deleted first at teardown: an entry other than the catch-all (0)
 * means a user. Without a veth_dev we cannot tell: in use. */
static bool in_use(const char *dir)
{
	cleanup_close int fd = xh_dir_open(dir, "veth_dev");
	uint8_t key[64] = { 0 }, next[64] = { 0 }; /* whatever the layout */
	uint8_t *prev = NULL;

	if (fd < 0)
		return true;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		if (memcmp(next, (uint8_t[64]){ 0 }, sizeof(next)))
			return true;
		memcpy(key, next, sizeof(key));
		prev = key;
	}
	return false;
}

static const struct shared_prog veth_shared = {
	.name = "veth",
	.prog_offset = offsetof(struct veth_prog, prog),
	.maps = veth_maps,
	.n_maps = ARRAY_SIZE(veth_maps),
	.load = load,
	.in_use = in_use,
};

int veth_prog_open(uint64_t cookie, struct veth_prog *vp)
{
	return shared_prog_open(&veth_shared, cookie, vp);
}

int veth_prog_get(uint64_t cookie, struct veth_prog *vp)
{
	return shared_prog_get(&veth_shared, cookie, vp);
}

void veth_prog_close(struct veth_prog *vp)
{
	shared_prog_close(&veth_shared, vp);
}

int veth_prog_release(uint64_t cookie, bool dry_run)
{
	return shared_prog_release(&veth_shared, cookie, dry_run);
}

/* ---- a container's entries ------------------------------------------------------ */

static void src_key(uint32_t ifindex, const struct xh_ip *ip, struct xh_veth_ip *k)
{
	memset(k, 0, sizeof(*k));
	k->ifindex = ifindex;
	k->ip.family = ip->family;
	memcpy(k->ip.addr, ip->addr, ip->family == XH_AF_INET ? 4 : 16);
}

static void lpm_key(uint32_t ifindex, const struct xh_cidr *net, struct xh_veth_lpm_key *k)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = XH_VETH_LPM_PREFIX(net->plen);
	k->ifindex = ifindex;
	k->family = net->ip.family;
	memcpy(k->addr, net->ip.addr, sizeof(k->addr));
}

int veth_prog_fill(struct hook *h, const struct veth_prog *vp)
{
	const struct xh_state *st = &h->st;
	uint32_t ifindex = st->veth_ifindex;
	struct xh_veth_cfg cfg = { .mode = st->mode, .nic_ifindex = st->nic_ifindex };
	uint8_t one = 1;
	int err;

	for (size_t i = 0; i < st->n_ips; i++) {
		struct xh_veth_ip k;

		src_key(ifindex, &st->ips[i].ip, &k);
		if (bpf_map_update_elem(vp->ips, &k, &one, BPF_ANY))
			return xh_err(-errno, "src_ips map: %s", strerror(errno));
	}
	for (size_t i = 0; i < st->n_fastpath; i++) {
		struct xh_veth_lpm_key k;

		lpm_key(ifindex, &st->fastpath[i], &k);
		if (bpf_map_update_elem(vp->fastpath, &k, &one, BPF_ANY))
			return xh_err(-errno, "fastpath map: %s", strerror(errno));
	}
	if (st->mode == XH_HOST && (err = host_fill_veth_maps(h, vp->publish_rev)))
		return err;
	/* Host mode: xdp0 carries the NIC's MAC, so this is the NIC's too. */
	memcpy(cfg.sandbox_mac, st->peer_mac, 6);
	/* Written last: a device without an entry has everything dropped,
	 * and an entry is what marks the program as in use. */
	return set_dev(vp->dev, ifindex, &cfg);
}

void veth_prog_forget(const struct xh_state *st, const struct veth_prog *vp)
{
	uint32_t ifindex = st->veth_ifindex;
	const struct xh_host_state *hs = &st->host;

	/* veth_dev first: from then on the program drops whatever still
	 * arrives on the device. Missing entries are fine (a setup that
	 * failed half-way, a second teardown). */
	bpf_map_delete_elem(vp->dev, &ifindex);
	for (size_t i = 0; i < st->n_ips; i++) {
		struct xh_veth_ip k;

		src_key(ifindex, &st->ips[i].ip, &k);
		bpf_map_delete_elem(vp->ips, &k);
	}
	for (size_t i = 0; i < st->n_fastpath; i++) {
		struct xh_veth_lpm_key k;

		lpm_key(ifindex, &st->fastpath[i], &k);
		bpf_map_delete_elem(vp->fastpath, &k);
	}
	for (size_t i = 0; st->mode == XH_HOST && i < hs->n_publish; i++) {
		const struct xh_publish_rule *r = &hs->publish[i];

		for (unsigned int p = r->sandbox_lo; p <= r->sandbox_hi; p++) {
			struct xh_veth_port k = { .ifindex = ifindex, .port = { .proto = r->proto, .port = p } };

			bpf_map_delete_elem(vp->publish_rev, &k);
		}
	}
}
