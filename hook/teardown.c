/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Teardown: undo what the state records, in reverse order of setup. Every
 * step tolerates its object being gone already (a second poststop, a
 * failed setup, a deleted netns), keeps going after an error, and reports
 * the first one.
 */
#include "hook.h"
#include "attach.h"
#include "keeper.h"
#include "netlink.h"
#include "tc.h"
#include "util.h"

#include <bpf/bpf.h>
#include <netlink/socket.h>
#include <string.h>

static void first_error(int *first, int err)
{
	if (err && !*first)
		*first = err;
}

static bool in_host_netns(const struct xh_state *st)
{
	uint64_t cookie;

	return !xh_netns_cookie(&cookie) && cookie == st->host_cookie;
}

static void ip_key(const struct xh_ip *ip, struct xh_ip *key)
{
	memset(key, 0, sizeof(*key));
	key->family = ip->family;
	memcpy(key->addr, ip->addr, ip->family == XH_AF_INET ? 4 : 16);
}

/* The NIC is still the device we set up on, in this netns. */
static bool nic_here(const struct xh_state *st)
{
	cleanup_rtnl struct nl_sock *host = NULL;
	struct xh_link link;

	return st->nic_ifindex && in_host_netns(st) && !xh_rtnl_open(-1, &host) &&
	       !xh_rtnl_link_get(host, st->nic_ifindex, NULL, &link) && !strcmp(link.name, st->nic);
}

/* ---- host mode ---------------------------------------------------------------- */

/* Is the NIC program's host-mode policy ours to clear? Clears host_mode
 * (first: from then on no frame is sent our way) if it points at our veth;
 * false if it is another sandbox's by now (its maps are left alone). */
static bool release_host_mode(const struct xh_state *st)
{
	cleanup_close int fd = xh_pin_open(st->host_cookie, st->nic_ifindex, "host_mode");
	struct xh_host_policy pol, none = {};
	uint32_t zero = 0;

	if (fd < 0 || bpf_map_lookup_elem(fd, &zero, &pol))
		return fd >= 0; /* no program: nothing to clear; a failed read: leave it */
	if (pol.ifindex && pol.ifindex != (uint32_t)st->veth_ifindex)
		return false;
	if (pol.ifindex)
		bpf_map_update_elem(fd, &zero, &none, BPF_ANY);
	return true;
}

static void delete_port_keys(const struct xh_state *st, const char *map, bool publish)
{
	cleanup_close int fd = xh_pin_open(st->host_cookie, st->nic_ifindex, map);
	const struct xh_host_state *hs = &st->host;
	size_t n = publish ? hs->n_publish : hs->n_reserve;

	if (fd < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		unsigned int lo = publish ? hs->publish[i].host_lo : hs->reserve[i].lo;
		unsigned int hi = publish ? hs->publish[i].host_hi : hs->reserve[i].hi;
		uint8_t proto = publish ? hs->publish[i].proto : hs->reserve[i].proto;

		for (unsigned int p = lo; p <= hi; p++) {
			struct xh_port_key k = { .proto = proto, .port = p };

			bpf_map_delete_elem(fd, &k);
		}
	}
}

static void remove_host_policy(const struct xh_state *st)
{
	cleanup_close int addrs = -1;

	if (!release_host_mode(st))
		return;
	addrs = xh_pin_open(st->host_cookie, st->nic_ifindex, "nic_addrs");
	for (size_t i = 0; addrs >= 0 && i < st->n_ips; i++) {
		struct xh_ip k;

		ip_key(&st->ips[i].ip, &k);
		bpf_map_delete_elem(addrs, &k);
	}
	delete_port_keys(st, "publish", true);
	delete_port_keys(st, "reserve", false);
}

/* The ARP/ND clone filter, exactly ours; the clsact qdisc too if we made
 * it and nobody else's filter is on it. A NIC that is gone took both. */
