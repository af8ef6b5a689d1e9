/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xdp_runtime's logic: command-line scanning and the spec rewrite. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <jansson.h>

#include "oci_runtime.h"
#include "util.h"

#define HOOK "/usr/local/bin/xdp_hook"

static struct xh_runtime_cmd parse_ok(char **argv)
{
	struct xh_runtime_cmd c;
	int argc = 0;

	while (argv[argc])
		argc++;
	assert_int_equal(xh_runtime_cmd_parse(argc, argv, &c), 0);
	return c;
}

static void shim_create(void **state)
{
	/* containerd-shim-runc-v2's call: global options first */
	char *argv[] = { "runc", "--root", "/run/containerd/runc/k8s.io", "--log",
			 "/run/containerd/x/log.json", "--log-format", "json", "--systemd-cgroup",
			 "create", "--bundle", "/run/containerd/b1", "--pid-file", "/p/init.pid",
			 "--console-socket", "/tmp/pty.sock", "c1", NULL };
	struct xh_runtime_cmd c = parse_ok(argv);

	(void)state;
	assert_int_equal(c.cmd, 8);
	assert_string_equal(c.bundle, "/run/containerd/b1");
	assert_true(xh_runtime_cmd_creates(16, argv, &c));
}

static void spellings(void **state)
{
	char *eq[] = { "runc", "--root=/r", "-log", "/l", "run", "-b=/b2", "c", NULL };
	char *short_b[] = { "crun", "--debug", "create", "--pid-file", "--bundle", "-b", "/b3", "c", NULL };
	char *none[] = { "runc", "create", "c", NULL };
	char *ddash[] = { "runc", "--root", "/r", "--", "create", "--bundle", "/b4", "c", NULL };
	struct xh_runtime_cmd c;

	(void)state;
	c = parse_ok(eq);
	assert_int_equal(c.cmd, 4);
	assert_string_equal(c.bundle, "/b2");
	/* "--pid-file" takes "--bundle" as its value: the bundle is -b's */
	c = parse_ok(short_b);
	assert_int_equal(c.cmd, 2);
	assert_string_equal(c.bundle, "/b3");
	c = parse_ok(none);
	assert_string_equal(c.bundle, ".");
	c = parse_ok(ddash);
	assert_int_equal(c.cmd, 4);
	assert_string_equal(c.bundle, "/b4");
}

static void passthrough(void **state)
{
	char *del[] = { "runc", "--root", "/r", "delete", "--force", "c1", NULL };
	char *state_[] = { "runc", "--root", "/r", "state", "create", NULL };
	char *bare[] = { "runc", "--version", NULL };
	struct xh_runtime_cmd c;

	(void)state;
	c = parse_ok(del);
	assert_int_equal(c.cmd, 3);
	assert_false(xh_runtime_cmd_creates(6, del, &c));
	/* a container named "create" is not the create command */
	c = parse_ok(state_);
	assert_false(xh_runtime_cmd_creates(5, state_, &c));
	c = parse_ok(bare);
	assert_int_equal(c.cmd, 0);
	assert_false(xh_runtime_cmd_creates(2, bare, &c));
}

static void missing_values(void **state)
{
	char *g[] = { "runc", "--root", NULL };
	char *b[] = { "runc", "create", "c", "--bundle", NULL };
	char *e[] = { "runc", "create", "--bundle=", "c", NULL };
	struct xh_runtime_cmd c;

	(void)state;
	assert_int_equal(xh_runtime_cmd_parse(2, g, &c), -EINVAL);
	assert_non_null(strstr(xh_strerror(-EINVAL), "--root needs a value"));
	assert_int_equal(xh_runtime_cmd_parse(4, b, &c), -EINVAL);
	assert_non_null(strstr(xh_strerror(-EINVAL), "--bundle of create needs a value"));
	assert_int_equal(xh_runtime_cmd_parse(4, e, &c), -EINVAL);
}

static json_t *load(const char *s)
{
	json_error_t jerr;
	json_t *j = json_loads(s, 0, &jerr);

	assert_non_null(j);
	return j;
}

static void assert_json(json_t *j, const char *want)
{
	json_auto_t *w = load(want);

	if (!json_equal(j, w)) {
		char *got = json_dumps(j, JSON_COMPACT);

		fail_msg("got %s\nwant %s", got, want);
	}
}

static void adds_once(void **state)
{
	json_auto_t *spec = load("{\"ociVersion\":\"1.0.2\",\"process\":{}}");
	const char *want = "{\"ociVersion\":\"1.0.2\",\"process\":{},\"hooks\":{"
			   "\"createRuntime\":[{\"path\":\"" HOOK "\",\"args\":[\"xdp_hook\",\"createRuntime\"],\"timeout\":30}],"
			   "\"poststop\":[{\"path\":\"" HOOK "\",\"args\":[\"xdp_hook\",\"poststop\"],\"timeout\":30}]}}";

	(void)state;
	assert_int_equal(xh_spec_add_hooks(spec, HOOK, NULL), 1);
	assert_json(spec, want);
	/* a second create of the same bundle (a retry) adds nothing */
	assert_int_equal(xh_spec_add_hooks(spec, HOOK, NULL), 0);
	assert_json(spec, want);
}

