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

/* Big enough that a busy capture costs one write(2) per ~500 small frames. */
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
	FILE *f;
	bool is_stdout; /* not ours to close */
	int err;        /* first error, negative errno; sticky */
	char *buf;      /* stdio buffer, must outlive f */
};

/* Remember the first error: later ones are usually consequences. */
static int pcap_fail(struct xh_pcap *p, int err)
{
	if (!p->err)
		p->err = err;
	return p->err;
}

static int pcap_put(struct xh_pcap *p, const void *data, size_t len)
{
	if (p->err)
		return p->err;
	errno = 0;
	if (len && fwrite(data, 1, len, p->f) != len)
		return pcap_fail(p, errno ? -errno : -EIO);
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
	int fd, err;

	if (!path || !out)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (strcmp(path, "-") == 0) {
		p->f = stdout;
		p->is_stdout = true;
	} else {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			err = -errno;
			free(p);
			return err;
		}
		p->f = fdopen(fd, "w");
		if (!p->f) {
			err = -errno;
			close(fd);
			free(p);
			return err;
		}
		/* A private buffer only for our own file: stdout may already
		 * have been written to, and setvbuf must come first. */
		p->buf = malloc(PCAP_BUFSIZE);
		if (p->buf)
			setvbuf(p->f, p->buf, _IOFBF, PCAP_BUFSIZE);
	}
	err = pcap_put(p, &hdr, sizeof(hdr));
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
	int err;

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
	err = pcap_put(p, &rec, sizeof(rec));
	if (err)
		return err;
	return pcap_put(p, frame, caplen);
}

int xh_pcap_flush(struct xh_pcap *p)
{
	if (!p)
		return -EINVAL;
	if (p->err)
		return p->err;
	errno = 0;
	if (fflush(p->f) == EOF)
		return pcap_fail(p, errno ? -errno : -EIO);
	return 0;
}

int xh_pcap_close(struct xh_pcap *p)
{
	int err;

	if (!p)
		return 0;
	errno = 0;
	if (fflush(p->f) == EOF)
		pcap_fail(p, errno ? -errno : -EIO);
	errno = 0;
	if (!p->is_stdout && fclose(p->f) == EOF)
		pcap_fail(p, errno ? -errno : -EIO);
	err = p->err;
	free(p->buf);
	free(p);
	return err;
}
