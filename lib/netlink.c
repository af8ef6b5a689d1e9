/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#define _GNU_SOURCE
#include "netlink.h"
#include "netns.h"
#include "util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>

/* uapi <linux/netdev.h> */
#define NETDEV_CMD_DEV_GET 1
#define NETDEV_A_DEV_IFINDEX 1
#define NETDEV_A_DEV_XDP_FEATURES 3
#define NETDEV_A_DEV_MAX 16

static void nl_sock_freep(struct nl_sock **s)
{
	if (*s)
		nl_socket_free(*s);
}
#define cleanup_nl_sock __attribute__((cleanup(nl_sock_freep)))

static void nl_msg_freep(struct nl_msg **m)
{
	if (*m)
		nlmsg_free(*m);
}
#define cleanup_nl_msg __attribute__((cleanup(nl_msg_freep)))

static void rtnl_link_putp(struct rtnl_link **l)
{
	if (*l)
		rtnl_link_put(*l);
}
#define cleanup_rtnl_link __attribute__((cleanup(rtnl_link_putp)))

/* libnl reports NLE_* codes; map the ones that matter back to errno. */
static int nl_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		return -ENODEV;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

int xh_link_index(const char *ifname, int *ifindex)
{
	unsigned int idx;

	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ)
		return xh_err(-EINVAL, "invalid device name");
	idx = if_nametoindex(ifname);
	if (!idx)
		return xh_err(-ENODEV, "no such device");
	*ifindex = (int)idx;
	return 0;
}

/* For xh_netns_run: a connected generic-netlink socket into *ctx. */
static int genl_open_here(void *ctx)
{
	struct nl_sock **out = ctx, *sk = nl_socket_alloc();
	int err;

	if (!sk)
		return -ENOMEM;
	err = genl_connect(sk);
	if (err) {
		nl_socket_free(sk);
		return xh_err(nl_errno(err), "generic netlink: %s", nl_geterror(err));
	}
	*out = sk;
	return 0;
}

/* A generic-netlink socket in the netns of netns_fd (-1: the caller's)
 * and the id of its netdev family there. */
static int netdev_sock(int netns_fd, struct nl_sock **sk, int *family)
{
	int err = netns_fd < 0 ? genl_open_here(sk) : xh_netns_run(netns_fd, genl_open_here, sk);

	if (err)
		return err;
	*family = genl_ctrl_resolve(*sk, "netdev");
	if (*family < 0)
		return xh_err(-EOPNOTSUPP, "no netdev generic-netlink family (Linux 6.3+)");
	return 0;
}

/* A netdev request cmd (flags: 0 or NLM_F_DUMP) naming its object with
 * the u32 attribute attr; the caller may add more. NULL without memory. */
static struct nl_msg *netdev_msg(int family, int flags, uint8_t cmd, int attr, uint32_t value)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, flags, cmd, 1) ||
		    nla_put_u32(msg, attr, value))) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

struct features_reply {
	uint64_t features;
	int found;
};

static int features_cb(struct nl_msg *msg, void *arg)
{
	struct features_reply *r = arg;
	struct nlattr *tb[NETDEV_A_DEV_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, NETDEV_A_DEV_MAX, NULL) < 0)
		return NL_SKIP;
	if (tb[NETDEV_A_DEV_XDP_FEATURES]) {
		r->features = nla_get_u64(tb[NETDEV_A_DEV_XDP_FEATURES]);
		r->found = 1;
	}
	return NL_OK;
}

int xh_link_xdp_features(int ifindex, uint64_t *features)
{
	cleanup_nl_sock struct nl_sock *sk = NULL;
	cleanup_nl_msg struct nl_msg *msg = NULL;
	struct features_reply r = {};
	int family, err;

	err = netdev_sock(-1, &sk, &family);
	if (err)
		return err;
	msg = netdev_msg(family, 0, NETDEV_CMD_DEV_GET, NETDEV_A_DEV_IFINDEX, (uint32_t)ifindex);
	if (!msg)
		return -ENOMEM;
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, features_cb, &r);
	err = nl_send_sync(sk, steal_pointer(&msg));
	if (err)
		return nl_errno(err);
	if (!r.found)
		return -EOPNOTSUPP;
	*features = r.features;
	return 0;
}

