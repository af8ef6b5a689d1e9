/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp_hook: the OCI hook. Thin: read the state on stdin, decide the phase,
 * hand over to hook_setup()/hook_teardown(); or `list`, `gc`.
 */
#include "hook.h"
#include "fault.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

static int quiet_bpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || !getenv("XDPHOOK_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int quiet_xdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBXDP_DEBUG || !getenv("XDPHOOK_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void usage(FILE *out)
{
	fputs("usage:\n"
	      "  xdp_hook [createRuntime|prestart|poststop] < state.json   (run by the OCI runtime)\n"
	      "  xdp_hook list [-json]\n"
	      "  xdp_hook gc [-n]\n"
	      "Without a stage argument the phase comes from the state's status.\n",
	      out);
}

/* Rootless runtimes run hooks as a mapped uid 0 inside a user namespace,
 * where XDP, bpffs and veths into other namespaces are out of reach. */
static bool rootless(void)
{
	unsigned long inner, outer, count;
	cleanup_fclose FILE *f = NULL;

	if (geteuid() != 0)
		return true;
	f = fopen("/proc/self/uid_map", "re");
	if (!f || fscanf(f, "%lu %lu %lu", &inner, &outer, &count) != 3)
		return false;
	return !(inner == 0 && outer == 0 && count == 4294967295ul);
}

static int run_oci(const char *stage)
{
	struct hook h = HOOK_INIT;
	cleanup_oci_state struct xh_oci_state *oci = NULL;
	cleanup_free char *buf = NULL;
	enum xh_phase phase;
	size_t len;
	int err;

	h.step = "read state";
	if (rootless()) {
		h.step = "refused";
		return hook_fail(&h, xh_err(-EPERM, "rootless invocation: xdp_hook needs real root "
						    "(CAP_NET_ADMIN and CAP_BPF in the initial user namespace)"));
	}
	err = xh_read_all(STDIN_FILENO, XH_OCI_STATE_MAX, &buf, &len);
	if (!err)
		err = xh_oci_state_parse(buf, len, &oci);
	if (err)
		return hook_fail(&h, err);
	h.id = oci->id;
	h.step = "state";
	err = xh_oci_phase(stage, oci->status, &phase);
	if (!err)
		err = xh_oci_state_check(oci, phase);
	if (err)
		return hook_fail(&h, err);

	if (phase == XH_PHASE_TEARDOWN) {
		h.step = "teardown";
		err = xh_state_load(oci->id, &h.st);
		if (err == -ENOENT)
			return 0; /* not ours: disabled, not a sandbox, or already torn down */
		if (err)
			return hook_fail(&h, err);
		h.report = true;
		h.reap = true; /* the runtime waits for us: the veth's deletion need not */
		err = hook_teardown(&h);
		if (err)
			hook_fail(&h, err);
		/* Our own work is done: now the leftovers of others. */
		hook_gc_side(oci->id);
		return err ? 1 : 0;
	}

	/* Kubernetes: the other containers of a pod share the sandbox's netns. */
	if (!xh_oci_is_sandbox(oci))
		return 0;
	h.step = "config";
	err = xh_config_load_file(xh_config_path(), &h.cfg);
	if (!err)
		err = xh_config_apply_annotations(&h.cfg, oci->annotations, oci->n_annotations,
						  xh_config_path());
	if (err)
		return hook_fail(&h, err);
	if (!h.cfg.enable)
		return 0;
	err = hook_setup(&h, oci);
	/* Our own work is done (or undone): now the leftovers of others. */
	hook_gc_side(oci->id);
	return err;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	libbpf_set_print(quiet_bpf);
	libxdp_set_print(quiet_xdp);

	if (xh_fault_list())
		return 0;

	if (cmd && (!strcmp(cmd, "-h") || !strcmp(cmd, "-help") || !strcmp(cmd, "--help"))) {
		usage(stdout);
		return 0;
	}
	if (cmd && !strcmp(cmd, "list")) {
		bool json = argc == 3 && (!strcmp(argv[2], "-json") || !strcmp(argv[2], "--json"));

		if (argc > 3 || (argc == 3 && !json)) {
			usage(stderr);
			return 2;
		}
		return hook_list(json);
	}
	if (cmd && !strcmp(cmd, "gc")) {
		bool dry = argc == 3 && !strcmp(argv[2], "-n");

		if (argc > 3 || (argc == 3 && !dry)) {
			usage(stderr);
			return 2;
		}
		return hook_gc(dry);
	}
	if (argc > 2) {
		usage(stderr);
		return 2;
	}
	return run_oci(cmd);
}
