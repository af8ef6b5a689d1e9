/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp_loader -program tcpdump: capture through AF_XDP.
 *
 * The capture program redirects every frame of a captured RX queue into
 * that queue's AF_XDP socket, so captured frames do not reach the kernel
 * stack. It is attached through an unpinned bpf_link owned by this process:
 * whatever way the process ends (count reached, signal, crash, SIGKILL),
 * closing the last reference detaches it and the device is as before.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "ethtool.h"
#include "pcap.h"
#include "pktprint.h"
#include "util.h"
#include "xsk.h"
#include "xdp_capture.skel.h"

#define POLL_MS 500 /* upper bound on the reaction to a signal that raced poll() */

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct signals {
	bool installed;
	struct sigaction old_int, old_term;
};

/* No SA_RESTART: the signal interrupts poll() and the loop sees the flag.
 * Installed before anything is attached, so that a signal arriving while
 * we set up still ends the capture through the normal exit path. */
static void signals_install(struct signals *s)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	stop_requested = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &s->old_int);
	sigaction(SIGTERM, &sa, &s->old_term);
	s->installed = true;
}

static void signals_restorep(struct signals *s)
{
	if (!s->installed)
		return;
	sigaction(SIGINT, &s->old_int, NULL);
	sigaction(SIGTERM, &s->old_term, NULL);
}

static void skel_destroyp(struct xdp_capture **s)
{
	xdp_capture__destroy(*s);
}

static void xsk_set_destroyp(struct xh_xsk_set **s)
{
	xh_xsk_set_destroy(*s);
}

static void pcap_closep(struct xh_pcap **p)
{
	xh_pcap_close(*p);
}

#define cleanup_skel __attribute__((cleanup(skel_destroyp)))
#define cleanup_xsk_set __attribute__((cleanup(xsk_set_destroyp)))
#define cleanup_pcap __attribute__((cleanup(pcap_closep)))
#define cleanup_signals __attribute__((cleanup(signals_restorep)))

static int fail(const char *dev, const char *what, int err)
{
	fprintf(stderr, "xdp_loader: %s: %s: %s\n", dev, what, xh_strerror(err));
	return EXIT_FAIL;
}

/* ------------------------------------------------------------------------ */
/* the device */

static int prog_id_of_fd(int fd, uint32_t *id, char name[BPF_OBJ_NAME_LEN])
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*id = info.id;
	if (name)
		memcpy(name, info.name, BPF_OBJ_NAME_LEN);
	return 0;
}

/* If a program holds the device: -EBUSY naming it, else err. */
static int xdp_holder_err(int ifindex, int err)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char name[BPF_OBJ_NAME_LEN] = "?";
	cleanup_close int fd = -1;
	uint32_t id, ignored;

	if (bpf_xdp_query(ifindex, 0, &q))
		return err;
	id = q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id ? q.skb_prog_id : q.hw_prog_id;
	if (!id)
		return err;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd >= 0)
		prog_id_of_fd(fd, &ignored, name);
	return xh_err(-EBUSY, "device already has an XDP program (id %u, name %s); detach it first", id,
		      name[0] ? name : "?");
}

static const char *attached_mode(int ifindex, int prog_fd)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	uint32_t id = 0;

	if (prog_id_of_fd(prog_fd, &id, NULL) || bpf_xdp_query(ifindex, 0, &q))
		return "unknown";
	if (q.drv_prog_id == id)
		return "native";
	if (q.skb_prog_id == id)
		return "skb";
	if (q.hw_prog_id == id)
		return "hw";
	return "unknown";
}

/* Frames longer than a UMEM frame holds never reach us: say so up front
 * rather than let them vanish into the drop counter. */
