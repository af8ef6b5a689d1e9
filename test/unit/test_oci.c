/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The OCI hook input: state parsing, hostile input, ids, phases. */
#define _GNU_SOURCE /* memfd_create */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "oci.h"
#include "util.h"

static int parse(const char *json, struct xh_oci_state **st)
{
	*st = NULL;
	xh_err_clear();
	return xh_oci_state_parse(json, strlen(json), st);
}

/* Parsing must fail with -EINVAL and a detail containing want. */
static void assert_refused(const char *json, const char *want)
{
	struct xh_oci_state *st = NULL;
	int err = parse(json, &st);

	if (err != -EINVAL || !strstr(xh_strerror(err), want))
		fail_msg("%s: got %d \"%s\", want -EINVAL \"%s\"", json, err, xh_strerror(err), want);
	assert_null(st);
}

static void runc_create_runtime(void **state)
{
	cleanup_oci_state struct xh_oci_state *st = NULL;
	enum xh_phase phase;

	(void)state;
	assert_int_equal(parse("{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"creating\","
			       "\"pid\":4242,\"bundle\":\"/run/containerd/c1\","
			       "\"annotations\":{\"org.example\":\"x\",\"io.xdphook.mode\":\"host\"}}",
			       &st),
			 0);
	assert_string_equal(st->id, "c1");
	assert_string_equal(st->status, "creating");
	assert_int_equal(st->pid, 4242);
	assert_string_equal(st->bundle, "/run/containerd/c1");
	assert_int_equal(st->n_annotations, 2);
	/* document order */
	assert_string_equal(st->annotations[0].key, "org.example");
	assert_string_equal(st->annotations[1].value, "host");
	assert_string_equal(xh_oci_annotation(st, "io.xdphook.mode"), "host");
	assert_null(xh_oci_annotation(st, "io.xdphook.nic"));

	assert_int_equal(xh_oci_phase("createRuntime", st->status, &phase), 0);
	assert_int_equal(phase, XH_PHASE_SETUP);
	assert_int_equal(xh_oci_state_check(st, phase), 0);
	assert_true(xh_oci_is_sandbox(st));
}

/* runc omits pid in poststop; crun writes 0. Neither may set up. */
static void poststop_without_pid(void **state)
{
	cleanup_oci_state struct xh_oci_state *st = NULL;
	cleanup_oci_state struct xh_oci_state *st0 = NULL;
	enum xh_phase phase;
	int err;

	(void)state;
	assert_int_equal(parse("{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"stopped\","
			       "\"bundle\":\"/b\"}",
			       &st),
			 0);
	assert_int_equal(st->pid, 0);
	assert_int_equal(st->n_annotations, 0);
	assert_null(st->annotations);
	assert_int_equal(xh_oci_phase(NULL, st->status, &phase), 0);
	assert_int_equal(phase, XH_PHASE_TEARDOWN);
	assert_int_equal(xh_oci_state_check(st, XH_PHASE_TEARDOWN), 0);

	err = xh_oci_state_check(st, XH_PHASE_SETUP);
	assert_int_equal(err, -EINVAL);
	assert_string_equal(xh_strerror(err), "state has no pid: setup needs the container's init pid");

	assert_int_equal(parse("{\"id\":\"c1\",\"status\":\"stopped\",\"pid\":0}", &st0), 0);
	assert_int_equal(st0->pid, 0);
	assert_int_equal(xh_oci_state_check(st0, XH_PHASE_SETUP), -EINVAL);
}

