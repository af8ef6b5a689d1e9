/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xdp_hook list and gc. */
#include "hook.h"
#include "keeper.h"
#include "endpoint_prog.h"
#include "attach.h"
#include "netlink.h"
#include "netns_live.h"
#include "util.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <net/if.h>
#include <linux/if_xdp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

static const char *const verdicts[XDPHOOK_VERDICTS] = { "aborted", "drop", "pass", "tx", "redirect" };

/* Counters of the program attached at (cookie, ifindex), the device's
 * own also where the program is shared (xdp_veth); zeros if none. */
static void counters(uint64_t cookie, int ifindex, struct xdphook_counter c[XDPHOOK_VERDICTS])
{
	xh_pin_counters(cookie, ifindex, c);
}

static json_t *counters_json(uint64_t cookie, int ifindex)
{
	struct xdphook_counter c[XDPHOOK_VERDICTS];
	json_t *o = json_object();

	counters(cookie, ifindex, c);
	for (int v = 0; v < XDPHOOK_VERDICTS; v++)
		json_object_set_new(o, verdicts[v], json_pack("{s:I,s:I}", "packets", (json_int_t)c[v].packets,
							       "bytes", (json_int_t)c[v].bytes));
	return o;
}

static json_t *range_str(unsigned int lo, unsigned int hi)
{
	return lo == hi ? json_sprintf("%u", lo) : json_sprintf("%u-%u", lo, hi);
}

/* "8080:80/tcp", "9000-9009:9000-9009/udp" (the config's syntax). */
static json_t *publish_json(const struct xh_host_state *hs)
{
	json_t *a = json_array();

	if (hs->publish_all)
		json_array_append_new(a, json_string("all"));
	for (size_t i = 0; i < hs->n_publish; i++) {
		const struct xh_publish_rule *r = &hs->publish[i];
		json_auto_t *h = range_str(r->host_lo, r->host_hi);
		json_auto_t *s = range_str(r->sandbox_lo, r->sandbox_hi);

		json_array_append_new(a, json_sprintf("%s:%s/%s", json_string_value(h), json_string_value(s),
						      xh_proto_name(r->proto)));
	}
	return a;
}

static json_t *reserve_json(const struct xh_host_state *hs)
{
	json_t *a = json_array();

	for (size_t i = 0; i < hs->n_reserve; i++) {
		json_auto_t *p = range_str(hs->reserve[i].lo, hs->reserve[i].hi);

		json_array_append_new(a, json_sprintf("%s/%s", json_string_value(p),
						      xh_proto_name(hs->reserve[i].proto)));
	}
	return a;
}

/* fd of the map called name that program prog_id uses, or -errno. */
static int prog_map_fd(uint32_t prog_id, const char *name)
{
	cleanup_close int prog = bpf_prog_get_fd_by_id(prog_id);
	uint32_t ids[8], n = ARRAY_SIZE(ids);
	struct bpf_prog_info info = { .nr_map_ids = n, .map_ids = (uint64_t)(uintptr_t)ids };
	uint32_t len = sizeof(info);

	if (prog < 0 || bpf_obj_get_info_by_fd(prog, &info, &len))
		return -errno;
	for (uint32_t i = 0; i < info.nr_map_ids && i < n; i++) {
		struct bpf_map_info mi = {};
		uint32_t mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &mi, &mlen) && !strcmp(mi.name, name))
			return fd;
		if (fd >= 0)
			close(fd);
	}
	return -ENOENT;
}

/* The tc_clone counters (packets): ARP and ND copies sent to the sandbox. */
static json_t *clone_json(const struct xh_state *st)
{
	static const char *const names[XH_CLONE_STATS] = { "seen", "arp", "nd", "no_target", "fail" };
	cleanup_close int fd = st->host.tc.prog_id ? prog_map_fd(st->host.tc.prog_id, "clone_stats") : -1;
	struct xdphook_counter c[XDPHOOK_VERDICTS];
	json_t *o = json_object();

	/* The same per-CPU layout as the XDP counters, and as many slots. */
	_Static_assert(XH_CLONE_STATS == XDPHOOK_VERDICTS, "clone_stats and xdphook_stats differ in size");
	if (fd < 0 || xh_read_counters(fd, c))
		memset(c, 0, sizeof(c));
	for (int i = 0; i < XH_CLONE_STATS; i++)
		json_object_set_new(o, names[i], json_integer((json_int_t)c[i].packets));
	return o;
}

