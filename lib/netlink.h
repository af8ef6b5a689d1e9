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
#define XH_XDP_ACT_XSK_ZEROCOPY (1u << 5)

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

/* ---- rtnetlink operations for the hook -------------------------------- */

#include <stdbool.h>
#include <xdphook/policy.h>

struct nl_sock;

/* A NETLINK_ROUTE socket in the network namespace of netns_fd (-1: the
 * caller's). A netlink socket stays in the netns it was created in, so the
 * thread switches only for the socket() call. */
int xh_rtnl_open(int netns_fd, struct nl_sock **out);
void xh_rtnl_closep(struct nl_sock **sk);
#define cleanup_rtnl __attribute__((cleanup(xh_rtnl_closep)))

struct xh_link {
	int ifindex;
	char name[16];
	unsigned int mtu;
	uint8_t mac[6];
	char kind[16];
};

/* By ifindex (> 0) or else by name. -ENODEV if absent. */
int xh_rtnl_link_get(struct nl_sock *sk, int ifindex, const char *name, struct xh_link *out);
/* veth NAME here, PEER created directly in peer_netns_fd; both with mtu. */
int xh_rtnl_veth_add(struct nl_sock *sk, const char *name, const char *peer, int peer_netns_fd,
		     unsigned int mtu);
int xh_rtnl_link_del(struct nl_sock *sk, int ifindex);
int xh_rtnl_link_up(struct nl_sock *sk, int ifindex);
int xh_rtnl_link_set_mac(struct nl_sock *sk, int ifindex, const uint8_t mac[6]);

/* An address with its prefix length. */
struct xh_prefix {
	struct xh_ip ip;
	uint8_t len;
};

int xh_rtnl_addr_add(struct nl_sock *sk, int ifindex, const struct xh_prefix *p);
/* With IFA_F_* flags (IFA_F_NOPREFIXROUTE: no route to its prefix). */
int xh_rtnl_addr_add_flags(struct nl_sock *sk, int ifindex, const struct xh_prefix *p, unsigned int flags);
int xh_rtnl_addr_del(struct nl_sock *sk, int ifindex, const struct xh_prefix *p);
/* Global-scope addresses on ifindex (0: on every device); fn may return
 * non-zero to stop. */
int xh_rtnl_addr_list(struct nl_sock *sk, int ifindex,
		      int (*fn)(int ifindex, const struct xh_prefix *p, void *ctx), void *ctx);

/* Main-table route to p out of oif (scope link when gw is NULL). */
int xh_rtnl_route_add(struct nl_sock *sk, const struct xh_prefix *p, int oif, const struct xh_ip *gw);
int xh_rtnl_route_del(struct nl_sock *sk, const struct xh_prefix *p, int oif);
/* Permanent neighbour entry. */
int xh_rtnl_neigh_add(struct nl_sock *sk, int ifindex, const struct xh_ip *ip, const uint8_t mac[6]);
int xh_rtnl_neigh_del(struct nl_sock *sk, int ifindex, const struct xh_ip *ip);
/* RTPROT_* of the routes xdphook adds ("X"), so `ip route` tells them apart. */
#define XH_RTPROT 0x58

/* The MAC the neighbour table has for ip on ifindex (resolved or
 * permanent); -ENOENT if none. */
int xh_rtnl_neigh_lookup(struct nl_sock *sk, int ifindex, const struct xh_ip *ip, uint8_t mac[6]);
/* A main-table route as far as xdphook needs to put it back or describe
 * it: destination, gateway (family 0: none), device. */
struct xh_route {
	struct xh_prefix dst;
	struct xh_ip gw;
	struct xh_ip src; /* preferred source (family 0: none) */
	bool onlink;      /* the gateway is on the link whatever the prefixes */
	int oif;
	uint8_t proto;  /* RTPROT_*: who added it */
	uint8_t scope;  /* RT_SCOPE_*; 0 (universe) without a gateway: link */
};

/* Main-table unicast routes out of ifindex that the kernel did not add by
 * itself (proto kernel routes come back with their address). */
int xh_rtnl_route_list(struct nl_sock *sk, int ifindex,
		       int (*fn)(const struct xh_route *r, void *ctx), void *ctx);

/* Add a route recorded by xh_rtnl_route_list() again, as it was. */
int xh_rtnl_route_restore(struct nl_sock *sk, const struct xh_route *r);
/* The same, replacing a route to the same destination (the kernel's
 * connected one an address brought back). */
int xh_rtnl_route_replace(struct nl_sock *sk, const struct xh_route *r);

/* The main-table unicast route whose destination is exactly p, with one
 * next hop (another daemon's, e.g. CNI ptp's host route to a pod).
 * -ENOENT if there is none. */
int xh_rtnl_route_find(struct nl_sock *sk, const struct xh_prefix *p, struct xh_route *out);

/* The device of the default route (IPv4, else IPv6). -ENOENT if none. */
int xh_rtnl_default_dev(struct nl_sock *sk, int *ifindex);

/* Text forms, for messages and state files. */
int xh_ip_parse(const char *s, struct xh_ip *ip);
const char *xh_ip_str(const struct xh_ip *ip, char *buf, size_t size);
/* Clear the host bits: the network of ip/plen. */
void xh_ip_mask(struct xh_ip *ip, int plen);

/* ---- NAPI settings (generic-netlink "netdev" napi-get/napi-set) -------- */

/* What to change on a device's NAPI instances; -1 leaves a value alone. */
struct xh_napi_cfg {
	int threaded;              /* 1: poll in a kernel thread of its own, 0: softirq */
	int64_t defer_hard_irqs;   /* empty polls before "interrupts" come back */
	int64_t gro_flush_timeout; /* ns; with defer_hard_irqs: the NAPI watchdog */
};
/* Apply cfg to every NAPI instance of ifindex in the network namespace of
 * netns_fd (-1: the caller's). Returns how many it set; -ENOENT if the
 * device has none (a veth has NAPI instances only while it has an XDP
 * program or GRO on), -EOPNOTSUPP if the kernel cannot (napi-set: Linux
 * 6.13, its threaded attribute: 6.17). Instances the device creates later
 * (a veth's, when its XDP program is replaced) start from the defaults. */
int xh_napi_set(int netns_fd, int ifindex, const struct xh_napi_cfg *cfg);
/* The kernel threads (pids, up to max) polling ifindex's NAPI instances in
 * threaded mode; *n = 0 when it has none. */
int xh_napi_threads(int netns_fd, int ifindex, int *pids, size_t max, size_t *n);

#endif
