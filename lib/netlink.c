/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include "netlink.h"
#include "util.h"

#include <net/if.h>
#include <string.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/route/link.h>

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
	cleanup_nl_sock struct nl_sock *sk = nl_socket_alloc();
	cleanup_nl_msg struct nl_msg *msg = NULL;
	struct features_reply r = {};
	int family, err;

	if (!sk)
		return -ENOMEM;
	err = genl_connect(sk);
	if (err)
		return nl_errno(err);
	family = genl_ctrl_resolve(sk, "netdev");
	if (family < 0)
		return -EOPNOTSUPP;
	msg = nlmsg_alloc();
	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0, NETDEV_CMD_DEV_GET, 1) ||
	    nla_put_u32(msg, NETDEV_A_DEV_IFINDEX, ifindex))
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
