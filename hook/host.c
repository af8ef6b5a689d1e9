/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Host mode (docker -p style): the setup steps that differ from pod mode.
 *
 * The sandbox takes over the NIC's addresses, MAC and routes, and the host
 * keeps them too: the NIC program decides per port who gets a frame. Its
 * host-mode maps (host_mode, ports) belong to the one
 * host-mode sandbox of that NIC. Frames the sandbox sends leave through the
 * NIC with published ports translated back (xdp_veth's publish_rev); ARP and
 * ND stay with the host, and tc_clone copies them to the sandbox.
 *
 * The sandbox's ephemeral ports: its own connections must come back to it,
 * so it gets a range of its own, disjoint from the host's
 * ip_local_port_range, from every published port (both sides: a sandbox
 * port in its range would have its source port translated on the way out)
 * and from every reserved port. Preferred: the largest free span *above*
 * the host's range (49152-65535 is where the IANA puts dynamic ports, and
 * host services conventionally listen below the ephemeral range: kubelet
 * 10250, NodePorts 30000-32767, databases), if it holds XH_EPH_MIN ports;
 * else the largest free span from 1024 up. With Linux's default range
 * (32768-60999) that is 61000-65535. A host service that listens outside
 * its ephemeral range belongs in `reserve`: the sandbox's range leaves
 * reserved ports out.
 */
#include "hook.h"
#include "attach.h"
#include "ethtool.h"
#include "fault.h"
#include "netlink.h"
#include "tc.h"
#include "util.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/mman.h>

#include "tc_clone.skel.h"

#define HOST_RANGE_FILE "/proc/sys/net/ipv4/ip_local_port_range"
#define XH_EPH_FIRST 1024 /* the first unprivileged port */
#define XH_EPH_MIN 1024   /* the smallest range we hand the sandbox */
#define PORTS 65536

/* The host's own services that must keep their replies even under
 * publish=all: its DHCP and DHCPv6 clients. */
static const struct xh_port_range host_services[] = {
	{ .proto = IPPROTO_UDP, .lo = 68, .hi = 68 },
	{ .proto = IPPROTO_UDP, .lo = 546, .hi = 546 },
};

/* ---- one host-mode sandbox per NIC ------------------------------------------- */

struct slot {
	const struct xh_state *self;
	char owner[XH_OCI_ID_MAX + 1];
	bool alive;
};

static int find_host_owner(const struct xh_state *st, void *ctx)
{
	struct slot *s = ctx;

	if (!strcmp(st->id, s->self->id) || st->mode != XH_HOST || st->host_cookie != s->self->host_cookie ||
	    st->nic_ifindex != s->self->nic_ifindex)
		return 0;
	snprintf(s->owner, sizeof(s->owner), "%s", st->id);
	s->alive = xh_state_alive(st);
	return 1;
}

int host_check_slot(struct hook *h)
{
	struct slot s = { .self = &h->st };
	int rc = xh_state_walk(find_host_owner, &s);

	if (rc < 0)
		return rc;
	if (!rc)
		return 0;
	/* A dead owner still holds the NIC's maps until its teardown runs. */
	return xh_err(-EBUSY, "NIC %s already serves host-mode container %s%s", h->st.nic, s.owner,
		      s.alive ? "" : " (its init is gone: run xdp_hook gc)");
}

/* ---- the NIC's addresses and routes -------------------------------------------- */

static int take_nic_addr(int ifindex, const struct xh_prefix *p, void *ctx)
{
	struct xh_state *st = ctx;

	(void)ifindex;
	if (st->n_ips == XH_CFG_MAX_IPS)
		return xh_err(-E2BIG, "%s has more than %d addresses", st->nic, XH_CFG_MAX_IPS);
	st->ips[st->n_ips++] = (struct xh_cidr){ .ip = p->ip, .plen = p->len, .plen_given = true };
	return 0;
}

static int take_nic_route(const struct xh_route *r, void *ctx)
{
	struct xh_state *st = ctx;

	if (st->n_routes == XH_MAX_ROUTES)
		return xh_err(-E2BIG, "more than %d routes through %s", XH_MAX_ROUTES, st->nic);
	st->routes[st->n_routes++] = *r;
	return 0;
}

