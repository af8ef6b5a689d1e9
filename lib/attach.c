/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Persistent attachment through libxdp, so a foreign program can share the
 * device through libxdp's dispatcher where the kernel allows it; where it
 * does not (no freplace), libxdp falls back to one program per device and a
 * device that already has a program is refused with its name.
 *
 * Devices xdphook creates itself (the hook's veths) have no foreign
 * program to share with: there a program loaded once is attached through a
 * pinned bpf_link (xh_attach_link), which needs neither libxdp's probing
 * nor a load per device.
 */
#include "attach.h"
#include "util.h"

#include <dirent.h>
#include <net/if.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <time.h>

#include <bpf/bpf.h>
#include <xdp/libxdp.h>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

static const char *const mode_names[] = {
	[XH_MODE_AUTO] = "auto",
	[XH_MODE_NATIVE] = "native",
	[XH_MODE_SKB] = "skb",
};

int xh_mode_parse(const char *s, enum xh_mode *mode)
{
	for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++) {
		if (!strcmp(s, mode_names[i])) {
			*mode = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *xh_mode_name(enum xh_mode mode)
{
	return (size_t)mode < ARRAY_SIZE(mode_names) ? mode_names[mode] : "?";
}

const char *xh_xdp_flags_name(uint32_t flags)
{
	if (flags & XDP_FLAGS_HW_MODE)
		return "hw";
	if (flags & XDP_FLAGS_DRV_MODE)
		return "native";
	if (flags & XDP_FLAGS_SKB_MODE)
		return "skb";
	return "auto";
}

static enum xdp_attach_mode libxdp_mode(enum xh_mode mode)
{
	switch (mode) {
	case XH_MODE_NATIVE:
		return XDP_MODE_NATIVE;
	case XH_MODE_SKB:
		return XDP_MODE_SKB;
	default:
		return XDP_MODE_UNSPEC;
	}
}

int xh_bpffs_ensure(void)
{
	struct statfs st;

	if (!statfs(XH_BPFFS, &st) && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", XH_BPFFS, "bpf", 0, "mode=0700"))
		return xh_err(-errno, "cannot mount bpffs at %s: %s", XH_BPFFS, strerror(errno));
	return 0;
}

int xh_netns_cookie(uint64_t *cookie)
{
	cleanup_close int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof(*cookie);

	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len) == 0)
		return 0;
	/* Before 5.14 there is no cookie: the netns inode is unique while the
	 * namespace lives, which is as long as anything pinned for it matters. */
	struct stat s;

	if (stat("/proc/thread-self/ns/net", &s))
		return -errno;
	*cookie = s.st_ino;
	return 0;
}

int xh_pin_dir(uint64_t cookie, int ifindex, char *buf, size_t size)
{
	int n = xh_snprintf(buf, size, XH_PIN_BASE "/dev-%llu-%d", (unsigned long long)cookie, ifindex);

	return n < 0 ? n : 0;
}

int xh_kernel_check(void)
{
	struct utsname u;
	unsigned int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return 0; /* cannot tell: let the features speak */
	if (major < 5 || (major == 5 && minor < 4))
		return xh_err(-EOPNOTSUPP, "kernel %s is too old: xdphook needs Linux 5.4 or newer",
			      u.release);
	return 0;
}

/* Name and id of whatever XDP program holds ifindex now, for messages. */
static int describe_current(int ifindex, char *buf, size_t size, uint32_t *id_out)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);
	uint32_t id;
	int err;

	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	id = q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
	if (id_out)
		*id_out = id;
	if (!id)
		return -ENOENT;
	cleanup_close int fd = bpf_prog_get_fd_by_id(id);
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
		snprintf(buf, size, "'%s' (id %u)", info.name, id);
	else
		snprintf(buf, size, "id %u", id);
	return 0;
}

int xh_xdp_holder(int ifindex, char *buf, size_t size)
{
	return describe_current(ifindex, buf, size, NULL);
}

