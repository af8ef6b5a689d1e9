/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * mode=netns: the sandbox takes the interface the CNI made in the
 * container netns (its addresses, routes and MAC) and reads it through an
 * AF_XDP socket; traffic reaches it through the host kernel and whatever
 * the CNI does there. Nothing is created or attached in the host netns:
 * the one change there is TX checksum offload off on the interface's
 * host-side peer, so that frames the node itself sends arrive with full
 * checksums (XDP hands the sandbox what the wire carries).
 *
 * Setup: netns_mode_prepare() reads and refuses before the claim (nothing
 * changed yet); netns_mode_apply() changes, each step recorded first so
 * that teardown (netns_mode_teardown() and the generic steps: keeper,
 * the endpoint's pins) undoes exactly it. The netns usually outlives the
 * container (the CNI's bind mount, which its DEL still needs): teardown
 * puts the addresses and routes back there.
 */
#include "hook.h"
#include "attach.h"
#include "ethtool.h"
#include "netlink.h"
#include "netns.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <linux/if_addr.h>
#include <string.h>
#include <unistd.h>

#include "xdp_endpoint.skel.h"

#define NETNS_DIR "/run/netns"

/* ---- reading the container netns ---------------------------------------------- */

static int first_addr_dev(int ifindex, const struct xh_prefix *p, void *ctx)
{
	(void)p;
	*(int *)ctx = ifindex;
	return 1;
}

static int take_addr(int ifindex, const struct xh_prefix *p, void *ctx)
{
	struct xh_state *st = ctx;
	struct xh_cidr cidr = { .ip = p->ip, .plen = p->len, .plen_given = true };

	if (st->n_taken == XH_MAX_TAKEN || st->n_ips == XH_CFG_MAX_IPS)
		return xh_err(-E2BIG, "more than %d addresses on %s", XH_MAX_TAKEN, st->netns.iface);
	st->taken[st->n_taken++] = (struct xh_taken_addr){ .ifindex = ifindex, .addr = cidr };
	st->ips[st->n_ips++] = cidr;
	return 0;
}

/* The interface: named, else the one holding an address, else the
 * default route's. */
static int find_iface(struct hook *h, struct nl_sock *ns, struct xh_link *link)
{
	int ifindex = 0, err;

	if (h->cfg.iface[0]) {
		err = xh_rtnl_link_get(ns, 0, h->cfg.iface, link);
		if (err == -ENODEV)
			return xh_err(err, "no interface '%s' in the container", h->cfg.iface);
		return err;
	}
	err = xh_rtnl_addr_list(ns, 0, first_addr_dev, &ifindex);
	if (!err && !ifindex && xh_rtnl_default_dev(ns, &ifindex))
		ifindex = 0;
	xh_err_clear();
	if (err)
		return err;
	if (!ifindex)
		return xh_err(-EADDRNOTAVAIL, "the container has no interface with an address and no default route: "
					      "nothing to take (let the CNI configure one, or set iface)");
	return xh_rtnl_link_get(ns, ifindex, NULL, link);
}

struct iface_probe {
	int ifindex;
	const char *name;
	char holder[64];   /* the XDP program already there */
	int rx_queues;
	char kind[16];
	int peer_ifindex;  /* a veth's peer, in whatever netns it is */
};

/* In the container netns. */
static int probe_iface(void *ctx)
{
	struct iface_probe *p = ctx;

	if (xh_xdp_holder(p->ifindex, p->holder, sizeof(p->holder)))
		p->holder[0] = '\0';
	p->rx_queues = xh_dev_rx_queues(p->name);
	if (xh_link_kind(p->ifindex, p->kind, sizeof(p->kind), &p->peer_ifindex))
		p->kind[0] = '\0';
	xh_err_clear();
	return 0;
}

/* The veth's host-side peer: a veth in our netns whose peer is the
 * interface (both directions agree: an index alone could be another
 * netns's). None is fine (macvlan, ipvlan, a peer elsewhere). */
static void find_host_peer(struct hook *h, struct nl_sock *host, const struct iface_probe *p)
{
	struct xh_netns_state *n = &h->st.netns;
	struct xh_link link;
	char kind[16];
	int back = 0;

	if (strcmp(p->kind, "veth") || p->peer_ifindex <= 0 ||
	    xh_rtnl_link_get(host, p->peer_ifindex, NULL, &link) ||
	    xh_link_kind(link.ifindex, kind, sizeof(kind), &back) || strcmp(kind, "veth") ||
	    back != h->st.peer_ifindex) {
		xh_err_clear();
		return;
	}
	snprintf(n->host_peer, sizeof(n->host_peer), "%s", link.name);
	n->host_peer_ifindex = link.ifindex;
}

struct peer_addr {
	const struct xh_ip *ip;
	bool found;
};

static int is_peer_addr(int ifindex, const struct xh_prefix *p, void *ctx)
{
	struct peer_addr *a = ctx;

	(void)ifindex;
	a->found |= p->ip.family == a->ip->family && !memcmp(p->ip.addr, a->ip->addr, 16);
	return a->found;
}

/* The gateways' MACs where known: from the container's neighbour table,
 * else the host peer's own when the gateway is its address (CNI ptp). */
static void find_gateway_macs(struct hook *h, struct nl_sock *host, struct nl_sock *ns, const uint8_t peer_mac[6])
{
	const struct xh_state *st = &h->st;

	for (size_t i = 0; i < st->n_routes && h->n_gw_macs < ARRAY_SIZE(h->gw_macs); i++) {
		const struct xh_ip *gw = &st->routes[i].gw;
		struct hook_gw_mac *g = &h->gw_macs[h->n_gw_macs];
		struct peer_addr a = { .ip = gw };
		bool dup = false;

		for (size_t j = 0; j < h->n_gw_macs; j++)
			dup |= !memcmp(&h->gw_macs[j].ip, gw, sizeof(*gw));
		if (!gw->family || dup)
			continue;
		g->ip = *gw;
		if (!xh_rtnl_neigh_lookup(ns, st->peer_ifindex, gw, g->mac)) {
			h->n_gw_macs++;
			continue;
		}
		if (st->netns.host_peer_ifindex &&
		    !xh_rtnl_addr_list(host, st->netns.host_peer_ifindex, is_peer_addr, &a) && a.found) {
			memcpy(g->mac, peer_mac, 6);
			h->n_gw_macs++;
		}
	}
	xh_err_clear();
}

/* ---- the netns's bind mount ----------------------------------------------------- */

static bool path_is_netns(const char *path, uint64_t cookie)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t c;

	return fd >= 0 && !xh_netns_cookie_of(fd, &c) && c == cookie;
}

/* The network namespace path in the bundle's config.json (a runtime
 * joining a netns the CNI prepared, as containerd and podman do). */
static void netns_path_from_bundle(const char *bundle, char *out, size_t size)
{
	char path[PATH_MAX];
	json_t *root, *nss, *ns;
	size_t i;

	if (!bundle || xh_snprintf(path, sizeof(path), "%s/config.json", bundle) < 0)
		return;
	root = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
	nss = json_object_get(json_object_get(root, "linux"), "namespaces");
	json_array_foreach(nss, i, ns) {
		const char *type = json_string_value(json_object_get(ns, "type"));
		const char *p = json_string_value(json_object_get(ns, "path"));

		if (type && p && !strcmp(type, "network") && strlen(p) < size)
			snprintf(out, size, "%s", p);
	}
	json_decref(root);
}

/* Where the netns lives on after the container: the bundle's path, else a
 * bind mount under /run/netns (ip netns, CNI tools); "" if neither. */
static void find_netns_path(struct hook *h, const char *bundle)
{
	struct xh_netns_state *n = &h->st.netns;
	struct dirent *e;
	DIR *d;

	netns_path_from_bundle(bundle, n->path, sizeof(n->path));
	if (n->path[0] && path_is_netns(n->path, h->st.netns_cookie))
		return;
	n->path[0] = '\0';
	d = opendir(NETNS_DIR);
	while (d && (e = readdir(d))) {
		char p[sizeof(n->path)];

		if (e->d_name[0] == '.' || xh_snprintf(p, sizeof(p), NETNS_DIR "/%s", e->d_name) < 0)
			continue;
		if (path_is_netns(p, h->st.netns_cookie)) {
			snprintf(n->path, sizeof(n->path), "%s", p);
			break;
		}
	}
	if (d)
		closedir(d);
	xh_err_clear();
}

/* ---- setup ------------------------------------------------------------------------ */

int netns_mode_prepare(struct hook *h, struct nl_sock *host, struct nl_sock *ns, const char *bundle)
{
	struct xh_state *st = &h->st;
	struct iface_probe probe = {};
	struct xh_link link, peer;
	int err;

	h->step = "interface";
	err = find_iface(h, ns, &link);
	if (err)
		return err;
	snprintf(st->netns.iface, sizeof(st->netns.iface), "%s", link.name);
	st->peer_ifindex = link.ifindex;
	memcpy(st->peer_mac, link.mac, 6);
	st->mtu = link.mtu;
	if (link.mtu > XH_MTU_MAX)
		return xh_err(-EMSGSIZE, "%s: MTU %u is larger than a frame holds (%u): lower it in the CNI's configuration",
			      link.name, link.mtu, (unsigned int)XH_MTU_MAX);
	probe.ifindex = link.ifindex;
	probe.name = link.name;
	err = xh_netns_run(h->netns_fd, probe_iface, &probe);
	if (err)
		return err;
	if (probe.holder[0])
		return xh_err(-EBUSY, "%s already carries XDP program %s: the sandbox cannot take it", link.name,
			      probe.holder);
	if (probe.rx_queues > 1)
		return xh_err(-EOPNOTSUPP, "%s has %d RX queues: the endpoint serves one (ethtool -L %s rx 1)",
			      link.name, probe.rx_queues, link.name);

	h->step = "addresses";
	err = xh_rtnl_addr_list(ns, link.ifindex, take_addr, st);
	if (err)
		return err;
	if (!st->n_ips)
		return xh_err(-EADDRNOTAVAIL, "%s has no address to take: let the CNI configure one", link.name);
	/* Taking the addresses takes the routes through them along: record
	 * them, to put back and to tell the sandbox. */
	err = xh_rtnl_route_list(ns, link.ifindex, hook_record_route, st);
	if (err)
		return err;

	find_host_peer(h, host, &probe);
	if (st->netns.host_peer_ifindex && !xh_rtnl_link_get(host, st->netns.host_peer_ifindex, NULL, &peer))
		find_gateway_macs(h, host, ns, peer.mac);
	find_netns_path(h, bundle);
	return 0;
}

/* In the container netns: the container's own xdp_endpoint on the CNI's
 * interface, through a pinned link (pins under the container netns's
 * cookie: nothing under the host's). Not the shared endpoint program: it
 * is pinned per host netns. Mode auto: the CNI's interface may be a
 * veth (native) or anything else (generic). */
static int attach_here(void *ctx)
{
	struct hook *h = ctx;
	struct xdp_endpoint *skel = xdp_endpoint__open_and_load();
	struct xh_pin_obj pins[3];
	struct xh_link_req req = {
		.ifindex = h->st.peer_ifindex,
		.ifname = h->st.netns.iface,
		.mode = XH_MODE_AUTO,
		.program = "endpoint",
		.owner = h->st.id,
		.pins = pins,
		.n_pins = ARRAY_SIZE(pins),
	};
	int err;

	if (!skel)
		return xh_err(-errno, "load xdp_endpoint: %s", strerror(errno));
	req.prog_fd = bpf_program__fd(skel->progs.xdphook_endpt);
	pins[0] = (struct xh_pin_obj){ "prog", req.prog_fd };
	pins[1] = (struct xh_pin_obj){ "xsks", bpf_map__fd(skel->maps.xsks) };
	pins[2] = (struct xh_pin_obj){ "xdphook_stats", bpf_map__fd(skel->maps.xdphook_stats) };
	err = xh_attach_link(&req);
	xdp_endpoint__destroy(skel);
	return err;
}

int netns_mode_apply(struct hook *h, struct nl_sock *ns)
{
	struct xh_state *st = &h->st;
	struct xh_netns_state *n = &st->netns;
	bool on = false;
	int err;

	/* The one host-side change; recorded before it is made. */
	h->step = "host peer";
	if (n->host_peer[0] && !xh_ethtool_get_tx_csum(n->host_peer, &on) && on) {
		n->csum_off = true;
		err = hook_save(h);
		if (!err)
			err = xh_ethtool_set_tx_csum(n->host_peer, false);
		if (err)
			return xh_err(err, "%s: TX checksum offload off: %s", n->host_peer, xh_strerror(err));
	}

	/* The sandbox owns the addresses alone (recorded at the claim). */
	h->step = "addresses";
	for (size_t i = 0; i < st->n_taken; i++) {
		struct xh_prefix p = { .ip = st->taken[i].addr.ip, .len = st->taken[i].addr.plen };

		err = xh_rtnl_addr_del(ns, st->taken[i].ifindex, &p);
		if (err && err != -ENOENT)
			return xh_err(err, "take address off %s: %s", n->iface, strerror(-err));
	}

	h->step = "endpoint program";
	return xh_netns_run(h->netns_fd, attach_here, h);
}

/* ---- teardown --------------------------------------------------------------------- */

/* Whether a recorded route to the address's own prefix goes via a
 * gateway (CNI ptp replaces the kernel's prefix route by one via its
 * gateway). */
static bool prefix_via_gateway(const struct xh_state *st, const struct xh_prefix *a)
{
	struct xh_ip net = a->ip;

	xh_ip_mask(&net, a->len);
	for (size_t i = 0; i < st->n_routes; i++) {
		const struct xh_route *r = &st->routes[i];

		if (r->gw.family && r->dst.len == a->len && r->dst.ip.family == net.family &&
		    !memcmp(r->dst.ip.addr, net.addr, sizeof(net.addr)))
			return true;
	}
	return false;
}

/* A route whose preferred source is an IPv6 address added back a moment
 * ago is refused until the address leaves its tentative state, which
 * addrconf's work does asynchronously even without DAD: poll, bounded. */
static int route_back(struct nl_sock *ns, const struct xh_route *r)
{
	int err;

	for (int tries = 0;; tries++) {
		err = xh_rtnl_route_replace(ns, r);
		if (!err || err == -ENODEV || r->src.family != XH_AF_INET6 || tries == 200)
			return err;
		usleep(5000);
	}
}

/* The addresses, then the routes as the CNI made them. Where the CNI had
 * replaced an address's prefix route by one via its gateway, the address
 * comes back without the kernel's: for IPv6 that (metric 256) would win
 * over the CNI's (1024); for IPv4 it would be replaced anyway. */
static int restore(const struct xh_state *st, int ns_fd)
{
	cleanup_rtnl struct nl_sock *ns = NULL;
	int err = xh_rtnl_open(ns_fd, &ns);

	for (size_t i = 0; !err && i < st->n_taken; i++) {
		struct xh_prefix p = { .ip = st->taken[i].addr.ip, .len = st->taken[i].addr.plen };

		/* No DAD: the address was the container's a moment ago. */
		err = xh_rtnl_addr_add_flags(ns, st->taken[i].ifindex, &p,
					     (prefix_via_gateway(st, &p) ? IFA_F_NOPREFIXROUTE : 0) |
					     (p.ip.family == XH_AF_INET6 ? IFA_F_NODAD : 0));
		if (err == -EEXIST)
			err = 0;
	}
	/* Routes via a gateway last: they need the routes to it. */
	for (int pass = 0; !err && pass < 2; pass++)
		for (size_t i = 0; !err && i < st->n_routes; i++)
			if ((st->routes[i].gw.family != 0) == (pass == 1))
				err = route_back(ns, &st->routes[i]);
	/* The interface is gone (the CNI deleted it already): nothing to do. */
	return err == -ENODEV ? 0 : err;
}

int netns_mode_teardown(struct hook *h, int ns_fd)
{
	struct xh_state *st = &h->st;
	struct xh_netns_state *n = &st->netns;
	cleanup_close int own = -1;
	struct xdphook_meta meta;
	int first = 0, err;

	/* Detach first: from here on the kernel has the interface again. */
	if (st->peer_ifindex && !xh_pin_meta(st->netns_cookie, st->peer_ifindex, &meta) &&
	    !strncmp(meta.owner, st->id, sizeof(meta.owner) - 1))
		xh_unpin(st->netns_cookie, st->peer_ifindex);

	if (ns_fd < 0 && n->path[0] && path_is_netns(n->path, st->netns_cookie))
		ns_fd = own = open(n->path, O_RDONLY | O_CLOEXEC);
	/* No netns any more: the interface and its addresses went with it. */
	if (ns_fd >= 0 && st->n_taken)
		first = restore(st, ns_fd);

	/* The host peer's offload as it was, if the peer is still the one
	 * (the CNI's DEL deletes it, usually after us). */
	if (n->csum_off && n->host_peer_ifindex) {
		cleanup_rtnl struct nl_sock *host = NULL;
		struct xh_link link;
		uint64_t here;

		if (!xh_netns_cookie(&here) && here == st->host_cookie && !xh_rtnl_open(-1, &host) && !xh_rtnl_link_get(host, n->host_peer_ifindex, NULL, &link) &&
		    !strcmp(link.name, n->host_peer)) {
			err = xh_ethtool_set_tx_csum(n->host_peer, true);
			if (err && err != -ENODEV && !first)
				first = err;
		}
		xh_err_clear();
	}
	return first;
}