int xh_link_kind(int ifindex, char *kind, size_t size, int *link_ifindex)
{
	cleanup_nl_sock struct nl_sock *sk = nl_socket_alloc();
	cleanup_rtnl_link struct rtnl_link *link = NULL;
	const char *type;
	int err;

	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err)
		return nl_errno(err);
	err = rtnl_link_get_kernel(sk, ifindex, NULL, &link);
	if (err)
		return nl_errno(err);
	type = rtnl_link_get_type(link);
	snprintf(kind, size, "%s", type ? type : "");
	if (link_ifindex)
		*link_ifindex = rtnl_link_get_link(link);
	return 0;
}

int xh_link_check_xdp_xmit(int ifindex)
{
	char kind[32] = "";
	uint64_t features;
	int peer = 0;
	int err;

	err = xh_link_xdp_features(ifindex, &features);
	if (err == -EOPNOTSUPP)
		return 0; /* kernel < 6.3 cannot tell us: trust the operator */
	if (err)
		return xh_err(err, "query xdp-features: %s", strerror(-err));
	if (features & XH_XDP_ACT_NDO_XMIT)
		return 0;

	xh_link_kind(ifindex, kind, sizeof(kind), &peer);
	if (!strcmp(kind, "veth"))
		return xh_err(-EOPNOTSUPP,
			      "cannot transmit redirected XDP frames: its veth peer (ifindex %d) has "
			      "neither an XDP program nor GRO, so the kernel would drop every frame; "
			      "attach a program to the peer (xdp_loader -program pass -device PEER) or "
			      "enable GRO on it (ethtool -K PEER gro on)",
			      peer);
	return xh_err(-EOPNOTSUPP,
		      "cannot transmit redirected XDP frames: driver '%s' lacks ndo_xdp_xmit "
		      "(netdev xdp-features 0x%llx)",
		      kind[0] ? kind : "of this device", (unsigned long long)features);
}

/* ---- rtnetlink operations for the hook -------------------------------- */


static void nl_addr_putp(struct nl_addr **a)
{
	if (*a)
		nl_addr_put(*a);
}
#define cleanup_nl_addr __attribute__((cleanup(nl_addr_putp)))

static void nl_cache_freep(struct nl_cache **c)
{
	if (*c)
		nl_cache_free(*c);
}
#define cleanup_nl_cache __attribute__((cleanup(nl_cache_freep)))

static int af_of(const struct xh_ip *ip)
{
	return ip->family == XH_AF_INET ? AF_INET : AF_INET6;
}

static int ip_len(const struct xh_ip *ip)
{
	return ip->family == XH_AF_INET ? 4 : 16;
}

int xh_ip_parse(const char *s, struct xh_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, ip->addr) == 1) {
		ip->family = XH_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ip->addr) == 1) {
		ip->family = XH_AF_INET6;
		return 0;
	}
	return -EINVAL;
}

void xh_ip_mask(struct xh_ip *ip, int plen)
{
	int bytes = plen / 8, bits = plen % 8;

	if (bits)
		ip->addr[bytes] &= (uint8_t)(0xff << (8 - bits));
	for (int i = bytes + (bits ? 1 : 0); i < (int)sizeof(ip->addr); i++)
		ip->addr[i] = 0;
}

const char *xh_ip_str(const struct xh_ip *ip, char *buf, size_t size)
{
	if (!inet_ntop(af_of(ip), ip->addr, buf, size))
		snprintf(buf, size, "?");
	return buf;
}

static struct nl_addr *nl_addr_of(const struct xh_ip *ip, int prefix)
{
	struct nl_addr *a = nl_addr_build(af_of(ip), ip->addr, ip_len(ip));

	if (a && prefix >= 0)
		nl_addr_set_prefixlen(a, prefix);
	return a;
}

static int rtnl_open_here(void *ctx)
{
	struct nl_sock **out = ctx;
	struct nl_sock *sk = nl_socket_alloc();
	int err;

	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err) {
		nl_socket_free(sk);
		return nl_errno(err);
	}
	*out = sk;
	return 0;
}

