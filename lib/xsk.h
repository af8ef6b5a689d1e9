/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * AF_XDP receive: one UMEM shared by one socket per RX queue
 * (XDP_SHARED_UMEM), built on libxdp's xsk API. The caller loads and
 * attaches its own XDP program and puts xh_xsk_set_fd(set, i) into its
 * XSKMAP at key xh_xsk_set_queue(set, i); this module never touches
 * programs or maps.
 *
 * Sizing: frames of XH_XSK_FRAME_SIZE (2048) bytes; each queue gets a slice
 * of the UMEM of XH_XSK_FRAMES_MAX (32768) frames, 64 MiB, fewer when that
 * would put more than XH_XSK_UMEM_MAX into the UMEM (many queues) or when
 * the kernel refuses to pin that much (RLIMIT_MEMLOCK without CAP_IPC_LOCK):
 * then halved down to XH_XSK_FRAMES_MIN (2048). The frames of a slice are
 * the buffer between the kernel and a reader that is late (scheduled out,
 * writing a file, or waiting for a CPU that a busy machine gives it only
 * every few milliseconds): 32768 frames hold 11 ms at 3 Mpps, where 16384
 * still lost frames in the benchmark on a loaded machine. Only the first
 * cache line or so of a small frame is ever touched, so the size costs
 * pinned memory, not cache. Half a page per frame
 * holds any 1500-MTU frame (plus VLAN tags) after the kernel's 256-byte XDP
 * headroom, and gives twice the frames per MiB of locked memory that
 * 4096-byte frames would. Larger frames are dropped by the kernel and show
 * up in the statistics as rx_dropped. The RX ring has as many entries as
 * the queue has frames, so it never overflows: a slow reader loses frames
 * only as fill-ring-empty drops. (The fill ring is twice that, see xsk.c.)
 */
#ifndef XDPHOOK_XSK_H
#define XDPHOOK_XSK_H

#include <stdbool.h>
#include <stdint.h>

#define XH_XSK_FRAME_SIZE 2048u
#define XH_XSK_FRAMES_MAX 32768u          /* frames (and RX ring entries) per queue */
#define XH_XSK_FRAMES_MIN 2048u
#define XH_XSK_UMEM_MAX (256ull << 20)    /* all queues together, bytes */
#define XH_XSK_BATCH 256u                 /* frames taken from one RX ring at a time */
/* Longest frame a socket receives: the kernel keeps XDP_PACKET_HEADROOM
 * (256) bytes in front of the data. Longer frames are dropped. */
#define XH_XSK_FRAME_DATA_MAX (XH_XSK_FRAME_SIZE - 256u)

struct xh_xsk_set;

/* Create one AF_XDP socket per queue in queues[0..nqueues) on ifname (in the
 * caller's network namespace), all sharing one UMEM; bind flags
 * XDP_USE_NEED_WAKEUP, zero-copy where the driver can, else copy. Every
 * socket's fill ring is stocked. Returns 0 or a negative errno (with an
 * xh_err() detail naming the queue). */
int xh_xsk_set_create(const char *ifname, const uint32_t *queues, int nqueues,
		      struct xh_xsk_set **out);
void xh_xsk_set_destroy(struct xh_xsk_set *set);

int xh_xsk_set_count(const struct xh_xsk_set *set);
/* Socket fd of the i-th socket (0 <= i < count), for the XSKMAP. */
int xh_xsk_set_fd(const struct xh_xsk_set *set, int i);
uint32_t xh_xsk_set_queue(const struct xh_xsk_set *set, int i);
/* True if the sockets run in zero-copy mode (all of them share the mode). */
bool xh_xsk_set_zerocopy(const struct xh_xsk_set *set);
/* Frames (and RX ring entries) of each socket, see "Sizing" above. */
uint32_t xh_xsk_set_frames(const struct xh_xsk_set *set);

/* Called for each received frame. data is valid only during the call.
 * Return 0 to go on, a negative errno to stop (that frame counts as taken). */
typedef int (*xh_xsk_frame_fn)(void *ctx, const void *data, uint32_t len, int queue);

/* Take up to max frames (0: no limit beyond one batch per queue) from the
 * RX rings without blocking, calling fn for each, and hand the frames back
 * to the kernel. Frames beyond max stay queued for the next call. Returns
 * the number of frames taken, or fn's negative errno. */
int xh_xsk_set_recv(struct xh_xsk_set *set, unsigned int max, xh_xsk_frame_fn fn, void *ctx);

/* Wait up to timeout_ms (-1: forever) for a frame on any socket. Returns
 * the number of readable sockets (0 on timeout) or a negative errno;
 * -EINTR when a signal arrived. */
int xh_xsk_set_poll(struct xh_xsk_set *set, int timeout_ms);

/* XDP_STATISTICS summed over all sockets. */
struct xh_xsk_stats {
	uint64_t rx_dropped;               /* no room (frame too big, no fill buffer) */
	uint64_t rx_invalid_descs;
	uint64_t rx_ring_full;
	uint64_t rx_fill_ring_empty_descs; /* subset of rx_dropped in copy mode */
};
int xh_xsk_set_stats(const struct xh_xsk_set *set, struct xh_xsk_stats *st);
/* Frames the kernel had for us and dropped: rx_dropped + rx_ring_full. */
uint64_t xh_xsk_stats_dropped(const struct xh_xsk_stats *st);


#endif
