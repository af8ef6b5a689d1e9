/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp_runtime: an OCI runtime wrapper for runtimes that have no hooks.d
 * (containerd's CRI: point a runtime handler's BinaryName here). On
 * `create` (and `run`) it adds xdp_hook's createRuntime and poststop hooks
 * to the bundle's config.json, once, then execs the real runtime with the
 * same arguments; every other command is passed through untouched.
 *
 *   xdp_runtime [--xdphook-runtime=runc|crun|runsc|/PATH] [--xdphook-hook=/PATH]
 *               RUNTIME-ARGS...
 *
 * The real runtime: --xdphook-runtime, else the node config's "runtime"
 * key, else runc. The hook: --xdphook-hook, else xdp_hook next to this
 * binary. Both options must come first (a shim passes the runtime's own
 * options only). XDPHOOK_CONFIG, when set, is handed on to the hook in
 * its entries' env (a hook sees no other environment).
 */
#include "config.h"
#include "oci.h"
#include "oci_runtime.h"
#include "util.h"

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <string.h>

#include <jansson.h>

#define OPT_RUNTIME "--xdphook-runtime="
#define OPT_HOOK "--xdphook-hook="

static int die(const char *what, int err)
{
	fprintf(stderr, "xdp_runtime: %s: %s\n", what, xh_strerror(err));
	return 1;
}

/* The node config's "runtime" (the hook validates the rest of the file). */
static int node_runtime(const char **out)
{
	const char *path = xh_config_path();
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	cleanup_free char *buf = NULL;
	static char name[PATH_MAX];
	json_auto_t *root = NULL;
	json_t *v;
	size_t len;
	int err;

	if (fd < 0)
		return errno == ENOENT ? 0 : xh_err(-errno, "%s: %s", path, strerror(errno));
	err = xh_read_all(fd, XH_OCI_STATE_MAX, &buf, &len);
	if (err)
		return xh_err(err, "%s: %s", path, strerror(-err));
	err = xh_json_load(buf, len, path, &root);
	if (err)
		return err;
	v = json_object_get(root, "runtime");
	if (!v)
		return 0;
	if (!json_is_string(v) || xh_snprintf(name, sizeof(name), "%s", json_string_value(v)) < 0)
		return xh_err(-EINVAL, "%s: runtime: must be a string (runc, crun, runsc or an absolute path)",
			      path);
	*out = name;
	return 0;
}

static int check_runtime(const char *rt)
{
	char self[PATH_MAX], real[PATH_MAX];

	if (!strcmp(rt, "runc") || !strcmp(rt, "crun") || !strcmp(rt, "runsc"))
		return 0;
	if (rt[0] != '/')
		return xh_err(-EINVAL, "runtime \"%s\": must be runc, crun, runsc or an absolute path", rt);
	/* Pointing the wrapper at itself would exec forever. */
	if (realpath("/proc/self/exe", self) && realpath(rt, real) && !strcmp(self, real))
		return xh_err(-ELOOP, "runtime %s: is xdp_runtime itself", rt);
	return 0;
}

static int default_hook(char *buf, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n < 0)
		return xh_err(-errno, "/proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	return xh_snprintf(buf, size, "%s/xdp_hook", dirname(self)) < 0 ? -ENAMETOOLONG : 0;
}

int main(int argc, char **argv)
{
	const char *rt = NULL, *hook = NULL;
	char hook_buf[PATH_MAX], what[PATH_MAX + 32];
	struct xh_runtime_cmd cmd;
	int first = 1, err;

	for (; first < argc; first++) {
		if (!strncmp(argv[first], OPT_RUNTIME, strlen(OPT_RUNTIME)))
			rt = argv[first] + strlen(OPT_RUNTIME);
		else if (!strncmp(argv[first], OPT_HOOK, strlen(OPT_HOOK)))
			hook = argv[first] + strlen(OPT_HOOK);
		else
			break;
	}
	if (!rt && (err = node_runtime(&rt)))
		return die("node config", err);
	if (!rt)
		rt = "runc";
	if ((err = check_runtime(rt)))
		return die("runtime", err);

	/* argv[first - 1] becomes the real runtime's argv[0]. */
	argv[first - 1] = (char *)rt;
	err = xh_runtime_cmd_parse(argc - first + 1, argv + first - 1, &cmd);
	if (err)
		return die("arguments", err);
	if (xh_runtime_cmd_creates(argc - first + 1, argv + first - 1, &cmd)) {
		if (!hook && (err = default_hook(hook_buf, sizeof(hook_buf))))
			return die("hook", err);
		if (!hook)
			hook = hook_buf;
		if (hook[0] != '/' || access(hook, X_OK)) {
			err = hook[0] != '/' ? -EINVAL : -errno;
			snprintf(what, sizeof(what), "hook %s", hook);
			return die(what, xh_err(err, "%s", hook[0] != '/' ? "must be an absolute path"
									   : strerror(-err)));
		}
		/* The node config the wrapper was given reaches the hook too. */
		const char *config = getenv(XH_CONFIG_ENV);

		err = xh_spec_file_add_hooks(cmd.bundle, hook, config && *config ? config : NULL);
		if (err < 0)
			return die("create", err);
	}
	execvp(rt, argv + first - 1);
	err = -errno;
	snprintf(what, sizeof(what), "exec %s", rt);
	return die(what, err);
}