int xh_rtnl_open(int netns_fd, struct nl_sock **out)
{
	*out = NULL;
	if (netns_fd < 0)
		return rtnl_open_here(out);
	return xh_netns_run(netns_fd, rtnl_open_here, out);
}

void xh_rtnl_closep(struct nl_sock **sk)
{
	if (*sk)
		nl_socket_free(*sk);
}

int xh_rtnl_link_get(struct nl_sock *sk, int ifindex, const char *name, struct xh_link *out)
{
	cleanup_rtnl_link struct rtnl_link *link = NULL;
	struct nl_addr *mac;
	const char *type;
	int err;

	err = rtnl_link_get_kernel(sk, ifindex > 0 ? ifindex : 0, ifindex > 0 ? NULL : name, &link);
	if (err)
		return nl_errno(err) == -EIO ? -ENODEV : nl_errno(err);
	memset(out, 0, sizeof(*out));
	out->ifindex = rtnl_link_get_ifindex(link);
	snprintf(out->name, sizeof(out->name), "%s", rtnl_link_get_name(link));
	out->mtu = rtnl_link_get_mtu(link);
	mac = rtnl_link_get_addr(link);
	if (mac && nl_addr_get_len(mac) == 6)
		memcpy(out->mac, nl_addr_get_binary_addr(mac), 6);
	type = rtnl_link_get_type(link);
	snprintf(out->kind, sizeof(out->kind), "%s", type ? type : "");
	return 0;
}

int xh_rtnl_veth_add(struct nl_sock *sk, const char *name, const char *peer_name, int peer_netns_fd,
		     unsigned int mtu)
{
	struct rtnl_link *link = rtnl_link_veth_alloc();
	struct rtnl_link *peer;
	int err;

	if (!link)
		return -ENOMEM;
	peer = rtnl_link_veth_get_peer(link);
	rtnl_link_set_name(link, name);
	rtnl_link_set_name(peer, peer_name);
	if (peer_netns_fd >= 0)
		rtnl_link_set_ns_fd(peer, peer_netns_fd);
	if (mtu) {
		rtnl_link_set_mtu(link, mtu);
		rtnl_link_set_mtu(peer, mtu);
	}
	/* One queue each way, asked for: the kernel would otherwise allocate
	 * one per CPU and then cut the pair down to one, waiting for an RCU
	 * grace period per device to do it (xdp0 has one queue either way). */
	rtnl_link_set_num_tx_queues(link, 1);
	rtnl_link_set_num_rx_queues(link, 1);
	rtnl_link_set_num_tx_queues(peer, 1);
	rtnl_link_set_num_rx_queues(peer, 1);
	rtnl_link_put(peer);
	err = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_veth_release(link);
	if (err == -NLE_EXIST)
		return -EEXIST;
	return err ? nl_errno(err) : 0;
}

int xh_rtnl_link_del(struct nl_sock *sk, int ifindex)
{
	cleanup_rtnl_link struct rtnl_link *link = rtnl_link_alloc();
	int err;

	if (!link)
		return -ENOMEM;
	rtnl_link_set_ifindex(link, ifindex);
	err = rtnl_link_delete(sk, link);
	if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND)
		return -ENODEV;
	return err ? nl_errno(err) : 0;
}

int xh_rtnl_link_up(struct nl_sock *sk, int ifindex)
{
	cleanup_rtnl_link struct rtnl_link *orig = rtnl_link_alloc();
	cleanup_rtnl_link struct rtnl_link *change = rtnl_link_alloc();
	int err;

	if (!orig || !change)
		return -ENOMEM;
	rtnl_link_set_ifindex(orig, ifindex);
	rtnl_link_set_flags(change, IFF_UP);
	err = rtnl_link_change(sk, orig, change, 0);
	return err ? nl_errno(err) : 0;
}

int xh_rtnl_link_set_mac(struct nl_sock *sk, int ifindex, const uint8_t mac[6])
{
	cleanup_rtnl_link struct rtnl_link *orig = rtnl_link_alloc();
	cleanup_rtnl_link struct rtnl_link *change = rtnl_link_alloc();
	cleanup_nl_addr struct nl_addr *addr = nl_addr_build(AF_LLC, mac, 6);
	int err;

	if (!orig || !change || !addr)
		return -ENOMEM;
	rtnl_link_set_ifindex(orig, ifindex);
	rtnl_link_set_addr(change, addr);
	err = rtnl_link_change(sk, orig, change, 0);
	return err ? nl_errno(err) : 0;
}

