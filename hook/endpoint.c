/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Setup's last step: describe the endpoint to the sandbox (what it needs
 * to run its own network stack on xdp0) and start the keeper that hands
 * it over.
 */
#include "hook.h"
#include "attach.h"
#include "endpoint_proto.h"
#include "endpoint_prog.h"
#include "keeper.h"
#include "netlink.h"
#include "util.h"

#include <arpa/inet.h>
#include <limits.h>
#include <string.h>

/* The kernel's default ip_local_port_range: in pod mode the sandbox owns
 * its addresses alone, so it may use the usual range. */
#define POD_EPH_LO 32768
#define POD_EPH_HI 60999

static int af(uint8_t family)
{
	return family == XH_AF_INET ? AF_INET : AF_INET6;
}

static int add_addr(struct xh_ep_desc *d, const struct xh_ip *ip, uint8_t plen)
{
	struct xdp_endpoint_addr *a;

	if (d->n_addrs == XDP_ENDPOINT_MAX_ADDRS)
		return xh_err(-E2BIG, "more than %d addresses", XDP_ENDPOINT_MAX_ADDRS);
	a = &d->addrs[d->n_addrs++];
	a->family = af(ip->family);
	memcpy(a->addr, ip->addr, 16);
	a->prefix_len = plen;
	return 0;
}

static int add_route(struct xh_ep_desc *d, const struct xh_ip *dst, uint8_t dst_len, const struct xh_ip *via)
{
	struct xdp_endpoint_route *r;

	if (d->n_routes == XDP_ENDPOINT_MAX_ROUTES)
		return xh_err(-E2BIG, "more than %d routes", XDP_ENDPOINT_MAX_ROUTES);
	r = &d->routes[d->n_routes++];
	r->family = af(dst->family);
	memcpy(r->dst, dst->addr, 16);
	r->dst_len = dst_len;
	r->has_via = via && via->family;
	if (r->has_via)
		memcpy(r->via, via->addr, 16);
	return 0;
}

static int add_gateway(struct xh_ep_desc *d, const struct xh_ip *ip, const uint8_t mac[6])
{
	struct xdp_endpoint_gateway *g;

	for (size_t i = 0; i < d->n_gateways; i++)
		if (d->gateways[i].family == af(ip->family) && !memcmp(d->gateways[i].addr, ip->addr, 16))
			return 0;
	if (d->n_gateways == XDP_ENDPOINT_MAX_GATEWAYS)
		return 0; /* the sandbox resolves the others itself */
	g = &d->gateways[d->n_gateways++];
	g->family = af(ip->family);
	memcpy(g->addr, ip->addr, 16);
	memcpy(g->mac, mac, 6);
	return 0;
}

/* Pod mode: the sandbox's addresses as host routes (nothing is on-link on
 * xdp0 but the gateway), everything via the link-local gateway on xh-,
 * whose MAC we know. */
static int describe_pod(const struct xh_state *st, struct xh_ep_desc *d)
{
	bool v4 = false, v6 = false;
	int err = 0;

	for (size_t i = 0; i < st->n_ips && !err; i++) {
		const struct xh_ip *ip = &st->ips[i].ip;

		err = add_addr(d, ip, ip->family == XH_AF_INET ? 32 : 128);
		v4 |= ip->family == XH_AF_INET;
		v6 |= ip->family == XH_AF_INET6;
	}
	for (int i = 0; i < 2 && !err; i++) {
		uint8_t family = i ? XH_AF_INET6 : XH_AF_INET;
		struct xh_ip any = { .family = family }, gw;

		if (!(i ? v6 : v4))
			continue;
		xh_ip_parse(i ? XH_GATEWAY6 : XH_GATEWAY4, &gw);
		err = add_route(d, &any, 0, &gw);
		if (!err)
			err = add_gateway(d, &gw, st->veth_mac);
	}
	d->eph_lo = POD_EPH_LO;
	d->eph_hi = POD_EPH_HI;
	return err;
}

/* `direct`: the NIC's RX queues. "zerocopy": what a client that sends its
 * UMEM's memfd gets (the keeper registers it on the NIC's first queue and
 * binds zero-copy where the driver can; hook_endpoint_describe() clears it
 * unless the node asks for "rx-zerocopy"); a client without one shares
 * socket 0's UMEM, and with it veth's copy mode (BOUND says which). */
static int describe_direct(const struct xh_state *st, struct xh_ep_desc *d)
{
	uint64_t features = 0;
	bool zc;

	xh_link_xdp_features(st->nic_ifindex, &features);
	zc = features & XH_XDP_ACT_XSK_ZEROCOPY;
	for (uint32_t q = 0; q < st->host.direct_queues; q++) {
		struct xh_ep_direct *e = &d->direct[d->n_direct++];

		snprintf(e->ifname, sizeof(e->ifname), "%s", st->nic);
		e->ifindex = st->nic_ifindex;
		e->queue = q;
		e->zerocopy = zc;
	}
	d->direct_memfd = d->n_direct > 0;
	return 0;
}