/* Remove the pin directory and everything in it (only files: pins). */
void xh_pin_dir_remove(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (xh_snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= 0)
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static int pin_fd(int fd, const char *dir, const char *name)
{
	char path[PATH_MAX];
	int err = xh_snprintf(path, sizeof(path), "%s/%s", dir, name);

	if (err < 0)
		return err;
	if (bpf_obj_pin(fd, path))
		return xh_err(-errno, "pin %s: %s", path, strerror(errno));
	return 0;
}

/* Pin the program, every non-internal map and a meta map into dir. */
static int pin_all(struct bpf_object *obj, int prog_fd, const struct xdphook_meta *meta,
		   const char *dir)
{
	struct bpf_map *map;
	uint32_t key = 0;
	int err;

	err = xh_mkdir_p(dir, 0700);
	if (err)
		return xh_err(err, "create %s: %s", dir, strerror(-err));
	err = pin_fd(prog_fd, dir, "prog");
	if (err)
		return err;
	bpf_object__for_each_map(map, obj) {
		if (bpf_map__is_internal(map))
			continue;
		err = pin_fd(bpf_map__fd(map), dir, bpf_map__name(map));
		if (err)
			return err;
	}

	cleanup_close int meta_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xdphook_meta", sizeof(key),
						   sizeof(*meta), 1, NULL);
	if (meta_fd < 0)
		return xh_err(-errno, "create meta map: %s", strerror(errno));
	if (bpf_map_update_elem(meta_fd, &key, meta, BPF_ANY))
		return -errno;
	return pin_fd(meta_fd, dir, "meta");
}

int xh_dir_open(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (xh_snprintf(path, sizeof(path), "%s/%s", dir, name) < 0)
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

static int read_meta(const char *dir, struct xdphook_meta *meta)
{
	cleanup_close int fd = xh_dir_open(dir, "meta");
	uint32_t key = 0;

	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &key, meta))
		return -errno;
	return 0;
}

/* Refuse to attach where xdphook pins exist already. */
static int refuse_existing(const char *dir)
{
	struct xdphook_meta meta;
	struct stat st;

	if (stat(dir, &st))
		return 0;
	if (!read_meta(dir, &meta))
		return xh_err(-EEXIST, "%s already attached '%s' here; detach it first", meta.owner,
			      meta.program);
	return xh_err(-EEXIST, "xdphook pins exist in %s; detach first", dir);
}

/* The error for a failed attach, naming whatever holds the device. */
static int attach_error(int ifindex, enum xh_mode mode, int err)
{
	char holder[64];

	/* EEXIST/EBUSY when a program that cannot be shared (no dispatcher,
	 * a legacy one, a link) holds the device. */
	if (!describe_current(ifindex, holder, sizeof(holder), NULL))
		return xh_err(-EBUSY,
			      "device already has XDP program %s and it cannot be shared "
			      "(libxdp dispatcher unavailable or program not libxdp-managed); "
			      "detach it first",
			      holder);
	if (err == -EOPNOTSUPP && mode == XH_MODE_NATIVE)
		return xh_err(err, "driver has no native XDP support (try -mode skb)");
	return xh_err(err, "attach: %s", strerror(-err));
}

/* XDP_FLAGS_* of the mode the kernel actually chose on ifindex. */
static uint32_t attached_flags(int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return 0;
	return q.attach_mode == XDP_ATTACHED_DRV   ? XDP_FLAGS_DRV_MODE
	       : q.attach_mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE
	       : q.attach_mode == XDP_ATTACHED_HW  ? XDP_FLAGS_HW_MODE
						   : 0;
}

static void meta_describe(struct xdphook_meta *m, const char *ifname, const char *program, const char *owner,
			  int target_ifindex, const char *target)
{
	m->attached_ns = xh_now_ns(CLOCK_REALTIME);
	m->target_ifindex = target_ifindex;
	snprintf(m->ifname, sizeof(m->ifname), "%s", ifname);
	snprintf(m->program, sizeof(m->program), "%s", program);
	snprintf(m->owner, sizeof(m->owner), "%s", owner);
	snprintf(m->target, sizeof(m->target), "%s", target ? target : "");
}

/* bpffs mounted, and the pin directory of ifindex in the caller's netns. */
static int local_pin_dir(int ifindex, uint64_t *cookie, char *dir, size_t size)
{
	int err = xh_bpffs_ensure();

	if (!err)
		err = xh_netns_cookie(cookie);
	if (!err)
		err = xh_pin_dir(*cookie, ifindex, dir, size);
	return err;
}

