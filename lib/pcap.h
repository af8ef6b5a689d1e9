/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A writer for the classic pcap file format (what `tcpdump -w` writes and
 * every reader understands): microsecond timestamps, version 2.4,
 * LINKTYPE_ETHERNET, snapshot length 65535, records in host byte order (the
 * magic number tells readers which order that is).
 */
#ifndef XDPHOOK_PCAP_H
#define XDPHOOK_PCAP_H

#include <stdint.h>
#include <time.h>

#define XH_PCAP_MAGIC 0xa1b2c3d4u /* microsecond resolution */
#define XH_PCAP_VERSION_MAJOR 2
#define XH_PCAP_VERSION_MINOR 4
#define XH_PCAP_SNAPLEN 65535u
#define XH_PCAP_LINKTYPE_ETHERNET 1u

struct xh_pcap;

/* Create (truncate) path and write the global header. "-" writes to stdout.
 * Returns 0 or a negative errno. */
int xh_pcap_open(const char *path, struct xh_pcap **out);

/* Append one record: caplen bytes of frame (clamped to the snapshot length)
 * of a frame that was origlen bytes on the wire. Buffered: an I/O error may
 * only show at xh_pcap_close(). Returns 0 or a negative errno. */
int xh_pcap_write(struct xh_pcap *p, const struct timespec *ts, const void *frame,
		  uint32_t caplen, uint32_t origlen);

/* Push buffered records out now (for a reader at the other end of a pipe).
 * Returns 0 or the negative errno of the first failure so far. */
int xh_pcap_flush(struct xh_pcap *p);

/* Flush and close; frees p (NULL is fine). Returns 0, or the negative errno
 * of the first failed write/flush/close. */
int xh_pcap_close(struct xh_pcap *p);

#endif
