/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the benchmark's helper programs share: pinning to a CPU, a stop
 * flag for SIGINT/SIGTERM, and the progress lines test/bench/run.sh reads:
 *
 *	ready
 *	<CLOCK_MONOTONIC ns> <frames so far> <frames dropped so far>
 *	...
 *
 * one line every interval, so the script computes rates over whichever
 * intervals it likes (after warm-up, while the generator runs); and the
 * options that set them, the same in every helper (BENCH_OPTS).
 */
#ifndef XDPHOOK_BENCH_H
#define XDPHOOK_BENCH_H

#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t bench_stop;

static void bench_on_signal(int sig)
{
	(void)sig;
	bench_stop = 1;
}

static inline void bench_signals(void)
{
	struct sigaction sa = { .sa_handler = bench_on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* 0 or a negative errno. cpu < 0: leave the affinity alone. */
static inline int bench_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* A strict non-negative integer, or -1 (also for no string at all). */
static inline long bench_num(const char *s)
{
	char *end;
	long v;

	if (!s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	return errno || end == s || *end || v < 0 ? -1 : v;
}

/* Every helper's -c CPU -t INTERVAL-MS -d SECONDS: append BENCH_OPTS to
 * the tool's getopt string and BENCH_USAGE to its usage line. */
#define BENCH_OPTS "c:t:d:"
#define BENCH_USAGE "[-c CPU] [-t INTERVAL-MS] [-d SECONDS]"

struct bench_opts {
	long cpu;	  /* -1: leave the affinity alone */
	long interval_ms; /* between progress lines; 0 is taken as 1 */
	long seconds;	  /* 0: until a signal */
};

#define BENCH_OPTS_INIT { .cpu = -1, .interval_ms = 1000, .seconds = 0 }

/* getopt() that takes the shared options into o itself and returns the
 * tool's own ones (optarg set), -1 at the end, or '?' for anything wrong:
 * an unknown option, a missing argument, a shared one with a bad value. */
static inline int bench_getopt(int argc, char **argv, const char *optstring, struct bench_opts *o)
{
	int opt;
	long v;

	while ((opt = getopt(argc, argv, optstring)) != -1) {
		if (opt != 'c' && opt != 't' && opt != 'd')
			return opt;
		v = bench_num(optarg);
		if (v < 0)
			return '?';
		if (opt == 'c')
			o->cpu = v;
		else if (opt == 't')
			o->interval_ms = v ? v : 1;
		else
			o->seconds = v;
	}
	return -1;
}

/* Stop on SIGINT/SIGTERM and pin to o->cpu: 0, or 1 (an exit code) with
 * the reason printed as "PROG: pin to CPU N: why". */
static inline int bench_start(const char *prog, const struct bench_opts *o)
{
	int err;

	bench_signals();
	err = bench_pin((int)o->cpu);
	if (err) {
		fprintf(stderr, "%s: pin to CPU %ld: %s\n", prog, o->cpu, strerror(-err));
		return 1;
	}
	return 0;
}

struct bench_ticker {
	uint64_t start, next, interval, end; /* ns; end 0: no duration */
	uint32_t calls;
};

/* The clock is read on every BENCH_TICK_EVERY-th call only: on some
 * virtual machines clock_gettime() is not a vDSO read but a slow
 * clocksource, and a consumer reading it per poll spends its time there. */
#define BENCH_TICK_EVERY 256u

static inline void bench_ticker_start(struct bench_ticker *t, const struct bench_opts *o)
{
	t->start = bench_now_ns();
	t->interval = (uint64_t)o->interval_ms * 1000000ull;
	t->next = t->start + t->interval;
	t->end = o->seconds > 0 ? t->start + (uint64_t)o->seconds * 1000000000ull : 0;
	t->calls = 0;
	printf("ready\n%llu 0 0\n", (unsigned long long)t->start);
	fflush(stdout);
}

/* Print a progress line when one is due (asking dropped(ctx) then, if
 * given); false once the duration is over or a signal came. Cheap enough
 * to call on every poll. */
static inline bool bench_tick(struct bench_ticker *t, uint64_t frames,
			      uint64_t (*dropped)(void *ctx), void *ctx)
{
	uint64_t now;

	if (++t->calls % BENCH_TICK_EVERY)
		return !bench_stop;
	now = bench_now_ns();

	if (now >= t->next) {
		printf("%llu %llu %llu\n", (unsigned long long)now, (unsigned long long)frames,
		       (unsigned long long)(dropped ? dropped(ctx) : 0));
		fflush(stdout);
		t->next += t->interval;
		if (t->next <= now)
			t->next = now + t->interval;
	}
	return !bench_stop && (!t->end || now < t->end);
}

#endif
