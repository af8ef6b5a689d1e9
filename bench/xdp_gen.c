/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp_gen: a UDP traffic generator that multiplies frames in XDP.
 *
 *   xdp_gen -i DEV -m DST-MAC -S SRC-IP -D DST-IP [options]
 *   xdp_gen -i DEV -m DST-MAC -k KINDS -S SRC-IP -D DST-IP [-S .. -D ..] [options]
 *
 * Seed frames go from an AF_PACKET socket into a veth pair of our own (in
 * a network namespace of our own); on its far side an XDP program
 * broadcasts each seed over a devmap whose 32 entries all name DEV, and
 * the entries' program turns every copy into the frame asked for (headers,
 * ports, checksums, length: bpf/xdp_gen.bpf.c) before DEV sends it, i.e.
 * a veth DEV's frames land on its peer. No skb per frame, one CPU: about
 * the rate of XDP itself. The peer must be able to receive XDP frames (an
 * XDP program, or GRO on it), or the kernel drops them.
 *
 * Why not BPF_PROG_TEST_RUN with live frames: a kernel may refuse them
 * (EPERM without CAP_SYS_RESOURCE on some builds, lockdown, older kernels).
 *
 * -n is exact: the per-copy program drops the copies past the count.
 * -r paces the seeds (and uses fewer copies per seed at low rates).
 * -R (reference) sends the seeds' copies unchanged, without the per-copy
 * program: the fan-out's own ceiling; -Z makes every copy and drops it
 * before DEV sends it: the generator's own cost. Both for the benchmark.
 *
 * -k sends malformed frames instead (bench/xdp_gen_kinds.h): the kinds
 * named, or all kinds of the groups named ("malformed": every kind), one
 * frame of each kind in turn; -S/-D then take an IPv4 and an IPv6 pair
 * for the kinds that need them. Frames sent per kind are printed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/ether.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "csum.h"
#include "netlink.h"
#include "util.h"
#include "xdp_gen.h"
#include "xdp_gen_kinds.h"
#include "xdp_gen.skel.h"

static const uint32_t imix_len[XDP_GEN_SIZES] = { 64, 576, 1500 };

struct opts {
	const char *dev;
	uint64_t count;       /* 0: no limit */
	uint64_t rate;        /* pps, 0: as fast as possible */
	double duration;      /* seconds, 0: no limit */
	uint32_t size;        /* frame length without FCS; 0: IMIX */
	int family;
	uint8_t src_mac[6], dst_mac[6];
	bool src_mac_set, dst_mac_set;
	uint8_t src_ip[16], dst_ip[16]; /* of family */
	/* -S/-D as given: one of each family at most */
	bool s4, d4, s6, d6;
	uint8_t src4[4], dst4[4], src6[16], dst6[16];
	/* -k: the kinds (indexes into xdp_gen_kinds) */
	size_t nkinds;
	uint32_t kinds[XDP_GEN_KINDS_MAX];
	uint32_t sport_lo, sport_hi, dport_lo, dport_hi;
	int cpu;              /* -1: not pinned */
	bool quiet;
	bool reference;       /* -R */
	bool discard;         /* -Z */
};

static void usage(FILE *f)
{
	fputs("usage: xdp_gen -i DEV -m DST-MAC -S SRC-IP -D DST-IP [-M SRC-MAC]\n"
	      "               [-n COUNT] [-r PPS] [-d SECONDS] [-s BYTES|imix]\n"
	      "               [-p DPORT[-DPORT]] [-P SPORT[-SPORT]] [-c CPU] [-q] [-R|-Z]\n"
	      "       xdp_gen -i DEV -m DST-MAC -k KIND|GROUP|malformed[,...] -S SRC -D DST\n"
	      "               [-S SRC6 -D DST6] [-n COUNT] [-r PPS] [-d SECONDS] ...\n"
	      "       xdp_gen -k list\n"
	      "  sends UDP frames out of DEV (IPv4 or IPv6, as the addresses are) until\n"
	      "  COUNT frames or SECONDS (or SIGINT); -s is the frame length without FCS\n"
	      "  (default 64; imix: 64/576/1500 bytes 7:4:1); -r paces by batches.\n"
	      "  -R: every copy the seed unchanged (one port pair; not exact with -n):\n"
	      "  the fan-out's own ceiling. -Z: every copy made, then dropped before\n"
	      "  DEV sends it: the generator's own cost.\n"
	      "  -k sends malformed frames of the kinds named, one of each in turn\n"
	      "  (-k list: the kinds and their groups); -S/-D once per address family.\n",
	      f);
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "xdp_gen: %s: %s\n", what, xh_strerror(err));
	return 1;
}