int xh_attach(const struct xh_attach_req *req)
{
	char dir[PATH_MAX];
	struct xdp_program *prog;
	struct xdphook_meta meta = {};
	uint64_t cookie;
	int err;

	err = local_pin_dir(req->ifindex, &cookie, dir, sizeof(dir));
	if (!err)
		err = refuse_existing(dir);
	if (err)
		return err;

	DECLARE_LIBXDP_OPTS(xdp_program_opts, popts, .obj = req->obj, .prog_name = req->prog_name);
	prog = xdp_program__create(&popts);
	err = libxdp_get_error(prog);
	if (err)
		return xh_err(err, "load %s: %s", req->prog_name, strerror(-err));

	err = xdp_program__attach(prog, req->ifindex, libxdp_mode(req->mode), 0);
	if (err) {
		err = attach_error(req->ifindex, req->mode, err);
		xdp_program__close(prog);
		return err;
	}

	if (req->setup) {
		err = req->setup(xdp_program__bpf_obj(prog), req->setup_ctx);
		if (err)
			goto detach;
	}

	meta.netns_cookie = cookie;
	meta.ifindex = req->ifindex;
	meta.prog_id = xdp_program__id(prog);
	meta.attach = XDPHOOK_ATTACH_LIBXDP;
	meta.xdp_flags = attached_flags(req->ifindex);
	meta_describe(&meta, req->ifname, req->program, req->owner, req->target_ifindex, req->target);

	err = pin_all(xdp_program__bpf_obj(prog), xdp_program__fd(prog), &meta, dir);
	if (err)
		goto detach;
	xdp_program__close(prog);
	return 0;

detach:
	xdp_program__detach(prog, req->ifindex, libxdp_mode(req->mode), 0);
	xdp_program__close(prog);
	xh_pin_dir_remove(dir);
	return err;
}

static uint32_t mode_flags(enum xh_mode mode)
{
	return mode == XH_MODE_NATIVE ? XDP_FLAGS_DRV_MODE : mode == XH_MODE_SKB ? XDP_FLAGS_SKB_MODE : 0;
}

/* Detach prog_id from ifindex, attached there by netlink, only if it is
 * still what the device runs. */
static int netlink_detach(int ifindex, uint32_t prog_id, uint32_t xdp_flags)
{
	cleanup_close int fd = bpf_prog_get_fd_by_id(prog_id);
	LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = fd);

	if (fd < 0)
		return -errno;
	return bpf_xdp_detach(ifindex, XDP_FLAGS_REPLACE | (xdp_flags & XDP_FLAGS_MODES), &o);
}

int xh_attach_link(const struct xh_link_req *req)
{
	LIBBPF_OPTS(bpf_link_create_opts, lopts, .flags = mode_flags(req->mode));
	struct xdphook_meta meta = { .ifindex = req->ifindex, .attach = XDPHOOK_ATTACH_LINK };
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info), key = 0;
	cleanup_close int link_fd = -1, meta_fd = -1;
	char dir[PATH_MAX];
	uint64_t cookie;
	int err;

	err = local_pin_dir(req->ifindex, &cookie, dir, sizeof(dir));
	if (!err)
		err = refuse_existing(dir);
	if (err)
		return err;
	meta.netns_cookie = cookie;
	if (bpf_obj_get_info_by_fd(req->prog_fd, &info, &len))
		return xh_err(-errno, "program info: %s", strerror(errno));
	meta.prog_id = info.id;
	meta_describe(&meta, req->ifname, req->program, req->owner, req->target_ifindex, req->target);

	link_fd = bpf_link_create(req->prog_fd, req->ifindex, BPF_XDP, &lopts);
	if (link_fd < 0 && errno == EINVAL) {
		/* Before 5.9 there are no XDP links: attach by netlink, never
		 * over a program someone else attached. */
		meta.attach = XDPHOOK_ATTACH_NETLINK;
		err = bpf_xdp_attach(req->ifindex, req->prog_fd, mode_flags(req->mode) | XDP_FLAGS_UPDATE_IF_NOEXIST,
				     NULL);
	} else if (link_fd < 0) {
		err = -errno;
	}
	if (err)
		return attach_error(req->ifindex, req->mode, err);
	meta.xdp_flags = attached_flags(req->ifindex);

	/* The link last: until it is pinned, closing its fd (on any error,
	 * or if we die) detaches the program again. */
	err = xh_mkdir_p(dir, 0700);
	if (err)
		err = xh_err(err, "create %s: %s", dir, strerror(-err));
	for (size_t i = 0; !err && i < req->n_pins; i++)
		err = pin_fd(req->pins[i].fd, dir, req->pins[i].name);
	if (!err) {
		meta_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xdphook_meta", sizeof(key), sizeof(meta), 1, NULL);
		if (meta_fd < 0 || bpf_map_update_elem(meta_fd, &key, &meta, BPF_ANY))
			err = xh_err(-errno, "meta map: %s", strerror(errno));
	}
	if (!err)
		err = pin_fd(meta_fd, dir, "meta");
	if (!err && link_fd >= 0)
		err = pin_fd(link_fd, dir, "link");
	if (err) {
		xh_pin_dir_remove(dir);
		if (meta.attach == XDPHOOK_ATTACH_NETLINK)
			netlink_detach(req->ifindex, meta.prog_id, meta.xdp_flags);
	}
	return err;
}

