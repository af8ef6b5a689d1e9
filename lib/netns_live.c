/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Which network namespaces are alive: for gc, whose pins are keyed by netns cookie. */
#define _GNU_SOURCE
#include "netns_live.h"
#include "netns.h"
#include "state.h"
#include "attach.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>

/*
 * A namespace is examined by entering it (its cookie). Where a process's
 * namespace files may not be opened (ptrace access denied, e.g. a
 * protected init), what it is in is still told apart by procfs: the inode
 * of /proc/PID/task/TID/net/dev is the namespace's own "dev" entry, and an
 * nsfs mount names its namespace's inode in mountinfo. Such a namespace
 * must turn out to be one that was examined, else the list is not
 * complete.
 */
struct live {
	struct live_ns {
		dev_t dev;
		ino_t ino;        /* of its nsfs file */
		ino_t netdev_ino; /* of its /proc/.../net/dev */
		uint64_t cookie;
	} *ns;
	size_t n, cap;
	/* The mount namespaces (and roots: a chroot sees only the mounts
	 * below it) whose mounts were read. */
	struct live_mnt {
		ino_t mnt;
		dev_t root_dev;
		ino_t root_ino;
	} *mnt_seen;
	size_t n_mnt, cap_mnt;
	/* Namespaces seen but not entered, to be matched at the end. */
	struct live_pending {
		ino_t ino;
		bool netdev; /* ino of a net/dev entry, else of an nsfs file */
		int pid;
	} *pending;
	size_t n_pending, cap_pending;
};

/* arr with room for one more after n (of *cap, size bytes each): the
 * same or a larger one, NULL if there is no memory (arr stays). */
static void *grow(void *arr, size_t n, size_t *cap, size_t size)
{
	size_t c = *cap ? 2 * *cap : 16;
	void *p;

	if (n < *cap)
		return arr;
	p = reallocarray(arr, c, size);
	if (p)
		*cap = c;
	return p;
}

static bool gone_errno(int e)
{
	return e == ENOENT || e == ESRCH;
}

static bool denied_errno(int e)
{
	return e == EACCES || e == EPERM;
}

static int live_pend(struct live *l, ino_t ino, bool netdev, const char *pid)
{
	void *p = grow(l->pending, l->n_pending, &l->cap_pending, sizeof(*l->pending));

	if (!p)
		return -ENOMEM;
	l->pending = p;
	l->pending[l->n_pending++] = (struct live_pending){ .ino = ino, .netdev = netdev, .pid = atoi(pid) };
	return 0;
}

struct ns_ids {
	uint64_t cookie;
	ino_t netdev_ino;
};

static int ids_here(void *ctx)
{
	struct ns_ids *ids = ctx;
	struct stat st;
	int err = xh_netns_cookie(&ids->cookie);

	if (!err && stat("/proc/thread-self/net/dev", &st))
		err = -errno;
	ids->netdev_ino = err ? 0 : st.st_ino;
	return err;
}

/* The namespace of path, if it is a network namespace not seen yet. A path
 * gone meanwhile (a process exited) is no error: what it held, another
 * holder holds, or it is gone too. -EACCES/-EPERM (no detail) where we may
 * not open it. */
static int live_add(struct live *l, const char *path)
{
	/* O_PATH first: opening whatever is there now (a fifo, a device
	 * swapped in for the mount or fd we saw) could block or do things. */
	cleanup_close int p = open(path, O_PATH | O_CLOEXEC), fd = -1;
	char self[64];
	struct ns_ids ids;
	struct statfs sfs;
	struct stat st;
	void *ns;
	int err;

	if (p < 0)
		return gone_errno(errno) ? 0 : denied_errno(errno) ? -errno
				: xh_err(-errno, "open %s: %s", path, strerror(errno));
	if (fstatfs(p, &sfs) || fstat(p, &st))
		return xh_err(-errno, "stat %s: %s", path, strerror(errno));
	if (sfs.f_type != NSFS_MAGIC)
		return 0; /* a file (an unmounted /run/netns entry) */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", p);
	fd = open(self, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return xh_err(-errno, "open %s: %s", path, strerror(errno));
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET)
		return 0; /* another kind of namespace */
	for (size_t i = 0; i < l->n; i++)
		if (l->ns[i].dev == st.st_dev && l->ns[i].ino == st.st_ino)
			return 0;
	err = xh_netns_run(fd, ids_here, &ids);
	if (err)
		return xh_err(err, "%s: %s", path, xh_strerror(err));
	ns = grow(l->ns, l->n, &l->cap, sizeof(*l->ns));
	if (!ns)
		return -ENOMEM;
	l->ns = ns;
	l->ns[l->n++] = (struct live_ns){ .dev = st.st_dev, .ino = st.st_ino, .netdev_ino = ids.netdev_ino,
					   .cookie = ids.cookie };
	return 0;
}