static int addr_op(struct nl_sock *sk, int ifindex, const struct xh_prefix *p, bool add, unsigned int flags)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	cleanup_nl_addr struct nl_addr *local = nl_addr_of(&p->ip, p->len);
	int err;

	if (!a || !local) {
		if (a)
			rtnl_addr_put(a);
		return -ENOMEM;
	}
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_family(a, af_of(&p->ip));
	rtnl_addr_set_local(a, local);
	rtnl_addr_set_prefixlen(a, p->len);
	if (flags)
		rtnl_addr_set_flags(a, flags);
	err = add ? rtnl_addr_add(sk, a, NLM_F_EXCL) : rtnl_addr_delete(sk, a, 0);
	rtnl_addr_put(a);
	if (err == -NLE_EXIST)
		return -EEXIST;
	if (err == -NLE_NOADDR || err == -NLE_OBJ_NOTFOUND)
		return -ENOENT;
	return err ? nl_errno(err) : 0;
}

int xh_rtnl_addr_add(struct nl_sock *sk, int ifindex, const struct xh_prefix *p)
{
	return addr_op(sk, ifindex, p, true, 0);
}

int xh_rtnl_addr_add_flags(struct nl_sock *sk, int ifindex, const struct xh_prefix *p, unsigned int flags)
{
	return addr_op(sk, ifindex, p, true, flags);
}

int xh_rtnl_addr_del(struct nl_sock *sk, int ifindex, const struct xh_prefix *p)
{
	return addr_op(sk, ifindex, p, false, 0);
}

struct addr_walk {
	int ifindex;
	int (*fn)(int ifindex, const struct xh_prefix *p, void *ctx);
	void *ctx;
	int rc;
};

static void addr_walk_one(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	struct addr_walk *w = arg;
	struct nl_addr *local = rtnl_addr_get_local(a);
	struct xh_prefix p = {};
	int family = rtnl_addr_get_family(a);

	if (w->rc || !local || rtnl_addr_get_scope(a) != RT_SCOPE_UNIVERSE)
		return;
	if (w->ifindex && rtnl_addr_get_ifindex(a) != w->ifindex)
		return;
	if (family == AF_INET && nl_addr_get_len(local) == 4)
		p.ip.family = XH_AF_INET;
	else if (family == AF_INET6 && nl_addr_get_len(local) == 16)
		p.ip.family = XH_AF_INET6;
	else
		return;
	memcpy(p.ip.addr, nl_addr_get_binary_addr(local), nl_addr_get_len(local));
	p.len = rtnl_addr_get_prefixlen(a);
	w->rc = w->fn(rtnl_addr_get_ifindex(a), &p, w->ctx);
}

int xh_rtnl_addr_list(struct nl_sock *sk, int ifindex,
		      int (*fn)(int ifindex, const struct xh_prefix *p, void *ctx), void *ctx)
{
	cleanup_nl_cache struct nl_cache *cache = NULL;
	struct addr_walk w = { .ifindex = ifindex, .fn = fn, .ctx = ctx };
	int err = rtnl_addr_alloc_cache(sk, &cache);

	if (err)
		return nl_errno(err);
	nl_cache_foreach(cache, addr_walk_one, &w);
	return w.rc < 0 ? w.rc : 0;
}

/* nlflags: NLM_F_EXCL or NLM_F_REPLACE to add, -1 to delete. scope 0
 * without a gateway means link. */