/* ---- options ------------------------------------------------------------ */

static int parse_range(const char *s, uint32_t *lo, uint32_t *hi)
{
	char buf[32], *dash;
	int err;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	err = xh_parse_u32(buf, 65535, lo);
	if (!err)
		err = dash ? xh_parse_u32(dash + 1, 65535, hi) : (*hi = *lo, 0);
	if (!err && *hi < *lo)
		err = -EINVAL;
	return err;
}

/* An address into the IPv4 or IPv6 slot; each slot once. */
static int parse_ip(const char *s, bool *set4, uint8_t *a4, bool *set6, uint8_t *a6)
{
	bool v6 = strchr(s, ':') != NULL;
	bool *set = v6 ? set6 : set4;

	if (inet_pton(v6 ? AF_INET6 : AF_INET, s, v6 ? a6 : a4) != 1)
		return -EINVAL;
	if (*set)
		return xh_err(-EINVAL, "an %s address was given already", v6 ? "IPv6" : "IPv4");
	*set = true;
	return 0;
}

static void list_kinds(void)
{
	for (size_t i = 0; i < XDP_GEN_NKINDS; i++) {
		const struct xdp_gen_kind *k = &xdp_gen_kinds[i];
		uint8_t buf[XDP_GEN_RAW_MAX];
		struct xdp_gen_addrs a = { 0 };

		printf("%-14s %-10s %s %3u bytes  %s\n", k->name, k->group,
		       k->family == 4 ? "IPv4" : k->family == 6 ? "IPv6" : "  - ",
		       xdp_gen_kind_build(k, &a, buf), k->what);
	}
}

static int add_kind(struct opts *o, uint32_t i)
{
	for (size_t j = 0; j < o->nkinds; j++)
		if (o->kinds[j] == i)
			return 0;
	if (o->nkinds == XDP_GEN_KINDS_MAX)
		return xh_err(-E2BIG, "more than %d kinds", XDP_GEN_KINDS_MAX);
	o->kinds[o->nkinds++] = i;
	return 0;
}

