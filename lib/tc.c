/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include "tc.h"
#include "util.h"

#include <linux/pkt_sched.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netlink/cache.h>
#include <netlink/route/classifier.h>
#include <netlink/socket.h>

static void nl_sock_freep(struct nl_sock **s)
{
	if (*s)
		nl_socket_free(*s);
}

static void nl_cache_freep(struct nl_cache **c)
{
	if (*c)
		nl_cache_free(*c);
}

int xh_tc_clsact_ensure(int ifindex, bool *created)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	int err = bpf_tc_hook_create(&hook);

	*created = !err;
	if (err == -EEXIST)
		return 0;
	if (err)
		return xh_err(err, "add clsact qdisc: %s", strerror(-err));
	return 0;
}

/* Filters (and the per-priority entries of the dump) under one clsact
 * side; libbpf only looks filters up by handle and priority. */
static int count_filters(struct nl_sock *sk, int ifindex, uint32_t side, int *n)
{
	struct nl_cache *cache __attribute__((cleanup(nl_cache_freep))) = NULL;
	int err = rtnl_cls_alloc_cache(sk, ifindex, TC_H_MAKE(TC_H_CLSACT, side), &cache);

	if (err)
		return -EIO;
	*n += nl_cache_nitems(cache);
	return 0;
}

int xh_tc_clsact_remove_if_empty(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	struct nl_sock *sk __attribute__((cleanup(nl_sock_freep))) = nl_socket_alloc();
	int n = 0, err;

	if (!sk)
		return -ENOMEM;
	if (nl_connect(sk, NETLINK_ROUTE))
		return -EIO;
	/* Somebody else's filters on it now, or no telling (the qdisc may be
	 * gone already): it stays. */
	if (count_filters(sk, ifindex, TC_H_MIN_INGRESS, &n) ||
	    count_filters(sk, ifindex, TC_H_MIN_EGRESS, &n) || n)
		return 0;
	/* Both sides at once: that deletes the qdisc itself. */
	err = bpf_tc_hook_destroy(&hook);
	if (err == -ENOENT || err == -EINVAL || err == -ENODEV)
		return 0;
	return err ? xh_err(err, "remove clsact qdisc: %s", strerror(-err)) : 0;
}

int xh_tc_attach_ingress(struct xh_tc_filter *f, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = f->ifindex, .attach_point = BPF_TC_INGRESS);
	/* No BPF_TC_F_REPLACE: a filter already at this place stays. */
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = f->handle, .priority = f->priority);
	int err = bpf_tc_attach(&hook, &opts);

	/* EINVAL: a filter of another protocol holds the priority. */
	if (err == -EEXIST || err == -EINVAL)
		return xh_err(-EEXIST, "tc ingress priority %u (handle 0x%x) is in use by another filter",
			      f->priority, f->handle);
	if (err)
		return xh_err(err, "attach tc ingress filter: %s", strerror(-err));
	f->prog_id = opts.prog_id;
	return 0;
}

static bool prog_named(uint32_t id, const char *name)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);
	cleanup_close int fd = bpf_prog_get_fd_by_id(id);

	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) && !strcmp(info.name, name);
}

int xh_tc_detach_ingress(const struct xh_tc_filter *f, const char *prog_name)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = f->ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = f->handle, .priority = f->priority);
	uint32_t id;
	int err;

	if (!f->priority || !f->handle || !f->ifindex)
		return 0;
	err = bpf_tc_query(&hook, &opts);
	if (err == -ENOENT || err == -EINVAL || err == -ENODEV)
		return 0; /* no filter there (or no clsact, or no device) */
	if (err)
		return xh_err(err, "query tc ingress filter: %s", strerror(-err));
	id = opts.prog_id;
	if (f->prog_id ? id != f->prog_id : !prog_named(id, prog_name))
		return 0;
	/* bpf_tc_detach wants the place only. */
	opts.prog_id = 0;
	opts.prog_fd = 0;
	opts.flags = 0;
	err = bpf_tc_detach(&hook, &opts);
	if (err == -ENOENT)
		return 0;
	return err ? xh_err(err, "detach tc ingress filter: %s", strerror(-err)) : 0;
}