/* mountinfo escapes blanks, tabs, newlines and backslashes as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (; *s; s++, w++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		    s[3] <= '7') {
			*w = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*w = *s;
		}
	}
	*w = '\0';
}

/* Every network namespace bind-mounted in pid's mount namespace (ip netns,
 * CNI, docker), through pid's root. */
static int live_scan_mounts(struct live *l, const char *pid)
{
	char path[PATH_MAX], mnt[PATH_MAX], *line = NULL;
	cleanup_fclose FILE *f = NULL;
	unsigned long long ino;
	size_t cap = 0;
	int err = 0;

	if (xh_snprintf(path, sizeof(path), "/proc/%s/mountinfo", pid) < 0)
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return gone_errno(errno) ? 0 : xh_err(-errno, "open %s: %s", path, strerror(errno));
	while (!err && getline(&line, &cap, f) > 0) {
		const char *sep = strstr(line, " - ");

		/* id parent dev root mount-point ... - fstype source options;
		 * an nsfs mount's root is its namespace: net:[inode] */
		if (!sep || strncmp(sep, " - nsfs ", 8) ||
		    sscanf(line, "%*s %*s %*s net:[%llu] %4095s", &ino, mnt) != 2)
			continue;
		unescape_octal(mnt);
		if (xh_snprintf(path, sizeof(path), "/proc/%s/root%s", pid, mnt) < 0)
			err = -ENAMETOOLONG;
		else
			err = live_add(l, path);
		if (denied_errno(-err))
			err = live_pend(l, (ino_t)ino, false, pid);
	}
	free(line);
	return err;
}

/* pid's mount namespace and root: 0, 1 if pid is gone, or -errno. */
static int live_mnt_of(const char *pid, struct live_mnt *m)
{
	char path[PATH_MAX];
	struct stat st;

	memset(m, 0, sizeof(*m));
	for (int i = 0; i < 2; i++) {
		if (xh_snprintf(path, sizeof(path), i ? "/proc/%s/root" : "/proc/%s/ns/mnt", pid) < 0)
			return -ENAMETOOLONG;
		if (stat(path, &st))
			return gone_errno(errno) ? 1 : -errno;
		if (i) {
			m->root_dev = st.st_dev;
			m->root_ino = st.st_ino;
		} else {
			m->mnt = st.st_ino;
		}
	}
	return 0;
}

/* The mounts of pid's mount namespace, unless read already. One we may not
 * tell apart is read again for every process in it. */
static int live_scan_pid_mounts(struct live *l, const char *pid)
{
	struct live_mnt m, again;
	int err = live_mnt_of(pid, &m);
	size_t i = 0;
	void *p;

	if (err > 0)
		return 0; /* gone */
	if (err)
		return denied_errno(-err) ? live_scan_mounts(l, pid)
					  : xh_err(err, "/proc/%s: %s", pid, strerror(-err));
	while (i < l->n_mnt && memcmp(&l->mnt_seen[i], &m, sizeof(m)))
		i++;
	if (i < l->n_mnt)
		return 0;
	p = grow(l->mnt_seen, l->n_mnt, &l->cap_mnt, sizeof(*l->mnt_seen));
	if (!p)
		return -ENOMEM;
	l->mnt_seen = p;
	err = live_scan_mounts(l, pid);
	/* Read whole only if pid was still there after (else another process
	 * of that namespace, if any, reads it). */
	if (!err && !live_mnt_of(pid, &again) && !memcmp(&again, &m, sizeof(m)))
		l->mnt_seen[l->n_mnt++] = m;
	return err;
}