/* KIND|GROUP|malformed, comma separated. */
static int parse_kinds(const char *s, struct opts *o)
{
	char buf[512], *save = NULL, *name;

	if (strlen(s) >= sizeof(buf))
		return xh_err(-EINVAL, "list too long");
	strcpy(buf, s);
	for (name = strtok_r(buf, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		bool found = false;

		for (uint32_t i = 0; i < XDP_GEN_NKINDS; i++) {
			const struct xdp_gen_kind *k = &xdp_gen_kinds[i];
			int err;

			if (strcmp(name, "malformed") && strcmp(name, k->name) &&
			    strcmp(name, k->group))
				continue;
			found = true;
			if ((err = add_kind(o, i)))
				return err;
		}
		if (!found)
			return xh_err(-EINVAL, "no kind or group '%s' (xdp_gen -k list)", name);
	}
	return o->nkinds ? 0 : xh_err(-EINVAL, "no kinds");
}

static int parse_mac(const char *s, uint8_t *mac)
{
	struct ether_addr *e = ether_aton(s);

	if (!e)
		return -EINVAL;
	memcpy(mac, e, 6);
	return 0;
}

/* -k: every kind has the addresses of its family; -s does not apply. */
static int check_kind_addrs(const struct opts *o, bool size_set)
{
	if (size_set) {
		fprintf(stderr, "xdp_gen: -s does not go with -k (each kind has its own length)\n");
		return -EINVAL;
	}
	if (o->s4 != o->d4 || o->s6 != o->d6) {
		fprintf(stderr, "xdp_gen: -k: give -S and -D in pairs of one address family\n");
		return -EINVAL;
	}
	for (size_t i = 0; i < o->nkinds; i++) {
		const struct xdp_gen_kind *k = &xdp_gen_kinds[o->kinds[i]];

		if ((k->family == 4 && !o->s4) || (k->family == 6 && !o->s6)) {
			fprintf(stderr, "xdp_gen: -k %s: needs IPv%d addresses (-S and -D)\n",
				k->name, k->family);
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint32_t u32;
	int c, err = 0;

	*o = (struct opts){ .size = 64, .sport_lo = 9, .sport_hi = 9, .dport_lo = 9,
			    .dport_hi = 9, .cpu = -1 };
	bool size_set = false;

	while ((c = getopt_long(argc, argv, "i:n:r:d:s:m:M:S:D:p:P:c:k:qRZh", longopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'i': o->dev = optarg; break;
		case 'n': err = xh_parse_u64(optarg, &o->count); break;
		case 'r': err = xh_parse_u64(optarg, &o->rate); break;
		case 'd':
			o->duration = strtod(optarg, &end);
			err = *end || o->duration <= 0 ? -EINVAL : 0;
			break;
		case 's':
			size_set = true;
			if (!strcmp(optarg, "imix"))
				o->size = 0;
			else if (!(err = xh_parse_u32(optarg, 4000, &u32)))
				o->size = u32;
			break;
		case 'm': err = parse_mac(optarg, o->dst_mac); o->dst_mac_set = true; break;
		case 'M': err = parse_mac(optarg, o->src_mac); o->src_mac_set = true; break;
		case 'S': err = parse_ip(optarg, &o->s4, o->src4, &o->s6, o->src6); break;
		case 'D': err = parse_ip(optarg, &o->d4, o->dst4, &o->d6, o->dst6); break;
		case 'k':
			if (!strcmp(optarg, "list")) {
				list_kinds();
				exit(0);
			}
			err = parse_kinds(optarg, o);
			break;
		case 'p': err = parse_range(optarg, &o->dport_lo, &o->dport_hi); break;
		case 'P': err = parse_range(optarg, &o->sport_lo, &o->sport_hi); break;
		case 'c': err = xh_parse_u32(optarg, CPU_SETSIZE - 1, &u32); o->cpu = (int)u32; break;
		case 'q': o->quiet = true; break;
		case 'R': o->reference = true; break;
		case 'Z': o->discard = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
		if (err) {
			fprintf(stderr, "xdp_gen: -%c %s: %s\n", c, optarg, xh_strerror(err));
			return err;
		}
	}
	if (optind != argc || !o->dev || !o->dst_mac_set) {
		usage(stderr);
		return -EINVAL;
	}
	if (o->reference && o->discard) {
		fprintf(stderr, "xdp_gen: -R and -Z: one or the other\n");
		return -EINVAL;
	}
	if (o->reference && (o->nkinds || !o->size)) {
		fprintf(stderr, "xdp_gen: -R sends one frame unchanged: not with -k or -s imix\n");
		return -EINVAL;
	}
	if (o->nkinds)
		return check_kind_addrs(o, size_set);
	if ((o->s4 || o->d4) && (o->s6 || o->d6)) {
		fprintf(stderr, "xdp_gen: source and destination are not of one address family\n");
		return -EINVAL;
	}
	if (!((o->s4 && o->d4) || (o->s6 && o->d6))) {
		usage(stderr);
		return -EINVAL;
	}
	o->family = o->s4 ? AF_INET : AF_INET6;
	memcpy(o->src_ip, o->s4 ? o->src4 : o->src6, o->s4 ? 4 : 16);
	memcpy(o->dst_ip, o->s4 ? o->dst4 : o->dst6, o->s4 ? 4 : 16);
	return 0;
}

/* ---- frames --------------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* Headers for a frame of len bytes: ports 0, UDP checksum 0, the payload
 * zeros (so it adds nothing to the sums). */
static void build_tmpl(const struct opts *o, uint32_t len, struct xdp_gen_tmpl *t)
{
	uint8_t *p = t->hdr, *ip = p + 14, *udp;
	uint32_t ulen, pseudo;

	memset(t, 0, sizeof(*t));
	t->len = len;
	memcpy(p, o->dst_mac, 6);
	memcpy(p + 6, o->src_mac, 6);
	if (o->family == AF_INET) {
		udp = ip + 20;
		ulen = len - 34;
		put16(p + 12, 0x0800);
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(len - 14));
		put16(ip + 6, 0x4000); /* DF: the id may stay 0 */
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, o->src_ip, 4);
		memcpy(ip + 16, o->dst_ip, 4);
		put16(ip + 10, csum_final(csum_add(ip, 20, 0)));
		pseudo = csum_add(ip + 12, 8, 17 + ulen);
	} else {
		udp = ip + 40;
		ulen = len - 54;
		put16(p + 12, 0x86dd);
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)ulen);
		ip[6] = 17;
		ip[7] = 64;
		memcpy(ip + 8, o->src_ip, 16);
		memcpy(ip + 24, o->dst_ip, 16);
		pseudo = csum_add(ip + 8, 32, 17 + ulen);
	}
	put16(udp + 4, (uint16_t)ulen);
	t->csum_base = csum_fold(csum_add(udp, 8, pseudo));
}

/* A template made a whole frame: the lowest ports and their checksum. */
static void build_seed(const struct opts *o, const struct xdp_gen_tmpl *t, uint8_t *frame)
{
	uint8_t *udp = frame + (o->family == AF_INET ? 34 : 54);
	uint32_t sum = t->csum_base + o->sport_lo + o->dport_lo;
	uint16_t check;

	memcpy(frame, t->hdr, XDP_GEN_HDR);
	put16(udp, (uint16_t)o->sport_lo);
	put16(udp + 2, (uint16_t)o->dport_lo);
	check = csum_final(sum);
	put16(udp + 6, check ? check : 0xffff);
}

static int dev_mac_mtu(const char *dev, uint8_t *mac, int *mtu)
{
	struct ifreq ifr = { 0 };
	cleanup_close int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (strlen(dev) >= sizeof(ifr.ifr_name))
		return -ENAMETOOLONG;
	strcpy(ifr.ifr_name, dev);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		return -errno;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(fd, SIOCGIFMTU, &ifr))
		return -errno;
	*mtu = ifr.ifr_mtu;
	return 0;
}