static int route_op(struct nl_sock *sk, const struct xh_prefix *p, int oif, const struct xh_ip *gw,
		    const struct xh_ip *src, bool onlink, uint8_t proto, uint8_t scope, int nlflags)
{
	struct rtnl_route *r = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	cleanup_nl_addr struct nl_addr *dst = nl_addr_of(&p->ip, p->len);
	cleanup_nl_addr struct nl_addr *via = gw ? nl_addr_of(gw, -1) : NULL;
	cleanup_nl_addr struct nl_addr *pref = src ? nl_addr_of(src, -1) : NULL;
	int err;

	if (!r || !nh || !dst || (gw && !via) || (src && !pref)) {
		if (nh)
			rtnl_route_nh_free(nh);
		if (r)
			rtnl_route_put(r);
		return -ENOMEM;
	}
	rtnl_route_set_family(r, af_of(&p->ip));
	rtnl_route_set_dst(r, dst);
	rtnl_route_set_table(r, RT_TABLE_MAIN);
	rtnl_route_set_protocol(r, proto);
	rtnl_route_set_scope(r, gw ? RT_SCOPE_UNIVERSE : scope ? scope : RT_SCOPE_LINK);
	rtnl_route_set_type(r, RTN_UNICAST);
	if (pref)
		rtnl_route_set_pref_src(r, pref);
	rtnl_route_nh_set_ifindex(nh, oif);
	if (via) {
		rtnl_route_nh_set_gateway(nh, via);
		/* The gateway may sit outside every connected prefix (a
		 * link-local gateway, or a /32 address): trust the device. */
		if (onlink)
			rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
	}
	rtnl_route_add_nexthop(r, nh); /* r owns nh now */
	err = nlflags >= 0 ? rtnl_route_add(sk, r, nlflags) : rtnl_route_delete(sk, r, 0);
	rtnl_route_put(r);
	if (err == -NLE_EXIST)
		return -EEXIST;
	if (err == -NLE_OBJ_NOTFOUND)
		return -ENOENT;
	return err ? nl_errno(err) : 0;
}

int xh_rtnl_route_add(struct nl_sock *sk, const struct xh_prefix *p, int oif, const struct xh_ip *gw)
{
	return route_op(sk, p, oif, gw, NULL, true, XH_RTPROT, 0, NLM_F_EXCL);
}

int xh_rtnl_route_restore(struct nl_sock *sk, const struct xh_route *r)
{
	return route_op(sk, &r->dst, r->oif, r->gw.family ? &r->gw : NULL, r->src.family ? &r->src : NULL,
			r->onlink, r->proto, r->scope, NLM_F_EXCL);
}

int xh_rtnl_route_replace(struct nl_sock *sk, const struct xh_route *r)
{
	return route_op(sk, &r->dst, r->oif, r->gw.family ? &r->gw : NULL, r->src.family ? &r->src : NULL,
			r->onlink, r->proto, r->scope, NLM_F_REPLACE);
}

int xh_rtnl_route_del(struct nl_sock *sk, const struct xh_prefix *p, int oif)
{
	return route_op(sk, p, oif, NULL, NULL, false, XH_RTPROT, 0, -1);
}

static int neigh_op(struct nl_sock *sk, int ifindex, const struct xh_ip *ip, const uint8_t *mac)
{
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	cleanup_nl_addr struct nl_addr *dst = nl_addr_of(ip, -1);
	cleanup_nl_addr struct nl_addr *ll = mac ? nl_addr_build(AF_LLC, mac, 6) : NULL;
	int err;

	if (!n || !dst || (mac && !ll)) {
		if (n)
			rtnl_neigh_put(n);
		return -ENOMEM;
	}
	rtnl_neigh_set_ifindex(n, ifindex);
	rtnl_neigh_set_family(n, af_of(ip));
	rtnl_neigh_set_dst(n, dst);
	if (mac) {
		rtnl_neigh_set_lladdr(n, ll);
		rtnl_neigh_set_state(n, NUD_PERMANENT);
		err = rtnl_neigh_add(sk, n, NLM_F_CREATE | NLM_F_REPLACE);
	} else {
		err = rtnl_neigh_delete(sk, n, 0);
	}
	rtnl_neigh_put(n);
	if (err == -NLE_OBJ_NOTFOUND)
		return -ENOENT;
	return err ? nl_errno(err) : 0;
}

int xh_rtnl_neigh_add(struct nl_sock *sk, int ifindex, const struct xh_ip *ip, const uint8_t mac[6])
{
	return neigh_op(sk, ifindex, ip, mac);
}

int xh_rtnl_neigh_del(struct nl_sock *sk, int ifindex, const struct xh_ip *ip)
{
	return neigh_op(sk, ifindex, ip, NULL);
}

