/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp_tap: run an unmodified workload on an xdphook endpoint. It takes the
 * endpoint, creates a TAP device (tap0) that looks like the endpoint to
 * the kernel of this network namespace -- same MAC, MTU, addresses, routes
 * and gateways -- and copies frames between the two:
 *
 *	AF_XDP RX ring  ->  write(tap)     frames for the sandbox
 *	read(tap)       ->  AF_XDP TX ring frames from the sandbox
 *
 * so ordinary sockets (curl, nginx, iperf3, ...) work over the endpoint.
 * It is the slow, compatible path: every frame is copied once more and
 * crosses the kernel stack of the netns. It prints a line with "ready"
 * once tap0 is up, and exits on SIGINT/SIGTERM; closing the tap fd
 * deletes tap0 (with its addresses, routes and neighbours).
 *
 *   xdp_tap [IFNAME]                  take the endpoint (libxdp_endpoint),
 *                                     with the direct sockets on the NIC's
 *                                     RX queues where the keeper offers
 *                                     them (host mode, `direct`)
 *   xdp_endpoint -- xdp_tap [IFNAME]  the same through the exec wrapper
 *
 * The UMEM is split in two fixed halves: RX frames live on the fill and
 * RX rings (a frame goes back to the fill ring as soon as it is written to
 * the tap), TX frames on a free list, the TX ring and the completion ring.
 * Every ring holds at least as many entries as the frames that can be on
 * it, so no reserve can come up short.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/if_xdp.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <xdp_endpoint.h>

#define BATCH 64
#define MAX_SOCKS (1 + XDP_ENDPOINT_MAX_DIRECT)

