// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Helpers for the hook programs' packet-level tests; see hook_test.h. */
#define _GNU_SOURCE
#include "hook_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

void tally_add(struct tally *t, uint32_t verdict, size_t len)
{
	assert_true(verdict < XDPHOOK_VERDICTS);
	t->by_verdict[verdict].packets++;
	t->by_verdict[verdict].bytes += len;
}

void tally_expect(const struct bpf_map *stats, const struct tally *t)
{
	struct xdphook_counter got[XDPHOOK_VERDICTS];
	int v;

	stats_read(stats, got);
	for (v = 0; v < XDPHOOK_VERDICTS; v++) {
		if (got[v].packets != t->by_verdict[v].packets ||
		    got[v].bytes != t->by_verdict[v].bytes)
			fail_msg("verdict %d: counted %llu packets / %llu bytes, ran %llu / %llu",
				 v, (unsigned long long)got[v].packets,
				 (unsigned long long)got[v].bytes,
				 (unsigned long long)t->by_verdict[v].packets,
				 (unsigned long long)t->by_verdict[v].bytes);
	}
}

void tally_expect_dev(const struct bpf_map *map, size_t value_size, uint32_t ifindex, const struct tally *t)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t stride = (value_size + 7) & ~(size_t)7; /* per-CPU values are 8-byte aligned */
	struct xdphook_counter got[XDPHOOK_VERDICTS] = { 0 };
	uint8_t *percpu;
	int cpu, v;

	assert_true(ncpu > 0);
	assert_true(value_size >= sizeof(struct xdphook_ifcounters));
	percpu = calloc((size_t)ncpu, stride);
	assert_non_null(percpu);
	if (bpf_map__lookup_elem(map, &ifindex, sizeof(ifindex), percpu, stride * ncpu, 0) == 0) {
		for (cpu = 0; cpu < ncpu; cpu++) {
			struct xdphook_ifcounters c;

			memcpy(&c, percpu + cpu * stride, sizeof(c));
			for (v = 0; v < XDPHOOK_VERDICTS; v++) {
				got[v].packets += c.verdict[v].packets;
				got[v].bytes += c.verdict[v].bytes;
			}
		}
	}
	free(percpu);
	for (v = 0; v < XDPHOOK_VERDICTS; v++) {
		if (got[v].packets != t->by_verdict[v].packets || got[v].bytes != t->by_verdict[v].bytes)
			fail_msg("device %u, verdict %d: counted %llu packets / %llu bytes, ran %llu / %llu",
				 ifindex, v, (unsigned long long)got[v].packets,
				 (unsigned long long)got[v].bytes,
				 (unsigned long long)t->by_verdict[v].packets,
				 (unsigned long long)t->by_verdict[v].bytes);
	}
}

static void dump(const char *label, const uint8_t *p, size_t len, const uint8_t *other,
		 size_t other_len)
{
	size_t i;

	print_message("%s (%zu bytes):", label, len);
	for (i = 0; i < len; i++) {
		int differs = i >= other_len || p[i] != other[i];

		if (i % 16 == 0)
			print_message("\n  %04zx ", i);
		print_message(differs ? "[%02x]" : " %02x ", p[i]);
	}
	print_message("\n");
}

void frame_expect_bytes(const uint8_t *got, size_t got_len, const struct frame *want,
			const char *what)
{
	if (got_len == want->len && memcmp(got, want->data, got_len) == 0)
		return;
	dump("got", got, got_len, want->data, want->len);
	dump("want", want->data, want->len, got, got_len);
	fail_msg("%s: output frame differs (bytes in [] differ)", what);
}

void xdp_check(int prog_fd, const struct frame *in, const struct xdp_md *ctx,
	       uint32_t verdict, const struct frame *want, struct tally *t,
	       const char *what)
{
	uint8_t out[FRAME_MAX + 256];
	struct xdp_md md;
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = in->data,
		.data_size_in = (__u32)in->len,
		.data_out = out,
		.data_size_out = sizeof(out),
		.repeat = 1,
	);

	if (ctx) {
		md = *ctx;
		md.data = 0;
		md.data_meta = 0;
		md.data_end = (__u32)in->len;
		opts.ctx_in = &md;
		opts.ctx_size_in = sizeof(md);
	}
	if (bpf_prog_test_run_opts(prog_fd, &opts))
		fail_msg("%s: BPF_PROG_TEST_RUN: %s", what, strerror(errno));
	if (opts.retval != verdict)
		fail_msg("%s: verdict %u, want %u", what, opts.retval, verdict);
	frame_expect_bytes(out, opts.data_size_out, want ? want : in, what);
	if (t)
		tally_add(t, verdict, in->len);
}