int xh_rtnl_neigh_lookup(struct nl_sock *sk, int ifindex, const struct xh_ip *ip, uint8_t mac[6])
{
	cleanup_nl_cache struct nl_cache *cache = NULL;
	cleanup_nl_addr struct nl_addr *dst = nl_addr_of(ip, -1);
	struct rtnl_neigh *n;
	struct nl_addr *ll;
	int err = 0, state;

	if (!dst)
		return -ENOMEM;
	err = rtnl_neigh_alloc_cache(sk, &cache);
	if (err)
		return nl_errno(err);
	n = rtnl_neigh_get(cache, ifindex, dst);
	if (!n)
		return -ENOENT;
	ll = rtnl_neigh_get_lladdr(n);
	state = rtnl_neigh_get_state(n);
	/* Only an answer the kernel got (or was given): not an INCOMPLETE
	 * or FAILED entry. */
	if (!ll || nl_addr_get_len(ll) != 6 || (state & (NUD_INCOMPLETE | NUD_FAILED | NUD_NOARP)))
		err = -ENOENT;
	else
		memcpy(mac, nl_addr_get_binary_addr(ll), 6);
	rtnl_neigh_put(n);
	return err;
}

struct route_walk {
	int ifindex;               /* routes out of this device, or */
	const struct xh_prefix *dst; /* the route to exactly this */
	int (*fn)(const struct xh_route *r, void *ctx);
	void *ctx;
	int rc;
};

static void route_walk_one(struct nl_object *obj, void *arg)
{
	struct rtnl_route *r = (struct rtnl_route *)obj;
	struct route_walk *w = arg;
	struct nl_addr *dst = rtnl_route_get_dst(r), *gw, *src;
	struct rtnl_nexthop *nh;
	struct xh_route out = {};
	int family = rtnl_route_get_family(r);

	if (w->rc || rtnl_route_get_table(r) != RT_TABLE_MAIN || rtnl_route_get_type(r) != RTN_UNICAST ||
	    rtnl_route_get_protocol(r) == RTPROT_KERNEL || (family != AF_INET && family != AF_INET6))
		return;
	if (rtnl_route_get_nnexthops(r) != 1 || !(nh = rtnl_route_nexthop_n(r, 0)) ||
	    (!w->dst && rtnl_route_nh_get_ifindex(nh) != w->ifindex))
		return;
	out.oif = rtnl_route_nh_get_ifindex(nh);
	out.proto = rtnl_route_get_protocol(r);
	out.scope = rtnl_route_get_scope(r);
	out.dst.ip.family = family == AF_INET ? XH_AF_INET : XH_AF_INET6;
	if (dst && nl_addr_get_len(dst)) {
		memcpy(out.dst.ip.addr, nl_addr_get_binary_addr(dst), nl_addr_get_len(dst) > 16 ? 16 : nl_addr_get_len(dst));
		out.dst.len = nl_addr_get_prefixlen(dst);
	}
	if (w->dst && (out.dst.len != w->dst->len || out.dst.ip.family != w->dst->ip.family ||
		       memcmp(out.dst.ip.addr, w->dst->ip.addr, sizeof(out.dst.ip.addr))))
		return;
	if ((src = rtnl_route_get_pref_src(r)) && nl_addr_get_len(src) && nl_addr_get_len(src) <= 16) {
		out.src.family = out.dst.ip.family;
		memcpy(out.src.addr, nl_addr_get_binary_addr(src), nl_addr_get_len(src));
	}
	out.onlink = rtnl_route_nh_get_flags(nh) & RTNH_F_ONLINK;
	gw = rtnl_route_nh_get_gateway(nh);
	if (gw && nl_addr_get_len(gw)) {
		out.gw.family = out.dst.ip.family;
		memcpy(out.gw.addr, nl_addr_get_binary_addr(gw), nl_addr_get_len(gw) > 16 ? 16 : nl_addr_get_len(gw));
	}
	w->rc = w->fn(&out, w->ctx);
}

static int route_walk(struct nl_sock *sk, struct route_walk *w)
{
	cleanup_nl_cache struct nl_cache *cache = NULL;
	int err = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &cache);

	if (err)
		return nl_errno(err);
	nl_cache_foreach(cache, route_walk_one, w);
	return w->rc < 0 ? w->rc : 0;
}