static json_t *host_json(const struct xh_state *st)
{
	const struct xh_host_state *hs = &st->host;

	return json_pack("{s:o,s:o,s:{s:i,s:i},s:{s:i,s:i},s:o}", "publish", publish_json(hs), "reserve",
			 reserve_json(hs), "sandbox_ports", "lo", hs->sandbox_eph_lo, "hi", hs->sandbox_eph_hi,
			 "host_ports", "lo", hs->host_eph_lo, "hi", hs->host_eph_hi, "clone", clone_json(st));
}

/* netns mode: the CNI's interface, and the one change on the host. */
static json_t *netns_json(const struct xh_state *st)
{
	const struct xh_netns_state *n = &st->netns;
	char change[64] = "none";

	if (n->csum_off)
		snprintf(change, sizeof(change), "tx-checksum off on %s", n->host_peer);
	return json_pack("{s:s,s:i,s:s,s:s,s:s}", "iface", n->iface, "ifindex", st->peer_ifindex, "host_peer",
			 n->host_peer, "host_change", change, "netns_path", n->path);
}

/* Every AF_XDP socket the keeper holds, in fd order, through a
 * duplicate taken with pidfd_getfd: fn(its fd number there, our
 * duplicate, ctx) until fn returns 0. -ENOENT if the keeper is gone. */
static int keeper_xsks(const struct xh_state *st, int (*fn)(int num, int fd, void *ctx), void *ctx)
{
	char dir[64], link[64], path[320];
	cleanup_close int pidfd = -1;
	DIR *d;
	int err = -ENOENT;

	if (st->keeper_pid <= 0 || !xh_proc_running(st->keeper_pid, st->keeper_start))
		return -ENOENT;
	pidfd = (int)syscall(SYS_pidfd_open, st->keeper_pid, 0);
	if (pidfd < 0)
		return -errno;
	/* The pidfd pins the process: still the recorded keeper? */
	if (!xh_proc_running(st->keeper_pid, st->keeper_start))
		return -ENOENT;
	snprintf(dir, sizeof(dir), "/proc/%d/fd", st->keeper_pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	for (struct dirent *e; err && (e = readdir(d));) {
		int domain = 0, fd;
		socklen_t len = sizeof(domain);
		ssize_t n;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0 || strncmp(link, "socket:", 7))
			continue;
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(e->d_name), 0);
		if (fd < 0)
			continue;
		if (!getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) && domain == AF_XDP)
			err = fn(atoi(e->d_name), fd, ctx);
		close(fd);
	}
	closedir(d);
	return err;
}

/* Socket 0: the endpoint socket (the client's, or the fresh one the next
 * client gets); the direct sockets sit at KEEPER_FD_DIRECT + queue (own
 * UMEM) or KEEPER_FD_DIRECT_SHARED + queue (socket 0's). */
static int socket0_stats(int num, int fd, void *ctx)
{
	socklen_t len = sizeof(struct xdp_statistics);

	if (num >= KEEPER_FD_DIRECT)
		return -ENOENT;
	memset(ctx, 0, len);
	return getsockopt(fd, SOL_XDP, XDP_STATISTICS, ctx, &len) ? -errno : 0;
}

/* XDP_STATISTICS of the endpoint socket the keeper holds: -ENOENT if the
 * keeper is gone or holds none. */
static int xsk_stats(const struct xh_state *st, struct xdp_statistics *xs)
{
	return keeper_xsks(st, socket0_stats, xs);
}

static json_t *stats_json(const struct xdp_statistics *xs)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "rx_dropped", (json_int_t)xs->rx_dropped, "rx_invalid_descs",
			 (json_int_t)xs->rx_invalid_descs, "tx_invalid_descs", (json_int_t)xs->tx_invalid_descs,
			 "rx_ring_full", (json_int_t)xs->rx_ring_full, "rx_fill_ring_empty_descs",
			 (json_int_t)xs->rx_fill_ring_empty_descs, "tx_ring_empty_descs",
			 (json_int_t)xs->tx_ring_empty_descs);
}

