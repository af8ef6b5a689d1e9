/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The runtime wrapper's logic, kept out of its main so it is unit-tested:
 * command-line scanning and the spec rewrite (see oci_runtime.h).
 */
#include "oci_runtime.h"
#include "config.h"
#include "oci.h"
#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

/* Global options that take a value in the next word (unless written
 * --opt=value): runc's, crun's and the ones runsc users pass most. Every
 * other option is taken for a flag. */
static const char *const global_valued[] = {
	"root", "log", "log-format", "log-level", "criu", "rootless", "cgroup-manager",
	"debug-log", "debug-log-format", "panic-log", "platform", "network", "overlay2",
	"file-access", "file-access-mounts", "watchdog-action", "strace-syscalls",
};

/* Options of create/run that take a value (runc, crun, runsc). */
static const char *const cmd_valued[] = {
	"console-socket", "pid-file", "preserve-fds", "user-log",
};

/* "--name", "-name", "--name=v" -> "name" (and *value for the = form). */
static const char *opt_name(const char *arg, char *buf, size_t size, const char **value)
{
	const char *s = arg + (arg[1] == '-' ? 2 : 1), *eq = strchr(s, '=');
	size_t n = eq ? (size_t)(eq - s) : strlen(s);

	*value = eq ? eq + 1 : NULL;
	if (n >= size)
		n = size - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

static bool listed(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, list[i]))
			return true;
	return false;
}

int xh_runtime_cmd_parse(int argc, char **argv, struct xh_runtime_cmd *out)
{
	char name[64];
	const char *value;
	int i;

	*out = (struct xh_runtime_cmd){ .cmd = 0, .bundle = "." };
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-' || !a[1])
			break;
		opt_name(a, name, sizeof(name), &value);
		if (value || !listed(name, global_valued, ARRAY_SIZE(global_valued)))
			continue;
		if (++i == argc)
			return xh_err(-EINVAL, "option %s needs a value", a);
	}
	if (i >= argc)
		return 0;
	out->cmd = i;
	if (strcmp(argv[i], "create") && strcmp(argv[i], "run"))
		return 0;
	for (i++; i < argc; i++) {
		const char *a = argv[i];
		bool bundle;

		if (a[0] != '-' || !a[1])
			continue;
		if (!strcmp(a, "--"))
			break;
		opt_name(a, name, sizeof(name), &value);
		bundle = !strcmp(name, "bundle") || !strcmp(name, "b");
		if (value) {
			if (bundle)
				out->bundle = value;
			continue;
		}
		if (!bundle && !listed(name, cmd_valued, ARRAY_SIZE(cmd_valued)))
			continue;
		if (++i == argc)
			return xh_err(-EINVAL, "option %s of %s needs a value", a, argv[out->cmd]);
		if (bundle)
			out->bundle = argv[i];
	}
	if (!*out->bundle)
		return xh_err(-EINVAL, "empty --bundle");
	return 0;
}

bool xh_runtime_cmd_creates(int argc, char **argv, const struct xh_runtime_cmd *c)
{
	return c->cmd > 0 && c->cmd < argc &&
	       (!strcmp(argv[c->cmd], "create") || !strcmp(argv[c->cmd], "run"));
}

static const char *const stages[] = { "createRuntime", "poststop" };

/* Does the stage array hold an entry for this hook path already? */
static int stage_has(json_t *arr, const char *stage, const char *hook, bool *has)
{
	size_t i;
	json_t *e;

	*has = false;
	json_array_foreach(arr, i, e) {
		json_t *path = json_object_get(e, "path");

		if (!json_is_object(e) || !json_is_string(path))
			return xh_err(-EINVAL, "hooks.%s[%zu]: must be an object with a string \"path\"",
				      stage, i);
		*has |= !strcmp(json_string_value(path), hook);
	}
	return 0;
}

