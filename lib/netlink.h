/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What xdphook asks rtnetlink and the generic-netlink "netdev" family. */
#ifndef XDPHOOK_NETLINK_H
#define XDPHOOK_NETLINK_H

#include <stddef.h>
#include <stdint.h>

/* uapi <linux/netdev.h> (Linux 6.3+); Debian 12's headers predate it. */
#define XH_XDP_ACT_BASIC (1u << 0)
#define XH_XDP_ACT_REDIRECT (1u << 1)
#define XH_XDP_ACT_NDO_XMIT (1u << 2)

/* ifindex of a device in the caller's netns; -ENODEV with a detail. */
int xh_link_index(const char *ifname, int *ifindex);

/* The device's netdev xdp-features. -EOPNOTSUPP when the kernel has no
 * netdev family (before 6.3): the caller cannot verify, only trust. */
int xh_link_xdp_features(int ifindex, uint64_t *features);

/* rtnetlink link kind ("veth", "bridge", ...; "" for plain devices) and
 * IFLA_LINK (a veth's peer ifindex, in the peer's netns). */
int xh_link_kind(int ifindex, char *kind, size_t size, int *link_ifindex);

/* 0 if ifindex can transmit frames redirected by XDP; else -EOPNOTSUPP
 * with a detail saying why and what to do. */
int xh_link_check_xdp_xmit(int ifindex);

#endif