static int detach_clone(const struct xh_state *st)
{
	const struct xh_host_state *hs = &st->host;
	int err;

	if (st->mode != XH_HOST || !hs->tc.priority || !nic_here(st))
		return 0;
	err = xh_tc_detach_ingress(&hs->tc, "xdphook_clone");
	if (!err && hs->clsact_created)
		err = xh_tc_clsact_remove_if_empty(hs->tc.ifindex);
	return err;
}

/* ---- both modes ------------------------------------------------------------- */

static void remove_pod_entries(const struct xh_state *st)
{
	cleanup_close int pods = xh_pin_open(st->host_cookie, st->nic_ifindex, "pods");

	for (size_t i = 0; pods >= 0 && i < st->n_ips; i++) {
		struct xh_pod_dest dest;
		struct xh_ip k;

		ip_key(&st->ips[i].ip, &k);
		/* Only our own entry: never another container's. */
		if (!bpf_map_lookup_elem(pods, &k, &dest) && dest.ifindex == (uint32_t)st->veth_ifindex)
			bpf_map_delete_elem(pods, &k);
	}
}

static int remove_nic_entries(const struct xh_state *st)
{
	cleanup_close int tx = xh_pin_open(st->host_cookie, st->nic_ifindex, "tx_ports");
	uint32_t ifindex = st->veth_ifindex;

	if (st->mode == XH_HOST)
		remove_host_policy(st);
	else
		remove_pod_entries(st);
	/* Last: nothing points at our veth any more. */
	if (tx >= 0 && ifindex)
		bpf_map_delete_elem(tx, &ifindex);
	return 0;
}

/* Detach and unpin what xdphook attached on (cookie, ifindex). */
static int detach_or_unpin(const struct xh_state *st, uint64_t cookie, int ifindex)
{
	int err = 0;

	if (!ifindex)
		return 0;
	if (cookie == st->host_cookie && in_host_netns(st)) {
		err = xh_detach(ifindex);
		if (err == -ENOENT)
			err = 0;
	}
	xh_unpin(cookie, ifindex);
	return err;
}

/* Is the attachment pinned for (cookie, ifindex) ours, or absent? false if
 * it is another container's: the index was reused after our device went
 * without a teardown (the pins and entries are that container's now). */
static bool ours_or_none(const struct xh_state *st, uint64_t cookie, int ifindex)
{
	struct xdphook_meta meta;
	char owner[sizeof(meta.owner)];

	if (xh_pin_meta(cookie, ifindex, &meta))
		return true;
	/* As recorded: cut to the field (a 64-character id of podman's
	 * does not fit whole). */
	snprintf(owner, sizeof(owner), "%s", st->id);
	return !strcmp(meta.owner, owner);
}

/* The veth's link and pins, then its entries in the shared xdp_veth, and
 * the program itself if this was its last device. Runs after the veth is
 * deleted where it can be (that detached the program already, without
 * waiting for anything); else unpinning the link detaches it, before the
 * entries go. */
static int release_veth_program(const struct xh_state *st)
{
	struct veth_prog vp = VETH_PROG_INIT;
	int err;

	if (!st->veth_ifindex || !ours_or_none(st, st->host_cookie, st->veth_ifindex))
		return 0;
	err = detach_or_unpin(st, st->host_cookie, st->veth_ifindex);
	if (!veth_prog_open(st->host_cookie, &vp)) {
		veth_prog_forget(st, &vp);
		veth_prog_close(&vp);
	}
	veth_prog_release(st->host_cookie, false);
	return err;
}