static void keeps_other_hooks(void **state)
{
	json_auto_t *spec = load("{\"hooks\":{\"prestart\":[{\"path\":\"/a\"}],"
				 "\"createRuntime\":[{\"path\":\"/nvidia\",\"args\":[\"x\"]}],"
				 "\"poststop\":[{\"path\":\"" HOOK "\"}]}}");

	(void)state;
	assert_int_equal(xh_spec_add_hooks(spec, HOOK, NULL), 1);
	/* ours after the others; poststop already had it (once) */
	assert_json(spec, "{\"hooks\":{\"prestart\":[{\"path\":\"/a\"}],"
			  "\"createRuntime\":[{\"path\":\"/nvidia\",\"args\":[\"x\"]},"
			  "{\"path\":\"" HOOK "\",\"args\":[\"xdp_hook\",\"createRuntime\"],\"timeout\":30}],"
			  "\"poststop\":[{\"path\":\"" HOOK "\"}]}}");
	/* null stages and hooks (Go's nil) count as empty */
	json_auto_t *nul = load("{\"hooks\":{\"poststop\":null}}");
	assert_int_equal(xh_spec_add_hooks(nul, HOOK, NULL), 1);
	assert_int_equal(json_array_size(json_object_get(json_object_get(nul, "hooks"), "poststop")), 1);
}

static void passes_config(void **state)
{
	json_auto_t *spec = load("{}");

	(void)state;
	assert_int_equal(xh_spec_add_hooks(spec, HOOK, "/etc/n/c.json"), 1);
	assert_json(spec, "{\"hooks\":{"
			  "\"createRuntime\":[{\"path\":\"" HOOK "\",\"args\":[\"xdp_hook\",\"createRuntime\"],"
			  "\"timeout\":30,\"env\":[\"XDPHOOK_CONFIG=/etc/n/c.json\"]}],"
			  "\"poststop\":[{\"path\":\"" HOOK "\",\"args\":[\"xdp_hook\",\"poststop\"],"
			  "\"timeout\":30,\"env\":[\"XDPHOOK_CONFIG=/etc/n/c.json\"]}]}}");
}

static void refuses_bad_specs(void **state)
{
	static const struct {
		const char *spec, *hook, *want;
	} bad[] = {
		{ "{\"hooks\":[]}", HOOK, "\"hooks\": must be an object, got array" },
		{ "{\"hooks\":{\"poststop\":{}}}", HOOK, "\"hooks.poststop\": must be an array, got object" },
		{ "{\"hooks\":{\"createRuntime\":[{\"path\":1}]}}", HOOK, "hooks.createRuntime[0]: must be an object" },
		{ "{\"hooks\":{\"createRuntime\":[\"x\"]}}", HOOK, "hooks.createRuntime[0]" },
		{ "{}", "xdp_hook", "must be absolute" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		json_auto_t *spec = load(bad[i].spec), *orig = json_deep_copy(spec);
		int err = xh_spec_add_hooks(spec, bad[i].hook, NULL);

		if (err != -EINVAL || !strstr(xh_strerror(err), bad[i].want))
			fail_msg("%s: got %d \"%s\", want \"%s\"", bad[i].spec, err, xh_strerror(err),
				 bad[i].want);
		assert_true(json_equal(spec, orig)); /* unchanged */
	}
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[4096];
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void file_rewrite(void **state)
{
	char dir[] = "/tmp/xh-spec-XXXXXX", path[64], tmp[64];
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	snprintf(tmp, sizeof(tmp), "%s/.config.json.xdphook", dir);

	/* missing file */
	assert_int_equal(xh_spec_file_add_hooks(dir, HOOK, NULL), -ENOENT);
	assert_non_null(strstr(xh_strerror(-ENOENT), "config.json"));

	/* bad JSON and a bad "hooks": untouched, no temporary left */
	assert_int_equal(xh_write_file(path, "{\"hooks\":", 9, 0640), 0);
	assert_int_equal(xh_spec_file_add_hooks(dir, HOOK, NULL), -EINVAL);
	assert_string_equal(read_text(path), "{\"hooks\":");
	assert_int_equal(xh_write_file(path, "{\"hooks\":7}", 11, 0640), 0);
	assert_int_equal(xh_spec_file_add_hooks(dir, HOOK, NULL), -EINVAL);
	assert_non_null(strstr(xh_strerror(-EINVAL), "config.json: \"hooks\": must be an object"));
	assert_string_equal(read_text(path), "{\"hooks\":7}");
	assert_int_equal(access(tmp, F_OK), -1);

	/* good: rewritten with the mode kept, then left alone */
	assert_int_equal(xh_write_file(path, "{\"a\":1}", 7, 0640), 0);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(xh_spec_file_add_hooks(dir, HOOK, NULL), 1);
	assert_non_null(strstr(read_text(path), "\"createRuntime\":[{\"path\":\"" HOOK "\""));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(xh_spec_file_add_hooks(dir, HOOK, NULL), 0);
	assert_int_equal(access(tmp, F_OK), -1);

	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shim_create),     cmocka_unit_test(spellings),
		cmocka_unit_test(passthrough),     cmocka_unit_test(missing_values),
		cmocka_unit_test(adds_once),       cmocka_unit_test(keeps_other_hooks),
		cmocka_unit_test(passes_config),
		cmocka_unit_test(refuses_bad_specs), cmocka_unit_test(file_rewrite),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