int xh_rtnl_route_list(struct nl_sock *sk, int ifindex,
		       int (*fn)(const struct xh_route *r, void *ctx), void *ctx)
{
	struct route_walk w = { .ifindex = ifindex, .fn = fn, .ctx = ctx };

	return route_walk(sk, &w);
}

static int route_found(const struct xh_route *r, void *ctx)
{
	*(struct xh_route *)ctx = *r;
	return 1;
}

int xh_rtnl_route_find(struct nl_sock *sk, const struct xh_prefix *p, struct xh_route *out)
{
	struct route_walk w = { .dst = p, .fn = route_found, .ctx = out };
	int err = route_walk(sk, &w);

	return err ? err : w.rc ? 0 : -ENOENT;
}

struct default_walk {
	int family;
	int ifindex;
};

static void default_walk_one(struct nl_object *obj, void *arg)
{
	struct rtnl_route *r = (struct rtnl_route *)obj;
	struct default_walk *w = arg;
	struct nl_addr *dst = rtnl_route_get_dst(r);
	struct rtnl_nexthop *nh;

	if (w->ifindex || rtnl_route_get_table(r) != RT_TABLE_MAIN || rtnl_route_get_family(r) != w->family)
		return;
	if (dst && nl_addr_get_prefixlen(dst) != 0)
		return;
	if (rtnl_route_get_nnexthops(r) < 1 || !(nh = rtnl_route_nexthop_n(r, 0)))
		return;
	w->ifindex = rtnl_route_nh_get_ifindex(nh);
}

int xh_rtnl_default_dev(struct nl_sock *sk, int *ifindex)
{
	static const int families[] = { AF_INET, AF_INET6 };

	for (size_t i = 0; i < ARRAY_SIZE(families); i++) {
		cleanup_nl_cache struct nl_cache *cache = NULL;
		struct default_walk w = { .family = families[i] };
		int err = rtnl_route_alloc_cache(sk, families[i], 0, &cache);

		if (err)
			return nl_errno(err);
		nl_cache_foreach(cache, default_walk_one, &w);
		if (w.ifindex) {
			*ifindex = w.ifindex;
			return 0;
		}
	}
	return xh_err(-ENOENT, "no default route: name the NIC (config \"nic\" or annotation io.xdphook.nic)");
}

/* ---- NAPI settings --------------------------------------------------------- */

/* uapi <linux/netdev.h> (napi-set: Linux 6.13, threaded: 6.17) */
#define NETDEV_CMD_NAPI_GET 11
#define NETDEV_CMD_NAPI_SET 14
#define NETDEV_A_NAPI_IFINDEX 1
#define NETDEV_A_NAPI_ID 2
#define NETDEV_A_NAPI_PID 4
#define NETDEV_A_NAPI_DEFER_HARD_IRQS 5
#define NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT 6
#define NETDEV_A_NAPI_THREADED 8
#define NETDEV_A_NAPI_MAX 16
#define XH_NAPI_MAX 256

struct napi_ids {
	int ifindex;
	uint32_t id[XH_NAPI_MAX];
	int pid[XH_NAPI_MAX];   /* its kernel thread, 0 if none */
	size_t n;
};

static int napi_ids_cb(struct nl_msg *msg, void *arg)
{
	struct napi_ids *ids = arg;
	struct nlattr *tb[NETDEV_A_NAPI_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, NETDEV_A_NAPI_MAX, NULL) < 0)
		return NL_SKIP;
	if (!tb[NETDEV_A_NAPI_ID] || !tb[NETDEV_A_NAPI_IFINDEX] ||
	    (int)nla_get_u32(tb[NETDEV_A_NAPI_IFINDEX]) != ids->ifindex || ids->n >= XH_NAPI_MAX)
		return NL_SKIP;
	ids->pid[ids->n] = tb[NETDEV_A_NAPI_PID] ? (int)nla_get_u32(tb[NETDEV_A_NAPI_PID]) : 0;
	ids->id[ids->n++] = nla_get_u32(tb[NETDEV_A_NAPI_ID]);
	return NL_OK;
}