static int restore_taken(struct hook *h)
{
	cleanup_rtnl struct nl_sock *ns = NULL;
	int err = xh_rtnl_open(h->netns_fd, &ns);

	if (err)
		return err;
	for (size_t i = 0; i < h->st.n_taken; i++) {
		struct xh_prefix p = { .ip = h->st.taken[i].addr.ip, .len = h->st.taken[i].addr.plen };

		err = xh_rtnl_addr_add(ns, h->st.taken[i].ifindex, &p);
		if (err && err != -EEXIST && err != -ENODEV)
			return err;
	}
	/* Routes via a gateway last: they need their device's routes back. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < h->st.n_routes; i++) {
			const struct xh_route *r = &h->st.routes[i];

			if ((r->gw.family != 0) != (pass == 1))
				continue;
			err = xh_rtnl_route_restore(ns, r);
			if (err && err != -EEXIST && err != -ENODEV)
				return err;
		}
	}
	return 0;
}

static int delete_veth(const struct xh_state *st)
{
	cleanup_rtnl struct nl_sock *host = NULL;
	struct xh_link link;
	int err;

	if (!st->veth_ifindex || !in_host_netns(st))
		return 0;
	err = xh_rtnl_open(-1, &host);
	if (err)
		return err;
	/* By name and index both: an index may have been reused. */
	if (xh_rtnl_link_get(host, st->veth_ifindex, NULL, &link) || strcmp(link.name, st->veth))
		return 0;
	err = xh_rtnl_link_del(host, st->veth_ifindex);
	return err == -ENODEV ? 0 : err;
}

struct nic_users {
	const struct xh_state *self;
	int count;
};

static int count_nic_user(const struct xh_state *st, void *ctx)
{
	struct nic_users *u = ctx;

	if (strcmp(st->id, u->self->id) && st->host_cookie == u->self->host_cookie &&
	    st->nic_ifindex == u->self->nic_ifindex && st->nic_entries)
		u->count++;
	return 0;
}

/* The NIC program goes with its last container (also when this one failed
 * before adding its entries: a program nobody uses is garbage). */
static int release_nic(const struct xh_state *st)
{
	struct nic_users u = { .self = st };
	struct xdphook_meta meta;
	uint32_t key = 0;
	int err;

	if (!st->nic_ifindex)
		return 0;
	err = xh_state_walk(count_nic_user, &u);
	if (err || u.count)
		return err;
	/* Only the hook's own program, never one xdp_loader put there. */
	{
		cleanup_close int fd = xh_pin_open(st->host_cookie, st->nic_ifindex, "meta");

		if (fd < 0 || bpf_map_lookup_elem(fd, &key, &meta) || strcmp(meta.owner, "xdp_hook"))
			return 0;
	}
	return detach_or_unpin(st, st->host_cookie, st->nic_ifindex);
}

int hook_teardown(struct hook *h)
{
	struct xh_state *st = &h->st;
	bool locked_here = false;
	int first = 0;

	if (h->lock_fd < 0) {
		h->lock_fd = xh_lock();
		if (h->lock_fd < 0)
			return h->lock_fd;
		locked_here = true;
	}

	/* First the keeper: its socket holds the container's netns. */
	if (st->keeper_pid) {
		h->step = "teardown: keeper";
		first_error(&first, keeper_stop(st->keeper_pid, st->keeper_start));
	}
	h->step = "teardown: NIC map entries";
	if (st->nic_entries)
		first_error(&first, remove_nic_entries(st));
	h->step = "teardown: ARP/ND clone";
	first_error(&first, detach_clone(st));
	if (h->netns_fd >= 0 && st->mode == XH_POD && st->n_taken) {
		h->step = "teardown: restore addresses";
		first_error(&first, restore_taken(h));
	}
	/* The veth before its programs: deleting it detaches both (xdp0
	 * goes with it) within the one unregistration the kernel does anyway;
	 * detaching first would add a syscall with RCU waits of its own. */
	h->step = "teardown: veth";
	first_error(&first, delete_veth(st));
	h->step = "teardown: veth program";
	first_error(&first, release_veth_program(st));
	/* xdp0's link and pins (the device, if still there, lets go of the
	 * program when the link goes). */
	if (st->peer_ifindex && ours_or_none(st, st->netns_cookie, st->peer_ifindex))
		xh_unpin(st->netns_cookie, st->peer_ifindex);
	h->step = "teardown: NIC program";
	first_error(&first, release_nic(st));
	h->step = "teardown: state";
	first_error(&first, xh_state_remove(st->id));

	if (locked_here) {
		close(h->lock_fd);
		h->lock_fd = -1;
	}
	return first;
}