/* One direct socket: its queue, whether it is bound yet (zero-copy or
 * copy), the UMEM it is on (its own or socket 0's) and its statistics. */
struct direct_walk {
	const struct xh_state *st;
	json_t *arr;   /* list -json */
	char *line;    /* list: "nic0/q0:copy:own-umem:rx_dropped=0,..." */
	size_t size;
};

static int direct_one(int num, int fd, void *ctx)
{
	struct direct_walk *w = ctx;
	struct xdp_statistics xs = { 0 };
	struct xdp_options o = { 0 };
	socklen_t len = sizeof(o);
	bool own = num < KEEPER_FD_DIRECT_SHARED;
	int q = num - (own ? KEEPER_FD_DIRECT : KEEPER_FD_DIRECT_SHARED);
	const char *mode, *umem = own ? "own" : "xdp0";
	size_t used;

	if (num < KEEPER_FD_DIRECT)
		return -ENOENT;
	/* XDP_OPTIONS answers bound sockets only. */
	mode = getsockopt(fd, SOL_XDP, XDP_OPTIONS, &o, &len) ? "unbound"
	       : (o.flags & XDP_OPTIONS_ZEROCOPY) ? "zero-copy" : "copy";
	len = sizeof(xs);
	getsockopt(fd, SOL_XDP, XDP_STATISTICS, &xs, &len);
	if (w->arr)
		json_array_append_new(w->arr, json_pack("{s:s,s:i,s:s,s:s,s:o}", "device", w->st->nic,
							"queue", q, "mode", mode, "umem", umem,
							"statistics", stats_json(&xs)));
	used = w->line ? strlen(w->line) : 0;
	if (w->line && used < w->size)
		snprintf(w->line + used, w->size - used, " %s/q%d:%s:%s-umem:rx_dropped=%llu,fill_empty=%llu",
			 w->st->nic, q, mode, umem, (unsigned long long)xs.rx_dropped,
			 (unsigned long long)xs.rx_fill_ring_empty_descs);
	return -ENOENT; /* on to the next */
}

static json_t *xsk_stats_json(const struct xh_state *st)
{
	struct xdp_statistics xs;

	if (xsk_stats(st, &xs))
		return json_null();
	return stats_json(&xs);
}

/* `direct`: what the keeper holds now (none while no client has them). */
static json_t *direct_json(const struct xh_state *st)
{
	struct direct_walk w = { .st = st, .arr = json_array() };

	keeper_xsks(st, direct_one, &w);
	return json_pack("{s:i,s:o}", "queues", (int)st->host.direct_queues, "sockets", w.arr);
}

static int add_json(const struct xh_state *st, void *ctx)
{
	char mac[18], buf[64];
	json_t *ips = json_array(), *o;

	for (size_t i = 0; i < st->n_ips; i++) {
		xh_cidr_format(&st->ips[i], buf, sizeof(buf));
		json_array_append_new(ips, json_string(buf));
	}
	o = json_pack("{s:s,s:s,s:s,s:b,s:i,s:s,s:s,s:i,s:s,s:o,s:{s:o,s:o,s:o}}", "id", st->id, "mode",
		      xh_addr_mode_name(st->mode), "status", st->status, "alive", xh_state_alive(st), "pid",
		      st->pid, "nic", st->nic, "veth", st->veth, "mtu", (int)st->mtu, "sandbox_mac",
		      xh_mac_str(st->peer_mac, mac, sizeof(mac)), "ips", ips, "programs", "nic",
		      counters_json(st->host_cookie, st->nic_ifindex), "veth",
		      counters_json(st->host_cookie, st->veth_ifindex), "endpoint",
		      counters_json(st->netns_cookie, st->peer_ifindex));
	if (o)
		json_object_set_new(o, "endpoint_socket", xsk_stats_json(st));
	if (o && st->mode == XH_HOST)
		json_object_set_new(o, "host", host_json(st));
	if (o && st->mode == XH_HOST && st->host.direct_queues)
		json_object_set_new(o, "direct", direct_json(st));
	if (o && st->mode == XH_NETNS)
		json_object_set_new(o, "netns", netns_json(st));
	json_array_append_new(ctx, o);
	return 0;
}

