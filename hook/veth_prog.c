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
#include "attach.h"
#include "util.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <string.h>
#include <time.h>

#include "xdp_veth.skel.h"

#define VETH_PROG_NAME "veth"

/* The maps and what their pinned layout must be. */
static const struct {
	const char *name;
	size_t offset; /* of the fd in struct veth_prog */
	uint32_t key_size, value_size;
} veth_maps[] = {
	{ "veth_dev", offsetof(struct veth_prog, dev), sizeof(uint32_t), sizeof(struct xh_veth_dev) },
	{ "src_ips", offsetof(struct veth_prog, ips), sizeof(struct xh_veth_ip), sizeof(uint8_t) },
	{ "fastpath", offsetof(struct veth_prog, fastpath), sizeof(struct xh_veth_lpm_key), sizeof(uint8_t) },
	{ "publish_rev", offsetof(struct veth_prog, publish_rev), sizeof(struct xh_veth_port),
	  sizeof(struct xh_port_val) },
};

static int *map_fd(struct veth_prog *vp, size_t i)
{
	return (int *)((char *)vp + veth_maps[i].offset);
}

void veth_prog_close(struct veth_prog *vp)
{
	if (vp->prog >= 0)
		close(vp->prog);
	vp->prog = -1;
	for (size_t i = 0; i < ARRAY_SIZE(veth_maps); i++) {
		if (*map_fd(vp, i) >= 0)
			close(*map_fd(vp, i));
		*map_fd(vp, i) = -1;
	}
}

static int shared_dir(uint64_t cookie, char *dir, size_t size)
{
	return xh_shared_dir(cookie, VETH_PROG_NAME, dir, size);
}

/* Open the pins of dir, checking each map's layout: pins left by a build
 * with other layouts must not be fed ours. -ENOENT if there is no program,
 * -EPROTO if its layout differs. */
static int open_dir(const char *dir, struct veth_prog *vp)
{
	vp->prog = xh_dir_open(dir, "prog");
	if (vp->prog < 0) {
		int err = vp->prog;

		vp->prog = -1;
		return err;
	}
	for (size_t i = 0; i < ARRAY_SIZE(veth_maps); i++) {
		struct bpf_map_info info = {};
		uint32_t len = sizeof(info);
		int fd = xh_dir_open(dir, veth_maps[i].name);

		*map_fd(vp, i) = fd;
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) || info.key_size != veth_maps[i].key_size ||
		    info.value_size != veth_maps[i].value_size) {
			veth_prog_close(vp);
			return xh_err(-EPROTO, "%s/%s is missing or has another layout (pinned by another "
					       "xdphook build?)", dir, veth_maps[i].name);
		}
	}
	return 0;
}

int veth_prog_open(uint64_t cookie, struct veth_prog *vp)
{
	char dir[PATH_MAX];
	int err = shared_dir(cookie, dir, sizeof(dir));

	return err ? err : open_dir(dir, vp);
}

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
static int load(uint64_t cookie, const char *dir)
{
	struct xdp_veth *skel = xdp_veth__open_and_load();
	struct xdphook_meta meta = {
		.netns_cookie = cookie,
		.attach = XDPHOOK_ATTACH_SHARED,
		.attached_ns = xh_now_ns(CLOCK_REALTIME),
		.ifname = "(shared)",
		.program = VETH_PROG_NAME,
		.owner = "xdp_hook",
	};
	struct xh_veth_cfg none = { 0 };
	struct xh_pin_obj ifstats;
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);
	int prog_fd, err;

	if (!skel)
		return xh_err(-errno, "load xdp_veth: %s", strerror(errno));
	prog_fd = bpf_program__fd(skel->progs.xdphook_veth);
	err = bpf_obj_get_info_by_fd(prog_fd, &info, &len) ? -errno : 0;
	meta.prog_id = info.id;
	/* The catch-all: counts frames from a device without an entry, and
	 * its zero configuration (no mode) drops them. */
	if (!err)
		err = set_dev(bpf_map__fd(skel->maps.veth_dev), 0, &none);
	/* Where status finds the counters of the whole program. */
	ifstats = (struct xh_pin_obj){ "ifstats", bpf_map__fd(skel->maps.veth_dev) };
	if (!err)
		err = xh_pin_shared(skel->obj, prog_fd, &meta, &ifstats, 1, dir);
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

int veth_prog_release(uint64_t cookie, bool dry_run)
{
	char dir[PATH_MAX];
	cleanup_close int prog = -1;

	if (shared_dir(cookie, dir, sizeof(dir)))
		return 0;
	prog = xh_dir_open(dir, "prog");
	if (prog < 0 || in_use(dir))
		return 0;
	/* Links of devices whose entries are gone (a torn-down veth's, if
	 * its unpinning failed) keep the program itself alive, not its pins. */
	if (!dry_run)
		xh_pin_dir_remove(dir);
	return 1;
}

int veth_prog_get(uint64_t cookie, struct veth_prog *vp)
{
	char dir[PATH_MAX];
	int err = shared_dir(cookie, dir, sizeof(dir));

	if (err)
		return err;
	err = open_dir(dir, vp);
	/* Another layout, and nobody uses it: replace it. */
	if (err == -EPROTO && veth_prog_release(cookie, false))
		err = -ENOENT;
	if (err != -ENOENT)
		return err;
	err = load(cookie, dir);
	return err ? err : open_dir(dir, vp);
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