/* Find prog_id among the programs libxdp sees on ifindex (alone, or inside
 * a dispatcher) and, if asked, detach it. -ENOENT if it is not there. */
static int find_on_ifindex(int ifindex, uint32_t prog_id, bool detach)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p = NULL;
	int err = libxdp_get_error(mp);

	if (err)
		return err;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && xdp_program__id(p) != prog_id)
			p = NULL;
	} else {
		while ((p = xdp_multiprog__next_prog(p, mp)))
			if (xdp_program__id(p) == prog_id)
				break;
	}
	if (!p)
		err = -ENOENT;
	else if (detach)
		err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
	xdp_multiprog__close(mp);
	return err;
}

int xh_detach(int ifindex)
{
	char dir[PATH_MAX];
	struct xdphook_meta meta;
	uint64_t cookie;
	int err;

	err = local_pin_dir(ifindex, &cookie, dir, sizeof(dir));
	if (err)
		return err;
	err = read_meta(dir, &meta);
	if (err == -ENOENT)
		return xh_err(-ENOENT, "nothing attached here by xdphook");
	if (err)
		return xh_err(err, "read %s/meta: %s", dir, strerror(-err));

	if (meta.attach == XDPHOOK_ATTACH_LINK) {
		char path[PATH_MAX];

		if (xh_snprintf(path, sizeof(path), "%s/link", dir) >= 0) {
			cleanup_close int fd = bpf_obj_get(path);

			if (fd >= 0)
				bpf_link_detach(fd);
		}
	} else if (meta.attach == XDPHOOK_ATTACH_NETLINK) {
		err = netlink_detach(ifindex, meta.prog_id, meta.xdp_flags);
		/* Gone, or no longer ours (-EEXIST): nothing to detach. */
		if (err && err != -ENODEV && err != -EEXIST && err != -ENOENT)
			return xh_err(err, "detach program id %u: %s", meta.prog_id, strerror(-err));
	} else if (if_indextoname(ifindex, (char[IF_NAMESIZE]){ 0 })) {
		err = find_on_ifindex(ifindex, meta.prog_id, true);
		/* Already gone (someone else detached it): just clean up. */
		if (err && err != -ENOENT)
			return xh_err(err, "detach program id %u: %s", meta.prog_id, strerror(-err));
	}
	xh_pin_dir_remove(dir);
	return 0;
}

int xh_unpin(uint64_t cookie, int ifindex)
{
	char dir[PATH_MAX];
	int err = xh_pin_dir(cookie, ifindex, dir, sizeof(dir));

	if (err)
		return err;
	xh_pin_dir_remove(dir);
	return 0;
}

int xh_pin_open(uint64_t cookie, int ifindex, const char *name)
{
	char dir[PATH_MAX];
	int err = xh_pin_dir(cookie, ifindex, dir, sizeof(dir));

	return err ? err : xh_dir_open(dir, name);
}