struct tap {
	struct xdp_endpoint *ep;
	uint8_t *umem;
	uint32_t frame_size;
	int fd;                  /* the tap */
	char name[IFNAMSIZ];
	uint64_t *free;          /* TX frames not in use */
	uint32_t nfree, in_flight;
	uint64_t to_tap, from_tap, dropped;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("xdp_tap: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---- the tap device and its configuration ------------------------------------- */

/* IFF_NO_PI: bare Ethernet frames, as on the rings. No IFF_VNET_HDR: the
 * tap then offers no checksum offload nor TSO, so the kernel hands us
 * complete frames with full checksums, never larger than the MTU. */
static int tap_open(char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		die("/dev/net/tun: %s", strerror(errno));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		die("%s: TUNSETIFF: %s", name, strerror(errno));
	memcpy(name, ifr.ifr_name, IFNAMSIZ); /* what the kernel made of it */
	return fd;
}

static struct nl_addr *nl_ip(int family, const uint8_t *addr, int prefix_len)
{
	struct nl_addr *a = nl_addr_build(family, addr, family == AF_INET ? 4 : 16);

	if (!a)
		die("out of memory");
	if (prefix_len >= 0)
		nl_addr_set_prefixlen(a, prefix_len);
	return a;
}

static const char *ntop(int family, const uint8_t *addr)
{
	static char buf[4][INET6_ADDRSTRLEN];
	static int i;

	i = (i + 1) % 4;
	return inet_ntop(family, addr, buf[i], sizeof(buf[i]));
}

/* A netns may keep IPv6 off (docker does by default): then the IPv6 part of
 * the description is left out rather than refused. */
static bool ipv6_on(const char *ifname)
{
	char path[128], c = '1';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	f = fopen(path, "r");
	if (f) {
		if (fread(&c, 1, 1, f) != 1)
			c = '1';
		fclose(f);
	}
	return c == '0';
}

static void set_link(struct nl_sock *sk, struct tap *t, int ifindex)
{
	struct rtnl_link *link, *change = rtnl_link_alloc();
	struct nl_addr *mac = nl_addr_build(AF_LLC, xdp_endpoint_mac(t->ep), 6);
	unsigned int mtu = xdp_endpoint_mtu(t->ep);
	int err;

	if (!change || !mac)
		die("out of memory");
	if ((err = rtnl_link_get_kernel(sk, ifindex, NULL, &link)) < 0)
		die("%s: %s", t->name, nl_geterror(err));
	/* The endpoint's MAC: the world sends to it, and the kernel of the
	 * netns must take those frames as its own. */
	rtnl_link_set_addr(change, mac);
	/* A frame read from the tap must fit one UMEM frame. */
	if (mtu > t->frame_size - ETH_HLEN)
		mtu = t->frame_size - ETH_HLEN;
	rtnl_link_set_mtu(change, mtu);
	rtnl_link_set_flags(change, IFF_UP);
	if ((err = rtnl_link_change(sk, link, change, 0)) < 0)
		die("%s: MAC, MTU %u, up: %s", t->name, mtu, nl_geterror(err));
	nl_addr_put(mac);
	rtnl_link_put(change);
	rtnl_link_put(link);
}

static void add_addr(struct nl_sock *sk, struct tap *t, int ifindex,
		     const struct xdp_endpoint_addr *a)
{
	struct rtnl_addr *ra = rtnl_addr_alloc();
	struct nl_addr *local = nl_ip(a->family, a->addr, a->prefix_len);
	int err;

	if (!ra)
		die("out of memory");
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_local(ra, local);
	rtnl_addr_set_prefixlen(ra, a->prefix_len);
	/* The keeper hands out addresses that are ours: no duplicate check,
	 * usable at once. */
	if (a->family == AF_INET6)
		rtnl_addr_set_flags(ra, IFA_F_NODAD);
	if ((err = rtnl_addr_add(sk, ra, 0)) < 0)
		die("%s: address %s/%u: %s", t->name, ntop(a->family, a->addr), a->prefix_len,
		    nl_geterror(err));
	nl_addr_put(local);
	rtnl_addr_put(ra);
}

/* Permanent neighbours for the gateways: the description already says
 * their MACs, so the first packet needs no ARP/ND round trip. */
static void add_gateway(struct nl_sock *sk, struct tap *t, int ifindex,
			const struct xdp_endpoint_gateway *g)
{
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	struct nl_addr *dst = nl_ip(g->family, g->addr, -1);
	struct nl_addr *mac = nl_addr_build(AF_LLC, g->mac, 6);
	int err;

	if (!n || !mac)
		die("out of memory");
	rtnl_neigh_set_ifindex(n, ifindex);
	rtnl_neigh_set_dst(n, dst);
	rtnl_neigh_set_lladdr(n, mac);
	rtnl_neigh_set_state(n, NUD_PERMANENT);
	if ((err = rtnl_neigh_add(sk, n, NLM_F_CREATE | NLM_F_REPLACE)) < 0)
		die("%s: neighbour %s: %s", t->name, ntop(g->family, g->addr), nl_geterror(err));
	nl_addr_put(mac);
	nl_addr_put(dst);
	rtnl_neigh_put(n);
}

static void add_route(struct nl_sock *sk, struct tap *t, int ifindex,
		      const struct xdp_endpoint_route *r)
{
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = nl_ip(r->family, r->dst, r->dst_len), *via = NULL;
	int err;

	if (!rt || !nh)
		die("out of memory");
	rtnl_route_set_family(rt, (uint8_t)r->family);
	rtnl_route_set_dst(rt, dst);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_protocol(rt, RTPROT_STATIC);
	rtnl_route_nh_set_ifindex(nh, ifindex);
	if (r->has_via) {
		via = nl_ip(r->family, r->via, -1);
		rtnl_route_nh_set_gateway(nh, via);
		/* The gateway need not be inside one of our prefixes (pod mode
		 * uses 169.254.1.1): there is only this link, it is on it. */
		rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
	}
	rtnl_route_add_nexthop(rt, nh); /* rt owns nh now */
	err = rtnl_route_add(sk, rt, NLM_F_EXCL);
	/* A route to one of our own prefixes is there already: the kernel
	 * added it with the address. A described one via a gateway takes its
	 * place (CNI ptp's pod subnet is reached through the gateway, not on
	 * the link). */
	if (err == -NLE_EXIST && r->has_via)
		err = rtnl_route_add(sk, rt, NLM_F_REPLACE);
	if (err < 0 && !(err == -NLE_EXIST && !r->has_via))
		die("%s: route %s/%u%s%s: %s", t->name, ntop(r->family, r->dst), r->dst_len,
		    via ? " via " : "", via ? ntop(r->family, r->via) : "", nl_geterror(err));
	if (via)
		nl_addr_put(via);
	nl_addr_put(dst);
	rtnl_route_put(rt);
}

/* The netns's own connections must pick source ports from the sandbox's
 * range: in host mode the host shares the address and keeps its own range,
 * and replies to anything else would not come back here. */
static void set_port_range(const struct xdp_endpoint *ep)
{
	uint16_t lo, hi;
	FILE *f;

	xdp_endpoint_ephemeral(ep, &lo, &hi);
	if (!lo || !hi)
		return;
	f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "we");
	if (!f || fprintf(f, "%u %u\n", lo, hi) < 0 || fclose(f))
		die("ip_local_port_range %u-%u: %s", lo, hi, strerror(errno));
}

static void tap_configure(struct tap *t)
{
	struct xdp_endpoint *ep = t->ep;
	struct nl_sock *sk = nl_socket_alloc();
	int ifindex = (int)if_nametoindex(t->name), err;
	bool v6 = ipv6_on(t->name), skipped = false;

	if (!sk)
		die("out of memory");
	if (!ifindex)
		die("%s: %s", t->name, strerror(errno));
	if ((err = nl_connect(sk, NETLINK_ROUTE)) < 0)
		die("rtnetlink: %s", nl_geterror(err));
	/* Up first: the kernel only takes routes over a link that is up. */
	set_link(sk, t, ifindex);
	for (size_t i = 0; i < xdp_endpoint_addr_count(ep); i++) {
		const struct xdp_endpoint_addr *a = xdp_endpoint_addr(ep, i);

		if (a->family == AF_INET6 && !v6)
			skipped = true;
		else
			add_addr(sk, t, ifindex, a);
	}
	/* Neighbours before routes, so that no packet ever goes out through
	 * a gateway the kernel does not know yet. */
	for (size_t i = 0; i < xdp_endpoint_gateway_count(ep); i++) {
		const struct xdp_endpoint_gateway *g = xdp_endpoint_gateway(ep, i);

		if (g->family == AF_INET6 && !v6)
			skipped = true;
		else
			add_gateway(sk, t, ifindex, g);
	}
	for (size_t i = 0; i < xdp_endpoint_route_count(ep); i++) {
		const struct xdp_endpoint_route *r = xdp_endpoint_route(ep, i);

		if (r->family == AF_INET6 && !v6)
			skipped = true;
		else
			add_route(sk, t, ifindex, r);
	}
	if (skipped)
		fprintf(stderr, "xdp_tap: %s: IPv6 is disabled in this network namespace: "
				"its IPv6 addresses, gateways and routes are left out\n", t->name);
	nl_socket_free(sk);
	set_port_range(ep);
}

/* ---- the rings ------------------------------------------------------------------ */

/* Frames for the sandbox, from every socket: into the tap, then straight
 * back to the fill rings (write() copied them). */
static void xsk_to_tap(struct tap *t)
{
	struct xdp_endpoint_frame f[BATCH];
	uint64_t addrs[BATCH];
	uint32_t n = xdp_endpoint_receive(t->ep, f, BATCH);

	for (uint32_t i = 0; i < n; i++) {
		/* A tap write does not block: the kernel takes the frame or
		 * drops it (backlog full, link down). */
		if (write(t->fd, xsk_umem__get_data(t->umem, f[i].addr), f[i].len) == (ssize_t)f[i].len)
			t->to_tap++;
		else
			t->dropped++;
		addrs[i] = f[i].addr;
	}
	xdp_endpoint_refill(t->ep, addrs, n);
}

/* TX frames the kernel has sent go back to the free list. */
static void reclaim(struct tap *t)
{
	struct xsk_ring_cons *comp = xdp_endpoint_completion(t->ep);
	uint32_t idx, n = xsk_ring_cons__peek(comp, t->in_flight, &idx);

	for (uint32_t i = 0; i < n; i++)
		t->free[t->nfree++] = *xsk_ring_cons__comp_addr(comp, idx + i);
	xsk_ring_cons__release(comp, n);
	t->in_flight -= n;
}

/* Frames from the sandbox: read each straight into a free UMEM frame and
 * put the batch on the TX ring. */
static void tap_to_xsk(struct tap *t)
{
	struct xsk_ring_prod *tx = xdp_endpoint_tx(t->ep);
	uint64_t addrs[BATCH];
	uint32_t lens[BATCH], n = 0, idx;

	while (n < BATCH && t->nfree) {
		uint64_t addr = t->free[t->nfree - 1];
		ssize_t len = read(t->fd, xsk_umem__get_data(t->umem, addr), t->frame_size);

		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && errno == EAGAIN)
			break;
		if (len < 0)
			die("%s: read: %s", t->name, strerror(errno));
		if (len < ETH_HLEN) /* the kernel would refuse it, never complete it */
			continue;
		t->nfree--;
		addrs[n] = addr;
		lens[n++] = (uint32_t)len;
	}
	/* Never short: the TX ring holds every TX frame. */
	if (!n || xsk_ring_prod__reserve(tx, n, &idx) != n)
		return;
	for (uint32_t i = 0; i < n; i++) {
		struct xdp_desc *d = xsk_ring_prod__tx_desc(tx, idx + i);

		d->addr = addrs[i];
		d->len = lens[i];
		d->options = 0;
	}
	xsk_ring_prod__submit(tx, n);
	t->in_flight += n;
	t->from_tap += n;
}