static int take_nic_addressing(struct hook *h, struct nl_sock *host)
{
	struct xh_state *st = &h->st;
	int err;

	h->step = "addresses";
	err = xh_rtnl_addr_list(host, st->nic_ifindex, take_nic_addr, st);
	if (err)
		return err;
	if (!st->n_ips)
		return xh_err(-EADDRNOTAVAIL, "%s has no global address for the sandbox to take", st->nic);
	/* Whether another container holds them is the claim's to check. */
	return xh_rtnl_route_list(host, st->nic_ifindex, take_nic_route, st);
}

/* ---- ports ----------------------------------------------------------------------- */

static int read_host_range(uint16_t *lo, uint16_t *hi)
{
	cleanup_fclose FILE *f = fopen(HOST_RANGE_FILE, "re");
	unsigned int l, u;

	if (!f)
		return xh_err(-errno, "%s: %s", HOST_RANGE_FILE, strerror(errno));
	if (fscanf(f, "%u %u", &l, &u) != 2 || !l || l > u || u > 65535)
		return xh_err(-EINVAL, "%s: unexpected contents", HOST_RANGE_FILE);
	*lo = l;
	*hi = u;
	return 0;
}

static int expanded(const struct xh_port_range *r)
{
	return r->hi - r->lo + 1;
}

/* reserve: the configured ports plus the host's own services. */
static int plan_reserve(struct hook *h)
{
	struct xh_host_state *hs = &h->st.host;
	int entries = 0;

	for (size_t i = 0; i < h->cfg.n_reserve; i++)
		hs->reserve[hs->n_reserve++] = h->cfg.reserve[i];
	for (size_t i = 0; i < ARRAY_SIZE(host_services); i++)
		hs->reserve[hs->n_reserve++] = host_services[i];
	for (size_t i = 0; i < hs->n_reserve; i++)
		entries += expanded(&hs->reserve[i]);
	if (entries > XH_MAX_PORTS)
		return xh_err(-E2BIG, "%d reserved ports (with DHCP 68/udp and 546/udp), at most %d",
			      entries, XH_MAX_PORTS);
	return 0;
}

static int plan_publish(struct hook *h)
{
	struct xh_host_state *hs = &h->st.host;
	int entries = 0;

	hs->publish_all = h->cfg.publish_all;
	hs->n_publish = h->cfg.n_publish;
	memcpy(hs->publish, h->cfg.publish, sizeof(hs->publish[0]) * h->cfg.n_publish);
	for (size_t i = 0; i < hs->n_publish; i++)
		entries += hs->publish[i].host_hi - hs->publish[i].host_lo + 1;
	if (entries > XH_MAX_PORTS)
		return xh_err(-E2BIG, "%d published ports, the veth program holds %d a sandbox", entries, XH_MAX_PORTS);
	return 0;
}

static void mark(uint8_t *used, unsigned int lo, unsigned int hi)
{
	memset(used + lo, 1, hi - lo + 1);
}

struct span {
	unsigned int lo, hi; /* hi < lo: empty */
};

static unsigned int span_len(struct span s)
{
	return s.hi >= s.lo ? s.hi - s.lo + 1 : 0;
}

/* The largest run of free ports in from..65535 (the lowest of equals). */
static struct span largest_free(const uint8_t *used, unsigned int from)
{
	struct span best = { 1, 0 }, cur = { 1, 0 };

	for (unsigned int p = from; p < PORTS; p++) {
		if (used[p])
			continue;
		if (span_len(cur) && cur.hi == p - 1) {
			cur.hi = p;
		} else {
			cur.lo = cur.hi = p;
		}
		if (span_len(cur) > span_len(best))
			best = cur;
	}
	return best;
}

