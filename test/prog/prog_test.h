/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared pieces of the packet-level tests (build/test/test_progs): running
 * a frame through an XDP program with BPF_PROG_TEST_RUN, reading the
 * per-CPU verdict counters, and the catalogue of frames every suite runs.
 *
 * cmocka must be included after <stdarg.h>, <stddef.h> and <setjmp.h>; this
 * header does that, so test files include it first.
 */
#ifndef XDPHOOK_TEST_PROG_TEST_H
#define XDPHOOK_TEST_PROG_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <linux/bpf.h>
#include <xdphook/stats.h>

#include "frames.h"
#include "parse_probe.h"

struct bpf_map;

/* Skip the calling test unless we can load BPF programs (root). */
void skip_unless_root(void);

/* Run prog_fd once on data[0..len) (ctx may be NULL). Returns 0 and the
 * program's verdict in *verdict, or -errno from the syscall. */
int xdp_run(int prog_fd, const void *data, size_t len, const struct xdp_md *ctx,
	    uint32_t *verdict);

/* Run a frame (ctx may be NULL) and fail the test, naming `what`, unless
 * the syscall worked and the verdict is `want`. */
void xdp_expect(int prog_fd, const void *data, size_t len, const struct xdp_md *ctx,
		uint32_t want, const char *what);

/* Sum the per-CPU xdphook_stats counters of a program into out[verdict]. */
void stats_read(const struct bpf_map *stats, struct xdphook_counter out[XDPHOOK_VERDICTS]);

/* --- the frame catalogue (catalog.c) ---------------------------------------- */

/* One frame the parser must handle, with what parse_packet() must report
 * for it. `want.runs` is ignored; for XDP_DROP frames only the verdict and
 * rc are checked (how far a failed parse got is not part of the contract). */
struct catalog_entry {
	const char *name;
	void (*build)(struct frame *f);
	uint32_t verdict;            /* parse_probe: XDP_PASS parsed, XDP_DROP not */
	struct probe_result want;
};

extern const struct catalog_entry catalog[];
extern const size_t catalog_len;

/* Bytes the parser must see to read every header of f: the end of the last
 * header it parses (Ethernet, VLAN, IP, IPv6 extension and L4 headers; not
 * ARP bodies and not payload). Derived from the builder's layers. */
size_t parser_needs(const struct frame *f);

/* Build entry e into f (frame_init + e->build). */
void catalog_build(const struct catalog_entry *e, struct frame *f);

/* Suites (each a cmocka group; return the number of failures). */
int frames_tests(void);
int parser_tests(void);
int program_tests(void);
int xdp_gen_tests(void);

#endif
