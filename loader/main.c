/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xdp_loader: a thin command line over lib/ (attach, redirect, detach,
 * status) and loader/tcpdump.c. */
#include "loader.h"
#include "netlink.h"
#include "util.h"

#include <jansson.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "xdp_drop.skel.h"
#include "xdp_pass.skel.h"
#include "xdp_redirect.skel.h"

#define fail(dev, what, err) \
	(fprintf(stderr, "xdp_loader: %s: %s: %s\n", (dev), (what), xh_strerror(err)), EXIT_FAIL)

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's own warnings are noise next to our one-line errors, but
	 * keep them for debugging with XDPHOOK_DEBUG=1. */
	if (level == LIBBPF_DEBUG || !getenv("XDPHOOK_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int silent_print_xdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBXDP_DEBUG || !getenv("XDPHOOK_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int cmd_attach(const struct loader_opts *o)
{
	struct xh_attach_req req = {
		.ifname = o->device,
		.mode = o->mode,
		.program = o->program,
		.owner = "xdp_loader",
	};
	char what[64];
	int err;

	snprintf(what, sizeof(what), "attach %s", o->program);
	err = xh_link_index(o->device, &req.ifindex);
	if (err)
		return fail(o->device, what, err);

	if (!strcmp(o->program, "pass")) {
		struct xdp_pass *skel = xdp_pass__open();

		if (!skel)
			return fail(o->device, "open pass program", -errno);
		req.obj = skel->obj;
		req.prog_name = "xdphook_pass";
		err = xh_attach(&req);
		xdp_pass__destroy(skel);
	} else {
		struct xdp_drop *skel = xdp_drop__open();

		if (!skel)
			return fail(o->device, "open drop program", -errno);
		req.obj = skel->obj;
		req.prog_name = "xdphook_drop";
		err = xh_attach(&req);
		xdp_drop__destroy(skel);
	}
	if (err)
		return fail(o->device, what, err);
	return EXIT_OK;
}

static int fill_devmap(struct bpf_object *obj, void *ctx)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "xdphook_tx");
	uint32_t key = 0, ifindex = *(int *)ctx;

	if (!map)
		return xh_err(-ENOENT, "devmap xdphook_tx missing");
	if (bpf_map_update_elem(bpf_map__fd(map), &key, &ifindex, BPF_ANY))
		return xh_err(-errno, "add target to devmap: %s", strerror(errno));
	return 0;
}

static int cmd_redirect(const struct loader_opts *o)
{
	struct xh_attach_req req = {
		.ifname = o->redirect_from,
		.mode = o->mode,
		.program = "redirect",
		.owner = "xdp_loader",
		.prog_name = "xdphook_redir",
		.target = o->redirect_to,
		.setup = fill_devmap,
		.setup_ctx = &req.target_ifindex,
	};
	struct xdp_redirect *skel;
	int err;

	err = xh_link_index(o->redirect_from, &req.ifindex);
	if (err)
		return fail(o->redirect_from, "redirect", err);
	err = xh_link_index(o->redirect_to, &req.target_ifindex);
	if (err)
		return fail(o->redirect_to, "redirect target", err);
	if (req.ifindex == req.target_ifindex)
		return fail(o->redirect_from, "redirect", xh_err(-EINVAL, "source and target are the same device"));
	err = xh_link_check_xdp_xmit(req.target_ifindex);
	if (err)
		return fail(o->redirect_to, "redirect target", err);

	skel = xdp_redirect__open();
	if (!skel)
		return fail(o->redirect_from, "open redirect program", -errno);
	req.obj = skel->obj;
	err = xh_attach(&req);
	xdp_redirect__destroy(skel);
	if (err)
		return fail(o->redirect_from, "attach redirect", err);
	return EXIT_OK;
}

static int cmd_detach(const struct loader_opts *o)
{
	int ifindex, err;

	err = xh_link_index(o->device, &ifindex);
	if (!err)
		err = xh_detach(ifindex);
	if (err)
		return fail(o->device, "detach", err);
	return EXIT_OK;
}

static const char *const verdict_names[XDPHOOK_VERDICTS] = { "aborted", "drop", "pass", "tx", "redirect" };

