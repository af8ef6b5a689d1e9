/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Test helper: the keeper without the hook.
 *
 *   keeper_harness start NETNS DEV INIT_PID LOG [--uids U,U] [--umem BYTES]
 *                  [--addr CIDR]... [--route DST[,VIA]]... [--gw IP,MAC]...
 *                  [--eph LO-HI] [--socket NAME] [--no-attach]
 *     attaches the endpoint program to DEV inside NETNS (a path such as
 *     /run/netns/x; owner "test", pinned like the hook does; --no-attach:
 *     it is there already), starts the keeper for it and prints
 *     "PID START"; the keeper outlives us.
 *   keeper_harness stop NETNS DEV PID START
 *     keeper_stop(), then detaches the program (if NETNS still exists).
 */
#define _GNU_SOURCE
#include "attach.h"
#include "endpoint_proto.h"
#include "keeper.h"
#include "netlink.h"
#include "netns.h"
#include "util.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "xdp_endpoint.skel.h"

/* libbpf and libxdp narrate their fallbacks (no dispatcher under an
 * 8 MiB memlock limit, ...): only with XDPHOOK_DEBUG. */
static int quiet_bpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level != LIBBPF_DEBUG && getenv("XDPHOOK_DEBUG") ? vfprintf(stderr, fmt, ap) : 0;
}

static int quiet_xdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return level != LIBXDP_DEBUG && getenv("XDPHOOK_DEBUG") ? vfprintf(stderr, fmt, ap) : 0;
}

static int die(const char *what, int err)
{
	fprintf(stderr, "keeper_harness: %s: %s\n", what, xh_strerror(err));
	return 1;
}

struct dev {
	const char *name;
	int ifindex;
};

static int attach_here(void *ctx)
{
	struct dev *d = ctx;
	struct xdp_endpoint *skel;
	struct xh_attach_req req = {
		.prog_name = "xdphook_endpt",
		.ifname = d->name,
		.mode = XH_MODE_NATIVE,
		.program = "endpoint",
		.owner = "test",
	};
	int err = xh_link_index(d->name, &d->ifindex);

	if (err)
		return err;
	skel = xdp_endpoint__open();
	if (!skel)
		return -errno;
	req.obj = skel->obj;
	req.ifindex = d->ifindex;
	err = xh_attach(&req);
	xdp_endpoint__destroy(skel);
	return err;
}

static int detach_here(void *ctx)
{
	struct dev *d = ctx;
	int err = xh_link_index(d->name, &d->ifindex);

	return err ? err : xh_detach(d->ifindex);
}

static int link_info(int netns_fd, const char *name, struct xh_link *link)
{
	cleanup_rtnl struct nl_sock *sk = NULL;
	int err = xh_rtnl_open(netns_fd, &sk);

	return err ? err : xh_rtnl_link_get(sk, 0, name, link);
}

static int parse_uids(const char *s, uint32_t *uids, size_t *n)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	*n = 0;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (*n >= 16 || xh_parse_u32(t, UINT32_MAX, &uids[(*n)++]))
			return -EINVAL;
	return *n ? 0 : -EINVAL;
}

/* --route DST[,VIA] and --gw IP,MAC */
static int add_route(struct xh_ep_desc *d, char *s)
{
	struct xdp_endpoint_route *r = &d->routes[d->n_routes];
	char *via = strchr(s, ',');
	int vf;

	if (d->n_routes >= XDP_ENDPOINT_MAX_ROUTES)
		return -E2BIG;
	if (via)
		*via++ = '\0';
	if (xh_ep_addr_parse(s, true, &r->family, r->dst, &r->dst_len))
		return -EINVAL;
	if (via && (xh_ep_addr_parse(via, false, &vf, r->via, NULL) || vf != r->family))
		return -EINVAL;
	r->has_via = via != NULL;
	d->n_routes++;
	return 0;
}

static int add_gw(struct xh_ep_desc *d, char *s)
{
	struct xdp_endpoint_gateway *g = &d->gateways[d->n_gateways];
	char *mac = strchr(s, ',');

	if (d->n_gateways >= XDP_ENDPOINT_MAX_GATEWAYS || !mac)
		return -EINVAL;
	*mac++ = '\0';
	if (xh_ep_addr_parse(s, false, &g->family, g->addr, NULL) || xh_ep_mac_parse(mac, g->mac))
		return -EINVAL;
	d->n_gateways++;
	return 0;
}