static uint32_t frames_used(struct xdp_endpoint *ep)
{
	uint32_t n = xdp_endpoint_frame_count(ep);

	for (int r = XDP_ENDPOINT_RING_FILL; r <= XDP_ENDPOINT_RING_TX; r++)
		if (xdp_endpoint_ring_size(ep, r) < n)
			n = xdp_endpoint_ring_size(ep, r);
	return n;
}

/* The first half of the frames receives, the second half sends. With the
 * direct sockets the library stocked the fill rings already (frames
 * [0, fill_frames)). */
static void stock(struct tap *t)
{
	uint32_t n = frames_used(t->ep), nrx = xdp_endpoint_fill_frames(t->ep);
	uint64_t addrs[BATCH];

	if (!nrx) {
		nrx = n / 2;
		for (uint32_t i = 0; i < nrx;) {
			uint32_t k = 0;

			while (k < BATCH && i < nrx)
				addrs[k++] = (uint64_t)i++ * t->frame_size;
			xdp_endpoint_refill(t->ep, addrs, k);
		}
	}
	if (nrx > n)
		nrx = n;
	t->free = calloc(n - nrx, sizeof(*t->free));
	if (!t->free)
		die("out of memory");
	for (uint32_t i = nrx; i < n; i++)
		t->free[t->nfree++] = (uint64_t)i * t->frame_size;
}