void tc_check(int prog_fd, const struct frame *in, const struct __sk_buff *ctx,
	      uint32_t verdict, const struct frame *want, const char *what)
{
	uint8_t out[FRAME_MAX + 256];
	struct __sk_buff skb;
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = in->data,
		.data_size_in = (__u32)in->len,
		.data_out = out,
		.data_size_out = sizeof(out),
		.repeat = 1,
	);

	if (ctx) {
		skb = *ctx;
		opts.ctx_in = &skb;
		opts.ctx_size_in = sizeof(skb);
	}
	if (bpf_prog_test_run_opts(prog_fd, &opts))
		fail_msg("%s: BPF_PROG_TEST_RUN: %s", what, strerror(errno));
	if (opts.retval != verdict)
		fail_msg("%s: verdict %u, want %u", what, opts.retval, verdict);
	frame_expect_bytes(out, opts.data_size_out, want ? want : in, what);
}

/* --- private network namespace ---------------------------------------------------- */

int netns_enter(void)
{
	int saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	if (saved < 0) {
		print_error("open /proc/self/ns/net: %s\n", strerror(errno));
		return -1;
	}
	if (unshare(CLONE_NEWNET)) {
		print_error("unshare(CLONE_NEWNET): %s\n", strerror(errno));
		close(saved);
		return -1;
	}
	if (sh("ip link set lo up")) {
		netns_leave(saved);
		return -1;
	}
	return saved;
}

void netns_leave(int saved)
{
	if (saved < 0)
		return;
	/* Cannot fail for a namespace we came from; if it did, every later
	 * test would run in the wrong place: stop here. */
	if (setns(saved, CLONE_NEWNET)) {
		print_error("setns back to the original netns: %s\n", strerror(errno));
		abort();
	}
	close(saved);
}

int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	/* Keep the test output readable: only failures speak. */
	strncat(cmd, " >/dev/null", sizeof(cmd) - strlen(cmd) - 1);
	rc = system(cmd);
	if (rc != 0) {
		print_error("command failed (%d): %s\n", rc, cmd);
		return -1;
	}
	return 0;
}

void write_file(const char *path, const char *value)
{
	FILE *f = fopen(path, "w");

	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	if (fputs(value, f) < 0 || fclose(f) != 0)
		fail_msg("%s: write: %s", path, strerror(errno));
}

unsigned int ifindex(const char *name)
{
	unsigned int i = if_nametoindex(name);

	if (!i)
		fail_msg("no device %s: %s", name, strerror(errno));
	return i;
}

uint64_t link_tx_packets(unsigned int ifi)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *link = NULL;
	uint64_t n;
	int err;

	assert_non_null(sk);
	err = nl_connect(sk, NETLINK_ROUTE);
	if (!err)
		err = rtnl_link_get_kernel(sk, (int)ifi, NULL, &link);
	if (err) {
		nl_socket_free(sk);
		fail_msg("link %u: %s", ifi, nl_geterror(err));
	}
	n = rtnl_link_get_stat(link, RTNL_LINK_TX_PACKETS);
	rtnl_link_put(link);
	nl_socket_free(sk);
	return n;
}

void mac_parse(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		fail_msg("bad MAC %s", s);
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
}

uint32_t ip4(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		fail_msg("bad IPv4 address %s", s);
	return a.s_addr;
}

struct in6_addr ip6(const char *s)
{
	struct in6_addr a;

	if (inet_pton(AF_INET6, s, &a) != 1)
		fail_msg("bad IPv6 address %s", s);
	return a;
}

/* --- frames for the hook tests ------------------------------------------------------ */

static void flow_headers(struct frame *f, const struct flow *fl)
{
	uint8_t proto = fl->proto ? fl->proto : IPPROTO_TCP;

	if (fl->v6) {
		struct ip6_spec s = { .saddr = fl->saddr6, .daddr = fl->daddr6,
				      .hop_limit = fl->ttl };

		if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
			s.nexthdr = proto;
		frame_ipv6(f, &s);
	} else {
		struct ip4_spec s = { .saddr = fl->saddr4, .daddr = fl->daddr4,
				      .ttl = fl->ttl, .opt_len = fl->ip_opts, .id = 0x4242 };

		if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
			s.proto = proto;
		frame_ipv4(f, &s);
	}
	if (proto == IPPROTO_TCP)
		frame_tcp(f, &(struct tcp_spec){ .sport = fl->sport, .dport = fl->dport,
						 .seq = fl->seq });
	else if (proto == IPPROTO_UDP)
		frame_udp(f, fl->sport, fl->dport);
	if (fl->payload)
		frame_payload(f, fl->payload);
}

void flow_build(struct frame *f, const struct flow *fl)
{
	frame_init(f);
	frame_eth(f, fl->dmac, fl->smac, 0);
	if (fl->vlan)
		frame_vlan(f, 0x8100, fl->vlan);
	flow_headers(f, fl);
	frame_finish(f);
}

void flow_build_bare(struct frame *f, const struct flow *fl, size_t l4_bytes)
{
	const struct frame_layer *ip;

	frame_init(f);
	flow_headers(f, fl);
	frame_finish(f);
	if (l4_bytes) {
		ip = frame_find(f, fl->v6 ? FRAME_IPV6 : FRAME_IPV4, 0);
		assert_non_null(ip);
		assert_true(ip->off + ip->len + l4_bytes <= f->len);
		f->len = ip->off + ip->len + l4_bytes;
	}
}