static int start(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "uids", required_argument, NULL, 'u' }, { "umem", required_argument, NULL, 'm' },
		{ "addr", required_argument, NULL, 'a' }, { "route", required_argument, NULL, 'r' },
		{ "gw", required_argument, NULL, 'g' },   { "eph", required_argument, NULL, 'e' },
		{ "socket", required_argument, NULL, 's' }, { "no-attach", no_argument, NULL, 'n' },
		{ 0 },
	};
	uint32_t uids[16] = { 0 }, init;
	size_t n_uids = 1;
	struct xh_ep_desc desc;
	struct keeper_args a = { .xsks_fd = -1, .allowed_uids = uids, .desc = &desc };
	struct dev dev;
	struct xh_link link;
	cleanup_close int netns_fd = -1;
	uint64_t umem = XH_EP_UMEM_DEFAULT, start_time;
	unsigned int lo, hi;
	bool attach = true;
	int c, err = 0, pid;

	xh_ep_desc_init(&desc);
	desc.xdp_copy = true; /* a veth */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		struct xdp_endpoint_addr *ad = &desc.addrs[desc.n_addrs];

		switch (c) {
		case 'u':
			err = parse_uids(optarg, uids, &n_uids);
			break;
		case 'm':
			err = xh_parse_u64(optarg, &umem);
			break;
		case 'a':
			err = desc.n_addrs < XDP_ENDPOINT_MAX_ADDRS
				      ? xh_ep_addr_parse(optarg, true, &ad->family, ad->addr, &ad->prefix_len)
				      : -E2BIG;
			desc.n_addrs += !err;
			break;
		case 'r':
			err = add_route(&desc, optarg);
			break;
		case 'g':
			err = add_gw(&desc, optarg);
			break;
		case 'e':
			err = sscanf(optarg, "%u-%u", &lo, &hi) == 2 && lo <= 65535 && hi <= 65535 ? 0 : -EINVAL;
			desc.eph_lo = (uint16_t)lo;
			desc.eph_hi = (uint16_t)hi;
			break;
		case 's':
			a.socket_name = optarg;
			err = 0;
			break;
		case 'n':
			attach = false;
			break;
		default:
			return 2;
		}
		if (err)
			return die(optarg ? optarg : "option", err);
	}
	if (argc - optind != 4)
		return die("usage: start NETNS DEV INIT_PID LOG [options]", -EINVAL);
	netns_fd = open(argv[optind], O_RDONLY | O_CLOEXEC);
	if (netns_fd < 0)
		return die(argv[optind], -errno);
	if ((err = xh_parse_u32(argv[optind + 2], INT32_MAX, &init)))
		return die("init pid", err);
	dev.name = argv[optind + 1];
	if ((err = xh_ep_desc_set_umem(&desc, umem)))
		return die("umem", err);
	if ((err = link_info(netns_fd, dev.name, &link)))
		return die(dev.name, err);
	dev.ifindex = link.ifindex;
	if (attach && (err = xh_netns_run(netns_fd, attach_here, &dev)))
		return die("attach", err);
	snprintf(desc.ifname, sizeof(desc.ifname), "%s", dev.name);
	desc.ifindex = dev.ifindex;
	memcpy(desc.mac, link.mac, 6);
	desc.mtu = link.mtu;
	a.id = "test";
	a.netns_fd = netns_fd;
	a.init_pid = (int)init;
	a.n_uids = n_uids;
	a.log_path = argv[optind + 3];
	if ((err = xh_netns_cookie_of(netns_fd, &a.netns_cookie)))
		return die("netns cookie", err);
	err = keeper_start(&a, &pid, &start_time);
	if (err) {
		if (attach)
			xh_netns_run(netns_fd, detach_here, &dev);
		return die("keeper_start", err);
	}
	printf("%d %llu\n", pid, (unsigned long long)start_time);
	return 0;
}

static int stop(int argc, char **argv)
{
	cleanup_close int netns_fd = -1;
	struct dev dev = { .name = argv[3] };
	uint64_t start_time;
	uint32_t pid;
	int err;

	if (argc != 6)
		return die("usage: stop NETNS DEV PID START", -EINVAL);
	if (xh_parse_u32(argv[4], INT32_MAX, &pid) || xh_parse_u64(argv[5], &start_time))
		return die("pid/start", -EINVAL);
	err = keeper_stop((int)pid, start_time);
	if (err)
		return die("keeper_stop", err);
	netns_fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (netns_fd >= 0 && (err = xh_netns_run(netns_fd, detach_here, &dev)) && err != -ENODEV &&
	    err != -ENOENT)
		return die("detach", err);
	return 0;
}

int main(int argc, char **argv)
{
	libbpf_set_print(quiet_bpf);
	libxdp_set_print(quiet_xdp);
	if (argc > 1 && !strcmp(argv[1], "start"))
		return start(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "stop"))
		return stop(argc, argv);
	fprintf(stderr, "usage: keeper_harness start|stop ...\n");
	return 2;
}
