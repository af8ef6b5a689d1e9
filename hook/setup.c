/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Setup as one transaction. The state file is written before every step
 * that creates something, so whatever fails (or kills us) leaves a record
 * that hook_teardown() — the one undo path — can follow.
 *
 * Locking (lib/state.h): concurrent setups and teardowns serialise only
 * where they share something, under the global lock:
 *  - the claim: the id is not live, the netns not served, the addresses
 *    (and host mode's NIC slot) nobody's, checked together with the first
 *    save, which makes them ours: every later claim sees that state file.
 *    From the claim on, the container's own lock (its state directory) is
 *    held until setup ends: teardown and gc of this id wait or skip.
 *  - the shared xdp_veth: loading it and adding our entries (an entry in
 *    veth_dev is what keeps a teardown from unpinning it under us);
 *  - the NIC program and its maps (and host mode's tc_clone): finding or
 *    attaching it and adding our tx_ports entry (what keeps a teardown of
 *    the last other container from detaching it under us: it detaches
 *    only an empty tx_ports) in one section, so that teardown sees either
 *    no program yet (we attach a new one after it) or our entry.
 * The rest is this container's alone (its veth pair, addresses and routes,
 * xdp0's program, the link on its veth, the keeper) and runs unlocked.
 * Every name and address it uses was claimed; a gc judges only containers
 * whose init is gone and skips one whose lock is held.
 */
#include "hook.h"
#include "attach.h"
#include "endpoint_prog.h"
#include "ethtool.h"
#include "fault.h"
#include "netlink.h"
#include "netns.h"
#include "pod_map.h"
#include "util.h"

#include <bpf/bpf.h>
#include <linux/if_link.h>
#include <netlink/socket.h>
#include <string.h>

#include "xdp_endpoint.skel.h"
#include "xdp_nic.skel.h"

#define PEER_NAME "xdp0"

/* 64-bit FNV-1a: a stable, well-spread name for the host-side veth. */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s) {
		h ^= (uint8_t)*s++;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* ---- who is already here ------------------------------------------------ */

struct others {
	const struct hook *h;
	char busy_id[XH_OCI_ID_MAX + 1]; /* a live container on our netns */
	char ip_owner[XH_OCI_ID_MAX + 1];
	char ip_text[64];
	const struct xh_cidr *ips;
	size_t n_ips;
};

static bool same_ip(const struct xh_ip *a, const struct xh_ip *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static int find_netns_owner(const struct xh_state *st, void *ctx)
{
	struct others *o = ctx;

	if (strcmp(st->id, o->h->st.id) && st->netns_cookie == o->h->st.netns_cookie && xh_state_alive(st)) {
		snprintf(o->busy_id, sizeof(o->busy_id), "%s", st->id);
		return 1;
	}
	return 0;
}

static int find_ip_owner(const struct xh_state *st, void *ctx);

int hook_check_ips_free(struct hook *h)
{
	struct others o = { .h = h, .ips = h->st.ips, .n_ips = h->st.n_ips };

	if (xh_state_walk(find_ip_owner, &o) > 0)
		return xh_err(-EADDRINUSE, "address %s already belongs to container %s", o.ip_text, o.ip_owner);
	return 0;
}

static int find_ip_owner(const struct xh_state *st, void *ctx)
{
	struct others *o = ctx;

	if (!strcmp(st->id, o->h->st.id) || st->host_cookie != o->h->st.host_cookie)
		return 0;
	for (size_t i = 0; i < st->n_ips; i++)
		for (size_t j = 0; j < o->n_ips; j++)
			if (same_ip(&st->ips[i].ip, &o->ips[j].ip)) {
				snprintf(o->ip_owner, sizeof(o->ip_owner), "%s", st->id);
				xh_ip_str(&o->ips[j].ip, o->ip_text, sizeof(o->ip_text));
				return 1;
			}
	return 0;
}

/* ---- addressing ------------------------------------------------------------ */

struct cni_addrs {
	struct hook *h;
	int skip_ifindex;
	int err;
};

/* Record an address the CNI put on a kernel interface: it becomes the
 * sandbox's, and is taken off the interface (recorded first, so rollback
 * puts it back). */
static int collect_cni_addr(int ifindex, const struct xh_prefix *p, void *ctx)
{
	struct cni_addrs *c = ctx;
	struct xh_state *st = &c->h->st;
	struct xh_cidr cidr = { .ip = p->ip, .plen = p->len, .plen_given = true };

	if (ifindex == c->skip_ifindex)
		return 0;
	if (st->n_taken == XH_MAX_TAKEN || st->n_ips == XH_CFG_MAX_IPS)
		return c->err = xh_err(-E2BIG, "more than %d addresses in the container", XH_MAX_TAKEN);
	st->taken[st->n_taken++] = (struct xh_taken_addr){ .ifindex = ifindex, .addr = cidr };
	st->ips[st->n_ips++] = cidr;
	return 0;
}

int hook_record_route(const struct xh_route *r, void *ctx)
{
	struct xh_state *st = ctx;

	if (st->n_routes == XH_MAX_ROUTES)
		return xh_err(-E2BIG, "more than %d routes in the container", XH_MAX_ROUTES);
	st->routes[st->n_routes++] = *r;
	return 0;
}

static int full_len(const struct xh_ip *ip)
{
	return ip->family == XH_AF_INET ? 32 : 128;
}

/* Pod mode, before the claim (reads only): the sandbox's addresses, from
 * the configuration or the CNI's, and the routes that go with the CNI's. */
static int collect_addresses(struct hook *h, struct nl_sock *ns)
{
	struct xh_state *st = &h->st;
	int err;

	h->step = "addresses";
	if (h->cfg.n_ips) {
		for (size_t i = 0; i < h->cfg.n_ips; i++)
			st->ips[st->n_ips++] = h->cfg.ips[i];
	} else {
		/* No xdp0 yet: every address there is the CNI's. */
		struct cni_addrs c = { .h = h, .skip_ifindex = 0 };

		err = xh_rtnl_addr_list(ns, 0, collect_cni_addr, &c);
		if (err || c.err)
			return c.err ? c.err : err;
		if (!st->n_ips)
			return xh_err(-EADDRNOTAVAIL, "the container has no address: set io.xdphook.ips "
						      "or let the CNI configure one");
	}
	/* Taking an address takes the routes through it along: record them,
	 * so rollback can put them back (and the sandbox can be told). */
	for (size_t i = 0; i < st->n_taken; i++) {
		bool seen = false;

		for (size_t j = 0; j < i; j++)
			seen |= st->taken[j].ifindex == st->taken[i].ifindex;
		if (!seen && (err = xh_rtnl_route_list(ns, st->taken[i].ifindex, hook_record_route, st)))
			return err;
	}
	return 0;
}

/* The host route to the pod address p goes via xh-...: added, or, where
 * the CNI routed the address already (ptp: to its own host veth), taken
 * over: recorded first (teardown puts it back, so CNI DEL finds what it
 * made), then replaced. */
static int take_host_route(struct hook *h, struct nl_sock *host, const struct xh_prefix *p,
			   const char *ip)
{
	struct xh_state *st = &h->st;
	struct xh_route mine = { .dst = *p, .oif = st->veth_ifindex, .proto = XH_RTPROT }, theirs;
	struct xh_host_route *hr;
	struct xh_link link;
	int err = xh_rtnl_route_find(host, p, &theirs);

	if (err == -ENOENT) {
		err = xh_rtnl_route_add(host, p, st->veth_ifindex, NULL);
		return err ? xh_err(err, "route %s via %s: %s", ip, st->veth, strerror(-err)) : 0;
	}
	if (err)
		return xh_err(err, "route %s: %s", ip, strerror(-err));
	if (theirs.oif == st->veth_ifindex)
		return 0;
	if (st->n_host_routes == XH_CFG_MAX_IPS)
		return xh_err(-E2BIG, "more than %d host routes to take over", XH_CFG_MAX_IPS);
	err = xh_rtnl_link_get(host, theirs.oif, NULL, &link);
	if (err)
		return xh_err(err, "route %s: its device %d: %s", ip, theirs.oif, strerror(-err));
	hr = &st->host_routes[st->n_host_routes++];
	hr->r = theirs;
	snprintf(hr->dev, sizeof(hr->dev), "%s", link.name);
	err = hook_save(h);
	if (err)
		return err;
	err = xh_rtnl_route_replace(host, &mine);
	return err ? xh_err(err, "route %s via %s (taking it from %s): %s", ip, st->veth, hr->dev,
			    strerror(-err))
		   : 0;
}

/* Pod mode, after the veth: the addresses (claimed and recorded) become
 * the sandbox's. */
static int apply_addresses(struct hook *h, struct nl_sock *host, struct nl_sock *ns)
{
	struct xh_state *st = &h->st;
	bool v4 = false, v6 = false;
	int err;

	h->step = "addresses";
	/* The sandbox owns its addresses alone (as gVisor does). */
	for (size_t i = 0; i < st->n_taken; i++) {
		struct xh_prefix p = { .ip = st->taken[i].addr.ip, .len = st->taken[i].addr.plen };

		err = xh_rtnl_addr_del(ns, st->taken[i].ifindex, &p);
		if (err && err != -ENOENT)
			return xh_err(err, "take address off interface %d: %s", st->taken[i].ifindex,
				      strerror(-err));
	}
	FAULT("addresses-taken");

	/* Host side: the pod is reached through xh-..., its MAC is known. */
	for (size_t i = 0; i < st->n_ips; i++) {
		struct xh_prefix p = { .ip = st->ips[i].ip, .len = full_len(&st->ips[i].ip) };
		char ip[64];

		xh_ip_str(&p.ip, ip, sizeof(ip));
		err = take_host_route(h, host, &p, ip);
		if (err)
			return err;
		err = xh_rtnl_neigh_add(host, st->veth_ifindex, &p.ip, st->peer_mac);
		if (err)
			return xh_err(err, "neighbour %s on %s: %s", ip, st->veth, strerror(-err));
		v4 |= p.ip.family == XH_AF_INET;
		v6 |= p.ip.family == XH_AF_INET6;
	}
	/* The sandbox's gateway: link-local, answered by the kernel on xh-... */
	if (v4) {
		struct xh_prefix gw = { .len = 32 };

		xh_ip_parse(XH_GATEWAY4, &gw.ip);
		err = xh_rtnl_addr_add(host, st->veth_ifindex, &gw);
		if (err && err != -EEXIST)
			return xh_err(err, "gateway " XH_GATEWAY4 " on %s: %s", st->veth, strerror(-err));
	}
	if (v6) {
		struct xh_prefix gw = { .len = 64 };

		xh_ip_parse(XH_GATEWAY6, &gw.ip);
		err = xh_rtnl_addr_add(host, st->veth_ifindex, &gw);
		if (err && err != -EEXIST)
			return xh_err(err, "gateway " XH_GATEWAY6 " on %s: %s", st->veth, strerror(-err));
	}
	FAULT("host-routes");
	return 0;
}

/* ---- fast path ----------------------------------------------------------------- */

static int add_fastpath(struct xh_state *st, const struct xh_ip *net, int plen)
{
	if (st->n_fastpath == XH_CFG_MAX_FASTPATH)
		return xh_err(-E2BIG, "more than %d fast-path prefixes", XH_CFG_MAX_FASTPATH);
	st->fastpath[st->n_fastpath++] = (struct xh_cidr){ .ip = *net, .plen = plen, .plen_given = true };
	return 0;
}

static int connected_subnet(int ifindex, const struct xh_prefix *p, void *ctx)
{
	struct xh_ip net = p->ip;

	(void)ifindex;
	xh_ip_mask(&net, p->len); /* the trie stores networks */
	return add_fastpath(ctx, &net, p->len);
}

/* Pod mode: the destinations xdp_veth sends straight out of the NIC, fixed
 * now and recorded with the state (the NIC's addresses may change before
 * teardown, which must delete exactly what setup added). */
static int plan_fastpath(struct hook *h, struct nl_sock *host)
{
	struct xh_state *st = &h->st;
	int err = 0;

	h->step = "fastpath";
	if (h->cfg.fastpath_none)
		return 0;
	if (!h->cfg.n_fastpath)
		return xh_rtnl_addr_list(host, st->nic_ifindex, connected_subnet, st);
	for (size_t i = 0; i < h->cfg.n_fastpath && !err; i++)
		err = add_fastpath(st, &h->cfg.fastpath[i].ip, h->cfg.fastpath[i].plen);
	return err;
}

/* ---- programs ---------------------------------------------------------------- */

static void ip_key(const struct xh_ip *ip, struct xh_ip *key)
{
	memset(key, 0, sizeof(*key));
	key->family = ip->family;
	memcpy(key->addr, ip->addr, ip->family == XH_AF_INET ? 4 : 16);
}

/* xdp0's program, attached through a pinned link like xdp_veth: xdp0 is
 * ours, nobody's program to share the device with, so libxdp's dispatcher
 * probing would buy nothing. The program every xdp0 of the host shares
 * serves the container from its slot there (hook/endpoint_prog.c:
 * attaching a program that runs already costs no RCU grace period); where
 * it cannot, the container's own xdp_endpoint is loaded and attached. */
static int attach_own_endpoint(struct xh_link_req *req)
{
	struct xdp_endpoint *skel = xdp_endpoint__open_and_load();
	struct xh_pin_obj pins[3];
	int err;

	if (!skel)
		return xh_err(-errno, "load xdp_endpoint: %s", strerror(errno));
	req->prog_fd = bpf_program__fd(skel->progs.xdphook_endpt);
	/* What status, list and the keeper open by name. */
	pins[0] = (struct xh_pin_obj){ "prog", req->prog_fd };
	pins[1] = (struct xh_pin_obj){ "xsks", bpf_map__fd(skel->maps.xsks) };
	pins[2] = (struct xh_pin_obj){ "xdphook_stats", bpf_map__fd(skel->maps.xdphook_stats) };
	req->pins = pins;
	req->n_pins = ARRAY_SIZE(pins);
	err = xh_attach_link(req);
	xdp_endpoint__destroy(skel);
	return err;
}

static int attach_endpoint_here(void *ctx)
{
	struct hook *h = ctx;
	struct xh_pin_obj pins[1];
	struct xh_link_req req = {
		.ifindex = h->st.peer_ifindex,
		.ifname = PEER_NAME,
		.mode = XH_MODE_NATIVE,
		.program = "endpoint",
		.owner = h->st.id,
	};
	int stats = -1, shared, err;

	/* xdp0 has one RX queue (xh_rtnl_veth_add). */
	shared = ep_prog_take(h, 1, &stats);
	if (shared == -EOPNOTSUPP)
		return attach_own_endpoint(&req);
	if (shared < 0)
		return shared;
	/* So status and list find the container's counters. */
	pins[0] = (struct xh_pin_obj){ "ifstats", stats };
	req.prog_fd = shared;
	req.pins = pins;
	req.n_pins = ARRAY_SIZE(pins);
	err = xh_attach_link(&req);
	close(stats);
	close(shared);
	return err;
}

/* Under the global lock: the shared xdp_veth, loaded if need be, and our
 * entries (veth_dev's last: from then on a teardown of another container
 * sees it in use). */
static int take_veth_prog(struct hook *h)
{
	int err = veth_prog_get(h->st.host_cookie, h->vp);

	if (!err)
		err = FAULT_ERR("veth-program");
	/* The entries before the link: the program never sees this device
	 * unconfigured. */
	if (!err)
		err = veth_prog_fill(h, h->vp);
	if (!err)
		err = FAULT_ERR("veth-entries");
	return err;
}

/* xh-...: the namespace's shared xdp_veth (loaded with the first
 * container), this container's entries in its maps, and a link. The link
 * needs no lock: our entries keep the program pinned. */
static int attach_veth(struct hook *h)
{
	struct xh_state *st = &h->st;
	struct veth_prog vp = VETH_PROG_INIT;
	struct xh_pin_obj pins[1];
	struct xh_link_req req = {
		.ifindex = st->veth_ifindex,
		.ifname = st->veth,
		.mode = XH_MODE_NATIVE,
		.program = "veth",
		.owner = st->id,
		.target_ifindex = st->nic_ifindex,
		.target = st->nic,
		.pins = pins,
		.n_pins = ARRAY_SIZE(pins),
	};
	int err;

	h->vp = &vp;
	err = hook_locked(h, take_veth_prog);
	h->vp = NULL;
	if (!err) {
		req.prog_fd = vp.prog;
		/* So status and list find this device's counters. */
		pins[0] = (struct xh_pin_obj){ "ifstats", vp.dev };
		err = xh_attach_link(&req);
	}
	veth_prog_close(&vp);
	if (!err)
		err = FAULT_ERR("veth-link");
	return err;
}

/* The NIC program is shared: attach it with the first container. */
static int ensure_nic_program(struct hook *h)
{
	struct xdp_nic *skel;
	struct xh_attach_req req = {
		.prog_name = "xdphook_nic",
		.ifindex = h->st.nic_ifindex,
		.ifname = h->st.nic,
		.mode = XH_MODE_AUTO,
		.program = "nic",
		.owner = "xdp_hook",
	};
	int fd, err;

	fd = xh_pin_open(h->st.host_cookie, h->st.nic_ifindex, "pods");
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	skel = xdp_nic__open();
	if (!skel)
		return -errno;
	req.obj = skel->obj;
	err = xh_attach(&req);
	xdp_nic__destroy(skel);
	if (err == -EEXIST)
		return xh_err(err, "%s already carries an XDP program of xdp_loader; detach it first", h->st.nic);
	return err;
}

static int add_pod_entries(struct hook *h)
{
	struct xh_state *st = &h->st;
	struct xh_pod_dest dest = { .ifindex = st->veth_ifindex };
	cleanup_close int pods = xh_pin_open(st->host_cookie, st->nic_ifindex, "pods");
	cleanup_close int pods4 = xh_pin_open(st->host_cookie, st->nic_ifindex, "pods4");
	cleanup_close int slots = xh_pin_open(st->host_cookie, st->nic_ifindex, "pod4_slots");

	if (pods < 0)
		return xh_err(pods, "open NIC program map pods: %s", strerror(-pods));
	if (pods4 < 0)
		return xh_err(pods4, "open NIC program map pods4: %s", strerror(-pods4));
	if (slots < 0)
		return xh_err(slots, "open NIC program map pod4_slots: %s", strerror(-slots));
	memcpy(dest.dst_mac, st->peer_mac, 6);
	memcpy(dest.src_mac, st->veth_mac, 6);
	for (size_t i = 0; i < st->n_ips; i++) {
		const struct xh_ip *ip = &st->ips[i].ip;
		struct xh_ip k;
		int err;

		/* IPv4 in pod4_slots or pods4 (lib/pod_map.c), IPv6 in pods. */
		if (ip->family == XH_AF_INET) {
			uint32_t a;

			memcpy(&a, ip->addr, 4);
			err = xh_pod4_add(slots, pods4, a, &dest);
		} else {
			ip_key(ip, &k);
			err = bpf_map_update_elem(pods, &k, &dest, BPF_NOEXIST) ? -errno : 0;
		}
		if (err)
			return xh_err(err, "%s map: %s", ip->family == XH_AF_INET ? "pods4" : "pods",
				      strerror(-err));
	}
	return 0;
}

static int add_nic_entries(struct hook *h)
{
	struct xh_state *st = &h->st;
	cleanup_close int tx = xh_pin_open(st->host_cookie, st->nic_ifindex, "tx_ports");
	uint32_t ifindex = st->veth_ifindex;
	int err;

	if (tx < 0)
		return xh_err(tx, "open NIC program map tx_ports: %s", strerror(-tx));
	st->nic_entries = true;
	err = hook_save(h);
	if (err)
		return err;
	FAULT("nic-recorded");
	/* Before anything points at us: frames for a veth missing here go
	 * to the kernel unchanged. */
	if (bpf_map_update_elem(tx, &ifindex, &ifindex, BPF_ANY))
		return xh_err(-errno, "tx_ports map: %s", strerror(errno));
	err = st->mode == XH_HOST ? host_add_nic_policy(h) : add_pod_entries(h);
	if (!err)
		err = FAULT_ERR("nic-entries");
	return err;
}

/* Under the global lock: find or attach the NIC program and record our
 * entries (nic_entries) in one section, see the top of the file. */
static int take_nic(struct hook *h)
{
	int err = ensure_nic_program(h);

	if (!err)
		err = FAULT_ERR("nic-program");
	if (!err)
		err = add_nic_entries(h);
	if (!err && h->st.mode == XH_HOST)
		err = host_attach_clone(h);
	return err;
}

static int setup_programs(struct hook *h)
{
	int err;

	/* xdp0 first: its program is what lets xh-... take redirected frames. */
	h->step = "endpoint program";
	err = xh_netns_run(h->netns_fd, attach_endpoint_here, h);
	if (err)
		return err;
	FAULT("endpoint-program");
	h->step = "veth program";
	err = attach_veth(h);
	if (err)
		return err;
	h->step = "NIC program";
	return hook_locked(h, take_nic);
}

/* ---- the transaction ----------------------------------------------------------- */

static int setup_veth(struct hook *h, struct nl_sock *host, struct nl_sock *ns)
{
	struct xh_state *st = &h->st;
	struct xh_link link;
	char name[sizeof(st->veth)];
	int err;

	h->step = "veth";
	err = xh_rtnl_veth_add(host, st->veth, PEER_NAME, h->netns_fd, st->mtu);
	if (err == -EEXIST && !xh_rtnl_link_get(host, 0, st->veth, &link)) {
		/* This id's veth from its previous life, whose reaper is not
		 * done (or died): the name is this claimed id's alone. */
		err = hook_veth_delete(link.ifindex, st->veth);
		if (!err)
			err = xh_rtnl_veth_add(host, st->veth, PEER_NAME, h->netns_fd, st->mtu);
	}
	if (err) {
		/* Not ours: the rollback must not delete it by name. */
		snprintf(name, sizeof(name), "%s", st->veth);
		st->veth[0] = '\0';
		if (err == -EEXIST)
			return xh_err(err, "%s or %s already exists", name, PEER_NAME);
		return err;
	}
	/* Created, not yet recorded: teardown finds it by name. */
	FAULT("veth-created");
	err = xh_rtnl_link_get(host, 0, st->veth, &link);
	if (err)
		return err;
	st->veth_ifindex = link.ifindex;
	memcpy(st->veth_mac, link.mac, 6);
	err = hook_save(h);
	if (err)
		return err;
	err = xh_rtnl_link_get(ns, 0, PEER_NAME, &link);
	if (err)
		return xh_err(err, "%s in the container: %s", PEER_NAME, strerror(-err));
	/* Host mode: the sandbox is the NIC, to the world; set while xdp0 is
	 * still down. */
	if (st->mode == XH_HOST) {
		err = xh_rtnl_link_set_mac(ns, link.ifindex, h->nic_mac);
		if (!err)
			err = xh_rtnl_link_get(ns, link.ifindex, NULL, &link);
		if (err)
			return xh_err(err, "%s: set the NIC's MAC: %s", PEER_NAME, xh_strerror(err));
	}
	st->peer_ifindex = link.ifindex;
	memcpy(st->peer_mac, link.mac, 6);
	err = hook_save(h);
	if (!err)
		err = xh_ethtool_set_tx_csum(st->veth, false);
	if (!err)
		err = xh_rtnl_link_up(host, st->veth_ifindex);
	if (!err)
		err = xh_rtnl_link_up(ns, st->peer_ifindex);
	if (!err)
		err = FAULT_ERR("peer");
	return err;
}

static int setup_nic(struct hook *h, struct nl_sock *host)
{
	struct xh_state *st = &h->st;
	struct xh_link nic;
	int ifindex = 0, err;

	h->step = "nic";
	if (!h->cfg.nic[0]) {
		err = xh_rtnl_default_dev(host, &ifindex);
		if (err)
			return err;
	}
	err = xh_rtnl_link_get(host, ifindex, h->cfg.nic, &nic);
	if (err == -ENODEV)
		return xh_err(err, "no such device '%s'", h->cfg.nic);
	if (err)
		return err;
	snprintf(st->nic, sizeof(st->nic), "%s", nic.name);
	st->nic_ifindex = nic.ifindex;
	memcpy(h->nic_mac, nic.mac, 6);
	st->mtu = nic.mtu < XH_MTU_MAX ? nic.mtu : XH_MTU_MAX;
	/* Frames redirected out of the NIC are dropped silently if it cannot
	 * transmit XDP frames: refuse rather than lose the fast path. */
	err = xh_link_check_xdp_xmit(nic.ifindex);
	if (err)
		return xh_err(err, "%s: %s", nic.name, xh_strerror(err));
	return 0;
}

/* Never take addresses or routes from the node's own namespace. init may
 * be unreadable (a VM's init), kthreadd (pid 2) always lives there too. */
static bool shares_init_netns(uint64_t cookie)
{
	for (int pid = 1; pid <= 2; pid++) {
		cleanup_close int fd = xh_netns_open_pid(pid);
		uint64_t init_cookie;

		if (fd >= 0 && !xh_netns_cookie_of(fd, &init_cookie))
			return init_cookie == cookie;
	}
	return false;
}

/* A state of this id whose container is gone (poststop never ran), or
 * unreadable: clear it. Without the global lock (teardown takes it, after
 * the container's lock). */
static int clear_stale(struct hook *h, const struct xh_state *old)
{
	struct hook stale = { .id = h->id, .netns_fd = -1, .lock_fd = -1, .ctr_lock = -1 };
	int err;

	if (old) {
		stale.st = *old;
		return hook_teardown(&stale);
	}
	stale.ctr_lock = xh_state_lock(h->st.id, 0);
	if (stale.ctr_lock == -ENOENT)
		return 0;
	if (stale.ctr_lock < 0)
		return stale.ctr_lock;
	err = xh_state_remove(h->st.id);
	xh_unlock(&stale.ctr_lock);
	return err;
}

/* Under the global lock: the checks and the first save, see the top of
 * the file. 1: the netns is served already (a no-op). A stale state of
 * this id: -EAGAIN, with *stale set (cleared by the caller unlocked). */
static int claim_locked(struct hook *h, struct xh_state *old, bool *stale)
{
	struct others o = { .h = h };
	int err;

	h->step = "state";
	err = xh_state_load(h->st.id, old);
	if (!err && xh_state_alive(old))
		return xh_err(-EEXIST, "a container with this id is already live (init pid %d)", old->pid);
	if (err != -ENOENT) {
		*stale = !err;
		return -EAGAIN;
	}
	/* A second container joining a served netns (podman --network
	 * container:X) is a no-op, like a pod's other containers. */
	if (xh_state_walk(find_netns_owner, &o) > 0)
		return 1;
	/* Host mode: the NIC's slot first (its addresses are the owner's). */
	if (h->st.mode == XH_HOST) {
		h->step = "mode";
		err = host_check_slot(h);
		if (err)
			return err;
	}
	h->step = "addresses";
	err = hook_check_ips_free(h);
	if (err)
		return err;
	h->step = "state";
	h->ctr_lock = xh_state_lock(h->st.id, XH_LOCK_CREATE | XH_LOCK_NOWAIT);
	if (h->ctr_lock == -EWOULDBLOCK) {
		h->ctr_lock = -1;
		return xh_err(-EBUSY, "another xdp_hook is working on a container with this id");
	}
	if (h->ctr_lock < 0) {
		err = h->ctr_lock;
		h->ctr_lock = -1;
		return err;
	}
	err = hook_save(h);
	if (err) {
		/* Nothing exists yet but the directory (a full /run). */
		xh_state_remove(h->st.id);
		xh_unlock(&h->ctr_lock);
	}
	return err;
}

static int claim(struct hook *h)
{
	for (int round = 0; round < 3; round++) {
		struct xh_state old;
		bool stale = false;
		int err;

		err = hook_lock_global(h);
		if (err)
			return err;
		err = claim_locked(h, &old, &stale);
		xh_unlock(&h->lock_fd);
		if (err != -EAGAIN)
			return err;
		/* Stale (the container is gone, poststop never ran): clear it
		 * first, then claim again. */
		err = clear_stale(h, stale ? &old : NULL);
		if (err)
			return err;
	}
	return xh_err(-EBUSY, "the state of this id keeps coming back");
}

static int run_setup(struct hook *h, const struct xh_oci_state *oci)
{
	struct xh_state *st = &h->st;
	cleanup_rtnl struct nl_sock *host = NULL;
	cleanup_rtnl struct nl_sock *ns = NULL;
	int err;

	snprintf(st->id, sizeof(st->id), "%s", oci->id);
	snprintf(st->status, sizeof(st->status), "setting-up");
	st->mode = h->cfg.mode;
	st->pid = oci->pid;
	snprintf(st->veth, sizeof(st->veth), "xh-%012llx",
		 (unsigned long long)(fnv1a(oci->id) & 0xffffffffffffull));

	h->step = "netns";
	err = xh_proc_start_time(oci->pid, &st->pid_start);
	if (err)
		return xh_err(err, "container init pid %d: %s", oci->pid,
			      err == -ESRCH ? "no such process" : strerror(-err));
	h->netns_fd = xh_netns_open_pid(oci->pid);
	if (h->netns_fd < 0)
		return h->netns_fd;
	err = xh_netns_cookie_of(h->netns_fd, &st->netns_cookie);
	if (!err)
		err = xh_netns_cookie(&st->host_cookie);
	if (err)
		return err;
	if (st->netns_cookie == st->host_cookie || shares_init_netns(st->netns_cookie))
		return xh_err(-EINVAL, "the container shares the host's network namespace (net=host): "
				       "xdp_hook serves containers with a network namespace of their own");
	err = xh_rtnl_open(-1, &host);
	if (!err)
		err = xh_rtnl_open(h->netns_fd, &ns);
	if (err)
		return err;

	/* Reading only, unlocked: a refusal here leaves nothing. */
	err = st->mode == XH_NETNS ? netns_mode_prepare(h, host, ns, oci->bundle) /* hook/netns_mode.c */
				   : setup_nic(h, host);
	if (!err && st->mode == XH_HOST)
		err = host_prepare(h, host); /* the NIC's addresses and routes, ports */
	if (!err && st->mode == XH_POD)
		err = plan_fastpath(h, host);
	if (!err && st->mode == XH_POD)
		err = collect_addresses(h, ns);
	if (err)
		return err;
	err = claim(h);
	if (err)
		return err;
	FAULT("claim");
	/* netns mode: no veth, route or program of ours on the host. */
	if (st->mode == XH_NETNS)
		err = netns_mode_apply(h, ns);
	else
		err = setup_veth(h, host, ns);
	/* Host mode has its addresses from host_prepare(): the NIC's. */
	if (!err && st->mode == XH_POD)
		err = apply_addresses(h, host, ns);
	if (!err && st->mode != XH_NETNS)
		err = setup_programs(h);
	if (!err)
		err = hook_endpoint_start(h);
	if (err)
		return err;
	FAULT("keeper");
	/* One save records the keeper and readiness: it follows the keeper's
	 * start as closely as a save of its own would. */
	h->step = "state";
	snprintf(st->status, sizeof(st->status), "ready");
	err = hook_save(h);
	if (!err)
		err = FAULT_ERR("ready");
	return err;
}

int hook_setup(struct hook *h, const struct xh_oci_state *oci)
{
	int err = run_setup(h, oci);

	if (err < 0) {
		const char *step = h->step;

		hook_fail(h, err);
		/* Undo exactly what this invocation recorded; quietly: the
		 * line above is the one the runtime shows. (The container's
		 * lock is still held: no gc gets in between.) */
		if (h->owns_state) {
			h->step = step;
			hook_teardown(h);
		}
	}
	xh_unlock(&h->ctr_lock);
	if (h->netns_fd >= 0)
		close(h->netns_fd);
	h->netns_fd = -1;
	return err < 0 ? 1 : 0;
}