static void bundle_path_variant(void **state)
{
	cleanup_oci_state struct xh_oci_state *a = NULL;
	cleanup_oci_state struct xh_oci_state *b = NULL;
	cleanup_oci_state struct xh_oci_state *c = NULL;

	(void)state;
	/* podman/CRI-O-era runtimes */
	assert_int_equal(parse("{\"id\":\"p\",\"pid\":7,\"bundlePath\":\"/var/lib/x\",\"status\":\"created\"}", &a), 0);
	assert_string_equal(a->bundle, "/var/lib/x");
	/* the spec's name wins when both are there */
	assert_int_equal(parse("{\"id\":\"p\",\"bundlePath\":\"/old\",\"bundle\":\"/new\"}", &b), 0);
	assert_string_equal(b->bundle, "/new");
	/* neither: fine, nothing needs it */
	assert_int_equal(parse("{\"id\":\"p\"}", &c), 0);
	assert_null(c->bundle);
	assert_null(c->status);
}

/* Go encoders write null for nil maps and strings left out. */
static void null_means_absent(void **state)
{
	cleanup_oci_state struct xh_oci_state *st = NULL;

	(void)state;
	assert_int_equal(parse("{\"id\":\"n\",\"status\":null,\"pid\":null,\"bundle\":null,"
			       "\"annotations\":null,\"extra\":[1,{\"x\":null}]}",
			       &st),
			 0);
	assert_null(st->status);
	assert_int_equal(st->pid, 0);
	assert_null(st->bundle);
	assert_int_equal(st->n_annotations, 0);
}

static void wrong_types(void **state)
{
	(void)state;
	assert_refused("{\"id\":7}", "state: \"id\" must be a string, got integer");
	assert_refused("{\"id\":null}", "state: \"id\" must be a string, got null");
	assert_refused("{\"id\":\"a\",\"status\":1}", "state: \"status\" must be a string, got integer");
	assert_refused("{\"id\":\"a\",\"pid\":\"12\"}", "state: \"pid\" must be an integer, got string");
	assert_refused("{\"id\":\"a\",\"pid\":1.5}", "state: \"pid\" must be an integer, got fractional number");
	assert_refused("{\"id\":\"a\",\"pid\":true}", "state: \"pid\" must be an integer, got boolean");
	assert_refused("{\"id\":\"a\",\"pid\":-1}", "state: \"pid\" -1 out of range");
	assert_refused("{\"id\":\"a\",\"pid\":2147483648}", "state: \"pid\" 2147483648 out of range");
	assert_refused("{\"id\":\"a\",\"bundle\":[]}", "state: \"bundle\" must be a string, got array");
	assert_refused("{\"id\":\"a\",\"bundlePath\":false}",
		       "state: \"bundlePath\" must be a string, got boolean");
	assert_refused("{\"id\":\"a\",\"annotations\":[]}",
		       "state: \"annotations\" must be an object, got array");
	assert_refused("{\"id\":\"a\",\"annotations\":\"x=y\"}",
		       "state: \"annotations\" must be an object, got string");
	assert_refused("{\"id\":\"a\",\"annotations\":{\"ok\":\"1\",\"io.xdphook.enable\":false}}",
		       "state: annotation \"io.xdphook.enable\" must be a string, got boolean");
	assert_refused("{\"id\":\"a\",\"annotations\":{\"k\":{}}}",
		       "state: annotation \"k\" must be a string, got object");
	/* the key is escaped in the message */
	assert_refused("{\"id\":\"a\",\"annotations\":{\"k\\n\\u001b[31m\":1}}",
		       "state: annotation \"k\\x0a\\x1b[31m\" must be a string, got integer");
	assert_refused("[{\"id\":\"a\"}]", "state: must be a JSON object, got array");
}

static void missing_id_and_bad_json(void **state)
{
	struct xh_oci_state *st = NULL;

	(void)state;
	assert_refused("{\"status\":\"creating\",\"pid\":1}", "state: no \"id\"");
	assert_refused("{}", "state: no \"id\"");
	assert_refused("{\"id\":\"a\"", "state: invalid JSON");
	assert_refused("{\"id\":\"a\"} trailing", "state: invalid JSON");
	assert_refused("\"just a string\"", "state: invalid JSON");
	assert_refused("{\"id\":\"a\",\"pid\":99999999999999999999999}", "state: invalid JSON");
	assert_refused("{\"id\":\"a\\u0000b\"}", "state: invalid JSON");
	assert_int_equal(xh_oci_state_parse("", 0, &st), -EINVAL);
	assert_string_equal(xh_strerror(-EINVAL), "state: empty");
	assert_null(st);
}