static int print_row(const struct xh_state *st, void *ctx)
{
	struct xdphook_counter nic[XDPHOOK_VERDICTS], veth[XDPHOOK_VERDICTS], ep[XDPHOOK_VERDICTS];
	char ips[128] = "", buf[64], peer[24], xsk[2048] = "-";
	struct xdp_statistics xs;

	(void)ctx;
	if (!xsk_stats(st, &xs))
		snprintf(xsk, sizeof(xsk), "rx_dropped=%llu rx_ring_full=%llu fill_empty=%llu tx_empty=%llu",
			 (unsigned long long)xs.rx_dropped, (unsigned long long)xs.rx_ring_full,
			 (unsigned long long)xs.rx_fill_ring_empty_descs, (unsigned long long)xs.tx_ring_empty_descs);
	if (st->mode == XH_HOST && st->host.direct_queues) {
		struct direct_walk w = { .st = st, .line = xsk, .size = sizeof(xsk) };

		snprintf(xsk + strlen(xsk), sizeof(xsk) - strlen(xsk), "; direct %u queues:",
			 st->host.direct_queues);
		keeper_xsks(st, direct_one, &w);
	}
	for (size_t i = 0; i < st->n_ips; i++) {
		xh_cidr_format(&st->ips[i], buf, sizeof(buf));
		snprintf(ips + strlen(ips), sizeof(ips) - strlen(ips), "%s%s", i ? "," : "", buf);
	}
	counters(st->host_cookie, st->nic_ifindex, nic);
	counters(st->host_cookie, st->veth_ifindex, veth);
	counters(st->netns_cookie, st->peer_ifindex, ep);
	/* netns mode: nothing of ours on the host; the columns show the
	 * CNI's interface and its host peer (",tx-off": offload turned off). */
	if (st->mode == XH_NETNS)
		snprintf(peer, sizeof(peer), "%s%s", st->netns.host_peer[0] ? st->netns.host_peer : "-",
			 st->netns.csum_off ? ",tx-off" : "");
	printf("%-20.20s %-5s %-10s %-5s %-10s %-15s %-24s %10llu %10llu %10llu %s\n", st->id,
	       xh_addr_mode_name(st->mode), st->status, xh_state_alive(st) ? "yes" : "no",
	       st->mode == XH_NETNS ? st->netns.iface : st->nic, st->mode == XH_NETNS ? peer : st->veth, ips,
	       (unsigned long long)nic[XDP_REDIRECT].packets, (unsigned long long)veth[XDP_REDIRECT].packets,
	       (unsigned long long)ep[XDP_REDIRECT].packets, xsk);
	return 0;
}

int hook_list(bool json)
{
	int err;

	if (json) {
		json_t *arr = json_array();

		err = xh_state_walk(add_json, arr);
		if (!err) {
			json_dumpf(arr, stdout, JSON_INDENT(2));
			putchar('\n');
		}
		json_decref(arr);
	} else {
		printf("%-20s %-5s %-10s %-5s %-10s %-15s %-24s %10s %10s %10s %s\n", "id", "mode", "status", "alive",
		       "nic", "veth", "ips", "nic>veth", "veth>nic", "endpoint", "endpoint socket (XDP_STATISTICS)");
		err = xh_state_walk(print_row, NULL);
	}
	if (err) {
		fprintf(stderr, "xdp_hook: list: %s\n", xh_strerror(err));
		return 1;
	}
	return 0;
}

/* ---- gc --------------------------------------------------------------------------- */

struct gc_ctx {
	bool dry_run;
	const char *self;   /* gc on the side of this container's hook, else NULL */
	uint64_t cookie;    /* the netns we run in */
	int found;
	int failed;
};

/* Stale: the container's init is gone (pid gone, or its start time
 * differs: the pid was reused). Only containers set up from this netns:
 * elsewhere we could not delete their veths. The container's lock is
 * taken without waiting: an invocation working on it (a setup whose init
 * died under it, a poststop) finishes it itself. */