static const char *status_state(const struct xh_status *st)
{
	if (!st->prog_alive)
		return "gone";
	if (st->shared)
		return "shared"; /* runs on the devices listed with its id */
	if (!st->this_netns)
		return "loaded"; /* another netns: cannot query its devices from here */
	return st->attached ? "attached" : "detached";
}

static int print_row(const struct xh_status *st, void *ctx)
{
	const struct xdphook_meta *m = &st->meta;
	char netns[24], prog[48];

	(void)ctx;
	snprintf(netns, sizeof(netns), "%s", st->this_netns ? "this" : "");
	if (!st->this_netns)
		snprintf(netns, sizeof(netns), "%llu", (unsigned long long)m->netns_cookie);
	if (m->target[0])
		snprintf(prog, sizeof(prog), "%s>%s", m->program, m->target);
	else
		snprintf(prog, sizeof(prog), "%s", m->program);
	printf("%-15s %7u %-8s %-6s %-20s %-12s %7u %-8s", m->ifname, m->ifindex, netns,
	       st->shared ? "-" : xh_xdp_flags_name(m->xdp_flags), prog, m->owner, m->prog_id,
	       status_state(st));
	for (int v = 0; v < XDPHOOK_VERDICTS; v++)
		printf(" %10llu", (unsigned long long)st->verdict[v].packets);
	printf("\n");
	return 0;
}

static int add_json(const struct xh_status *st, void *ctx)
{
	const struct xdphook_meta *m = &st->meta;
	json_t *counters = json_object();
	json_t *o;

	for (int v = 0; v < XDPHOOK_VERDICTS; v++)
		json_object_set_new(counters, verdict_names[v],
				    json_pack("{s:I,s:I}", "packets", (json_int_t)st->verdict[v].packets,
					      "bytes", (json_int_t)st->verdict[v].bytes));
	o = json_pack("{s:s,s:i,s:I,s:b,s:s,s:s,s:s,s:i,s:s,s:s,s:o}", "device", m->ifname,
		      "ifindex", (int)m->ifindex, "netns_cookie", (json_int_t)m->netns_cookie,
		      "this_netns", st->this_netns, "mode", st->shared ? "-" : xh_xdp_flags_name(m->xdp_flags),
		      "program", m->program, "owner", m->owner, "prog_id", (int)m->prog_id, "state",
		      status_state(st), "pin_dir", st->pin_dir, "counters", counters);
	if (!o)
		return -ENOMEM;
	if (m->target[0])
		json_object_set_new(o, "target", json_string(m->target));
	return json_array_append_new(ctx, o) ? -ENOMEM : 0;
}

static int cmd_status(const struct loader_opts *o)
{
	int err;

	if (o->json) {
		json_t *arr = json_array();

		err = xh_status_walk(add_json, arr);
		if (!err) {
			json_dumpf(arr, stdout, JSON_INDENT(2));
			putchar('\n');
		}
		json_decref(arr);
	} else {
		printf("%-15s %7s %-8s %-6s %-20s %-12s %7s %-8s", "device", "ifindex", "netns", "mode",
		       "program", "owner", "prog_id", "state");
		for (int v = 0; v < XDPHOOK_VERDICTS; v++)
			printf(" %10s", verdict_names[v]);
		printf("\n");
		err = xh_status_walk(print_row, NULL);
	}
	if (err)
		return fail(XH_PIN_BASE, "status", err);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct loader_opts o;
	int err;

	err = loader_parse_opts(argc, argv, &o, stderr);
	if (err)
		return err;
	if (o.cmd == LOADER_HELP) {
		loader_usage(stdout);
		return EXIT_OK;
	}
	libbpf_set_print(silent_print);
	libxdp_set_print(silent_print_xdp);
	err = xh_kernel_check();
	if (err) {
		fprintf(stderr, "xdp_loader: %s\n", xh_strerror(err));
		return EXIT_FAIL;
	}

	switch (o.cmd) {
	case LOADER_ATTACH:
		return cmd_attach(&o);
	case LOADER_TCPDUMP:
		return loader_tcpdump(&o);
	case LOADER_REDIRECT:
		return cmd_redirect(&o);
	case LOADER_DETACH:
		return cmd_detach(&o);
	case LOADER_STATUS:
		return cmd_status(&o);
	default:
		return EXIT_USAGE;
	}
}