static void duplicate_keys(void **state)
{
	(void)state;
	assert_refused("{\"id\":\"a\",\"id\":\"b\"}", "duplicate");
	assert_refused("{\"id\":\"a\",\"pid\":1,\"pid\":2}", "duplicate");
	assert_refused("{\"id\":\"a\",\"annotations\":{\"io.xdphook.mode\":\"pod\",\"io.xdphook.mode\":\"host\"}}",
		       "duplicate");
}

static void nul_bytes_and_length(void **state)
{
	static const char with_nul[] = "{\"id\":\"a\0b\"}";
	static const char longer[] = "{\"id\":\"abc\"}this is not parsed";
	cleanup_oci_state struct xh_oci_state *st = NULL;
	cleanup_free char *exact = NULL;
	struct xh_oci_state *bad = NULL;
	int err;

	(void)state;
	err = xh_oci_state_parse(with_nul, sizeof(with_nul) - 1, &bad);
	assert_int_equal(err, -EINVAL);
	assert_string_equal(xh_strerror(err), "state: NUL byte at offset 8");
	assert_null(bad);

	/* only len bytes are read: what follows is never looked at */
	assert_int_equal(xh_oci_state_parse(longer, 12, &st), 0);
	assert_string_equal(st->id, "abc");
	xh_oci_state_free(steal_pointer(&st));

	/* no terminating NUL at all (ASan catches an over-read) */
	exact = malloc(12);
	memcpy(exact, longer, 12);
	assert_int_equal(xh_oci_state_parse(exact, 12, &st), 0);
	assert_string_equal(st->id, "abc");
	/* cut short inside the document */
	assert_int_equal(xh_oci_state_parse(exact, 11, &bad), -EINVAL);
}

/* n levels of arrays inside the top-level object's "x". */
static char *nested(size_t n)
{
	size_t len = strlen("{\"id\":\"a\",\"x\":}") + 2 * n + 1;
	char *s = malloc(len), *p = s;

	p += sprintf(p, "{\"id\":\"a\",\"x\":");
	memset(p, '[', n);
	p += n;
	memset(p, ']', n);
	p += n;
	strcpy(p, "}");
	return s;
}

static void deep_nesting(void **state)
{
	cleanup_free char *ok = nested(XH_OCI_DEPTH_MAX - 1);
	cleanup_free char *over = nested(XH_OCI_DEPTH_MAX);
	cleanup_free char *deep = nested(10000);
	cleanup_free char *unclosed = NULL;
	cleanup_oci_state struct xh_oci_state *st = NULL;
	cleanup_oci_state struct xh_oci_state *st2 = NULL;

	(void)state;
	assert_int_equal(parse(ok, &st), 0);
	assert_refused(over, "state: nested deeper than 32 levels");
	assert_refused(deep, "state: nested deeper than 32 levels");

	/* only opening brackets, as a fuzzer would send */
	unclosed = malloc(100001);
	memset(unclosed, '{', 100000);
	unclosed[100000] = '\0';
	assert_refused(unclosed, "nested deeper");

	/* brackets inside strings, escaped quotes included, do not nest */
	assert_int_equal(parse("{\"id\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\"}",
			       &st2),
			 0);
	assert_int_equal(xh_oci_id_valid(st2->id), -EINVAL);
}