int xh_pin_meta(uint64_t cookie, int ifindex, struct xdphook_meta *meta)
{
	char dir[PATH_MAX];
	int err = xh_pin_dir(cookie, ifindex, dir, sizeof(dir));

	return err ? err : read_meta(dir, meta);
}

/* Counters of the program pinned in dir: its own xdphook_stats, or the
 * device's entry (ifindex of netns cookie; ifindex 0: all of them) in a
 * shared program's per-device map, pinned as "ifstats". */
static void dir_counters(const char *dir, uint64_t cookie, uint32_t ifindex,
			 struct xdphook_counter out[XDPHOOK_VERDICTS])
{
	cleanup_close int fd = xh_dir_open(dir, "xdphook_stats");
	cleanup_close int ifd = -1;

	if (fd >= 0 && !xh_read_counters(fd, out))
		return;
	ifd = xh_dir_open(dir, "ifstats");
	if (ifd >= 0 && !xh_read_ifcounters(ifd, cookie, ifindex, out))
		return;
	memset(out, 0, sizeof(*out) * XDPHOOK_VERDICTS);
}

void xh_pin_counters(uint64_t cookie, int ifindex, struct xdphook_counter out[XDPHOOK_VERDICTS])
{
	char dir[PATH_MAX];

	memset(out, 0, sizeof(*out) * XDPHOOK_VERDICTS);
	if (ifindex > 0 && !xh_pin_dir(cookie, ifindex, dir, sizeof(dir)))
		dir_counters(dir, cookie, (uint32_t)ifindex, out);
}

/* ---- shared programs ------------------------------------------------------------- */

int xh_shared_dir(uint64_t cookie, const char *name, char *buf, size_t size)
{
	int n = xh_snprintf(buf, size, XH_PIN_BASE "/shared-%llu-%s", (unsigned long long)cookie, name);

	return n < 0 ? n : 0;
}

int xh_pin_shared(struct bpf_object *obj, int prog_fd, const struct xdphook_meta *meta,
		  const struct xh_pin_obj *pins, size_t n_pins, const char *dir)
{
	const char *base = strrchr(dir, '/');
	char tmp[PATH_MAX];
	struct stat st;
	int err = xh_bpffs_ensure();

	if (err)
		return err;
	if (!stat(dir, &st))
		return xh_err(-EEXIST, "%s exists", dir);
	/* A scratch name status walks never list ("new-...": bpffs names
	 * cannot have dots). */
	base = base ? base + 1 : dir;
	err = xh_snprintf(tmp, sizeof(tmp), "%.*snew-%s", (int)(base - dir), dir, base);
	if (err < 0)
		return err;
	xh_pin_dir_remove(tmp); /* left by a predecessor that died half-way */
	err = pin_all(obj, prog_fd, meta, tmp);
	for (size_t i = 0; !err && i < n_pins; i++)
		err = pin_fd(pins[i].fd, tmp, pins[i].name);
	if (!err && rename(tmp, dir))
		err = xh_err(-errno, "rename %s to %s: %s", tmp, dir, strerror(errno));
	if (err)
		xh_pin_dir_remove(tmp);
	return err;
}

int xh_read_counters(int map_fd, struct xdphook_counter out[XDPHOOK_VERDICTS])
{
	int ncpu = libbpf_num_possible_cpus();

	if (ncpu < 0)
		return ncpu;
	cleanup_free struct xdphook_counter *percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (uint32_t k = 0; k < XDPHOOK_VERDICTS; k++) {
		out[k] = (struct xdphook_counter){};
		if (bpf_map_lookup_elem(map_fd, &k, percpu))
			return -errno;
		for (int c = 0; c < ncpu; c++) {
			out[k].packets += percpu[c].packets;
			out[k].bytes += percpu[c].bytes;
		}
	}
	return 0;
}

/* Add the per-CPU entry key of a per-device counter map to out: each
 * CPU's value (stride bytes apart) starts with struct xdphook_ifcounters. */
