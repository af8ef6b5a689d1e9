/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Teardown: undo what the state records, in reverse order of setup. Every
 * step tolerates its object being gone already (a second poststop, a
 * failed setup, a deleted netns), keeps going after an error, and reports
 * the first one. A poststop or gc also says what it found gone that should
 * not have been (one line each: a dead keeper, a missing veth or pins).
 *
 * Locking (see setup.c): the container's lock throughout; the global lock
 * only around the shared NIC program, its maps and the shared xdp_veth:
 * removing our entries (and host mode's tc_clone), and, after the veth is
 * gone, dropping our xdp_veth entries and releasing xdp_veth and the NIC
 * program if nobody else uses them. A setup holds the global lock from
 * finding the NIC program to adding its tx_ports entry, so "no other
 * user" (an empty tx_ports) cannot miss a setup that found the program.
 */
#include "hook.h"
#include "attach.h"
#include "endpoint_prog.h"
#include "fault.h"
#include "keeper.h"
#include "netlink.h"
#include "netns.h"
#include "pod_map.h"
#include "tc.h"
#include "util.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <netlink/socket.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>

static void first_error(int *first, int err)
{
	if (err && !*first)
		*first = err;
}

/* One line about something found gone (poststop and gc only: a rollback
 * undoes its own work quietly). */
static void note(const struct hook *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const struct hook *h, const char *fmt, ...)
{
	char id[96];
	va_list ap;

	if (!h->report)
		return;
	fprintf(stderr, "xdp_hook: %s: teardown: ", xh_str_escape(h->st.id, id, sizeof(id)));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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

/* Our slots of ports back to "nothing said"; only ours: ports is one
 * array per NIC. */
static void clear_port_slots(const struct xh_state *st)
{
	cleanup_close int fd = xh_pin_open(st->host_cookie, st->nic_ifindex, "ports");
	const struct xh_host_state *hs = &st->host;

	if (fd < 0)
		return;
	for (size_t i = 0; i < hs->n_publish + hs->n_reserve; i++) {
		bool pub = i < hs->n_publish;
		size_t j = pub ? i : i - hs->n_publish;
		unsigned int lo = pub ? hs->publish[j].host_lo : hs->reserve[j].lo;
		unsigned int hi = pub ? hs->publish[j].host_hi : hs->reserve[j].hi;
		uint8_t proto = pub ? hs->publish[j].proto : hs->reserve[j].proto;

		for (unsigned int p = lo; p <= hi; p++) {
			__u32 s = xh_port_slot(proto, p), k = s / 2;
			struct xh_port_pair v;

			/* The other half of the entry is written back as it was. */
			if (bpf_map_lookup_elem(fd, &k, &v))
				continue;
			v.slot[s % 2] = (struct xh_port_pol){ 0 };
			bpf_map_update_elem(fd, &k, &v, BPF_ANY);
		}
	}
}

/* The NIC's addresses go with host_mode's entry (policy.h). */
static void remove_host_policy(const struct xh_state *st)
{
	if (!release_host_mode(st))
		return;
	clear_port_slots(st);
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
	cleanup_close int pods4 = xh_pin_open(st->host_cookie, st->nic_ifindex, "pods4");
	cleanup_close int slots = xh_pin_open(st->host_cookie, st->nic_ifindex, "pod4_slots");

	for (size_t i = 0; i < st->n_ips; i++) {
		const struct xh_ip *ip = &st->ips[i].ip;
		struct xh_pod_dest dest;
		struct xh_ip k;
		uint32_t a;

		/* Only our own entry: never another container's. IPv4 in
		 * pod4_slots or pods4 (lib/pod_map.c), IPv6 in pods. */
		if (ip->family == XH_AF_INET) {
			memcpy(&a, ip->addr, 4);
			if (slots >= 0 && pods4 >= 0)
				xh_pod4_del(slots, pods4, a, st->veth_ifindex);
			continue;
		}
		ip_key(ip, &k);
		if (pods >= 0 && !bpf_map_lookup_elem(pods, &k, &dest) &&
		    dest.ifindex == (uint32_t)st->veth_ifindex)
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
	snprintf(owner, sizeof(owner), "%.*s", (int)sizeof(owner) - 1, st->id);
	return !strcmp(meta.owner, owner);
}

/* The veth's link and pins, then its entries in the shared xdp_veth, and
 * the program itself if this was its last device. Runs after the veth is
 * deleted where it can be (that detached the program already, without
 * waiting for anything); else unpinning the link detaches it, before the
 * entries go. */
static int release_veth_program(const struct hook *h)
{
	const struct xh_state *st = &h->st;
	struct veth_prog vp = VETH_PROG_INIT;
	struct xdphook_meta meta;
	int err = 0;

	if (!st->veth_ifindex || !ours_or_none(st, st->host_cookie, st->veth_ifindex))
		return 0;
	/* The link is pinned last at setup: a ready container has pins. */
	if (!strcmp(st->status, "ready") && xh_pin_meta(st->host_cookie, st->veth_ifindex, &meta) == -ENOENT)
		note(h, "the pins of %s's program were already gone", st->veth);
	if (h->reap)
		xh_unpin(st->host_cookie, st->veth_ifindex); /* the reaper holds the link */
	else
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

/* The host routes setup took over go back to their devices (by name and
 * index: an index may have been reused), replacing ours, before the veth
 * goes: the address is never without a route. */
static int restore_host_routes(const struct hook *h)
{
	const struct xh_state *st = &h->st;
	cleanup_rtnl struct nl_sock *host = NULL;
	int first = 0, err;

	if (!st->n_host_routes || !in_host_netns(st))
		return 0;
	err = xh_rtnl_open(-1, &host);
	if (err)
		return err;
	for (size_t i = 0; i < st->n_host_routes; i++) {
		const struct xh_host_route *hr = &st->host_routes[i];
		struct xh_link link;

		if (xh_rtnl_link_get(host, hr->r.oif, NULL, &link) || strcmp(link.name, hr->dev))
			continue; /* gone (CNI DEL ran first): nothing to give back */
		err = xh_rtnl_route_replace(host, &hr->r);
		if (err && err != -ENODEV)
			first_error(&first, err);
	}
	return first;
}

/* The veth's ifindex if it is still there (0 if not: nothing to delete).
 * ns_alive: the container's netns still exists (we hold it), so the veth
 * pair cannot have gone with it. */
static int find_veth(const struct hook *h, struct nl_sock *host, bool ns_alive)
{
	const struct xh_state *st = &h->st;
	struct xh_link link;

	if (!st->veth_ifindex) {
		/* A setup that died between creating the pair and recording
		 * it: the name is this (claimed) id's alone. */
		return xh_rtnl_link_get(host, 0, st->veth, &link) ? 0 : link.ifindex;
	}
	if (!xh_rtnl_link_get(host, st->veth_ifindex, NULL, &link) && !strcmp(link.name, st->veth))
		return link.ifindex;
	/* By name and index both: an index may have been reused. */
	if (ns_alive)
		note(h, "veth %s was already gone", st->veth);
	else
		note(h, "veth %s was already gone (with the container's network namespace)", st->veth);
	return 0;
}

/* Pod mode: the host's routes to the pod through the veth, now (the
 * veth's deletion would take them, later): the addresses are free for
 * the next container the moment poststop returns. */
static int unroute_veth(const struct xh_state *st, struct nl_sock *host, int ifindex)
{
	int first = 0;

	for (size_t i = 0; st->mode == XH_POD && i < st->n_ips; i++) {
		struct xh_prefix p = { .ip = st->ips[i].ip,
				       .len = st->ips[i].ip.family == XH_AF_INET ? 32 : 128 };
		int err = xh_rtnl_route_del(host, &p, ifindex);

		if (err != -ESRCH && err != -ENOENT && err != -ENODEV)
			first_error(&first, err);
	}
	return first;
}

/* The links holding the programs on both ends of the veth, for the
 * reaper: while it holds them, unpinning detaches nothing, and the
 * deletion detaches both in the one unregistration it does anyway. */
static void hold_links(const struct xh_state *st, int links[2])
{
	if (st->veth_ifindex && ours_or_none(st, st->host_cookie, st->veth_ifindex))
		links[0] = xh_pin_open(st->host_cookie, st->veth_ifindex, "link");
	if (st->peer_ifindex && ours_or_none(st, st->netns_cookie, st->peer_ifindex))
		links[1] = xh_pin_open(st->netns_cookie, st->peer_ifindex, "link");
	xh_err_clear();
}

int hook_veth_delete(int ifindex, const char *name)
{
	cleanup_rtnl struct nl_sock *host = NULL;
	struct xh_link link;
	int err = xh_rtnl_open(-1, &host);

	if (err)
		return err;
	if (xh_rtnl_link_get(host, ifindex, NULL, &link) || strcmp(link.name, name))
		return 0;
	err = xh_rtnl_link_del(host, ifindex);
	return err == -ENODEV ? 0 : err;
}

/* A reaper: the same care as the keeper (a session of its own, no fd of
 * the runtime's: it waits for EOF on the hook's stdout/stderr), holding
 * nothing but the links. Deleting a veth waits in the kernel's
 * rcu_barrier(); nothing needs that wait. If the reaper dies first, the
 * veth is an xh- device that no state records: gc deletes it. */
static int spawn_reaper(int ifindex, const char *name, int links[2])
{
	int keep[2], n = 0;
	pid_t pid;

	for (int i = 0; i < 2; i++)
		if (links[i] > 2)
			keep[n++] = links[i];
	fflush(NULL); /* nothing buffered may be written twice */
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		return 0;
	if (setsid() < 0 || xh_detach_fds(keep, n))
		_exit(1);
	prctl(PR_SET_NAME, "xdphook-reaper");
	/* _exit: atexit handlers and stdio buffers belong to the hook. */
	_exit(hook_veth_delete(ifindex, name) ? 1 : 0);
}

/* Does any container still send through the NIC program? Its tx_ports
 * entries say so exactly: a setup adds its entry first and a teardown
 * removes it in its first locked section, both under the global lock we
 * hold here. (The states' nic_entries flags would not do: two teardowns
 * running side by side each still see the other's flag set.) */
static bool nic_in_use(const struct xh_state *st)
{
	cleanup_close int fd = xh_pin_open(st->host_cookie, st->nic_ifindex, "tx_ports");
	uint32_t key;

	return fd >= 0 && !bpf_map_get_next_key(fd, NULL, &key);
}

/* The NIC program goes with its last container (also when this one failed
 * before adding its entries: a program nobody uses is garbage). */
static int release_nic(const struct xh_state *st)
{
	struct xdphook_meta meta;
	uint32_t key = 0;

	if (!st->nic_ifindex || nic_in_use(st))
		return 0;
	/* Only the hook's own program, never one xdp_loader put there. */
	{
		cleanup_close int fd = xh_pin_open(st->host_cookie, st->nic_ifindex, "meta");

		if (fd < 0 || bpf_map_lookup_elem(fd, &key, &meta) || strcmp(meta.owner, "xdp_hook"))
			return 0;
	}
	return detach_or_unpin(st, st->host_cookie, st->nic_ifindex);
}

/* ---- the keeper and the container's netns ------------------------------------ */

/* The keeper serving netns cookie, found by name and netns: a setup that
 * died between starting it and recording it. */
static int find_keeper(uint64_t cookie, int *pid_out, uint64_t *start_out)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = -ENOENT;

	if (!d)
		return -errno;
	while (found && (e = readdir(d))) {
		char path[300], comm[32] = "";
		cleanup_fclose FILE *f = NULL;
		cleanup_close int ns = -1;
		uint64_t c, start;
		int pid = atoi(e->d_name);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		if (!(f = fopen(path, "re")) || !fgets(comm, sizeof(comm), f) || strcmp(comm, "xdphook-keeper\n"))
			continue;
		ns = xh_netns_open_pid(pid);
		if (ns >= 0 && !xh_netns_cookie_of(ns, &c) && c == cookie && !xh_proc_start_time(pid, &start)) {
			*pid_out = pid;
			*start_out = start;
			found = 0;
		}
	}
	closedir(d);
	xh_err_clear();
	return found;
}

/* The container's netns if it still exists, through its init or its
 * keeper (whichever runs), checked by cookie; else -1. Held, it keeps the
 * veth pair from going with it while we work. */
static int open_ctr_netns(const struct xh_state *st)
{
	const int pids[2] = { st->pid, st->keeper_pid };
	const uint64_t starts[2] = { st->pid_start, st->keeper_start };

	for (int i = 0; i < 2; i++) {
		uint64_t cookie;
		int fd;

		if (!xh_proc_running(pids[i], starts[i]) || (fd = xh_netns_open_pid(pids[i])) < 0)
			continue;
		if (!xh_netns_cookie_of(fd, &cookie) && cookie == st->netns_cookie)
			return fd;
		close(fd);
	}
	xh_err_clear();
	return -1;
}

static int stop_keeper(const struct hook *h)
{
	const struct xh_state *st = &h->st;
	int pid = st->keeper_pid;
	uint64_t start = st->keeper_start;

	if (!pid) {
		/* Not recorded: did a setup die after starting it? */
		if (!strcmp(st->status, "ready") || !st->peer_ifindex || find_keeper(st->netns_cookie, &pid, &start))
			return 0;
	} else if (!xh_proc_running(pid, start)) {
		/* It exits with the container's init, by design; not before. */
		if (xh_state_alive(st))
			note(h, "keeper %d was already gone", pid);
		return 0;
	}
	return keeper_stop(pid, start);
}

/* ---- under the global lock ------------------------------------------------------- */

static int shared_entries(struct hook *h)
{
	int first = 0, err;

	h->step = "teardown: NIC map entries";
	if (h->st.nic_entries) {
		cleanup_close int fd = xh_pin_open(h->st.host_cookie, h->st.nic_ifindex, "tx_ports");

		if (fd == -ENOENT && !strcmp(h->st.status, "ready") && nic_here(&h->st))
			note(h, "the pins of %s's NIC program were already gone", h->st.nic);
		first_error(&first, remove_nic_entries(&h->st));
	}
	if ((err = FAULT_ERR("td-nic-entries")))
		return err;
	h->step = "teardown: ARP/ND clone";
	first_error(&first, detach_clone(&h->st));
	if ((err = FAULT_ERR("td-clone")))
		return err;
	return first;
}

static int shared_programs(struct hook *h)
{
	int first = 0, err;

	h->step = "teardown: veth program";
	first_error(&first, release_veth_program(h));
	if ((err = FAULT_ERR("td-veth-program")))
		return err;
	/* xdp0's entries in the shared endpoint program (the program too,
	 * with its last container). */
	ep_prog_drop(&h->st);
	h->step = "teardown: NIC program";
	first_error(&first, release_nic(&h->st));
	if ((err = FAULT_ERR("td-nic-program")))
		return err;
	return first;
}

/* The container's lock, and the state as saved last under it. -ENOENT:
 * torn down meanwhile. */
static int lock_and_reload(struct hook *h)
{
	int err;

	h->ctr_lock = xh_state_lock(h->st.id, 0);
	if (h->ctr_lock < 0) {
		err = h->ctr_lock;
		h->ctr_lock = -1;
		return err;
	}
	err = xh_state_load(h->st.id, &h->st);
	if (err)
		xh_unlock(&h->ctr_lock);
	return err;
}

int hook_teardown(struct hook *h)
{
	struct xh_state *st = &h->st;
	cleanup_close int ns = -1;
	bool locked_here = false;
	int links[2] = { -1, -1 };
	int first = 0, veth = 0, err;

	if (h->ctr_lock < 0) {
		h->step = "teardown: lock";
		err = lock_and_reload(h);
		if (err)
			return err == -ENOENT ? 0 : err;
		locked_here = true;
	}
	ns = open_ctr_netns(st);

	/* First the keeper: its socket holds the container's netns. */
	h->step = "teardown: keeper";
	first_error(&first, stop_keeper(h));
	if ((err = FAULT_ERR("td-keeper")))
		goto out;
	err = hook_locked(h, shared_entries);
	if (err == XH_FAULT_ERRNO)
		goto out;
	first_error(&first, err);
	if (h->netns_fd >= 0 && st->mode == XH_POD && st->n_taken) {
		h->step = "teardown: restore addresses";
		first_error(&first, restore_taken(h));
	}
	h->step = "teardown: host routes";
	first_error(&first, restore_host_routes(h));
	/* netns mode: the CNI's addresses back, so its DEL finds them. */
	if (st->mode == XH_NETNS) {
		h->step = "teardown: restore addresses";
		first_error(&first, netns_mode_teardown(h, ns));
	}
	/* The veth before its programs: deleting it detaches both (xdp0
	 * goes with it) within the one unregistration the kernel does anyway;
	 * detaching first would add a syscall with RCU waits of its own.
	 * With a reaper: the routes through it now, the rest by the reaper,
	 * which holds the programs' links until then. */
	h->step = "teardown: veth";
	if (st->veth[0] && in_host_netns(st)) {
		cleanup_rtnl struct nl_sock *host = NULL;

		err = xh_rtnl_open(-1, &host);
		if (!err && (veth = find_veth(h, host, ns >= 0)) > 0) {
			if (h->reap) {
				err = unroute_veth(st, host, veth);
				hold_links(st, links);
			} else {
				err = xh_rtnl_link_del(host, veth);
				err = err == -ENODEV ? 0 : err;
			}
		}
		first_error(&first, err);
	}
	h->reap = h->reap && veth > 0;
	if ((err = FAULT_ERR("td-veth")))
		goto out;
	err = hook_locked(h, shared_programs);
	if (err == XH_FAULT_ERRNO)
		goto out;
	first_error(&first, err);
	/* xdp0's link and pins (the device, if still there, lets go of the
	 * program when the link goes). */
	if (st->peer_ifindex && ours_or_none(st, st->netns_cookie, st->peer_ifindex))
		xh_unpin(st->netns_cookie, st->peer_ifindex);
	if ((err = FAULT_ERR("td-endpoint-pins")))
		goto out;
	h->step = "teardown: state";
	first_error(&first, xh_state_remove(st->id));
	if (h->reap && spawn_reaper(veth, st->veth, links)) {
		h->step = "teardown: veth";
		first_error(&first, hook_veth_delete(veth, st->veth));
	}
	err = first;
out:
	for (int i = 0; i < 2; i++)
		if (links[i] >= 0)
			close(links[i]);
	if (locked_here)
		xh_unlock(&h->ctr_lock);
	return err;
}
