/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xdp_loader flag parsing: every command, every refused combination. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "loader.h"
#include "util.h"

/* Parse a NULL-terminated list of words; capture the error text. */
static char errbuf[512];

static int parse(struct loader_opts *o, ...)
{
	char *argv[32] = { "xdp_loader" };
	int argc = 1;
	va_list ap;
	FILE *err = fmemopen(errbuf, sizeof(errbuf), "w");
	int rc;

	va_start(ap, o);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	memset(errbuf, 0, sizeof(errbuf));
	rc = loader_parse_opts(argc, argv, o, err);
	fclose(err);
	return rc;
}

static void attach_single_and_double_dash(void **state)
{
	struct loader_opts o;

	(void)state;
	assert_int_equal(parse(&o, "-program", "drop", "-device", "eth0", NULL), 0);
	assert_int_equal(o.cmd, LOADER_ATTACH);
	assert_string_equal(o.program, "drop");
	assert_string_equal(o.device, "eth0");
	assert_int_equal(o.mode, XH_MODE_AUTO);
	assert_false(o.mode_set);

	assert_int_equal(parse(&o, "--program=pass", "--device", "veth1", "--mode", "skb", NULL), 0);
	assert_int_equal(o.cmd, LOADER_ATTACH);
	assert_string_equal(o.program, "pass");
	assert_int_equal(o.mode, XH_MODE_SKB);
	assert_true(o.mode_set);

	assert_int_equal(parse(&o, "-mode", "native", "-device", "x", "-program", "pass", NULL), 0);
	assert_int_equal(o.mode, XH_MODE_NATIVE);
}

static void tcpdump_options(void **state)
{
	struct loader_opts o;

	(void)state;
	assert_int_equal(parse(&o, "-program", "tcpdump", "-device", "eth0", NULL), 0);
	assert_int_equal(o.cmd, LOADER_TCPDUMP);
	assert_false(o.queue_set);
	assert_false(o.all_queues);
	assert_int_equal(o.count, 0);
	assert_null(o.write);

	assert_int_equal(parse(&o, "-program", "tcpdump", "-device", "eth0", "-queue", "3", "-count",
			       "10", "-write", "/tmp/x.pcap", NULL),
			 0);
	assert_true(o.queue_set);
	assert_int_equal(o.queue, 3);
	assert_int_equal(o.count, 10);
	assert_string_equal(o.write, "/tmp/x.pcap");

	assert_int_equal(parse(&o, "-program", "tcpdump", "-device", "e", "-all-queues", NULL), 0);
	assert_true(o.all_queues);
}

static void redirect_takes_two_devices(void **state)
{
	struct loader_opts o;

	(void)state;
	assert_int_equal(parse(&o, "-redirect", "a0", "b0", NULL), 0);
	assert_int_equal(o.cmd, LOADER_REDIRECT);
	assert_string_equal(o.redirect_from, "a0");
	assert_string_equal(o.redirect_to, "b0");

	/* Flags may follow the target (GNU permutation). */
	assert_int_equal(parse(&o, "-redirect", "a0", "b0", "-mode", "skb", NULL), 0);
	assert_string_equal(o.redirect_to, "b0");
	assert_int_equal(o.mode, XH_MODE_SKB);

	assert_int_equal(parse(&o, "-redirect", "a0", NULL), EXIT_USAGE);
	assert_non_null(strstr(errbuf, "FROMDEV TODEV"));
	assert_int_equal(parse(&o, "-redirect", "a0", "b0", "c0", NULL), EXIT_USAGE);
}

static void status_and_detach(void **state)
{
	struct loader_opts o;

	(void)state;
	assert_int_equal(parse(&o, "-status", NULL), 0);
	assert_int_equal(o.cmd, LOADER_STATUS);
	assert_false(o.json);
	assert_int_equal(parse(&o, "-status", "-json", NULL), 0);
	assert_true(o.json);
	assert_int_equal(parse(&o, "-detach", "-device", "eth0", NULL), 0);
	assert_int_equal(o.cmd, LOADER_DETACH);
	assert_int_equal(parse(&o, "-help", NULL), 0);
	assert_int_equal(o.cmd, LOADER_HELP);
}