int xh_spec_add_hooks(json_t *spec, const char *hook, const char *config)
{
	json_t *hooks = json_object_get(spec, "hooks"), *arr[2];
	bool has[2];
	int err;

	if (!json_is_object(spec))
		return xh_err(-EINVAL, "spec: must be a JSON object");
	if (hooks && !json_is_object(hooks) && !json_is_null(hooks))
		return xh_err(-EINVAL, "\"hooks\": must be an object, got %s", xh_json_type_name(hooks));
	if (!hook || hook[0] != '/')
		return xh_err(-EINVAL, "hook path \"%s\": must be absolute", hook ? hook : "");
	/* Check everything first: on error nothing is changed. */
	for (int s = 0; s < 2; s++) {
		arr[s] = json_is_object(hooks) ? json_object_get(hooks, stages[s]) : NULL;
		if (json_is_null(arr[s]))
			arr[s] = NULL;
		if (arr[s] && !json_is_array(arr[s]))
			return xh_err(-EINVAL, "\"hooks.%s\": must be an array, got %s", stages[s],
				      xh_json_type_name(arr[s]));
		has[s] = false;
		if (arr[s] && (err = stage_has(arr[s], stages[s], hook, &has[s])))
			return err;
	}
	if (has[0] && has[1])
		return 0;

	/* Shallow copies of "hooks" and the stages, linked in at the end: a
	 * failure leaves the original whole. */
	json_auto_t *copy = json_is_object(hooks) ? json_copy(hooks) : json_object();
	if (!copy)
		return -ENOMEM;
	for (int s = 0; s < 2; s++) {
		json_auto_t *a = NULL;

		if (has[s])
			continue;
		json_auto_t *e = json_pack("{s:s,s:[s,s],s:i}", "path", hook, "args", "xdp_hook",
					   stages[s], "timeout", 30);
		a = arr[s] ? json_copy(arr[s]) : json_array();
		if (!e || !a)
			return -ENOMEM;
		/* Hooks get only the env their entry names. */
		if (config && json_object_set_new(e, "env", json_pack("[s+]", XH_CONFIG_ENV "=", config)))
			return -ENOMEM;
		if (json_array_append(a, e) || json_object_set(copy, stages[s], a))
			return -ENOMEM;
	}
	if (json_object_set(spec, "hooks", copy))
		return -ENOMEM;
	return 1;
}

/* Specs carry long env and mount lists: a larger bound than the hook's. */
#define SPEC_MAX (16u << 20)

int xh_spec_file_add_hooks(const char *bundle, const char *hook, const char *config)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	cleanup_close int fd = -1, out = -1;
	cleanup_free char *buf = NULL, *text = NULL;
	json_auto_t *spec = NULL;
	json_error_t jerr;
	struct stat st;
	size_t len;
	int err;

	if (xh_snprintf(path, sizeof(path), "%s/config.json", bundle) < 0 ||
	    xh_snprintf(tmp, sizeof(tmp), "%s/.config.json.xdphook", bundle) < 0)
		return xh_err(-ENAMETOOLONG, "%s/config.json: path too long", bundle);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return xh_err(-errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st))
		return xh_err(-errno, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return xh_err(-EINVAL, "%s: not a regular file", path);
	err = xh_read_all(fd, SPEC_MAX, &buf, &len);
	if (err == -E2BIG)
		return xh_err(err, "%s: larger than %u bytes", path, SPEC_MAX);
	if (err)
		return xh_err(err, "%s: %s", path, strerror(-err));
	spec = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!spec)
		return xh_err(-EINVAL, "%s: invalid JSON at line %d column %d: %s", path, jerr.line,
			      jerr.column, jerr.text);
	err = xh_spec_add_hooks(spec, hook, config);
	if (err < 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", xh_strerror(err)); /* xh_err reuses its buffer */
		return xh_err(err, "%s: %s", path, why);
	}
	if (err == 0)
		return 0;
	text = json_dumps(spec, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, st.st_mode & 07777);
	if (out < 0)
		return xh_err(-errno, "%s: %s", tmp, strerror(errno));
	len = strlen(text);
	for (size_t off = 0; off < len;) {
		ssize_t n = write(out, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			unlink(tmp);
			return xh_err(err, "%s: %s", tmp, strerror(-err));
		}
		off += n;
	}
	/* fchown keeps the owner a rootless caller's bundle had. */
	if ((fchown(out, st.st_uid, st.st_gid) && errno != EPERM) || fsync(out) ||
	    rename(tmp, path)) {
		err = -errno;
		unlink(tmp);
		return xh_err(err, "%s: %s", path, strerror(-err));
	}
	return 1;
}
