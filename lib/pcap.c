/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include "pcap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* Records go into one buffer, written out with one write(2) when it is
 * full (or on flush): about 13000 small frames a syscall, no stdio locking
 * or per-call overhead per frame. Small enough that a full disk shows
 * before close (test/unit/test_pcap.c writes 3 MB to /dev/full). */
#define PCAP_BUFSIZE (1u << 20)

struct pcap_file_hdr {
	uint32_t magic;
	uint16_t version_major;
	uint16_t version_minor;
	int32_t thiszone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype;
};

struct pcap_rec_hdr {
	uint32_t ts_sec;
	uint32_t ts_usec;
	uint32_t incl_len;
	uint32_t orig_len;
};

struct xh_pcap {
	int fd;
	bool is_stdout; /* not ours to close */
	int err;        /* first error, negative errno; sticky */
	size_t len;     /* bytes in buf */
	uint8_t *buf;   /* PCAP_BUFSIZE bytes */
};

/* Remember the first error: later ones are usually consequences. */
static int pcap_fail(struct xh_pcap *p, int err)
{
	if (!p->err)
		p->err = err;
	return p->err;
}

/* Write the buffer out, however the kernel splits it up. */
static int pcap_drain(struct xh_pcap *p)
{
	size_t off = 0;

	if (p->err)
		return p->err;
	while (off < p->len) {
		ssize_t w = write(p->fd, p->buf + off, p->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			p->len = 0;
			return pcap_fail(p, w < 0 ? -errno : -EIO);
		}
		off += (size_t)w;
	}
	p->len = 0;
	return 0;
}

/* A record never needs more than the whole buffer. */
_Static_assert(sizeof(struct pcap_rec_hdr) + XH_PCAP_SNAPLEN <= PCAP_BUFSIZE, "pcap buffer too small");

static int pcap_put(struct xh_pcap *p, const void *hdr, size_t hlen, const void *data, size_t len)
{
	if (p->err)
		return p->err;
	if (p->len + hlen + len > PCAP_BUFSIZE && pcap_drain(p))
		return p->err;
	memcpy(p->buf + p->len, hdr, hlen);
	p->len += hlen;
	if (len) {
		memcpy(p->buf + p->len, data, len);
		p->len += len;
	}
	return 0;
}

int xh_pcap_open(const char *path, struct xh_pcap **out)
{
	struct pcap_file_hdr hdr = {
		.magic = XH_PCAP_MAGIC,
		.version_major = XH_PCAP_VERSION_MAJOR,
		.version_minor = XH_PCAP_VERSION_MINOR,
		.snaplen = XH_PCAP_SNAPLEN,
		.linktype = XH_PCAP_LINKTYPE_ETHERNET,
	};
	struct xh_pcap *p;
	int err;

	if (!path || !out)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->buf = malloc(PCAP_BUFSIZE);
	if (!p->buf) {
		free(p);
		return -ENOMEM;
	}
	if (strcmp(path, "-") == 0) {
		/* Our records go to fd 1 directly: whatever stdio holds for
		 * stdout must go first. */
		p->fd = STDOUT_FILENO;
		p->is_stdout = true;
		errno = 0;
		if (fflush(stdout) == EOF)
			pcap_fail(p, errno ? -errno : -EIO);
	} else {
		p->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (p->fd < 0) {
			err = -errno;
			free(p->buf);
			free(p);
			return err;
		}
	}
	err = pcap_put(p, &hdr, sizeof(hdr), NULL, 0);
	if (err) {
		xh_pcap_close(p);
		return err;
	}
	*out = p;
	return 0;
}

int xh_pcap_write(struct xh_pcap *p, const struct timespec *ts, const void *frame,
		  uint32_t caplen, uint32_t origlen)
{
	struct pcap_rec_hdr rec = { 0 };

	if (!p || (!frame && caplen))
		return -EINVAL;
	if (caplen > XH_PCAP_SNAPLEN)
		caplen = XH_PCAP_SNAPLEN;
	if (origlen < caplen)
		origlen = caplen;
	if (ts) {
		/* The format has 32-bit seconds; fine until 2106. */
		rec.ts_sec = (uint32_t)ts->tv_sec;
		rec.ts_usec = (uint32_t)(ts->tv_nsec / 1000);
	}
	rec.incl_len = caplen;
	rec.orig_len = origlen;
	return pcap_put(p, &rec, sizeof(rec), frame, caplen);
}

int xh_pcap_flush(struct xh_pcap *p)
{
	if (!p)
		return -EINVAL;
	return p->len ? pcap_drain(p) : p->err;
}

int xh_pcap_close(struct xh_pcap *p)
{
	int err;

	if (!p)
		return 0;
	if (p->len)
		pcap_drain(p);
	if (!p->is_stdout && close(p->fd))
		pcap_fail(p, -errno);
	err = p->err;
	free(p->buf);
	free(p);
	return err;
}