/* Host mode: the NIC's addresses and routes; the gateways' MACs are the
 * sandbox's to learn (ARP/ND replies are cloned to it). */
static int describe_host(const struct xh_state *st, struct xh_ep_desc *d)
{
	int err = 0;

	for (size_t i = 0; i < st->n_ips && !err; i++)
		err = add_addr(d, &st->ips[i].ip, st->ips[i].plen);
	for (size_t i = 0; i < st->n_routes && !err; i++)
		err = add_route(d, &st->routes[i].dst.ip, st->routes[i].dst.len, &st->routes[i].gw);
	d->eph_lo = st->host.sandbox_eph_lo;
	d->eph_hi = st->host.sandbox_eph_hi;
	return err ? err : describe_direct(st, d);
}

/* netns mode: the CNI's interface as it was (addresses with their
 * prefixes, its routes), the gateways' MACs where the hook found them; the
 * sandbox owns the addresses alone, so the usual ephemeral range. */
static int describe_netns(const struct hook *h, struct xh_ep_desc *d)
{
	int err = describe_host(&h->st, d);

	snprintf(d->ifname, sizeof(d->ifname), "%s", h->st.netns.iface);
	for (size_t i = 0; i < h->n_gw_macs && !err; i++)
		err = add_gateway(d, &h->gw_macs[i].ip, h->gw_macs[i].mac);
	d->eph_lo = POD_EPH_LO;
	d->eph_hi = POD_EPH_HI;
	return err;
}

int hook_endpoint_describe(const struct hook *h, struct xh_ep_desc *d)
{
	const struct xh_state *st = &h->st;
	int err;

	xh_ep_desc_init(d);
	err = xh_ep_desc_set_umem(d, h->cfg.umem_size);
	if (err)
		return xh_err(err, "umem_size %u: %s", h->cfg.umem_size, xh_ep_strerror(err));
	snprintf(d->ifname, sizeof(d->ifname), "xdp0");
	d->ifindex = st->peer_ifindex;
	d->queue = 0;
	memcpy(d->mac, st->peer_mac, 6);
	d->mtu = st->mtu;
	d->xdp_copy = true; /* veth has no zero-copy */
	err = st->mode == XH_HOST    ? describe_host(st, d)
	      : st->mode == XH_NETNS ? describe_netns(h, d)
				     : describe_pod(st, d);
	if (err)
		return err;
	/* Zero-copy puts every frame of the queue, the host's and other
	 * containers' included, into the sandbox's memory before the NIC
	 * program looks at it: only where the node says its queues carry the
	 * sandbox's traffic alone. The keeper binds copy mode otherwise. */
	for (size_t i = 0; i < d->n_direct && !h->cfg.direct_zerocopy; i++)
		d->direct[i].zerocopy = false;
	err = xh_ep_desc_check(d);
	return err ? xh_err(err, "%s", xh_ep_strerror(err)) : 0;
}

int hook_endpoint_start(struct hook *h)
{
	struct xh_state *st = &h->st;
	struct xh_ep_desc desc;
	char log[PATH_MAX];
	struct keeper_args a = {
		.id = st->id,
		.netns_fd = h->netns_fd,
		.init_pid = st->pid,
		.init_start = st->pid_start,
		.xsks_fd = -1,
		.netns_cookie = st->netns_cookie,
		.host_cookie = st->host_cookie,
		.allowed_uids = h->cfg.allowed_uids,
		.n_uids = h->cfg.n_uids,
		.desc = &desc,
		.log_path = log,
	};
	int err;

	h->step = "endpoint";
	err = hook_endpoint_describe(h, &desc);
	if (err)
		return err;
	err = xh_state_dir(st->id, log, sizeof(log) - 16);
	if (err)
		return err;
	strcat(log, "/keeper.log");
	/* Socket 0's place: the container's slot in xdp0's shared program,
	 * else the own program's `xsks` (xsks_fd -1). */
	a.xsks_fd = ep_prog_xsks(st, desc.queue, &a.xsks_key);
	if (a.xsks_fd < 0 && a.xsks_fd != -ENOENT)
		return a.xsks_fd;
	/* Recorded by the caller's next save, the one that marks the setup
	 * ready (in memory at once, for a rollback). */
	err = keeper_start(&a, &st->keeper_pid, &st->keeper_start);
	if (a.xsks_fd >= 0)
		close(a.xsks_fd);
	return err;
}