/* Each refused command line and a word of the message it must give. */
static const struct {
	const char *argv[8];
	const char *says;
} refused[] = {
	{ { NULL }, "nothing to do" },
	{ { "-program", "bogus", "-device", "x" }, "unknown program 'bogus'" },
	{ { "-program", "drop" }, "-device IFACE is required" },
	{ { "-program", "tcpdump" }, "-device IFACE is required" },
	{ { "-detach" }, "-device IFACE is required" },
	{ { "-program", "drop", "-device", "x", "-mode", "fast" }, "unknown mode 'fast'" },
	{ { "-program", "drop", "-device", "x", "-count", "3" }, "apply to -program tcpdump" },
	{ { "-program", "pass", "-device", "x", "-write", "f" }, "apply to -program tcpdump" },
	{ { "-program", "tcpdump", "-device", "x", "-mode", "skb" }, "-mode applies" },
	{ { "-program", "tcpdump", "-device", "x", "-queue", "1", "-all-queues" }, "exclude each other" },
	{ { "-program", "tcpdump", "-device", "x", "-queue", "64" }, "invalid -queue '64'" },
	{ { "-program", "tcpdump", "-device", "x", "-queue", "-1" }, "invalid -queue" },
	{ { "-program", "tcpdump", "-device", "x", "-count", "0" }, "invalid -count '0'" },
	{ { "-program", "tcpdump", "-device", "x", "-count", "5x" }, "invalid -count '5x'" },
	{ { "-program", "tcpdump", "-device", "x", "-count", "99999999999999999999999" }, "invalid -count" },
	{ { "-program", "tcpdump", "-device", "x", "-write", "" }, "-write needs a file name" },
	{ { "-program", "drop", "-device", "x", "-status" }, "give one of" },
	{ { "-status", "-device", "x" }, "-device does not apply" },
	{ { "-redirect", "a", "b", "-device", "x" }, "-device does not apply" },
	{ { "-program", "drop", "-device", "x", "-json" }, "-json applies to -status" },
	{ { "-program", "drop", "-device", "x", "extra" }, "unexpected argument 'extra'" },
	{ { "-frobnicate" }, "unknown option '-frobnicate'" },
	{ { "-program" }, "option needs an argument: -program" },
	{ { "-program", "drop", "-device" }, "option needs an argument: -device" },
};

static void refusals_are_usage_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		char *argv[10] = { "xdp_loader" };
		int argc = 1;
		struct loader_opts o;
		FILE *err = fmemopen(errbuf, sizeof(errbuf), "w");

		for (int j = 0; refused[i].argv[j]; j++)
			argv[argc++] = (char *)refused[i].argv[j];
		memset(errbuf, 0, sizeof(errbuf));
		int rc = loader_parse_opts(argc, argv, &o, err);

		fclose(err);
		if (rc != EXIT_USAGE || !strstr(errbuf, refused[i].says) ||
		    strncmp(errbuf, "xdp_loader: ", 12))
			fail_msg("case %zu (%s...): rc %d, message '%s', want '%s'", i,
				 refused[i].argv[0] ? refused[i].argv[0] : "(none)", rc, errbuf,
				 refused[i].says);
	}
}

static void util_parsers(void **state)
{
	uint32_t v;
	uint64_t w;
	char buf[8];

	(void)state;
	assert_int_equal(xh_parse_u32("42", 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(xh_parse_u32("101", 100, &v), -ERANGE);
	assert_int_equal(xh_parse_u32("", 100, &v), -EINVAL);
	assert_int_equal(xh_parse_u32(" 1", 100, &v), -EINVAL);
	assert_int_equal(xh_parse_u32("+1", 100, &v), -EINVAL);
	assert_int_equal(xh_parse_u64("18446744073709551615", &w), 0);
	assert_true(w == UINT64_MAX);
	assert_int_equal(xh_parse_u64("18446744073709551616", &w), -ERANGE);
	assert_int_equal(xh_snprintf(buf, sizeof(buf), "%s", "1234567"), 7);
	assert_int_equal(xh_snprintf(buf, sizeof(buf), "%s", "12345678"), -ENAMETOOLONG);

	/* The error detail belongs to the error it was set for. */
	xh_err(-EBUSY, "held by 'foo'");
	assert_string_equal(xh_strerror(-EBUSY), "held by 'foo'");
	assert_string_equal(xh_strerror(-ENOENT), "No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(attach_single_and_double_dash),
		cmocka_unit_test(tcpdump_options),
		cmocka_unit_test(redirect_takes_two_devices),
		cmocka_unit_test(status_and_detach),
		cmocka_unit_test(refusals_are_usage_errors),
		cmocka_unit_test(util_parsers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
