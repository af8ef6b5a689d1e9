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
 * intervals it likes (after warm-up, while the generator runs).
 */
#ifndef XDPHOOK_BENCH_H
#define XDPHOOK_BENCH_H

#define _GNU_SOURCE
#include <errno.h>
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

/* A strict non-negative integer, or -1. */
static inline long bench_num(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return errno || end == s || *end || v < 0 ? -1 : v;
}

struct bench_ticker {
	uint64_t start, next, interval, end; /* ns; end 0: no duration */
	uint32_t calls;
};

/* The clock is read on every BENCH_TICK_EVERY-th call only: on some
 * virtual machines clock_gettime() is not a vDSO read but a slow
 * clocksource, and a consumer reading it per poll spends its time there. */
#define BENCH_TICK_EVERY 256u

static inline void bench_ticker_start(struct bench_ticker *t, long interval_ms, double seconds)
{
	t->start = bench_now_ns();
	t->interval = (uint64_t)interval_ms * 1000000ull;
	t->next = t->start + t->interval;
	t->end = seconds > 0 ? t->start + (uint64_t)(seconds * 1e9) : 0;
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