static int napi_set_one(struct nl_sock *sk, int family, uint32_t id, const struct xh_napi_cfg *cfg)
{
	cleanup_nl_msg struct nl_msg *msg = netdev_msg(family, 0, NETDEV_CMD_NAPI_SET, NETDEV_A_NAPI_ID, id);
	int err;

	if (!msg ||
	    (cfg->threaded >= 0 && nla_put_u32(msg, NETDEV_A_NAPI_THREADED, (uint32_t)cfg->threaded)) ||
	    (cfg->defer_hard_irqs >= 0 &&
	     nla_put_u32(msg, NETDEV_A_NAPI_DEFER_HARD_IRQS, (uint32_t)cfg->defer_hard_irqs)) ||
	    (cfg->gro_flush_timeout >= 0 &&
	     nla_put_u64(msg, NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT, (uint64_t)cfg->gro_flush_timeout)))
		return -ENOMEM;
	err = nl_send_sync(sk, steal_pointer(&msg));
	if (!err)
		return 0;
	/* An attribute this kernel does not know fails the policy check. */
	if (err == -NLE_INVAL || err == -NLE_OPNOTSUPP || err == -NLE_RANGE)
		return xh_err(-EOPNOTSUPP, "napi-set on NAPI %u: %s (threaded needs Linux 6.17, "
			      "the others 6.13)", id, nl_geterror(err));
	return xh_err(nl_errno(err), "napi-set on NAPI %u: %s", id, nl_geterror(err));
}

/* The NAPI instances of ifindex in the netns of netns_fd (-1: the
 * caller's) into *ids, and the netdev socket (*sk, *family) that found
 * them, for more requests; the caller frees all three. */
static int napi_list(int netns_fd, int ifindex, struct nl_sock **sk, int *family, struct napi_ids **ids)
{
	cleanup_nl_msg struct nl_msg *msg = NULL;
	int err;

	*ids = calloc(1, sizeof(**ids));
	if (!*ids)
		return -ENOMEM;
	err = netdev_sock(netns_fd, sk, family);
	if (err)
		return err;
	msg = netdev_msg(*family, NLM_F_DUMP, NETDEV_CMD_NAPI_GET, NETDEV_A_NAPI_IFINDEX, (uint32_t)ifindex);
	if (!msg)
		return -ENOMEM;
	(*ids)->ifindex = ifindex;
	nl_socket_modify_cb(*sk, NL_CB_VALID, NL_CB_CUSTOM, napi_ids_cb, *ids);
	err = nl_send_auto(*sk, msg);
	if (err >= 0)
		err = nl_recvmsgs_default(*sk);
	if (err < 0)
		return xh_err(nl_errno(err), "napi-get of ifindex %d: %s", ifindex, nl_geterror(err));
	nl_socket_modify_cb(*sk, NL_CB_VALID, NL_CB_DEFAULT, NULL, NULL);
	if (!(*ids)->n)
		return xh_err(-ENOENT, "ifindex %d has no NAPI instance (a veth has them only with an "
			      "XDP program or GRO)", ifindex);
	return 0;
}

int xh_napi_threads(int netns_fd, int ifindex, int *pids, size_t max, size_t *n)
{
	cleanup_nl_sock struct nl_sock *sk = NULL;
	cleanup_free struct napi_ids *ids = NULL;
	int family, err;

	*n = 0;
	err = napi_list(netns_fd, ifindex, &sk, &family, &ids);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	for (size_t i = 0; i < ids->n && *n < max; i++)
		if (ids->pid[i] > 0)
			pids[(*n)++] = ids->pid[i];
	return 0;
}

int xh_napi_set(int netns_fd, int ifindex, const struct xh_napi_cfg *cfg)
{
	cleanup_nl_sock struct nl_sock *sk = NULL;
	cleanup_free struct napi_ids *ids = NULL;
	int family, err = napi_list(netns_fd, ifindex, &sk, &family, &ids);

	if (err)
		return err;
	for (size_t i = 0; i < ids->n; i++) {
		err = napi_set_one(sk, family, ids->id[i], cfg);
		if (err)
			return err;
	}
	return (int)ids->n;
}
