/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Fuzz target: the tcpdump-style packet printer, on any frame and into
 * output buffers of every size class. Each buffer is allocated at its exact
 * size (ASan catches one byte too far); every result must be the same line,
 * cut to the buffer, with the same return value, and printable text only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pktprint.h"

static void check_line(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			abort();
}

/* Format into an exact-size buffer; the result must be full[0..size-1). */
static void format_cut(const void *frame, uint32_t len, const struct timespec *ts,
		       const char *full, int want, size_t size)
{
	size_t keep = (size_t)want < size ? (size_t)want : size - 1;
	char *buf = malloc(size);

	if (!buf)
		abort();
	if (xh_pkt_format(buf, size, ts, frame, len) != want || strlen(buf) != keep ||
	    memcmp(buf, full, keep))
		abort();
	free(buf);
}

static void format_all(const void *frame, uint32_t len, const struct timespec *ts)
{
	static const size_t sizes[] = { 1, 2, 3, 8, 16, 17, 18, 19, 20, 32, 40, 64, 80, 100, 128, 256 };
	char one[1];
	int want = xh_pkt_format(one, sizeof(one), ts, frame, len);
	char *full;

	if (want < 0 || one[0])
		abort();
	full = malloc((size_t)want + 1);
	if (!full)
		abort();
	if (xh_pkt_format(full, (size_t)want + 1, ts, frame, len) != want ||
	    strlen(full) != (size_t)want)
		abort();
	check_line(full, (size_t)want);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		format_cut(frame, len, ts, full, want, sizes[i]);
	if (want > 0)
		format_cut(frame, len, ts, full, want, (size_t)want); /* one short */
	format_cut(frame, len, ts, full, want, (size_t)want + 2);
	free(full);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("TZ", "UTC", 1); /* the same lines on every machine */
	tzset();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct timespec ts = { .tv_sec = 1700000000, .tv_nsec = 123456789 };

	if (size > UINT32_MAX)
		return 0;
	/* libFuzzer's copy of the input is exactly size bytes: a read past
	 * the frame is caught. An empty frame: NULL and a pointer both. */
	format_all(data, (uint32_t)size, NULL);
	format_all(size ? data : NULL, (uint32_t)size, &ts);
	return 0;
}