/* Frames the device could not pass on (a veth counts its peer's full
 * ring here); best effort, 0 if unknown. */
static uint64_t dev_tx_dropped(const char *dev)
{
	struct ifaddrs *ifa, *i;
	uint64_t n = 0;

	if (getifaddrs(&ifa))
		return 0;
	for (i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_PACKET && i->ifa_data &&
		    !strcmp(i->ifa_name, dev))
			n = ((struct rtnl_link_stats *)i->ifa_data)->tx_dropped;
	freeifaddrs(ifa);
	return n;
}

/* ---- the helper veth and the fan-out ---------------------------------------- */

static int write_file(const char *path, const char *text)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno; /* no IPv6 at all: fine */
	return write(fd, text, strlen(text)) < 0 ? -errno : 0;
}

/*
 * Seeds enter a veth pair of the generator's own, in a network namespace
 * of its own: the pair goes with the namespace when the process ends, on
 * every exit path, SIGKILL included. The fan-out map was filled before
 * (a devmap resolves an ifindex in the caller's netns), so copies still
 * leave from DEV in the netns we were started in.
 */
struct seeder {
	int fd;               /* AF_PACKET on the seed side */
	char seed_dev[16], fan_dev[16];
	struct bpf_link *link;
};

static int seeder_setup(struct seeder *s, struct xdp_gen *skel, uint32_t seed_len)
{
	cleanup_rtnl struct nl_sock *sk = NULL;
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct xh_link seed, fan;
	unsigned int mtu = seed_len - 14 > 1500 ? seed_len - 14 : 1500;
	int one = 1, err;

	snprintf(s->seed_dev, sizeof(s->seed_dev), "xgs%d", getpid());
	snprintf(s->fan_dev, sizeof(s->fan_dev), "xgf%d", getpid());
	if (unshare(CLONE_NEWNET))
		return xh_err(-errno, "helper netns: unshare: %s", strerror(errno));
	/* No IPv6 on the pair: its neighbour discovery would be seeds too. */
	if ((err = write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1")))
		return xh_err(err, "helper netns: disable IPv6: %s", xh_strerror(err));
	if ((err = xh_rtnl_open(-1, &sk)))
		return xh_err(err, "helper netns: netlink: %s", xh_strerror(err));
	err = xh_rtnl_veth_add(sk, s->seed_dev, s->fan_dev, -1, mtu);
	if (!err)
		err = xh_rtnl_link_get(sk, 0, s->seed_dev, &seed);
	if (!err)
		err = xh_rtnl_link_get(sk, 0, s->fan_dev, &fan);
	if (!err)
		err = xh_rtnl_link_up(sk, fan.ifindex);
	if (!err)
		err = xh_rtnl_link_up(sk, seed.ifindex);
	if (err)
		return xh_err(err, "helper veth %s/%s (MTU %u): %s", s->seed_dev, s->fan_dev, mtu,
			      xh_strerror(err));
	s->link = bpf_program__attach_xdp(skel->progs.xdp_gen_fanout, fan.ifindex);
	if (!s->link)
		return xh_err(-errno, "attach the fan-out program to %s: %s%s", s->fan_dev,
			      strerror(errno), errno == ERANGE ?
			      " (frames too long for XDP on a veth)" : "");
	s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return xh_err(-errno, "AF_PACKET socket: %s", strerror(errno));
	/* Straight to the veth: no qdisc, no tap on the way. */
	if (setsockopt(s->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)))
		return xh_err(-errno, "PACKET_QDISC_BYPASS: %s", strerror(errno));
	ll.sll_ifindex = seed.ifindex;
	if (bind(s->fd, (struct sockaddr *)&ll, sizeof(ll)))
		return xh_err(-errno, "bind AF_PACKET to %s: %s", s->seed_dev, strerror(errno));
	return 0;
}

static void seeder_close(struct seeder *s)
{
	bpf_link__destroy(s->link);
	if (s->fd >= 0)
		close(s->fd);
}

/* Every entry names DEV, with the per-copy program (or none: -R). */
static int fanout_fill(struct xdp_gen *skel, int ifindex, uint32_t n, bool rewrite)
{
	struct bpf_devmap_val v = { .ifindex = (uint32_t)ifindex, .bpf_prog.fd = -1 };

	if (rewrite)
		v.bpf_prog.fd = bpf_program__fd(skel->progs.xdp_gen_copy);
	for (uint32_t k = 0; k < n; k++)
		if (bpf_map__update_elem(skel->maps.fanout, &k, sizeof(k), &v, sizeof(v), 0))
			return xh_err(-errno, "fan-out map entry %u: %s", k, strerror(errno));
	return 0;
}

/* ---- sending ---------------------------------------------------------------- */

#define SEED_BATCH 64
/* Copies in flight at most: a veth's ring holds 256 frames. When softirqs
 * move to ksoftirqd, the seed veth's NAPI handles all the seeds waiting at
 * once, and every copy of them lands in DEV's peer's ring before that
 * one's NAPI runs (on the same CPU): more than it holds and the rest are
 * dropped. So seeds are sent only as the fan-out takes them (measured:
 * no cost against an unbounded window, within the noise of one run). */
#define COPIES_IN_FLIGHT 256
#define SEED_WAIT_NS 20000ull         /* a ring full or seeds in flight */
#define SEED_LOST_NS 100000000ull     /* in flight this long without progress: lost */
#define SEED_STALL_NS 2000000000ull   /* nothing accepted this long: give up */

static uint64_t now_ns(void)
{
	return xh_now_ns(CLOCK_MONOTONIC);
}

static void sleep_until(uint64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ull, .tv_nsec = ns % 1000000000ull };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* SIGINT/SIGTERM stay blocked and are looked for between batches, so
 * that the counts printed are the ones that went. */
static bool stop_requested(const sigset_t *sigs)
{
	struct timespec zero = { 0 };

	return sigtimedwait(sigs, NULL, &zero) > 0;
}

struct run {
	volatile struct xdp_gen_state *st;
	uint32_t fanout;      /* copies per seed */
	bool rewrite;         /* false (-R): copies are the seeds as they are */
	uint64_t accepted;    /* seeds the veth took */
	uint64_t lost;        /* ... and the fan-out never saw */
};

/* Copies sent so far: counted by the per-copy program, or (-R) derived. */
static uint64_t run_copies(const struct run *r)
{
	return r->rewrite ? r->st->copies : r->st->seeds * r->fanout;
}

static uint64_t run_in_flight(const struct run *r)
{
	uint64_t done = r->st->seeds + r->lost;

	return r->accepted > done ? r->accepted - done : 0;
}

/* Seeds accepted but not seen by the fan-out after a while were dropped
 * on the way (the kernel may, under memory pressure): stop waiting. */
static void run_settle(struct run *r, uint64_t *seen, uint64_t *progress, uint64_t t)
{
	if (r->st->seeds != *seen) {
		*seen = r->st->seeds;
		*progress = t;
	} else if (run_in_flight(r) && t - *progress > SEED_LOST_NS) {
		r->lost += run_in_flight(r);
	}
}

static int send_seeds(struct run *r, int fd, const uint8_t *seed, uint32_t len,
		      const struct opts *o, const sigset_t *sigs, uint64_t *elapsed_ns)
{
	struct iovec iov = { .iov_base = (void *)seed, .iov_len = len };
	struct mmsghdr msgs[SEED_BATCH];
	uint64_t start = now_ns(), deadline = o->duration ? start + (uint64_t)(o->duration * 1e9) : 0;
	uint64_t seen = 0, progress = start, accepted_at = start, t;
	uint64_t copies = 0, copied_at = start, window = COPIES_IN_FLIGHT / r->fanout;

	for (int i = 0; i < SEED_BATCH; i++)
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov, .msg_iovlen = 1 } };
	while (!stop_requested(sigs) && (!deadline || now_ns() < deadline)) {
		uint64_t n = SEED_BATCH, flying;
		int sent;

		t = now_ns();
		run_settle(r, &seen, &progress, t);
		/* Seeds fanned out, no copy made: DEV takes no XDP frames. */
		if (run_copies(r) != copies || !seen) {
			copies = run_copies(r);
			copied_at = t;
		} else if (t - copied_at > SEED_STALL_NS) {
			return xh_err(-ENXIO, "no copy leaves: %s takes no XDP frames (its veth peer needs an XDP program or GRO)",
				      o->dev);
		}
		flying = run_in_flight(r);
		if (flying >= window) {
			sched_yield();
			continue;
		}
		if (window - flying < n)
			n = window - flying;
		if (o->count) {
			uint64_t done = run_copies(r), need;

			if (done >= o->count)
				break;
			need = (o->count - done + r->fanout - 1) / r->fanout;
			if (flying >= need) {
				sched_yield();
				continue;
			}
			if (need - flying < n)
				n = need - flying;
		}
		if (o->rate) {
			/* Seeds due by now, at rate / fanout a second. */
			uint64_t due = (uint64_t)((double)(t - start) * (double)o->rate /
						  (double)r->fanout / 1e9) + 1;

			if (r->accepted >= due) {
				sleep_until(start + (uint64_t)((double)r->accepted * r->fanout * 1e9 /
								(double)o->rate));
				continue;
			}
			if (due - r->accepted < n)
				n = due - r->accepted;
		}
		sent = sendmmsg(fd, msgs, (unsigned int)n, 0);
		if (sent > 0) {
			r->accepted += (uint64_t)sent;
			accepted_at = t;
			continue;
		}
		/* The fan-out side's ring is full: wait for it, don't give up. */
		if (sent < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
			return xh_err(-errno, "send seed frames: %s", strerror(errno));
		if (t - accepted_at > SEED_STALL_NS)
			return xh_err(-ENOBUFS, "no seed frame accepted for %llu s",
				      SEED_STALL_NS / 1000000000ull);
		sleep_until(t + SEED_WAIT_NS);
	}
	/* The seeds still in flight become copies too. */
	while (run_in_flight(r)) {
		t = now_ns();
		run_settle(r, &seen, &progress, t);
		if (run_in_flight(r))
			sleep_until(t + SEED_WAIT_NS);
	}
	*elapsed_ns = now_ns() - start;
	return 0;
}