static void print_ready(struct tap *t)
{
	printf("xdp_tap: ready: %s on %s (ifindex %d, queue %u):", t->name,
	       xdp_endpoint_ifname(t->ep), xdp_endpoint_ifindex(t->ep), xdp_endpoint_queue(t->ep));
	for (size_t i = 0; i < xdp_endpoint_addr_count(t->ep); i++) {
		const struct xdp_endpoint_addr *a = xdp_endpoint_addr(t->ep, i);

		printf(" %s/%u", ntop(a->family, a->addr), a->prefix_len);
	}
	printf("\n");
	fflush(stdout);
}

/* Ours, and the kernel's: frames it could not hand us (no free frame on
 * the fill ring, RX ring full) are what a slow loop costs. */
static void print_stats(struct tap *t)
{
	struct xdp_statistics st = { 0 };
	socklen_t len = sizeof(st);

	getsockopt(xdp_endpoint_fd(t->ep), SOL_XDP, XDP_STATISTICS, &st, &len);
	fprintf(stderr,
		"xdp_tap: %llu frames to %s, %llu from it, %llu dropped; kernel: %llu dropped, "
		"%llu RX ring full, %llu fill ring empty\n",
		(unsigned long long)t->to_tap, t->name, (unsigned long long)t->from_tap,
		(unsigned long long)t->dropped, (unsigned long long)st.rx_dropped,
		(unsigned long long)st.rx_ring_full, (unsigned long long)st.rx_fill_ring_empty_descs);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: poll returns */
	struct xdp_endpoint_opts opts = { .sz = sizeof(opts), .flags = XDP_ENDPOINT_F_DIRECT };
	struct tap t = { .name = "tap0" };
	int err;

	if (argc > 2 || (argc == 2 && (argv[1][0] == '-' || strlen(argv[1]) >= IFNAMSIZ))) {
		fputs("usage: xdp_tap [IFNAME]   (or: xdp_endpoint -- xdp_tap [IFNAME])\n", stderr);
		return 2;
	}
	if (argc == 2)
		snprintf(t.name, sizeof(t.name), "%s", argv[1]);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	err = getenv("XDP_ENDPOINT_JSON") ? xdp_endpoint_from_env(&t.ep)
					  : xdp_endpoint_open(&opts, &t.ep);
	if (err)
		die("endpoint: %s", xdp_endpoint_strerror(err));
	t.umem = xdp_endpoint_umem(t.ep);
	t.frame_size = xdp_endpoint_frame_size(t.ep);
	stock(&t);
	/* Only now that the keeper said ok: the tap exists only while frames
	 * can flow. */
	t.fd = tap_open(t.name);
	tap_configure(&t);
	print_ready(&t);

	err = 0;
	while (!stop) {
		/* Every socket, the keeper connection, the tap. */
		struct pollfd p[MAX_SOCKS + 2];
		size_t n = xdp_endpoint_pollfds(t.ep, p, MAX_SOCKS + 1);

		/* Nothing to read into: leave the tap alone until frames
		 * complete. */
		p[n] = (struct pollfd){ .fd = t.nfree ? t.fd : -1, .events = POLLIN };
		/* Copy-mode TX leaves frames on the ring when kicked with more
		 * than it sends per call; poll() pushes them on too. While any
		 * are in flight, wake up soon to kick and reclaim. */
		if (poll(p, n + 1, t.in_flight ? 1 : 1000) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		/* The keeper says nothing after OK: anything is its goodbye. */
		if (p[n - 1].revents) {
			fprintf(stderr, "xdp_tap: endpoint: the keeper took it back\n");
			err = 1;
			break;
		}
		reclaim(&t);
		xsk_to_tap(&t);
		tap_to_xsk(&t);
		if (t.in_flight && (err = xdp_endpoint_kick_tx(t.ep)))
			die("TX: %s", xdp_endpoint_strerror(err));
	}
	print_stats(&t);
	close(t.fd); /* deletes the (non-persistent) tap with its routes */
	xdp_endpoint_close(t.ep);
	free(t.free);
	return err;
}
