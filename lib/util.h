/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Small helpers every module uses: scope-bound cleanup (crun style),
 * error detail, bounded string formatting, number parsing.
 *
 * Error convention (libbpf 1.0 style): functions return 0 or a negative
 * errno. A function that knows more than the errno says (which program
 * holds a device, which field was bad) records it with xh_err(); the caller
 * that knows the context prints one line with xh_strerror(err), which gives
 * that detail if it was set for this error, else strerror().
 */
#ifndef XDPHOOK_UTIL_H
#define XDPHOOK_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void cleanup_freep(void *p);
void cleanup_closep(int *fd);
void cleanup_fclosep(FILE **f);

#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_close __attribute__((cleanup(cleanup_closep)))
#define cleanup_fclose __attribute__((cleanup(cleanup_fclosep)))

/* Hand a cleanup-managed value to someone else: the variable is cleared so
 * its cleanup does nothing. */
#define steal_pointer(pp) ({ __typeof__(*(pp)) _v = *(pp); *(pp) = NULL; _v; })
#define steal_fd(fdp) ({ int _fd = *(fdp); *(fdp) = -1; _fd; })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Record a detail for error -err (negative errno) and return err, so that
 * `return xh_err(-EEXIST, "%s: held by %s", ...)` reads naturally. */
int xh_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The detail recorded for err, or strerror(-err). Thread-local. */
const char *xh_strerror(int err);
void xh_err_clear(void);

/* snprintf that fails with -ENAMETOOLONG instead of truncating. */
int xh_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Strict decimal parsing: whole string, no sign, no overflow. -EINVAL/-ERANGE. */
int xh_parse_u32(const char *s, uint32_t max, uint32_t *out);
int xh_parse_u64(const char *s, uint64_t *out);

/* mkdir -p; existing directories are fine. */
int xh_mkdir_p(const char *path, unsigned int mode);

/* Write/read a whole small file. */
int xh_write_file(const char *path, const void *buf, size_t len, unsigned int mode);

/* Names in directory path that keep(entry) accepts, sorted. A missing
 * directory is an empty list. Free with xh_dir_list_free(). */
struct dirent;
int xh_dir_list(const char *path, bool (*keep)(const struct dirent *e), char ***names, size_t *n);
void xh_dir_list_free(char **names, size_t n);

/* Seconds/nanoseconds helpers. */
uint64_t xh_now_ns(int clock);

/* For a process that outlives the hook that forked it (keeper, reaper):
 * every fd closed but keep[0..n) (each > 2, at most 16; the runtime waits
 * for EOF on the hook's stdout/stderr), then fds 0-2 on /dev/null. */
int xh_detach_fds(const int *keep, size_t n);

#endif