/* Copies per seed: all the fan-out can give when not paced; fewer at low
 * rates, so that a paced stream is not bursts of 32. */
static uint32_t fanout_for(const struct opts *o)
{
	uint64_t f = o->rate ? o->rate / 100000 : XDP_GEN_FANOUT_MAX;

	if (o->reference)
		return XDP_GEN_FANOUT_MAX;
	return f < 1 ? 1 : f > XDP_GEN_FANOUT_MAX ? XDP_GEN_FANOUT_MAX : (uint32_t)f;
}

int main(int argc, char **argv)
{
	struct seeder seeder = { .fd = -1 };
	struct xdp_gen *skel;
	struct xdp_gen_cfg *cfg;
	struct opts o;
	struct run r = { 0 };
	sigset_t sigs;
	uint64_t elapsed = 0, dropped, sent;
	uint64_t kind_sent[XDP_GEN_KINDS_MAX] = { 0 };
	uint32_t kind_len[XDP_GEN_KINDS_MAX] = { 0 };
	static uint8_t seed[4096];
	uint32_t max_len = 0;
	uint8_t dev_mac[6];
	int ifindex, mtu = 0, err;
	cleanup_close int home_ns = -1;

	if (parse_opts(argc, argv, &o))
		return 2;
	ifindex = (int)if_nametoindex(o.dev);
	if (!ifindex)
		return fail(o.dev, -ENODEV);
	err = dev_mac_mtu(o.dev, dev_mac, &mtu);
	if (err)
		return fail(o.dev, err);
	if (!o.src_mac_set)
		memcpy(o.src_mac, dev_mac, 6);
	if (o.nkinds)
		; /* each kind has its length, at most XDP_GEN_RAW_MAX */
	else if (o.size && (o.size < XDP_GEN_MIN_LEN || o.size > (uint32_t)mtu + 14)) {
		fprintf(stderr, "xdp_gen: -s %u: must be %u..%d (%s MTU %d + 14)\n", o.size,
			XDP_GEN_MIN_LEN, mtu + 14, o.dev, mtu);
		return 2;
	}
	if (!o.nkinds && !o.size && imix_len[XDP_GEN_SIZES - 1] > (uint32_t)mtu + 14) {
		fprintf(stderr, "xdp_gen: -s imix: %s MTU %d is below 1486\n", o.dev, mtu);
		return 2;
	}
	if (o.cpu >= 0) {
		cpu_set_t set;

		/* The seed veth's NAPI, the copies' programs and the receive
		 * path of DEV's veth peer all run in softirq on the sending
		 * CPU: pin, so that it is one known CPU. */
		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			return fail("pin to CPU", -errno);
	}
	/* Pacing sleeps are short: ask for timer precision. */
	prctl(PR_SET_TIMERSLACK, 1000UL);

	skel = xdp_gen__open();
	if (!skel)
		return fail("open BPF program", -errno);
	cfg = (struct xdp_gen_cfg *)&skel->rodata->cfg;
	cfg->ntmpl = o.size ? 1 : XDP_GEN_SIZES;
	for (uint32_t i = 0; i < cfg->ntmpl; i++) {
		uint32_t len = o.size ? o.size : imix_len[i];

		build_tmpl(&o, len, &cfg->tmpl[i]);
		if (len > max_len)
			max_len = len;
	}
	if (o.nkinds) {
		struct xdp_gen_addrs a = { .sport = (uint16_t)o.sport_lo,
					   .dport = (uint16_t)o.dport_lo };

		memcpy(a.dst_mac, o.dst_mac, 6);
		memcpy(a.src_mac, o.src_mac, 6);
		memcpy(a.src4, o.src4, 4);
		memcpy(a.dst4, o.dst4, 4);
		memcpy(a.src6, o.src6, 16);
		memcpy(a.dst6, o.dst6, 16);
		for (size_t i = 0; i < o.nkinds; i++)
			kind_len[i] = cfg->raw[i].len =
				xdp_gen_kind_build(&xdp_gen_kinds[o.kinds[i]], &a, cfg->raw[i].data);
		cfg->nraw = (uint32_t)o.nkinds;
		max_len = XDP_GEN_RAW_MAX;
	}
	cfg->max_len = max_len;
	cfg->fanout = r.fanout = fanout_for(&o);
	cfg->discard = o.discard;
	cfg->udp_off = o.family == AF_INET ? 34 : 54;
	cfg->sport_lo = o.sport_lo;
	cfg->sport_n = o.sport_hi - o.sport_lo + 1;
	cfg->dport_lo = o.dport_lo;
	cfg->dport_n = o.dport_hi - o.dport_lo + 1;
	/* The seed: a complete frame of the first template (what -R sends);
	 * the per-copy program writes every header again. */
	build_seed(&o, &cfg->tmpl[0], seed);
	err = xdp_gen__load(skel);
	if (err) {
		xdp_gen__destroy(skel);
		return fail("load BPF program", err);
	}
	r.st = &skel->bss->gen_state;
	r.rewrite = !o.reference;
	r.st->budget = o.count && !o.reference ? o.count : UINT64_MAX;
	home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	dropped = dev_tx_dropped(o.dev);
	err = home_ns < 0 ? xh_err(-errno, "/proc/self/ns/net: %s", strerror(errno)) :
	      fanout_fill(skel, ifindex, r.fanout, r.rewrite);
	if (!err)
		err = seeder_setup(&seeder, skel, max_len);
	if (!err) {
		sigemptyset(&sigs);
		sigaddset(&sigs, SIGINT);
		sigaddset(&sigs, SIGTERM);
		sigprocmask(SIG_BLOCK, &sigs, NULL);
		err = send_seeds(&r, seeder.fd, seed, max_len, &o, &sigs, &elapsed);
	}
	seeder_close(&seeder);
	sent = run_copies(&r);
	if (o.count && sent > o.count)
		sent = o.count;
	for (size_t i = 0; i < o.nkinds; i++)
		kind_sent[i] = r.st->raw_sent[i];
	xdp_gen__destroy(skel);
	if (err)
		return fail(o.dev, err);
	/* Back home (the helper netns goes with its last user) for DEV's
	 * counters. */
	if (setns(home_ns, CLONE_NEWNET))
		return fail("back to the netns of DEV", -errno);
	dropped = dev_tx_dropped(o.dev) - dropped;
	if (!o.quiet) {
		printf("xdp_gen: %s: %s %llu frames in %.6f s: %.0f pps", o.dev,
		       o.discard ? "made (and dropped: -Z)" : "sent",
		       (unsigned long long)sent, (double)elapsed / 1e9,
		       elapsed ? (double)sent * 1e9 / (double)elapsed : 0.0);
		if (dropped)
			printf(", %llu dropped by %s", (unsigned long long)dropped, o.dev);
		printf("\n");
		for (size_t i = 0; i < o.nkinds; i++)
			printf("xdp_gen: kind %s: %llu frames of %u bytes\n",
			       xdp_gen_kinds[o.kinds[i]].name, (unsigned long long)kind_sent[i],
			       kind_len[i]);
	}
	return 0;
}
