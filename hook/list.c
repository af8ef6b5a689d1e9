/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xdp_hook list and gc. */
#include "hook.h"
#include "attach.h"
#include "netlink.h"
#include "util.h"

#include <jansson.h>
#include <string.h>

static const char *const verdicts[XDPHOOK_VERDICTS] = { "aborted", "drop", "pass", "tx", "redirect" };

/* Counters of the program pinned for (cookie, ifindex); zeros if none. */
static void counters(uint64_t cookie, int ifindex, struct xdphook_counter c[XDPHOOK_VERDICTS])
{
	cleanup_close int fd = ifindex ? xh_pin_open(cookie, ifindex, "xdphook_stats") : -1;

	memset(c, 0, sizeof(*c) * XDPHOOK_VERDICTS);
	if (fd >= 0)
		xh_read_counters(fd, c);
}

static json_t *counters_json(uint64_t cookie, int ifindex)
{
	struct xdphook_counter c[XDPHOOK_VERDICTS];
	json_t *o = json_object();

	counters(cookie, ifindex, c);
	for (int v = 0; v < XDPHOOK_VERDICTS; v++)
		json_object_set_new(o, verdicts[v], json_pack("{s:I,s:I}", "packets", (json_int_t)c[v].packets,
							       "bytes", (json_int_t)c[v].bytes));
	return o;
}

static int add_json(const struct xh_state *st, void *ctx)
{
	char mac[18], buf[64];
	json_t *ips = json_array();

	for (size_t i = 0; i < st->n_ips; i++) {
		xh_cidr_format(&st->ips[i], buf, sizeof(buf));
		json_array_append_new(ips, json_string(buf));
	}
	json_array_append_new(
		ctx, json_pack("{s:s,s:s,s:s,s:b,s:i,s:s,s:s,s:i,s:s,s:o,s:{s:o,s:o,s:o}}", "id", st->id, "mode",
			       st->mode == XH_HOST ? "host" : "pod", "status", st->status, "alive",
			       xh_state_alive(st), "pid", st->pid, "nic", st->nic, "veth", st->veth, "mtu",
			       (int)st->mtu, "sandbox_mac", xh_mac_str(st->peer_mac, mac, sizeof(mac)), "ips", ips,
			       "programs", "nic", counters_json(st->host_cookie, st->nic_ifindex), "veth",
			       counters_json(st->host_cookie, st->veth_ifindex), "endpoint",
			       counters_json(st->netns_cookie, st->peer_ifindex)));
	return 0;
}

static int print_row(const struct xh_state *st, void *ctx)
{
	struct xdphook_counter nic[XDPHOOK_VERDICTS], veth[XDPHOOK_VERDICTS], ep[XDPHOOK_VERDICTS];
	char ips[128] = "", buf[64];

	(void)ctx;
	for (size_t i = 0; i < st->n_ips; i++) {
		xh_cidr_format(&st->ips[i], buf, sizeof(buf));
		snprintf(ips + strlen(ips), sizeof(ips) - strlen(ips), "%s%s", i ? "," : "", buf);
	}
	counters(st->host_cookie, st->nic_ifindex, nic);
	counters(st->host_cookie, st->veth_ifindex, veth);
	counters(st->netns_cookie, st->peer_ifindex, ep);
	printf("%-20.20s %-4s %-10s %-5s %-10s %-15s %-24s %10llu %10llu %10llu\n", st->id,
	       st->mode == XH_HOST ? "host" : "pod", st->status, xh_state_alive(st) ? "yes" : "no", st->nic,
	       st->veth, ips, (unsigned long long)nic[XDP_REDIRECT].packets,
	       (unsigned long long)veth[XDP_REDIRECT].packets, (unsigned long long)ep[XDP_REDIRECT].packets);
	return 0;
}

int hook_list(bool json)
{
	int err;

	if (json) {
		json_t *arr = json_array();

		err = xh_state_walk(add_json, arr);
		if (!err) {
			json_dumpf(arr, stdout, JSON_INDENT(2));
			putchar('\n');
		}
		json_decref(arr);
	} else {
		printf("%-20s %-4s %-10s %-5s %-10s %-15s %-24s %10s %10s %10s\n", "id", "mode", "status", "alive",
		       "nic", "veth", "ips", "nic>veth", "veth>nic", "endpoint");
		err = xh_state_walk(print_row, NULL);
	}
	if (err) {
		fprintf(stderr, "xdp_hook: list: %s\n", xh_strerror(err));
		return 1;
	}
	return 0;
}

struct gc_ctx {
	bool dry_run;
	int found;
	int failed;
};

static int gc_one(const struct xh_state *st, void *ctx)
{
	struct gc_ctx *g = ctx;
	struct hook h = { .id = st->id, .st = *st, .netns_fd = -1, .lock_fd = -1 };
	int err;

	if (xh_state_alive(st))
		return 0;
	g->found++;
	printf("%s %s: veth %s, state %s/%s\n", g->dry_run ? "would remove" : "removing", st->id, st->veth,
	       XH_RUN_DIR, st->id);
	if (g->dry_run)
		return 0;
	err = hook_teardown(&h);
	if (err) {
		hook_fail(&h, err);
		g->failed++;
	}
	return 0;
}

int hook_gc(bool dry_run)
{
	struct gc_ctx g = { .dry_run = dry_run };
	int err = xh_state_walk(gc_one, &g);

	if (err) {
		fprintf(stderr, "xdp_hook: gc: %s\n", xh_strerror(err));
		return 1;
	}
	if (!g.found)
		printf("nothing to remove\n");
	return g.failed ? 1 : 0;
}