/* Thread tid of pid: its namespace (a thread may have entered another). */
static int live_scan_thread(struct live *l, const char *pid, const char *tid)
{
	char path[PATH_MAX];
	struct stat st;
	int err;

	if (xh_snprintf(path, sizeof(path), "/proc/%s/task/%s/ns/net", pid, tid) < 0)
		return -ENAMETOOLONG;
	err = live_add(l, path);
	if (!denied_errno(-err))
		return err;
	if (xh_snprintf(path, sizeof(path), "/proc/%s/task/%s/net/dev", pid, tid) < 0)
		return -ENAMETOOLONG;
	if (stat(path, &st))
		return gone_errno(errno) ? 0 : xh_err(-errno, "stat %s: %s", path, strerror(errno));
	return live_pend(l, st.st_ino, true, pid);
}

/* What process pid holds: its threads' namespaces, the mounts of its mount
 * namespace and its nsfs fds (those we may read: a process whose fds we
 * may not read is judged by its threads and mounts). */
static int live_scan_pid(struct live *l, const char *pid)
{
	char path[PATH_MAX], link[64];
	struct dirent *e;
	DIR *d;
	int err = live_scan_pid_mounts(l, pid);

	for (int pass = 0; !err && pass < 2; pass++) {
		xh_snprintf(path, sizeof(path), pass ? "/proc/%s/fd" : "/proc/%s/task", pid);
		d = opendir(path);
		if (!d)
			return gone_errno(errno) || (pass && denied_errno(errno))
				       ? 0 : xh_err(-errno, "open %s: %s", path, strerror(errno));
		while (!err && (e = readdir(d))) {
			ssize_t len;

			if (e->d_name[0] == '.')
				continue;
			if (!pass) {
				err = live_scan_thread(l, pid, e->d_name);
				continue;
			}
			len = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
			if (len < 0 || (link[len] = '\0', strncmp(link, "net:[", 5)))
				continue;
			if (xh_snprintf(path, sizeof(path), "/proc/%s/fd/%s", pid, e->d_name) < 0)
				err = -ENAMETOOLONG;
			else
				err = live_add(l, path);
			if (denied_errno(-err))
				err = live_pend(l, (ino_t)strtoull(link + 5, NULL, 10), false, pid);
		}
		closedir(d);
	}
	return err;
}

/* Every namespace seen but not entered is one that was entered. */
static int live_check_pending(const struct live *l)
{
	for (size_t i = 0; i < l->n_pending; i++) {
		const struct live_pending *p = &l->pending[i];
		size_t j = 0;

		while (j < l->n && (p->netdev ? l->ns[j].netdev_ino : l->ns[j].ino) != p->ino)
			j++;
		if (j == l->n)
			return xh_err(-EACCES, "a network namespace of process %d (%s %llu) could not be examined",
				      p->pid, p->netdev ? "net/dev inode" : "net:", (unsigned long long)p->ino);
	}
	return 0;
}

static int live_add_run_netns(struct live *l, const char *name)
{
	char path[PATH_MAX];
	int err = xh_snprintf(path, sizeof(path), "/run/netns/%s", name) < 0 ? -ENAMETOOLONG : live_add(l, path);

	return denied_errno(-err) ? xh_err(err, "open %s: %s", path, strerror(-err)) : err;
}

/* Every entry of directory dir that want(name) takes: fn(l, name). A
 * missing dir has none. */
static int live_scan_dir(struct live *l, const char *dir, bool (*want)(const char *name),
			 int (*fn)(struct live *l, const char *name))
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : xh_err(-errno, "open %s: %s", dir, strerror(errno));
	while (!err && (e = readdir(d)))
		if (want(e->d_name))
			err = fn(l, e->d_name);
	closedir(d);
	return err;
}

static bool is_pid(const char *name)
{
	return name[0] >= '1' && name[0] <= '9';
}

static bool not_dot(const char *name)
{
	return name[0] != '.';
}

int xh_netns_live_cookies(uint64_t **cookies, size_t *n)
{
	struct live l = { 0 };
	int err = xh_proc_all_visible();

	/* ip netns's own files too, should their mounts be hidden from us. */
	if (!err)
		err = live_scan_dir(&l, "/run/netns", not_dot, live_add_run_netns);
	if (!err)
		err = live_scan_dir(&l, "/proc", is_pid, live_scan_pid);
	if (!err)
		err = live_check_pending(&l);
	if (!err && !(*cookies = calloc(l.n ? l.n : 1, sizeof(**cookies))))
		err = -ENOMEM;
	for (size_t i = 0; !err && i < l.n; i++)
		(*cookies)[i] = l.ns[i].cookie;
	if (!err)
		*n = l.n;
	free(l.ns);
	free(l.mnt_seen);
	free(l.pending);
	return err;
}