/* See the top of this file. */
static int plan_sandbox_range(struct xh_host_state *hs)
{
	cleanup_free uint8_t *used = calloc(PORTS, 1);
	struct span pick;

	if (!used)
		return -ENOMEM;
	mark(used, hs->host_eph_lo, hs->host_eph_hi);
	for (size_t i = 0; i < hs->n_publish; i++) {
		mark(used, hs->publish[i].host_lo, hs->publish[i].host_hi);
		mark(used, hs->publish[i].sandbox_lo, hs->publish[i].sandbox_hi);
	}
	for (size_t i = 0; i < hs->n_reserve; i++)
		mark(used, hs->reserve[i].lo, hs->reserve[i].hi);

	pick = largest_free(used, (unsigned int)hs->host_eph_hi + 1);
	if (span_len(pick) < XH_EPH_MIN)
		pick = largest_free(used, XH_EPH_FIRST);
	if (span_len(pick) < XH_EPH_MIN)
		return xh_err(-ENOSPC,
			      "no %d free ports left for the sandbox's ephemeral range (the host's is %u-%u, "
			      "published and reserved ports are out too)",
			      XH_EPH_MIN, hs->host_eph_lo, hs->host_eph_hi);
	hs->sandbox_eph_lo = pick.lo;
	hs->sandbox_eph_hi = pick.hi;
	return 0;
}

static int plan_ports(struct hook *h)
{
	struct xh_host_state *hs = &h->st.host;
	int err;

	h->step = "ports";
	/* Read in the hook's netns: the host's, whose ports we share. */
	err = read_host_range(&hs->host_eph_lo, &hs->host_eph_hi);
	if (!err)
		err = plan_publish(h);
	if (!err)
		err = plan_reserve(h);
	if (!err)
		err = plan_sandbox_range(hs);
	return err;
}

/* `direct`: a socket per RX queue of the NIC, each a slot of the NIC
 * program's direct_xsks. */
static int plan_direct(struct hook *h)
{
	int n;

	if (!h->cfg.direct)
		return 0;
	h->step = "direct";
	n = xh_dev_rx_queues(h->st.nic);
	if (n < 0)
		return xh_err(n, "%s: RX queues: %s", h->st.nic, strerror(-n));
	if (n > XH_MAX_QUEUES)
		return xh_err(-E2BIG, "%s has %d RX queues, direct serves up to %d (ethtool -L %s)",
			      h->st.nic, n, XH_MAX_QUEUES, h->st.nic);
	h->st.host.direct_queues = (uint32_t)n;
	return 0;
}

int host_prepare(struct hook *h, struct nl_sock *host)
{
	int err;

	err = plan_ports(h);
	if (!err)
		err = take_nic_addressing(h, host);
	if (!err)
		err = plan_direct(h);
	return err;
}

/* ---- maps -------------------------------------------------------------------------- */

int host_fill_veth_maps(struct hook *h, int fd)
{
	const struct xh_host_state *hs = &h->st.host;

	for (size_t i = 0; i < hs->n_publish; i++) {
		const struct xh_publish_rule *r = &hs->publish[i];

		for (unsigned int off = 0; off <= (unsigned int)(r->host_hi - r->host_lo); off++) {
			struct xh_veth_port k = { .ifindex = h->st.veth_ifindex,
						  .port = { .proto = r->proto, .port = r->sandbox_lo + off } };
			struct xh_port_val v = { .port = r->host_lo + off };

			if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
				return xh_err(-errno, "publish_rev map: %s", strerror(errno));
		}
	}
	return 0;
}

/* ports: the published and reserved ports in one array, written through
 * a mapping (one struct xh_port_pol per slot: policy.h). The whole array
 * is wiped first: leftovers of an earlier
 * host-mode sandbox whose teardown never ran must not steer this one's
 * frames (one memset, not 128 Ki syscalls). Each slot is written whole,
 * one aligned 4-byte store. */
static int fill_ports(int fd, const struct xh_host_state *hs)
{
	const size_t len = XH_PORT_SLOTS * sizeof(struct xh_port_pol);
	struct xh_port_pol *slot = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (slot == MAP_FAILED)
		return xh_err(-errno, "ports map: mmap: %s", strerror(errno));
	memset(slot, 0, len);
	for (size_t i = 0; i < hs->n_reserve; i++)
		for (unsigned int p = hs->reserve[i].lo; p <= hs->reserve[i].hi; p++)
			slot[xh_port_slot(hs->reserve[i].proto, p)] =
				(struct xh_port_pol){ .flags = XH_PORT_RESERVED };
	/* Published wins over reserved (policy.h): the program reads
	 * XH_PORT_RESERVED only on a port that is not published. */
	for (size_t i = 0; i < hs->n_publish; i++) {
		const struct xh_publish_rule *r = &hs->publish[i];

		for (unsigned int off = 0; off <= (unsigned int)(r->host_hi - r->host_lo); off++) {
			__u32 k = xh_port_slot(r->proto, r->host_lo + off);

			slot[k] = (struct xh_port_pol){ .port = r->sandbox_lo + off,
							.flags = slot[k].flags | XH_PORT_PUBLISHED };
		}
	}
	munmap(slot, len);
	return 0;
}