static int memfd_with(size_t n, char fill)
{
	int fd = memfd_create("input", MFD_CLOEXEC);
	char buf[65536];

	assert_true(fd >= 0);
	memset(buf, fill, sizeof(buf));
	while (n) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);

		assert_int_equal(write(fd, buf, k), (ssize_t)k);
		n -= k;
	}
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void read_all_limits(void **state)
{
	struct xh_oci_state *st = NULL;
	cleanup_free char *buf = NULL;
	char *none = NULL;
	size_t len = 0;
	int fd, err;

	(void)state;
	/* 10 MiB on "stdin": refused after reading limit + 1 bytes */
	fd = memfd_with(10u << 20, '{');
	err = xh_read_all(fd, XH_OCI_STATE_MAX, &none, &len);
	close(fd);
	assert_int_equal(err, -E2BIG);
	assert_null(none);
	assert_string_equal(xh_strerror(err), "input larger than 1048576 bytes");

	/* exactly the limit is fine, and NUL-terminated */
	fd = memfd_with(XH_OCI_STATE_MAX, 'x');
	assert_int_equal(xh_read_all(fd, XH_OCI_STATE_MAX, &buf, &len), 0);
	close(fd);
	assert_int_equal(len, XH_OCI_STATE_MAX);
	assert_int_equal(buf[len], '\0');
	free(steal_pointer(&buf));

	/* one more is not */
	fd = memfd_with(XH_OCI_STATE_MAX + 1, 'x');
	assert_int_equal(xh_read_all(fd, XH_OCI_STATE_MAX, &none, &len), -E2BIG);
	close(fd);

	/* empty input */
	fd = memfd_with(0, 'x');
	assert_int_equal(xh_read_all(fd, 100, &buf, &len), 0);
	close(fd);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(steal_pointer(&buf));

	/* a bad fd */
	assert_int_equal(xh_read_all(-1, 100, &none, &len), -EBADF);

	/* the parser refuses the same size on its own */
	buf = malloc(10u << 20);
	memset(buf, ' ', 10u << 20);
	assert_int_equal(xh_oci_state_parse(buf, 10u << 20, &st), -E2BIG);
	assert_null(st);
}

/* A writer that sends 10 MiB through a pipe in small pieces: the reader
 * stops at the limit and the writer gets EPIPE, no one hangs. */
static void read_all_pipe(void **state)
{
	char *buf = NULL;
	size_t len;
	int p[2];
	pid_t child;
	int status;

	(void)state;
	assert_int_equal(pipe(p), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		char chunk[1000];

		signal(SIGPIPE, SIG_DFL);
		close(p[0]);
		memset(chunk, 'a', sizeof(chunk));
		for (int i = 0; i < 10 * 1049; i++)
			if (write(p[1], chunk, sizeof(chunk)) < 0)
				_exit(3);
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(xh_read_all(p[0], XH_OCI_STATE_MAX, &buf, &len), -E2BIG);
	close(p[0]);
	assert_int_equal(waitpid(child, &status, 0), child);
	/* killed by SIGPIPE or saw EPIPE */
	assert_true(WIFSIGNALED(status) || WEXITSTATUS(status) == 3);

	/* and a normal state through a pipe */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "{\"id\":\"x\"}", 10), 10);
	close(p[1]);
	assert_int_equal(xh_read_all(p[0], XH_OCI_STATE_MAX, &buf, &len), 0);
	close(p[0]);
	assert_int_equal(len, 10);
	assert_string_equal(buf, "{\"id\":\"x\"}");
	free(buf);
}

static void assert_id_refused(const char *id, const char *want)
{
	int err;

	xh_err_clear();
	err = xh_oci_id_valid(id);
	if (err != -EINVAL || !strstr(xh_strerror(err), want))
		fail_msg("id: got %d \"%s\", want \"%s\"", err, xh_strerror(err), want);
}