static void warn_mtu(const char *dev)
{
	struct ifreq ifr = { 0 };
	cleanup_close int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* Ethernet header and one VLAN tag on top of the MTU */
	const unsigned int overhead = 14 + 4;

	if (fd < 0 || strlen(dev) >= sizeof(ifr.ifr_name))
		return;
	memcpy(ifr.ifr_name, dev, strlen(dev) + 1);
	if (ioctl(fd, SIOCGIFMTU, &ifr) || ifr.ifr_mtu < 0)
		return;
	if ((unsigned int)ifr.ifr_mtu + overhead > XH_XSK_FRAME_DATA_MAX)
		fprintf(stderr, "xdp_loader: %s: warning: MTU %d: frames longer than %u bytes are dropped, not captured\n",
			dev, ifr.ifr_mtu, XH_XSK_FRAME_DATA_MAX);
}

/* Which RX queues to capture: -queue Q, -all-queues, or queue 0. */
static int choose_queues(const struct loader_opts *o, uint32_t map_size, uint32_t **out, int *n)
{
	int dev_queues = xh_dev_rx_queues(o->device);
	uint32_t *q;

	if (dev_queues < 0)
		return xh_err(dev_queues, "RX queues: %s", strerror(-dev_queues));
	if (o->queue_set && o->queue >= (uint32_t)dev_queues)
		return xh_err(-EINVAL, "queue %u: no such RX queue (device has %d)", o->queue, dev_queues);
	*n = o->all_queues ? dev_queues : 1;
	if ((uint32_t)*n > map_size || (o->queue_set && o->queue >= map_size))
		return xh_err(-E2BIG, "device has %d RX queues, capture supports queues 0-%u only",
			      dev_queues, map_size - 1);
	q = calloc((size_t)*n, sizeof(*q));
	if (!q)
		return -ENOMEM;
	for (int i = 0; i < *n; i++)
		q[i] = o->queue_set ? o->queue : (uint32_t)i;
	*out = q;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* the capture loop */

struct capture {
	struct xh_pcap *pcap;  /* -write, else print lines */
	struct timespec now;   /* one timestamp per pass: AF_XDP has none */
	bool now_set;          /* read for this pass yet (only when a frame came) */
	uint64_t captured;
	char line[1024];
};

static int on_frame(void *ctx, const void *data, uint32_t len, int queue)
{
	struct capture *c = ctx;

	(void)queue;
	if (!c->now_set) {
		clock_gettime(CLOCK_REALTIME, &c->now);
		c->now_set = true;
	}
	c->captured++;
	if (c->pcap)
		return xh_pcap_write(c->pcap, &c->now, data, len, len);
	xh_pkt_format(c->line, sizeof(c->line), &c->now, data, len);
	if (puts(c->line) == EOF)
		return errno ? -errno : -EIO;
	return 0;
}

static int flush_output(struct capture *c, bool pcap_to_stdout)
{
	if (!c->pcap || pcap_to_stdout) {
		int err = c->pcap ? xh_pcap_flush(c->pcap) : 0;

		if (err)
			return err;
		if (fflush(stdout) == EOF)
			return errno ? -errno : -EIO;
	}
	return 0;
}

/* Frames until -count; 0 when there is no count. */
static unsigned int frames_left(const struct capture *c, const struct loader_opts *o)
{
	uint64_t left = o->count ? o->count - c->captured : 0;

	return left > UINT_MAX ? UINT_MAX : (unsigned int)left;
}

/* One pass over the RX rings. The timestamp of every frame of the pass is
 * one clock read at its first frame (none for an empty pass): AF_XDP frames
 * carry none, and a pass takes microseconds (XH_XSK_BATCH frames per
 * queue), so the error is that plus how long the frame waited in the ring
 * (the time the reader is behind, which tcpdump's kernel timestamps do not
 * have). */
static int capture_pass(struct xh_xsk_set *set, struct capture *c, const struct loader_opts *o,
			unsigned int max)
{
	bool pcap_to_stdout = o->write && strcmp(o->write, "-") == 0;
	int n, err = 0;

	c->now_set = false;
	errno = 0;
	n = xh_xsk_set_recv(set, max, on_frame, c);
	if (n)
		err = flush_output(c, pcap_to_stdout);
	return n < 0 ? n : err ? err : n;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Until a signal or -count. Returns 0 or a negative errno.
 *
 * Under load the reader does not sleep between passes: a sleeping reader
 * is woken by the kernel every few frames, and on a busy CPU each wake-up
 * may wait for whatever runs there to give the CPU up (milliseconds, in
 * which the ring fills). A pass that finds a full batch (a backlog) starts
 * busy mode: keep looking while frames keep coming, and sleep in poll()
 * only after SPIN_NS without any. Light traffic never fills a batch and
 * sleeps as soon as the rings are empty. */
#define SPIN_NS 200000ull
static int capture_loop(struct xh_xsk_set *set, struct capture *c, const struct loader_opts *o)
{
	uint64_t busy_until = 0;
	unsigned int spins = 0;
	int n;

	while (!stop_requested && (!o->count || c->captured < o->count)) {
		n = capture_pass(set, c, o, frames_left(c, o));
		if (n < 0)
			return n;
		if (n >= (int)XH_XSK_BATCH || (n > 0 && busy_until))
			busy_until = mono_ns() + SPIN_NS;
		if (n > 0)
			continue;
		if (busy_until) {
			/* an empty pass is a few reads of ring indexes: look
			 * at the clock only every so often */
			if (++spins % 64 || mono_ns() < busy_until) {
				cpu_relax();
				continue;
			}
			busy_until = 0;
		}
		n = xh_xsk_set_poll(set, POLL_MS);
		if (n < 0 && n != -EINTR)
			return n;
	}
	/* Stopped by a signal: what the kernel had already queued for us is
	 * captured too (at most a ring's worth per socket, however fast more
	 * arrives), so that nothing "received by filter" is left unwritten
	 * once the traffic has stopped. */
	for (uint64_t budget = (uint64_t)xh_xsk_set_frames(set) * (uint64_t)xh_xsk_set_count(set);
	     stop_requested && budget && (!o->count || c->captured < o->count);) {
		unsigned int max = frames_left(c, o);

		if (!max || max > budget)
			max = (unsigned int)budget;
		n = capture_pass(set, c, o, max);
		if (n <= 0)
			return n;
		budget -= (uint64_t)n;
	}
	return 0;
}

/* Frames the program gave verdict `key` (XDP_REDIRECT: handed to the
 * sockets; XDP_PASS: queue without a socket), all CPUs. */
static uint64_t verdicts(struct xdp_capture *skel, uint32_t key)
{
	int ncpus = libbpf_num_possible_cpus();
	struct xdphook_counter *per_cpu;
	uint64_t sum = 0;

	if (ncpus <= 0)
		return 0;
	per_cpu = calloc((size_t)ncpus, sizeof(*per_cpu));
	if (!per_cpu)
		return 0;
	if (!bpf_map__lookup_elem(skel->maps.xdphook_stats, &key, sizeof(key), per_cpu,
				  (size_t)ncpus * sizeof(*per_cpu), 0))
		for (int i = 0; i < ncpus; i++)
			sum += per_cpu[i].packets;
	free(per_cpu);
	return sum;
}

static void print_stats(struct xh_xsk_set *set, struct xdp_capture *skel, const struct capture *c)
{
	struct xh_xsk_stats st;
	uint64_t dropped = 0, passed;

	if (!xh_xsk_set_stats(set, &st))
		dropped = xh_xsk_stats_dropped(&st);
	fprintf(stderr, "%" PRIu64 " packets captured\n", c->captured);
	fprintf(stderr, "%" PRIu64 " packets received by filter\n", verdicts(skel, XDP_REDIRECT));
	fprintf(stderr, "%" PRIu64 " packets dropped by kernel\n", dropped);
	/* Only queues with a socket are captured; say so if that mattered. */
	passed = verdicts(skel, XDP_PASS);
	if (passed)
		fprintf(stderr, "%" PRIu64 " packets passed to the kernel, not captured (no socket for their queue)\n",
			passed);
}

/* Like tcpdump's banner, plus how the frames get to us. */
static void print_listening(const char *dev, const uint32_t *queues, int nq, const char *xdp_mode,
			    bool zerocopy, uint32_t frames)
{
	char qs[64];

	/* queues are one given queue or all of 0..nq-1 */
	if (nq == 1)
		snprintf(qs, sizeof(qs), "1 queue (%u)", queues[0]);
	else
		snprintf(qs, sizeof(qs), "%d queues (%u-%u)", nq, queues[0], queues[nq - 1]);
	fprintf(stderr, "listening on %s, %s, link-type EN10MB (Ethernet), XDP %s mode, AF_XDP %s mode, "
		"buffer %u frames per queue\n", dev, qs, xdp_mode, zerocopy ? "zero-copy" : "copy", frames);
}

/* ------------------------------------------------------------------------ */

int loader_tcpdump(const struct loader_opts *o)
{
	/* Declared first so that it is restored last, after the detach. */
	cleanup_signals struct signals sigs = { .installed = false };
	cleanup_xsk_set struct xh_xsk_set *set = NULL;
	cleanup_skel struct xdp_capture *skel = NULL;
	cleanup_pcap struct xh_pcap *pcap = NULL;
	cleanup_free uint32_t *queues = NULL;
	struct capture c = { 0 };
	const char *dev = o->device;
	int ifindex, nq = 0, err;

	ifindex = (int)if_nametoindex(dev);
	if (!ifindex) {
		fprintf(stderr, "xdp_loader: %s: no such device\n", dev);
		return EXIT_FAIL;
	}
	signals_install(&sigs);
	/* Open the output first: a typo in the path should not touch the device. */
	if (o->write) {
		err = xh_pcap_open(o->write, &pcap);
		if (err) {
			fprintf(stderr, "xdp_loader: %s: open %s: %s\n", dev, o->write, xh_strerror(err));
			return EXIT_FAIL;
		}
	}
	/* Checked again by the kernel at attach; asking first spares the
	 * sockets (and a wait for a busy queue) when the answer is no. */
	err = xdp_holder_err(ifindex, 0);
	if (err)
		return fail(dev, "attach capture program", err);
	skel = xdp_capture__open_and_load();
	if (!skel)
		return fail(dev, "load capture program", -errno);
	err = choose_queues(o, bpf_map__max_entries(skel->maps.xdphook_xsks), &queues, &nq);
	if (err) {
		fprintf(stderr, "xdp_loader: %s: %s\n", dev, xh_strerror(err));
		return EXIT_FAIL;
	}
	err = xh_xsk_set_create(dev, queues, nq, &set);
	if (err)
		return fail(dev, "create AF_XDP sockets", err);
	for (int i = 0; i < nq; i++) {
		uint32_t q = xh_xsk_set_queue(set, i);
		int fd = xh_xsk_set_fd(set, i);

		if (bpf_map__update_elem(skel->maps.xdphook_xsks, &q, sizeof(q), &fd, sizeof(fd), 0))
			return fail(dev, "insert socket into XSKMAP", -errno);
	}

	/* The sockets are in the map before the program runs: nothing of a
	 * captured queue slips through to the kernel once it is attached.
	 * An unpinned link in the skeleton: destroying the skeleton, or the
	 * process dying, detaches it. No flags: native where the driver
	 * supports XDP, generic otherwise. */
	skel->links.xdphook_capture = bpf_program__attach_xdp(skel->progs.xdphook_capture, ifindex);
	if (!skel->links.xdphook_capture) {
		err = -errno;
		if (err == -EBUSY || err == -EEXIST)
			err = xdp_holder_err(ifindex, err);
		return fail(dev, "attach capture program", err);
	}

	warn_mtu(dev);
	print_listening(dev, queues, nq, attached_mode(ifindex, bpf_program__fd(skel->progs.xdphook_capture)),
			xh_xsk_set_zerocopy(set), xh_xsk_set_frames(set));
	c.pcap = pcap;

	err = capture_loop(set, &c, o);
	if (err)
		return fail(dev, o->write ? "write capture" : "capture", err);

	print_stats(set, skel, &c);
	err = xh_pcap_close(steal_pointer(&pcap));
	if (err) {
		fprintf(stderr, "xdp_loader: %s: write %s: %s\n", dev, o->write, xh_strerror(err));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