/* The NIC's addresses go into the policy itself (policy.h says why);
 * take_nic_addr() keeps them within XH_CFG_MAX_IPS. */
_Static_assert(XH_CFG_MAX_IPS <= XH_HOST_ADDRS, "host_mode holds every NIC address");

static void policy_addrs(struct xh_host_policy *pol, const struct xh_state *st)
{
	for (size_t i = 0; i < st->n_ips; i++) {
		const struct xh_ip *ip = &st->ips[i].ip;

		if (ip->family == XH_AF_INET)
			memcpy(&pol->addr4[pol->n_addr4++], ip->addr, 4);
		else
			memcpy(pol->addr6[pol->n_addr6++], ip->addr, 16);
	}
}

static int open_nic_map(const struct xh_state *st, const char *name, int *fd)
{
	*fd = xh_pin_open(st->host_cookie, st->nic_ifindex, name);
	if (*fd < 0)
		return xh_err(*fd, "open NIC program map %s: %s", name, strerror(-*fd));
	return 0;
}

int host_add_nic_policy(struct hook *h)
{
	const struct xh_state *st = &h->st;
	const struct xh_host_state *hs = &st->host;
	cleanup_close int mode = -1, ports = -1;
	struct xh_host_policy pol = {
		.ifindex = st->veth_ifindex,
		.publish_all = hs->publish_all,
		.direct = hs->direct_queues != 0,
		.sandbox_eph_lo = hs->sandbox_eph_lo,
		.sandbox_eph_hi = hs->sandbox_eph_hi,
		.host_eph_lo = hs->host_eph_lo,
		.host_eph_hi = hs->host_eph_hi,
	};
	uint32_t zero = 0;
	int err;

	policy_addrs(&pol, st);
	err = open_nic_map(st, "host_mode", &mode);
	if (!err)
		err = open_nic_map(st, "ports", &ports);
	if (!err)
		err = fill_ports(ports, hs);
	if (err)
		return err;
	FAULT("host-policy");
	/* Last: with host_mode set the program starts sending us frames. */
	if (bpf_map_update_elem(mode, &zero, &pol, BPF_ANY))
		return xh_err(-errno, "host_mode map: %s", strerror(errno));
	return 0;
}

/* ---- ARP/ND copies ---------------------------------------------------------------- */

static int attach_clone(struct hook *h, struct tc_clone *skel)
{
	struct xh_host_state *hs = &h->st.host;
	struct xh_clone_cfg cfg = { .ifindex = h->st.veth_ifindex };
	uint32_t zero = 0;
	bool created;
	int err;

	if (bpf_map_update_elem(bpf_map__fd(skel->maps.clone_cfg), &zero, &cfg, BPF_ANY))
		return xh_err(-errno, "clone_cfg map: %s", strerror(errno));
	err = xh_tc_clsact_ensure(h->st.nic_ifindex, &created);
	if (err)
		return err;
	/* Recorded before attaching: teardown finds the filter even if we
	 * die right after. */
	hs->clsact_created = created;
	hs->tc = (struct xh_tc_filter){
		.ifindex = h->st.nic_ifindex,
		.handle = XH_TC_HANDLE,
		.priority = XH_TC_PRIORITY,
	};
	err = hook_save(h);
	if (!err)
		err = FAULT_ERR("clsact");
	if (!err)
		err = xh_tc_attach_ingress(&hs->tc, bpf_program__fd(skel->progs.xdphook_clone));
	if (!err)
		err = hook_save(h);
	if (!err)
		err = FAULT_ERR("tc-clone");
	return err;
}

int host_attach_clone(struct hook *h)
{
	struct tc_clone *skel;
	int err;

	h->step = "ARP/ND clone";
	skel = tc_clone__open_and_load();
	if (!skel)
		return xh_err(-errno, "load tc_clone: %s", strerror(errno));
	err = attach_clone(h, skel);
	/* The filter holds the program (and it its maps) from here on. */
	tc_clone__destroy(skel);
	return err;
}