static void container_ids(void **state)
{
	char id[301];

	(void)state;
	assert_int_equal(xh_oci_id_valid("a"), 0);
	assert_int_equal(xh_oci_id_valid("0123abcDEF_x.y-z"), 0);
	assert_int_equal(xh_oci_id_valid("a..b"), 0);
	assert_int_equal(xh_oci_id_valid("4c1e0a9e5d7b3f2a8c6e4d2b0a9f8e7d6c5b4a392817161514131211100f0e0d"), 0);

	assert_id_refused("", "container id is empty");
	assert_id_refused(NULL, "container id is empty");
	assert_id_refused("../x", "container id \"../x\": bad character 0x2e at position 0 (must start with a letter or digit)");
	assert_id_refused(".x", "bad character 0x2e at position 0");
	assert_id_refused("..", "bad character 0x2e at position 0");
	assert_id_refused("-x", "bad character 0x2d at position 0");
	assert_id_refused("_x", "bad character 0x5f at position 0");
	assert_id_refused("a/b", "bad character 0x2f at position 1");
	assert_id_refused("a b", "bad character 0x20 at position 1");
	assert_id_refused("ab\n", "container id \"ab\\x0a\": bad character 0x0a at position 2");
	assert_id_refused("a\x1b[2J", "bad character 0x1b at position 1");
	assert_id_refused("caf\xc3\xa9", "bad character 0xc3 at position 3");
	assert_id_refused("a:b", "bad character 0x3a at position 1");

	memset(id, 'a', sizeof(id) - 1);
	id[300] = '\0';
	assert_id_refused(id, "container id is too long (300 chars, at most 128)");
	id[128] = '\0';
	assert_int_equal(xh_oci_id_valid(id), 0);
	id[128] = 'a';
	id[129] = '\0';
	assert_id_refused(id, "too long (129 chars");
}

/* A parsed state with a hostile id is refused for either phase. */
static void state_check_refuses_bad_id(void **state)
{
	cleanup_oci_state struct xh_oci_state *st = NULL;

	(void)state;
	assert_int_equal(parse("{\"id\":\"../../etc\",\"pid\":5,\"status\":\"creating\"}", &st), 0);
	assert_int_equal(xh_oci_state_check(st, XH_PHASE_SETUP), -EINVAL);
	assert_int_equal(xh_oci_state_check(st, XH_PHASE_TEARDOWN), -EINVAL);
	assert_non_null(strstr(xh_strerror(-EINVAL), "bad character"));
}

static const char *str(const char *s)
{
	return s ? s : "(null)";
}

static void assert_phase(const char *stage, const char *status, int want)
{
	enum xh_phase p = 99;
	int err = xh_oci_phase(stage, status, &p);

	if (want < 0) {
		if (err != -EINVAL)
			fail_msg("%s/%s: got %d, want -EINVAL", str(stage), str(status), err);
		return;
	}
	if (err || (int)p != want)
		fail_msg("%s/%s: got %d phase %d (%s), want %d", str(stage), str(status), err, p,
			 xh_strerror(err), want);
}

static void phase_table(void **state)
{
	int err;
	enum xh_phase p;

	(void)state;
	assert_phase("createRuntime", NULL, XH_PHASE_SETUP);
	assert_phase("prestart", NULL, XH_PHASE_SETUP);
	assert_phase("poststop", NULL, XH_PHASE_TEARDOWN);
	/* argv wins over the status */
	assert_phase("createRuntime", "stopped", XH_PHASE_SETUP);
	assert_phase("poststop", "creating", XH_PHASE_TEARDOWN);
	assert_phase("prestart", "running", XH_PHASE_SETUP);
	/* a single hooks.d file without args: the status decides */
	assert_phase(NULL, "creating", XH_PHASE_SETUP);
	assert_phase(NULL, "created", XH_PHASE_SETUP);
	assert_phase(NULL, "stopped", XH_PHASE_TEARDOWN);

	assert_phase("createContainer", NULL, -1);
	assert_phase("startContainer", "created", -1);
	assert_phase("poststart", "running", -1);
	assert_phase("PostStop", NULL, -1);
	assert_phase("", "creating", -1);
	assert_phase(NULL, "running", -1);
	assert_phase(NULL, "paused", -1);
	assert_phase(NULL, "", -1);
	assert_phase(NULL, NULL, -1);

	err = xh_oci_phase("poststart", NULL, &p);
	assert_string_equal(xh_strerror(err),
			    "hook stage 'poststart' is not one xdp_hook serves (createRuntime, prestart, poststop)");
	err = xh_oci_phase("bogus\n", NULL, &p);
	assert_string_equal(xh_strerror(err),
			    "unknown hook stage 'bogus\\x0a' (xdp_hook serves createRuntime, prestart, poststop)");
	err = xh_oci_phase(NULL, "running", &p);
	assert_non_null(strstr(xh_strerror(err), "state status 'running' is neither"));
	err = xh_oci_phase(NULL, NULL, &p);
	assert_non_null(strstr(xh_strerror(err), "no hook stage in the arguments and no status"));
	assert_string_equal(xh_phase_name(XH_PHASE_SETUP), "setup");
	assert_string_equal(xh_phase_name(XH_PHASE_TEARDOWN), "teardown");
}

