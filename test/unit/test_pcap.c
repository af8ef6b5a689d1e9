/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The pcap writer: write frames, read the file back byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "pcap.h"
#include "util.h"

static char tmpdir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_pcap.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(path, sizeof(path), "%s/c.pcap", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

/* Little helpers reading the file in the writer's (host) byte order, which
 * is what the magic number announces. */
static uint32_t u32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t u16_at(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint8_t *slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void fill_pattern(uint8_t *buf, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7);
}

static void writes_header_and_records(void **state)
{
	static const uint32_t lens[] = { 0, 1, 60, 98, 1514, 9000 };
	static uint8_t frame[9000], expect[9000];
	struct xh_pcap *p = NULL;
	size_t len, off;
	uint8_t *buf;

	(void)state;
	assert_int_equal(xh_pcap_open(path, &p), 0);
	assert_non_null(p);
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		struct timespec ts = { .tv_sec = 1700000000 + (time_t)i, .tv_nsec = 123456789 };

		fill_pattern(frame, lens[i], (uint8_t)i);
		assert_int_equal(xh_pcap_write(p, &ts, frame, lens[i], lens[i]), 0);
	}
	assert_int_equal(xh_pcap_close(p), 0);

	buf = slurp(path, &len);
	/* global header: 24 bytes */
	assert_true(len >= 24);
	assert_int_equal(u32_at(buf), 0xa1b2c3d4);
	assert_int_equal(u16_at(buf + 4), 2);
	assert_int_equal(u16_at(buf + 6), 4);
	assert_int_equal(u32_at(buf + 8), 0);      /* thiszone */
	assert_int_equal(u32_at(buf + 12), 0);     /* sigfigs */
	assert_int_equal(u32_at(buf + 16), 65535); /* snaplen */
	assert_int_equal(u32_at(buf + 20), 1);     /* LINKTYPE_ETHERNET */
	off = 24;
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		assert_true(off + 16 + lens[i] <= len);
		assert_int_equal(u32_at(buf + off), 1700000000 + i);
		assert_int_equal(u32_at(buf + off + 4), 123456); /* microseconds */
		assert_int_equal(u32_at(buf + off + 8), lens[i]);
		assert_int_equal(u32_at(buf + off + 12), lens[i]);
		fill_pattern(expect, lens[i], (uint8_t)i);
		if (lens[i])
			assert_memory_equal(buf + off + 16, expect, lens[i]);
		off += 16 + lens[i];
	}
	assert_int_equal(off, len); /* nothing else in the file */
	free(buf);
}

static void clamps_to_snaplen_and_keeps_origlen(void **state)
{
	const uint32_t big = 70000;
	struct timespec ts = { 5, 999999999 };
	struct xh_pcap *p = NULL;
	uint8_t *frame = calloc(1, big);
	uint8_t *buf;
	size_t len;

	(void)state;
	assert_non_null(frame);
	fill_pattern(frame, big, 3);
	assert_int_equal(xh_pcap_open(path, &p), 0);
	/* a snapshot of 64 bytes of a 1500-byte frame */
	assert_int_equal(xh_pcap_write(p, &ts, frame, 64, 1500), 0);
	/* bigger than the snapshot length: cut to 65535 */
	assert_int_equal(xh_pcap_write(p, &ts, frame, big, big), 0);
	assert_int_equal(xh_pcap_close(p), 0);

	buf = slurp(path, &len);
	assert_int_equal(len, 24 + 16 + 64 + 16 + 65535);
	assert_int_equal(u32_at(buf + 24), 5);
	assert_int_equal(u32_at(buf + 28), 999999);
	assert_int_equal(u32_at(buf + 32), 64);
	assert_int_equal(u32_at(buf + 36), 1500);
	assert_memory_equal(buf + 40, frame, 64);
	assert_int_equal(u32_at(buf + 104 + 8), 65535);
	assert_int_equal(u32_at(buf + 104 + 12), big);
	assert_memory_equal(buf + 104 + 16, frame, 65535);
	free(buf);
	free(frame);
}

static void truncates_existing_file(void **state)
{
	struct xh_pcap *p = NULL;
	uint8_t frame[100] = { 0 };
	struct stat st;

	(void)state;
	assert_int_equal(xh_pcap_open(path, &p), 0);
	assert_int_equal(xh_pcap_write(p, NULL, frame, sizeof(frame), sizeof(frame)), 0);
	assert_int_equal(xh_pcap_close(p), 0);
	assert_int_equal(xh_pcap_open(path, &p), 0);
	assert_int_equal(xh_pcap_close(p), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 24);
}

static void unwritable_paths_fail(void **state)
{
	struct xh_pcap *p = NULL;
	char bad[160];

	(void)state;
	snprintf(bad, sizeof(bad), "%s/no/such/dir/c.pcap", tmpdir);
	assert_int_equal(xh_pcap_open(bad, &p), -ENOENT);
	assert_null(p);
	assert_int_equal(xh_pcap_open(tmpdir, &p), -EISDIR);
	assert_null(p);
	assert_int_equal(xh_pcap_open(NULL, &p), -EINVAL);
	assert_int_equal(xh_pcap_open(path, NULL), -EINVAL);
}

/* The device is full: writes are buffered, so the error shows at close. */
static void full_device_fails_at_close(void **state)
{
	static uint8_t frame[1500];
	struct xh_pcap *p = NULL;
	int err = 0;

	(void)state;
	if (access("/dev/full", W_OK))
		skip();
	assert_int_equal(xh_pcap_open("/dev/full", &p), 0);
	/* more than the writer's buffer, so some write fails before close */
	for (int i = 0; i < 2000 && !err; i++)
		err = xh_pcap_write(p, NULL, frame, sizeof(frame), sizeof(frame));
	assert_int_equal(err, -ENOSPC);
	/* a failed writer stays failed */
	assert_int_equal(xh_pcap_write(p, NULL, frame, 1, 1), -ENOSPC);
	assert_int_equal(xh_pcap_close(p), -ENOSPC);

	assert_int_equal(xh_pcap_open("/dev/full", &p), 0);
	assert_int_equal(xh_pcap_write(p, NULL, frame, 60, 60), 0);
	assert_int_equal(xh_pcap_close(p), -ENOSPC);
}

static void bad_arguments(void **state)
{
	struct xh_pcap *p = NULL;

	(void)state;
	assert_int_equal(xh_pcap_close(NULL), 0);
	assert_int_equal(xh_pcap_open(path, &p), 0);
	assert_int_equal(xh_pcap_write(NULL, NULL, "x", 1, 1), -EINVAL);
	assert_int_equal(xh_pcap_write(p, NULL, NULL, 1, 1), -EINVAL);
	assert_int_equal(xh_pcap_write(p, NULL, NULL, 0, 0), 0);
	assert_int_equal(xh_pcap_close(p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(writes_header_and_records, setup, teardown),
		cmocka_unit_test_setup_teardown(clamps_to_snaplen_and_keeps_origlen, setup, teardown),
		cmocka_unit_test_setup_teardown(truncates_existing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(unwritable_paths_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(full_device_fails_at_close, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_arguments, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
