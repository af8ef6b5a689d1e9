/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#define _GNU_SOURCE /* close_range */
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void cleanup_freep(void *p)
{
	free(*(void **)p);
}

void cleanup_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

void cleanup_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static __thread char err_detail[512];
static __thread int err_code;

int xh_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err_detail, sizeof(err_detail), fmt, ap);
	va_end(ap);
	err_code = err;
	return err;
}

const char *xh_strerror(int err)
{
	if (err && err == err_code && err_detail[0])
		return err_detail;
	return strerror(err < 0 ? -err : err);
}

void xh_err_clear(void)
{
	err_code = 0;
	err_detail[0] = '\0';
}

int xh_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= size)
		return -ENAMETOOLONG;
	return n;
}

int xh_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*out = v;
	return 0;
}

int xh_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int err = xh_parse_u64(s, &v);

	if (err)
		return err;
	if (v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int xh_mkdir_p(const char *path, unsigned int mode)
{
	char buf[PATH_MAX];
	char *p;
	int err = xh_snprintf(buf, sizeof(buf), "%s", path);

	if (err < 0)
		return err;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

int xh_write_file(const char *path, const void *buf, size_t len, unsigned int mode)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	const char *p = buf;

	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

uint64_t xh_now_ns(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void xh_dir_list_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int xh_dir_list(const char *path, bool (*keep)(const struct dirent *e), char ***names, size_t *n)
{
	char **list = NULL;
	size_t len = 0, cap = 0;
	struct dirent *e;
	int err = 0;
	DIR *d = opendir(path);

	*names = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (!keep(e))
			continue;
		if (len == cap) {
			char **grown = realloc(list, (cap = cap ? 2 * cap : 16) * sizeof(*list));

			if (!grown) {
				err = -ENOMEM;
				break;
			}
			list = grown;
		}
		if (!(list[len] = strdup(e->d_name))) {
			err = -ENOMEM;
			break;
		}
		len++;
	}
	closedir(d);
	if (err) {
		xh_dir_list_free(list, len);
		return err;
	}
	if (len)
		qsort(list, len, sizeof(*list), cmp_str);
	*names = list;
	*n = len;
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int xh_detach_fds(const int *keep, size_t n)
{
	unsigned int from = 0;
	int sorted[16], fd;

	if (n > ARRAY_SIZE(sorted))
		return -EINVAL;
	memcpy(sorted, keep, n * sizeof(int));
	qsort(sorted, n, sizeof(int), cmp_int);
	for (size_t i = 0; i < n; i++) {
		if (sorted[i] <= 2)
			return -EINVAL;
		if ((unsigned int)sorted[i] > from)
			close_range(from, (unsigned int)sorted[i] - 1, 0);
		from = (unsigned int)sorted[i] + 1;
	}
	close_range(from, ~0u, 0);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC); /* 0: the lowest free */
	if (fd < 0)
		return xh_err(-errno, "/dev/null: %s", strerror(errno));
	for (int i = 0; i < 3; i++)
		if (i != fd && dup2(fd, i) < 0)
			return xh_err(-errno, "dup2: %s", strerror(errno));
	if (fd > 2)
		close(fd);
	return 0;
}