static int add_ifentry(int map_fd, uint32_t key, uint8_t *percpu, size_t stride, int ncpu,
		       struct xdphook_counter out[XDPHOOK_VERDICTS])
{
	if (bpf_map_lookup_elem(map_fd, &key, percpu))
		return -errno;
	for (int c = 0; c < ncpu; c++) {
		struct xdphook_ifcounters v;

		memcpy(&v, percpu + c * stride, sizeof(v));
		for (int i = 0; i < XDPHOOK_VERDICTS; i++) {
			out[i].packets += v.verdict[i].packets;
			out[i].bytes += v.verdict[i].bytes;
		}
	}
	return 0;
}

int xh_read_ifcounters(int map_fd, uint64_t cookie, uint32_t ifindex,
		       struct xdphook_counter out[XDPHOOK_VERDICTS])
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info), key;
	size_t stride;

	memset(out, 0, sizeof(*out) * XDPHOOK_VERDICTS);
	if (ncpu < 0)
		return ncpu;
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return -errno;
	if (info.key_size != sizeof(key) || info.value_size < sizeof(struct xdphook_ifcounters))
		return -EINVAL;
	/* The kernel copies per-CPU values 8-byte aligned. */
	stride = (info.value_size + 7) & ~(size_t)7;
	cleanup_free uint8_t *percpu = calloc(ncpu, stride);
	if (!percpu)
		return -ENOMEM;
	/* An array is indexed by the netns's slot (include/xdphook/stats.h). */
	if (ifindex && info.type == BPF_MAP_TYPE_PERCPU_ARRAY && info.max_entries)
		return add_ifentry(map_fd, (uint32_t)(cookie % info.max_entries), percpu, stride, ncpu, out);
	if (ifindex)
		return add_ifentry(map_fd, ifindex, percpu, stride, ncpu, out);
	/* The whole program: every device's entry and the catch-all. */
	for (int err = bpf_map_get_next_key(map_fd, NULL, &key); !err;
	     err = bpf_map_get_next_key(map_fd, &key, &key)) {
		err = add_ifentry(map_fd, key, percpu, stride, ncpu, out);
		if (err && err != -ENOENT) /* -ENOENT: deleted while we walk */
			return err;
	}
	return 0;
}

static int fill_status(const char *dir, uint64_t my_cookie, struct xh_status *st)
{
	int err;

	memset(st, 0, sizeof(*st));
	snprintf(st->pin_dir, sizeof(st->pin_dir), "%s", dir);
	err = read_meta(dir, &st->meta);
	if (err)
		return err;
	st->shared = st->meta.attach == XDPHOOK_ATTACH_SHARED;
	dir_counters(dir, st->meta.netns_cookie, st->shared ? 0 : st->meta.ifindex, st->verdict);
	{
		cleanup_close int fd = bpf_prog_get_fd_by_id(st->meta.prog_id);

		st->prog_alive = fd >= 0;
	}
	st->this_netns = st->meta.netns_cookie == my_cookie;
	if (st->this_netns && !st->shared)
		st->attached = st->prog_alive && !find_on_ifindex(st->meta.ifindex, st->meta.prog_id, false);
	return 0;
}

/* Attachments and shared programs (not the scratch directories, new-...,
 * a shared program is pinned in before it is renamed into place). */
static bool is_dev_dir(const struct dirent *e)
{
	return !strncmp(e->d_name, "dev-", 4) || !strncmp(e->d_name, "shared-", 7);
}

int xh_status_walk(int (*fn)(const struct xh_status *st, void *ctx), void *ctx)
{
	char **names = NULL;
	size_t n = 0;
	uint64_t cookie;
	int err;

	err = xh_bpffs_ensure();
	if (!err)
		err = xh_netns_cookie(&cookie);
	if (!err)
		err = xh_dir_list(XH_PIN_BASE, is_dev_dir, &names, &n);
	for (size_t i = 0; i < n; i++) {
		char dir[PATH_MAX];
		struct xh_status st;

		if (!err && xh_snprintf(dir, sizeof(dir), XH_PIN_BASE "/%s", names[i]) >= 0 &&
		    !fill_status(dir, cookie, &st))
			err = fn(&st, ctx);
	}
	xh_dir_list_free(names, n);
	return err;
}