static int gc_one(const struct xh_state *seen, void *ctx)
{
	struct gc_ctx *g = ctx;
	struct hook h = HOOK_INIT;
	char id[96];
	int err;

	if (xh_state_alive(seen) || (g->self && !strcmp(seen->id, g->self)))
		return 0;
	if (seen->host_cookie != g->cookie) {
		if (!g->self)
			printf("skipping %s: set up from another network namespace (run gc there)\n",
			       xh_str_escape(seen->id, id, sizeof(id)));
		return 0;
	}
	h.id = seen->id;
	h.step = "gc";
	h.report = true;
	if (g->dry_run) {
		g->found++;
		printf("would remove %s: veth %s, state %s/%s\n", seen->id, seen->veth, XH_RUN_DIR, seen->id);
		return 0;
	}
	h.ctr_lock = xh_state_lock(seen->id, XH_LOCK_NOWAIT);
	if (h.ctr_lock < 0)
		return 0; /* busy, or gone meanwhile */
	/* Judged again on what was saved last, under the lock. */
	err = xh_state_load(seen->id, &h.st);
	if (err || xh_state_alive(&h.st)) {
		xh_unlock(&h.ctr_lock);
		return 0;
	}
	g->found++;
	if (g->self)
		fprintf(stderr, "xdp_hook: %s: gc: removing stale container %s (init pid %d is gone)\n",
			xh_str_escape(g->self, id, sizeof(id)), h.st.id, h.st.pid);
	else
		printf("removing %s: veth %s, state %s/%s\n", h.st.id, h.st.veth, XH_RUN_DIR, h.st.id);
	err = hook_teardown(&h);
	xh_unlock(&h.ctr_lock);
	if (err) {
		h.step = "gc";
		hook_fail(&h, err);
		g->failed++;
	}
	return 0;
}

/* The shared xdp_veth of this netns, if no container uses it any more
 * (a setup that died between loading it and adding its entries). */
/* The netns's shared programs, xdp_veth and xdp0's endpoint program, if
 * no container uses them any more (a teardown killed halfway). */
static void gc_shared_programs(struct gc_ctx *g)
{
	int lock = -1, gone[2];

	if (!g->dry_run && (lock = xh_lock()) < 0)
		return;
	gone[0] = veth_prog_release(g->cookie, g->dry_run);
	gone[1] = ep_prog_release(g->cookie, g->dry_run);
	if (lock >= 0)
		close(lock);
	for (int i = 0; i < 2; i++) {
		if (gone[i] <= 0)
			continue;
		g->found++;
		printf("%s the shared %s program of netns %llu: no container uses it\n",
		       g->dry_run ? "would remove" : "removed", i ? "endpoint" : "veth",
		       (unsigned long long)g->cookie);
	}
}

/* xh-<12 hex digits>: the name setup gives a container's host-side veth. */
static bool hook_veth_name(const char *name)
{
	return strlen(name) == 15 && !strncmp(name, "xh-", 3) && strspn(name + 3, "0123456789abcdef") == 12;
}

static int records_veth(const struct xh_state *st, void *ctx)
{
	return !strcmp(st->veth, ctx);
}

/* Host-side veths that no state records: a poststop's reaper died before
 * deleting its veth (a setup records the name before creating it, under
 * the global lock we hold while looking). */
static void gc_orphan_veths(struct gc_ctx *g)
{
	struct if_nameindex *ifs;
	int lock = -1;

	if (!g->dry_run && (lock = xh_lock()) < 0)
		return;
	ifs = if_nameindex();
	for (struct if_nameindex *i = ifs; i && i->if_index; i++) {
		int err;

		if (!hook_veth_name(i->if_name) || xh_state_walk(records_veth, i->if_name) != 0)
			continue;
		g->found++;
		if (g->dry_run) {
			printf("would remove veth %s: no container records it\n", i->if_name);
			continue;
		}
		err = hook_veth_delete((int)i->if_index, i->if_name);
		if (err) {
			fprintf(stderr, "xdp_hook: gc: veth %s: %s\n", i->if_name, xh_strerror(err));
			g->failed++;
		} else {
			printf("removed veth %s: no container recorded it\n", i->if_name);
		}
	}
	if (ifs)
		if_freenameindex(ifs);
	if (lock >= 0)
		close(lock);
}