static bool sandbox_with(const char *annotations)
{
	cleanup_oci_state struct xh_oci_state *st = NULL;
	char json[512];

	snprintf(json, sizeof(json), "{\"id\":\"k\",\"annotations\":{%s}}", annotations);
	assert_int_equal(parse(json, &st), 0);
	return xh_oci_is_sandbox(st);
}

static void kubernetes_sandbox(void **state)
{
	(void)state;
	assert_true(sandbox_with(""));
	assert_true(sandbox_with("\"io.kubernetes.cri.container-type\":\"sandbox\""));
	assert_false(sandbox_with("\"io.kubernetes.cri.container-type\":\"container\""));
	assert_true(sandbox_with("\"io.kubernetes.cri-o.ContainerType\":\"sandbox\""));
	assert_false(sandbox_with("\"io.kubernetes.cri-o.ContainerType\":\"container\""));
	assert_false(sandbox_with("\"io.kubernetes.cri.container-type\":\"\""));
	assert_false(sandbox_with("\"io.kubernetes.cri.container-type\":\"sandbox\","
				  "\"io.kubernetes.cri-o.ContainerType\":\"container\""));
	assert_true(sandbox_with("\"io.kubernetes.pod.name\":\"web\""));
}

static void escape_helper(void **state)
{
	char buf[16];
	char big[64];

	(void)state;
	assert_string_equal(xh_str_escape("plain", buf, sizeof(buf)), "plain");
	assert_string_equal(xh_str_escape("a\"b\\c", buf, sizeof(buf)), "a\\\"b\\\\c");
	assert_string_equal(xh_str_escape("\x01\xff", buf, sizeof(buf)), "\\x01\\xff");
	/* exactly fits: 15 characters and the NUL */
	assert_string_equal(xh_str_escape("123456789012345", buf, sizeof(buf)), "123456789012345");
	assert_string_equal(xh_str_escape("1234567890123456", buf, sizeof(buf)), "123456789012...");
	assert_true(strlen(xh_str_escape("\x01\x01\x01\x01\x01\x01", buf, sizeof(buf))) < sizeof(buf));
	assert_string_equal(xh_str_escape(NULL, buf, sizeof(buf)), "");
	memset(big, 'z', sizeof(big) - 1);
	big[63] = '\0';
	assert_int_equal(strlen(xh_str_escape(big, buf, 4)), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(runc_create_runtime),
		cmocka_unit_test(poststop_without_pid),
		cmocka_unit_test(bundle_path_variant),
		cmocka_unit_test(null_means_absent),
		cmocka_unit_test(wrong_types),
		cmocka_unit_test(missing_id_and_bad_json),
		cmocka_unit_test(duplicate_keys),
		cmocka_unit_test(nul_bytes_and_length),
		cmocka_unit_test(deep_nesting),
		cmocka_unit_test(read_all_limits),
		cmocka_unit_test(read_all_pipe),
		cmocka_unit_test(container_ids),
		cmocka_unit_test(state_check_refuses_bad_id),
		cmocka_unit_test(phase_table),
		cmocka_unit_test(kubernetes_sandbox),
		cmocka_unit_test(escape_helper),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