/* ---- pins of network namespaces that are gone ---- */

struct pin_dirs {
	struct pin_dir {
		char path[PATH_MAX];
		uint64_t cookie;
	} *d;
	size_t n;
};

static int collect_pin_dir(const struct xh_status *st, void *ctx)
{
	struct pin_dirs *p = ctx;
	void *d = reallocarray(p->d, p->n + 1, sizeof(*p->d));

	if (!d)
		return -ENOMEM;
	p->d = d;
	memcpy(p->d[p->n].path, st->pin_dir, sizeof(st->pin_dir));
	p->d[p->n++].cookie = st->meta.netns_cookie;
	return 0;
}

/* The directory's bpf_link still holds a device: its namespace lives, seen
 * or not (an XDP link loses its device when the device goes). */
static bool pin_link_holds_device(const char *dir)
{
	cleanup_close int fd = xh_dir_open(dir, "link");
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) && info.type == BPF_LINK_TYPE_XDP &&
	       info.xdp.ifindex;
}

/* Pin directories (keyed by netns cookie) of namespaces deleted without a
 * teardown of what was set up in them: nothing else would ever remove
 * them. Listed before the live namespaces are collected, so a directory of
 * a namespace made meanwhile is not taken for one gone; nothing is removed
 * unless every namespace could be examined.
 * The link alone cannot judge every directory: the NIC program and
 * xdp_loader's are attached through libxdp, before 5.9 the hook's through
 * netlink, and shared-* hold no device (their users' links are pinned
 * after the global lock is dropped). Those need the live namespaces. */
static void gc_gone_netns_pins(struct gc_ctx *g)
{
	struct pin_dirs pins = { 0 };
	uint64_t *live = NULL;
	size_t n_live = 0;
	int lock = -1, err;

	err = xh_status_walk(collect_pin_dir, &pins);
	if (!err)
		err = xh_netns_live_cookies(&live, &n_live);
	if (err) {
		fprintf(stderr, "xdp_hook: gc: pins of gone network namespaces: kept: %s\n", xh_strerror(err));
		goto out;
	}
	if (!g->dry_run && (lock = xh_lock()) < 0)
		goto out;
	for (size_t i = 0; i < pins.n; i++) {
		const struct pin_dir *d = &pins.d[i];
		size_t j = 0;

		while (j < n_live && live[j] != d->cookie)
			j++;
		if (j < n_live || pin_link_holds_device(d->path))
			continue;
		g->found++;
		if (g->dry_run) {
			printf("would remove pins %s: network namespace %llu is gone\n", d->path,
			       (unsigned long long)d->cookie);
			continue;
		}
		xh_pin_dir_remove(d->path);
		if (!access(d->path, F_OK)) {
			fprintf(stderr, "xdp_hook: gc: pins %s: could not remove them\n", d->path);
			g->failed++;
		} else {
			printf("removed pins %s: network namespace %llu is gone\n", d->path,
			       (unsigned long long)d->cookie);
		}
	}
	if (lock >= 0)
		close(lock);
out:
	free(pins.d);
	free(live);
}

int hook_gc(bool dry_run)
{
	struct gc_ctx g = { .dry_run = dry_run };
	int err = xh_netns_cookie(&g.cookie), hidden;

	/* A container whose init we cannot see may well be alive. */
	if (!err && (hidden = xh_proc_all_visible()))
		fprintf(stderr, "xdp_hook: gc: containers: kept: %s\n", xh_strerror(hidden));
	else if (!err)
		err = xh_state_walk(gc_one, &g);
	if (!err) {
		gc_orphan_veths(&g);
		gc_shared_programs(&g);
		gc_gone_netns_pins(&g);
	}
	if (err) {
		fprintf(stderr, "xdp_hook: gc: %s\n", xh_strerror(err));
		return 1;
	}
	if (!g.found)
		printf("nothing to remove\n");
	return g.failed ? 1 : 0;
}

void hook_gc_side(const char *self_id)
{
	struct gc_ctx g = { .self = self_id };

	if (xh_netns_cookie(&g.cookie) || xh_proc_all_visible()) {
		xh_err_clear();
		return;
	}
	xh_state_walk(gc_one, &g);
	xh_err_clear();
}
